/* `fleetsim vectors`, `fleetsim decode` and `fleetsim encode`: the codecs by hand.
 * Output goes to stdout, diagnostics to stderr; exit 0 ok, 1 check failed,
 * 2 usage or input error. */
#include <errno.h>
#include <getopt.h>
#include <glob.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness/vectors.h"
#include "harness/textfile.h"
#include "sim/cli/cmd.h"
#include "sim/cli/cmd_product.h"
#include "sim/proto/hex.h"
#include "sim/proto/jt808.h"
#include "sim/proto/jt808_rsa.h"

#define CMD_MAX_INPUT (16u << 20)

/* encode's JT/T 808 edition when the JSON names none: the scenarios' default
 * (a fleet's "version", harness/scenario_jt808.c). */
#define CMD_JT808_EDITION "2019"

static const char cmd_vectors_usage[] =
    "usage: fleetsim vectors [options] [FILE...]\n"
    "\n"
    "Check golden vector files both ways: decoding an entry's hex must give its\n"
    "\"fields\", encoding the fields must give the same bytes back, and an entry with\n"
    "an \"error\" must fail to decode with that code at that byte offset.  Without\n"
    "FILE, every vectors/*.json of the current directory is checked (or, when there\n"
    "is none, of the installed share/fleetsim/vectors).\n"
    "\n"
    "options:\n"
    "  -q, --quiet   list only failing vectors, then the total\n"
    "  -l, --list    print each entry as KIND<tab>HEX<tab>FROM (KIND: ok | error)\n"
    "                without checking, for scripts that feed `fleetsim decode`\n"
    "  -h, --help    show this help\n"
    "\n"
    "exit status: 0 every vector passed, 1 a vector failed,\n"
    "             2 usage error or an unreadable or malformed file\n";

static const char cmd_decode_usage[] =
    "usage: fleetsim decode [options] jt808|pcp HEX...\n"
    "       fleetsim decode [options] jt808|pcp -\n"
    "       fleetsim decode --profile FILE [options] product HEX...\n"
    "\n"
    "Decode one frame and print it as JSON.  HEX is the whole frame (jt808: 7E to\n"
    "7E, escaped as on the wire), in either case; several arguments are joined;\n"
    "\"-\" reads the hex from standard input.  Spaces may stand anywhere, \":\" and\n"
    "\"-\" between bytes, and each argument or space-separated group may begin with\n"
    "0x: 7E000200..., \"7E 00 02 ...\", 7E:00:02:..., 7e-00-02-..., 0x7E0002... all\n"
    "read alike.\n"
    "\n"
    "Positions in errors: bad hex names the character and its column in the input\n"
    "as typed, counted from 1 (\"at position 5\", \"at position 3 of argument 2\" when\n"
    "several arguments were given, \"at line 2, position 7\" for multi-line standard\n"
    "input); a malformed frame names a byte of the decoded frame, counted from 0\n"
    "(\"at byte 13\", escapes included).\n"
    "\n"
    "options:\n"
    "  -p, --pretty     print the JSON indented, one field a line (the default)\n"
    "  -c, --compact    print the JSON on one line\n"
    "  -P, --profile FILE  product: the product file (profiles/, docs/profiles.md)\n"
    "                   whose codec reads the message (default --from device:\n"
    "                   a report or a response; platform: a command)\n"
    "  -f, --from WHO   pcp, product: who sent the frame, device or platform; this\n"
    "                   decides request or response.  Default, read from the data:\n"
    "                     0x13, 0x17  with data: device's reply; none: platform's request\n"
    "                     0x14        1 byte: device's reply; else platform's request\n"
    "                     0x15        18 bytes: device's request; else platform's reply\n"
    "                     0x18        17 bytes: device's request; else platform's reply\n"
    "                     0x16        request and reply look alike: 80 (no task) is the\n"
    "                                 platform's reply, any other byte the device's report\n"
    "                   and when that side cannot have sent it, the other side\n"
    "  -s, --strict     jt808: a deviation from the standard is an error (exit 1)\n"
    "  -k, --key FILE   jt808: the receiver's 1024-bit RSA private key (PEM): an\n"
    "                   RSA-encrypted body (encryption 1) is decrypted and decoded,\n"
    "                   shown with \"decrypted\": true (offsets inside the body then\n"
    "                   count from the start of the plaintext); a block that does not\n"
    "                   decrypt is an error naming the byte where it starts.  Without\n"
    "                   a key such a body is shown as body_hex, with a note on stderr\n"
    "  -h, --help       show this help\n"
    "\n"
    "jt808 frames that deviate the way field devices do (an item or parameter whose\n"
    "length disagrees with its type, a count larger than the body holds, bytes after\n"
    "the last field, an item running past the body, a lone 0x7D before the closing\n"
    "0x7E read as the check byte) decode: the JSON lists them under \"deviations\" and\n"
    "stderr has a line for each: \"deviation: KIND at byte N (FIELD): TEXT\".\n"
    "\n"
    "exit status: 0 decoded (deviations or not, without --strict),\n"
    "             1 malformed frame (stderr: \"error: CODE at byte N (FIELD): TEXT\",\n"
    "               N from 0), or a deviation with --strict,\n"
    "             2 usage error or bad hex (stderr: \"... at position C\", C from 1)\n";

