/* Frames that deviate the way field devices' frames do; see jt808_deviate.h.
 * Each rewrite starts from the standard body and changes only what the kind
 * names, so the decoder reports that deviation and no other. */
#include "sim/dev/jt808_deviate.h"

#include <math.h>
#include <string.h>

bool jt808_deviate_chosen(uint32_t index, double share)
{
    if (!(share > 0))
        return false;
    if (share >= 1)
        return true;
    return floor((index + 1.0) * share) > floor(index * share);
}

bool jt808_deviate_applies(uint16_t msg_id, enum jt808_dev_kind k)
{
    switch (msg_id) {
    case 0x0200:
        return k == JT808_DEV_ITEM_LENGTH || k == JT808_DEV_ITEM_TRUNCATED ||
               k == JT808_DEV_UNESCAPED_CHECK;
    case 0x0104:
        return k == JT808_DEV_PARAM_LENGTH || k == JT808_DEV_COUNT_OVERRUN ||
               k == JT808_DEV_TRAILING_BYTES;
    default:
        return false;
    }
}

int jt808_deviate_pick(uint16_t msg_id, unsigned mask, uint16_t serial)
{
    int kinds[JT808_DEV__COUNT], n = 0;
    for (int k = 0; k < JT808_DEV__COUNT; k++)
        if (mask & (1u << k) && jt808_deviate_applies(msg_id, (enum jt808_dev_kind)k))
            kinds[n++] = k;
    return n ? kinds[serial % n] : -1;
}

#define LOC_BASE 28 /* 0x0200: alarm, status, lat, lon, altitude, speed, direction, time */
#define LOC_ALT_LO 17

static enum jt808_rc bad(struct jt808_err *err, const char *field)
{
    err->rc = JT808_E_VALUE;
    err->offset = 0;
    err->field = field;
    return JT808_E_VALUE;
}

/* The header and body bytes' XOR, the check the frame will carry. */
static uint8_t frame_check(const uint8_t *wire, size_t len)
{
    /* the frame is well formed: unescape it whole and XOR all but the check */
    uint8_t raw[JT808_MAX_FRAME];
    size_t n = 0;
    struct jt808_err err;
    if (jt808_unescape(wire + 1, len - 2, raw, sizeof raw, &n, &err) != JT808_OK || n < 1)
        return 0;
    return jt808_xor(raw, n - 1);
}

enum jt808_rc jt808_deviate_encode(struct jt808_msg *m, enum jt808_dev_kind k, uint8_t *out,
                                   size_t cap, size_t *out_len, struct jt808_err *err)
{
    struct jt808_err local;
    if (!err)
        err = &local;
    uint8_t body[JT808_MAX_BODY + 8];
    size_t n = 0;
    m->body = NULL;
    enum jt808_rc rc = jt808_body_encode(m, body, JT808_MAX_BODY, &n, err);
    if (rc != JT808_OK)
        return rc;
    if (!jt808_deviate_applies(m->h.msg_id, k))
        return bad(err, "deviate.kind");
    size_t at = 0;
    switch (k) {
    case JT808_DEV_ITEM_LENGTH: /* item 0x30 (a BYTE) sent as a WORD */
        for (at = LOC_BASE; at + 2 <= n && body[at] != 0x30; at += 2u + body[at + 1])
            ;
        if (at + 2 > n || body[at + 1] != 1)
            return bad(err, "body.items[0x30]");
        memmove(body + at + 3, body + at + 2, n - at - 2);
        body[at + 1] = 2;
        body[at + 2] = 0;
        n++;
        break;
    case JT808_DEV_ITEM_TRUNCATED: { /* the last item claims two bytes more than sent */
        size_t last = 0;
        for (at = LOC_BASE; at + 2 <= n; at += 2u + body[at + 1])
            last = at;
        if (!last || body[last + 1] > 253)
            return bad(err, "body.items");
        body[last + 1] += 2;
        break;
    }
    case JT808_DEV_UNESCAPED_CHECK:
        if (n < LOC_BASE)
            return bad(err, "body");
        break; /* below, once the check is known */
    case JT808_DEV_PARAM_LENGTH: { /* the first DWORD parameter sent as a WORD */
        at = 3;
        for (unsigned i = 0; i < body[2] && at + 5 <= n; i++, at += 5u + body[at + 4]) {
            uint32_t id = (uint32_t)body[at] << 24 | (uint32_t)body[at + 1] << 16 |
                          (uint32_t)body[at + 2] << 8 | body[at + 3];
            if (body[at + 4] == 4 && jt808_param_type_of(id) == JT808_PT_DWORD)
                break;
        }
        if (at + 9 > n || body[at + 4] != 4)
            return bad(err, "body.params");
        memmove(body + at + 7, body + at + 9, n - at - 9);
        body[at + 4] = 2;
        n -= 2;
        break;
    }
    case JT808_DEV_COUNT_OVERRUN: /* one parameter more counted than sent */
        if (n < 3 || body[2] == 255)
            return bad(err, "body.count");
        body[2]++;
        break;
    case JT808_DEV_TRAILING_BYTES: /* two bytes after the last parameter */
        if (n + 2 > JT808_MAX_BODY)
            return bad(err, "body");
        body[n++] = 0;
        body[n++] = 0;
        break;
    default:
        return bad(err, "deviate.kind");
    }
    m->body = body;
    m->body_bytes = n;
    rc = jt808_encode(m, out, cap, out_len, err);
    if (rc == JT808_OK && k == JT808_DEV_UNESCAPED_CHECK) {
        /* choose the altitude's low byte so that the check is 0x7D, then send the
         * check unescaped (7D 7E instead of 7D 01 7E) */
        uint8_t x = frame_check(out, *out_len) ^ body[LOC_ALT_LO];
        body[LOC_ALT_LO] = x ^ 0x7D;
        rc = jt808_encode(m, out, cap, out_len, err);
        if (rc == JT808_OK && *out_len >= 4 && out[*out_len - 3] == 0x7D && out[*out_len - 2] == 0x01) {
            out[*out_len - 2] = JT808_FLAG;
            (*out_len)--;
        } else if (rc == JT808_OK) {
            rc = bad(err, "check");
        }
    }
    m->body = NULL;
    m->body_bytes = 0;
    return rc;
}
