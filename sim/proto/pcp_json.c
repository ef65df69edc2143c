/* PCP message <-> JSON.  The data shapes are one table so that to_json and
 * from_json cannot drift apart. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim/proto/hex.h"
#include "sim/proto/pcp_json.h"

enum pcp_json_field {
    F_RESULT = 1 << 0,
    F_STATUS = 1 << 1,
    F_VERSION = 1 << 2,
    F_CHUNK_SIZE = 1 << 3,
    F_CHUNK_COUNT = 1 << 4,
    F_CHECK_CODE = 1 << 5,
    F_CHUNK_INDEX = 1 << 6,
    F_CHUNK = 1 << 7,  /* only with result 0 */
};

static const struct {
    const char *name;
    unsigned bit;
} pcp_json_fields[] = {
    {"result", F_RESULT},           {"status", F_STATUS},
    {"version", F_VERSION},         {"chunk_size", F_CHUNK_SIZE},
    {"chunk_count", F_CHUNK_COUNT}, {"check_code", F_CHECK_CODE},
    {"chunk_index", F_CHUNK_INDEX}, {"chunk", F_CHUNK},
};

/* Fields of each message's data, in wire order. */
static unsigned pcp_json_shape(uint8_t code, bool response)
{
    switch (code) {
    case PCP_QUERY_VERSION:
        return response ? F_RESULT | F_VERSION : 0;
    case PCP_NEW_VERSION:
        return response ? F_RESULT : F_VERSION | F_CHUNK_SIZE | F_CHUNK_COUNT | F_CHECK_CODE;
    case PCP_REQUEST_CHUNK:
        return response ? F_RESULT | F_CHUNK_INDEX | F_CHUNK : F_VERSION | F_CHUNK_INDEX;
    case PCP_DOWNLOAD_RESULT:
        return response ? F_RESULT : F_STATUS;
    case PCP_EXECUTE:
        return response ? F_RESULT : 0;
    case PCP_UPGRADE_RESULT:
        return response ? F_RESULT : F_RESULT | F_VERSION;
    }
    return 0;
}

static bool pcp_json_from_device(const struct pcp_msg *m)
{
    return pcp_is_response(m->code, true) == m->response;
}

static bool pcp_json_add(cJSON *obj, const char *key, cJSON *item)
{
    if (!item)
        return false;
    cJSON_AddItemToObject(obj, key, item);
    return true;
}

static cJSON *pcp_json_hex16(uint16_t v)
{
    char buf[8];
    snprintf(buf, sizeof(buf), "0x%04X", v);
    return cJSON_CreateString(buf);
}

static bool pcp_json_add_data(cJSON *data, const struct pcp_msg *m)
{
    unsigned shape = pcp_json_shape(m->code, m->response);
    bool ok = true;

    if (shape & F_RESULT)
        ok &= pcp_json_add(data, "result", cJSON_CreateNumber(m->result));
    if (shape & F_STATUS)
        ok &= pcp_json_add(data, "status", cJSON_CreateNumber(m->result));
    if (shape & F_VERSION)
        ok &= pcp_json_add(data, "version", cJSON_CreateString(m->version_str));
    if (shape & F_CHUNK_SIZE)
        ok &= pcp_json_add(data, "chunk_size", cJSON_CreateNumber(m->chunk_size));
    if (shape & F_CHUNK_COUNT)
        ok &= pcp_json_add(data, "chunk_count", cJSON_CreateNumber(m->chunk_count));
    if (shape & F_CHECK_CODE)
        ok &= pcp_json_add(data, "check_code", pcp_json_hex16(m->check_code));
    if (shape & F_CHUNK_INDEX)
        ok &= pcp_json_add(data, "chunk_index", cJSON_CreateNumber(m->chunk_index));
    if ((shape & F_CHUNK) && m->result == 0x00) {
        char *hex = hex_encode_alloc(m->chunk ? m->chunk : (const uint8_t *)"", m->chunk_len);
        ok &= hex && pcp_json_add(data, "chunk", cJSON_CreateString(hex));
        free(hex);
    }
    return ok;
}

