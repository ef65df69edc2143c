/* jt808_gw: every platform request and its checked reply, the terminal messages
 * of their own accord (0x0004, 0x0005, 0x0801), and the missing packages of an
 * incomplete subpackaged message asked for after the reassembly timeout.  The
 * gateway is a black box (tests/unit/gw_fixture.h): frames in, frames and
 * counters out. */
#include "tests/unit/gw_fixture.h"

#include "sim/proto/jt808_layout.h"
#include "sim/proto/jt808_pkgs.h"
#include "sim/proto/jt808_rsa.h"
#include "sim/platform/jt808/jt808_gw_rsa.h"

static struct jt808_msg lt; /* layout messages the terminal sends */

/* Build msg_id for c from kvs and send it; returns its serial. */
static uint16_t lay_send_v(struct client *c, uint16_t msg_id, enum jt808_version v, const struct jt808_lay_kv *kv,
                           size_t n)
{
    struct jt808_header h = {.msg_id = msg_id, .version = v, .proto_version = v == JT808_V2019 ? 1 : 0};
    snprintf(h.phone, sizeof h.phone, "%s", c->phone);
    h.serial = c->serial++;
    struct jt808_err e;
    if (jt808_lay_build(&lt, &h, kv, n, &e) != JT808_OK)
        fail_msg("build 0x%04X: %s (%s)", msg_id, jt808_rc_name(e.rc), e.field ? e.field : "");
    uint8_t frame[JT808_MAX_FRAME];
    size_t len = 0;
    if (jt808_encode(&lt, frame, sizeof frame, &len, &e) != JT808_OK)
        fail_msg("encode 0x%04X: %s (%s)", msg_id, jt808_rc_name(e.rc), e.field ? e.field : "");
    send_all(c, frame, len);
    return h.serial;
}

static uint16_t lay_send(struct client *c, uint16_t msg_id, const struct jt808_lay_kv *kv, size_t n)
{
    return lay_send_v(c, msg_id, c->v, kv, n);
}

/* The next frame from the gateway, raw (with flags) into out, and decoded into rx. */
static size_t rx_raw(struct client *c, uint8_t *out, size_t cap)
{
    for (;;) {
        size_t start = 0, len = 0, skipped = 0;
        if (jt808_frame_find(c->buf, c->len, &start, &len, &skipped)) {
            assert_true(len <= cap);
            memcpy(out, c->buf + start, len);
            rx_next(c);
            return len;
        }
        ssize_t r = recv(c->fd, c->buf + c->len, sizeof c->buf - c->len, 0);
        if (r <= 0)
            fail_msg("no frame from the gateway: %s", r == 0 ? "closed" : strerror(errno));
        c->len += (size_t)r;
    }
}

/* The command msg_id to the one terminal c; returns the serial it came with. */
static uint16_t command(struct fixture *f, struct client *c, uint16_t msg_id, const char *body)
{
    send_ctl_command(f, msg_id, 1, body);
    rx_next(c);
    if (rx.h.msg_id != msg_id)
        fail_msg("expected 0x%04X, got 0x%04X", msg_id, rx.h.msg_id);
    return rx.h.serial;
}

static const struct cmd_stats *cs_of(struct fixture *f, uint16_t msg_id)
{
    return &f->slot->cmd[0][jt808_kind_index(msg_id)];
}

/* --- scenario-time checks ------------------------------------------------------------ */

static void test_check_kinds(void **state)
{
    (void)state;
    char err[256] = "";
    assert_int_equal(jt808_kind_index(0x8A00), JT808_N_KINDS - 1);
    assert_int_equal(jt808_kind_index(0x8103), 0); /* older reports count by these indexes */
    assert_int_equal(jt808_kind_index(0x8108), 5);
    for (int i = 0; i < JT808_N_KINDS; i++) {
        uint16_t id = jt808_kind_msg(i);
        const struct jt808_kind_info *k = jt808_kind_info(i);
        for (int v = 2013; v <= 2019; v += 6) {
            unsigned ed = v == 2019 ? JT808_KE_2019 : JT808_KE_2013;
            int rc = gw_check_command(id, v, NULL, err, sizeof err);
            if (!(k->editions & ed)) {
                assert_int_equal(rc, -1);
                assert_non_null(strstr(err, "only"));
            } else if (id == 0x8103 || id == 0x8105 || id == 0x8300 || id == 0x8108) {
                assert_int_equal(rc, -1); /* these need a body */
            } else if (rc != 0) {
                fail_msg("0x%04X %d with its default body: %s", id, v, err);
            }
        }
    }
    assert_int_equal(gw_check_command(0x8304, 2019, NULL, err, sizeof err), -1);
    assert_string_equal(err, "0x8304 exists in JT/T 808-2013 only: not a request for 2019 terminals");
    assert_int_equal(gw_check_command(0x8204, 2011, NULL, err, sizeof err), -1);
    assert_non_null(strstr(err, "2019 only"));
    /* bodiless: the gateway fills in its own key when it sends it */
    assert_int_equal(gw_check_command(0x8A00, 2013, NULL, err, sizeof err), 0);
    assert_int_equal(gw_check_command(0x8A00, 2013, "{\"e\":65537,\"n\":\"00\"}", err, sizeof err), -1);
    assert_non_null(strstr(err, "body.n"));
    assert_int_equal(gw_check_command(0x8202, 2013, "{\"interval\":5,\"duration\":60,\"bogus\":1}", err, sizeof err),
                     -1);
    assert_non_null(strstr(err, "body.bogus"));
    assert_int_equal(gw_check_command(0x8600, 2013, "{\"attr\":0,\"areas\":[{\"id\":1,\"attr\":0,\"lat\":1,\"lon\":1,"
                                                    "\"radius\":5,\"name\":\"x\"}]}",
                                      err, sizeof err),
                     -1); /* names are 2019's */
    assert_non_null(strstr(err, "areas[0].name"));
}

/* --- replies ----------------------------------------------------------------------------- */

/* 0x8106 -> 0x0104 with only the asked ids; an id not asked is refused. */
static void test_reply_8106(void **state)
{
    struct fixture *f = *state;
    gw_start(f);
    struct client *c = cl_open(f, 0, JT808_V2013, PHONE13);
    online(c);
    uint16_t s = command(f, c, 0x8106, "{\"ids\":[{\"id\":1},{\"id\":41}]}");
    assert_int_equal(rx.b.params.n_params, 0); /* 0x8106 is a layout body */
    uint32_t id0 = 0;
    assert_true(jt808_lay_get_u32(rx.lay, "ids[1].id", &id0));
    assert_int_equal(id0, 41);
    static struct jt808_param ps[2];
    tx_begin(c, 0x0104);
    tx.b.params_resp.ack_serial = s;
    tx.b.params_resp.p.params = ps;
    tx.b.params_resp.p.n_params = 1;
    ps[0] = (struct jt808_param){.id = 0x0001, .type = JT808_PT_DWORD, .len = 4, .num = 30};
    tx_send(c);
    assert_int_equal(wait_u64(&cs_of(f, 0x8106)->answered, 1), 1);
    expect_silence(c, 50);

    s = command(f, c, 0x8106, "{\"ids\":[{\"id\":1}]}");
    tx_begin(c, 0x0104);
    tx.b.params_resp.ack_serial = s;
    tx.b.params_resp.p.params = ps;
    tx.b.params_resp.p.n_params = 2;
    ps[1] = (struct jt808_param){.id = 0x0029, .type = JT808_PT_DWORD, .len = 4, .num = 10};
    tx_send(c);
    assert_int_equal(wait_u64(&cs_of(f, 0x8106)->refused, 1), 1);
    assert_int_equal(f->slot->c[GWC_REPLY_BAD_IDS], 1);
    assert_int_equal(cs_of(f, 0x8106)->answered, 1);
    assert_int_equal(f->slot->ledger.why[LEDGER_REFUSED], 1);
}

