/* PCP codec (004 §15.2 messages, §15.3 structure and the "PCP消息识别" appendix).
 *
 * Decoding runs the checks in the appendix's order (start, version, code, CRC,
 * length) and only then looks at the data's fields, so pcp_decode and
 * pcp_identify agree on which check a bad frame fails first. */
#include <string.h>

#include "sim/proto/pcp.h"

#define PCP_OFF_VERSION 2
#define PCP_OFF_CODE 3
#define PCP_OFF_CHECK 4
#define PCP_OFF_LENGTH 6
#define PCP_OFF_DATA PCP_HDR_LEN

const char *pcp_rc_name(enum pcp_rc rc)
{
    switch (rc) {
    case PCP_OK: return "ok";
    case PCP_E_SHORT: return "short";
    case PCP_E_START: return "start";
    case PCP_E_VERSION: return "version";
    case PCP_E_CODE: return "code";
    case PCP_E_CRC: return "crc";
    case PCP_E_LENGTH: return "length";
    case PCP_E_VALUE: return "value";
    case PCP_E_NOSPACE: return "nospace";
    }
    return "unknown";
}

const char *pcp_rc_text(enum pcp_rc rc)
{
    switch (rc) {
    case PCP_OK: return "no error";
    case PCP_E_SHORT: return "frame ends before the field does";
    case PCP_E_START: return "start is not 0xFFFE";
    case PCP_E_VERSION: return "protocol version (low nibble) is not 1";
    case PCP_E_CODE: return "message code outside 0x13..0x18";
    case PCP_E_CRC: return "check field mismatch";
    case PCP_E_LENGTH: return "length disagrees with the data";
    case PCP_E_VALUE: return "value outside the allowed set";
    case PCP_E_NOSPACE: return "output buffer too small";
    }
    return "unknown error";
}

const char *pcp_code_name(uint8_t code)
{
    switch (code) {
    case PCP_QUERY_VERSION: return "query version";
    case PCP_NEW_VERSION: return "new version notice";
    case PCP_REQUEST_CHUNK: return "request chunk";
    case PCP_DOWNLOAD_RESULT: return "download result";
    case PCP_EXECUTE: return "execute upgrade";
    case PCP_UPGRADE_RESULT: return "upgrade result";
    }
    return NULL;
}

bool pcp_is_response(uint8_t code, bool from_device)
{
    switch (code) {
    case PCP_QUERY_VERSION:
    case PCP_NEW_VERSION:
    case PCP_EXECUTE:
        return from_device;
    case PCP_REQUEST_CHUNK:
    case PCP_DOWNLOAD_RESULT:
    case PCP_UPGRADE_RESULT:
        return !from_device;
    }
    return false;
}

static enum pcp_rc pcp_fail(struct pcp_err *err, enum pcp_rc rc, size_t offset, const char *field)
{
    if (err) {
        err->rc = rc;
        err->offset = offset;
        err->field = field;
    }
    return rc;
}

static uint16_t pcp_rd16(const uint8_t *p)
{
    return (uint16_t)(p[0] << 8 | p[1]);
}

static void pcp_wr16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static bool pcp_code_valid(uint8_t code)
{
    return code >= PCP_QUERY_VERSION && code <= PCP_UPGRADE_RESULT;
}

/* The result (or 0x16 request status) values the seed lists for each message. */
static bool pcp_result_allowed(uint8_t code, bool response, uint8_t v)
{
    switch (code) {
    case PCP_QUERY_VERSION:
        return response && v == 0x00;
    case PCP_NEW_VERSION:
        return response && (v <= 0x05 || v == 0x09 || v == 0x7F);
    case PCP_REQUEST_CHUNK:
        return response && (v == 0x00 || v == 0x80 || v == 0x81);
    case PCP_DOWNLOAD_RESULT:
        if (response)
            return v == 0x00 || v == 0x80;
        return v == 0x00 || (v >= 0x05 && v <= 0x08);
    case PCP_EXECUTE:
        return response && (v == 0x00 || v == 0x01 || v == 0x04 || v == 0x05 || v == 0x09);
    case PCP_UPGRADE_RESULT:
        if (response)
            return v == 0x00 || v == 0x80;
        return v == 0x00 || v == 0x01 || v == 0x04 || v == 0x05 || v == 0x09 || v == 0x0A ||
               v == 0x7F;
    }
    return false;
}

