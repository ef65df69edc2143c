/* JT/T 808 frame layer: flags, escaping, XOR check, the message header, and
 * jt808_decode/jt808_encode on top of the body codec.
 *
 * Decoding order: flags -> unescape -> check byte -> header -> length -> body.
 * Work happens on the unescaped copy; error offsets are mapped back to the wire
 * so a user can find the byte in the hex dump they captured. */
#include <string.h>

#include "sim/proto/jt808.h"
#include "sim/proto/jt808_internal.h"
#include "sim/proto/jt808_layout.h"

#define ESC 0x7D

static const char *const rc_names[] = {
    [JT808_OK] = "ok",
    [JT808_E_SHORT] = "short",
    [JT808_E_FLAG] = "flag",
    [JT808_E_ESCAPE] = "escape",
    [JT808_E_CHECK] = "check",
    [JT808_E_LENGTH] = "length",
    [JT808_E_BCD] = "bcd",
    [JT808_E_UNKNOWN_ID] = "unknown_id",
    [JT808_E_VALUE] = "value",
    [JT808_E_NOSPACE] = "nospace",
    [JT808_E_ENCODING] = "encoding",
    [JT808_E_SUBPKG] = "subpkg",
    [JT808_E_DEVIATION] = "deviation",
    [JT808_E_DECRYPT] = "decrypt",
};

static const char *const rc_texts[] = {
    [JT808_OK] = "ok",
    [JT808_E_SHORT] = "buffer ends before the field does",
    [JT808_E_FLAG] = "missing or misplaced 0x7E flag",
    [JT808_E_ESCAPE] = "0x7D not followed by 0x01 or 0x02",
    [JT808_E_CHECK] = "check byte mismatch",
    [JT808_E_LENGTH] = "length disagrees with the bytes present",
    [JT808_E_BCD] = "BCD nibble above 9",
    [JT808_E_UNKNOWN_ID] = "id not known here",
    [JT808_E_VALUE] = "value not allowed",
    [JT808_E_NOSPACE] = "buffer or field too small",
    [JT808_E_ENCODING] = "GBK/UTF-8 conversion failed",
    [JT808_E_SUBPKG] = "subpackage total/index inconsistent or reassembly limit hit",
    [JT808_E_DEVIATION] = "deviates from the standard (strict decoding)",
    [JT808_E_DECRYPT] = "RSA block does not decrypt with this key (or is cut short)",
};

const char *jt808_rc_name(enum jt808_rc rc)
{
    if ((unsigned)rc >= sizeof rc_names / sizeof rc_names[0])
        return "unknown";
    return rc_names[rc];
}

const char *jt808_rc_text(enum jt808_rc rc)
{
    if ((unsigned)rc >= sizeof rc_texts / sizeof rc_texts[0])
        return "unknown result";
    return rc_texts[rc];
}

static const struct {
    uint16_t id;
    bool typed;
    const char *name;
} msg_table[] = {
    {0x0001, true, "terminal general response"},
    {0x8001, true, "platform general response"},
    {0x0002, true, "terminal heartbeat"},
    {0x0003, true, "terminal logout"},
    {0x0100, true, "terminal registration"},
    {0x8100, true, "terminal registration response"},
    {0x0102, true, "terminal authentication"},
    {0x0104, true, "query terminal parameters response"},
    {0x0108, true, "terminal upgrade result"},
    {0x0200, true, "location report"},
    {0x0201, true, "location query response"},
    {0x0704, true, "location batch upload"},
    {0x8103, true, "set terminal parameters"},
    {0x8104, true, "query terminal parameters"},
    {0x8105, true, "terminal control"},
    {0x8108, true, "issue terminal upgrade package"},
    {0x8201, true, "location query"},
    {0x8300, true, "text message"},
    /* Named for logs and "unsupported" answers; bodies stay raw. */
    {0x8003, false, "resend subpackage request"},
    {0x8106, false, "query specified terminal parameters"},
    {0x8107, false, "query terminal properties"},
    {0x0107, false, "query terminal properties response"},
    {0x0801, false, "multimedia data upload"},
    {0x8800, false, "multimedia data upload response"},
    {0x0900, false, "data uplink passthrough"},
    {0x8900, false, "data downlink passthrough"},
};

bool jt808_msg_known(uint16_t msg_id)
{
    for (size_t i = 0; i < sizeof msg_table / sizeof msg_table[0]; i++)
        if (msg_table[i].id == msg_id)
            return msg_table[i].typed || jt808_lay_find(msg_id);
    return jt808_lay_find(msg_id) != NULL;
}

const char *jt808_msg_name(uint16_t msg_id)
{
    for (size_t i = 0; i < sizeof msg_table / sizeof msg_table[0]; i++)
        if (msg_table[i].id == msg_id)
            return msg_table[i].name;
    const struct jt808_layout *l = jt808_lay_find(msg_id);
    return l ? l->name : NULL;
}

