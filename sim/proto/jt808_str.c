/* BCD digits and the GBK text of JT/T 808 (STRING fields and 0x00-padded B[n] fields).
 * ASCII is copied as is, so the common case (phone numbers, auth codes, models)
 * never opens an iconv descriptor; only text with bytes >= 0x80 goes through iconv. */
#include <errno.h>
#include <iconv.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "sim/proto/jt808.h"
#include "sim/proto/jt808_internal.h"

static void time_text_slow(int64_t unix_s, char out[13])
{
    time_t t = (time_t)(unix_s + 8 * 3600);
    struct tm tm;
    gmtime_r(&t, &tm);
    snprintf(out, 13, "%02d%02d%02d%02d%02d%02d", tm.tm_year % 100, tm.tm_mon + 1, tm.tm_mday,
             tm.tm_hour, tm.tm_min, tm.tm_sec);
}

static void two_digits(char *p, int v)
{
    p[0] = (char)('0' + v / 10);
    p[1] = (char)('0' + v % 10);
}

/* Every location a terminal sends has one: the date (YYMMDD) is kept per thread
 * for the day it was last made for, and the time of day is arithmetic, so the
 * common case costs no gmtime_r and no snprintf. */
void jt808_time_text(int64_t unix_s, char out[13])
{
    static _Thread_local int64_t day_cached = -1;
    static _Thread_local char date[6];
    /* from 1970 (GMT+8) to the year 9999: six two-digit fields exactly, as
     * time_text_slow makes them; anything else goes the slow way */
    if (unix_s < -8 * 3600 || unix_s > INT64_C(253402300799)) {
        time_text_slow(unix_s, out);
        return;
    }
    int64_t t = unix_s + 8 * 3600;
    int64_t day = t / 86400;
    int sec = (int)(t - day * 86400);
    if (day != day_cached) {
        char full[13];
        time_text_slow(day * 86400 - 8 * 3600, full);
        memcpy(date, full, sizeof date);
        day_cached = day;
    }
    memcpy(out, date, sizeof date);
    two_digits(out + 6, sec / 3600);
    two_digits(out + 8, sec / 60 % 60);
    two_digits(out + 10, sec % 60);
    out[12] = '\0';
}

enum jt808_rc jt808_bcd_encode(const char *digits, uint8_t *out, size_t n)
{
    size_t len = strlen(digits);
    if (len > 2 * n)
        return JT808_E_VALUE;
    for (size_t i = 0; i < len; i++)
        if (digits[i] < '0' || digits[i] > '9')
            return JT808_E_VALUE;
    /* leading zeros, then two digits a byte (every header has a phone in BCD) */
    size_t pad = 2 * n - len, i = 0;
    memset(out, 0, n);
    if (pad & 1)
        out[pad / 2] = (uint8_t)(digits[i++] - '0');
    for (size_t o = (pad + 1) / 2; i < len; i += 2, o++)
        out[o] = (uint8_t)((digits[i] - '0') << 4 | (digits[i + 1] - '0'));
    return JT808_OK;
}

enum jt808_rc jt808_bcd_decode(const uint8_t *in, size_t n, char *out, size_t *bad_index)
{
    for (size_t i = 0; i < n; i++) {
        uint8_t hi = in[i] >> 4, lo = in[i] & 0x0F;
        if (hi > 9 || lo > 9) {
            if (bad_index)
                *bad_index = i;
            out[0] = '\0';
            return JT808_E_BCD;
        }
        out[2 * i] = (char)('0' + hi);
        out[2 * i + 1] = (char)('0' + lo);
    }
    out[2 * n] = '\0';
    return JT808_OK;
}

static bool all_ascii(const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i] & 0x80)
            return false;
    return true;
}

/* Text is written as GBK, as the standard says.  It is read as GB18030: the same
 * two-byte codes plus the user-defined areas that glibc's "GBK" refuses, so text
 * from real devices decodes. */
#define WIRE_WRITE "GBK"
#define WIRE_READ "GB18030"

/* One conversion through a fresh descriptor: iconv_t is not safe to share between
 * threads, and non-ASCII text is rare enough that opening one per call is cheap. */
