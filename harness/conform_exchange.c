/* The exchange interpreter: one case's steps, in order, over blocking loopback
 * sockets with poll() deadlines.  A case is a few frames; a script that blocks
 * reads as the rule it checks.  The verdict only gets worse: "fail" is the
 * target's (a wrong answer, none in time, a frame that does not decode, a
 * connection dropped), "error" the harness's (it cannot connect to the platform
 * it started, a template that does not make a message).  The connections and
 * the frames on them are conform_wire.c's. */
#include "harness/conform_exchange.h"
#include "harness/conform_runner.h"
#include "harness/subst.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <fcntl.h>
#include <unistd.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "harness/api_client.h"
#include "sim/proto/hex.h"
#include "sim/proto/jt808.h"
#include "sim/proto/jt808_json.h"

void exch_log(struct exch *x, const char *fmt, ...)
{
    char line[4096 + 2 * JT808_MAX_FRAME];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    if (n < 0 || x->log_full)
        return;
    size_t len = (size_t)n < sizeof line ? (size_t)n : sizeof line - 1;
    if (x->log_n + len + 2 > LOG_MAX) {
        x->log_full = true;
        len = 0;
        snprintf(line, sizeof line, "(wire log cut at %d bytes)", LOG_MAX);
        len = strlen(line);
    }
    if (x->log_n + len + 2 > x->log_cap) {
        size_t cap = x->log_cap ? x->log_cap * 2 : 4096;
        while (cap < x->log_n + len + 2)
            cap *= 2;
        char *p = realloc(x->log, cap);
        if (p == NULL) {
            x->log_full = true;
            return;
        }
        x->log = p;
        x->log_cap = cap;
    }
    memcpy(x->log + x->log_n, line, len);
    x->log_n += len;
    x->log[x->log_n++] = '\n';
    x->log[x->log_n] = '\0';
}

double exch_since(const struct exch *x)
{
    return (double)(now_us() - x->t0_us) / 1e6;
}

bool exch_worsen(struct exch *x, enum verdict v, const struct conform_step *st, const char *expected,
                 const char *fmt, ...)
{
    char obs[sizeof x->out->observed];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(obs, sizeof obs, fmt, ap);
    va_end(ap);
    exch_log(x, "+%.3f %s at %s: expected %s; observed %s", exch_since(x), verdict_name(v), st ? st->path : "case",
             expected, obs);
    if (v > x->out->verdict || (v == x->out->verdict && x->out->observed[0] == '\0')) {
        snprintf(x->out->expected, sizeof x->out->expected, "%s%s%s", st ? st->path : "", st ? ": " : "", expected);
        snprintf(x->out->observed, sizeof x->out->observed, "%s", obs);
    }
    x->out->verdict = verdict_worse(x->out->verdict, v);
    return false;
}

/* --- substitution --------------------------------------------------------------------- */

/* The edition the case's messages go out in, and ${edition}: the variant's (a case
 * with "editions"), else the device's (--terminal, from its first frame), else the
 * suite's default. */
static const char *edition_of(const struct exch *x)
{
    if (x->c->edition)
        return x->c->edition == 2019 ? "2019" : "2013";
    if (x->version[0])
        return x->version;
    return x->s->edition == 2019 ? "2019" : "2013";
}

static const char *value_of(struct exch *x, const char *name, size_t n, char *tmp, size_t cap)
{
#define IS(s) (strlen(s) == n && strncmp(name, s, n) == 0)
    if (IS("phone"))
        return x->phone;
    if (IS("serial")) {
        snprintf(tmp, cap, "%u", x->conns[x->cur].last_serial);
        return tmp;
    }
    if (IS("rx_serial")) {
        snprintf(tmp, cap, "%u", x->conns[x->cur].rx_serial);
        return tmp;
    }
    if (IS("case_index")) {
        snprintf(tmp, cap, "%d", x->c->index);
        return tmp;
    }
    if (IS("edition")) {
        snprintf(tmp, cap, "%s", edition_of(x));
        return tmp;
    }
    if (IS("now")) {
        /* the runner's clock, UTC, as the BCD[6] time of 0x8004 (YYMMDDhhmmss) */
        time_t t = time(NULL);
        struct tm tm;
        gmtime_r(&t, &tm);
        snprintf(tmp, cap, "%02d%02d%02d%02d%02d%02d", tm.tm_year % 100, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
                 tm.tm_min, tm.tm_sec);
        return tmp;
    }
    if (IS("device_id")) {
        /* "T" and the phone's last 6 digits: 7 characters, what the 2013 layout's BYTE[7] holds */
        size_t l = strlen(x->phone);
        snprintf(tmp, cap, "T%s", x->phone + (l > 6 ? l - 6 : 0));
        return tmp;
    }
    if (IS("receiver_url") && x->recv)
        return cb_recv_url(x->recv);
    if (IS("api_app") && x->t->api_base[0])
        return conform_api_app(x->t, tmp, cap);
    if (IS("api_secret") && x->t->api_base[0])
        return x->t->api_secret;
    for (int i = 0; i < x->n_vals; i++)
        if (IS(x->names[i]))
            return x->vals[i];
#undef IS
    return NULL;
}

static int subst(struct exch *x, const char *tpl, char *out, size_t cap, char *why, size_t whycap);
int exch_subst(struct exch *x, const char *tpl, char *out, size_t cap, char *why, size_t whycap)
{
    return subst(x, tpl, out, cap, why, whycap);
}

