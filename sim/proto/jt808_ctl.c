/* 0x8105 terminal control, both ways (JT/T 808-2013 §8.16, 2019 §8.16).
 *
 * Commands 1 and 2 carry a parameter list whose fields are separated by ';': STRING
 * fields in GBK (GBK never uses 0x3B in a multi-byte character, so a STRING ends at
 * the next ';') and binary BYTE/WORD/BYTE[5] fields, whose value may itself hold
 * 0x3B.  So the list is walked field by field by type: a binary field takes its size,
 * and is followed by ';' unless it is the last field.
 *
 * Tolerance, in the codec's deviation kinds:
 * - a binary field whose bytes do not fit (a device that writes the port as the text
 *   "7999", or the body ends inside it) is kept raw up to the next ';': param-length;
 * - a body that ends before the list does: the fields present are decoded, the rest
 *   are absent: count-overrun, naming the first missing field (except command 2 with
 *   connection 1, which the standard sends without further fields);
 * - bytes after the last field: trailing-bytes, kept.
 * Other commands keep the parameters as one STRING, as before. */
#include <string.h>

#include "sim/proto/jt808.h"
#include "sim/proto/jt808_internal.h"

#define F(id, t, name) {JT808_CF_##id, JT808_CFT_##t, name, "body." name}
static const struct jt808_cfd cmd1[] = {
    F(URL, STRING, "url"),           F(APN, STRING, "apn"),
    F(USER, STRING, "user"),         F(PASSWORD, STRING, "password"),
    F(HOST, STRING, "host"),         F(TCP_PORT, WORD, "tcp_port"),
    F(UDP_PORT, WORD, "udp_port"),   F(MANUFACTURER, BYTES5, "manufacturer"),
    F(HW_VERSION, STRING, "hw_version"), F(FW_VERSION, STRING, "fw_version"),
    F(TIME_LIMIT, WORD, "time_limit"),
};
static const struct jt808_cfd cmd2[] = {
    F(CONNECTION, BYTE, "connection"), F(AUTH_CODE, STRING, "auth_code"),
    F(APN, STRING, "apn"),           F(USER, STRING, "user"),
    F(PASSWORD, STRING, "password"), F(HOST, STRING, "host"),
    F(TCP_PORT, WORD, "tcp_port"),   F(UDP_PORT, WORD, "udp_port"),
    F(TIME_LIMIT, WORD, "time_limit"),
};
#undef F

const struct jt808_cfd *jt808_ctl_fields(uint8_t command, size_t *n)
{
    switch (command) {
    case 1: *n = sizeof cmd1 / sizeof cmd1[0]; return cmd1;
    case 2: *n = sizeof cmd2 / sizeof cmd2[0]; return cmd2;
    default: *n = 0; return NULL;
    }
}

unsigned jt808_ctl_field_size(enum jt808_cft t)
{
    switch (t) {
    case JT808_CFT_BYTE: return 1;
    case JT808_CFT_WORD: return 2;
    case JT808_CFT_BYTES5: return 5;
    default: return 0;
    }
}

#define SEP 0x3B /* ';' */

/* One field at r->pos; last: no ';' follows it. */
static enum jt808_rc field_read(struct jt808_rd *r, const struct jt808_cfd *d, bool last,
                                struct jt808_ctl_val *v)
{
    size_t p = r->pos;
    const uint8_t *s = memchr(r->p + p, SEP, r->end - p);
    size_t q = s ? (size_t)(s - r->p) : r->end; /* the next separator, or the end */
    if (d->type == JT808_CFT_STRING) {
        /* A NUL would end the text early and be lost on the way back: refuse it. */
        if (memchr(r->p + p, 0, q - p))
            return jt808_fail(r->err, JT808_E_VALUE, p, d->path);
        char *out = jt808_rd_alloc(r, (q - p) * 2 + 1, d->path);
        if (!out)
            return JT808_E_NOSPACE;
        JT808_TRY(jt808_rd_string(r, q - p, out, (q - p) * 2 + 1, d->path));
        v->str = out;
        return JT808_OK;
    }
    size_t n = jt808_ctl_field_size(d->type), left = r->end - p;
    bool fits = last ? left >= n : left >= n && (left == n || r->p[p + n] == SEP);
    if (!fits) {
        /* The bytes up to the next ';' (the last field: to the end) stay as sent. */
        size_t stop = last ? r->end : q;
        uint8_t *raw = stop > p ? jt808_rd_alloc(r, stop - p, d->path) : NULL;
        if (stop > p && !raw)
            return JT808_E_NOSPACE;
        if (raw)
            memcpy(raw, r->p + p, stop - p);
        v->raw = raw;
        v->raw_len = (uint16_t)(stop - p);
        v->kept_raw = true;
        jt808_rd_deviate(r, JT808_DEV_PARAM_LENGTH, p, d->path);
        r->pos = stop;
        return JT808_OK;
    }
    switch (d->type) {
    case JT808_CFT_BYTE: {
        uint8_t b;
        JT808_TRY(jt808_rd_u8(r, &b, d->path));
        v->num = b;
        return JT808_OK;
    }
    case JT808_CFT_WORD: {
        uint16_t w;
        JT808_TRY(jt808_rd_u16(r, &w, d->path));
        v->num = w;
        return JT808_OK;
    }
    default: {
        char *out = jt808_rd_alloc(r, 5 * 2 + 1, d->path);
        if (!out)
            return JT808_E_NOSPACE;
        JT808_TRY(jt808_rd_fixed(r, 5, out, 5 * 2 + 1, d->path));
        v->str = out;
        return JT808_OK;
    }
    }
}