/* The text of a deviation kind named in the decode's JSON. */
static const char *cmd_dev_text(const char *name)
{
    for (int k = 0; name && k < JT808_DEV__COUNT; k++)
        if (strcmp(name, jt808_dev_name((enum jt808_dev_kind)k)) == 0)
            return jt808_dev_text((enum jt808_dev_kind)k);
    return "deviation";
}

static const char cmd_encode_usage[] =
    "usage: fleetsim encode [options] jt808|pcp JSON\n"
    "       fleetsim encode [options] jt808|pcp @FILE\n"
    "       fleetsim encode [options] jt808|pcp -\n"
    "       fleetsim encode --profile FILE product JSON|@FILE|-\n"
    "\n"
    "Encode one frame from JSON shaped as `fleetsim decode` prints it (a literal, a\n"
    "file, or standard input) and print the frame in hex, uppercase, no spaces.\n"
    "Length fields, check codes and (jt808) escaping are computed.  pcp needs\n"
    "\"code\", \"direction\" or \"from\", and \"data\" as the message defines it;\n"
    "\"version\" defaults to 1; \"name\", \"check\" and \"length\" may be left out\n"
    "(when given, check and length are not copied: the frame gets computed ones).\n"
    "jt808 needs \"msg_id\" and \"phone\"; \"version\" (the JT/T 808 edition of the\n"
    "header, \"2013\" or \"2019\") defaults to \"" CMD_JT808_EDITION "\", as in scenarios.\n"
    "product needs --profile FILE and {\"message\": NAME, \"data\": {...}} with \"mid\"\n"
    "(commands, responses) and \"errcode\" (responses): the values are checked\n"
    "against the product model.\n"
    "\n"
    "jt808 JSON with \"encryption\": 1 and \"decrypted\": true gives the body as its\n"
    "plaintext (\"body\" or \"body_hex\"): --key encrypts it (117-byte blocks, PKCS#1\n"
    "v1.5, random padding: each run writes other bytes).\n"
    "\n"
    "options:\n"
    "  -P, --profile FILE  product: the product file whose codec lays the message out\n"
    "  -k, --key FILE   jt808: the RSA key (PEM, a private key: its public half is\n"
    "                   used) to encrypt a \"decrypted\" body for its holder\n"
    "  -h, --help       show this help\n"
    "\n"
    "exit status: 0 encoded, 2 usage error or bad JSON (stderr names the JSON path)\n";