uint8_t jt808_xor(const uint8_t *p, size_t n)
{
    uint8_t x = 0;
    for (size_t i = 0; i < n; i++)
        x ^= p[i];
    return x;
}

size_t jt808_frame_find(const uint8_t *buf, size_t n, size_t *start, size_t *len, size_t *skipped)
{
    /* memchr: every frame read goes through here, byte by byte it was a tenth of
     * the gateway's instructions per report */
    const uint8_t *f = n ? memchr(buf, JT808_FLAG, n) : NULL;
    size_t i = f ? (size_t)(f - buf) : n;
    for (;;) {
        *skipped = i;
        if (i >= n)
            return 0;
        const uint8_t *e = i + 1 < n ? memchr(buf + i + 1, JT808_FLAG, n - i - 1) : NULL;
        size_t j = e ? (size_t)(e - buf) : n;
        if (j >= n) {
            /* No end flag within any legal frame length: the start was not one. */
            if (n - i > JT808_MAX_FRAME)
                *skipped = n;
            return 0;
        }
        if (j == i + 1) {
            /* 7E 7E: the first is the end of something lost; resync on the second. */
            i = j;
            continue;
        }
        *start = i;
        *len = j - i + 1;
        return j + 1;
    }
}

enum jt808_rc jt808_unescape(const uint8_t *wire, size_t n, uint8_t *out, size_t cap,
                             size_t *out_len, struct jt808_err *err)
{
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        uint8_t b = wire[i];
        if ((uint8_t)(b - ESC) <= 1) { /* 0x7D or 0x7E: one test for the common byte */
            if (b == JT808_FLAG)
                return jt808_fail(err, JT808_E_FLAG, i, "flag");
            if (i + 1 >= n || (wire[i + 1] != 0x01 && wire[i + 1] != 0x02))
                return jt808_fail(err, JT808_E_ESCAPE, i, "escape");
            b = wire[i + 1] == 0x01 ? ESC : JT808_FLAG;
            i++;
        }
        if (o >= cap)
            return jt808_fail(err, JT808_E_NOSPACE, i, "scratch");
        out[o++] = b;
    }
    *out_len = o;
    return JT808_OK;
}

enum jt808_rc jt808_escape(const uint8_t *raw, size_t n, uint8_t *out, size_t cap, size_t *out_len)
{
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        uint8_t b = raw[i];
        bool esc = (uint8_t)(b - ESC) <= 1; /* 0x7D or 0x7E */
        if (cap - o < (esc ? 2u : 1u))
            return JT808_E_NOSPACE;
        if (esc) {
            out[o++] = ESC;
            out[o++] = b == ESC ? 0x01 : 0x02;
        } else {
            out[o++] = b;
        }
    }
    *out_len = o;
    return JT808_OK;
}

/* Wire offset (in a frame starting with its flag) of unescaped byte raw_off. */
size_t jt808_wire_offset(const uint8_t *wire, size_t len, size_t raw_off)
{
    size_t w = 1, r = 0;
    while (w + 1 < len && r < raw_off) {
        w += wire[w] == ESC ? 2 : 1;
        r++;
    }
    return w;
}

size_t jt808_header_len(const struct jt808_header *h)
{
    return (h->version == JT808_V2019 ? 17u : 12u) + (h->subpackage ? 4u : 0u);
}

/* Parse the header from the unescaped bytes p[0..n); offsets are unescaped. */
static enum jt808_rc header_read(const uint8_t *p, size_t n, struct jt808_header *h, size_t *hlen,
                                 struct jt808_err *err)
{
    struct jt808_rd r = {p, 0, n, err, NULL, NULL};
    uint16_t props;
    JT808_TRY(jt808_rd_u16(&r, &h->msg_id, "header.msg_id"));
    JT808_TRY(jt808_rd_u16(&r, &props, "header.props"));
    h->body_len = props & 0x03FF;
    h->encryption = (props >> 10) & 0x07;
    h->subpackage = (props >> 13) & 1;
    h->reserved15 = (props >> 15) & 1;
    h->version = (props >> 14) & 1 ? JT808_V2019 : JT808_V2013;
    h->proto_version = 0;
    if (h->version == JT808_V2019)
        JT808_TRY(jt808_rd_u8(&r, &h->proto_version, "header.proto_version"));
    size_t plen = h->version == JT808_V2019 ? 10 : 6;
    JT808_TRY(jt808_rd_need(&r, plen, "header.phone"));
    size_t bad = 0;
    if (jt808_bcd_decode(p + r.pos, plen, h->phone, &bad) != JT808_OK)
        return jt808_fail(err, JT808_E_BCD, r.pos + bad, "header.phone");
    r.pos += plen;
    JT808_TRY(jt808_rd_u16(&r, &h->serial, "header.serial"));
    h->pkg_total = h->pkg_index = 0;
    if (h->subpackage) {
        size_t at = r.pos;
        JT808_TRY(jt808_rd_u16(&r, &h->pkg_total, "header.pkg_total"));
        JT808_TRY(jt808_rd_u16(&r, &h->pkg_index, "header.pkg_index"));
        if (h->pkg_total == 0)
            return jt808_fail(err, JT808_E_SUBPKG, at, "header.pkg_total");
        if (h->pkg_index == 0 || h->pkg_index > h->pkg_total)
            return jt808_fail(err, JT808_E_SUBPKG, at + 2, "header.pkg_index");
    }
    *hlen = r.pos;
    return JT808_OK;
}