cJSON *pcp_to_json(const struct pcp_msg *m)
{
    cJSON *root = cJSON_CreateObject();
    cJSON *data = cJSON_CreateObject();
    const char *name = pcp_code_name(m->code);
    char code[8];
    bool ok = root && data;

    if (!ok)
        goto fail;
    snprintf(code, sizeof(code), "0x%02X", m->code);
    ok &= pcp_json_add(root, "code", cJSON_CreateString(code));
    ok &= pcp_json_add(root, "name", name ? cJSON_CreateString(name) : cJSON_CreateNull());
    ok &= pcp_json_add(root, "direction", cJSON_CreateString(m->response ? "response" : "request"));
    ok &= pcp_json_add(root, "from",
                       cJSON_CreateString(pcp_json_from_device(m) ? "device" : "platform"));
    ok &= pcp_json_add(root, "version", cJSON_CreateNumber(m->version));
    ok &= pcp_json_add(root, "check", pcp_json_hex16(m->check));
    ok &= pcp_json_add(root, "length", cJSON_CreateNumber(m->length));
    ok &= pcp_json_add_data(data, m);
    cJSON_AddItemToObject(root, "data", data);
    data = NULL;
    if (ok)
        return root;
fail:
    cJSON_Delete(root);
    cJSON_Delete(data);
    return NULL;
}

/* --- from JSON ----------------------------------------------------------- */

struct pcp_json_ctx {
    char *errbuf;
    size_t errcap;
};

#if defined(__GNUC__)
__attribute__((format(printf, 2, 3)))
#endif
static enum pcp_rc pcp_json_err(struct pcp_json_ctx *c, const char *fmt, ...)
{
    if (c->errbuf && c->errcap) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(c->errbuf, c->errcap, fmt, ap);
        va_end(ap);
    }
    return PCP_E_VALUE;
}

static bool pcp_json_uint(const cJSON *it, unsigned max, unsigned *out)
{
    if (!cJSON_IsNumber(it))
        return false;
    double v = it->valuedouble;
    if (!(v >= 0 && v <= max) || floor(v) != v)
        return false;
    *out = (unsigned)v;
    return true;
}

/* "0x1234" (1 to 4 hex digits, either case) or a plain integer. */
static bool pcp_json_hexnum(const cJSON *it, unsigned max, unsigned *out)
{
    if (pcp_json_uint(it, max, out))
        return true;
    if (!cJSON_IsString(it))
        return false;
    const char *s = it->valuestring;
    if (s[0] != '0' || (s[1] != 'x' && s[1] != 'X'))
        return false;
    size_t nd = strlen(s + 2);
    if (nd < 1 || nd > 4)
        return false;
    unsigned v = 0;
    for (const char *p = s + 2; *p; p++) {
        char ch = *p;
        int d = ch >= '0' && ch <= '9'   ? ch - '0'
                : ch >= 'a' && ch <= 'f' ? ch - 'a' + 10
                : ch >= 'A' && ch <= 'F' ? ch - 'A' + 10
                                         : -1;
        if (d < 0)
            return false;
        v = v << 4 | (unsigned)d;
    }
    if (v > max)
        return false;
    *out = v;
    return true;
}

/* Unknown and duplicated keys of obj; allowed is a NULL-terminated list. */
static enum pcp_rc pcp_json_keys(struct pcp_json_ctx *c, const cJSON *obj, const char *prefix,
                                 const char *const *allowed)
{
    const cJSON *it;
    cJSON_ArrayForEach(it, obj) {
        bool known = false;
        for (size_t i = 0; allowed[i]; i++)
            known |= strcmp(it->string, allowed[i]) == 0;
        if (!known)
            return pcp_json_err(c, "%s%s: unknown field", prefix, it->string);
        if (cJSON_GetObjectItemCaseSensitive(obj, it->string) != it)
            return pcp_json_err(c, "%s%s: duplicate field", prefix, it->string);
    }
    return PCP_OK;
}

static enum pcp_rc pcp_json_version_str(struct pcp_json_ctx *c, const cJSON *it, char *out)
{
    if (!cJSON_IsString(it))
        return pcp_json_err(c, "data.version: expected a string");
    size_t n = strlen(it->valuestring);
    if (n > PCP_VERSION_LEN)
        return pcp_json_err(c, "data.version: %zu bytes, at most %d fit", n, PCP_VERSION_LEN);
    memcpy(out, it->valuestring, n + 1);
    return PCP_OK;
}

