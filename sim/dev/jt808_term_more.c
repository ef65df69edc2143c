/* The JT/T 808 platform requests beyond the foundation's: each is answered by the
 * file of its subject (jt808_term_*.c); this is where they are dispatched. */
#include "sim/dev/jt808_term_int.h"

bool jt808_term_more(struct term *t, const struct jt808_msg *m)
{
    (void)t;
    switch (m->h.msg_id) {
    default:
        return false;
    }
}