bool exch_bind(struct exch *x, const struct conform_step *st, const char *name, const char *val)
{
    int slot = -1;
    for (int k = 0; k < x->n_vals; k++)
        if (strcmp(x->names[k], name) == 0)
            slot = k;
    if (slot < 0) {
        if (x->n_vals == CONFORM_MAX_BINDS)
            return exch_worsen(x, VERDICT_ERROR, st, "room for a name", "more than %d", CONFORM_MAX_BINDS);
        slot = x->n_vals++;
        snprintf(x->names[slot], CONFORM_NAME_MAX, "%s", name);
    }
    snprintf(x->vals[slot], VALUE_MAX, "%s", val);
    return true;
}

static const char *look(void *ctx, const char *name, size_t n, char *tmp, size_t cap)
{
    return value_of(ctx, name, n, tmp, cap);
}

/* tpl with every ${name} replaced; -1 when a name has no value (yet) or out overflows. */
static int subst(struct exch *x, const char *tpl, char *out, size_t cap, char *why, size_t whycap)
{
    return subst_text(tpl, look, x, out, cap, why, whycap);
}

static bool whole_number(const char *s)
{
    if (*s == '\0' || strlen(s) > 15)
        return false;
    for (const char *p = s; *p; p++)
        if (*p < '0' || *p > '9')
            return false;
    return true;
}

/* Every string of the tree substituted in place.  With numbers (a message to
 * send), a string that is exactly one ${name} whose value is a whole number
 * without a leading zero becomes that number (a serial, a result), except a
 * phone, which is digits as text; a match compares values as text anyway. */
static int subst_tree(struct exch *x, cJSON *v, bool numbers, char *why, size_t whycap)
{
    if (cJSON_IsString(v)) {
        char buf[2048];
        const char *t = v->valuestring;
        if (strstr(t, "${") == NULL)
            return 0;
        if (subst(x, t, buf, sizeof buf, why, whycap) < 0)
            return -1;
        bool single = t[0] == '$' && strchr(t, '}') == t + strlen(t) - 1;
        bool phone = v->string && strcmp(v->string, "phone") == 0;
        /* no field of a message is wider than a DWORD: more digits are a BCD time or such, text */
        bool dword = whole_number(buf) && strtoull(buf, NULL, 10) <= UINT32_MAX;
        if (numbers && single && !phone && dword && (buf[0] != '0' || buf[1] == '\0')) {
            /* turn the node into a number */
            free(v->valuestring);
            v->valuestring = NULL;
            v->type = cJSON_Number;
            cJSON_SetNumberValue(v, strtod(buf, NULL));
            return 0;
        }
        return cJSON_SetValuestring(v, buf) ? 0 : -1;
    }
    for (cJSON *c = v->child; c; c = c->next)
        if (subst_tree(x, c, numbers, why, whycap) < 0)
            return -1;
    return 0;
}

/* --- paths and values -------------------------------------------------------------- */

static const cJSON *at_path(const cJSON *root, const char *path)
{
    const cJSON *v = root;
    const char *p = path;
    while (v && *p) {
        if (*p == '[') {
            int i = (int)strtol(p + 1, (char **)&p, 10);
            if (*p != ']' || !cJSON_IsArray(v))
                return NULL;
            p++;
            v = cJSON_GetArrayItem(v, i);
        } else {
            char key[CONFORM_PATH_MAX];
            size_t n = strcspn(p, ".[");
            if (n >= sizeof key || !cJSON_IsObject(v))
                return NULL;
            memcpy(key, p, n);
            key[n] = '\0';
            v = cJSON_GetObjectItemCaseSensitive(v, key);
            p += n;
        }
        if (*p == '.')
            p++;
    }
    return v;
}

/* A value as text: strings as they are, numbers whole when whole, the rest as JSON. */
static void value_text(const cJSON *v, char *out, size_t cap)
{
    if (v == NULL) {
        snprintf(out, cap, "(absent)");
    } else if (cJSON_IsString(v)) {
        snprintf(out, cap, "%s", v->valuestring);
    } else if (cJSON_IsNumber(v) && v->valuedouble == (double)(long long)v->valuedouble) {
        snprintf(out, cap, "%lld", (long long)v->valuedouble);
    } else {
        char *s = cJSON_PrintUnformatted(v);
        snprintf(out, cap, "%s", s ? s : "?");
        free(s);
    }
}

/* want (substituted) equals got: numbers by value, a string against a number by its text. */
static bool same(const cJSON *want, const cJSON *got)
{
    char a[VALUE_MAX], b[VALUE_MAX];
    if (got == NULL)
        return false;
    if (cJSON_IsNumber(want) && cJSON_IsNumber(got))
        return want->valuedouble == got->valuedouble;
    if (cJSON_IsString(want) || cJSON_IsNumber(want)) {
        if (!(cJSON_IsString(got) || cJSON_IsNumber(got)))
            return false;
        value_text(want, a, sizeof a);
        value_text(got, b, sizeof b);
        return strcmp(a, b) == 0;
    }
    return cJSON_Compare(want, got, 1);
}

#define REASM_MEM (1024 * 1024)   /* bytes of a connection's subpackaged messages held */
#define REASM_TIMEOUT_MS 300000u  /* a case's whole time: nothing is dropped within one */

/* A package of a subpackaged message, fed to the connection's reassembly; when it
 * completes the message, the whole decoded (strictly: a deviation is a layout
 * error) as "whole" in j.  false (verdict FAIL) when the whole does not decode. */
