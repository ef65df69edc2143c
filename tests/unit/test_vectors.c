/* Vector checker (harness/vectors.c) and the vectors/decode/encode
 * subcommands.  The pcp codec is the one exercised: its vectors need nothing else. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include <cjson/cJSON.h>

#include "harness/vectors.h"
#include "sim/proto/jt808_rsa.h"
#include "sim/cli/cmd.h"

#define NOTICE_HEX "FFFE011402F7001656312E3000000000000000000000000001F400011234"
#define NOTICE_FIELDS                                                                        \
    "{\"code\":\"0x14\",\"name\":\"new version notice\",\"direction\":\"request\","        \
    "\"from\":\"platform\",\"version\":1,\"check\":\"0x02F7\",\"length\":22,"               \
    "\"data\":{\"version\":\"V1.0\",\"chunk_size\":%d,\"chunk_count\":1,\"check_code\":\"0x1234\"}}"

/* A pcp vector file: the notice (with the given chunk_size and hex) and one error entry. */
static char *notice_file(int chunk_size, const char *hex)
{
    char fields[512];
    char *text = malloc(2048);
    assert_non_null(text);
    snprintf(fields, sizeof(fields), NOTICE_FIELDS, chunk_size);
    snprintf(text, 2048,
             "{\"protocol\":\"pcp\",\"source\":\"test\",\"vectors\":[\n"
             "  {\"name\":\"notice\",\"source\":\"004 §15.2\",\"from\":\"platform\",\"hex\":\"%s\",\n"
             "   \"fields\":%s},\n"
             "  {\"name\":\"bad-check\",\"source\":\"004 §15.3\",\"from\":\"platform\",\n"
             "   \"hex\":\"FFFE01134C9B0000\",\"error\":{\"code\":\"crc\",\"offset\":4,\"field\":\"check\"}}\n"
             "]}\n",
             hex, fields);
    return text;
}

static int run_text(struct vectors_run *r, const char *text, char *err, size_t errcap)
{
    return vectors_run_text(r, "t.json", text, strlen(text), err, errcap);
}

/* --- checker ---------------------------------------------------------------------- */

static void test_good_file_passes(void **state)
{
    (void)state;
    struct vectors_run r;
    char err[256] = "";
    char *text = notice_file(500, NOTICE_HEX);

    vectors_run_init(&r);
    assert_int_equal(run_text(&r, text, err, sizeof(err)), 0);
    assert_int_equal(r.n_rows, 2);
    assert_int_equal(r.n_pass, 2);
    assert_int_equal(r.n_fail, 0);
    assert_int_equal(r.rows[0].decode, VECTORS_OK);
    assert_int_equal(r.rows[0].encode, VECTORS_OK);
    assert_string_equal(r.rows[0].detail, "");
    assert_int_equal(r.rows[1].decode, VECTORS_OK);
    assert_int_equal(r.rows[1].encode, VECTORS_NA);

    char *out = NULL;
    size_t outlen = 0;
    FILE *f = open_memstream(&out, &outlen);
    vectors_print(&r, f, false);
    fclose(f);
    assert_string_equal(out,
                        "FILE    NAME       DECODE  ENCODE  DETAIL\n"
                        "t.json  notice     ok      ok\n"
                        "t.json  bad-check  ok      -\n"
                        "2 vectors in 1 file: 2 passed, 0 failed\n");
    free(out);
    vectors_run_free(&r);
    free(text);
}

static void test_altered_field_fails(void **state)
{
    (void)state;
    struct vectors_run r;
    char err[256] = "";
    char *text = notice_file(501, NOTICE_HEX);

    vectors_run_init(&r);
    assert_int_equal(run_text(&r, text, err, sizeof(err)), 0);
    assert_int_equal(r.n_pass, 1);
    assert_int_equal(r.n_fail, 1);
    assert_int_equal(r.rows[0].decode, VECTORS_FAIL);
    assert_int_equal(r.rows[0].encode, VECTORS_FAIL);
    /* decode names the JSON path; encode the first differing byte (the CRC moves too) */
    assert_non_null(strstr(r.rows[0].detail, "data.chunk_size: expected 501 / observed 500"));
    assert_non_null(strstr(r.rows[0].detail, "encode: byte 4: expected 02 / observed "));
    assert_non_null(strstr(r.rows[0].detail, "(3 bytes differ)"));

    char *out = NULL;
    size_t outlen = 0;
    FILE *f = open_memstream(&out, &outlen);
    vectors_print(&r, f, true);  /* failures only */
    fclose(f);
    assert_null(strstr(out, "bad-check"));
    assert_non_null(strstr(out, "t.json  notice  FAIL    FAIL    data.chunk_size"));
    assert_non_null(strstr(out, "2 vectors in 1 file: 1 passed, 1 failed\n"));
    free(out);
    vectors_run_free(&r);
    free(text);
}