static const struct jt808_lay_kv props[] = {
    {.path = "type", .u = 1},          {.path = "manufacturer", .s = "MF001"}, {.path = "model", .s = "MODEL-A1"},
    {.path = "terminal_id", .s = "T01"}, {.path = "iccid", .s = "89860000000000000001"},
    {.path = "hw_version", .s = "HW1"},  {.path = "fw_version", .s = "FW2"},  {.path = "gnss", .u = 3},
    {.path = "comm", .u = 1},
};
#define N_PROPS (sizeof props / sizeof props[0])

/* 0x8107 -> 0x0107 in the terminal's edition's widths; the other edition's is invalid. */
static void test_reply_0107_widths(void **state)
{
    struct fixture *f = *state;
    gw_start(f);
    struct client *c = cl_open(f, 0, JT808_V2013, PHONE13);
    online(c);
    command(f, c, 0x8107, NULL);
    assert_int_equal(rx.body_bytes, 0);
    lay_send(c, 0x0107, props, N_PROPS);
    assert_int_equal(wait_u64(&cs_of(f, 0x8107)->answered, 1), 1);

    /* the 2019 widths (BYTE[11], BYTE[30], BYTE[30]) under a 2013 header */
    command(f, c, 0x8107, NULL);
    struct jt808_header h = {.msg_id = 0x0107, .version = JT808_V2019, .proto_version = 1};
    snprintf(h.phone, sizeof h.phone, "%s", c->phone);
    struct jt808_err e;
    assert_int_equal(jt808_lay_build(&lt, &h, props, N_PROPS, &e), JT808_OK);
    static uint8_t body19[512];
    size_t n19 = 0;
    assert_int_equal(jt808_body_encode(&lt, body19, sizeof body19, &n19, &e), JT808_OK);
    assert_int_equal(n19, 2 + 11 + 30 + 30 + 10 + 1 + 3 + 1 + 3 + 2);
    tx_begin(c, 0x0107);
    tx.body = body19;
    tx.body_bytes = n19;
    tx_send(c);
    /* 2013's 20-byte model cuts into the 2019 manufacturer's padding: the body is off
     * its layout, the frame is refused (0x8001 result 2) and so is the answer */
    expect_gen_to(c, 0x0107, (uint16_t)(c->serial - 1), 2);
    assert_int_equal(wait_u64(&cs_of(f, 0x8107)->refused, 1), 1);
    assert_int_equal(f->slot->c[GWC_REPLY_BAD_BODY], 1);
    assert_int_equal(cs_of(f, 0x8107)->answered, 1);

    /* the right widths with a byte too many: left over, invalid too */
    command(f, c, 0x8107, NULL);
    struct jt808_header h13 = {.msg_id = 0x0107, .version = JT808_V2013};
    snprintf(h13.phone, sizeof h13.phone, "%s", c->phone);
    assert_int_equal(jt808_lay_build(&lt, &h13, props, N_PROPS, &e), JT808_OK);
    size_t n13 = 0;
    assert_int_equal(jt808_body_encode(&lt, body19, sizeof body19, &n13, &e), JT808_OK);
    assert_int_equal(n13, 2 + 5 + 20 + 7 + 10 + 1 + 3 + 1 + 3 + 2);
    body19[n13++] = 0xEE;
    tx_begin(c, 0x0107);
    tx.body = body19;
    tx.body_bytes = n13;
    tx_send(c);
    assert_int_equal(wait_u64(&cs_of(f, 0x8107)->refused, 2), 2);
    assert_int_equal(f->slot->c[GWC_REPLY_BAD_BODY], 2);
}

/* 0x8500 -> 0x0500 with a location (stored); a 0x0001 instead is the wrong reply. */
static void test_reply_0500(void **state)
{
    struct fixture *f = *state;
    gw_start(f);
    struct client *c = cl_open(f, 0, JT808_V2019, PHONE19);
    online(c);
    uint16_t s = command(f, c, 0x8500, NULL);
    uint32_t ctl = 0;
    assert_true(jt808_lay_get_u32(rx.lay, "controls[0].id", &ctl)); /* the 2019 default */
    assert_int_equal(ctl, 1);
    static uint8_t loc[28];
    memset(loc, 0, sizeof loc);
    loc[7] = 0x10; /* status bit 12: doors locked */
    loc[11] = 1;
    struct jt808_lay_kv kv[] = {{.path = "ack_serial", .u = s}, {.path = "location", .p = loc, .n = sizeof loc}};
    uint64_t pos = f->slot->c[GWC_POSITIONS];
    lay_send(c, 0x0500, kv, 2);
    assert_int_equal(wait_u64(&cs_of(f, 0x8500)->answered, 1), 1);
    assert_int_equal(f->slot->c[GWC_POSITIONS], pos + 1);

    s = command(f, c, 0x8500, NULL);
    tx_begin(c, 0x0001);
    tx.b.gen_resp = (struct jt808_gen_resp){.ack_serial = s, .ack_id = 0x8500, .result = 0};
    tx_send(c);
    assert_int_equal(wait_u64(&cs_of(f, 0x8500)->refused, 1), 1);
    assert_int_equal(f->slot->c[GWC_REPLY_WRONG_ID], 1);
    /* "unsupported" is a refusal of its own */
    s = command(f, c, 0x8204, NULL);
    tx_begin(c, 0x0001);
    tx.b.gen_resp = (struct jt808_gen_resp){.ack_serial = s, .ack_id = 0x8204, .result = 3};
    tx_send(c);
    assert_int_equal(wait_u64(&f->slot->ledger.why[LEDGER_UNSUPPORTED], 1), 1);
}

/* 0x8801 -> 0x0805: result 0 needs its ids; a failure result is a refusal. */
static void test_reply_0805(void **state)
{
    struct fixture *f = *state;
    gw_start(f);
    struct client *c = cl_open(f, 0, JT808_V2013, PHONE13);
    online(c);
    uint16_t s = command(f, c, 0x8801, NULL);
    struct jt808_lay_kv ok[] = {{.path = "ack_serial", .u = s}, {.path = "result", .u = 0}, {.path = "ids[0].id", .u = 7}};
    lay_send(c, 0x0805, ok, 3);
    assert_int_equal(wait_u64(&cs_of(f, 0x8801)->answered, 1), 1);

    s = command(f, c, 0x8801, NULL);
    struct jt808_lay_kv none[] = {{.path = "ack_serial", .u = s}, {.path = "result", .u = 0}};
    lay_send(c, 0x0805, none, 2);
    assert_int_equal(wait_u64(&f->slot->c[GWC_REPLY_BAD_IDS], 1), 1);

    s = command(f, c, 0x8801, NULL);
    struct jt808_lay_kv failed[] = {{.path = "ack_serial", .u = s}, {.path = "result", .u = 1}};
    lay_send(c, 0x0805, failed, 2);
    assert_int_equal(wait_u64(&cs_of(f, 0x8801)->refused, 2), 2);
    assert_int_equal(f->slot->c[GWC_REPLY_BAD_IDS], 1);
    assert_int_equal(cs_of(f, 0x8801)->answered, 1);
    /* a reply for a serial nobody asked settles nothing and is not answered */
    struct jt808_lay_kv stray[] = {{.path = "ack_serial", .u = 999}, {.path = "result", .u = 0}, {.path = "ids[0].id", .u = 1}};
    lay_send(c, 0x0805, stray, 3);
    expect_silence(c, 100);
    assert_int_equal(cs_of(f, 0x8801)->answered, 1);
}

