/* Golden vector files: validation, the two-way check and the verdict table.
 *
 * A file is validated as a whole before any entry runs, so a typo in entry 7 is
 * reported as a harness error (exit 2) with its JSON path and never shows up as a
 * failure of the codec under test. */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "harness/vectors.h"
#include "harness/textfile.h"
#include "sim/proto/hex.h"

#define VECTORS_MAX_FILE (64u << 20)

/* --- small helpers ----------------------------------------------------------- */

#if defined(__GNUC__)
__attribute__((format(printf, 3, 4)))
#endif
static int vectors_err(char *err, size_t errcap, const char *fmt, ...)
{
    if (err && errcap) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, errcap, fmt, ap);
        va_end(ap);
    }
    return -1;
}

/* A growing string for details. */
struct vectors_buf {
    char s[1024];
    size_t n;
};

#if defined(__GNUC__)
__attribute__((format(printf, 2, 3)))
#endif
static void vectors_buf_add(struct vectors_buf *b, const char *fmt, ...)
{
    if (b->n >= sizeof(b->s) - 1)
        return;
    va_list ap;
    va_start(ap, fmt);
    int w = vsnprintf(b->s + b->n, sizeof(b->s) - b->n, fmt, ap);
    va_end(ap);
    if (w > 0)
        b->n += (size_t)w < sizeof(b->s) - b->n ? (size_t)w : sizeof(b->s) - 1 - b->n;
}

/* A JSON value for a detail line, cut to keep rows readable. */
static void vectors_show(const cJSON *v, char *out, size_t cap)
{
    if (!v) {
        snprintf(out, cap, "(absent)");
        return;
    }
    char *s = cJSON_PrintUnformatted(v);
    if (!s) {
        snprintf(out, cap, "?");
        return;
    }
    if (strlen(s) > 60)
        snprintf(out, cap, "%.57s...", s);
    else
        snprintf(out, cap, "%s", s);
    cJSON_free(s);
}

static void vectors_path_join(char *out, size_t cap, const char *base, const char *key)
{
    if (!base[0])
        snprintf(out, cap, "%s", key);
    else
        snprintf(out, cap, "%s.%s", base, key);
}

static void vectors_diff_line(struct vectors_buf *b, const char *path, const cJSON *exp,
                              const cJSON *obs)
{
    char e[80], o[80];
    vectors_show(exp, e, sizeof(e));
    vectors_show(obs, o, sizeof(o));
    vectors_buf_add(b, "%s: expected %s / observed %s", path[0] ? path : "(top)", e, o);
}

/* Describe the first difference between expected and observed JSON. */
static bool vectors_json_diff(const cJSON *exp, const cJSON *obs, const char *path,
                              struct vectors_buf *b)
{
    char sub[256];
    const cJSON *e, *o;

    if (cJSON_Compare(exp, obs, true))
        return false;
    if (cJSON_IsObject(exp) && cJSON_IsObject(obs)) {
        cJSON_ArrayForEach(e, exp) {
            vectors_path_join(sub, sizeof(sub), path, e->string);
            o = cJSON_GetObjectItemCaseSensitive(obs, e->string);
            if (!o) {
                vectors_diff_line(b, sub, e, NULL);
                return true;
            }
            if (vectors_json_diff(e, o, sub, b))
                return true;
        }
        cJSON_ArrayForEach(o, obs) {
            if (!cJSON_GetObjectItemCaseSensitive(exp, o->string)) {
                vectors_path_join(sub, sizeof(sub), path, o->string);
                vectors_diff_line(b, sub, NULL, o);
                return true;
            }
        }
    } else if (cJSON_IsArray(exp) && cJSON_IsArray(obs)) {
        int ne = cJSON_GetArraySize(exp), no = cJSON_GetArraySize(obs);
        for (int i = 0; i < ne && i < no; i++) {
            snprintf(sub, sizeof(sub), "%s[%d]", path, i);
            if (vectors_json_diff(cJSON_GetArrayItem(exp, i), cJSON_GetArrayItem(obs, i), sub, b))
                return true;
        }
        if (ne != no) {
            vectors_buf_add(b, "%s: expected %d elements / observed %d", path[0] ? path : "(top)",
                            ne, no);
            return true;
        }
    }
    vectors_diff_line(b, path, exp, obs);
    return true;
}