static void test_altered_byte_fails(void **state)
{
    (void)state;
    struct vectors_run r;
    char err[256] = "";
    /* chunk size 01F4 -> 01F5 in the hex only: the CRC no longer matches */
    char *text = notice_file(500, "FFFE011402F7001656312E3000000000000000000000000001F500011234");

    vectors_run_init(&r);
    assert_int_equal(run_text(&r, text, err, sizeof(err)), 0);
    assert_int_equal(r.n_fail, 1);
    assert_int_equal(r.rows[0].decode, VECTORS_FAIL);
    assert_int_equal(r.rows[0].encode, VECTORS_FAIL);
    assert_non_null(strstr(r.rows[0].detail,
                           "expected fields / observed error crc at byte 4 (check): check field mismatch"));
    assert_non_null(strstr(r.rows[0].detail, "encode: byte 25: expected F5 / observed F4"));
    vectors_run_free(&r);
    free(text);
}

static void test_error_entries(void **state)
{
    (void)state;
    struct vectors_run r;
    char err[256] = "";
    static const char text[] =
        "{\"protocol\":\"pcp\",\"source\":\"t\",\"vectors\":["
        "{\"name\":\"a\",\"source\":\"s\",\"from\":\"platform\",\"hex\":\"FFFE01134C9B0000\","
        " \"error\":{\"code\":\"crc\",\"offset\":5}},"
        "{\"name\":\"b\",\"source\":\"s\",\"from\":\"platform\",\"hex\":\"FFFE01134C9A0000\","
        " \"error\":{\"code\":\"crc\",\"offset\":4}},"
        "{\"name\":\"c\",\"source\":\"s\",\"from\":\"platform\",\"hex\":\"FFFE01134C9B0000\","
        " \"error\":{\"code\":\"crc\",\"offset\":4,\"field\":\"length\"}},"
        "{\"name\":\"d\",\"source\":\"s\",\"from\":\"device\",\"hex\":\"FFFE01161486000180\","
        " \"error\":{\"code\":\"value\",\"offset\":8,\"field\":\"data.status\"}}]}";

    vectors_run_init(&r);
    assert_int_equal(run_text(&r, text, err, sizeof(err)), 0);
    assert_int_equal(r.n_rows, 4);
    assert_int_equal(r.n_fail, 3);
    assert_string_equal(r.rows[0].detail,
                        "expected error crc at byte 5 / observed error crc at byte 4 (check)");
    assert_string_equal(r.rows[1].detail, "expected error crc at byte 4 / observed a valid frame");
    assert_string_equal(r.rows[2].detail,
                        "expected error crc at byte 4 (length) / observed error crc at byte 4 (check)");
    assert_int_equal(r.rows[3].decode, VECTORS_OK);
    assert_int_equal(r.rows[3].encode, VECTORS_NA);
    vectors_run_free(&r);
}