static enum jt808_rc convert(const char *to, const char *from, const uint8_t *in, size_t n,
                             uint8_t *out, size_t cap, size_t *out_len)
{
    iconv_t cd = iconv_open(to, from);
    if (cd == (iconv_t)-1)
        return JT808_E_ENCODING;
    char *ip = (char *)in, *op = (char *)out;
    size_t il = n, ol = cap;
    enum jt808_rc rc = JT808_OK;
    if (iconv(cd, &ip, &il, &op, &ol) == (size_t)-1)
        rc = errno == E2BIG ? JT808_E_NOSPACE : JT808_E_ENCODING;
    else if (iconv(cd, NULL, NULL, &op, &ol) == (size_t)-1)
        rc = errno == E2BIG ? JT808_E_NOSPACE : JT808_E_ENCODING;
    iconv_close(cd);
    *out_len = cap - ol;
    return rc;
}

enum jt808_rc jt808_utf8_to_gbk(const char *in, uint8_t *out, size_t cap, size_t *out_len)
{
    size_t n = strlen(in);
    *out_len = 0;
    if (all_ascii((const uint8_t *)in, n)) {
        if (n > cap)
            return JT808_E_NOSPACE;
        memcpy(out, in, n);
        *out_len = n;
        return JT808_OK;
    }
    return convert(WIRE_WRITE, "UTF-8", (const uint8_t *)in, n, out, cap, out_len);
}

enum jt808_rc jt808_gbk_to_utf8(const uint8_t *in, size_t n, char *out, size_t cap)
{
    if (cap == 0)
        return JT808_E_NOSPACE;
    out[0] = '\0';
    /* Devices often end a STRING with a C terminator: trailing NULs are dropped.
     * A NUL inside the text cannot be carried by a C string: refused. */
    while (n > 0 && in[n - 1] == 0)
        n--;
    if (memchr(in, 0, n))
        return JT808_E_ENCODING;
    if (all_ascii(in, n)) {
        if (n + 1 > cap)
            return JT808_E_NOSPACE;
        memcpy(out, in, n);
        out[n] = '\0';
        return JT808_OK;
    }
    size_t len = 0;
    enum jt808_rc rc = convert("UTF-8", WIRE_READ, in, n, (uint8_t *)out, cap - 1, &len);
    out[rc == JT808_OK ? len : 0] = '\0';
    return rc;
}

enum jt808_rc jt808_rd_string(struct jt808_rd *r, size_t n, char *out, size_t cap, const char *field)
{
    JT808_TRY(jt808_rd_need(r, n, field));
    enum jt808_rc rc = jt808_gbk_to_utf8(r->p + r->pos, n, out, cap);
    if (rc != JT808_OK)
        return jt808_fail(r->err, rc, r->pos, field);
    r->pos += n;
    return JT808_OK;
}

enum jt808_rc jt808_rd_fixed(struct jt808_rd *r, size_t n, char *out, size_t cap, const char *field)
{
    JT808_TRY(jt808_rd_need(r, n, field));
    size_t used = n;
    while (used > 0 && r->p[r->pos + used - 1] == 0)
        used--;
    /* A NUL before the padding would be silently lost; refuse it instead. */
    if (memchr(r->p + r->pos, 0, used))
        return jt808_fail(r->err, JT808_E_VALUE, r->pos, field);
    enum jt808_rc rc = jt808_gbk_to_utf8(r->p + r->pos, used, out, cap);
    if (rc != JT808_OK)
        return jt808_fail(r->err, rc, r->pos, field);
    r->pos += n;
    return JT808_OK;
}

enum jt808_rc jt808_wr_string(struct jt808_wr *w, const char *s, size_t max, size_t *n_out,
                              const char *field)
{
    size_t room = w->cap - w->pos, n = 0;
    size_t lim = room < max ? room : max;
    enum jt808_rc rc = jt808_utf8_to_gbk(s, w->p + w->pos, lim, &n);
    if (rc == JT808_E_NOSPACE && lim == max && max < room)
        rc = JT808_E_VALUE; /* the field's own limit, not the buffer's */
    if (rc != JT808_OK)
        return jt808_fail(w->err, rc, w->pos, field);
    w->pos += n;
    if (n_out)
        *n_out = n;
    return JT808_OK;
}

enum jt808_rc jt808_wr_fixed(struct jt808_wr *w, const char *s, size_t n, const char *field)
{
    JT808_TRY(jt808_wr_need(w, n, field));
    size_t used = 0;
    enum jt808_rc rc = jt808_utf8_to_gbk(s, w->p + w->pos, n, &used);
    if (rc == JT808_E_NOSPACE)
        rc = JT808_E_VALUE;
    if (rc != JT808_OK)
        return jt808_fail(w->err, rc, w->pos, field);
    memset(w->p + w->pos + used, 0, n - used);
    w->pos += n;
    return JT808_OK;
}