static void vectors_bytes_diff(const uint8_t *exp, size_t ne, const uint8_t *obs, size_t no,
                               struct vectors_buf *b)
{
    size_t i = 0;
    while (i < ne && i < no && exp[i] == obs[i])
        i++;
    if (i < ne && i < no) {
        size_t k = 0;
        for (size_t j = i; j < ne && j < no; j++)
            k += exp[j] != obs[j];
        vectors_buf_add(b, "byte %zu: expected %02X / observed %02X", i, exp[i], obs[i]);
        if (k > 1 || ne != no)
            vectors_buf_add(b, " (%zu bytes differ%s)", k, ne != no ? ", lengths too" : "");
    } else
        vectors_buf_add(b, "expected %zu bytes / observed %zu bytes", ne, no);
    if (no <= 64) {
        char hex[2 * 64 + 1];
        hex_encode(obs, no, hex, sizeof(hex));
        vectors_buf_add(b, " (observed frame %s)", hex);
    }
}

static char *vectors_strdup(const char *s)
{
    size_t n = strlen(s) + 1;
    char *d = malloc(n);
    if (d)
        memcpy(d, s, n);
    return d;
}

/* --- run bookkeeping ----------------------------------------------------------- */

void vectors_run_init(struct vectors_run *r)
{
    memset(r, 0, sizeof(*r));
}

void vectors_run_free(struct vectors_run *r)
{
    for (size_t i = 0; i < r->n_rows; i++) {
        free(r->rows[i].file);
        free(r->rows[i].name);
        free(r->rows[i].detail);
    }
    free(r->rows);
    memset(r, 0, sizeof(*r));
}

static int vectors_row_add(struct vectors_run *r, const char *file, const char *name,
                           enum vectors_verdict dec, enum vectors_verdict enc, const char *detail)
{
    if (r->n_rows == r->cap_rows) {
        size_t cap = r->cap_rows ? 2 * r->cap_rows : 16;
        struct vectors_row *rows = realloc(r->rows, cap * sizeof(*rows));
        if (!rows)
            return -1;
        r->rows = rows;
        r->cap_rows = cap;
    }
    struct vectors_row *row = &r->rows[r->n_rows];
    row->file = vectors_strdup(file);
    row->name = vectors_strdup(name);
    row->detail = vectors_strdup(detail);
    row->decode = dec;
    row->encode = enc;
    if (!row->file || !row->name || !row->detail) {
        free(row->file);
        free(row->name);
        free(row->detail);
        return -1;
    }
    r->n_rows++;
    if (dec == VECTORS_FAIL || enc == VECTORS_FAIL)
        r->n_fail++;
    else
        r->n_pass++;
    return 0;
}

/* --- validation ---------------------------------------------------------------- */

static bool vectors_key_in(const char *key, const char *const *allowed)
{
    for (size_t i = 0; allowed[i]; i++)
        if (strcmp(key, allowed[i]) == 0)
            return true;
    return false;
}

static int vectors_check_keys(const cJSON *obj, const char *label, const char *path,
                              const char *const *allowed, char *err, size_t errcap)
{
    const cJSON *it;
    cJSON_ArrayForEach(it, obj) {
        char sub[256];
        vectors_path_join(sub, sizeof(sub), path, it->string);
        if (!vectors_key_in(it->string, allowed))
            return vectors_err(err, errcap, "%s: %s: unknown field", label, sub);
        if (cJSON_GetObjectItemCaseSensitive(obj, it->string) != it)
            return vectors_err(err, errcap, "%s: %s: duplicate field", label, sub);
    }
    return 0;
}

static int vectors_need_string(const cJSON *obj, const char *key, bool required, const char *label,
                               const char *path, char *err, size_t errcap)
{
    const cJSON *it = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (!it) {
        if (!required)
            return 0;
        return vectors_err(err, errcap, "%s: %s.%s: missing", label, path, key);
    }
    if (!cJSON_IsString(it) || !it->valuestring[0])
        return vectors_err(err, errcap, "%s: %s.%s: expected a non-empty string", label, path, key);
    return 0;
}