/* 0x8700 -> 0x0700 echoing the command word; 0x8702 -> 0x0702 (no serial: the oldest). */
static void test_reply_0700_0702(void **state)
{
    struct fixture *f = *state;
    gw_start(f);
    struct client *c = cl_open(f, 0, JT808_V2013, PHONE13);
    online(c);
    uint16_t s = command(f, c, 0x8700, "{\"command\":1,\"data\":\"\"}");
    struct jt808_lay_kv good[] = {{.path = "ack_serial", .u = s}, {.path = "command", .u = 1},
                                  {.path = "data", .p = (const uint8_t *)"\x55\x7A", .n = 2}};
    lay_send(c, 0x0700, good, 3);
    assert_int_equal(wait_u64(&cs_of(f, 0x8700)->answered, 1), 1);
    s = command(f, c, 0x8700, "{\"command\":1,\"data\":\"\"}");
    struct jt808_lay_kv bad[] = {{.path = "ack_serial", .u = s}, {.path = "command", .u = 2}};
    lay_send(c, 0x0700, bad, 2);
    assert_int_equal(wait_u64(&f->slot->c[GWC_REPLY_MISMATCH], 1), 1);
    assert_int_equal(cs_of(f, 0x8700)->refused, 1);

    command(f, c, 0x8702, NULL);
    struct jt808_lay_kv card[] = {{.path = "state", .u = 1}, {.path = "time", .s = "240501120000"}, {.path = "ic_result", .u = 1}};
    lay_send(c, 0x0702, card, 3);
    assert_int_equal(wait_u64(&cs_of(f, 0x8702)->answered, 1), 1);
    expect_silence(c, 50);
    /* of its own accord: a report, answered 0x8001 */
    uint16_t r = lay_send(c, 0x0702, card, 3);
    expect_gen_to(c, 0x0702, r, 0);
    assert_int_equal(f->slot->c[GWC_DRIVER_IDS], 1);
}

/* --- terminal messages -------------------------------------------------------------------------- */

/* 0x0004 -> 0x8004 with the UTC time. */
static void test_server_time(void **state)
{
    struct fixture *f = *state;
    gw_start(f);
    struct client *c = cl_open(f, 0, JT808_V2019, PHONE19);
    online(c);
    time_t before = time(NULL);
    lay_send(c, 0x0004, NULL, 0);
    rx_next(c);
    time_t after = time(NULL);
    assert_int_equal(rx.h.msg_id, 0x8004);
    const char *t = NULL;
    assert_true(jt808_lay_get_str(rx.lay, "time", &t));
    struct tm tm = {0};
    assert_int_equal(sscanf(t, "%2d%2d%2d%2d%2d%2d", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour, &tm.tm_min,
                            &tm.tm_sec),
                     6);
    tm.tm_year += 100;
    tm.tm_mon -= 1;
    time_t got = timegm(&tm);
    /* the virtual clock keeps the wall time of its epoch to the second */
    assert_true(got >= before - 1 && got <= after);
    assert_int_equal(wait_u64(&f->slot->c[GWC_SERVER_TIME], 1), 1);
}

/* The reports of the terminal's own accord: 0x8001 result 0, counted; 0x0901 inflated. */
static void test_reports_answered(void **state)
{
    struct fixture *f = *state;
    gw_start(f);
    struct client *c = cl_open(f, 0, JT808_V2013, PHONE13);
    online(c);
    struct jt808_lay_kv ev = {.path = "event_id", .u = 1};
    uint16_t s = lay_send(c, 0x0301, &ev, 1);
    expect_gen_to(c, 0x0301, s, 0);
    struct jt808_lay_kv pt[] = {{.path = "type", .u = 0}, {.path = "data", .p = (const uint8_t *)"ab", .n = 2}};
    s = lay_send(c, 0x0900, pt, 2);
    expect_gen_to(c, 0x0900, s, 0);
    /* zlib of 100 x 'a' (python3 -c "import zlib; print(zlib.compress(b'a'*100).hex())") */
    static const uint8_t z[] = {0x78, 0x9c, 0x4b, 0x4c, 0xa4, 0x3d, 0x00, 0x00, 0x7a, 0x47, 0x25, 0xe5};
    struct jt808_lay_kv zk = {.path = "data", .p = z, .n = sizeof z};
    s = lay_send(c, 0x0901, &zk, 1);
    expect_gen_to(c, 0x0901, s, 0);
    assert_int_equal(f->slot->c[GWC_EVENTS], 1);
    assert_int_equal(f->slot->c[GWC_PASSTHROUGH], 1);
    assert_int_equal(f->slot->c[GWC_COMPRESSED], 1);
    assert_int_equal(f->slot->c[GWC_INFLATED_BYTES], 100);
    assert_int_equal(f->slot->c[GWC_UNSUPPORTED], 0);
}

struct frag_set {
    uint8_t data[8][JT808_MAX_FRAME];
    size_t len[8];
    int n;
};

static void collect_frag(const uint8_t *frame, size_t len, void *arg)
{
    struct frag_set *fs = arg;
    assert_true(fs->n < 8);
    memcpy(fs->data[fs->n], frame, len);
    fs->len[fs->n++] = len;
}

/* A 0x0801 of 3 packages (media id 77) from serial first. */
static void media_frags(struct client *c, uint16_t first, struct frag_set *fs)
{
    static uint8_t body[36 + 2000];
    memset(body, 0, sizeof body);
    body[3] = 77;
    for (size_t i = 36; i < sizeof body; i++)
        body[i] = (uint8_t)i;
    struct jt808_header h = {.msg_id = 0x0801, .version = c->v, .proto_version = c->v == JT808_V2019 ? 1 : 0};
    snprintf(h.phone, sizeof h.phone, "%s", c->phone);
    memset(fs, 0, sizeof *fs);
    assert_int_equal(jt808_split(&h, first, body, sizeof body, 800, collect_frag, fs), JT808_OK);
    assert_int_equal(fs->n, 3);
}

/* 0x0801 whole -> 0x8800 without ids; missing package 2 -> 0x8800 listing it after
 * the timeout, then whole. */
static void test_media_8800(void **state)
{
    struct fixture *f = *state;
    f->cfg.reasm_timeout_ms = 300;
    gw_start(f);
    struct client *c = cl_open(f, 0, JT808_V2013, PHONE13);
    online(c);
    struct frag_set fs;
    media_frags(c, 100, &fs);
    for (int i = 0; i < 3; i++) {
        send_all(c, fs.data[i], fs.len[i]);
        expect_gen_to(c, 0x0801, (uint16_t)(100 + i), 0);
    }
    rx_next(c);
    assert_int_equal(rx.h.msg_id, 0x8800);
    uint32_t v = 0;
    size_t n = 9;
    assert_true(jt808_lay_get_u32(rx.lay, "media_id", &v));
    assert_int_equal(v, 77);
    assert_true(jt808_lay_list_len(rx.lay, "ids", &n));
    assert_int_equal(n, 0);
    assert_int_equal(f->slot->c[GWC_MEDIA_RECEIVED], 1);

    media_frags(c, 200, &fs);
    send_all(c, fs.data[0], fs.len[0]);
    expect_gen_to(c, 0x0801, 200, 0);
    send_all(c, fs.data[2], fs.len[2]);
    expect_gen_to(c, 0x0801, 202, 0);
    rx_next(c); /* after the timeout */
    assert_int_equal(rx.h.msg_id, 0x8800);
    assert_true(jt808_lay_get_u32(rx.lay, "media_id", &v));
    assert_int_equal(v, 77);
    assert_true(jt808_lay_list_len(rx.lay, "ids", &n));
    assert_int_equal(n, 1);
    assert_true(jt808_lay_get_u32(rx.lay, "ids[0].id", &v));
    assert_int_equal(v, 2);
    assert_int_equal(f->slot->c[GWC_MEDIA_RETRY], 1);
    send_all(c, fs.data[1], fs.len[1]);
    expect_gen_to(c, 0x0801, 201, 0);
    rx_next(c);
    assert_int_equal(rx.h.msg_id, 0x8800);
    assert_true(jt808_lay_list_len(rx.lay, "ids", &n));
    assert_int_equal(n, 0);
    assert_int_equal(f->slot->c[GWC_MEDIA_RECEIVED], 2);
    assert_int_equal(f->slot->c[GWC_REASM_EXPIRED], 0);
}