static enum pcp_rc pcp_json_chunk(struct pcp_json_ctx *c, const cJSON *it, struct pcp_msg *m,
                                  uint8_t *store, size_t cap)
{
    char msg[128];
    size_t pos = 0, n = 0;

    if (!cJSON_IsString(it))
        return pcp_json_err(c, "data.chunk: expected a hex string");
    const char *s = it->valuestring;
    size_t slen = strlen(s);
    enum hex_rc hrc = hex_decode(s, slen, HEX_SPACES, NULL, 0, &n, &pos);
    if (hrc != HEX_OK) {
        hex_format_error(hrc, s, slen, pos, msg, sizeof(msg));
        return pcp_json_err(c, "data.chunk: %s", msg);
    }
    if (n > cap) {
        pcp_json_err(c, "data.chunk: %zu bytes do not fit the %zu-byte store", n, cap);
        return PCP_E_NOSPACE;
    }
    if (n > 0 && hex_decode(s, slen, HEX_SPACES, store, cap, &n, &pos) != HEX_OK)
        return pcp_json_err(c, "data.chunk: cannot be decoded");
    m->chunk = n > 0 ? store : NULL;
    m->chunk_len = n;
    return PCP_OK;
}

static enum pcp_rc pcp_json_data(struct pcp_json_ctx *c, const cJSON *data, struct pcp_msg *m,
                                 uint8_t *store, size_t cap)
{
    unsigned shape = pcp_json_shape(m->code, m->response);
    const char *allowed[9];
    size_t na = 0;
    unsigned v = 0;
    enum pcp_rc rc;

    if (!data) {
        if (shape == 0)
            return PCP_OK;
        return pcp_json_err(c, "data: missing (%s %s has fields)", pcp_code_name(m->code),
                            m->response ? "response" : "request");
    }
    if (!cJSON_IsObject(data))
        return pcp_json_err(c, "data: expected an object");
    for (size_t i = 0; i < sizeof(pcp_json_fields) / sizeof(pcp_json_fields[0]); i++)
        if (shape & pcp_json_fields[i].bit)
            allowed[na++] = pcp_json_fields[i].name;
    allowed[na] = NULL;
    if ((rc = pcp_json_keys(c, data, "data.", allowed)) != PCP_OK)
        return rc;

    /* chunk's presence depends on result, so it is checked after the loop */
    for (size_t i = 0; i < na; i++) {
        const char *key = allowed[i];
        const cJSON *it = cJSON_GetObjectItemCaseSensitive(data, key);
        if (strcmp(key, "chunk") == 0)
            continue;
        if (!it)
            return pcp_json_err(c, "data.%s: missing", key);
        if (strcmp(key, "result") == 0 || strcmp(key, "status") == 0) {
            if (!pcp_json_uint(it, 0xFF, &v))
                return pcp_json_err(c, "data.%s: expected an integer 0..255", key);
            m->result = (uint8_t)v;
        } else if (strcmp(key, "version") == 0) {
            if ((rc = pcp_json_version_str(c, it, m->version_str)) != PCP_OK)
                return rc;
        } else if (strcmp(key, "check_code") == 0) {
            if (!pcp_json_hexnum(it, 0xFFFF, &v))
                return pcp_json_err(c, "data.check_code: expected \"0xHHHH\" or an integer 0..65535");
            m->check_code = (uint16_t)v;
        } else {
            if (!pcp_json_uint(it, 0xFFFF, &v))
                return pcp_json_err(c, "data.%s: expected an integer 0..65535", key);
            if (strcmp(key, "chunk_size") == 0)
                m->chunk_size = (uint16_t)v;
            else if (strcmp(key, "chunk_count") == 0)
                m->chunk_count = (uint16_t)v;
            else
                m->chunk_index = (uint16_t)v;
        }
    }
    if (shape & F_CHUNK) {
        const cJSON *it = cJSON_GetObjectItemCaseSensitive(data, "chunk");
        if (m->result != 0x00 && it)
            return pcp_json_err(c, "data.chunk: only allowed when result is 0");
        if (m->result == 0x00 && !it)
            return pcp_json_err(c, "data.chunk: missing (result 0 carries the chunk)");
        if (it)
            return pcp_json_chunk(c, it, m, store, cap);
    }
    return PCP_OK;
}

/* Turn pcp_check's verdict into a sentence about the JSON field. */
static enum pcp_rc pcp_json_checked(struct pcp_json_ctx *c, const struct pcp_msg *m)
{
    struct pcp_err e;
    if (pcp_check(m, &e) == PCP_OK)
        return PCP_OK;
    const char *dir = m->response ? "response" : "request";
    if (strcmp(e.field, "version") == 0)
        return pcp_json_err(c, "version: 0x%02X: the low nibble (protocol version) must be 1",
                            m->version);
    if (strcmp(e.field, "data.result") == 0 || strcmp(e.field, "data.status") == 0)
        return pcp_json_err(c, "%s: %u (0x%02X) is not allowed in a %s %s", e.field, m->result,
                            m->result, pcp_code_name(m->code), dir);
    if (strcmp(e.field, "data.version") == 0)
        return pcp_json_err(c, "data.version: only printable ASCII (0x20..0x7E) is allowed");
    if (strcmp(e.field, "data.chunk") == 0 && e.rc == PCP_E_LENGTH)
        return pcp_json_err(c, "data.chunk: %zu bytes, at most %d fit in a frame", m->chunk_len,
                            PCP_MAX_DATA - 3);
    return pcp_json_err(c, "%s: %s", e.field, pcp_rc_text(e.rc));
}