static int vectors_validate_entry(const cJSON *v, int i, const struct vectors_codec *codec,
                                  const cJSON *all, const cJSON *pems, const char *label, char *err,
                                  size_t errcap)
{
    static const char *const keys[] = {"name",  "source", "hex",  "fields",      "error",
                                       "from",  "note",   "fragment_of", "key", NULL};
    static const char *const error_keys[] = {"code", "offset", "field", NULL};
    char path[64], msg[160];
    size_t pos = 0, n = 0;

    snprintf(path, sizeof(path), "vectors[%d]", i);
    if (!cJSON_IsObject(v))
        return vectors_err(err, errcap, "%s: %s: expected an object", label, path);
    if (vectors_check_keys(v, label, path, keys, err, errcap) < 0)
        return -1;
    if (vectors_need_string(v, "name", true, label, path, err, errcap) < 0 ||
        vectors_need_string(v, "source", true, label, path, err, errcap) < 0)
        return -1;
    const char *name = cJSON_GetObjectItemCaseSensitive(v, "name")->valuestring;
    int j = 0;
    const cJSON *w;
    cJSON_ArrayForEach(w, all) {
        if (j >= i)
            break;
        const cJSON *wn = cJSON_GetObjectItemCaseSensitive(w, "name");
        if (cJSON_IsString(wn) && strcmp(wn->valuestring, name) == 0)
            return vectors_err(err, errcap, "%s: %s.name: \"%s\" is already the name of vectors[%d]",
                               label, path, name, j);
        j++;
    }

    const cJSON *hex = cJSON_GetObjectItemCaseSensitive(v, "hex");
    if (!hex)
        return vectors_err(err, errcap, "%s: %s.hex: missing", label, path);
    if (!cJSON_IsString(hex))
        return vectors_err(err, errcap, "%s: %s.hex: expected a string of hex digits", label, path);
    size_t hlen = strlen(hex->valuestring);
    enum hex_rc hrc = hex_decode(hex->valuestring, hlen, HEX_SPACES, NULL, 0, &n, &pos);
    if (hrc != HEX_OK) {
        hex_format_error(hrc, hex->valuestring, hlen, pos, msg, sizeof(msg));
        return vectors_err(err, errcap, "%s: %s.hex: %s", label, path, msg);
    }

    const cJSON *fields = cJSON_GetObjectItemCaseSensitive(v, "fields");
    const cJSON *error = cJSON_GetObjectItemCaseSensitive(v, "error");
    if (!fields == !error)
        return vectors_err(err, errcap, "%s: %s: needs exactly one of \"fields\" and \"error\"",
                           label, path);
    if (fields && !cJSON_IsObject(fields))
        return vectors_err(err, errcap, "%s: %s.fields: expected an object", label, path);
    if (error) {
        char epath[80];
        snprintf(epath, sizeof(epath), "%s.error", path);
        if (!cJSON_IsObject(error))
            return vectors_err(err, errcap, "%s: %s: expected an object", label, epath);
        if (vectors_check_keys(error, label, epath, error_keys, err, errcap) < 0 ||
            vectors_need_string(error, "code", true, label, epath, err, errcap) < 0 ||
            vectors_need_string(error, "field", false, label, epath, err, errcap) < 0)
            return -1;
        const char *code = cJSON_GetObjectItemCaseSensitive(error, "code")->valuestring;
        if (!codec->rc_known(code) || strcmp(code, "ok") == 0)
            return vectors_err(err, errcap, "%s: %s.code: \"%s\" is not a %s error name", label,
                               epath, code, codec->protocol);
        const cJSON *off = cJSON_GetObjectItemCaseSensitive(error, "offset");
        if (!off)
            return vectors_err(err, errcap, "%s: %s.offset: missing", label, epath);
        if (!cJSON_IsNumber(off) || off->valuedouble < 0 || off->valuedouble > 1e9 ||
            floor(off->valuedouble) != off->valuedouble)
            return vectors_err(err, errcap, "%s: %s.offset: expected a byte offset (integer >= 0)",
                               label, epath);
    }

    const cJSON *from = cJSON_GetObjectItemCaseSensitive(v, "from");
    if (codec->has_from) {
        if (!from)
            return vectors_err(err, errcap, "%s: %s.from: missing (\"device\" or \"platform\")",
                               label, path);
        if (!cJSON_IsString(from) || (strcmp(from->valuestring, "device") != 0 &&
                                      strcmp(from->valuestring, "platform") != 0))
            return vectors_err(err, errcap, "%s: %s.from: expected \"device\" or \"platform\"",
                               label, path);
    } else if (from) {
        return vectors_err(err, errcap, "%s: %s.from: %s frames carry no direction", label, path,
                           codec->protocol);
    }
    if (vectors_need_string(v, "note", false, label, path, err, errcap) < 0 ||
        vectors_need_string(v, "fragment_of", false, label, path, err, errcap) < 0 ||
        vectors_need_string(v, "key", false, label, path, err, errcap) < 0)
        return -1;
    const cJSON *key = cJSON_GetObjectItemCaseSensitive(v, "key");
    if (key && !codec->decode_key)
        return vectors_err(err, errcap, "%s: %s.key: %s frames carry no encrypted bodies", label, path,
                           codec->protocol);
    if (key && !cJSON_IsString(cJSON_GetObjectItemCaseSensitive(pems, key->valuestring)))
        return vectors_err(err, errcap, "%s: %s.key: \"%s\" is not one of the file's \"keys\"", label, path,
                           key->valuestring);
    const cJSON *whole = cJSON_GetObjectItemCaseSensitive(v, "fragment_of");
    if (whole) {
        bool found = false;
        cJSON_ArrayForEach(w, all) {
            const cJSON *wn = cJSON_GetObjectItemCaseSensitive(w, "name");
            if (w != v && cJSON_IsString(wn) && strcmp(wn->valuestring, whole->valuestring) == 0)
                found = true;
        }
        if (!found)
            return vectors_err(err, errcap, "%s: %s.fragment_of: no other vector is named \"%s\"",
                               label, path, whole->valuestring);
    }
    return 0;
}