/* Does a data area of L bytes fit this message?  d is needed only for the 0x15
 * reply, whose size depends on its result byte. */
static bool pcp_data_len_ok(uint8_t code, bool response, const uint8_t *d, size_t L)
{
    switch (code) {
    case PCP_QUERY_VERSION:
        return L == (response ? 1u + PCP_VERSION_LEN : 0u);
    case PCP_NEW_VERSION:
        return L == (response ? 1u : PCP_VERSION_LEN + 6u);
    case PCP_REQUEST_CHUNK:
        if (!response)
            return L == PCP_VERSION_LEN + 2u;
        /* result, index, then chunk bytes only when the result is 0 */
        return L == 3 || (L > 3 && d[0] == 0x00);
    case PCP_DOWNLOAD_RESULT:
        return L == 1;
    case PCP_EXECUTE:
        return L == (response ? 1u : 0u);
    case PCP_UPGRADE_RESULT:
        return L == (response ? 1u : 1u + PCP_VERSION_LEN);
    }
    return false;
}

/* Header, CRC and byte count: every check of the 15.3 appendix except the
 * per-message data length.  *len gets the length field. */
static enum pcp_rc pcp_frame_check(const uint8_t *buf, size_t n, size_t *len, struct pcp_err *err)
{
    uint8_t tmp[PCP_HDR_LEN + PCP_MAX_DATA];

    if (n < 2)
        return pcp_fail(err, PCP_E_SHORT, 0, "start");
    if (pcp_rd16(buf) != PCP_START)
        return pcp_fail(err, PCP_E_START, 0, "start");
    if (n < 3)
        return pcp_fail(err, PCP_E_SHORT, PCP_OFF_VERSION, "version");
    if ((buf[PCP_OFF_VERSION] & 0x0F) != 1)
        return pcp_fail(err, PCP_E_VERSION, PCP_OFF_VERSION, "version");
    if (n < 4)
        return pcp_fail(err, PCP_E_SHORT, PCP_OFF_CODE, "code");
    if (!pcp_code_valid(buf[PCP_OFF_CODE]))
        return pcp_fail(err, PCP_E_CODE, PCP_OFF_CODE, "code");
    if (n < PCP_OFF_LENGTH)
        return pcp_fail(err, PCP_E_SHORT, PCP_OFF_CHECK, "check");
    if (n < PCP_HDR_LEN)
        return pcp_fail(err, PCP_E_SHORT, PCP_OFF_LENGTH, "length");

    size_t L = pcp_rd16(buf + PCP_OFF_LENGTH);
    /* No message carries more than PCP_MAX_DATA; a bigger length is corrupt,
     * not merely a frame still arriving. */
    if (L > PCP_MAX_DATA)
        return pcp_fail(err, PCP_E_LENGTH, PCP_OFF_LENGTH, "length");
    if (n < PCP_HDR_LEN + L)
        return pcp_fail(err, PCP_E_SHORT, PCP_OFF_DATA, "data");

    /* The check covers the frame the length field delimits, with the check zeroed. */
    memcpy(tmp, buf, PCP_HDR_LEN + L);
    tmp[PCP_OFF_CHECK] = 0;
    tmp[PCP_OFF_CHECK + 1] = 0;
    if (crc16_pcp(tmp, PCP_HDR_LEN + L) != pcp_rd16(buf + PCP_OFF_CHECK))
        return pcp_fail(err, PCP_E_CRC, PCP_OFF_CHECK, "check");
    if (n > PCP_HDR_LEN + L)
        return pcp_fail(err, PCP_E_LENGTH, PCP_HDR_LEN + L, "data");
    *len = L;
    return PCP_OK;
}