static bool reassemble(struct exch *x, const struct conform_step *st, int ci, const struct jt808_msg *m, cJSON *j)
{
    struct conn *k = &x->conns[ci];
    if (!k->reasm) {
        if (!(k->reasm = calloc(1, sizeof *k->reasm)))
            return true; /* out of memory: the packages are judged one by one, as without */
        jt808_reasm_init(k->reasm, REASM_MEM, REASM_TIMEOUT_MS);
    }
    bool done = false;
    uint8_t *whole = NULL;
    size_t len = 0;
    struct jt808_err e;
    memset(&e, 0, sizeof e);
    if (jt808_reasm_feed(k->reasm, &m->h, m->body, m->body_bytes, now_us() / 1000u, &done, &whole, &len, &e) !=
        JT808_OK) {
        exch_log(x, "+%.3f c%d (a package that cannot be put with the others: %s)", exch_since(x), ci,
                 jt808_rc_text(e.rc));
        return true;
    }
    if (!done)
        return true;
    struct jt808_msg *full = calloc(1, sizeof *full);
    if (!full) {
        free(whole);
        return true;
    }
    enum jt808_rc rc = jt808_reasm_decode(k->reasm, &m->h, whole, len, full, &e);
    bool ok = rc == JT808_OK && full->devs.total == 0;
    cJSON *w = ok ? jt808_to_json(full) : NULL;
    if (!ok) {
        const char *why = rc != JT808_OK ? jt808_rc_text(rc) : jt808_dev_name(full->devs.d[0].kind);
        size_t at = rc != JT808_OK ? e.offset : full->devs.d[0].offset;
        const char *fld = rc != JT808_OK ? e.field : full->devs.d[0].field;
        exch_log(x, "+%.3f c%d the 0x%04X of %u packages does not decode: %s at body byte %zu (%s)", exch_since(x), ci,
                 m->h.msg_id, m->h.pkg_total, why, at, fld ? fld : "");
        exch_worsen(x, VERDICT_FAIL, st, "a subpackaged message laid out as JT/T 808 once whole", "%s at body byte %zu (%s)",
                    why, at, fld ? fld : "");
    } else if (w) {
        exch_log(x, "+%.3f c%d the 0x%04X of %u packages put together: %zu bytes", exch_since(x), ci, m->h.msg_id,
                 m->h.pkg_total, len);
        cJSON_AddItemToObject(j, "whole", w);
    }
    full->body = NULL; /* it pointed into whole */
    jt808_msg_free(full);
    free(full);
    free(whole);
    return ok;
}

/* Decode a received frame, logged; NULL (verdict FAIL) when it does not decode. */
static cJSON *decode_frame(struct exch *x, const struct conform_step *st, int ci, const uint8_t *f, size_t n)
{
    static uint8_t scratch[JT808_MAX_FRAME];
    struct jt808_msg m;
    struct jt808_err e;
    memset(&m, 0, sizeof m);
    memset(&e, 0, sizeof e);
    enum jt808_rc rc = jt808_decode_strict(f, n, scratch, sizeof scratch, &m, &e);
    cJSON *j = rc == JT808_OK ? jt808_to_json(&m) : NULL;
    /* an encrypted package is not the runner's to read: its message is judged package by package */
    if (j && m.h.subpackage && m.h.encryption == 0 && !reassemble(x, st, ci, &m, j)) {
        exch_log_frame(x, ci, "<", f, n, j, NULL);
        cJSON_Delete(j);
        jt808_msg_free(&m);
        return NULL;
    }
    jt808_msg_free(&m);
    if (rc != JT808_OK) {
        char note[160];
        snprintf(note, sizeof note, "(does not decode: %s at byte %zu, %s)", jt808_rc_text(rc), e.offset,
                 e.field ? e.field : "");
        exch_log_frame(x, ci, "<", f, n, NULL, note);
        exch_worsen(x, VERDICT_FAIL, st, "a frame laid out as JT/T 808 says", "%s at byte %zu (%s)", jt808_rc_text(rc),
               e.offset, e.field ? e.field : "");
        return NULL;
    }
    if (j == NULL) {
        exch_worsen(x, VERDICT_ERROR, st, "the frame as JSON", "out of memory");
    } else {
        exch_log_frame(x, ci, "<", f, n, j, NULL);
        if (x->t->terminal && !x->learned) {
            /* the platform answers the device as it names itself: its phone, its edition */
            const cJSON *ph = cJSON_GetObjectItemCaseSensitive(j, "phone");
            const cJSON *ve = cJSON_GetObjectItemCaseSensitive(j, "version");
            if (cJSON_IsString(ph))
                snprintf(x->phone, sizeof x->phone, "%s", ph->valuestring);
            if (cJSON_IsString(ve))
                snprintf(x->version, sizeof x->version, "%s", ve->valuestring);
            x->learned = true;
            exch_log(x, "+%.3f the device: phone %s, edition %s", exch_since(x), x->phone, x->version);
            if (x->c->edition && strcmp(x->version, edition_of(x)) != 0) {
                /* the variant of another edition than the device speaks: not a rule it broke */
                char want[64];
                snprintf(want, sizeof want, "a device of edition %d (the case's %d variant)", x->c->edition,
                         x->c->edition);
                exch_worsen(x, VERDICT_INCONCLUSIVE, st, want, "the device speaks %s", x->version);
                cJSON_Delete(j);
                return NULL;
            }
        }
    }
    return j;
}

/* --- steps ------------------------------------------------------------------------------ */