static int vectors_validate(const cJSON *root, const char *label,
                            const struct vectors_codec **codec, char *err, size_t errcap)
{
    static const char *const keys[] = {"protocol", "source", "note", "keys", "vectors", "profile", NULL};

    if (!cJSON_IsObject(root))
        return vectors_err(err, errcap, "%s: (top): expected an object", label);
    if (vectors_check_keys(root, label, "", keys, err, errcap) < 0)
        return -1;
    const cJSON *proto = cJSON_GetObjectItemCaseSensitive(root, "protocol");
    if (!proto)
        return vectors_err(err, errcap, "%s: protocol: missing (\"jt808\", \"pcp\" or \"pcodec\")", label);
    if (!cJSON_IsString(proto) || !(*codec = vectors_codec_find(proto->valuestring)))
        return vectors_err(err, errcap, "%s: protocol: expected \"jt808\", \"pcp\" or \"pcodec\"", label);
    const cJSON *profile = cJSON_GetObjectItemCaseSensitive(root, "profile");
    if (profile && !(*codec)->load)
        return vectors_err(err, errcap, "%s: profile: %s frames need no product file", label, (*codec)->protocol);
    if ((*codec)->load) {
        if (!cJSON_IsString(profile))
            return vectors_err(err, errcap, "%s: profile: %s (the product file whose codec the vectors are of)",
                               label, profile ? "expected a path" : "missing");
        char dir[1024], lerr[800];
        snprintf(dir, sizeof dir, "%s", label);
        char *slash = strrchr(dir, '/');
        if (slash)
            *slash = 0;
        else
            snprintf(dir, sizeof dir, ".");
        if ((*codec)->load(profile->valuestring, dir, lerr, sizeof lerr) < 0)
            return vectors_err(err, errcap, "%s: %s", label, lerr);
    }
    const cJSON *src = cJSON_GetObjectItemCaseSensitive(root, "source");
    if (!src)
        return vectors_err(err, errcap, "%s: source: missing", label);
    if (!cJSON_IsString(src) || !src->valuestring[0])
        return vectors_err(err, errcap, "%s: source: expected a non-empty string", label);
    const cJSON *note = cJSON_GetObjectItemCaseSensitive(root, "note");
    if (note && !cJSON_IsString(note))
        return vectors_err(err, errcap, "%s: note: expected a string", label);
    /* "keys": {"name": "PEM text of a private key"}, named by the entries' "key" */
    const cJSON *pems = cJSON_GetObjectItemCaseSensitive(root, "keys"), *pem;
    if (pems && !cJSON_IsObject(pems))
        return vectors_err(err, errcap, "%s: keys: expected an object of PEM texts by name", label);
    cJSON_ArrayForEach(pem, pems) {
        if (!cJSON_IsString(pem) || !strstr(pem->valuestring, "-----BEGIN "))
            return vectors_err(err, errcap, "%s: keys.%s: expected the PEM text of a private key", label,
                               pem->string);
    }
    const cJSON *vectors = cJSON_GetObjectItemCaseSensitive(root, "vectors");
    if (!vectors)
        return vectors_err(err, errcap, "%s: vectors: missing", label);
    if (!cJSON_IsArray(vectors))
        return vectors_err(err, errcap, "%s: vectors: expected an array", label);
    if (cJSON_GetArraySize(vectors) == 0)
        return vectors_err(err, errcap, "%s: vectors: empty", label);
    int i = 0;
    const cJSON *v;
    cJSON_ArrayForEach(v, vectors) {
        if (vectors_validate_entry(v, i, *codec, vectors, pems, label, err, errcap) < 0)
            return -1;
        i++;
    }
    return 0;
}

