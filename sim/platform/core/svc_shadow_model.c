/* The default product models, in the binary (svc_shadow.h): profiles/jt808-terminal.json
 * assembled in as it is in the tree, so that a platform serving JT/T 808 terminals has
 * their model without a file to find at run time (an installed binary runs from
 * anywhere; `make install` copies no profiles).  The Makefile rebuilds this file when
 * the JSON changes. */
#include "sim/platform/core/svc_shadow.h"

__asm__(".pushsection .rodata\n"
        ".global svc_shadow_jt808_model\n"
        ".type svc_shadow_jt808_model, @object\n"
        "svc_shadow_jt808_model:\n"
        ".incbin \"profiles/jt808-terminal.json\"\n"
        ".global svc_shadow_jt808_model_end\n"
        "svc_shadow_jt808_model_end:\n"
        ".byte 0\n"
        ".popsection\n");