static bool step_send(struct exch *x, const struct conform_step *st)
{
    struct conn *k = &x->conns[st->conn];
    uint8_t frame[JT808_MAX_FRAME];
    size_t n = 0;
    char why[256];
    if (st->hex) {
        char text[2 * JT808_MAX_FRAME + 512];
        if (subst(x, st->hex, text, sizeof text, why, sizeof why) < 0)
            return exch_worsen(x, VERDICT_ERROR, st, "a frame to send", "%s", why);
        size_t pos = 0;
        if (hex_decode(text, strlen(text), HEX_SPACES, frame, sizeof frame, &n, &pos) != HEX_OK)
            return exch_worsen(x, VERDICT_ERROR, st, "a frame to send", "not hex at position %zu once filled in",
                          pos + 1);
        if (!exch_send_bytes(x, st, frame, n))
            return false;
        exch_log_frame(x, st->conn, ">", frame, n, NULL, "(as written)");
        return true;
    }
    cJSON *m = cJSON_Duplicate(st->msg, 1);
    if (m == NULL || subst_tree(x, m, true, why, sizeof why) < 0) {
        cJSON_Delete(m);
        return exch_worsen(x, VERDICT_ERROR, st, "a message to send", "%s", m ? why : "out of memory");
    }
    /* the case's defaults: its phone, the suite's edition, the connection's next serial */
    if (!cJSON_GetObjectItemCaseSensitive(m, "phone"))
        cJSON_AddStringToObject(m, "phone", x->phone);
    if (!cJSON_GetObjectItemCaseSensitive(m, "version"))
        cJSON_AddStringToObject(m, "version", edition_of(x));
    if (!cJSON_GetObjectItemCaseSensitive(m, "serial"))
        cJSON_AddNumberToObject(m, "serial", k->serial);
    if (!cJSON_GetObjectItemCaseSensitive(m, "body") && !cJSON_GetObjectItemCaseSensitive(m, "body_hex"))
        cJSON_AddObjectToObject(m, "body");
    static uint8_t store[JT808_MAX_LONG_BODY];
    struct jt808_msg msg;
    struct jt808_err e;
    memset(&msg, 0, sizeof msg);
    char jerr[256];
    enum jt808_rc rc = jt808_from_json(m, &msg, store, sizeof store, jerr, sizeof jerr);
    if (rc == JT808_OK)
        rc = jt808_encode(&msg, frame, sizeof frame, &n, &e);
    else
        e.field = NULL;
    uint16_t serial = msg.h.serial;
    jt808_msg_free(&msg);
    if (rc != JT808_OK) {
        cJSON_Delete(m);
        return exch_worsen(x, VERDICT_ERROR, st, "a message to send", "%s",
                      jerr[0] ? jerr : jt808_rc_text(rc));
    }
    if (st->bad_check) {
        /* the check byte is the last before the closing flag, maybe escaped: rebuild the frame with it flipped */
        uint8_t raw[JT808_MAX_FRAME];
        size_t rl = 0, wl = 0;
        struct jt808_err ue;
        if (jt808_unescape(frame + 1, n - 2, raw, sizeof raw, &rl, &ue) != JT808_OK || rl < 1 ||
            jt808_escape(raw, rl - 1, frame + 1, sizeof frame - 3, &wl) != JT808_OK) {
            cJSON_Delete(m);
            return exch_worsen(x, VERDICT_ERROR, st, "a frame with a wrong check byte", "cannot rebuild the frame");
        }
        uint8_t bad = (uint8_t)(raw[rl - 1] ^ 0x5A), esc[2];
        size_t el = 0;
        jt808_escape(&bad, 1, esc, sizeof esc, &el);
        memcpy(frame + 1 + wl, esc, el);
        n = 1 + wl + el;
        frame[n++] = 0x7E;
    }
    if (st->bad_length) {
        /* the body length (the low 10 bits of the properties) off by one, the check byte computed again */
        uint8_t raw[JT808_MAX_FRAME];
        size_t rl = 0, wl = 0;
        struct jt808_err ue;
        if (jt808_unescape(frame + 1, n - 2, raw, sizeof raw, &rl, &ue) != JT808_OK || rl < 5) {
            cJSON_Delete(m);
            return exch_worsen(x, VERDICT_ERROR, st, "a frame with a wrong body length", "cannot rebuild the frame");
        }
        unsigned props = (unsigned)raw[2] << 8 | raw[3], len = props & 0x3FFu;
        len = len == 0x3FFu ? len - 1 : len + 1;
        props = (props & ~0x3FFu) | len;
        raw[2] = (uint8_t)(props >> 8);
        raw[3] = (uint8_t)props;
        uint8_t c = 0;
        for (size_t i = 0; i + 1 < rl; i++)
            c ^= raw[i];
        raw[rl - 1] = c;
        if (jt808_escape(raw, rl, frame + 1, sizeof frame - 2, &wl) != JT808_OK) {
            cJSON_Delete(m);
            return exch_worsen(x, VERDICT_ERROR, st, "a frame with a wrong body length", "cannot rebuild the frame");
        }
        n = 1 + wl;
        frame[n++] = 0x7E;
    }
    k->last_serial = serial;
    k->serial = (uint16_t)(serial + 1);
    bool ok = exch_send_bytes(x, st, frame, n);
    if (ok)
        exch_log_frame(x, st->conn, ">", frame, n, m, st->bad_check    ? " (check byte made wrong)"
                                                   : st->bad_length ? " (body length made wrong)"
                                                                    : NULL);
    cJSON_Delete(m);
    return ok;
}

bool exch_fields_match(struct exch *x, const cJSON *fields, const cJSON *j, char *diff, size_t cap, bool *harness)
{
    char why[256];
    *harness = false;
    for (const cJSON *fld = fields ? fields->child : NULL; fld; fld = fld->next) {
        cJSON *want = cJSON_Duplicate(fld, 1);
        if (want == NULL || subst_tree(x, want, false, why, sizeof why) < 0) {
            snprintf(diff, cap, "%s: %s", fld->string, want ? why : "out of memory");
            cJSON_Delete(want);
            *harness = true;
            return false;
        }
        const cJSON *got = at_path(j, fld->string);
        bool ok = false;
        if (cJSON_IsArray(want)) {
            for (const cJSON *w = want->child; w && !ok; w = w->next)
                ok = same(w, got);
        } else {
            ok = same(want, got);
        }
        if (!ok) {
            char wt[VALUE_MAX], gt[VALUE_MAX];
            value_text(want, wt, sizeof wt);
            value_text(got, gt, sizeof gt);
            snprintf(diff, cap, "%s %s%s, got %s", fld->string, cJSON_IsArray(want) ? "one of " : "", wt, gt);
            cJSON_Delete(want);
            return false;
        }
        cJSON_Delete(want);
    }
    return true;
}