/* --- checking one entry -------------------------------------------------------- */

static void vectors_show_error(struct vectors_buf *b, const char *code, size_t offset,
                               const char *field)
{
    vectors_buf_add(b, "error %s at byte %zu", code, offset);
    if (field && field[0])
        vectors_buf_add(b, " (%s)", field);
}

static int vectors_check_entry(struct vectors_run *r, const char *label,
                               const struct vectors_codec *codec, const cJSON *root, const cJSON *v)
{
    const cJSON *key = cJSON_GetObjectItemCaseSensitive(v, "key");
    const char *pem = key ? cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(root, "keys"),
                                                              key->valuestring)->valuestring
                          : NULL;
    const char *name = cJSON_GetObjectItemCaseSensitive(v, "name")->valuestring;
    const char *hexs = cJSON_GetObjectItemCaseSensitive(v, "hex")->valuestring;
    const cJSON *fields = cJSON_GetObjectItemCaseSensitive(v, "fields");
    const cJSON *error = cJSON_GetObjectItemCaseSensitive(v, "error");
    const cJSON *from = cJSON_GetObjectItemCaseSensitive(v, "from");
    bool from_device = from && strcmp(from->valuestring, "device") == 0;
    enum vectors_verdict dec = VECTORS_OK, enc = VECTORS_NA;
    struct vectors_buf detail = {.n = 0};
    struct vectors_error e = {0};
    cJSON *got = NULL;
    size_t hlen = strlen(hexs), n = 0;
    uint8_t *frame = malloc(hlen / 2 + 1);
    int ret;

    detail.s[0] = '\0';
    if (!frame)
        return -1;
    hex_decode(hexs, hlen, HEX_SPACES, frame, hlen / 2 + 1, &n, NULL);  /* validated already */
    int drc = pem ? codec->decode_key(frame, n, pem, &got, &e) : codec->decode(frame, n, from_device, &got, &e);

    if (error) {
        const char *want_code = cJSON_GetObjectItemCaseSensitive(error, "code")->valuestring;
        size_t want_off = (size_t)cJSON_GetObjectItemCaseSensitive(error, "offset")->valuedouble;
        const cJSON *wf = cJSON_GetObjectItemCaseSensitive(error, "field");
        const char *want_field = wf ? wf->valuestring : NULL;
        bool match = drc != 0 && strcmp(e.code, want_code) == 0 && e.offset == want_off &&
                     (!want_field || strcmp(want_field, e.field ? e.field : "") == 0);
        if (!match) {
            dec = VECTORS_FAIL;
            vectors_buf_add(&detail, "expected ");
            vectors_show_error(&detail, want_code, want_off, want_field);
            vectors_buf_add(&detail, " / observed ");
            if (drc == 0)
                vectors_buf_add(&detail, "a valid frame");
            else
                vectors_show_error(&detail, e.code, e.offset, e.field);
        }
    } else {
        if (drc != 0) {
            dec = VECTORS_FAIL;
            vectors_buf_add(&detail, "expected fields / observed ");
            vectors_show_error(&detail, e.code, e.offset, e.field);
            vectors_buf_add(&detail, ": %s", e.text);
        } else if (vectors_json_diff(fields, got, "", &detail)) {
            dec = VECTORS_FAIL;
        }

        uint8_t out[VECTORS_MAX_FRAME];
        size_t out_len = 0;
        char eerr[256] = "";
        enc = VECTORS_OK;
        /* A frame that deviates is not what an encoder writes: decode only. */
        if (cJSON_GetObjectItemCaseSensitive(fields, "deviations"))
            enc = VECTORS_NA;
        else if (pem && cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(fields, "decrypted"))) {
            /* encrypted with random padding: the frame written must decode to the fields again */
            cJSON *again = NULL;
            struct vectors_error e2 = {0};
            if (codec->encode_key(fields, pem, out, sizeof(out), &out_len, eerr, sizeof(eerr)) != 0) {
                enc = VECTORS_FAIL;
                vectors_buf_add(&detail, "%sencode: %s", detail.n ? "; " : "", eerr);
            } else if (codec->decode_key(out, out_len, pem, &again, &e2) != 0) {
                enc = VECTORS_FAIL;
                vectors_buf_add(&detail, "%sencode: the frame written does not decode: ", detail.n ? "; " : "");
                vectors_show_error(&detail, e2.code, e2.offset, e2.field);
            } else {
                struct vectors_buf d2 = {.n = 0};
                d2.s[0] = '\0';
                if (vectors_json_diff(fields, again, "", &d2)) {
                    enc = VECTORS_FAIL;
                    vectors_buf_add(&detail, "%sencode, decoded again: %s", detail.n ? "; " : "", d2.s);
                }
            }
            cJSON_Delete(again);
        } else if (codec->encode(fields, out, sizeof(out), &out_len, eerr, sizeof(eerr)) != 0) {
            enc = VECTORS_FAIL;
            vectors_buf_add(&detail, "%sencode: %s", detail.n ? "; " : "", eerr);
        } else if (out_len != n || memcmp(out, frame, n) != 0) {
            enc = VECTORS_FAIL;
            vectors_buf_add(&detail, "%sencode: ", detail.n ? "; " : "");
            vectors_bytes_diff(frame, n, out, out_len, &detail);
        }
    }
    ret = vectors_row_add(r, label, name, dec, enc, detail.s);
    cJSON_Delete(got);
    free(frame);
    return ret;
}