/* Another message missing packages 1 and 3 of 4 -> 0x8003 listing exactly those, three
 * times a timeout apart, then dropped. */
static void test_resend_8003_after_timeout(void **state)
{
    struct fixture *f = *state;
    f->cfg.reasm_timeout_ms = 200;
    gw_start(f);
    struct client *c = cl_open(f, 0, JT808_V2019, PHONE19);
    online(c);
    static uint8_t body[4 * 28];
    memset(body, 0, sizeof body);
    struct jt808_header h = {.msg_id = 0x0200, .version = JT808_V2019, .proto_version = 1};
    snprintf(h.phone, sizeof h.phone, "%s", c->phone);
    static struct frag_set fs;
    memset(&fs, 0, sizeof fs);
    assert_int_equal(jt808_split(&h, 300, body, sizeof body, 28, collect_frag, &fs), JT808_OK);
    assert_int_equal(fs.n, 4);
    send_all(c, fs.data[1], fs.len[1]);
    expect_gen_to(c, 0x0200, 301, 0);
    send_all(c, fs.data[3], fs.len[3]);
    expect_gen_to(c, 0x0200, 303, 0);
    uint64_t t0 = clock_mono_us();
    for (int ask = 1; ask <= 3; ask++) {
        rx_next(c);
        assert_int_equal(rx.h.msg_id, 0x8003);
        uint32_t v = 0;
        size_t n = 0;
        assert_true(jt808_lay_get_u32(rx.lay, "orig_serial", &v));
        assert_int_equal(v, 300);
        assert_true(jt808_lay_list_len(rx.lay, "ids", &n));
        assert_int_equal(n, 2);
        assert_true(jt808_lay_get_u32(rx.lay, "ids[0].id", &v));
        assert_int_equal(v, 1);
        assert_true(jt808_lay_get_u32(rx.lay, "ids[1].id", &v));
        assert_int_equal(v, 3);
        assert_int_equal(f->slot->c[GWC_RESEND_REQUESTS], (uint64_t)ask);
    }
    assert_true((clock_mono_us() - t0) / 1000 >= 2 * 200); /* a timeout apart */
    assert_int_equal(wait_u64(&f->slot->c[GWC_REASM_EXPIRED], 1), 1);
    expect_silence(c, 300);
    assert_int_equal(f->slot->c[GWC_RESEND_REQUESTS], 3);
    assert_int_equal(f->slot->c[GWC_REASSEMBLED], 0);
}

/* 0x0005 -> the listed packages of the gateway's last subpackaged message, byte for byte. */
static void test_resend_0005(void **state)
{
    struct fixture *f = *state;
    gw_start(f);
    struct client *c = cl_open(f, 0, JT808_V2019, PHONE19);
    online(c);
    send_ctl_command(f, 0x8108, 1,
                     "{\"type\":0,\"manufacturer\":\"MF001\",\"version\":\"1.0\",\"package_len\":3000}");
    static uint8_t orig[4][JT808_MAX_FRAME];
    size_t olen[4];
    uint16_t first = 0;
    for (int i = 0; i < 4; i++) {
        olen[i] = rx_raw(c, orig[i], sizeof orig[i]);
        assert_int_equal(rx.h.msg_id, 0x8108);
        assert_true(rx.h.subpackage);
        assert_int_equal(rx.h.pkg_total, 4);
        if (i == 0)
            first = rx.h.serial;
    }
    struct jt808_lay_kv kv[] = {{.path = "orig_serial", .u = first}, {.path = "ids[0].id", .u = 2},
                                {.path = "ids[1].id", .u = 4}};
    lay_send(c, 0x0005, kv, 3);
    static uint8_t again[JT808_MAX_FRAME];
    size_t n = rx_raw(c, again, sizeof again);
    assert_int_equal(n, olen[1]);
    assert_memory_equal(again, orig[1], n);
    n = rx_raw(c, again, sizeof again);
    assert_int_equal(n, olen[3]);
    assert_memory_equal(again, orig[3], n);
    expect_silence(c, 50);
    assert_int_equal(f->slot->c[GWC_RESEND_ASKED], 1);
    assert_int_equal(f->slot->c[GWC_PACKAGES_RESENT], 2);
    /* listed twice, out of order, or naming no package: each package once, in order */
    struct jt808_lay_kv twice[] = {{.path = "orig_serial", .u = first}, {.path = "ids[0].id", .u = 4},
                                   {.path = "ids[1].id", .u = 2}, {.path = "ids[2].id", .u = 4},
                                   {.path = "ids[3].id", .u = 9}, {.path = "ids[4].id", .u = 0}};
    lay_send(c, 0x0005, twice, 6);
    n = rx_raw(c, again, sizeof again);
    assert_int_equal(n, olen[1]);
    assert_memory_equal(again, orig[1], n);
    n = rx_raw(c, again, sizeof again);
    assert_int_equal(n, olen[3]);
    assert_memory_equal(again, orig[3], n);
    expect_silence(c, 50);
    assert_int_equal(f->slot->c[GWC_PACKAGES_RESENT], 4);
    /* for a message it does not keep: 0x8001 result 1 */
    kv[0].u = (uint16_t)(first + 100);
    uint16_t s = lay_send(c, 0x0005, kv, 3);
    expect_gen_to(c, 0x0005, s, 1);
    assert_int_equal(f->slot->c[GWC_RESEND_UNKNOWN], 1);
    /* the upgrade itself is still answered by 0x0001 to its last package */
    tx_begin(c, 0x0001);
    tx.b.gen_resp = (struct jt808_gen_resp){.ack_serial = (uint16_t)(first + 3), .ack_id = 0x8108, .result = 0};
    tx_send(c);
    assert_int_equal(wait_u64(&cs_of(f, 0x8108)->answered, 1), 1);
}

/* A step's 0x8003 is answered by the listed package resent; 0x8800 without ids at once. */
static void test_packages_reply(void **state)
{
    struct fixture *f = *state;
    gw_start(f);
    struct client *c = cl_open(f, 0, JT808_V2013, PHONE13);
    online(c);
    struct frag_set fs;
    media_frags(c, 500, &fs);
    for (int i = 0; i < 3; i++) {
        send_all(c, fs.data[i], fs.len[i]);
        expect_gen_to(c, 0x0801, (uint16_t)(500 + i), 0);
    }
    rx_next(c);
    assert_int_equal(rx.h.msg_id, 0x8800);
    command(f, c, 0x8003, "{\"orig_serial\":500,\"ids\":[{\"id\":2}]}");
    send_all(c, fs.data[0], fs.len[0]); /* not the one asked */
    expect_gen_to(c, 0x0801, 500, 0);
    expect_silence(c, 50);
    assert_int_equal(cs_of(f, 0x8003)->answered, 0);
    send_all(c, fs.data[1], fs.len[1]);
    expect_gen_to(c, 0x0801, 501, 0);
    assert_int_equal(wait_u64(&cs_of(f, 0x8003)->answered, 1), 1);

    command(f, c, 0x8800, NULL);
    assert_int_equal(wait_u64(&cs_of(f, 0x8800)->answered, 1), 1);
    assert_int_equal(f->slot->ledger.sent, f->slot->ledger.acked);
}

/* --- RSA (jt808_gw_rsa.c) ------------------------------------------------------------------ */

#define RSA_TEST_KEY "tests/data/jt808-rsa-test-key.pem"