enum jt808_rc jt808_decode(const uint8_t *wire, size_t len, uint8_t *scratch, size_t scratch_cap,
                           struct jt808_msg *msg, struct jt808_err *err)
{
    struct jt808_err local;
    if (!err)
        err = &local;
    err->rc = JT808_OK;
    err->offset = 0;
    err->field = NULL;
    msg->devs.n = 0;
    msg->devs.total = 0;
    msg->rsa_plain = false;
    if (len == 0)
        return jt808_fail(err, JT808_E_SHORT, 0, "start_flag");
    if (wire[0] != JT808_FLAG)
        return jt808_fail(err, JT808_E_FLAG, 0, "start_flag");
    if (len == 1)
        return jt808_fail(err, JT808_E_SHORT, 1, "end_flag");
    if (wire[len - 1] != JT808_FLAG)
        return jt808_fail(err, JT808_E_FLAG, len - 1, "end_flag");

    /* A lone 0x7D right before the closing flag cannot start an escape: devices that
     * forget to escape a check byte of 0x7D send it so.  Read it as the check byte. */
    size_t inner = len - 2;
    bool lone_esc = inner >= 1 && wire[len - 2] == ESC;
    if (lone_esc)
        inner--;
    size_t raw_len = 0;
    enum jt808_rc rc = jt808_unescape(wire + 1, inner, scratch, scratch_cap, &raw_len, err);
    if (rc != JT808_OK) {
        err->offset += 1;
        return rc;
    }
    if (lone_esc) {
        if (raw_len >= scratch_cap)
            return jt808_fail(err, JT808_E_NOSPACE, len - 2, "scratch");
        scratch[raw_len++] = ESC;
        jt808_devs_add(&msg->devs, JT808_DEV_UNESCAPED_CHECK, len - 2, "check");
    }
    if (raw_len == 0)
        return jt808_fail(err, JT808_E_SHORT, 1, "check");
    size_t n = raw_len - 1;
    if (jt808_xor(scratch, n) != scratch[n])
        return jt808_fail(err, JT808_E_CHECK, lone_esc ? len - 2 : jt808_wire_offset(wire, len, n), "check");

    size_t hlen = 0;
    rc = header_read(scratch, n, &msg->h, &hlen, err);
    if (rc != JT808_OK) {
        err->offset = jt808_wire_offset(wire, len, err->offset);
        return rc;
    }
    if (msg->h.body_len != n - hlen)
        return jt808_fail(err, JT808_E_LENGTH, jt808_wire_offset(wire, len, 2), "header.body_len");
    msg->body = scratch + hlen;
    msg->body_bytes = n - hlen;
    /* Fragments and encrypted bodies are opaque until reassembled or decrypted. */
    if (msg->h.subpackage || msg->h.encryption != 0)
        return JT808_OK;
    unsigned frame_devs = msg->devs.n;
    rc = jt808_body_read(msg->body, msg->body_bytes, msg, err);
    if (rc != JT808_OK)
        err->offset = jt808_wire_offset(wire, len, hlen + err->offset);
    for (unsigned i = frame_devs; i < msg->devs.n; i++)
        msg->devs.d[i].offset = jt808_wire_offset(wire, len, hlen + msg->devs.d[i].offset);
    return rc;
}

enum jt808_rc jt808_decode_strict(const uint8_t *wire, size_t len, uint8_t *scratch,
                                  size_t scratch_cap, struct jt808_msg *msg, struct jt808_err *err)
{
    struct jt808_err local;
    if (!err)
        err = &local;
    JT808_TRY(jt808_decode(wire, len, scratch, scratch_cap, msg, err));
    if (msg->devs.n == 0)
        return JT808_OK;
    return jt808_fail(err, JT808_E_DEVIATION, msg->devs.d[0].offset, msg->devs.d[0].field);
}