/* --- files --------------------------------------------------------------------- */

/* Line and column (from 1) of pos in text, and a short excerpt there. */
static void vectors_syntax_error(const char *label, const char *text, size_t pos, char *err,
                                 size_t errcap)
{
    size_t line = 1, col = 1;
    char near[24];
    size_t k = 0;

    for (size_t i = 0; i < pos && text[i]; i++) {
        if (text[i] == '\n') {
            line++;
            col = 1;
        } else {
            col++;
        }
    }
    for (size_t i = pos; text[i] && k < 16; i++)
        near[k++] = (text[i] >= 0x20 && text[i] < 0x7F) ? text[i] : ' ';
    near[k] = '\0';
    if (k == 0)
        vectors_err(err, errcap, "%s:%zu:%zu: JSON syntax error at end of file", label, line, col);
    else
        vectors_err(err, errcap, "%s:%zu:%zu: JSON syntax error near '%s'", label, line, col, near);
}

cJSON *vectors_parse_json(const char *label, const char *text, size_t len, char *err,
                          size_t errcap)
{
    const char *end = NULL;

    if (strnlen(text, len) != len) {
        vectors_err(err, errcap, "%s: NUL byte at offset %zu", label, strnlen(text, len));
        return NULL;
    }
    cJSON *root = cJSON_ParseWithOpts(text, &end, 1);
    if (!root)
        vectors_syntax_error(label, text, end ? (size_t)(end - text) : 0, err, errcap);
    return root;
}