/* Whether frame j matches alternative a; when not, the first field that differs. */
static bool matches(struct exch *x, const struct conform_step *st, const struct conform_match *a, const cJSON *j,
                    const uint8_t *f, size_t n, char *diff, size_t cap, bool *harness)
{
    char why[256];
    if (!exch_fields_match(x, a->fields, j, diff, cap, harness))
        return false;
    if (a->wire_contains) {
        char hexw[512], hexf[2 * JT808_MAX_FRAME + 1], pat[512];
        size_t o = 0;
        if (subst(x, a->wire_contains, hexw, sizeof hexw, why, sizeof why) < 0) {
            snprintf(diff, cap, "wire_contains: %s", why);
            *harness = true;
            return false;
        }
        for (const char *p = hexw; *p && o + 1 < sizeof pat; p++)
            if (*p != ' ')
                pat[o++] = (char)((*p >= 'a' && *p <= 'f') ? *p - 32 : *p);
        pat[o] = '\0';
        hex_encode(f, n, hexf, sizeof hexf);
        /* at a byte boundary */
        bool found = false;
        for (const char *p = strstr(hexf, pat); p && !found; p = strstr(p + 1, pat))
            found = ((p - hexf) % 2) == 0;
        if (!found) {
            snprintf(diff, cap, "the wire frame holding %s, got %s", pat, hexf);
            return false;
        }
    }
    (void)st;
    return true;
}

static void describe_expect(const struct conform_step *st, char *out, size_t cap)
{
    size_t o = 0;
    for (int i = 0; i < st->n_any && o < cap; i++) {
        char *f = st->any[i].fields ? cJSON_PrintUnformatted(st->any[i].fields) : NULL;
        int w = snprintf(out + o, cap - o, "%s0x%04X%s%s%s%s", i ? " or " : "", st->any[i].msg_id, f ? " " : "",
                         f ? f : "", st->any[i].wire_contains ? " wire holding " : "",
                         st->any[i].wire_contains ? st->any[i].wire_contains : "");
        free(f);
        if (w < 0)
            break;
        o += (size_t)w;
    }
    if (o >= cap && cap > 4)
        memcpy(out + cap - 4, "...", 4);
}

static bool step_expect(struct exch *x, const struct conform_step *st)
{
    struct conn *k = &x->conns[st->conn];
    char want[200], seen[200] = "";
    describe_expect(st, want, sizeof want);
    snprintf(want + strlen(want), sizeof want - strlen(want), " within %llums", (unsigned long long)st->ms);
    uint64_t deadline = now_us() + st->ms * 1000u;
    uint8_t f[JT808_MAX_FRAME];
    size_t n = 0;
    size_t seen_n = 0;
    for (;;) {
        int r = exch_next_frame(x, st, st->conn, deadline, f, &n);
        if (r == -2)
            return false;
        if (r == 0)
            return exch_worsen(x, VERDICT_FAIL, st, want, "%s", seen[0] ? seen : "no frame");
        if (r == -1)
            return exch_worsen(x, VERDICT_FAIL, st, want, "the target closed the connection%s%s",
                          seen[0] ? " after " : "", seen);
        cJSON *j = decode_frame(x, st, st->conn, f, n);
        if (j == NULL)
            return false;
        const cJSON *idj = cJSON_GetObjectItemCaseSensitive(j, "msg_id");
        unsigned id = cJSON_IsString(idj) ? (unsigned)strtoul(idj->valuestring, NULL, 16) : 0x10000u;
        bool same_id = false;
        char diff[512] = "";
        for (int i = 0; i < st->n_any; i++) {
            if (st->any[i].msg_id != id)
                continue;
            same_id = true;
            bool harness = false;
            char d[512];
            if (matches(x, st, &st->any[i], j, f, n, d, sizeof d, &harness)) {
                const cJSON *sj = cJSON_GetObjectItemCaseSensitive(j, "serial");
                k->rx_serial = cJSON_IsNumber(sj) ? (uint16_t)sj->valuedouble : 0;
                cJSON_Delete(k->last);
                k->last = j;
                return true;
            }
            if (harness) {
                cJSON_Delete(j);
                return exch_worsen(x, VERDICT_ERROR, st, want, "%s", d);
            }
            if (!diff[0])
                snprintf(diff, sizeof diff, "0x%04X with %s", id, d);
        }
        cJSON_Delete(j);
        if (same_id && !st->skip_unmatched)
            return exch_worsen(x, VERDICT_FAIL, st, want, "%s", diff);
        if (same_id) {
            exch_log(x, "+%.3f skipped (skip_unmatched): %s", exch_since(x), diff);
            continue;
        }
        /* another message (a request of the platform's own): noted, and the wait goes on */
        if (seen_n++ < 4)
            snprintf(seen + strlen(seen), sizeof seen - strlen(seen), "%s0x%04X", seen[0] ? ", " : "only ", id);
    }
}

/* No frame of the id (with the fields, when the step names some) within the time;
 * frames of other ids, or of the id with other fields, are logged and skipped. */