/* rx (an encrypted answer) decrypted with k into rx itself. */
static void rx_open(EVP_PKEY *k)
{
    static uint8_t plain[JT808_MAX_BODY];
    struct jt808_err e;
    assert_int_equal(rx.h.encryption, JT808_ENC_RSA);
    if (jt808_rsa_open(k, &rx, rx.body, rx.body_bytes, plain, sizeof plain, &e) != JT808_OK)
        fail_msg("the gateway's answer does not decrypt: %s at %zu", jt808_rc_name(e.rc), e.offset);
}

/* tx encrypted for k and sent. */
static void tx_send_rsa(struct client *c, EVP_PKEY *k)
{
    uint8_t frame[JT808_MAX_FRAME];
    size_t len = 0;
    assert_int_equal(jt808_rsa_encode(k, &tx, frame, sizeof frame, &len, NULL), JT808_OK);
    send_all(c, frame, len);
}

/* platform.rsa encrypt with the test key: a bodiless 0x8A00 carries it; the terminal's
 * 0x0A00 answers it and its key is kept; an encrypted report is decrypted, stored and
 * answered encrypted; one for another key is answered "bad message" and counted. */
static void test_rsa_exchange(void **state)
{
    struct fixture *f = *state;
    char err[256];
    assert_int_equal(gw_rsa_configure(&f->cfg, "encrypt", RSA_TEST_KEY, err, sizeof err), 0);
    gw_start(f);
    EVP_PKEY *plat = jt808_rsa_load(RSA_TEST_KEY, err, sizeof err), *mine = jt808_rsa_generate(err, sizeof err);
    EVP_PKEY *other = jt808_rsa_generate(err, sizeof err);
    assert_non_null(plat);
    assert_non_null(mine);
    assert_non_null(other);
    uint32_t e = 0;
    uint8_t n[JT808_RSA_N_BYTES], mn[JT808_RSA_N_BYTES];
    assert_int_equal(jt808_rsa_public(plat, &e, n), 0);
    struct client *c = cl_open(f, 0, JT808_V2019, PHONE19);
    online(c);

    command(f, c, 0x8A00, NULL);
    assert_int_equal(rx.h.encryption, 0);
    uint32_t ge = 0;
    const uint8_t *gn = NULL;
    size_t gl = 0;
    assert_true(jt808_lay_get_u32(rx.lay, "e", &ge) && jt808_lay_get_bytes(rx.lay, "n", &gn, &gl));
    assert_int_equal(ge, e);
    assert_int_equal(gl, JT808_RSA_N_BYTES);
    assert_memory_equal(gn, n, sizeof n);
    assert_int_equal(jt808_rsa_public(mine, &e, mn), 0);
    const struct jt808_lay_kv kv[] = {{.path = "e", .u = e}, {.path = "n", .p = mn, .n = sizeof mn}};
    lay_send(c, 0x0A00, kv, 2);
    assert_int_equal(wait_u64(&cs_of(f, 0x8A00)->answered, 1), 1);
    expect_silence(c, 50); /* answers are not answered */

    uint16_t s = tx_location(c);
    tx_send_rsa(c, plat);
    rx_next(c);
    rx_open(mine);
    assert_int_equal(rx.h.msg_id, 0x8001);
    assert_int_equal(rx.b.gen_resp.ack_serial, s);
    assert_int_equal(rx.b.gen_resp.result, 0);
    assert_int_equal(f->slot->c[GWC_RSA_DECRYPTED], 1);
    assert_int_equal(f->slot->c[GWC_RSA_ENCRYPTED], 1);
    assert_int_equal(wait_u64(&f->slot->c[GWC_POSITIONS], 1), 1);

    s = tx_location(c);
    tx_send_rsa(c, other);
    rx_next(c);
    rx_open(mine);
    assert_int_equal(rx.b.gen_resp.ack_serial, s);
    assert_int_equal(rx.b.gen_resp.result, 2);
    assert_int_equal(f->slot->c[GWC_RSA_ERRORS], 1);
    assert_int_equal(f->slot->c[GWC_POSITIONS], 1);
    /* a request to it goes encrypted too; one without a body (0x8201) in the clear */
    send_ctl_command_v(f, 0x8202, 2019, 1, 0, NULL);
    rx_next(c);
    rx_open(mine);
    assert_int_equal(rx.h.msg_id, 0x8202);
    assert_int_equal(f->slot->c[GWC_RSA_ENCRYPTED], 3);
    send_ctl_command_v(f, 0x8201, 2019, 1, 0, NULL);
    rx_next(c);
    assert_int_equal(rx.h.msg_id, 0x8201);
    assert_int_equal(rx.h.encryption, 0);
    EVP_PKEY_free(plat);
    EVP_PKEY_free(mine);
    EVP_PKEY_free(other);
}

/* A 0x0A00 key the gateway cannot use (a modulus without its top bit: not 1024 bits)
 * is not taken, and not answered as done: 0x8001 result 2, counted rsa_errors; the
 * 0x8A00 it answers is refused (reply_bad_body).  A good one is taken: result 0, and
 * answers go encrypted for it from then on. */
static void test_rsa_bad_peer_key(void **state)
{
    struct fixture *f = *state;
    char err[256];
    assert_int_equal(gw_rsa_configure(&f->cfg, "encrypt", RSA_TEST_KEY, err, sizeof err), 0);
    gw_start(f);
    EVP_PKEY *mine = jt808_rsa_generate(err, sizeof err);
    assert_non_null(mine);
    uint32_t e = 0;
    uint8_t n[JT808_RSA_N_BYTES], bad[JT808_RSA_N_BYTES];
    assert_int_equal(jt808_rsa_public(mine, &e, n), 0);
    memcpy(bad, n, sizeof bad);
    bad[0] &= 0x7F;
    struct client *c = cl_open(f, 0, JT808_V2019, PHONE19);
    online(c);
    const struct jt808_lay_kv kb[] = {{.path = "e", .u = e}, {.path = "n", .p = bad, .n = sizeof bad}};
    uint16_t s = lay_send(c, 0x0A00, kb, 2);
    expect_gen_to(c, 0x0A00, s, 2);
    assert_int_equal(rx.h.encryption, 0); /* no key taken: in the clear */
    assert_int_equal(f->slot->c[GWC_RSA_ERRORS], 1);
    assert_int_equal(f->slot->c[GWC_RSA_KEYS], 0);
    /* answering an 0x8A00: that request is refused */
    command(f, c, 0x8A00, NULL);
    s = lay_send(c, 0x0A00, kb, 2);
    expect_gen_to(c, 0x0A00, s, 2);
    assert_int_equal(wait_u64(&cs_of(f, 0x8A00)->refused, 1), 1);
    assert_int_equal(cs_of(f, 0x8A00)->answered, 0);
    assert_int_equal(f->slot->c[GWC_REPLY_BAD_BODY], 1);
    assert_int_equal(f->slot->c[GWC_RSA_ERRORS], 2);
    /* a good key, of its own accord: taken and answered result 0, encrypted for it */
    const struct jt808_lay_kv kg[] = {{.path = "e", .u = e}, {.path = "n", .p = n, .n = sizeof n}};
    s = lay_send(c, 0x0A00, kg, 2);
    rx_next(c);
    rx_open(mine);
    assert_int_equal(rx.h.msg_id, 0x8001);
    assert_int_equal(rx.b.gen_resp.ack_serial, s);
    assert_int_equal(rx.b.gen_resp.result, 0);
    assert_int_equal(f->slot->c[GWC_RSA_KEYS], 1);
    assert_int_equal(f->slot->c[GWC_RSA_ERRORS], 2);
    EVP_PKEY_free(mine);
}