static uint8_t *vectors_hex_of(const cJSON *v, size_t *n)
{
    const char *h = cJSON_GetObjectItemCaseSensitive(v, "hex")->valuestring;
    size_t hl = strlen(h);
    uint8_t *b = malloc(hl / 2 + 1);
    if (b)
        hex_decode(h, hl, HEX_SPACES, b, hl / 2 + 1, n, NULL); /* validated already */
    return b;
}

/* One row per message that fragments name: do they reassemble into it? */
static int vectors_check_fragments(struct vectors_run *r, const char *label, const struct vectors_codec *codec,
                                   const cJSON *root)
{
    const cJSON *all = cJSON_GetObjectItemCaseSensitive(root, "vectors"), *w, *f;
    cJSON_ArrayForEach(w, all) {
        const char *name = cJSON_GetObjectItemCaseSensitive(w, "name")->valuestring;
        const uint8_t *frags[64];
        size_t lens[64], n = 0;
        int ret = 0;
        const char *pem = NULL; /* the fragments' key (encrypted packages), the first one's */
        cJSON_ArrayForEach(f, all) {
            const cJSON *of = cJSON_GetObjectItemCaseSensitive(f, "fragment_of");
            if (!cJSON_IsString(of) || strcmp(of->valuestring, name) != 0 || n == 64)
                continue;
            const cJSON *key = cJSON_GetObjectItemCaseSensitive(f, "key");
            if (!pem && cJSON_IsString(key))
                pem = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(root, "keys"),
                                                       key->valuestring)->valuestring; /* validated already */
            frags[n] = vectors_hex_of(f, &lens[n]);
            if (!frags[n])
                ret = -1;
            else
                n++;
        }
        if (n) {
            size_t wl = 0;
            uint8_t *whole = vectors_hex_of(w, &wl);
            char detail[256] = "", row[300];
            if (!whole) {
                ret = -1;
            } else {
                int ok = codec->reassemble(frags, lens, n, whole, wl, pem, detail, sizeof detail) == 0;
                snprintf(row, sizeof row, "%s [reassembled from %zu fragments]", name, n);
                if (vectors_row_add(r, label, row, ok ? VECTORS_OK : VECTORS_FAIL, VECTORS_NA, detail) < 0)
                    ret = -1;
            }
            free(whole);
        }
        for (size_t i = 0; i < n; i++)
            free((void *)frags[i]);
        if (ret < 0)
            return -1;
    }
    return 0;
}

int vectors_run_text(struct vectors_run *r, const char *label, const char *text, size_t len,
                     char *err, size_t errcap)
{
    const struct vectors_codec *codec = NULL;
    int ret = -1;

    cJSON *root = vectors_parse_json(label, text, len, err, errcap);
    if (!root)
        return -1;
    if (vectors_validate(root, label, &codec, err, errcap) < 0)
        goto done;

    size_t first = r->n_rows;
    int pass0 = r->n_pass, fail0 = r->n_fail;
    const cJSON *v;
    cJSON_ArrayForEach(v, cJSON_GetObjectItemCaseSensitive(root, "vectors")) {
        if (vectors_check_entry(r, label, codec, root, v) < 0) {
            /* roll back this file's rows so a half-checked file never counts */
            while (r->n_rows > first) {
                struct vectors_row *row = &r->rows[--r->n_rows];
                free(row->file);
                free(row->name);
                free(row->detail);
            }
            r->n_pass = pass0;
            r->n_fail = fail0;
            vectors_err(err, errcap, "%s: out of memory", label);
            goto done;
        }
    }
    if (codec->reassemble && vectors_check_fragments(r, label, codec, root) < 0) {
        vectors_err(err, errcap, "%s: out of memory", label);
        goto done;
    }
    r->n_files++;
    ret = 0;
done:
    cJSON_Delete(root);
    return ret;
}