enum pcp_rc pcp_from_json(const cJSON *j, struct pcp_msg *m, uint8_t *store, size_t cap,
                          char *errbuf, size_t errcap)
{
    static const char *const top[] = {"code", "name", "direction", "from", "version",
                                      "check", "length", "data", NULL};
    struct pcp_json_ctx c = {errbuf, errcap};
    const cJSON *it;
    unsigned v = 0;
    enum pcp_rc rc;

    memset(m, 0, sizeof(*m));
    if (errbuf && errcap)
        errbuf[0] = '\0';
    if (!cJSON_IsObject(j))
        return pcp_json_err(&c, "(top): expected a JSON object");
    if ((rc = pcp_json_keys(&c, j, "", top)) != PCP_OK)
        return rc;

    it = cJSON_GetObjectItemCaseSensitive(j, "code");
    if (!it)
        return pcp_json_err(&c, "code: missing");
    if (!pcp_json_hexnum(it, 0xFF, &v))
        return pcp_json_err(&c, "code: expected \"0xHH\" or an integer 0..255");
    if (!pcp_code_name((uint8_t)v))
        return pcp_json_err(&c, "code: 0x%02X is not a PCP message code (0x13..0x18)", v);
    m->code = (uint8_t)v;

    const cJSON *dir = cJSON_GetObjectItemCaseSensitive(j, "direction");
    const cJSON *from = cJSON_GetObjectItemCaseSensitive(j, "from");
    if (!dir && !from)
        return pcp_json_err(&c, "direction: missing (give \"direction\" or \"from\")");
    if (dir) {
        if (!cJSON_IsString(dir) ||
            (strcmp(dir->valuestring, "request") != 0 && strcmp(dir->valuestring, "response") != 0))
            return pcp_json_err(&c, "direction: expected \"request\" or \"response\"");
        m->response = strcmp(dir->valuestring, "response") == 0;
    }
    if (from) {
        if (!cJSON_IsString(from) ||
            (strcmp(from->valuestring, "device") != 0 && strcmp(from->valuestring, "platform") != 0))
            return pcp_json_err(&c, "from: expected \"device\" or \"platform\"");
        bool from_device = strcmp(from->valuestring, "device") == 0;
        bool response = pcp_is_response(m->code, from_device);
        if (dir && response != m->response)
            return pcp_json_err(&c, "from: a 0x%02X %s comes from the %s, not the %s", m->code,
                                m->response ? "response" : "request",
                                from_device ? "platform" : "device", from->valuestring);
        m->response = response;
    }

    it = cJSON_GetObjectItemCaseSensitive(j, "name");
    if (it) {
        const char *want = pcp_code_name(m->code);
        if (!cJSON_IsString(it))
            return pcp_json_err(&c, "name: expected a string");
        if (strcmp(it->valuestring, want) != 0)
            return pcp_json_err(&c, "name: \"%s\" does not match code 0x%02X (\"%s\")",
                                it->valuestring, m->code, want);
    }

    m->version = 1;
    it = cJSON_GetObjectItemCaseSensitive(j, "version");
    if (it) {
        if (!pcp_json_uint(it, 0xFF, &v))
            return pcp_json_err(&c, "version: expected an integer 0..255");
        m->version = (uint8_t)v;
    }
    it = cJSON_GetObjectItemCaseSensitive(j, "check");
    if (it) {
        if (!pcp_json_hexnum(it, 0xFFFF, &v))
            return pcp_json_err(&c, "check: expected \"0xHHHH\" or an integer 0..65535");
        m->check = (uint16_t)v;
    }
    it = cJSON_GetObjectItemCaseSensitive(j, "length");
    if (it) {
        if (!pcp_json_uint(it, 0xFFFF, &v))
            return pcp_json_err(&c, "length: expected an integer 0..65535");
        m->length = (uint16_t)v;
    }

    rc = pcp_json_data(&c, cJSON_GetObjectItemCaseSensitive(j, "data"), m, store, cap);
    if (rc != PCP_OK)
        return rc;
    return pcp_json_checked(&c, m);
}