/* BYTE[16]: printable ASCII, then 0x00 padding to the end. */
static enum pcp_rc pcp_version_decode(const uint8_t *p, size_t offset, char *out,
                                      struct pcp_err *err)
{
    size_t i = 0;
    for (; i < PCP_VERSION_LEN && p[i] != 0; i++) {
        if (p[i] < 0x20 || p[i] > 0x7E)
            return pcp_fail(err, PCP_E_VALUE, offset + i, "data.version");
        out[i] = (char)p[i];
    }
    out[i] = '\0';
    for (; i < PCP_VERSION_LEN; i++)
        if (p[i] != 0)
            return pcp_fail(err, PCP_E_VALUE, offset + i, "data.version");
    return PCP_OK;
}

static enum pcp_rc pcp_result_decode(uint8_t v, const struct pcp_msg *m, size_t offset,
                                     const char *field, struct pcp_err *err)
{
    if (!pcp_result_allowed(m->code, m->response, v))
        return pcp_fail(err, PCP_E_VALUE, offset, field);
    return PCP_OK;
}

static enum pcp_rc pcp_data_decode(const uint8_t *d, size_t L, struct pcp_msg *m,
                                   struct pcp_err *err)
{
    const size_t o = PCP_OFF_DATA;
    enum pcp_rc rc = PCP_OK;

    switch (m->code) {
    case PCP_QUERY_VERSION:
        if (!m->response)
            return PCP_OK;
        m->result = d[0];
        if ((rc = pcp_result_decode(d[0], m, o, "data.result", err)) != PCP_OK)
            return rc;
        return pcp_version_decode(d + 1, o + 1, m->version_str, err);
    case PCP_NEW_VERSION:
        if (m->response) {
            m->result = d[0];
            return pcp_result_decode(d[0], m, o, "data.result", err);
        }
        if ((rc = pcp_version_decode(d, o, m->version_str, err)) != PCP_OK)
            return rc;
        m->chunk_size = pcp_rd16(d + 16);
        m->chunk_count = pcp_rd16(d + 18);
        m->check_code = pcp_rd16(d + 20);
        return PCP_OK;
    case PCP_REQUEST_CHUNK:
        if (!m->response) {
            if ((rc = pcp_version_decode(d, o, m->version_str, err)) != PCP_OK)
                return rc;
            m->chunk_index = pcp_rd16(d + 16);
            return PCP_OK;
        }
        m->result = d[0];
        m->chunk_index = pcp_rd16(d + 1);
        if (L > 3) {
            m->chunk = d + 3;
            m->chunk_len = L - 3;
        }
        return pcp_result_decode(d[0], m, o, "data.result", err);
    case PCP_DOWNLOAD_RESULT:
        m->result = d[0];
        return pcp_result_decode(d[0], m, o, m->response ? "data.result" : "data.status", err);
    case PCP_EXECUTE:
        if (!m->response)
            return PCP_OK;
        m->result = d[0];
        return pcp_result_decode(d[0], m, o, "data.result", err);
    case PCP_UPGRADE_RESULT:
        m->result = d[0];
        if ((rc = pcp_result_decode(d[0], m, o, "data.result", err)) != PCP_OK)
            return rc;
        if (m->response)
            return PCP_OK;
        return pcp_version_decode(d + 1, o + 1, m->version_str, err);
    }
    return pcp_fail(err, PCP_E_CODE, PCP_OFF_CODE, "code");
}

enum pcp_rc pcp_decode(const uint8_t *buf, size_t n, bool from_device, struct pcp_msg *m,
                       struct pcp_err *err)
{
    size_t L = 0;
    enum pcp_rc rc;

    memset(m, 0, sizeof(*m));
    if (err)
        pcp_fail(err, PCP_OK, 0, "");
    if (!buf)
        n = 0;
    if ((rc = pcp_frame_check(buf, n, &L, err)) != PCP_OK)
        return rc;
    m->version = buf[PCP_OFF_VERSION];
    m->code = buf[PCP_OFF_CODE];
    m->response = pcp_is_response(m->code, from_device);
    m->check = pcp_rd16(buf + PCP_OFF_CHECK);
    m->length = (uint16_t)L;
    if (!pcp_data_len_ok(m->code, m->response, buf + PCP_OFF_DATA, L))
        return pcp_fail(err, PCP_E_LENGTH, PCP_OFF_LENGTH, "length");
    return pcp_data_decode(buf + PCP_OFF_DATA, L, m, err);
}