int vectors_run_file(struct vectors_run *r, const char *path, char *err, size_t errcap)
{
    char *text;
    size_t len;
    int rc = textfile_read(path, VECTORS_MAX_FILE, &text, &len);
    if (rc == EFBIG)
        return vectors_err(err, errcap, "%s: larger than %u MiB", path, VECTORS_MAX_FILE >> 20);
    if (rc == ENOMEM)
        return vectors_err(err, errcap, "%s: out of memory", path);
    if (rc == EISDIR || rc == EIO)
        return vectors_err(err, errcap, "%s: read error: %s", path, strerror(rc));
    if (rc)
        return vectors_err(err, errcap, "%s: cannot open: %s", path, strerror(rc));
    int ret = vectors_run_text(r, path, text, len, err, errcap);
    free(text);
    return ret;
}

/* --- output -------------------------------------------------------------------- */

static const char *vectors_verdict_str(enum vectors_verdict v)
{
    switch (v) {
    case VECTORS_OK: return "ok";
    case VECTORS_FAIL: return "FAIL";
    case VECTORS_NA: return "-";
    }
    return "?";
}

/* Columns a UTF-8 string takes (one per code point: names and paths may carry §). */
static size_t vectors_width(const char *s)
{
    size_t w = 0;
    for (; *s; s++)
        w += ((unsigned char)*s & 0xC0) != 0x80;
    return w;
}

static void vectors_cell(FILE *out, const char *s, size_t width)
{
    fputs(s, out);
    for (size_t w = vectors_width(s); w < width + 2; w++)
        fputc(' ', out);
}

void vectors_print(const struct vectors_run *r, FILE *out, bool failures_only)
{
    size_t wf = strlen("FILE"), wn = strlen("NAME");
    int shown = 0;

    for (size_t i = 0; i < r->n_rows; i++) {
        const struct vectors_row *row = &r->rows[i];
        if (failures_only && row->decode != VECTORS_FAIL && row->encode != VECTORS_FAIL)
            continue;
        if (vectors_width(row->file) > wf)
            wf = vectors_width(row->file);
        if (vectors_width(row->name) > wn)
            wn = vectors_width(row->name);
        shown++;
    }
    if (shown > 0) {
        vectors_cell(out, "FILE", wf);
        vectors_cell(out, "NAME", wn);
        fprintf(out, "%-6s  %-6s  %s\n", "DECODE", "ENCODE", "DETAIL");
        for (size_t i = 0; i < r->n_rows; i++) {
            const struct vectors_row *row = &r->rows[i];
            if (failures_only && row->decode != VECTORS_FAIL && row->encode != VECTORS_FAIL)
                continue;
            vectors_cell(out, row->file, wf);
            vectors_cell(out, row->name, wn);
            fprintf(out, "%-6s  ", vectors_verdict_str(row->decode));
            if (row->detail[0])
                fprintf(out, "%-6s  %s\n", vectors_verdict_str(row->encode), row->detail);
            else
                fprintf(out, "%s\n", vectors_verdict_str(row->encode));
        }
    }
    fprintf(out, "%zu vector%s in %d file%s: %d passed, %d failed\n", r->n_rows,
            r->n_rows == 1 ? "" : "s", r->n_files, r->n_files == 1 ? "" : "s", r->n_pass,
            r->n_fail);
}

int vectors_check_file(const char *path, FILE *out, int *n_pass, int *n_fail, char *err,
                       size_t errcap)
{
    struct vectors_run r;
    int ret;

    vectors_run_init(&r);
    if (vectors_run_file(&r, path, err, errcap) < 0) {
        vectors_run_free(&r);
        return 2;
    }
    if (out)
        vectors_print(&r, out, false);
    if (n_pass)
        *n_pass += r.n_pass;
    if (n_fail)
        *n_fail += r.n_fail;
    ret = r.n_fail ? 1 : 0;
    vectors_run_free(&r);
    return ret;
}
