/* Where each element falls in a frame, and what its len and checksum fields must
 * hold: one set of rules for render and match alike, so a rendered frame always
 * matches a pattern written the same way.
 *
 * Checksums:
 *   xor8          XOR of the bytes
 *   sum8          sum of the bytes mod 256
 *   crc16         CRC-16/CCITT-FALSE: poly 0x1021, init 0xFFFF, MSB first, no final
 *                 XOR ("123456789" -> 0x29B1)
 *   crc16:modbus  CRC-16/MODBUS: poly 0x8005 reflected (0xA001), init 0xFFFF, LSB
 *                 first, no final XOR ("123456789" -> 0x4B37) */
#include <string.h>

#include "sim/proto/replay_internal.h"

struct replay_ck {
    enum replay_el_kind kind;
    uint16_t acc;
};

static void replay_ck_init(struct replay_ck *c, enum replay_el_kind kind)
{
    c->kind = kind;
    c->acc = (kind == REPLAY_EL_CRC16 || kind == REPLAY_EL_CRC16_MODBUS) ? 0xFFFF : 0;
}

static void replay_ck_byte(struct replay_ck *c, uint8_t b)
{
    switch (c->kind) {
    case REPLAY_EL_XOR8: c->acc ^= b; break;
    case REPLAY_EL_SUM8: c->acc = (uint8_t)(c->acc + b); break;
    case REPLAY_EL_CRC16:
        c->acc ^= (uint16_t)(b << 8);
        for (int k = 0; k < 8; k++)
            c->acc = (c->acc & 0x8000) ? (uint16_t)(c->acc << 1 ^ 0x1021) : (uint16_t)(c->acc << 1);
        break;
    case REPLAY_EL_CRC16_MODBUS:
        c->acc ^= b;
        for (int k = 0; k < 8; k++)
            c->acc = (c->acc & 1) ? (uint16_t)(c->acc >> 1 ^ 0xA001) : (uint16_t)(c->acc >> 1);
        break;
    default: break;
    }
}

static void replay_ck_bytes(struct replay_ck *c, const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        replay_ck_byte(c, p[i]);
}

bool replay_layout_is_sum(enum replay_el_kind kind)
{
    return kind == REPLAY_EL_XOR8 || kind == REPLAY_EL_SUM8 || kind == REPLAY_EL_CRC16 ||
           kind == REPLAY_EL_CRC16_MODBUS;
}

size_t replay_layout_width(const struct replay_el *e, const struct replay_layout *l)
{
    if (e->kind == REPLAY_EL_ID_STR)
        return l->idlen;
    if (e->kind == REPLAY_EL_STAR)
        return l->star;
    return e->width;
}

void replay_layout_init(const struct replay_prog *p, size_t idlen, size_t star,
                        struct replay_layout *l)
{
    l->idlen = idlen;
    l->star = star;
    l->total = 0;
    l->span_from = l->span_to = 0;
    for (size_t k = 0; k <= p->nel; k++) {
        if (p->has_span && k == p->span_a)
            l->span_from = l->total;
        if (p->has_span && k == p->span_b)
            l->span_to = l->total;
        if (k < p->nel)
            l->total += replay_layout_width(&p->els[k], l);
    }
}

uint64_t replay_layout_value(const struct replay_prog *p, size_t k, size_t pos, const uint8_t *buf,
                             const struct replay_layout *l)
{
    const struct replay_el *e = &p->els[k];
    if (e->kind == REPLAY_EL_LEN) {
        if (p->has_span)
            return l->span_to - l->span_from;
        return l->total - pos - e->width;
    }
    struct replay_ck c;
    replay_ck_init(&c, e->kind);
    if (!p->has_span) {
        replay_ck_bytes(&c, buf, pos);
    } else {
        /* a checksum inside the span reads the checksum fields there (its own
         * included) as zero; one outside reads them as they are */
        size_t q = l->span_from;
        for (size_t j = p->span_a; j < p->span_b; j++) {
            const struct replay_el *f = &p->els[j];
            size_t w = replay_layout_width(f, l);
            if (e->in_span && replay_layout_is_sum(f->kind)) {
                for (size_t i = 0; i < w; i++)
                    replay_ck_byte(&c, 0);
            } else {
                replay_ck_bytes(&c, buf + q, w);
            }
            q += w;
        }
    }
    return c.acc;
}

int replay_layout_id(const struct replay_el *e, const char *id, uint8_t *out, char *why, size_t cap)
{
    char name[32];
    size_t n = strlen(id);
    switch (e->kind) {
    case REPLAY_EL_ID_BCD:
        for (size_t i = 0; i < n; i++)
            if (id[i] < '0' || id[i] > '9') {
                snprintf(why, cap, "id \"%.40s\" is not decimal (character %zu) for %s", id, i,
                         replay_parse_el_name(e, name, sizeof name));
                return -1;
            }
        if (n > 2 * e->width) {
            snprintf(why, cap, "id \"%.40s\" has %zu digits; %s holds %zu", id, n,
                     replay_parse_el_name(e, name, sizeof name), 2 * e->width);
            return -1;
        }
        /* left-padded with 0 digits: digit i of the field is id[i - pad] */
        for (size_t b = 0; b < e->width; b++) {
            uint8_t v = 0;
            for (size_t h = 0; h < 2; h++) {
                size_t i = 2 * b + h, pad = 2 * e->width - n;
                v = (uint8_t)(v << 4 | (i < pad ? 0 : (uint8_t)(id[i - pad] - '0')));
            }
            out[b] = v;
        }
        return 0;
    case REPLAY_EL_ID_ASCII:
        if (n > e->width) {
            snprintf(why, cap, "id \"%.40s\" has %zu characters; %s holds %zu", id, n,
                     replay_parse_el_name(e, name, sizeof name), e->width);
            return -1;
        }
        memset(out, '0', e->width - n);
        memcpy(out + e->width - n, id, n);
        return 0;
    case REPLAY_EL_ID_STR: memcpy(out, id, n); return 0;
    default: snprintf(why, cap, "not an id field"); return -1;
    }
}