/* The next frame on the step's connection before deadline, decoded: 1 with *j (the
 * caller deletes it), 0 when the deadline came first, -1 when the step is over (the
 * harness failed, or the target closed the connection: judged against want). */
static int next_decoded(struct exch *x, const struct conform_step *st, uint64_t deadline, const char *want,
                        uint8_t *f, size_t *n, cJSON **j)
{
    int r = exch_next_frame(x, st, st->conn, deadline, f, n);
    if (r == 0)
        return 0;
    if (r == -1)
        exch_worsen(x, VERDICT_FAIL, st, want, "the target closed the connection");
    if (r < 0)
        return -1;
    *j = decode_frame(x, st, st->conn, f, *n);
    return *j ? 1 : -1;
}

static bool step_expect_none(struct exch *x, const struct conform_step *st)
{
    const struct conform_match *a = &st->any[0];
    char want[240];
    describe_expect(st, want, sizeof want - 40);
    snprintf(want + strlen(want), sizeof want - strlen(want), " none within %llums", (unsigned long long)st->ms);
    uint64_t deadline = now_us() + st->ms * 1000u;
    uint8_t f[JT808_MAX_FRAME];
    size_t n = 0;
    for (;;) {
        cJSON *j = NULL;
        int r = next_decoded(x, st, deadline, want, f, &n, &j);
        if (r <= 0)
            return r == 0;
        const cJSON *idj = cJSON_GetObjectItemCaseSensitive(j, "msg_id");
        unsigned id = cJSON_IsString(idj) ? (unsigned)strtoul(idj->valuestring, NULL, 16) : 0x10000u;
        bool harness = false;
        char d[512] = "";
        bool hit = id == a->msg_id && matches(x, st, a, j, f, n, d, sizeof d, &harness);
        const cJSON *sj = cJSON_GetObjectItemCaseSensitive(j, "serial");
        int serial = cJSON_IsNumber(sj) ? (int)sj->valuedouble : -1;
        cJSON_Delete(j);
        if (harness)
            return exch_worsen(x, VERDICT_ERROR, st, want, "%s", d);
        if (hit)
            return exch_worsen(x, VERDICT_FAIL, st, want, "0x%04X serial %d", id, serial);
    }
}

/* Frames within the time are read, decoded and logged, none judged: what a device
 * may still send (the last report of a validity) before a rule is checked. */
static bool step_drain(struct exch *x, const struct conform_step *st)
{
    uint64_t deadline = now_us() + st->ms * 1000u;
    uint8_t f[JT808_MAX_FRAME];
    size_t n = 0;
    char want[64];
    snprintf(want, sizeof want, "the connection open for %llums", (unsigned long long)st->ms);
    for (;;) {
        cJSON *j = NULL;
        int r = next_decoded(x, st, deadline, want, f, &n, &j);
        if (r <= 0)
            return r == 0;
        cJSON_Delete(j);
    }
}

static bool step_bind(struct exch *x, const struct conform_step *st)
{
    const cJSON *last = x->conns[st->conn].last;
    if (last == NULL)
        return exch_worsen(x, VERDICT_ERROR, st, "a message expected before this bind", "none on connection %d",
                      st->conn);
    for (int i = 0; i < st->n_binds; i++) {
        const cJSON *v = at_path(last, st->bind_path[i]);
        if (v == NULL)
            return exch_worsen(x, VERDICT_FAIL, st, st->bind_path[i], "absent from the message");
        int slot = -1;
        for (int k = 0; k < x->n_vals; k++)
            if (strcmp(x->names[k], st->bind_name[i]) == 0)
                slot = k;
        if (slot < 0) {
            if (x->n_vals == CONFORM_MAX_BINDS)
                return exch_worsen(x, VERDICT_ERROR, st, "room for a name", "more than %d", CONFORM_MAX_BINDS);
            slot = x->n_vals++;
            snprintf(x->names[slot], CONFORM_NAME_MAX, "%s", st->bind_name[i]);
        }
        value_text(v, x->vals[slot], VALUE_MAX);
        exch_log(x, "+%.3f bind %s = %s (%s)", exch_since(x), st->bind_name[i], x->vals[slot], st->bind_path[i]);
    }
    return true;
}

/* LEFT, a BCD[6] time YYMMDDhhmmss (UTC, 20YY), within st->near_now_s of the clock. */
static bool step_verify_now(struct exch *x, const struct conform_step *st)
{
    char l[VALUE_MAX * 2], why[256], want[VALUE_MAX * 2 + 32];
    if (subst(x, st->left, l, sizeof l, why, sizeof why) < 0)
        return exch_worsen(x, VERDICT_ERROR, st, "a time to compare", "%s", why);
    snprintf(want, sizeof want, "%s within %ds of now (UTC)", st->left, st->near_now_s);
    time_t now = time(NULL);
    int d[6];
    bool ok = strlen(l) == 12;
    for (int i = 0; ok && i < 6; i++) {
        if (!isdigit((unsigned char)l[2 * i]) || !isdigit((unsigned char)l[2 * i + 1]))
            ok = false;
        else
            d[i] = (l[2 * i] - '0') * 10 + (l[2 * i + 1] - '0');
    }
    if (!ok)
        return exch_worsen(x, VERDICT_FAIL, st, want, "\"%s\" is not a time YYMMDDhhmmss", l);
    struct tm tm = {.tm_year = 100 + d[0], .tm_mon = d[1] - 1, .tm_mday = d[2], .tm_hour = d[3],
                    .tm_min = d[4], .tm_sec = d[5]};
    time_t t = timegm(&tm);
    long long off = (long long)t - (long long)now;
    exch_log(x, "+%.3f verify \"%s\" within %ds of now: %+llds, %s", exch_since(x), l, st->near_now_s, off,
             llabs(off) <= st->near_now_s ? "yes" : "no");
    if (d[1] < 1 || d[1] > 12 || d[2] < 1 || d[2] > 31 || d[3] > 23 || d[4] > 59 || d[5] > 60)
        return exch_worsen(x, VERDICT_FAIL, st, want, "\"%s\" is not a time YYMMDDhhmmss", l);
    if (llabs(off) > st->near_now_s)
        return exch_worsen(x, VERDICT_FAIL, st, want, "\"%s\" is %+llds from now", l, off);
    return true;
}