enum jt808_rc jt808_ctl_read(struct jt808_rd *r, struct jt808_control *b)
{
    JT808_TRY(jt808_rd_u8(r, &b->command, "body.command"));
    b->params[0] = '\0';
    b->n_fields = 0;
    memset(b->f, 0, sizeof b->f);
    b->trailing = NULL;
    b->n_trailing = 0;
    size_t nf;
    const struct jt808_cfd *fd = jt808_ctl_fields(b->command, &nf);
    if (!fd)
        return jt808_rd_string(r, r->end - r->pos, b->params, sizeof b->params, "body.params");
    for (size_t i = 0; i < nf; i++) {
        if (i > 0 || r->pos == r->end) {
            if (r->pos == r->end) {
                /* Command 2 with connection 1 (back to the default server) ends here. */
                bool back = b->command == 2 && i == 1 && !b->f[JT808_CF_CONNECTION].kept_raw &&
                            b->f[JT808_CF_CONNECTION].num == 1;
                if (!back)
                    jt808_rd_deviate(r, JT808_DEV_COUNT_OVERRUN, r->pos, fd[i].path);
                return JT808_OK;
            }
            if (i > 0)
                r->pos++; /* the ';' that ended the previous field */
        }
        JT808_TRY(field_read(r, &fd[i], i + 1 == nf, &b->f[fd[i].id]));
        b->n_fields = (uint8_t)(i + 1);
    }
    if (r->pos < r->end) {
        b->trailing = r->p + r->pos;
        b->n_trailing = (uint16_t)(r->end - r->pos);
    }
    return jt808_rd_end(r);
}

enum jt808_rc jt808_ctl_write(struct jt808_wr *w, const struct jt808_control *b)
{
    JT808_TRY(jt808_wr_u8(w, b->command, "body.command"));
    size_t nf;
    const struct jt808_cfd *fd = jt808_ctl_fields(b->command, &nf);
    if (!fd)
        return jt808_wr_string(w, b->params, JT808_MAX_BODY, NULL, "body.params");
    if (b->n_fields > nf)
        return jt808_fail(w->err, JT808_E_VALUE, w->pos, "body.n_fields");
    for (size_t i = 0; i < b->n_fields; i++) {
        const struct jt808_cfd *d = &fd[i];
        const struct jt808_ctl_val *v = &b->f[d->id];
        bool last = i + 1 == nf;
        if (i > 0)
            JT808_TRY(jt808_wr_u8(w, SEP, d->path));
        size_t at = w->pos;
        if (v->kept_raw && d->type != JT808_CFT_STRING) {
            /* A ';' inside would end the field early for a reader. */
            if (!last && v->raw_len && memchr(v->raw, SEP, v->raw_len))
                return jt808_fail(w->err, JT808_E_VALUE, at, d->path);
            JT808_TRY(jt808_wr_bytes(w, v->raw, v->raw_len, d->path));
            continue;
        }
        switch (d->type) {
        case JT808_CFT_STRING: {
            size_t n = 0;
            JT808_TRY(jt808_wr_string(w, v->str ? v->str : "", JT808_MAX_BODY, &n, d->path));
            if (memchr(w->p + at, SEP, n) || memchr(w->p + at, 0, n))
                return jt808_fail(w->err, JT808_E_VALUE, at, d->path);
            break;
        }
        case JT808_CFT_BYTE:
            if (v->num > 0xFF)
                return jt808_fail(w->err, JT808_E_VALUE, at, d->path);
            JT808_TRY(jt808_wr_u8(w, (uint8_t)v->num, d->path));
            break;
        case JT808_CFT_WORD:
            if (v->num > 0xFFFF)
                return jt808_fail(w->err, JT808_E_VALUE, at, d->path);
            JT808_TRY(jt808_wr_u16(w, (uint16_t)v->num, d->path));
            break;
        case JT808_CFT_BYTES5:
            JT808_TRY(jt808_wr_fixed(w, v->str ? v->str : "", 5, d->path));
            break;
        }
    }
    if (b->n_trailing) {
        if (b->n_fields != nf)
            return jt808_fail(w->err, JT808_E_VALUE, w->pos, "body.trailing");
        JT808_TRY(jt808_wr_bytes(w, b->trailing, b->n_trailing, "body.trailing"));
    }
    return JT808_OK;
}