/* platform.rsa off: an encrypted body is refused (result 2, counted), answers stay plain. */
static void test_rsa_off(void **state)
{
    struct fixture *f = *state;
    char err[256];
    assert_int_equal(gw_rsa_configure(&f->cfg, "off", "", err, sizeof err), 0);
    assert_int_equal(gw_rsa_configure(&f->cfg, "off", RSA_TEST_KEY, err, sizeof err), -1);
    assert_non_null(strstr(err, "rsa off"));
    assert_int_equal(gw_rsa_configure(&f->cfg, "sometimes", "", err, sizeof err), -1);
    assert_int_equal(gw_rsa_configure(&f->cfg, "on", "tests/data/triples.csv", err, sizeof err), -1);
    assert_non_null(strstr(err, "not a PEM private key"));
    assert_int_equal(gw_rsa_configure(&f->cfg, "off", "", err, sizeof err), 0);
    gw_start(f);
    EVP_PKEY *plat = jt808_rsa_load(RSA_TEST_KEY, err, sizeof err);
    struct client *c = cl_open(f, 0, JT808_V2013, PHONE13);
    online(c);
    uint16_t s = tx_location(c);
    tx_send_rsa(c, plat);
    expect_gen(c, 0x0200, s, 2);
    assert_int_equal(rx.h.encryption, 0);
    assert_int_equal(f->slot->c[GWC_RSA_ERRORS], 1);
    EVP_PKEY_free(plat);
}

/* An encrypted answer that decrypts but whose plaintext is off its layout is a bad
 * body, as the same answer in the clear: the request it answers is refused at once
 * (reply_bad_body), the frame answered result 2 and counted bad_frame. */
static void test_rsa_reply_bad_body(void **state)
{
    struct fixture *f = *state;
    char err[256];
    assert_int_equal(gw_rsa_configure(&f->cfg, "on", RSA_TEST_KEY, err, sizeof err), 0);
    gw_start(f);
    EVP_PKEY *plat = jt808_rsa_load(RSA_TEST_KEY, err, sizeof err);
    assert_non_null(plat);
    struct client *c = cl_open(f, 0, JT808_V2013, PHONE13);
    online(c);
    uint64_t bad = f->slot->c[GWC_BAD_FRAME];
    command(f, c, 0x8107, NULL);
    /* the 2019 widths under a 2013 header: off the layout (test_reply_0107_widths) */
    struct jt808_header h19 = {.msg_id = 0x0107, .version = JT808_V2019, .proto_version = 1};
    snprintf(h19.phone, sizeof h19.phone, "%s", c->phone);
    struct jt808_err e;
    assert_int_equal(jt808_lay_build(&lt, &h19, props, N_PROPS, &e), JT808_OK);
    static uint8_t body[512];
    size_t n = 0;
    assert_int_equal(jt808_body_encode(&lt, body, sizeof body, &n, &e), JT808_OK);
    uint16_t s = tx_begin(c, 0x0107);
    tx.body = body;
    tx.body_bytes = n;
    tx_send_rsa(c, plat);
    expect_gen_to(c, 0x0107, s, 2);
    assert_int_equal(f->slot->c[GWC_RSA_DECRYPTED], 1);
    assert_int_equal(f->slot->c[GWC_RSA_ERRORS], 0);
    assert_int_equal(f->slot->c[GWC_BAD_FRAME], bad + 1);
    assert_int_equal(wait_u64(&cs_of(f, 0x8107)->refused, 1), 1);
    assert_int_equal(f->slot->c[GWC_REPLY_BAD_BODY], 1);
    EVP_PKEY_free(plat);
}

/* Body attribute bits 10-12 other than 0 (plain) or bit 10 alone (RSA) name an
 * encryption the standard reserves: the body cannot be read, so the message is
 * "bad message" (result 2, counted bad_frame), never taken as a plain one, whole or
 * reassembled. */
static void test_reserved_encryption(void **state)
{
    struct fixture *f = *state;
    char err[256];
    assert_int_equal(gw_rsa_configure(&f->cfg, "on", RSA_TEST_KEY, err, sizeof err), 0);
    gw_start(f);
    struct client *c = cl_open(f, 0, JT808_V2019, PHONE19);
    online(c);
    uint64_t bad = f->slot->c[GWC_BAD_FRAME];
    uint16_t s = tx_location(c);
    tx.h.encryption = 2; /* bit 11 */
    tx_send(c);
    expect_gen(c, 0x0200, s, 2);
    assert_int_equal(f->slot->c[GWC_BAD_FRAME], bad + 1);
    s = tx_location(c);
    tx.h.encryption = 5; /* bits 10 and 12 */
    tx_send(c);
    expect_gen(c, 0x0200, s, 2);
    assert_int_equal(f->slot->c[GWC_BAD_FRAME], bad + 2);
    assert_int_equal(f->slot->c[GWC_RSA_ERRORS], 0);
    assert_int_equal(f->slot->c[GWC_POSITIONS], 0);
    /* a plain one after them is taken */
    s = tx_location(c);
    tx_send(c);
    expect_gen(c, 0x0200, s, 0);
    assert_int_equal(wait_u64(&f->slot->c[GWC_POSITIONS], 1), 1);
}

/* --- subpackaged messages, encrypted package by package (jt808_pkgs.h) --------------------- */

/* The gateway in platform.rsa encrypt with the test key, c online and keys exchanged:
 * *plat the gateway's key, *mine the terminal's (the 0x0A00 it sent). */
static struct client *rsa_online(struct fixture *f, enum jt808_version v, EVP_PKEY **plat, EVP_PKEY **mine)
{
    char err[256];
    assert_int_equal(gw_rsa_configure(&f->cfg, "encrypt", RSA_TEST_KEY, err, sizeof err), 0);
    gw_start(f);
    *plat = jt808_rsa_load(RSA_TEST_KEY, err, sizeof err);
    *mine = jt808_rsa_generate(err, sizeof err);
    assert_non_null(*plat);
    assert_non_null(*mine);
    struct client *c = cl_open(f, 0, v, v == JT808_V2019 ? PHONE19 : PHONE13);
    online(c);
    command(f, c, 0x8A00, NULL);
    uint32_t e = 0;
    uint8_t mn[JT808_RSA_N_BYTES];
    assert_int_equal(jt808_rsa_public(*mine, &e, mn), 0);
    const struct jt808_lay_kv kv[] = {{.path = "e", .u = e}, {.path = "n", .p = mn, .n = sizeof mn}};
    lay_send(c, 0x0A00, kv, 2);
    assert_int_equal(wait_u64(&cs_of(f, 0x8A00)->answered, 1), 1);
    return c;
}

/* A body of msg_id from c in packages of chunk bytes, each encrypted for k as how
 * says, sent; the gateway's 0x8001 to each (encrypted for mine) checked. */
static void send_pkgs(struct client *c, EVP_PKEY *k, enum jt808_pkgs_enc how, uint16_t msg_id, const uint8_t *body,
                      size_t n, size_t chunk, EVP_PKEY *mine, uint8_t result)
{
    struct jt808_header h = {.msg_id = msg_id, .version = c->v, .proto_version = c->v == JT808_V2019 ? 1 : 0};
    snprintf(h.phone, sizeof h.phone, "%s", c->phone);
    struct jt808_err e;
    struct jt808_pkgs *p = jt808_pkgs_make(k, how, &h, c->serial, body, n, chunk, &e);
    if (!p)
        fail_msg("pkgs: %s (%s)", jt808_rc_name(e.rc), e.field ? e.field : "");
    c->serial = (uint16_t)(c->serial + p->total);
    for (unsigned i = 1; i <= p->total; i++) {
        uint8_t frame[JT808_MAX_FRAME];
        size_t len = 0;
        assert_int_equal(jt808_pkgs_frame(p, i, frame, sizeof frame, &len, &e), JT808_OK);
        send_all(c, frame, len);
        rx_next(c);
        rx_open(mine);
        assert_int_equal(rx.h.msg_id, 0x8001);
        assert_int_equal(rx.b.gen_resp.ack_serial, (uint16_t)(p->first_serial + i - 1));
        assert_int_equal(rx.b.gen_resp.ack_id, msg_id);
        assert_int_equal(rx.b.gen_resp.result, i == 1 || result == 0 ? 0 : result);
    }
    jt808_pkgs_free(p);
}