/* Data length the message will have once encoded (valid after pcp_check). */
static size_t pcp_data_len(const struct pcp_msg *m)
{
    switch (m->code) {
    case PCP_QUERY_VERSION:
        return m->response ? 1 + PCP_VERSION_LEN : 0;
    case PCP_NEW_VERSION:
        return m->response ? 1 : PCP_VERSION_LEN + 6;
    case PCP_REQUEST_CHUNK:
        if (!m->response)
            return PCP_VERSION_LEN + 2;
        return 3 + (m->result == 0x00 ? m->chunk_len : 0);
    case PCP_DOWNLOAD_RESULT:
        return 1;
    case PCP_EXECUTE:
        return m->response ? 1 : 0;
    case PCP_UPGRADE_RESULT:
        return m->response ? 1 : 1 + PCP_VERSION_LEN;
    }
    return 0;
}

static bool pcp_has_version_str(const struct pcp_msg *m)
{
    switch (m->code) {
    case PCP_QUERY_VERSION:
        return m->response;
    case PCP_NEW_VERSION:
    case PCP_REQUEST_CHUNK:
    case PCP_UPGRADE_RESULT:
        return !m->response;
    }
    return false;
}

/* Offset of the version string in the encoded frame. */
static size_t pcp_version_offset(const struct pcp_msg *m)
{
    return PCP_OFF_DATA + ((m->code == PCP_QUERY_VERSION || m->code == PCP_UPGRADE_RESULT) ? 1 : 0);
}

static bool pcp_has_result(const struct pcp_msg *m)
{
    switch (m->code) {
    case PCP_DOWNLOAD_RESULT:
    case PCP_UPGRADE_RESULT:
        return true;
    case PCP_QUERY_VERSION:
    case PCP_NEW_VERSION:
    case PCP_REQUEST_CHUNK:
    case PCP_EXECUTE:
        return m->response;
    }
    return false;
}

enum pcp_rc pcp_check(const struct pcp_msg *m, struct pcp_err *err)
{
    if (err)
        pcp_fail(err, PCP_OK, 0, "");
    if ((m->version & 0x0F) != 1)
        return pcp_fail(err, PCP_E_VERSION, PCP_OFF_VERSION, "version");
    if (!pcp_code_valid(m->code))
        return pcp_fail(err, PCP_E_CODE, PCP_OFF_CODE, "code");
    if (pcp_has_result(m) && !pcp_result_allowed(m->code, m->response, m->result)) {
        const char *f = m->code == PCP_DOWNLOAD_RESULT && !m->response ? "data.status"
                                                                       : "data.result";
        return pcp_fail(err, PCP_E_VALUE, PCP_OFF_DATA, f);
    }
    if (pcp_has_version_str(m)) {
        size_t off = pcp_version_offset(m);
        size_t i = 0;
        for (; i < sizeof(m->version_str) && m->version_str[i]; i++)
            if ((unsigned char)m->version_str[i] < 0x20 || (unsigned char)m->version_str[i] > 0x7E)
                return pcp_fail(err, PCP_E_VALUE, off + i, "data.version");
        if (i > PCP_VERSION_LEN)
            return pcp_fail(err, PCP_E_VALUE, off + PCP_VERSION_LEN, "data.version");
    }
    if (m->code == PCP_REQUEST_CHUNK && m->response) {
        if (m->result != 0x00 && m->chunk_len > 0)
            return pcp_fail(err, PCP_E_VALUE, PCP_OFF_DATA + 3, "data.chunk");
        if (m->chunk_len > 0 && !m->chunk)
            return pcp_fail(err, PCP_E_VALUE, PCP_OFF_DATA + 3, "data.chunk");
        if (m->chunk_len > PCP_MAX_DATA - 3)
            return pcp_fail(err, PCP_E_LENGTH, PCP_OFF_DATA + 3, "data.chunk");
    }
    return PCP_OK;
}

