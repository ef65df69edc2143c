/* The error text of the JT/T 808 platform helpers (jt808_reg.c, jt808_verify.c): a
 * printf into the caller's buffer (char why[N]), nothing when there is none. */
#ifndef FLEETSIM_JT808_SAY_H
#define FLEETSIM_JT808_SAY_H

#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>

static inline void jt808_say(char *buf, size_t cap, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static inline void jt808_say(char *buf, size_t cap, const char *fmt, ...)
{
    if (!buf || cap == 0)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, cap, fmt, ap);
    va_end(ap);
}

#endif