/* Whole stream into a NUL-terminated buffer (caller frees); NULL with errno set. */
static char *cmd_slurp(FILE *f, size_t *len)
{
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap);

    while (buf) {
        if (n + 1 >= cap) {
            if (cap >= CMD_MAX_INPUT) {
                free(buf);
                errno = EFBIG;
                return NULL;
            }
            char *t = realloc(buf, cap * 2);
            if (!t) {
                free(buf);
                return NULL;
            }
            buf = t;
            cap *= 2;
        }
        size_t got = fread(buf + n, 1, cap - 1 - n, f);
        n += got;
        if (got == 0) {
            if (ferror(f)) {
                free(buf);
                errno = EIO;
                return NULL;
            }
            buf[n] = '\0';
            *len = n;
            return buf;
        }
    }
    return NULL;
}

static const struct vectors_codec *cmd_codec_arg(const char *name, const char *proto, int *rc)
{
    const struct vectors_codec *codec = vectors_codec_find(proto);
    if (!codec) {
        *rc = cmd_usage_error(name, "unknown protocol '%s' (jt808, pcp or product)", proto);
    }
    return codec;
}

/* --- vectors ----------------------------------------------------------------- */

/* Default vector files: ./vectors, else <prefix>/share/fleetsim/vectors beside the binary. */
static int cmd_vectors_default(glob_t *g)
{
    char pattern[PATH_MAX + 64];

    if (glob("vectors/*.json", 0, NULL, g) == 0)
        return 0;
    globfree(g);
    if (cmd_share_path("vectors/*.json", pattern, sizeof pattern) < 0)
        return -1;
    if (glob(pattern, 0, NULL, g) == 0)
        return 0;
    globfree(g);
    return -1;
}

/* --list: one line per entry, for scripts. */
static int cmd_vectors_list(char **files, size_t n_files)
{
    int rc = 0;
    for (size_t i = 0; i < n_files; i++) {
        char err[512], *text;
        size_t len;
        int e = textfile_read(files[i], 16u << 20, &text, &len);
        if (e) {
            fprintf(stderr, "fleetsim vectors: %s: %s\n", files[i], e == EFBIG ? "larger than 16 MiB" : strerror(e));
            rc = 2;
            continue;
        }
        cJSON *root = vectors_parse_json(files[i], text, len, err, sizeof err);
        free(text);
        if (!root) {
            fprintf(stderr, "fleetsim vectors: %s\n", err);
            rc = 2;
            continue;
        }
        const cJSON *v;
        cJSON_ArrayForEach(v, cJSON_GetObjectItemCaseSensitive(root, "vectors"))
        {
            const cJSON *hex = cJSON_GetObjectItemCaseSensitive(v, "hex");
            const cJSON *from = cJSON_GetObjectItemCaseSensitive(v, "from");
            if (!cJSON_IsString(hex))
                continue;
            printf("%s\t%s\t%s\n", cJSON_GetObjectItemCaseSensitive(v, "error") ? "error" : "ok",
                   hex->valuestring, cJSON_IsString(from) ? from->valuestring : "-");
        }
        cJSON_Delete(root);
    }
    return rc;
}