/* A 0x0704 batch of n locations (type 0), the i-th with speed 100 + i. */
static size_t batch_body(uint8_t *b, size_t cap, unsigned n)
{
    size_t o = 0;
    assert_true(3 + (size_t)n * 30 <= cap);
    b[o++] = (uint8_t)(n >> 8);
    b[o++] = (uint8_t)n;
    b[o++] = 0;
    for (unsigned i = 0; i < n; i++) {
        static const uint8_t loc[28] = {0, 0, 0, 0, 0, 0, 0, 3, 0x01, 0xDC, 0x8A, 0xD0, 0x07, 0x3D, 0x8B, 0xA5,
                                        0, 12, 0, 0, 0, 90, 0x26, 0x03, 0x15, 0x08, 0x30, 0x00};
        b[o++] = 0;
        b[o++] = 28;
        memcpy(b + o, loc, 28);
        b[o + 18] = (uint8_t)((100 + i) >> 8);
        b[o + 19] = (uint8_t)(100 + i);
        o += 28;
    }
    return o;
}

/* Terminal to gateway: a 0x0704 of 40 locations (1203 bytes) in packages each
 * encrypted for the gateway's key is decrypted package by package, reassembled and
 * stored (its last location); a 0x0801 whose every other package is in the clear is
 * taken all the same and counted as a mixed-encryption deviation; a package
 * encrypted for another key is answered "bad message" and counted. */
static void test_rsa_packages_up(void **state)
{
    struct fixture *f = *state;
    EVP_PKEY *plat = NULL, *mine = NULL;
    struct client *c = rsa_online(f, JT808_V2019, &plat, &mine);
    uint64_t dec0 = f->slot->c[GWC_RSA_DECRYPTED];
    static uint8_t body[4096];
    size_t n = batch_body(body, sizeof body, 40);
    send_pkgs(c, plat, JT808_PKGS_ALL, 0x0704, body, n, JT808_PKGS_RSA_CHUNK, mine, 0);
    assert_int_equal(wait_u64(&f->slot->c[GWC_POSITIONS], 40), 40);
    assert_int_equal(f->slot->c[GWC_RSA_DECRYPTED] - dec0, 2);
    assert_int_equal(f->slot->c[GWC_REASSEMBLED], 1);
    assert_int_equal(f->slot->c[GWC_DEV_FIRST + JT808_DEV_MIXED_ENCRYPTION], 0);

    /* a 0x0801 of 3 packages, the second in the clear */
    static uint8_t media[36 + 2000];
    memset(media, 0, sizeof media);
    media[3] = 78;
    for (size_t i = 36; i < sizeof media; i++)
        media[i] = (uint8_t)(i * 7);
    send_pkgs(c, plat, JT808_PKGS_MIXED, 0x0801, media, sizeof media, 800, mine, 0);
    rx_next(c);
    assert_int_equal(rx.h.msg_id, 0x8800);
    assert_int_equal(rx.h.encryption, JT808_ENC_RSA); /* the gateway's own answers go encrypted too */
    rx_open(mine);
    uint32_t v = 0;
    assert_true(jt808_lay_get_u32(rx.lay, "media_id", &v));
    assert_int_equal(v, 78);
    assert_int_equal(f->slot->c[GWC_MEDIA_RECEIVED], 1);
    assert_int_equal(f->slot->c[GWC_DEV_FIRST + JT808_DEV_MIXED_ENCRYPTION], 1);

    /* packages encrypted for a key the gateway does not hold: the first is refused */
    char err[256];
    EVP_PKEY *other = jt808_rsa_generate(err, sizeof err);
    uint64_t errs = f->slot->c[GWC_RSA_ERRORS];
    struct jt808_header h = {.msg_id = 0x0704, .version = c->v, .proto_version = 1};
    snprintf(h.phone, sizeof h.phone, "%s", c->phone);
    struct jt808_err e;
    struct jt808_pkgs *p = jt808_pkgs_make(other, JT808_PKGS_ALL, &h, c->serial, body, n, JT808_PKGS_RSA_CHUNK, &e);
    assert_non_null(p);
    uint8_t frame[JT808_MAX_FRAME];
    size_t len = 0;
    assert_int_equal(jt808_pkgs_frame(p, 1, frame, sizeof frame, &len, &e), JT808_OK);
    send_all(c, frame, len);
    rx_next(c);
    rx_open(mine);
    assert_int_equal(rx.b.gen_resp.ack_serial, c->serial);
    assert_int_equal(rx.b.gen_resp.result, 2);
    assert_int_equal(f->slot->c[GWC_RSA_ERRORS], errs + 1);
    jt808_pkgs_free(p);
    EVP_PKEY_free(other);
    char data[512];
    assert_int_equal(gw_stop(f), 0);
    assert_true(stored_location(f, PHONE19, data, sizeof data));
    assert_non_null(strstr(data, "\"speed\":139")); /* the 40th location, decrypted */
    EVP_PKEY_free(plat);
    EVP_PKEY_free(mine);
}

/* Gateway to terminal: a step's 0x8108 longer than one frame goes in packages each
 * encrypted for the terminal's key (819 bytes of plaintext, 128 a block), which
 * decrypt with it and reassemble into the request; 0x0005 gets the same ciphertext. */
static void test_rsa_packages_down(void **state)
{
    struct fixture *f = *state;
    EVP_PKEY *plat = NULL, *mine = NULL;
    struct client *c = rsa_online(f, JT808_V2019, &plat, &mine);
    uint64_t enc0 = f->slot->c[GWC_RSA_ENCRYPTED];
    send_ctl_command(f, 0x8108, 1,
                     "{\"type\":0,\"manufacturer\":\"MF001\",\"version\":\"1.0\",\"package_len\":3000}");
    static uint8_t orig[8][JT808_MAX_FRAME];
    size_t olen[8], total = 0;
    uint16_t first = 0;
    struct jt808_reasm r;
    jt808_reasm_init(&r, 256 * 1024, 60000);
    static uint8_t plain[JT808_MAX_BODY];
    bool done = false;
    uint8_t *whole = NULL;
    size_t whole_len = 0;
    struct jt808_header last;
    struct jt808_err e;
    for (size_t i = 0; !done; i++) {
        assert_true(i < 8);
        olen[i] = rx_raw(c, orig[i], sizeof orig[i]);
        assert_int_equal(rx.h.msg_id, 0x8108);
        assert_true(rx.h.subpackage);
        assert_int_equal(rx.h.encryption, JT808_ENC_RSA);
        assert_int_equal(rx.h.pkg_index, i + 1);
        if (i == 0)
            first = rx.h.serial;
        total = rx.h.pkg_total;
        assert_int_equal(jt808_pkgs_open(mine, &rx, plain, sizeof plain, &e), JT808_OK);
        assert_true(rx.body_bytes <= JT808_PKGS_RSA_CHUNK);
        last = rx.h;
        assert_int_equal(jt808_reasm_feed(&r, &rx.h, rx.body, rx.body_bytes, 0, &done, &whole, &whole_len, &e),
                         JT808_OK);
    }
    static struct jt808_msg full;
    assert_int_equal(jt808_reasm_decode(&r, &last, whole, whole_len, &full, &e), JT808_OK);
    assert_int_equal(full.devs.total, 0);
    assert_string_equal(full.b.upgrade.manufacturer, "MF001");
    assert_int_equal(full.b.upgrade.pkg_len, 3000);
    assert_int_equal(total, (whole_len + JT808_PKGS_RSA_CHUNK - 1) / JT808_PKGS_RSA_CHUNK);
    assert_int_equal(wait_u64(&f->slot->c[GWC_RSA_ENCRYPTED], enc0 + total) - enc0, total);
    assert_int_equal(f->slot->c[GWC_RSA_ERRORS], 0);
    full.body = NULL;
    jt808_msg_free(&full);
    free(whole);
    jt808_reasm_free(&r);

    struct jt808_lay_kv kv[] = {{.path = "orig_serial", .u = first}, {.path = "ids[0].id", .u = 2}};
    lay_send(c, 0x0005, kv, 2);
    static uint8_t again[JT808_MAX_FRAME];
    size_t n = rx_raw(c, again, sizeof again);
    assert_int_equal(n, olen[1]);
    assert_memory_equal(again, orig[1], n);
    expect_silence(c, 50);
    assert_int_equal(f->slot->c[GWC_PACKAGES_RESENT], 1);
    EVP_PKEY_free(plat);
    EVP_PKEY_free(mine);
}