/* "LEFT has bit N" / "LEFT lacks bit N": LEFT a whole number (a status or alarm word). */
static bool step_verify_bit(struct exch *x, const struct conform_step *st)
{
    char l[VALUE_MAX * 2], why[256], want[VALUE_MAX * 2 + 32];
    if (subst(x, st->left, l, sizeof l, why, sizeof why) < 0)
        return exch_worsen(x, VERDICT_ERROR, st, "a number to test", "%s", why);
    snprintf(want, sizeof want, "%s %s bit %d", st->left, st->bit_clear ? "lacks" : "has", st->bit);
    char *end = NULL;
    unsigned long long v = strtoull(l, &end, 10);
    if (!whole_number(l) || *end != '\0')
        return exch_worsen(x, VERDICT_FAIL, st, want, "\"%s\" is not a whole number", l);
    bool set = (v >> st->bit) & 1u;
    exch_log(x, "+%.3f verify %s (0x%llX) %s bit %d: %s", exch_since(x), l, v, st->bit_clear ? "lacks" : "has",
             st->bit, set != st->bit_clear ? "yes" : "no");
    if (set == st->bit_clear)
        return exch_worsen(x, VERDICT_FAIL, st, want, "%s (0x%llX), bit %d %s", l, v, st->bit, set ? "set" : "clear");
    return true;
}

static bool step_verify(struct exch *x, const struct conform_step *st)
{
    char l[VALUE_MAX * 2], r[VALUE_MAX * 2], why[256], want[VALUE_MAX * 4 + 8];
    if (st->near_now_s)
        return step_verify_now(x, st);
    if (st->bit >= 0)
        return step_verify_bit(x, st);
    if (subst(x, st->left, l, sizeof l, why, sizeof why) < 0 || subst(x, st->right, r, sizeof r, why, sizeof why) < 0)
        return exch_worsen(x, VERDICT_ERROR, st, "values to compare", "%s", why);
    bool eq = strcmp(l, r) == 0;
    snprintf(want, sizeof want, "%s %s %s", st->left, st->not_equal ? "!=" : "==", st->right);
    exch_log(x, "+%.3f verify \"%s\" %s \"%s\": %s", exch_since(x), l, st->not_equal ? "!=" : "==", r,
             eq != st->not_equal ? "yes" : "no");
    if (eq == st->not_equal)
        return exch_worsen(x, VERDICT_FAIL, st, want, "\"%s\" and \"%s\"", l, r);
    return true;
}

static bool step_wait_close(struct exch *x, const struct conform_step *st)
{
    uint64_t deadline = now_us() + st->ms * 1000u;
    uint8_t f[JT808_MAX_FRAME];
    size_t n;
    char want[96];
    snprintf(want, sizeof want, "%s within %llums",
             st->kind == CSTEP_EXPECT_CLOSE ? "the target closes the connection" : "no frame",
             (unsigned long long)st->ms);
    for (;;) {
        int r = exch_next_frame(x, st, st->conn, deadline, f, &n);
        if (r == -2)
            return false;
        if (r == 0)
            return st->kind == CSTEP_EXPECT_CLOSE ? exch_worsen(x, VERDICT_FAIL, st, want, "the connection still open")
                                                  : true;
        if (r == -1)
            return st->kind == CSTEP_EXPECT_CLOSE ? true : exch_worsen(x, VERDICT_FAIL, st, want, "the target closed it");
        cJSON *j = decode_frame(x, st, st->conn, f, n);
        if (j == NULL)
            return false;
        if (st->kind == CSTEP_EXPECT_SILENCE) {
            const cJSON *idj = cJSON_GetObjectItemCaseSensitive(j, "msg_id");
            bool fail = exch_worsen(x, VERDICT_FAIL, st, want, "%s", cJSON_IsString(idj) ? idj->valuestring : "a frame");
            cJSON_Delete(j);
            return fail;
        }
        cJSON_Delete(j); /* frames before the close are logged, not judged */
    }
}

/* A step's "if": true when it holds (or there is none); false with skip set
 * when it does not, false with the verdict set when it cannot be filled in. */
static bool step_if(struct exch *x, const struct conform_step *st, bool *skip)
{
    char l[VALUE_MAX * 2], r[VALUE_MAX * 2], why[256];
    *skip = false;
    if (st->if_left == NULL)
        return true;
    if (subst(x, st->if_left, l, sizeof l, why, sizeof why) < 0 ||
        subst(x, st->if_right, r, sizeof r, why, sizeof why) < 0)
        return exch_worsen(x, VERDICT_ERROR, st, "values to compare (if)", "%s", why);
    bool eq = strcmp(l, r) == 0;
    if (eq == st->if_not_equal) {
        exch_log(x, "+%.3f %s skipped: \"%s\" %s \"%s\" does not hold", exch_since(x), st->path, l,
                 st->if_not_equal ? "!=" : "==", r);
        *skip = true;
        return false;
    }
    return true;
}