static void test_malformed_files(void **state)
{
    (void)state;
    static const struct {
        const char *text;
        const char *err;
    } cases[] = {
        {"{\"protocol\":\"pcp\",\"source\":\"t\",\"vectors\":[\n  {\"name\":\"a\",,}]}",
         "t.json:2:16: JSON syntax error near '}]}'"},
        {"{\"protocol\":\"pcp\",\"source\":\"t\",\"vectors\":[]", "t.json:1:44: JSON syntax error at end of file"},
        {"[]", "t.json: (top): expected an object"},
        {"{\"source\":\"t\",\"vectors\":[]}", "t.json: protocol: missing (\"jt808\", \"pcp\" or \"pcodec\")"},
        {"{\"protocol\":\"mqtt\",\"source\":\"t\",\"vectors\":[]}",
         "t.json: protocol: expected \"jt808\", \"pcp\" or \"pcodec\""},
        {"{\"protocol\":\"pcp\",\"vectors\":[]}", "t.json: source: missing"},
        {"{\"protocol\":\"pcp\",\"source\":\"t\",\"vectors\":[],\"extra\":1}", "t.json: extra: unknown field"},
        {"{\"protocol\":\"pcp\",\"source\":\"t\",\"vectors\":{}}", "t.json: vectors: expected an array"},
        {"{\"protocol\":\"pcp\",\"source\":\"t\",\"vectors\":[]}", "t.json: vectors: empty"},
        {"{\"protocol\":\"pcp\",\"source\":\"t\",\"vectors\":[7]}", "t.json: vectors[0]: expected an object"},
        {"{\"protocol\":\"pcp\",\"source\":\"t\",\"vectors\":[{\"name\":\"a\",\"source\":\"s\",\"from\":\"device\","
         "\"hex\":\"00\",\"fields\":{}},{\"name\":\"b\",\"source\":\"s\",\"from\":\"device\",\"fields\":{}}]}",
         "t.json: vectors[1].hex: missing"},
        {"{\"protocol\":\"pcp\",\"source\":\"t\",\"vectors\":[{\"name\":\"a\",\"source\":\"s\",\"from\":\"device\","
         "\"hex\":\"FFZE\",\"fields\":{}}]}",
         "t.json: vectors[0].hex: bad hex character 'Z' at position 3"},
        {"{\"protocol\":\"pcp\",\"source\":\"t\",\"vectors\":[{\"name\":\"a\",\"source\":\"s\",\"from\":\"device\","
         "\"hex\":\"00\",\"feilds\":{}}]}",
         "t.json: vectors[0].feilds: unknown field"},
        {"{\"protocol\":\"pcp\",\"source\":\"t\",\"vectors\":[{\"name\":\"a\",\"source\":\"s\",\"from\":\"device\","
         "\"hex\":\"00\"}]}",
         "t.json: vectors[0]: needs exactly one of \"fields\" and \"error\""},
        {"{\"protocol\":\"pcp\",\"source\":\"t\",\"vectors\":[{\"name\":\"a\",\"source\":\"s\",\"from\":\"device\","
         "\"hex\":\"00\",\"fields\":{},\"error\":{\"code\":\"crc\",\"offset\":4}}]}",
         "t.json: vectors[0]: needs exactly one of \"fields\" and \"error\""},
        {"{\"protocol\":\"pcp\",\"source\":\"t\",\"vectors\":[{\"name\":\"a\",\"source\":\"s\",\"hex\":\"00\",\"fields\":{}}]}",
         "t.json: vectors[0].from: missing (\"device\" or \"platform\")"},
        {"{\"protocol\":\"pcp\",\"source\":\"t\",\"vectors\":[{\"name\":\"a\",\"source\":\"s\",\"from\":\"cloud\","
         "\"hex\":\"00\",\"fields\":{}}]}",
         "t.json: vectors[0].from: expected \"device\" or \"platform\""},
        {"{\"protocol\":\"jt808\",\"source\":\"t\",\"vectors\":[{\"name\":\"a\",\"source\":\"s\",\"from\":\"device\","
         "\"hex\":\"7E7E\",\"fields\":{}}]}",
         "t.json: vectors[0].from: jt808 frames carry no direction"},
        {"{\"protocol\":\"pcp\",\"source\":\"t\",\"vectors\":[{\"name\":\"a\",\"source\":\"s\",\"from\":\"device\","
         "\"hex\":\"00\",\"error\":{\"code\":\"crc\"}}]}",
         "t.json: vectors[0].error.offset: missing"},
        {"{\"protocol\":\"pcp\",\"source\":\"t\",\"vectors\":[{\"name\":\"a\",\"source\":\"s\",\"from\":\"device\","
         "\"hex\":\"00\",\"error\":{\"code\":\"crc\",\"offset\":-1}}]}",
         "t.json: vectors[0].error.offset: expected a byte offset (integer >= 0)"},
        {"{\"protocol\":\"pcp\",\"source\":\"t\",\"vectors\":[{\"name\":\"a\",\"source\":\"s\",\"from\":\"device\","
         "\"hex\":\"00\",\"error\":{\"code\":\"checksum\",\"offset\":4}}]}",
         "t.json: vectors[0].error.code: \"checksum\" is not a pcp error name"},
        {"{\"protocol\":\"pcp\",\"source\":\"t\",\"vectors\":[{\"name\":\"a\",\"source\":\"s\",\"from\":\"device\","
         "\"hex\":\"00\",\"error\":{\"code\":\"ok\",\"offset\":4}}]}",
         "t.json: vectors[0].error.code: \"ok\" is not a pcp error name"},
        {"{\"protocol\":\"pcp\",\"source\":\"t\",\"vectors\":[{\"name\":\"a\",\"source\":\"s\",\"from\":\"device\","
         "\"hex\":\"00\",\"fields\":{}},{\"name\":\"a\",\"source\":\"s\",\"from\":\"device\",\"hex\":\"00\",\"fields\":{}}]}",
         "t.json: vectors[1].name: \"a\" is already the name of vectors[0]"},
        {"{\"protocol\":\"pcp\",\"source\":\"t\",\"vectors\":[{\"name\":\"\",\"source\":\"s\",\"from\":\"device\","
         "\"hex\":\"00\",\"fields\":{}}]}",
         "t.json: vectors[0].name: expected a non-empty string"},
        {"{\"protocol\":\"pcp\",\"source\":\"t\",\"vectors\":[{\"name\":\"a\",\"from\":\"device\","
         "\"hex\":\"00\",\"fields\":{}}]}",
         "t.json: vectors[0].source: missing"},
        {"{\"protocol\":\"pcp\",\"source\":\"t\",\"vectors\":[{\"name\":\"a\",\"source\":\"s\",\"from\":\"device\","
         "\"hex\":\"00\",\"fields\":[]}]}",
         "t.json: vectors[0].fields: expected an object"},
        {"{\"protocol\":\"pcp\",\"source\":\"t\",\"vectors\":[{\"name\":\"a\",\"source\":\"s\",\"from\":\"device\","
         "\"hex\":\"00\",\"fields\":{},\"fragment_of\":\"a\"}]}",
         "t.json: vectors[0].fragment_of: no other vector is named \"a\""},
        {"{\"protocol\":\"pcp\",\"source\":\"t\",\"vectors\":[{\"name\":\"a\",\"source\":\"s\",\"from\":\"device\","
         "\"hex\":\"00\",\"fields\":{},\"note\":7}]}",
         "t.json: vectors[0].note: expected a non-empty string"},
        {"{\"protocol\":\"jt808\",\"source\":\"t\",\"keys\":[],\"vectors\":[]}",
         "t.json: keys: expected an object of PEM texts by name"},
        {"{\"protocol\":\"jt808\",\"source\":\"t\",\"keys\":{\"k\":\"abc\"},\"vectors\":[]}",
         "t.json: keys.k: expected the PEM text of a private key"},
        {"{\"protocol\":\"jt808\",\"source\":\"t\",\"keys\":{\"k\":\"-----BEGIN PRIVATE KEY-----\"},"
         "\"vectors\":[{\"name\":\"a\",\"source\":\"s\",\"hex\":\"7E7E\",\"fields\":{},\"key\":\"j\"}]}",
         "t.json: vectors[0].key: \"j\" is not one of the file's \"keys\""},
        {"{\"protocol\":\"pcp\",\"source\":\"t\",\"keys\":{\"k\":\"-----BEGIN PRIVATE KEY-----\"},"
         "\"vectors\":[{\"name\":\"a\",\"source\":\"s\",\"from\":\"device\",\"hex\":\"00\",\"fields\":{},"
         "\"key\":\"k\"}]}",
         "t.json: vectors[0].key: pcp frames carry no encrypted bodies"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct vectors_run r;
        char err[256] = "";
        vectors_run_init(&r);
        int rc = run_text(&r, cases[i].text, err, sizeof(err));
        if (rc != -1 || strcmp(err, cases[i].err) != 0)
            fail_msg("case %zu: rc %d err '%s', want '%s'", i, rc, err, cases[i].err);
        assert_int_equal(r.n_rows, 0);
        assert_int_equal(r.n_files, 0);
        vectors_run_free(&r);
    }
}

/* Writes text to a fresh temporary file; returns its path (static buffer). */
static const char *temp_file(const char *text)
{
    static char path[64];
    snprintf(path, sizeof(path), "/tmp/test_vectors_XXXXXX");
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    size_t n = strlen(text);
    assert_int_equal(write(fd, text, n), (ssize_t)n);
    close(fd);
    return path;
}

static void test_check_file(void **state)
{
    (void)state;
    char err[256] = "";
    int pass = 0, fail = 0;
    char *good = notice_file(500, NOTICE_HEX);
    char *bad = notice_file(499, NOTICE_HEX);
    char *out = NULL;
    size_t outlen = 0;
    FILE *f = open_memstream(&out, &outlen);

    const char *p = temp_file(good);
    assert_int_equal(vectors_check_file(p, f, &pass, &fail, err, sizeof(err)), 0);
    unlink(p);
    p = temp_file(bad);
    assert_int_equal(vectors_check_file(p, f, &pass, &fail, err, sizeof(err)), 1);
    unlink(p);
    assert_int_equal(pass, 3);
    assert_int_equal(fail, 1);
    assert_int_equal(vectors_check_file("/nonexistent/v.json", f, &pass, &fail, err, sizeof(err)), 2);
    assert_string_equal(err, "/nonexistent/v.json: cannot open: No such file or directory");
    fclose(f);
    assert_non_null(strstr(out, "data.chunk_size: expected 499 / observed 500"));
    free(out);
    free(good);
    free(bad);
}

/* The shipped vector file passes (the tests run from the repository root). */
static void test_shipped_pcp_vectors(void **state)
{
    (void)state;
    struct vectors_run r;
    char err[256] = "";
    vectors_run_init(&r);
    if (vectors_run_file(&r, "vectors/pcp.json", err, sizeof(err)) != 0)
        fail_msg("%s", err);
    assert_true(r.n_rows >= 12);
    for (size_t i = 0; i < r.n_rows; i++)
        if (r.rows[i].decode == VECTORS_FAIL || r.rows[i].encode == VECTORS_FAIL)
            fail_msg("%s: %s", r.rows[i].name, r.rows[i].detail);
    assert_int_equal(r.n_fail, 0);
    vectors_run_free(&r);
}

/* The row of r named name (NULL: none). */
static const struct vectors_row *row_named(const struct vectors_run *r, const char *name)
{
    for (size_t i = 0; i < r->n_rows; i++)
        if (strcmp(r->rows[i].name, name) == 0)
            return &r->rows[i];
    return NULL;
}

#define RSA_WHOLE "0x0900 passthrough of 1000 bytes (2019) in the clear: the message its encrypted packages make"

/* vectors/jt808-rsa.json: its encrypted packages, decrypted with their key, reassemble
 * into the whole message; given another key they do not (the row says why). */
static void test_rsa_fragments_need_their_key(void **state)
{
    (void)state;
    struct vectors_run r;
    char err[256] = "";
    vectors_run_init(&r);
    if (vectors_run_file(&r, "vectors/jt808-rsa.json", err, sizeof(err)) != 0)
        fail_msg("%s", err);
    assert_int_equal(r.n_fail, 0);
    const struct vectors_row *w = row_named(&r, RSA_WHOLE " [reassembled from 2 fragments]");
    assert_non_null(w);
    assert_int_equal(w->decode, VECTORS_OK);
    vectors_run_free(&r);

    /* the same file, its packages' key swapped for another one */
    FILE *f = fopen("vectors/jt808-rsa.json", "rb");
    assert_non_null(f);
    static char text[1 << 20];
    size_t n = fread(text, 1, sizeof text - 1, f);
    fclose(f);
    text[n] = '\0';
    cJSON *root = cJSON_Parse(text);
    assert_non_null(root);
    EVP_PKEY *k = jt808_rsa_generate(err, sizeof err);
    assert_non_null(k);
    char pem[4096];
    assert_true(jt808_rsa_pem(k, pem, sizeof pem) > 0);
    EVP_PKEY_free(k);
    cJSON_AddStringToObject(cJSON_GetObjectItem(root, "keys"), "other", pem);
    const cJSON *v;
    int swapped = 0;
    cJSON_ArrayForEach(v, cJSON_GetObjectItem(root, "vectors")) {
        cJSON *key = cJSON_GetObjectItem(v, "key");
        if (cJSON_GetObjectItem(v, "fragment_of") && key) {
            cJSON_SetValuestring(key, "other");
            swapped++;
        }
    }
    assert_int_equal(swapped, 2);
    char *out = cJSON_PrintUnformatted(root);
    cJSON_Delete(root);
    vectors_run_init(&r);
    assert_int_equal(run_text(&r, out, err, sizeof err), 0);
    free(out);
    w = row_named(&r, RSA_WHOLE " [reassembled from 2 fragments]");
    assert_non_null(w);
    assert_int_equal(w->decode, VECTORS_FAIL);
    assert_non_null(strstr(w->detail, "fragment 1"));
    vectors_run_free(&r);
}

/* --- subcommands ------------------------------------------------------------------ */

struct captured {
    int rc;
    char out[16384];
    char err[4096];
};

static void read_back(FILE *f, char *buf, size_t cap)
{
    rewind(f);
    size_t n = fread(buf, 1, cap - 1, f);
    buf[n] = '\0';
    fclose(f);
}

/* Runs a subcommand with stdout/stderr captured and stdin fed from in (or empty). */
static void run_cmd(int (*fn)(int, char **), int argc, char **argv, const char *in,
                    struct captured *c)
{
    FILE *o = tmpfile(), *e = tmpfile(), *i = tmpfile();
    assert_non_null(o);
    assert_non_null(e);
    assert_non_null(i);
    if (in)
        fputs(in, i);
    rewind(i);
    fflush(stdout);
    fflush(stderr);
    int so = dup(1), se = dup(2), si = dup(0);
    dup2(fileno(o), 1);
    dup2(fileno(e), 2);
    dup2(fileno(i), 0);
    clearerr(stdin);
    c->rc = fn(argc, argv);
    fflush(stdout);
    fflush(stderr);
    dup2(so, 1);
    dup2(se, 2);
    dup2(si, 0);
    clearerr(stdin);
    close(so);
    close(se);
    close(si);
    fclose(i);
    read_back(o, c->out, sizeof(c->out));
    read_back(e, c->err, sizeof(c->err));
}

static void test_cmd_decode(void **state)
{
    (void)state;
    static struct captured c;

    char *a1[] = {"decode", "pcp", NOTICE_HEX, NULL};
    run_cmd(cmd_decode, 3, a1, NULL, &c);
    assert_int_equal(c.rc, 0);
    cJSON *got = cJSON_Parse(c.out);
    char want[512];
    snprintf(want, sizeof(want), NOTICE_FIELDS, 500);
    cJSON *exp = cJSON_Parse(want);
    assert_non_null(got);
    assert_true(cJSON_Compare(got, exp, true));
    cJSON_Delete(got);
    cJSON_Delete(exp);

    /* split over arguments, then from stdin */
    char *a2[] = {"decode", "pcp", "FFFE 0116", "850E000100", NULL};
    run_cmd(cmd_decode, 4, a2, NULL, &c);
    assert_int_equal(c.rc, 0);
    assert_non_null(strstr(c.out, "\"status\":\t0"));
    assert_non_null(strstr(c.out, "\"from\":\t\"device\""));
    char *a3[] = {"decode", "--from", "platform", "pcp", "-", NULL};
    run_cmd(cmd_decode, 5, a3, "FFFE0116850E000100\n", &c);
    assert_int_equal(c.rc, 0);
    assert_non_null(strstr(c.out, "\"result\":\t0"));
    assert_non_null(strstr(c.out, "\"direction\":\t\"response\""));
    /* 0x16 with 80: only the platform says "no task" */
    char *a4[] = {"decode", "pcp", "FFFE01161486000180", NULL};
    run_cmd(cmd_decode, 3, a4, NULL, &c);
    assert_int_equal(c.rc, 0);
    assert_non_null(strstr(c.out, "\"from\":\t\"platform\""));

    /* malformed frame: exit 1, one line on stderr */
    char *b1[] = {"decode", "pcp", "FFFE01134C9B0000", NULL};
    run_cmd(cmd_decode, 3, b1, NULL, &c);
    assert_int_equal(c.rc, 1);
    assert_string_equal(c.out, "");
    assert_string_equal(c.err, "error: crc at byte 4 (check): check field mismatch\n");
    char *b2[] = {"decode", "-f", "device", "pcp", "FFFE01161486000180", NULL};
    run_cmd(cmd_decode, 5, b2, NULL, &c);
    assert_int_equal(c.rc, 1);
    assert_string_equal(c.err, "error: value at byte 8 (data.status): value outside the allowed set\n");

    /* bad hex and usage: exit 2 */
    char *u1[] = {"decode", "pcp", "FFFE01G3", NULL};
    run_cmd(cmd_decode, 3, u1, NULL, &c);
    assert_int_equal(c.rc, 2);
    assert_string_equal(c.err, "fleetsim decode: bad hex character 'G' at position 7\n");
    char *u2[] = {"decode", "pcp", "FFF", NULL};
    run_cmd(cmd_decode, 3, u2, NULL, &c);
    assert_int_equal(c.rc, 2);
    assert_non_null(strstr(c.err, "odd number of hex digits"));
    char *u3[] = {"decode", "ip", "00", NULL};
    run_cmd(cmd_decode, 3, u3, NULL, &c);
    assert_int_equal(c.rc, 2);
    assert_non_null(strstr(c.err, "unknown protocol 'ip' (jt808, pcp or product)"));
    char *u4[] = {"decode", "--from", "cloud", "pcp", "00", NULL};
    run_cmd(cmd_decode, 5, u4, NULL, &c);
    assert_int_equal(c.rc, 2);
    assert_non_null(strstr(c.err, "--from 'cloud': expected device or platform"));
    char *u5[] = {"decode", "--from", "device", "jt808", "7E7E", NULL};
    run_cmd(cmd_decode, 5, u5, NULL, &c);
    assert_int_equal(c.rc, 2);
    assert_non_null(strstr(c.err, "--from applies to pcp and product only"));
    char *u6[] = {"decode", "--nope", NULL};
    run_cmd(cmd_decode, 2, u6, NULL, &c);
    assert_int_equal(c.rc, 2);
    assert_non_null(strstr(c.err, "unknown option '--nope'"));
    char *u7[] = {"decode", "pcp", NULL};
    run_cmd(cmd_decode, 2, u7, NULL, &c);
    assert_int_equal(c.rc, 2);
    char *u8[] = {"decode", "pcp", "-", NULL};
    run_cmd(cmd_decode, 3, u8, "  \n", &c);
    assert_int_equal(c.rc, 2);
    assert_string_equal(c.err, "fleetsim decode: no hex digits given\n");

    char *h[] = {"decode", "--help", NULL};
    run_cmd(cmd_decode, 2, h, NULL, &c);
    assert_int_equal(c.rc, 0);
    assert_non_null(strstr(c.out, "usage: fleetsim decode [options] jt808|pcp HEX...\n"));
    assert_non_null(strstr(c.out, "  -f, --from WHO   pcp, product"));
}

static void test_cmd_encode(void **state)
{
    (void)state;
    static struct captured c;
    char json[512];
    snprintf(json, sizeof(json), NOTICE_FIELDS, 500);

    char *a1[] = {"encode", "pcp", json, NULL};
    run_cmd(cmd_encode, 3, a1, NULL, &c);
    assert_int_equal(c.rc, 0);
    assert_string_equal(c.out, NOTICE_HEX "\n");

    char *a2[] = {"encode", "pcp", "-", NULL};
    run_cmd(cmd_encode, 3, a2, "{\"code\":\"0x17\",\"from\":\"device\",\"data\":{\"result\":0}}", &c);
    assert_int_equal(c.rc, 0);
    assert_string_equal(c.out, "FFFE0117B725000100\n");

    char at[80];
    const char *p = temp_file("{\"code\":\"0x13\",\"direction\":\"request\"}");
    snprintf(at, sizeof(at), "@%s", p);
    char *a3[] = {"encode", "pcp", at, NULL};
    run_cmd(cmd_encode, 3, a3, NULL, &c);
    unlink(p);
    assert_int_equal(c.rc, 0);
    assert_string_equal(c.out, "FFFE01134C9A0000\n");

    char *b1[] = {"encode", "pcp", "{\"code\":\"0x17\",\"from\":\"device\",\"data\":{\"result\":0,\"x\":1}}", NULL};
    run_cmd(cmd_encode, 3, b1, NULL, &c);
    assert_int_equal(c.rc, 2);
    assert_string_equal(c.out, "");
    assert_string_equal(c.err, "error: data.x: unknown field\n");
    char *b2[] = {"encode", "pcp", "{\"code\":\"0x17\",\n\"from\" \"device\"}", NULL};
    run_cmd(cmd_encode, 3, b2, NULL, &c);
    assert_int_equal(c.rc, 2);
    assert_string_equal(c.err, "error: (argument):2:8: JSON syntax error near '\"device\"}'\n");
    char *b3[] = {"encode", "pcp", "@/nonexistent.json", NULL};
    run_cmd(cmd_encode, 3, b3, NULL, &c);
    assert_int_equal(c.rc, 2);
    assert_non_null(strstr(c.err, "/nonexistent.json: cannot read"));
    char *b4[] = {"encode", "pcp", "{}", "{}", NULL};
    run_cmd(cmd_encode, 4, b4, NULL, &c);
    assert_int_equal(c.rc, 2);
    char *h[] = {"encode", "-h", NULL};
    run_cmd(cmd_encode, 2, h, NULL, &c);
    assert_int_equal(c.rc, 0);
    assert_non_null(strstr(c.out, "usage: fleetsim encode [options] jt808|pcp JSON\n"));
}

static void test_cmd_vectors(void **state)
{
    (void)state;
    static struct captured c;
    char *good = notice_file(500, NOTICE_HEX);
    char *bad = notice_file(501, NOTICE_HEX);
    char pg[64], pb[64];

    snprintf(pg, sizeof(pg), "%s", temp_file(good));
    snprintf(pb, sizeof(pb), "%s", temp_file(bad));

    char *a1[] = {"vectors", pg, NULL};
    run_cmd(cmd_vectors, 2, a1, NULL, &c);
    assert_int_equal(c.rc, 0);
    assert_non_null(strstr(c.out, "2 vectors in 1 file: 2 passed, 0 failed\n"));

    char *a2[] = {"vectors", "-q", pg, pb, NULL};
    run_cmd(cmd_vectors, 4, a2, NULL, &c);
    assert_int_equal(c.rc, 1);
    assert_non_null(strstr(c.out, "4 vectors in 2 files: 3 passed, 1 failed\n"));
    assert_null(strstr(c.out, pg));  /* quiet: passing rows hidden */

    char *a3[] = {"vectors", pg, "/nonexistent/x.json", NULL};
    run_cmd(cmd_vectors, 3, a3, NULL, &c);
    assert_int_equal(c.rc, 2);
    assert_non_null(strstr(c.err, "fleetsim vectors: /nonexistent/x.json: cannot open"));
    assert_non_null(strstr(c.out, "2 vectors in 1 file: 2 passed, 0 failed\n"));

    char *a4[] = {"vectors", "--what", NULL};
    run_cmd(cmd_vectors, 2, a4, NULL, &c);
    assert_int_equal(c.rc, 2);
    char *a5[] = {"vectors", "--help", NULL};
    run_cmd(cmd_vectors, 2, a5, NULL, &c);
    assert_int_equal(c.rc, 0);
    assert_non_null(strstr(c.out, "  -q, --quiet   list only failing vectors, then the total\n"));

    unlink(pg);
    unlink(pb);
    free(good);
    free(bad);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_good_file_passes),
        cmocka_unit_test(test_altered_field_fails),
        cmocka_unit_test(test_altered_byte_fails),
        cmocka_unit_test(test_error_entries),
        cmocka_unit_test(test_malformed_files),
        cmocka_unit_test(test_check_file),
        cmocka_unit_test(test_shipped_pcp_vectors),
        cmocka_unit_test(test_rsa_fragments_need_their_key),
        cmocka_unit_test(test_cmd_decode),
        cmocka_unit_test(test_cmd_encode),
        cmocka_unit_test(test_cmd_vectors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