static void pcp_version_encode(const char *s, uint8_t *out)
{
    size_t n = strnlen(s, PCP_VERSION_LEN);
    memset(out, 0, PCP_VERSION_LEN);
    memcpy(out, s, n);
}

enum pcp_rc pcp_encode(const struct pcp_msg *m, uint8_t *out, size_t cap, size_t *out_len)
{
    enum pcp_rc rc = pcp_check(m, NULL);
    if (rc != PCP_OK)
        return rc;

    size_t L = pcp_data_len(m);
    if (!out || cap < PCP_HDR_LEN + L)
        return PCP_E_NOSPACE;

    uint8_t *d = out + PCP_OFF_DATA;
    pcp_wr16(out, PCP_START);
    out[PCP_OFF_VERSION] = m->version;
    out[PCP_OFF_CODE] = m->code;
    pcp_wr16(out + PCP_OFF_CHECK, 0);
    pcp_wr16(out + PCP_OFF_LENGTH, (uint16_t)L);

    switch (m->code) {
    case PCP_QUERY_VERSION:
        if (m->response) {
            d[0] = m->result;
            pcp_version_encode(m->version_str, d + 1);
        }
        break;
    case PCP_NEW_VERSION:
        if (m->response) {
            d[0] = m->result;
            break;
        }
        pcp_version_encode(m->version_str, d);
        pcp_wr16(d + 16, m->chunk_size);
        pcp_wr16(d + 18, m->chunk_count);
        pcp_wr16(d + 20, m->check_code);
        break;
    case PCP_REQUEST_CHUNK:
        if (!m->response) {
            pcp_version_encode(m->version_str, d);
            pcp_wr16(d + 16, m->chunk_index);
            break;
        }
        d[0] = m->result;
        pcp_wr16(d + 1, m->chunk_index);
        if (L > 3)
            memmove(d + 3, m->chunk, L - 3);  /* the chunk may already sit in out */
        break;
    case PCP_DOWNLOAD_RESULT:
        d[0] = m->result;
        break;
    case PCP_EXECUTE:
        if (m->response)
            d[0] = m->result;
        break;
    case PCP_UPGRADE_RESULT:
        d[0] = m->result;
        if (!m->response)
            pcp_version_encode(m->version_str, d + 1);
        break;
    }
    pcp_wr16(out + PCP_OFF_CHECK, crc16_pcp(out, PCP_HDR_LEN + L));
    if (out_len)
        *out_len = PCP_HDR_LEN + L;
    return PCP_OK;
}

/* The appendix step a frame-level failure belongs to. */
static const char *pcp_identify_step(const struct pcp_err *e)
{
    switch (e->rc) {
    case PCP_E_START: return "start";
    case PCP_E_VERSION: return "version";
    case PCP_E_CODE: return "code";
    case PCP_E_CRC: return "crc";
    case PCP_E_SHORT:
        /* a payload that ends inside a field fails the step that reads that field */
        if (strcmp(e->field, "start") == 0 || strcmp(e->field, "version") == 0 ||
            strcmp(e->field, "code") == 0)
            return e->field;
        if (strcmp(e->field, "check") == 0)
            return "crc";
        return "length";
    default:
        return "length";
    }
}

bool pcp_identify(const uint8_t *buf, size_t n, bool supports_upgrade, bool uses_pcp,
                  const char **why)
{
    const char *dummy;
    struct pcp_err e = {0};
    size_t L = 0;

    if (!why)
        why = &dummy;
    if (!supports_upgrade) {
        *why = "upgrade";
        return false;
    }
    if (!uses_pcp) {
        *why = "protocol";
        return false;
    }
    if (!buf)
        n = 0;
    if (pcp_frame_check(buf, n, &L, &e) != PCP_OK) {
        *why = pcp_identify_step(&e);
        return false;
    }
    /* The direction is unknown here: the length is correct if it fits either one. */
    const uint8_t *d = buf + PCP_OFF_DATA;
    uint8_t code = buf[PCP_OFF_CODE];
    if (!pcp_data_len_ok(code, false, d, L) && !pcp_data_len_ok(code, true, d, L)) {
        *why = "length";
        return false;
    }
    *why = "pcp";
    return true;
}