int cmd_vectors(int argc, char **argv)
{
    static const struct option opts[] = {
        {"list", no_argument, NULL, 'l'},
        {"quiet", no_argument, NULL, 'q'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    bool quiet = false, list = false;
    int c, rc = 0;

    optind = 0;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":lqh", opts, NULL)) != -1) {
        switch (c) {
        case 'l':
            list = true;
            break;
        case 'q':
            quiet = true;
            break;
        case 'h':
            fputs(cmd_vectors_usage, stdout);
            return 0;
        default:
            return cmd_bad_option("vectors", opts, c, argv);
        }
    }

    glob_t g = {0};
    char **files = argv + optind;
    size_t n_files = (size_t)(argc - optind);
    if (n_files == 0) {
        if (cmd_vectors_default(&g) < 0) {
            fprintf(stderr, "fleetsim vectors: no vector files in ./vectors "
                            "(run from the source tree or name the files)\n");
            return 2;
        }
        files = g.gl_pathv;
        n_files = g.gl_pathc;
    }
    if (list) {
        rc = cmd_vectors_list(files, n_files);
        if (g.gl_pathv)
            globfree(&g);
        return rc;
    }

    struct vectors_run run;
    vectors_run_init(&run);
    for (size_t i = 0; i < n_files; i++) {
        char err[512];
        if (vectors_run_file(&run, files[i], err, sizeof(err)) < 0) {
            fprintf(stderr, "fleetsim vectors: %s\n", err);
            rc = 2;
        }
    }
    vectors_print(&run, stdout, quiet);
    if (rc == 0 && run.n_fail > 0)
        rc = 1;
    vectors_run_free(&run);
    if (g.gl_pathv)
        globfree(&g);
    return rc;
}

/* The PEM text of --key FILE once it reads as a JT/T 808 RSA private key (the
 * caller frees); NULL after saying why. */
static char *cmd_key_pem(const char *cmd, const char *path)
{
    char kerr[512];
    EVP_PKEY *k = jt808_rsa_load(path, kerr, sizeof kerr);
    if (!k) {
        fprintf(stderr, "fleetsim %s: --key %s\n", cmd, kerr);
        return NULL;
    }
    EVP_PKEY_free(k);
    FILE *f = fopen(path, "rb");
    size_t len = 0;
    char *pem = f ? cmd_slurp(f, &len) : NULL;
    if (f)
        fclose(f);
    if (!pem)
        fprintf(stderr, "fleetsim %s: --key %s: %s\n", cmd, path, strerror(errno));
    return pem;
}

/* --- decode ------------------------------------------------------------------ */

/* Without --from, who sent a PCP frame, from the shape of its data (see the usage). */
static bool cmd_pcp_from_device(const uint8_t *b, size_t n)
{
    if (n < 8)
        return true;
    size_t len = (size_t)(b[6] << 8 | b[7]);
    switch (b[3]) {
    case 0x13:
    case 0x17:
        return len != 0;
    case 0x14:
        return len == 1;
    case 0x15:
        return len == 18;
    case 0x16:
        return !(n > 8 && b[8] == 0x80);
    case 0x18:
        return len == 17;
    }
    return true;
}

/* The HEX arguments joined with spaces, or standard input for "-".  starts[i] (argc
 * entries, the caller frees) is where argument i begins in the result; NULL for "-". */
static char *cmd_hex_input(int argc, char **argv, size_t *len, size_t **starts)
{
    *starts = NULL;
    if (argc == 1 && strcmp(argv[0], "-") == 0)
        return cmd_slurp(stdin, len);
    size_t total = 0;
    for (int i = 0; i < argc; i++)
        total += strlen(argv[i]) + 1;
    char *s = malloc(total + 1);
    *starts = malloc((size_t)argc * sizeof **starts);
    if (!s || !*starts) {
        free(s);
        free(*starts);
        *starts = NULL;
        errno = ENOMEM;
        return NULL;
    }
    size_t n = 0;
    for (int i = 0; i < argc; i++) {
        size_t k = strlen(argv[i]);
        if (i > 0)
            s[n++] = ' ';
        (*starts)[i] = n;
        memcpy(s + n, argv[i], k);
        n += k;
    }
    s[n] = '\0';
    *len = n;
    return s;
}

/* Characters (UTF-8 sequences) from s to s + n, counted from 1 as an editor shows them. */
static size_t cmd_column(const char *s, size_t n)
{
    size_t col = 1;
    for (size_t i = 0; i < n; i++)
        col += ((unsigned char)s[i] & 0xC0) != 0x80;
    return col;
}

/* Where hex input index pos is, as typed, in hex_format_error's convention (the
 * column counted from 1): "position C" in the only argument, "position C of
 * argument A" among several, and on standard input "position C" or, when the hex
 * spans lines, "line L, position C". */