static bool run_step(struct exch *x, const struct conform_step *st)
{
    x->cur = st->conn;
    struct conn *k = &x->conns[st->conn];
    bool skip;
    if (!step_if(x, st, &skip))
        return skip;
    switch (st->kind) {
    case CSTEP_CONNECT:
        if (k->fd >= 0)
            return exch_worsen(x, VERDICT_ERROR, st, "a closed connection to open", "connection %d is open", st->conn);
        return exch_conn_open(x, st, st->conn);
    case CSTEP_CLOSE:
        if (k->fd >= 0)
            exch_log(x, "+%.3f c%d closed", exch_since(x), st->conn);
        exch_conn_close(k);
        return true;
    case CSTEP_WAIT: {
        struct timespec ts = {(time_t)(st->ms / 1000), (long)(st->ms % 1000) * 1000000L};
        while (nanosleep(&ts, &ts) < 0 && errno == EINTR && !conform_interrupted)
            ;
        return conform_interrupted ? exch_worsen(x, VERDICT_ERROR, st, "the case run to its end",
                                            "interrupted (SIGINT or SIGTERM)")
                                   : true;
    }
    case CSTEP_BIND:
        return step_bind(x, st);
    case CSTEP_VERIFY:
        return step_verify(x, st);
    case CSTEP_API:
        return conform_api_step(x, st);
    case CSTEP_EXPECT_PUSH:
    case CSTEP_EXPECT_NO_PUSH:
    case CSTEP_RECEIVER_PLAN:
        return exch_push_step(x, st);
    default:
        break;
    }
    if (st->kind == CSTEP_EXPECT_CLOSE && k->fd < 0 && k->refused) {
        k->refused = false;
        exch_log(x, "+%.3f c%d closed by the target at the TLS handshake", exch_since(x), st->conn);
        return true;
    }
    if (k->fd < 0 && !exch_conn_open(x, st, st->conn))
        return false;
    switch (st->kind) {
    case CSTEP_SEND:
        return step_send(x, st);
    case CSTEP_EXPECT:
        return step_expect(x, st);
    case CSTEP_EXPECT_NONE:
        return step_expect_none(x, st);
    case CSTEP_DRAIN:
        return step_drain(x, st);
    default:
        return step_wait_close(x, st);
    }
}

void conform_case_result_init(const struct conform_suite *s, const struct conform_case *c, struct case_result *out)
{
    memset(out, 0, sizeof *out);
    snprintf(out->id, sizeof out->id, "%s", c->id);
    /* the JUnit classname: suite and the clause of the reference ("JT/T 808-2019 8.2" -> jt808.8.2) */
    const char *clause = strrchr(c->ref, ' ');
    clause = clause ? clause + 1 : "";
    bool numeric = clause[0] >= '0' && clause[0] <= '9';
    snprintf(out->area, sizeof out->area, "%s%s%s", s->name, numeric ? "." : "", numeric ? clause : "");
    snprintf(out->desc, sizeof out->desc, "%s", c->objective);
    snprintf(out->ref, sizeof out->ref, "%s", c->ref);
    snprintf(out->level, sizeof out->level, "%s", c->level);
    snprintf(out->suite, sizeof out->suite, "%s", s->name);
    out->verdict = VERDICT_PASS;
}

bool conform_case_unmet(const struct conform_case *c, const struct conform_target *t, struct case_result *out)
{
    for (int i = 0; i < c->n_needs; i++) {
        bool has = false;
        for (size_t k = 0; k < t->n_caps; k++)
            has |= strcmp(t->caps[k], c->needs[i]) == 0;
        if (!has) {
            out->verdict = VERDICT_INCONCLUSIVE;
            snprintf(out->expected, sizeof out->expected, "a target with %s", c->needs[i]);
            snprintf(out->observed, sizeof out->observed, "not run: the target lacks %s", c->needs[i]);
            return true;
        }
    }
    return false;
}

void conform_exchange_run(const struct conform_suite *s, const struct conform_case *c, const struct conform_target *t,
                          struct case_result *out)
{
    struct exch *x = calloc(1, sizeof *x);
    if (x == NULL) {
        out->verdict = VERDICT_ERROR;
        snprintf(out->observed, sizeof out->observed, "out of memory");
        return;
    }
    x->s = s;
    x->c = c;
    x->t = t;
    x->out = out;
    x->t0_us = now_us();
    for (int i = 0; i < CONFORM_MAX_CONNS; i++)
        x->conns[i].fd = -1;
    conform_case_phone(s, c, x->phone, sizeof x->phone);
    if (t->terminal)
        exch_log(x, "case %s: the platform side, devices connecting to %s:%u", c->id, t->host, t->port);
    else
        exch_log(x, "case %s: phone %s, target %s:%u", c->id, x->phone, t->host, t->port);
    bool ready = !c->receiver || exch_push_start(x, &c->steps[0]);
    for (int i = 0; ready && i < c->n_steps; i++)
        if (!run_step(x, &c->steps[i]))
            break;
        else if (conform_interrupted && i + 1 < c->n_steps) {
            exch_worsen(x, VERDICT_ERROR, &c->steps[i + 1], "the case run to its end", "interrupted (SIGINT or SIGTERM)");
            break;
        }
    exch_push_end(x);
    for (int i = 0; i < CONFORM_MAX_CONNS; i++) {
        exch_conn_close(&x->conns[i]);
        cJSON_Delete(x->conns[i].last);
    }
    api_client_free(x->api);
    if (out->verdict == VERDICT_PASS) {
        snprintf(out->expected, sizeof out->expected, "%d steps as written", c->n_steps);
        snprintf(out->observed, sizeof out->observed, "all %d as expected", c->n_steps);
    }
    out->duration_s = (double)(now_us() - x->t0_us) / 1e6;
    out->wire_log = x->log;
    free(x);
}