/* Gateway to terminal, a body of its own over 819 bytes: a 2019 0x8003 asking for 500
 * missing packages (1004 bytes) goes in 2 packages each encrypted for the terminal's
 * key, which decrypt with it and reassemble into the request (orig_serial, ids 2 to
 * 501); it is kept, so a 0x0005 gets its second package again, the same ciphertext. */
static void test_rsa_long_own_body(void **state)
{
    struct fixture *f = *state;
    f->cfg.reasm_timeout_ms = 600;
    EVP_PKEY *plat = NULL, *mine = NULL;
    struct client *c = rsa_online(f, JT808_V2019, &plat, &mine);
    uint64_t enc0 = f->slot->c[GWC_RSA_ENCRYPTED], err0 = f->slot->c[GWC_RSA_ERRORS];
    /* package 1 of a 0x0200 of 600 packages, the rest never sent */
    static uint8_t body[600 * 10];
    memset(body, 0, sizeof body);
    struct jt808_header h = {.msg_id = 0x0200, .version = JT808_V2019, .proto_version = 1};
    snprintf(h.phone, sizeof h.phone, "%s", c->phone);
    struct jt808_err e;
    struct jt808_pkgs *p = jt808_pkgs_make(NULL, JT808_PKGS_ALL, &h, 700, body, sizeof body, 10, &e);
    assert_non_null(p);
    assert_int_equal(p->total, 600);
    uint8_t frame[JT808_MAX_FRAME];
    size_t len = 0;
    assert_int_equal(jt808_pkgs_frame(p, 1, frame, sizeof frame, &len, &e), JT808_OK);
    jt808_pkgs_free(p);
    send_all(c, frame, len);
    rx_next(c);
    rx_open(mine);
    assert_int_equal(rx.h.msg_id, 0x8001);
    assert_int_equal(rx.b.gen_resp.ack_serial, 700);
    assert_int_equal(rx.h.encryption, JT808_ENC_RSA); /* a body of one frame: encrypted alone */
    enc0 = f->slot->c[GWC_RSA_ENCRYPTED];

    static uint8_t orig[2][JT808_MAX_FRAME];
    size_t olen[2];
    struct jt808_reasm r;
    jt808_reasm_init(&r, 256 * 1024, 60000);
    static uint8_t plain[JT808_MAX_BODY];
    bool done = false;
    uint8_t *whole = NULL;
    size_t whole_len = 0;
    struct jt808_header last;
    uint16_t first = 0;
    for (size_t i = 0; !done; i++) {
        assert_true(i < 2);
        olen[i] = rx_raw(c, orig[i], sizeof orig[i]);
        assert_int_equal(rx.h.msg_id, 0x8003);
        assert_true(rx.h.subpackage);
        assert_int_equal(rx.h.encryption, JT808_ENC_RSA);
        assert_int_equal(rx.h.pkg_total, 2);
        assert_int_equal(rx.h.pkg_index, i + 1);
        if (i == 0)
            first = rx.h.serial;
        assert_int_equal(rx.h.serial, (uint16_t)(first + i));
        assert_int_equal(jt808_pkgs_open(mine, &rx, plain, sizeof plain, &e), JT808_OK);
        assert_int_equal(rx.body_bytes, i == 0 ? JT808_PKGS_RSA_CHUNK : 1004 - JT808_PKGS_RSA_CHUNK);
        last = rx.h;
        assert_int_equal(jt808_reasm_feed(&r, &rx.h, rx.body, rx.body_bytes, 0, &done, &whole, &whole_len, &e),
                         JT808_OK);
    }
    static struct jt808_msg full;
    assert_int_equal(jt808_reasm_decode(&r, &last, whole, whole_len, &full, &e), JT808_OK);
    assert_int_equal(whole_len, 1004);
    uint32_t v = 0;
    size_t n = 0;
    assert_true(jt808_lay_get_u32(full.lay, "orig_serial", &v));
    assert_int_equal(v, 700);
    assert_true(jt808_lay_list_len(full.lay, "ids", &n));
    assert_int_equal(n, 500);
    static uint32_t ids[500];
    assert_true(jt808_lay_list_get_u32(full.lay, "ids", "id", ids, 500, &n));
    for (size_t i = 0; i < n; i++)
        assert_int_equal(ids[i], i + 2);
    assert_int_equal(wait_u64(&f->slot->c[GWC_RSA_ENCRYPTED], enc0 + 2) - enc0, 2);
    assert_int_equal(f->slot->c[GWC_RSA_ERRORS], err0);
    assert_int_equal(wait_u64(&f->slot->c[GWC_RESEND_REQUESTS], 1), 1);
    full.body = NULL;
    jt808_msg_free(&full);
    free(whole);
    jt808_reasm_free(&r);

    /* the terminal missed its second package: 0x0005 gets the same bytes */
    struct jt808_lay_kv kv[] = {{.path = "orig_serial", .u = first}, {.path = "ids[0].id", .u = 2}};
    lay_send(c, 0x0005, kv, 2);
    static uint8_t again[JT808_MAX_FRAME];
    /* on a loaded machine the next ask (600 ms on) may come first, with the kept
     * packages again; the answer to 0x0005 is the second package's bytes once the
     * gateway counted the resend */
    size_t an = 0;
    for (int k = 0; k < 6; k++) {
        an = rx_raw(c, again, sizeof again);
        if (an == olen[1] && memcmp(again, orig[1], an) == 0 && wait_u64(&f->slot->c[GWC_PACKAGES_RESENT], 1) == 1)
            break;
        assert_int_equal(rx.h.msg_id, 0x8003); /* only a re-ask may come between */
    }
    assert_int_equal(an, olen[1]);
    assert_memory_equal(again, orig[1], an);
    assert_int_equal(wait_u64(&f->slot->c[GWC_PACKAGES_RESENT], 1), 1);
    EVP_PKEY_free(plat);
    EVP_PKEY_free(mine);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(int argc, char **argv)
{
    argv0 = argc > 0 ? argv[0] : "";
    clock_init(1.0);
    signal(SIGPIPE, SIG_IGN);
    shm = stats_map();
    if (!shm) {
        fprintf(stderr, "stats_map: %s\n", strerror(errno));
        return 1;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_check_kinds),
        T(test_reply_8106),
        T(test_reply_0107_widths),
        T(test_reply_0500),
        T(test_reply_0805),
        T(test_reply_0700_0702),
        T(test_server_time),
        T(test_reports_answered),
        T(test_media_8800),
        T(test_resend_8003_after_timeout),
        T(test_resend_0005),
        T(test_packages_reply),
        T(test_rsa_exchange),
        T(test_rsa_off),
        T(test_rsa_bad_peer_key),
        T(test_reserved_encryption),
        T(test_rsa_reply_bad_body),
        T(test_rsa_packages_up),
        T(test_rsa_packages_down),
        T(test_rsa_long_own_body),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    jt808_msg_free(&lt);
    jt808_msg_free(&rx);
    stats_unmap(shm);
    return rc;
}