static void cmd_hex_where(const char *s, size_t n, size_t pos, const size_t *starts, int nargs,
                          char *buf, size_t cap)
{
    if (pos > n)
        pos = n;
    if (starts) {
        int a = 0;
        while (a + 1 < nargs && starts[a + 1] <= pos)
            a++;
        size_t col = cmd_column(s + starts[a], pos - starts[a]);
        if (nargs > 1)
            snprintf(buf, cap, "position %zu of argument %d", col, a + 1);
        else
            snprintf(buf, cap, "position %zu", col);
        return;
    }
    size_t line = 1, bol = 0;
    for (size_t i = 0; i < pos; i++)
        if (s[i] == '\n') {
            line++;
            bol = i + 1;
        }
    const char *nl = memchr(s, '\n', n);
    bool lines = nl && (size_t)(nl - s) + 1 < n && strspn(nl, " \t\r\n") < n - (size_t)(nl - s);
    if (lines)
        snprintf(buf, cap, "line %zu, position %zu", line, cmd_column(s + bol, pos - bol));
    else
        snprintf(buf, cap, "position %zu", cmd_column(s + bol, pos - bol));
}

int cmd_decode(int argc, char **argv)
{
    static const struct option opts[] = {
        {"from", required_argument, NULL, 'f'},
        {"compact", no_argument, NULL, 'c'},
        {"pretty", no_argument, NULL, 'p'},
        {"strict", no_argument, NULL, 's'},
        {"key", required_argument, NULL, 'k'},
        {"profile", required_argument, NULL, 'P'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *key_path = NULL, *profile = NULL;
    int from = -1;  /* -1: read from the data, 0 platform, 1 device */
    bool compact = false, strict = false;
    int c, rc = 2;

    optind = 0;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":f:k:P:cpsh", opts, NULL)) != -1) {
        switch (c) {
        case 'c':
            compact = true;
            break;
        case 'P':
            profile = optarg;
            break;
        case 'k':
            key_path = optarg;
            break;
        case 's':
            strict = true;
            break;
        case 'p':
            compact = false;
            break;
        case 'f':
            if (strcmp(optarg, "device") == 0)
                from = 1;
            else if (strcmp(optarg, "platform") == 0)
                from = 0;
            else
                return cmd_usage_error("decode", "--from '%s': expected device or platform", optarg);
            break;
        case 'h':
            fputs(cmd_decode_usage, stdout);
            return 0;
        default:
            return cmd_bad_option("decode", opts, c, argv);
        }
    }
    if (argc - optind < 1)
        return cmd_usage_error("decode", "missing protocol (jt808, pcp or product)");
    bool product = strcmp(argv[optind], "product") == 0;
    if (product != (profile != NULL))
        return cmd_usage_error("decode", product ? "product needs --profile FILE" : "--profile applies to product only");
    const struct vectors_codec *codec = product ? NULL : cmd_codec_arg("decode", argv[optind], &rc);
    if (!codec && !product)
        return rc;
    if (product && (key_path || strict))
        return cmd_usage_error("decode", "%s applies to jt808 only", key_path ? "--key" : "--strict");
    if (argc - optind < 2)
        return cmd_usage_error("decode", "missing the frame (HEX or -)");
    if (from >= 0 && !product && !codec->has_from)
        return cmd_usage_error("decode", "--from applies to pcp and product only");
    if (key_path && !product && !codec->decode_key)
        return cmd_usage_error("decode", "--key applies to jt808 only");
    char *pem = NULL;
    if (key_path && !(pem = cmd_key_pem("decode", key_path)))
        return 2;

    size_t hlen = 0, n = 0, pos = 0, *starts = NULL;
    int nargs = argc - optind - 1;
    char *hex = cmd_hex_input(nargs, argv + optind + 1, &hlen, &starts);
    uint8_t *frame = NULL;
    cJSON *json = NULL;
    rc = 2;
    if (!hex) {
        fprintf(stderr, "fleetsim decode: cannot read the frame: %s\n", strerror(errno));
        goto done;
    }
    frame = malloc(hlen / 2 + 1);
    if (!frame) {
        fprintf(stderr, "fleetsim decode: out of memory\n");
        goto done;
    }
    enum hex_rc hrc = hex_decode(hex, hlen, HEX_SPACES | HEX_SEPARATORS | HEX_PREFIX, frame,
                                 hlen / 2 + 1, &n, &pos);
    if (hrc != HEX_OK) {
        char msg[200], where[64];
        cmd_hex_where(hex, hlen, pos, starts, nargs, where, sizeof where);
        hex_format_error_at(hrc, pos < hlen ? (unsigned char)hex[pos] : 0, where, msg, sizeof msg);
        fprintf(stderr, "fleetsim decode: %s\n", msg);
        goto done;
    }
    if (n == 0) {
        fprintf(stderr, "fleetsim decode: no hex digits given\n");
        goto done;
    }

    if (product) {
        rc = cmd_decode_product(profile, from != 0, compact, frame, n);
        goto done;
    }
    struct vectors_error e = {0};
    bool from_device = from >= 0 ? from == 1 : cmd_pcp_from_device(frame, n);
    int bad = pem ? codec->decode_key(frame, n, pem, &json, &e) : codec->decode(frame, n, from_device, &json, &e);
    if (bad && from < 0 && codec->has_from) {
        /* the guess can be wrong (a 15-byte chunk reply looks like a chunk request):
         * a frame that decodes from the other side is that side's */
        struct vectors_error e2 = {0};
        if (codec->decode(frame, n, !from_device, &json, &e2) == 0)
            bad = 0;
    }
    if (bad) {
        if (e.field && e.field[0])
            fprintf(stderr, "error: %s at byte %zu (%s): %s\n", e.code, e.offset, e.field, e.text);
        else
            fprintf(stderr, "error: %s at byte %zu: %s\n", e.code, e.offset, e.text);
        rc = 1;
        goto done;
    }
    char *out = compact ? cJSON_PrintUnformatted(json) : cJSON_Print(json);
    if (!out) {
        fprintf(stderr, "fleetsim decode: out of memory\n");
        goto done;
    }
    printf("%s\n", out);
    cJSON_free(out);
    rc = 0;
    const cJSON *devs = cJSON_GetObjectItemCaseSensitive(json, "deviations"), *d;
    cJSON_ArrayForEach(d, devs) {
        const char *kind = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(d, "kind"));
        const char *field = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(d, "field"));
        double off = cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(d, "offset"));
        fprintf(stderr, "deviation: %s at byte %.0f (%s): %s\n", kind ? kind : "?", off, field ? field : "",
                cmd_dev_text(kind));
    }
    const cJSON *enc = cJSON_GetObjectItemCaseSensitive(json, "encryption");
    if (cJSON_GetNumberValue(enc) == JT808_ENC_RSA && !cJSON_GetObjectItemCaseSensitive(json, "decrypted") &&
        !cJSON_GetObjectItemCaseSensitive(json, "subpackage"))
        fprintf(stderr, "note: the body is RSA-encrypted (encryption 1), shown as body_hex: "
                        "--key FILE.pem (the receiver's private key) decrypts it\n");
    if (strict && cJSON_GetArraySize(devs) > 0) {
        fprintf(stderr, "error: deviation at byte %.0f: the frame deviates (--strict)\n",
                cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(devs, 0), "offset")));
        rc = 1;
    }