static enum jt808_rc header_write(const struct jt808_header *h, size_t body_len, uint8_t *p,
                                  struct jt808_err *err)
{
    if (h->encryption > 7)
        return jt808_fail(err, JT808_E_VALUE, 2, "header.encryption");
    uint16_t props = (uint16_t)(body_len | (unsigned)h->encryption << 10);
    if (h->subpackage)
        props |= 1u << 13;
    if (h->version == JT808_V2019)
        props |= 1u << 14;
    if (h->reserved15)
        props |= 1u << 15;
    struct jt808_wr w = {p, 0, JT808_MAX_HEADER, err};
    JT808_TRY(jt808_wr_u16(&w, h->msg_id, "header.msg_id"));
    JT808_TRY(jt808_wr_u16(&w, props, "header.props"));
    if (h->version == JT808_V2019)
        JT808_TRY(jt808_wr_u8(&w, h->proto_version, "header.proto_version"));
    size_t plen = h->version == JT808_V2019 ? 10 : 6;
    if (jt808_bcd_encode(h->phone, p + w.pos, plen) != JT808_OK)
        return jt808_fail(err, JT808_E_VALUE, w.pos, "header.phone");
    w.pos += plen;
    JT808_TRY(jt808_wr_u16(&w, h->serial, "header.serial"));
    if (h->subpackage) {
        if (h->pkg_total == 0)
            return jt808_fail(err, JT808_E_SUBPKG, w.pos, "header.pkg_total");
        if (h->pkg_index == 0 || h->pkg_index > h->pkg_total)
            return jt808_fail(err, JT808_E_SUBPKG, w.pos + 2, "header.pkg_index");
        JT808_TRY(jt808_wr_u16(&w, h->pkg_total, "header.pkg_total"));
        JT808_TRY(jt808_wr_u16(&w, h->pkg_index, "header.pkg_index"));
    }
    return JT808_OK;
}

/* Escapes raw[0..n) plus its check byte into out between two flags. */
static enum jt808_rc frame_wrap(const uint8_t *raw, size_t n, uint8_t *out, size_t cap,
                                size_t *out_len, struct jt808_err *err)
{
    if (cap < 2)
        return jt808_fail(err, JT808_E_NOSPACE, 0, "frame");
    uint8_t check = jt808_xor(raw, n);
    size_t o = 1, k = 0;
    out[0] = JT808_FLAG;
    if (jt808_escape(raw, n, out + o, cap - 1, &k) != JT808_OK)
        return jt808_fail(err, JT808_E_NOSPACE, cap, "frame");
    o += k;
    if (jt808_escape(&check, 1, out + o, cap - o, &k) != JT808_OK)
        return jt808_fail(err, JT808_E_NOSPACE, cap, "check");
    o += k;
    if (o >= cap)
        return jt808_fail(err, JT808_E_NOSPACE, cap, "end_flag");
    out[o++] = JT808_FLAG;
    *out_len = o;
    return JT808_OK;
}

enum jt808_rc jt808_frame_build(const struct jt808_header *h, const uint8_t *body, size_t n,
                                uint8_t *out, size_t cap, size_t *out_len, struct jt808_err *err)
{
    uint8_t raw[JT808_MAX_HEADER + JT808_MAX_BODY];
    if (n > JT808_MAX_BODY)
        return jt808_fail(err, JT808_E_LENGTH, 0, "body");
    size_t hlen = jt808_header_len(h);
    JT808_TRY(header_write(h, n, raw, err));
    if (n)
        memcpy(raw + hlen, body, n);
    return frame_wrap(raw, hlen + n, out, cap, out_len, err);
}

enum jt808_rc jt808_encode(const struct jt808_msg *msg, uint8_t *out, size_t cap, size_t *out_len,
                           struct jt808_err *err)
{
    struct jt808_err local;
    if (!err)
        err = &local;
    err->rc = JT808_OK;
    err->offset = 0;
    err->field = NULL;
    if (msg->rsa_plain && msg->h.encryption)
        return jt808_fail(err, JT808_E_VALUE, 2, "header.encryption"); /* jt808_rsa_encode encrypts it */
    if (msg->body)
        return jt808_frame_build(&msg->h, msg->body, msg->body_bytes, out, cap, out_len, err);

    /* Typed body: encode it straight after the header, no copy and no allocation. */
    uint8_t raw[JT808_MAX_HEADER + JT808_MAX_BODY];
    size_t hlen = jt808_header_len(&msg->h), blen = 0;
    enum jt808_rc rc = jt808_body_encode(msg, raw + hlen, JT808_MAX_BODY, &blen, err);
    if (rc == JT808_E_NOSPACE)
        return jt808_fail(err, JT808_E_LENGTH, err->offset, err->field); /* 10-bit length */
    if (rc != JT808_OK)
        return rc;
    JT808_TRY(header_write(&msg->h, blen, raw, err));
    return frame_wrap(raw, hlen + blen, out, cap, out_len, err);
}
