/* Inside report/: what its writers share.  Not for other modules. */
#ifndef FLEETSIM_REPORT_INTERNAL_H
#define FLEETSIM_REPORT_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#define REPORT_REPLACEMENT "\xEF\xBF\xBD" /* U+FFFD, in place of a malformed sequence */

/* Decodes one UTF-8 sequence at s (n > 0 bytes available) into *cp; returns its
 * length, or 0 when malformed (overlong, surrogate, truncated, above U+10FFFF). */
size_t report_utf8_decode(const unsigned char *s, size_t n, uint32_t *cp);

#endif