done:
    cJSON_Delete(json);
    free(frame);
    free(hex);
    free(starts);
    free(pem);
    return rc;
}

/* --- encode ------------------------------------------------------------------ */

/* The JSON text of a literal, @FILE or "-"; *label names it in errors. */
static char *cmd_json_input(const char *arg, size_t *len, const char **label)
{
    if (strcmp(arg, "-") == 0) {
        *label = "(stdin)";
        return cmd_slurp(stdin, len);
    }
    if (arg[0] == '@') {
        *label = arg + 1;
        FILE *f = fopen(arg + 1, "rb");
        if (!f)
            return NULL;
        char *s = cmd_slurp(f, len);
        int saved = errno;
        fclose(f);
        errno = saved;
        return s;
    }
    *label = "(argument)";
    *len = strlen(arg);
    char *s = malloc(*len + 1);
    if (s)
        memcpy(s, arg, *len + 1);
    return s;
}

int cmd_encode(int argc, char **argv)
{
    static const struct option opts[] = {
        {"key", required_argument, NULL, 'k'},
        {"profile", required_argument, NULL, 'P'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *key_path = NULL, *profile = NULL;
    int c, rc = 2;

    optind = 0;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":k:P:h", opts, NULL)) != -1) {
        if (c == 'h') {
            fputs(cmd_encode_usage, stdout);
            return 0;
        }
        if (c == 'P') {
            profile = optarg;
            continue;
        }
        if (c == 'k') {
            key_path = optarg;
            continue;
        }
        return cmd_bad_option("encode", opts, c, argv);
    }
    if (argc - optind < 1)
        return cmd_usage_error("encode", "missing protocol (jt808, pcp or product)");
    bool product = strcmp(argv[optind], "product") == 0;
    if (product != (profile != NULL))
        return cmd_usage_error("encode", product ? "product needs --profile FILE" : "--profile applies to product only");
    const struct vectors_codec *codec = product ? NULL : cmd_codec_arg("encode", argv[optind], &rc);
    if (!codec && !product)
        return rc;
    if (product && key_path)
        return cmd_usage_error("encode", "--key applies to jt808 only");
    if (argc - optind < 2)
        return cmd_usage_error("encode", "missing the JSON (literal, @FILE or -)");
    if (argc - optind > 2)
        return cmd_usage_error("encode", "one JSON argument expected (quote it)");
    if (key_path && !product && !codec->encode_key)
        return cmd_usage_error("encode", "--key applies to jt808 only");
    char *pem = NULL;
    if (key_path && !(pem = cmd_key_pem("encode", key_path)))
        return 2;

    const char *label = "";
    size_t len = 0;
    char err[512];
    char *text = cmd_json_input(argv[optind + 1], &len, &label);
    cJSON *json = NULL;
    rc = 2;
    if (!text) {
        fprintf(stderr, "fleetsim encode: %s: cannot read: %s\n", label, strerror(errno));
        goto done;
    }
    json = vectors_parse_json(label, text, len, err, sizeof(err));
    if (!json) {
        fprintf(stderr, "error: %s\n", err);
        goto done;
    }
    if (product) {
        rc = cmd_encode_product(profile, json);
        goto done;
    }

    if (strcmp(codec->protocol, "jt808") == 0 && cJSON_IsObject(json) &&
        !cJSON_HasObjectItem(json, "version") &&
        !cJSON_AddStringToObject(json, "version", CMD_JT808_EDITION)) {
        fprintf(stderr, "fleetsim encode: out of memory\n");
        goto done;
    }

    uint8_t frame[VECTORS_MAX_FRAME];
    char hex[2 * VECTORS_MAX_FRAME + 1];
    size_t n = 0;
    if ((pem ? codec->encode_key(json, pem, frame, sizeof(frame), &n, err, sizeof(err))
             : codec->encode(json, frame, sizeof(frame), &n, err, sizeof(err))) != 0) {
        fprintf(stderr, "error: %s\n", err);
        goto done;
    }
    hex_encode(frame, n, hex, sizeof(hex));
    printf("%s\n", hex);
    rc = 0;
done:
    cJSON_Delete(json);
    free(text);
    free(pem);
    return rc;
}
