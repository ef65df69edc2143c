/* Scenario parser: values, defaults, and the exact message for every class of
 * mistake.  Inline documents are written with ' for " (see q()) to stay readable. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

/* before cmocka.h, whose expect_value() macro would rename harness/expect.h's function */
#include "harness/expect.h"
#include "harness/run_summary.h"
#include "harness/scenario.h"
#include "harness/snapshot.h"
#include "sim/dev/jt808_term.h"
#include "sim/platform/jt808/jt808_verify.h"

#include <cmocka.h>

#define JC(f) ((const struct jt808_fleet_cfg *)(f)->cfg)

#define DATA "tests/data/scenarios/"

/* The document with every ' turned into ". */
static char *q(const char *s)
{
    char *out = strdup(s);
    assert_non_null(out);
    for (char *p = out; *p; p++)
        if (*p == '\'')
            *p = '"';
    return out;
}

static int parse_q(const char *doc, struct scenario *sc, char *err, size_t cap)
{
    char *text = q(doc);
    int rc = scenario_parse(text, "x.json", sc, err, cap);
    free(text);
    return rc;
}

/* ---- valid files ---- */

static void test_quickstart(void **state)
{
    struct scenario sc;
    char err[512] = "";
    const struct fleet_spec *t, *v;
    if (scenario_load("scenarios/quickstart.json", &sc, err, sizeof err) != 0)
        fail_msg("%s", err);
    assert_string_equal(sc.name, "jt808-quickstart");
    assert_string_equal(sc.target, "embedded");
    assert_int_equal(sc.duration_ms, 30000);
    assert_true(sc.time_scale == 1.0);
    assert_int_equal(sc.seed, 1);
    assert_string_equal(sc.platform.auth, "open");
    assert_int_equal(sc.n_fleets, 2);

    t = scenario_fleet(&sc, "trucks");
    v = scenario_fleet(&sc, "vans");
    assert_non_null(t);
    assert_non_null(v);
    assert_ptr_equal(t, &sc.fleets[0]);
    assert_int_equal(JC(t)->version, 2013);
    assert_int_equal(JC(v)->version, 2019);
    assert_int_equal(t->count + v->count, 1000);
    assert_int_equal(t->count, 500);
    /* all online within ~5 s */
    assert_true(t->count / t->ramp_per_s <= 5.0);
    assert_true(v->count / v->ramp_per_s <= 5.0);
    assert_string_equal(t->ident, "13800000000+");
    assert_string_equal(v->ident, "13810000000+");
    assert_int_equal(JC(t)->heartbeat_ms, 20000);
    assert_int_equal(JC(v)->heartbeat_ms, 20000);
    assert_int_equal(JC(t)->report_every_ms, 5000);
    assert_int_equal(JC(v)->report_every_ms, 5000);
    assert_string_equal(JC(t)->location_model, "random-walk");

    assert_int_equal(sc.n_steps, 2);
    assert_int_equal(sc.steps[0].at_ms, 12000);
    assert_int_equal(sc.steps[0].kind, SC_STEP_COMMAND);
    assert_string_equal(sc.steps[0].fleet, "vans");
    assert_string_equal(sc.steps[0].msg, "0x8104");
    assert_null(sc.steps[0].body);
    assert_true(sc.steps[0].fraction == 1.0);
    assert_int_equal(sc.steps[1].at_ms, 15000);
    assert_int_equal(sc.steps[1].kind, SC_STEP_FAULT);
    assert_int_equal(sc.steps[1].fault, SC_FAULT_DISCONNECT);
    assert_string_equal(sc.steps[1].fleet, "trucks");
    assert_true(sc.steps[1].fraction == 0.1);
    assert_int_equal(sc.steps[1].down_ms, 2000);

    assert_int_equal(sc.n_expect, 8);
    assert_string_equal(sc.warning, "");
    assert_string_equal(sc.expect[0].id, "JT808-REG-001");
    assert_string_equal(sc.expect[0].area, "jt808.reg");
    assert_int_equal(sc.expect[0].kind, SC_EXP_STATE);
    assert_string_equal(sc.expect[0].state, "registered");
    assert_string_equal(sc.expect[0].fleet, "");
    assert_int_equal(sc.expect[0].within_ms, 10000);
    assert_string_equal(sc.expect[0].desc, "all terminals reach registered within 10s");
    assert_string_equal(sc.expect[1].id, "JT808-AUTH-001");
    assert_string_equal(sc.expect[1].area, "jt808.auth");
    assert_string_equal(sc.expect[1].fleet, "trucks");
    assert_string_equal(sc.expect[1].desc,
                        "all terminals of trucks reach authenticated within 10s");
    assert_string_equal(sc.expect[2].id, "JT808-AUTH-002");
    assert_string_equal(sc.expect[2].fleet, "vans");
    assert_string_equal(sc.expect[3].id, "JT808-QUERY-001");
    assert_int_equal(sc.expect[3].kind, SC_EXP_REPLY);
    assert_string_equal(sc.expect[3].reply, "0x0104");
    assert_string_equal(sc.expect[3].to, "0x8104");
    assert_string_equal(sc.expect[3].fleet, "vans");
    assert_int_equal(sc.expect[3].within_ms, 5000);
    assert_string_equal(sc.expect[4].id, "JT808-RECONNECT-001");
    assert_int_equal(sc.expect[4].kind, SC_EXP_STATE);
    assert_string_equal(sc.expect[4].fleet, "trucks");
    assert_string_equal(sc.expect[4].state, "authenticated");
    assert_int_equal(sc.expect[4].within_ms, 0);
    assert_true(sc.expect[4].fraction == 1.0);
    assert_string_equal(sc.expect[4].desc,
                        "all terminals of trucks are authenticated at the end of the run");
    assert_string_equal(sc.expect[5].id, "JT808-TRANS-001");
    assert_int_equal(sc.expect[5].kind, SC_EXP_TRANSITIONS);
    assert_int_equal(sc.expect[5].n_transitions, 3);
    assert_string_equal(sc.expect[5].transitions[0], "connecting");
    assert_string_equal(sc.expect[5].transitions[1], "registered");
    assert_string_equal(sc.expect[5].transitions[2], "authenticated");
    assert_string_equal(sc.expect[6].id, "PERF-001");
    assert_string_equal(sc.expect[6].area, "perf");
    assert_int_equal(sc.expect[6].kind, SC_EXP_METRIC);
    assert_string_equal(sc.expect[6].metric, "report.latency.p99");
    assert_true(sc.expect[6].has_below);
    assert_false(sc.expect[6].has_above);
    assert_true(sc.expect[6].bound_is_duration);
    assert_true(sc.expect[6].below == 200000.0);
    assert_string_equal(sc.expect[7].id, "LEDGER-001");
    assert_int_equal(sc.expect[7].kind, SC_EXP_LEDGER);
    scenario_free(&sc);
    /* freeing twice is harmless */
    scenario_free(&sc);
    assert_null(sc.steps);
    assert_int_equal(sc.n_steps, 0);
}

static void test_defaults(void **state)
{
    struct scenario sc;
    char err[512] = "";
    const struct fleet_spec *a, *b;
    if (scenario_load(DATA "minimal.json", &sc, err, sizeof err) != 0)
        fail_msg("%s", err);
    assert_string_equal(sc.path, DATA "minimal.json");
    assert_string_equal(sc.description, "");
    assert_string_equal(sc.target, "embedded");
    assert_int_equal(sc.duration_ms, 60000);
    assert_true(sc.time_scale == 1.0);
    assert_int_equal(sc.seed, 1);
    assert_string_equal(sc.platform.auth, "open");
    assert_string_equal(sc.platform.triples, "");
    assert_int_equal(sc.platform.port, 0);
    assert_int_equal(sc.platform.idle_timeout_ms, 180000);
    assert_int_equal(sc.platform.reasm_timeout_ms, 30000);
    assert_int_equal(sc.platform.procs, 1);
    assert_int_equal(sc.n_steps, 0);
    assert_null(sc.steps);
    assert_int_equal(sc.n_expect, 0);
    assert_null(sc.expect);
    /* valid, but it would pass whatever happens: a warning, not an error */
    assert_string_equal(sc.warning, DATA "minimal.json: warning: no expectations: the run checks "
                                         "nothing and passes whatever happens");

    a = &sc.fleets[0];
    b = &sc.fleets[1];
    assert_string_equal(a->id, "a");
    assert_string_equal(a->protocol, "jt808");
    assert_int_equal(JC(a)->version, 2019);
    assert_int_equal(a->count, 1);
    assert_int_equal(b->count, 2000);
    assert_true(a->ramp_per_s == 0);
    /* default numbering: a block of 10,000,000 per fleet */
    assert_string_equal(a->ident, "13800000000+");
    assert_string_equal(b->ident, "13810000000+");
    assert_string_equal(JC(a)->manufacturer, "FSIM1");
    assert_string_equal(JC(a)->model, "FS-TERM");
    assert_string_equal(JC(a)->terminal_prefix, "T");
    assert_string_equal(JC(a)->plate_prefix, "SIM");
    assert_int_equal(JC(a)->plate_color, 1);
    assert_int_equal(JC(a)->province, 11);
    assert_int_equal(JC(a)->city, 0);
    assert_int_equal(JC(a)->heartbeat_ms, 30000);
    assert_int_equal(JC(a)->report_every_ms, 10000);
    assert_string_equal(JC(a)->location_model, "random-walk");
    assert_true(JC(a)->lat == 39.9);
    assert_true(JC(a)->lon == 116.4);
    assert_int_equal(a->reconnect_min_ms, 1000);
    assert_int_equal(a->reconnect_max_ms, 60000);
    assert_int_equal(a->ack_timeout_ms, 10000);
    scenario_free(&sc);
}

/* platform.verify: the URL, the timeout (real time), the events as a mask */
static void test_verify(void **state)
{
    (void)state;
    struct scenario sc;
    char err[512] = "";
    if (parse_q("{'name':'t','duration':'1s','fleets':[{'id':'a','protocol':'jt808','count':1}],"
                "'platform':{'auth':'third-party','verify':{'url':'https://v.example:8443/verify',"
                "'timeout':'1500ms','events':['auth','unregister']}}}",
                &sc, err, sizeof err) != 0)
        fail_msg("%s", err);
    assert_string_equal(sc.platform.auth, "third-party");
    assert_string_equal(sc.platform.verify_url, "https://v.example:8443/verify");
    assert_int_equal(sc.platform.verify_timeout_ms, 1500);
    assert_int_equal(sc.platform.verify_events, (1u << JT808_VERIFY_AUTH) | (1u << JT808_VERIFY_UNREGISTER));
    scenario_free(&sc);
    if (parse_q("{'name':'t','duration':'1s','fleets':[{'id':'a','protocol':'jt808','count':1}],"
                "'platform':{'auth':'third-party','verify':{'url':'http://127.0.0.1:9/'}}}",
                &sc, err, sizeof err) != 0)
        fail_msg("%s", err);
    assert_int_equal(sc.platform.verify_timeout_ms, 0);   /* the gateway's default, 2 s */
    assert_int_equal(sc.platform.verify_events, 0);       /* all three */
    scenario_free(&sc);
}

static void test_every_field(void **state)
{
    struct scenario sc;
    char err[512] = "";
    const struct fleet_spec *o, *n;
    const cJSON *params;
    if (scenario_load(DATA "full.json", &sc, err, sizeof err) != 0)
        fail_msg("%s", err);
    assert_string_equal(sc.description, "sets every field to something other than its default");
    assert_int_equal(sc.duration_ms, 7200000);
    assert_true(sc.time_scale == 60);
    assert_int_equal(sc.seed, 4294967295u);
    assert_string_equal(sc.platform.auth, "one-party");
    /* relative to the scenario file's folder */
    assert_string_equal(sc.platform.triples, DATA "triples/full.csv");
    assert_int_equal(sc.platform.port, 17808);
    assert_int_equal(sc.platform.idle_timeout_ms, 300000);
    assert_int_equal(sc.platform.reasm_timeout_ms, 5000);
    assert_int_equal(sc.platform.procs, 16);

    o = scenario_fleet(&sc, "old");
    n = scenario_fleet(&sc, "new");
    assert_non_null(o);
    assert_non_null(n);
    assert_null(scenario_fleet(&sc, "Old"));
    assert_null(scenario_fleet(&sc, NULL));
    assert_int_equal(JC(o)->version, 2011);
    assert_int_equal(o->count, 1500);
    assert_float_equal(o->ramp_per_s, 50.0 / 60.0, 1e-12);
    assert_string_equal(o->ident, "13900000000+");
    assert_string_equal(JC(o)->manufacturer, "ACME1");
    assert_string_equal(JC(o)->model, "M-2011");
    assert_string_equal(JC(o)->terminal_prefix, "OLD");
    assert_string_equal(JC(o)->plate_prefix, "\xe4\xba\xac" "A");
    assert_int_equal(JC(o)->plate_color, 2);
    assert_int_equal(JC(o)->province, 31);
    assert_int_equal(JC(o)->city, 100);
    assert_int_equal(JC(o)->heartbeat_ms, 45000);
    assert_int_equal(JC(o)->report_every_ms, 0);
    assert_string_equal(JC(o)->location_model, "fixed");
    assert_true(JC(o)->lat == -33.9);
    assert_true(JC(o)->lon == 151.2);
    assert_int_equal(o->reconnect_min_ms, 500);
    assert_int_equal(o->reconnect_max_ms, 120000);
    assert_int_equal(o->ack_timeout_ms, 3000);
    assert_int_equal(JC(n)->version, 2019);
    assert_string_equal(n->ident, "12345678901234567890");
    assert_string_equal(JC(n)->manufacturer, "MANUFACTURE");
    assert_string_equal(JC(n)->model, "MODEL-WITH-THIRTY-CHARACTERS-X");
    assert_string_equal(JC(n)->terminal_prefix, "ABCDEFGHIJKLMNOPQRSTUVW");
    /* report: null means no periodic reports, the rest keeps its defaults */
    assert_int_equal(JC(n)->report_every_ms, 0);
    assert_string_equal(JC(n)->location_model, "random-walk");

    /* sorted by time; the two steps at 1h keep their order in the file */
    assert_int_equal(sc.n_steps, 3);
    assert_int_equal(sc.steps[0].at_ms, 3600000);
    assert_string_equal(sc.steps[0].msg, "0x8103");
    assert_string_equal(sc.steps[0].fleet, "new");
    assert_true(sc.steps[0].fraction == 0.5);
    assert_non_null(sc.steps[0].body);
    params = cJSON_GetObjectItemCaseSensitive(sc.steps[0].body, "params");
    assert_true(cJSON_IsArray(params));
    assert_int_equal(cJSON_GetArraySize(params), 1);
    assert_int_equal(sc.steps[1].at_ms, 3600000);
    assert_string_equal(sc.steps[1].msg, "0x8300");
    assert_string_equal(cJSON_GetObjectItemCaseSensitive(sc.steps[1].body, "text")->valuestring,
                        "hi");
    assert_int_equal(sc.steps[2].at_ms, 5400000);
    assert_int_equal(sc.steps[2].kind, SC_STEP_FAULT);
    assert_true(sc.steps[2].fraction == 0.25);
    assert_int_equal(sc.steps[2].down_ms, 1500);

    assert_int_equal(sc.n_expect, 7);
    assert_string_equal(sc.expect[0].area, "custom.area");
    assert_string_equal(sc.expect[0].desc, "my own words");
    assert_string_equal(sc.expect[0].state, "connected");
    assert_int_equal(sc.expect[0].within_ms, 1500);
    assert_true(sc.expect[0].fraction == 0.9);
    assert_string_equal(sc.expect[1].fleet, "");
    assert_int_equal(sc.expect[1].within_ms, 20000);
    assert_string_equal(sc.expect[1].desc,
                        "every terminal sent 0x8300 answers with 0x0001 within 20s");
    assert_true(sc.expect[2].has_above && sc.expect[2].has_below);
    assert_true(sc.expect[2].bound_is_duration);
    assert_true(sc.expect[2].above == 1000.0);
    assert_true(sc.expect[2].below == 2500000.0);
    assert_string_equal(sc.expect[2].desc, "online.latency.p50 stays above 1ms and below 2.5s");
    assert_true(sc.expect[3].has_above);
    assert_false(sc.expect[3].has_below);
    assert_false(sc.expect[3].bound_is_duration);
    assert_true(sc.expect[3].above == 10.5);
    assert_int_equal(sc.expect[4].kind, SC_EXP_COUNTER);
    assert_string_equal(sc.expect[4].counter, "gateway.bad_check");
    assert_true(sc.expect[4].has_min && sc.expect[4].has_max);
    assert_int_equal(sc.expect[4].min, 1);
    assert_int_equal(sc.expect[4].max, 2000);
    assert_string_equal(sc.expect[4].desc, "counter gateway.bad_check is between 1 and 2000");
    assert_false(sc.expect[5].has_min);
    assert_true(sc.expect[5].has_max);
    assert_int_equal(sc.expect[5].max, 0);
    assert_string_equal(sc.expect[5].desc, "counter gateway.auth_refused is at most 0");
    assert_string_equal(sc.expect[6].area, "trans");
    assert_int_equal(sc.expect[6].n_transitions, 8);
    assert_string_equal(sc.expect[6].transitions[7], "authenticated");
    /* a long generated objective is cut to the field, still terminated */
    assert_int_equal(strlen(sc.expect[6].desc), sizeof sc.expect[6].desc - 1);
    scenario_free(&sc);
}

static void test_generated_text(void **state)
{
    static const struct {
        const char *expect;
        const char *area;
        const char *desc;
    } cases[] = {
        {"{'id':'JT808-AUTH-001','state':'authenticated','fleet':'trucks','within':'10s'}",
         "jt808.auth", "all terminals of trucks reach authenticated within 10s"},
        {"{'id':'PCP-CRC-001','state':'connected','fraction':0.9}", "pcp.crc",
         "90% of terminals are connected at the end of the run"},
        {"{'id':'PCP.15.3-002','state':'idle','within':'0s'}", "pcp.15.3",
         "all terminals are idle at the end of the run"},
        {"{'id':'NO-NUMBER','ledger':'balanced'}", "no.number",
         "every message is acknowledged, failed or timed out (ledger balanced)"},
        {"{'id':'001','ledger':'balanced'}", "001",
         "every message is acknowledged, failed or timed out (ledger balanced)"},
        {"{'id':'A-B-7X','metric':'heartbeats.rate','below':3}", "a.b.7x",
         "heartbeats.rate stays below 3"},
        {"{'id':'C-1','counter':'terminal.connects','min':'1k'}", "c",
         "counter terminal.connects is at least 1000"},
        /* a reply has the platform's command timeout as its deadline unless given one */
        {"{'id':'R-1','reply':'0x0104','to':'0x8104'}", "r",
         "every terminal sent 0x8104 answers with 0x0104 within 10s"},
        {"{'id':'R-2','reply':'0x0104','to':'0x8104','fleet':'trucks','within':'2.5s'}", "r",
         "every terminal of trucks sent 0x8104 answers with 0x0104 within 2.5s"},
        {"{'id':'T-1','transitions':['connecting','connected'],'fleet':'trucks'}", "t",
         "all terminals of trucks pass through connecting -> connected in order"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char doc[512], err[512] = "";
        struct scenario sc;
        snprintf(doc, sizeof doc,
                 "{'name':'t','duration':'30s','fleets':[{'id':'trucks','protocol':'jt808',"
                 "'count':10}],'steps':[{'at':'1s','command':{'fleet':'trucks','msg':'0x8104'}}],"
                 "'expect':[%s]}", cases[i].expect);
        if (parse_q(doc, &sc, err, sizeof err) != 0)
            fail_msg("case %zu: %s", i, err);
        assert_string_equal(sc.expect[0].area, cases[i].area);
        assert_string_equal(sc.expect[0].desc, cases[i].desc);
        scenario_free(&sc);
    }
}

/* A reply's deadline is the platform's command timeout unless it gives one: the
 * number the run gives the commands, and the words the plan and reports show. */
static void test_reply_deadline(void **state)
{
    struct scenario sc;
    char err[512] = "";
    if (parse_q("{'name':'t','duration':'30s','fleets':[{'id':'a','protocol':'jt808','count':1}],"
                "'steps':[{'at':'1s','command':{'fleet':'a','msg':'0x8201'}}],"
                "'expect':[{'id':'R-1','reply':'0x0201','to':'0x8201'},"
                "{'id':'R-2','reply':'0x0201','to':'0x8201','within':'750ms'}]}",
                &sc, err, sizeof err) != 0)
        fail_msg("%s", err);
    assert_int_equal(sc.expect[0].within_ms, SC_REPLY_WITHIN_MS);
    assert_int_equal(SC_REPLY_WITHIN_MS, 10000);
    assert_string_equal(sc.expect[0].desc, "every terminal sent 0x8201 answers with 0x0201 within 10s");
    assert_int_equal(sc.expect[1].within_ms, 750);
    assert_string_equal(sc.expect[1].desc,
                        "every terminal sent 0x8201 answers with 0x0201 within 750ms");
    scenario_free(&sc);
}

static void test_no_expectations_warns(void **state)
{
    struct scenario sc;
    char err[512] = "";
    static const char *const docs[] = {
        "{'name':'t','duration':'1s','fleets':[{'id':'a','protocol':'jt808','count':1}]}",
        "{'name':'t','duration':'1s','fleets':[{'id':'a','protocol':'jt808','count':1}],'expect':[]}",
    };
    for (size_t i = 0; i < sizeof docs / sizeof docs[0]; i++) {
        if (parse_q(docs[i], &sc, err, sizeof err) != 0)
            fail_msg("%s", err);
        assert_string_equal(sc.warning, "x.json: warning: no expectations: the run checks nothing "
                                        "and passes whatever happens");
        scenario_free(&sc);
    }
    if (parse_q("{'name':'t','duration':'1s','fleets':[{'id':'a','protocol':'jt808','count':1}],"
                "'expect':[{'id':'L-1','ledger':'balanced'}]}", &sc, err, sizeof err) != 0)
        fail_msg("%s", err);
    assert_string_equal(sc.warning, "");
    scenario_free(&sc);
}

static void test_boundaries_accepted(void **state)
{
    static const char *const docs[] = {
        /* time_query false is fine for 2013 (true: 2019 only) */
        "{'name':'t','duration':'1s','fleets':[{'id':'a','protocol':'jt808','version':2013,"
        "'count':1,'time_query':false}]}",
        /* 12 digits for 2013, last number exactly 999999999999 */
        "{'name':'t','duration':'1s','fleets':[{'id':'a','protocol':'jt808','version':2013,"
        "'count':10,'phone':'999999999990+'}]}",
        /* 19 digits and '+' for 2019 running up to 20 digits */
        "{'name':'t','duration':'1s','fleets':[{'id':'a','protocol':'jt808','count':2,"
        "'phone':'9999999999999999999+'}]}",
        /* 20 digits and '+' for 2019: the wire takes 20, and the last fits 64 bits */
        "{'name':'t','duration':'1s','fleets':[{'id':'a','protocol':'jt808','count':2,"
        "'phone':'12345678901234567890+'}]}",
        /* one terminal may have a fixed number */
        "{'name':'t','duration':'1s','fleets':[{'id':'a','protocol':'jt808','count':1,"
        "'phone':'13800000000'}]}",
        /* 'T' plus 6 digits fills a 7-character 2013 terminal id */
        "{'name':'t','duration':'1s','fleets':[{'id':'a','protocol':'jt808','version':'2013',"
        "'count':999999}]}",
        /* empty terminal prefix, 7 digits */
        "{'name':'t','duration':'1s','fleets':[{'id':'a','protocol':'jt808','version':2011,"
        "'count':'9.999999M','terminal_prefix':''}]}",
        /* exactly the default phone block */
        "{'name':'t','duration':'1s','fleets':[{'id':'a','protocol':'jt808','count':'10M'}]}",
        /* port bounds, procs bounds, a step at the very end, fraction 1 */
        "{'name':'t','duration':'10s','platform':{'port':1024,'procs':1},'fleets':[{'id':'a',"
        "'protocol':'jt808','count':1}],'steps':[{'at':'10s','fault':{'kind':'disconnect',"
        "'fleet':'a','fraction':1}}]}",
        "{'name':'t','duration':'10s','platform':{'port':65535},'fleets':[{'id':'a',"
        "'protocol':'jt808','count':1,'reconnect':{'min':'5s','max':'5s'},"
        "'report':{'lat':-90,'lon':180}}]}",
        /* tcp targets */
        "{'name':'t','duration':'1s','target':'tcp://127.0.0.1:7808','fleets':[{'id':'a',"
        "'protocol':'jt808','count':1}]}",
        "{'name':'t','duration':'1s','target':'tcp://[::1]:1','time_scale':1,'fleets':[{'id':'a',"
        "'protocol':'jt808','count':1}]}",
        "{'name':'t','duration':'1s','target':'tcp://gw-1.example.com:65535','fleets':[{'id':'a',"
        "'protocol':'jt808','count':1}]}",
        /* a UTF-8 byte-order mark before the object */
        "\xef\xbb\xbf{'name':'t','duration':'1s','fleets':[{'id':'a','protocol':'jt808','count':1}]}",
        /* 32 fleets */
        "{'name':'t','duration':'1s','fleets':["
        "{'id':'f0','protocol':'jt808','count':1},{'id':'f1','protocol':'jt808','count':1},"
        "{'id':'f2','protocol':'jt808','count':1},{'id':'f3','protocol':'jt808','count':1},"
        "{'id':'f4','protocol':'jt808','count':1},{'id':'f5','protocol':'jt808','count':1},"
        "{'id':'f6','protocol':'jt808','count':1},{'id':'f7','protocol':'jt808','count':1},"
        "{'id':'f8','protocol':'jt808','count':1},{'id':'f9','protocol':'jt808','count':1},"
        "{'id':'f10','protocol':'jt808','count':1},{'id':'f11','protocol':'jt808','count':1},"
        "{'id':'f12','protocol':'jt808','count':1},{'id':'f13','protocol':'jt808','count':1},"
        "{'id':'f14','protocol':'jt808','count':1},{'id':'f15','protocol':'jt808','count':1},"
        "{'id':'f16','protocol':'jt808','count':1},{'id':'f17','protocol':'jt808','count':1},"
        "{'id':'f18','protocol':'jt808','count':1},{'id':'f19','protocol':'jt808','count':1},"
        "{'id':'f20','protocol':'jt808','count':1},{'id':'f21','protocol':'jt808','count':1},"
        "{'id':'f22','protocol':'jt808','count':1},{'id':'f23','protocol':'jt808','count':1},"
        "{'id':'f24','protocol':'jt808','count':1},{'id':'f25','protocol':'jt808','count':1},"
        "{'id':'f26','protocol':'jt808','count':1},{'id':'f27','protocol':'jt808','count':1},"
        "{'id':'f28','protocol':'jt808','count':1},{'id':'f29','protocol':'jt808','count':1},"
        "{'id':'f30','protocol':'jt808','count':1},{'id':'f31','protocol':'jt808','count':1}]}",
    };
    for (size_t i = 0; i < sizeof docs / sizeof docs[0]; i++) {
        struct scenario sc;
        char err[512] = "";
        if (parse_q(docs[i], &sc, err, sizeof err) != 0)
            fail_msg("doc %zu: %s", i, err);
        scenario_free(&sc);
    }
}

/* ---- errors: one per class, the whole message ---- */

struct err_case {
    const char *doc;
    const char *err;
};

#define HEAD "'name':'t','duration':'30s'"
#define TRUCKS "{'id':'trucks','protocol':'jt808','count':10}"
#define VANS "{'id':'vans','protocol':'jt808','count':10}"
#define DOC1(fleet) "{" HEAD ",'fleets':[" fleet "]}"
#define DOC(rest) "{" HEAD ",'fleets':[" TRUCKS "," VANS "]" rest "}"
#define STEP(s) DOC(",'steps':[" s "]")
#define EXPECT(e) DOC(",'expect':[" e "]")
#define CMD84 "{'at':'5s','command':{'fleet':'vans','msg':'0x8104'}}"

static const struct err_case error_cases[] = {
    /* unknown fields, anywhere, with a suggestion when one is close */
    {DOC1("{'id':'trucks','protocol':'jt808','cout':10}"),
     "x.json: fleets[0].cout: unknown field (did you mean \"count\"?)"},
    {"{'name':'t','duraton':'30s','fleets':[" TRUCKS "]}",
     "x.json: duraton: unknown field (did you mean \"duration\"?)"},
    {DOC(",'bogus':1"), "x.json: bogus: unknown field"},
    {DOC(",'Steps':[]"), "x.json: Steps: unknown field (did you mean \"steps\"?)"},
    {DOC1("{'id':'trucks','protocol':'jt808','count':10,'report':{'evry':'5s'}}"),
     "x.json: fleets[0].report.evry: unknown field (did you mean \"every\"?)"},
    {DOC1("{'id':'trucks','protocol':'jt808','count':10,'reconnect':{'min':'1s','mux':'9s'}}"),
     "x.json: fleets[0].reconnect.mux: unknown field (did you mean \"max\"?)"},
    {DOC(",'platform':{'prots':2}"), "x.json: platform.prots: unknown field (did you mean \"procs\"?)"},
    {STEP("{'at':'1s','command':{'flet':'vans','msg':'0x8104'}}"),
     "x.json: steps[0].command.flet: unknown field (did you mean \"fleet\"?)"},
    {STEP("{'ta':'1s','command':{'fleet':'vans','msg':'0x8104'}}"),
     "x.json: steps[0].ta: unknown field (did you mean \"at\"?)"},
    {STEP("{'at':'1s','fault':{'kind':'disconnect','fleet':'vans','donw':'1s'}}"),
     "x.json: steps[0].fault.donw: unknown field (did you mean \"down\"?)"},
    {EXPECT("{'id':'A-1','stat':'authenticated'}"),
     "x.json: expect[0].stat: unknown field (did you mean \"state\"?)"},
    {EXPECT("{'id':'A-1','state':'idle','whithin':'1s'}"),
     "x.json: expect[0].whithin: unknown field (did you mean \"within\"?)"},
    {DOC1("{'id':'trucks','protocol':'jt808','count':10,'count':20}"),
     "x.json: fleets[0].count: field given twice"},

    /* wrong types */
    {DOC1("{'id':'trucks','protocol':'jt808','count':true}"),
     "x.json: fleets[0].count: expected a count like 1000 or \"10k\", got true"},
    {DOC1("{'id':'trucks','protocol':'jt808','count':[1]}"),
     "x.json: fleets[0].count: expected a count like 1000 or \"10k\", got an array"},
    {DOC1("{'id':5,'protocol':'jt808','count':10}"),
     "x.json: fleets[0].id: expected a string, got 5"},
    {"{'name':'t','duration':30,'fleets':[" TRUCKS "]}",
     "x.json: duration: '30': units required (use us, ms, s, m, h, d), e.g. \"30s\" or \"30ms\" "
     "(a string)"},
    {DOC1("{'id':'trucks','protocol':'jt808','count':10,'heartbeat':2.5}"),
     "x.json: fleets[0].heartbeat: '2.5': units required (use us, ms, s, m, h, d), e.g. \"2.5s\" or "
     "\"2.5ms\" (a string)"},
    {EXPECT("{'id':'A-1','state':'idle','within':-1}"),
     "x.json: expect[0].within: '-1': negative duration, e.g. \"30s\" or \"30ms\" (a string)"},
    {DOC1("{'id':'trucks','protocol':'jt808','count':10,'heartbeat':'30s','ack_timeout':true}"),
     "x.json: fleets[0].ack_timeout: expected a duration like \"30s\" or \"250ms\" (units required), "
     "got true"},
    {DOC1("{'id':'trucks','protocol':'jt808','count':10,'ramp':200}"),
     "x.json: fleets[0].ramp: expected a rate like \"200/s\" or \"50/min\", got 200"},
    {DOC1("{'id':'trucks','protocol':'jt808','count':10,'report':'5s'}"),
     "x.json: fleets[0].report: expected an object, got \"5s\""},
    {DOC1("{'id':'trucks','protocol':'jt808','count':10,'report':{'lat':'39.9'}}"),
     "x.json: fleets[0].report.lat: expected a number, got \"39.9\""},
    {DOC1("{'id':'trucks','protocol':'jt808','count':10,'plate_color':'blue'}"),
     "x.json: fleets[0].plate_color: expected a whole number, got \"blue\""},
    {DOC1("{'id':'trucks','protocol':'jt808','version':2013,'count':10,'time_query':true}"),
     "x.json: fleets[0].time_query: 0x0004 (query server time) exists in JT/T 808-2019 only: not for "
     "version 2013 terminals"},
    {DOC1("{'id':'trucks','protocol':'jt808','count':10,'time_query':'yes'}"),
     "x.json: fleets[0].time_query: must be true or false, got \"yes\""},
    {DOC1("{'id':'trucks','protocol':'jt808','count':10,'province':1.5}"),
     "x.json: fleets[0].province: expected a whole number, got 1.5"},
    {DOC1("{'id':'trucks','protocol':1,'count':10}"),
     "x.json: fleets[0].protocol: expected one of jt808, replay, got 1"},
    {"{'name':'t','duration':'30s','fleets':{}}", "x.json: fleets: expected an array, got an object"},
    {DOC1("'trucks'"), "x.json: fleets[0]: expected an object, got \"trucks\""},
    {DOC(",'steps':{}"), "x.json: steps: expected an array, got an object"},
    {DOC(",'expect':null"), "x.json: expect: expected an array, got null"},
    {STEP("[]"), "x.json: steps[0]: expected an object, got an array"},
    {STEP("{'at':'1s','command':{'fleet':'vans','msg':33028}}"),
     "x.json: steps[0].command.msg: expected a request name like \"0x8103\", got 33028"},
    {STEP("{'at':'1s','command':{'fleet':'vans','msg':'8104'}}"),
     "x.json: steps[0].command.msg: \"8104\" is not a request the platform sends to jt808 terminals "
     "(use 0x8103, 0x8104, 0x8105, 0x8201, 0x8300, 0x8108, 0x8003, 0x8106, 0x8107, 0x8202, 0x8203, 0x8204, "
     "0x8301, 0x8302, 0x8303, 0x8304, 0x8400, 0x8401, 0x8500, 0x8600, 0x8601, 0x8602, 0x8603, 0x8604, 0x8605, "
     "0x8606, 0x8607, 0x8608, 0x8700, 0x8701, 0x8702, 0x8800, 0x8801, 0x8802, 0x8803, 0x8804, 0x8805, 0x8900, "
     "0x8A00)"},
    {STEP("{'at':'1s','command':{'fleet':'vans','msg':'0x81g4'}}"),
     "x.json: steps[0].command.msg: \"0x81g4\" is not a request the platform sends to jt808 terminals "
     "(use 0x8103, 0x8104, 0x8105, 0x8201, 0x8300, 0x8108, 0x8003, 0x8106, 0x8107, 0x8202, 0x8203, 0x8204, "
     "0x8301, 0x8302, 0x8303, 0x8304, 0x8400, 0x8401, 0x8500, 0x8600, 0x8601, 0x8602, 0x8603, 0x8604, 0x8605, "
     "0x8606, 0x8607, 0x8608, 0x8700, 0x8701, 0x8702, 0x8800, 0x8801, 0x8802, 0x8803, 0x8804, 0x8805, 0x8900, "
     "0x8A00)"},
    {STEP("{'at':'1s','command':{'fleet':'vans','msg':'0x8104','body':[1]}}"),
     "x.json: steps[0].command.body: expected an object, got an array"},
    {STEP("{'at':'1s','command':{'fleet':'vans','msg':'0x8104','fraction':'all'}}"),
     "x.json: steps[0].command.fraction: expected a number, got \"all\""},
    {EXPECT("{'id':'T-1','transitions':'connecting'}"),
     "x.json: expect[0].transitions: expected an array, got \"connecting\""},
    {EXPECT("{'id':'T-1','transitions':['connecting',3]}"),
     "x.json: expect[0].transitions[1]: expected a state name, got 3"},
    {EXPECT("{'id':'M-1','metric':'report.latency.p99','below':true}"),
     "x.json: expect[0].below: expected a duration like \"30s\" or \"250ms\" (units required), "
     "got true"},
    {EXPECT("{'id':'M-1','metric':'reports.rate','below':true}"),
     "x.json: expect[0].below: expected a number, got true"},
    {"[1,2]", "x.json: expected a JSON object at the top level, got an array"},
    {"\"text\"", "x.json: expected a JSON object at the top level, got \"text\""},

    /* required fields */
    {"{'duration':'30s','fleets':[" TRUCKS "]}", "x.json: name: required field missing"},
    {"{'name':'t','fleets':[" TRUCKS "]}", "x.json: duration: required field missing"},
    {"{" HEAD "}", "x.json: fleets: required field missing"},
    {DOC1("{'protocol':'jt808','count':10}"), "x.json: fleets[0].id: required field missing"},
    {DOC1("{'id':'trucks','count':10}"), "x.json: fleets[0].protocol: required field missing"},
    {DOC1("{'id':'trucks','protocol':'jt808'}"), "x.json: fleets[0].count: required field missing"},
    {STEP("{'command':{'fleet':'vans','msg':'0x8104'}}"), "x.json: steps[0].at: required field missing"},
    {STEP("{'at':'1s','command':{'fleet':'vans'}}"),
     "x.json: steps[0].command.msg: required field missing"},
    {STEP("{'at':'1s','fault':{'kind':'disconnect'}}"),
     "x.json: steps[0].fault.fleet: required field missing"},
    {STEP("{'at':'1s','fault':{'fleet':'vans'}}"),
     "x.json: steps[0].fault.kind: required field missing"},
    {EXPECT("{'state':'idle'}"), "x.json: expect[0].id: required field missing"},
    {EXPECT("{'id':'R-1','reply':'0x0104'}"), "x.json: expect[0].to: required field missing"},

    /* impossible values */
    {DOC1("{'id':'trucks','protocol':'jt808','count':0}"),
     "x.json: fleets[0].count: expected a positive count, got 0"},
    {DOC1("{'id':'trucks','protocol':'jt808','count':-3}"),
     "x.json: fleets[0].count: expected a positive count, got -3"},
    {DOC1("{'id':'trucks','protocol':'jt808','count':'-3'}"),
     "x.json: fleets[0].count: expected a positive count, got \"-3\""},
    {DOC1("{'id':'trucks','protocol':'jt808','count':'0k'}"),
     "x.json: fleets[0].count: expected a positive count, got \"0k\""},
    {DOC1("{'id':'trucks','protocol':'jt808','count':1.5}"),
     "x.json: fleets[0].count: expected a whole count, got 1.5"},
    {DOC1("{'id':'trucks','protocol':'jt808','count':'5000M'}"),
     "x.json: fleets[0].count: too large: at most 4294967295, got \"5000M\""},
    {DOC1("{'id':'trucks','protocol':'jt808','count':1e300}"),
     "x.json: fleets[0].count: too large, got 1e+300"},
    {DOC1("{'id':'trucks','protocol':'mqtt','count':10}"),
     "x.json: fleets[0].protocol: expected one of jt808, replay, got \"mqtt\""},
    {DOC1("{'id':'trucks','protocol':'jt809','count':10}"),
     "x.json: fleets[0].protocol: unknown value \"jt809\" (did you mean \"jt808\"?)"},
    {DOC1("{'id':'trucks','protocol':'jt808','version':2015,'count':10}"),
     "x.json: fleets[0].version: must be 2011, 2013 or 2019, got 2015"},
    {DOC1("{'id':'trucks','protocol':'jt808','version':'2019 ','count':10}"),
     "x.json: fleets[0].version: must be 2011, 2013 or 2019, got \"2019 \""},
    {DOC1("{'id':'trucks','protocol':'jt808','version':2013.5,'count':10}"),
     "x.json: fleets[0].version: must be 2011, 2013 or 2019, got 2013.5"},
    {DOC(",'platform':{'port':80}"),
     "x.json: platform.port: must be 0 (any free port) or 1024..65535, got 80"},
    {DOC(",'platform':{'port':65536}"),
     "x.json: platform.port: must be between 0 and 65535, got 65536"},
    {DOC(",'platform':{'procs':0}"), "x.json: platform.procs: must be between 1 and 16, got 0"},
    {DOC(",'platform':{'procs':17}"), "x.json: platform.procs: must be between 1 and 16, got 17"},
    {DOC(",'platform':{'idle_timeout':'0s'}"), "x.json: platform.idle_timeout: '0s': must be above 0s"},
    {DOC(",'platform':{'reasm_timeout':'0s'}"), "x.json: platform.reasm_timeout: '0s': must be above 0s"},
    {DOC(",'platform':{'auth':'one-party'}"),
     "x.json: platform.triples: required when auth is \"one-party\""},
    {DOC(",'platform':{'auth':'one_party','triples':'t.csv'}"),
     "x.json: platform.auth: unknown value \"one_party\" (did you mean \"one-party\"?)"},
    {DOC(",'platform':{'auth':'closed'}"),
     "x.json: platform.auth: expected one of open, one-party, third-party, got \"closed\""},
    {DOC(",'platform':{'auth':'third-party'}"),
     "x.json: platform.verify: required when auth is \"third-party\""},
    {DOC(",'platform':{'verify':{'url':'http://127.0.0.1:1/v'}}"),
     "x.json: platform.verify: only with auth \"third-party\", auth is \"open\""},
    {DOC(",'platform':{'auth':'third-party','verify':{'url':'ftp://x/'}}"),
     "x.json: platform.verify.url: 'ftp://x/' is not an http:// or https:// URL"},
    {DOC(",'platform':{'auth':'third-party','verify':{}}"),
     "x.json: platform.verify.url: required field missing"},
    {DOC(",'platform':{'auth':'third-party','verify':{'url':'http://h/','timeout':'11m'}}"),
     "x.json: platform.verify.timeout: must be at most 10m, got \"11m\""},
    {DOC(",'platform':{'auth':'third-party','verify':{'url':'http://h/','events':['auth','regster']}}"),
     "x.json: platform.verify.events[1]: must be \"register\", \"auth\" or \"unregister\", got \"regster\""},
    {DOC(",'platform':{'auth':'third-party','verify':{'url':'http://h/','events':[]}}"),
     "x.json: platform.verify.events: lists no action"},
    {STEP("{'at':'1s','command':{'fleet':'vans','msg':'0x8104','fraction':1.5}}"),
     "x.json: steps[0].command.fraction: must be in (0, 1], got 1.5"},
    {STEP("{'at':'1s','fault':{'kind':'disconnect','fleet':'vans','fraction':0}}"),
     "x.json: steps[0].fault.fraction: must be in (0, 1], got 0"},
    {EXPECT("{'id':'A-1','state':'idle','fraction':-0.5}"),
     "x.json: expect[0].fraction: must be in (0, 1], got -0.5"},
    {STEP(CMD84 ",{'at':'40s','fault':{'kind':'disconnect','fleet':'vans'}}"),
     "x.json: steps[1].at: 40.00s is after the end of the run (duration 30.00s)"},
    {STEP("{'at':'1s','command':{'fleet':'truks','msg':'0x8104'}}"),
     "x.json: steps[0].command.fleet: unknown fleet \"truks\" (did you mean \"trucks\"?)"},
    {STEP("{'at':'1s','fault':{'kind':'disconnect','fleet':'cars'}}"),
     "x.json: steps[0].fault.fleet: unknown fleet \"cars\" (fleets: trucks, vans)"},
    {STEP("{'at':'1s','fault':{'kind':'crash','fleet':'vans'}}"),
     "x.json: steps[0].fault.kind: expected one of disconnect, cut, corrupt, bad-check, got \"crash\""},
    {STEP("{'at':'1s','command':{'fleet':'vans','msg':'0x8100'}}"),
     "x.json: steps[0].command.msg: \"0x8100\" is not a request the platform sends to jt808 terminals "
     "(use 0x8103, 0x8104, 0x8105, 0x8201, 0x8300, 0x8108, 0x8003, 0x8106, 0x8107, 0x8202, 0x8203, 0x8204, "
     "0x8301, 0x8302, 0x8303, 0x8304, 0x8400, 0x8401, 0x8500, 0x8600, 0x8601, 0x8602, 0x8603, 0x8604, 0x8605, "
     "0x8606, 0x8607, 0x8608, 0x8700, 0x8701, 0x8702, 0x8800, 0x8801, 0x8802, 0x8803, 0x8804, 0x8805, 0x8900, "
     "0x8A00)"},
    {STEP("{'at':'1s','command':{'fleet':'vans','msg':'0x8104'},'fault':{'kind':'disconnect'}}"),
     "x.json: steps[0]: has more than one of \"command\", \"fault\", \"terminal\" and \"api\"; a step does one thing"},
    {STEP("{'at':'1s'}"), "x.json: steps[0]: needs \"command\", \"fault\", \"terminal\" or \"api\""},
    /* api steps: each member checked, the ${name}s in the order the steps run */
    {STEP(CMD84 ",{'at':'1s','api':{'method':'PATCH','path':'/x'}}"),
     "x.json: steps[1].api.method: expected one of GET, POST, PUT, DELETE, got \"PATCH\""},
    {STEP("{'at':'1s','api':{'method':'GET'}}"),
     "x.json: steps[0].api.path: required (like \"/iocm/app/dm/v1.4.0/devices/${device:FLEET:0}\")"},
    {STEP("{'at':'1s','api':{'method':'GET','path':'iocm/x'}}"),
     "x.json: steps[0].api.path: expected a path starting with \"/\", got \"iocm/x\""},
    {STEP("{'at':'1s','api':{'method':'GET','path':'/a b'}}"),
     "x.json: steps[0].api.path: a space, control character or '#' at byte 2 (write it %XX)"},
    {STEP("{'at':'1s','api':{'method':'GET','path':'/x','body':{'a':1}}}"),
     "x.json: steps[0].api.body: a GET call has no body"},
    {STEP("{'at':'1s','api':{'method':'POST','path':'/x','body':'text'}}"),
     "x.json: steps[0].api.body: expected a JSON object or array, got \"text\""},
    {STEP("{'at':'1s','api':{'method':'GET','path':'/x','expect_status':99}}"),
     "x.json: steps[0].api.expect_status: must be between 100 and 599, got 99"},
    {STEP("{'at':'1s','api':{'method':'GET','path':'/x','capture':{'1x':'a'}}}"),
     "x.json: steps[0].api.capture.1x: a name is a letter or _ then letters, digits, _ (at most 31)"},
    {STEP("{'at':'1s','api':{'method':'GET','path':'/x','capture':{'c':'a..b'}}}"),
     "x.json: steps[0].api.capture.c: expected a path into the answer's JSON (like \"commandId\" or "
     "\"services[0].data.lat\", at most 95 bytes)"},
    {STEP("{'at':'1s','api':{'method':'GET','path':'/x','capture':{}}}"),
     "x.json: steps[0].api.capture: captures nothing (leave it out, or name a value: {\"cmd1\": \"commandId\"})"},
    {STEP("{'at':'1s','api':{'method':'GET','path':'/x','idd':'A'}}"),
     "x.json: steps[0].api.idd: unknown field (did you mean \"id\"?)"},
    {STEP("{'at':'1s','api':{'method':'GET','path':'/x','id':'A B'}}"),
     "x.json: steps[0].api.id: an id is letters, digits, '-', '_' and '.', got \"A B\""},
    {STEP("{'at':'1s','api':{'method':'GET','path':'/x/${cmd1}'}}"),
     "x.json: steps[0].api.path: ${cmd1}: not captured by an earlier api step (nor ${device:FLEET:N})"},
    /* captured, but by a step that runs later (the file's order is not the time order) */
    {STEP("{'at':'5s','api':{'method':'POST','path':'/c','capture':{'cmd1':'commandId'}}},"
          "{'at':'1s','api':{'method':'POST','path':'/d','body':{'x':['${cmd1}']}}}"),
     "x.json: steps[1].api.body.x[0]: ${cmd1}: captured by steps[0], which does not run before this one"},
    {STEP("{'at':'1s','api':{'method':'GET','path':'/d/${device:cars:0}'}}"),
     "x.json: steps[0].api.path: ${device:cars:0}: no fleet \"cars\""},
    {STEP("{'at':'1s','api':{'method':'GET','path':'/d/${device:vans:10}'}}"),
     "x.json: steps[0].api.path: ${device:vans:10}: fleet vans has terminals 0 to 9"},
    {STEP("{'at':'1s','api':{'method':'GET','path':'/d/${device:vans}'}}"),
     "x.json: steps[0].api.path: ${device:vans}: expected ${device:FLEET:N} (a fleet's id and a terminal's number from 0)"},
    {STEP("{'at':'1s','api':{'method':'GET','path':'/d/${x'}}"),
     "x.json: steps[0].api.path: \"${\" without its \"}\""},
    {DOC(",'steps':[{'at':'1s','api':{'method':'GET','path':'/x','id':'A-1'}}],"
         "'expect':[{'id':'A-1','ledger':'balanced'}]"),
     "x.json: steps[0].api.id: \"A-1\" is an expectation's id too (expect[0])"},
    {STEP("{'at':'1s','api':{'method':'GET','path':'/x','id':'A-1'}},{'at':'2s','api':{'method':'GET','path':'/y','id':'A-1'}}"),
     "x.json: steps[1].api.id: duplicate id \"A-1\" (also steps[0].api)"},
    {DOC(",'platform':{'api':'yes'}"), "x.json: platform.api: expected true or false, got \"yes\""},
    /* command_path expectations */
    {DOC(",'expect':[{'id':'P-1','command_path':{'capture':'cmd1','states':['SENT']}}]"),
     "x.json: expect[0].command_path.capture: no api step captures \"cmd1\" (the commandId of the call that creates it)"},
    {DOC(",'steps':[{'at':'1s','api':{'method':'POST','path':'/c','capture':{'cmd1':'commandId'}}}],"
         "'expect':[{'id':'L','ledger':'balanced'},{'id':'P-1','command_path':{'capture':'cmd1','states':['SENT','DONE']}}]"),
     "x.json: expect[1].command_path.states[1]: expected a command state (PENDING, EXPIRED, CANCELED, SENT, TIMEOUT, "
     "DELIVERED, SUCCESSFUL, FAIL), got \"DONE\""},
    {DOC(",'steps':[{'at':'1s','api':{'method':'POST','path':'/c','capture':{'cmd1':'commandId'}}}],"
         "'expect':[{'id':'P-1','command_path':{'capture':'cmd1','states':[],'within':'1s'}}]"),
     "x.json: expect[0].command_path.within: unknown field\n"
     "x.json: expect[0].command_path.states: expected 1 to 8 states, got 0"},
    {DOC(",'steps':[{'at':'1s','api':{'method':'POST','path':'/c','capture':{'cmd1':'commandId'}}}],"
         "'expect':[{'id':'L','ledger':'balanced'},{'id':'L','command_path':{'capture':'cmd1','states':['SENT']}}]"),
     "x.json: expect[1].id: duplicate expectation id \"L\""},
    {STEP("{'at':'1s','terminal':{'fleet':'vans','action':'reboot'}}"),
     "x.json: steps[0].terminal.action: expected one of unregister, got \"reboot\""},
    {EXPECT("{'id':'A-1','state':'authenticated','fleet':'vanz'}"),
     "x.json: expect[0].fleet: unknown fleet \"vanz\" (did you mean \"vans\"?)"},
    {EXPECT("{'id':'A-1','state':'authenticted'}"),
     "x.json: expect[0].state: unknown state \"authenticted\" (did you mean \"authenticated\"?)"},
    {EXPECT("{'id':'A-1','state':'flying'}"),
     "x.json: expect[0].state: unknown state \"flying\" (known: idle, connecting, connected, "
     "registering, registered, authenticating, authenticated, disconnected, unregistered)"},
    {EXPECT("{'id':'T-1','transitions':['connecting','registerd']}"),
     "x.json: expect[0].transitions[1]: unknown state \"registerd\" (did you mean \"registered\"?)"},
    {EXPECT("{'id':'T-1','transitions':[]}"),
     "x.json: expect[0].transitions: expected 1 to 8 states, got 0"},
    {EXPECT("{'id':'T-1','transitions':['idle','idle','idle','idle','idle','idle','idle','idle','idle']}"),
     "x.json: expect[0].transitions: expected 1 to 8 states, got 9"},
    {"{" HEAD ",'fleets':[" TRUCKS "," VANS "," TRUCKS "]}",
     "x.json: fleets[2].id: duplicate fleet id \"trucks\" (also fleets[0])"},
    {EXPECT("{'id':'A-1','ledger':'balanced'},{'id':'A-2','ledger':'balanced'},"
            "{'id':'A-1','state':'idle'}"),
     "x.json: expect[2].id: duplicate expectation id \"A-1\" (also expect[0])"},
    {EXPECT("{'id':'jt808-auth-001','state':'idle'}"),
     "x.json: expect[0].id: use uppercase letters, digits, '.' and '-' (e.g. JT808-AUTH-001), "
     "got \"jt808-auth-001\""},
    {DOC1("{'id':'my trucks','protocol':'jt808','count':10}"),
     "x.json: fleets[0].id: use letters, digits, '_', '.' and '-', got \"my trucks\""},
    {DOC1("{'id':'','protocol':'jt808','count':10}"), "x.json: fleets[0].id: must not be empty"},
    {DOC1("{'id':'trucks','protocol':'jt808','count':10,'ramp':'0/s'}"),
     "x.json: fleets[0].ramp: must be above 0 (leave ramp out to connect all at once), got \"0/s\""},
    {"{'name':'t','duration':'0s','fleets':[" TRUCKS "]}", "x.json: duration: '0s': must be above 0s"},
    {DOC(",'time_scale':0"), "x.json: time_scale: must be above 0, got 0"},
    {DOC(",'time_scale':1e400"), "x.json: time_scale: number out of range"},
    {DOC(",'target':'tcp://10.0.0.1:7000','time_scale':10"),
     "x.json: time_scale: must be 1 against a third-party target (tcp://10.0.0.1:7000)"},
    {DOC(",'target':'http://gw:80'"),
     "x.json: target: expected \"embedded\", \"tcp://host:port\" or \"tls://host:port\", got \"http://gw:80\""},
    {DOC(",'target':'tcp://gw'"),
     "x.json: target: expected \"embedded\", \"tcp://host:port\" or \"tls://host:port\", got \"tcp://gw\""},
    {DOC(",'target':'tcp://gw:0'"),
     "x.json: target: expected \"embedded\", \"tcp://host:port\" or \"tls://host:port\", got \"tcp://gw:0\""},
    {DOC(",'target':'tcp://::1:80'"),
     "x.json: target: expected \"embedded\", \"tcp://host:port\" or \"tls://host:port\", got \"tcp://::1:80\""},
    {DOC(",'seed':-1"), "x.json: seed: must be between 0 and 4294967295, got -1"},
    {DOC(",'seed':4294967296"), "x.json: seed: must be between 0 and 4294967295, got 4294967296"},
    {DOC(",'seed':1.5"), "x.json: seed: expected a whole number, got 1.5"},
    {"{'name':'','duration':'30s','fleets':[" TRUCKS "]}", "x.json: name: must not be empty"},
    {"{'name':'0123456789012345678901234567890123456789012345678901234567890123',"
     "'duration':'30s','fleets':[" TRUCKS "]}",
     "x.json: name: too long: at most 63 bytes, got 64"},
    {"{'name':'t\xff','duration':'30s','fleets':[" TRUCKS "]}", "x.json: name: not valid UTF-8"},
    {"{'name':'t\xc0\xaf','duration':'30s','fleets':[" TRUCKS "]}", "x.json: name: not valid UTF-8"},
    {"{" HEAD ",'fleets':[]}", "x.json: fleets: expected 1 to 32 fleets, got 0"},

    /* registration fields against the version's field widths */
    {DOC1("{'id':'trucks','protocol':'jt808','count':10,'phone':'138-0000+'}"),
     "x.json: fleets[0].phone: expected digits with an optional trailing \"+\" "
     "(e.g. \"13800000000+\"), got \"138-0000+\""},
    {DOC1("{'id':'trucks','protocol':'jt808','count':10,'phone':'+'}"),
     "x.json: fleets[0].phone: expected digits with an optional trailing \"+\" "
     "(e.g. \"13800000000+\"), got \"+\""},
    {DOC1("{'id':'trucks','protocol':'jt808','version':2013,'count':10,'phone':'1380000000000+'}"),
     "x.json: fleets[0].phone: at most 12 digits for version 2013, got 13"},
    {DOC1("{'id':'trucks','protocol':'jt808','count':1,'phone':'123456789012345678901'}"),
     "x.json: fleets[0].phone: at most 20 digits for version 2019, got 21"},
    {DOC1("{'id':'trucks','protocol':'jt808','count':2,'phone':'18446744073709551615+'}"),
     "x.json: fleets[0].phone: \"18446744073709551615+\" with count 2 runs past 18446744073709551615, "
     "the largest number terminals can be counted up to"},
    {DOC1("{'id':'trucks','protocol':'jt808','version':2013,'count':11,'phone':'999999999990+'}"),
     "x.json: fleets[0].phone: \"999999999990+\" with count 11 runs past 12 digits "
     "(the last would be 1000000000000)"},
    {DOC1("{'id':'trucks','protocol':'jt808','count':10,'phone':'13800000000'}"),
     "x.json: fleets[0].phone: \"13800000000\" would be shared by all 10 terminals; "
     "end it with \"+\" to number them"},
    {DOC1("{'id':'trucks','protocol':'jt808','count':'10.000001M'}"),
     "x.json: fleets[0].phone: required when count is above 10000000 "
     "(the default numbering gives each fleet 10000000 numbers)"},
    {DOC1("{'id':'trucks','protocol':'jt808','version':2013,'count':10,'manufacturer':'FLEETSIM'}"),
     "x.json: fleets[0].manufacturer: at most 5 characters for version 2013, got 8 (\"FLEETSIM\")"},
    {DOC1("{'id':'trucks','protocol':'jt808','count':10,'manufacturer':'FLEETSIM-ABC'}"),
     "x.json: fleets[0].manufacturer: at most 11 characters for version 2019, got 12 "
     "(\"FLEETSIM-ABC\")"},
    {DOC1("{'id':'trucks','protocol':'jt808','count':10,'manufacturer':'F\xc3\xa9'}"),
     "x.json: fleets[0].manufacturer: ASCII letters, digits and punctuation only"},
    {DOC1("{'id':'trucks','protocol':'jt808','version':2011,'count':10,'model':'MODEL-123'}"),
     "x.json: fleets[0].model: at most 8 characters for version 2011, got 9 (\"MODEL-123\")"},
    {DOC1("{'id':'trucks','protocol':'jt808','version':2013,'count':10,"
          "'model':'MODEL-1234567890-1234'}"),
     "x.json: fleets[0].model: at most 20 characters for version 2013, got 21 "
     "(\"MODEL-1234567890-1234\")"},
    {DOC1("{'id':'trucks','protocol':'jt808','count':10,'terminal_prefix':'t'}"),
     "x.json: fleets[0].terminal_prefix: a terminal id holds uppercase letters and digits only, "
     "got \"t\""},
    {DOC1("{'id':'trucks','protocol':'jt808','version':2013,'count':1000000}"),
     "x.json: fleets[0].terminal_prefix: \"T\" plus the 7 digits of a terminal number "
     "(numbered across fleets, up to 1000000 here) exceeds the 7 characters of a version 2013 "
     "terminal id"},
    {DOC1("{'id':'trucks','protocol':'jt808','version':2011,'count':10,'terminal_prefix':'TERMX1'}"),
     "x.json: fleets[0].terminal_prefix: \"TERMX1\" plus the 2 digits of a terminal number "
     "(numbered across fleets, up to 10 here) exceeds the 7 characters of a version 2011 "
     "terminal id"},
    {DOC1("{'id':'trucks','protocol':'jt808','count':100000000,'phone':'1+',"
          "'terminal_prefix':'ABCDEFGHIJKLMNOPQRSTUVW'}"),
     "x.json: fleets[0].terminal_prefix: \"ABCDEFGHIJKLMNOPQRSTUVW\" plus the 9 digits of a "
     "terminal number (numbered across fleets, up to 100000000 here) exceeds the 30 "
     "characters of a version 2019 terminal id"},
    /* numbering continues from the fleets before: 999990 + 10 needs 7 digits */
    {"{" HEAD ",'fleets':[{'id':'a','protocol':'jt808','count':999990},"
     "{'id':'b','protocol':'jt808','version':2013,'count':10}]}",
     "x.json: fleets[1].terminal_prefix: \"T\" plus the 7 digits of a terminal number "
     "(numbered across fleets, up to 1000000 here) exceeds the 7 characters of a version 2013 "
     "terminal id"},
    {DOC1("{'id':'trucks','protocol':'jt808','count':10,"
          "'terminal_prefix':'ABCDEFGHIJKLMNOPQRSTUVWX'}"),
     "x.json: fleets[0].terminal_prefix: too long: at most 23 bytes, got 24"},
    {DOC1("{'id':'trucks','protocol':'jt808','count':10,'plate_prefix':'A\\tB'}"),
     "x.json: fleets[0].plate_prefix: control characters are not allowed"},
    {DOC1("{'id':'trucks','protocol':'jt808','count':10,'plate_color':256}"),
     "x.json: fleets[0].plate_color: must be between 0 and 255, got 256"},
    {DOC1("{'id':'trucks','protocol':'jt808','count':10,'city':-1}"),
     "x.json: fleets[0].city: must be between 0 and 65535, got -1"},
    {DOC1("{'id':'trucks','protocol':'jt808','count':10,'heartbeat':'0s'}"),
     "x.json: fleets[0].heartbeat: '0s': must be above 0s"},
    {DOC1("{'id':'trucks','protocol':'jt808','count':10,'ack_timeout':'0ms'}"),
     "x.json: fleets[0].ack_timeout: '0ms': must be above 0s"},
    {DOC1("{'id':'trucks','protocol':'jt808','count':10,'ack_timeout':'0.4us'}"),
     "x.json: fleets[0].ack_timeout: '0.4us': finer than a microsecond"},
    {DOC1("{'id':'trucks','protocol':'jt808','count':10,'report':{'lat':91}}"),
     "x.json: fleets[0].report.lat: must be between -90 and 90, got 91"},
    {DOC1("{'id':'trucks','protocol':'jt808','count':10,'report':{'lon':-180.5}}"),
     "x.json: fleets[0].report.lon: must be between -180 and 180, got -180.5"},
    {DOC1("{'id':'trucks','protocol':'jt808','count':10,'report':{'location':'random'}}"),
     "x.json: fleets[0].report.location: expected one of random-walk, fixed, got \"random\""},
    {DOC1("{'id':'trucks','protocol':'jt808','count':10,'reconnect':{'min':'10s','max':'5s'}}"),
     "x.json: fleets[0].reconnect.max: 5.00s is below min 10.00s"},
    {DOC1("{'id':'trucks','protocol':'jt808','count':10,'reconnect':{'min':'0s'}}"),
     "x.json: fleets[0].reconnect.min: '0s': must be above 0s"},

    /* unit errors carry the path */
    {DOC1("{'id':'trucks','protocol':'jt808','count':10,'heartbeat':'30'}"),
     "x.json: fleets[0].heartbeat: '30': units required (use us, ms, s, m, h, d)"},
    {DOC1("{'id':'trucks','protocol':'jt808','count':10,'report':{'every':'5x'}}"),
     "x.json: fleets[0].report.every: '5x': unknown unit 'x' (use us, ms, s, m, h, d)"},
    {DOC1("{'id':'trucks','protocol':'jt808','count':'5G'}"),
     "x.json: fleets[0].count: '5G': unknown suffix 'G' (use k or M)"},
    {DOC1("{'id':'trucks','protocol':'jt808','count':'1.5'}"),
     "x.json: fleets[0].count: '1.5': not a whole number"},
    {DOC1("{'id':'trucks','protocol':'jt808','count':10,'ramp':'200'}"),
     "x.json: fleets[0].ramp: '200': a rate needs a time unit (use /s, /m or /min, /h)"},
    {DOC1("{'id':'trucks','protocol':'jt808','count':10,'ramp':'200/d'}"),
     "x.json: fleets[0].ramp: '200/d': unknown rate unit '/d' (use /s, /m or /min, /h)"},
    {STEP("{'at':'1.5us','command':{'fleet':'vans','msg':'0x8104'}}"),
     "x.json: steps[0].at: '1.5us': finer than a microsecond"},
    {STEP("{'at':'1s','fault':{'kind':'disconnect','fleet':'vans','down':''}}"),
     "x.json: steps[0].fault.down: '': empty duration"},
    {EXPECT("{'id':'A-1','state':'idle','within':'-1s'}"),
     "x.json: expect[0].within: '-1s': negative duration"},
    {EXPECT("{'id':'M-1','metric':'ack.latency.p99','below':'fast'}"),
     "x.json: expect[0].below: 'fast': expected a number followed by a unit, e.g. 30s or 250ms"},
    {EXPECT("{'id':'C-1','counter':'terminal.connects','min':'lots'}"),
     "x.json: expect[0].min: 'lots': expected a count like 1000 or 10k"},
    {DOC(",'platform':{'idle_timeout':'3 min'}"),
     "x.json: platform.idle_timeout: '3 min': unknown unit ' min' (use us, ms, s, m, h, d)"},

    /* expectation kinds */
    {EXPECT("{'id':'A-1','state':'idle','metric':'a.p99','below':1}"),
     "x.json: expect[0]: has both \"state\" and \"metric\"; an expectation checks one thing"},
    {EXPECT("{'id':'A-1','fleet':'vans'}"),
     "x.json: expect[0]: needs one of state, reply, metric, ledger, transitions, counter"},
    {EXPECT("{'id':'M-1','metric':'a.p99','below':'5ms','within':'1s'}"),
     "x.json: expect[0].within: not used by a metric expectation"},
    {EXPECT("{'id':'L-1','ledger':'balanced','fleet':'vans'}"),
     "x.json: expect[0].fleet: not used by a ledger expectation"},
    {EXPECT("{'id':'T-1','transitions':['idle'],'fraction':0.5}"),
     "x.json: expect[0].fraction: not used by a transitions expectation"},
    {EXPECT("{'id':'L-1','ledger':'ok'}"),
     "x.json: expect[0].ledger: expected one of balanced, acked, got \"ok\""},
    {EXPECT("{'id':'R-1','reply':'0x0104','to':'0x8104'}"),
     "x.json: expect[0].to: no step sends 0x8104"},
    {DOC(",'steps':[" CMD84 "],'expect':[{'id':'R-1','reply':'0x0104','to':'0x8104','fleet':'trucks'}]"),
     "x.json: expect[0].to: no step sends 0x8104 to fleet \"trucks\""},
    {DOC(",'steps':[" CMD84 "],'expect':[{'id':'R-1','reply':'0x0104','to':'0x8104','within':'0s'}]"),
     "x.json: expect[0].within: '0s': must be above 0s"},
    {DOC(",'steps':[" CMD84 "],'expect':[{'id':'R-1','reply':'0x8001','to':'0x8104'}]"),
     "x.json: expect[0].reply: jt808 terminals answer 0x8104 with 0x0104, not 0x8001"},
    {EXPECT("{'id':'M-1','metric':'report.latency.p98','below':'5ms'}"),
     "x.json: expect[0].metric: unknown statistic \"p98\" in \"report.latency.p98\" "
     "(use p50, p90, p99, p999, max, mean, rate, count)"},
    {EXPECT("{'id':'M-1','metric':'latency','below':'5ms'}"),
     "x.json: expect[0].metric: expected a metric like \"report.latency.p99\" "
     "(<area>.<name>.<statistic>), got \"latency\""},
    {EXPECT("{'id':'M-1','metric':'report..p99','below':'5ms'}"),
     "x.json: expect[0].metric: expected a metric like \"report.latency.p99\" "
     "(<area>.<name>.<statistic>), got \"report..p99\""},
    {EXPECT("{'id':'M-1','metric':'a b.p99','below':'5ms'}"),
     "x.json: expect[0].metric: expected a metric like \"report.latency.p99\" "
     "(<area>.<name>.<statistic>), got \"a b.p99\""},
    {EXPECT("{'id':'M-1','metric':'report.latency.p99'}"),
     "x.json: expect[0]: a metric expectation needs \"below\" or \"above\""},
    {EXPECT("{'id':'M-1','metric':'report.latency.count','below':'5ms'}"),
     "x.json: expect[0].below: report.latency.count is a plain number, not a duration"},
    {EXPECT("{'id':'M-1','metric':'reports.rate','above':'5/s'}"),
     "x.json: expect[0].above: reports.rate is a plain number, not a duration"},
    /* a bare number on a latency is not taken for microseconds */
    {EXPECT("{'id':'M-1','metric':'report.latency.p99','below':200}"),
     "x.json: expect[0].below: '200': units required (use us, ms, s, m, h, d), e.g. \"200s\" or "
     "\"200ms\" (a string)"},
    {EXPECT("{'id':'M-1','metric':'online.latency.max','above':'5ms','below':100}"),
     "x.json: expect[0].below: '100': units required (use us, ms, s, m, h, d), e.g. \"100s\" or "
     "\"100ms\" (a string)"},
    {EXPECT("{'id':'M-1','metric':'ack.latency.mean','above':'1.5'}"),
     "x.json: expect[0].above: '1.5': units required (use us, ms, s, m, h, d)"},
    {EXPECT("{'id':'M-1','metric':'report.latency.p99','above':'5ms','below':'5ms'}"),
     "x.json: expect[0].above: must be less than \"below\""},
    {EXPECT("{'id':'C-1','counter':'terminal.connects'}"),
     "x.json: expect[0]: a counter expectation needs \"min\" or \"max\""},
    {EXPECT("{'id':'C-1','counter':'terminal.connects','min':5,'max':4}"),
     "x.json: expect[0].max: 4 is below min 5"},
    {EXPECT("{'id':'C-1','counter':'a b','min':5}"),
     "x.json: expect[0].counter: expected a counter like \"gateway.bad_check\", got \"a b\""},
    {EXPECT("{'id':'C-1','counter':'terminal.connects','min':-1}"),
     "x.json: expect[0].min: expected a non-negative count, got -1"},
    {EXPECT("{'id':'A-1','state':'idle','area':''}"), "x.json: expect[0].area: must not be empty"},
    {EXPECT("{'id':'A-1','state':'idle','description':7}"),
     "x.json: expect[0].description: expected a string, got 7"},

    /* JSON syntax: line and column of where the parser stopped */
    {"{\n  'name': 't'\n  'duration': '30s'\n}", "x.json:3:3: JSON syntax error near '\"duration\": '"},
    {"{'name': tru}", "x.json:1:10: JSON syntax error near 'tru}'"},
    {"{\n\t'name': '\xe4\xba\xac',\n\t'x': nul }", "x.json:3:7: JSON syntax error near 'nul }'"},
    {"{'name': 't'} x", "x.json:1:15: JSON syntax error near 'x'"},
    {"{'name':", "x.json:1:9: JSON syntax error at end of input"},
    {"", "x.json: empty file (expected a JSON object)"},
    {" \n\t\r\n", "x.json: empty file (expected a JSON object)"},
};

static void test_errors(void **state)
{
    int wrong = 0;
    for (size_t i = 0; i < sizeof error_cases / sizeof error_cases[0]; i++) {
        struct scenario sc;
        char err[2048] = "";
        int rc = parse_q(error_cases[i].doc, &sc, err, sizeof err);
        if (rc != -1)
            fail_msg("case %zu parsed: %s", i, error_cases[i].doc);
        /* every mismatch is shown, not only the first */
        if (strcmp(err, error_cases[i].err) != 0) {
            print_error("case %zu\n  doc:  %s\n  want: %s\n  got:  %s\n", i, error_cases[i].doc,
                        error_cases[i].err, err);
            wrong++;
        }
        /* nothing left to free after a failure */
        assert_null(sc.steps);
        assert_null(sc.expect);
        scenario_free(&sc);
    }
    assert_int_equal(wrong, 0);
}

static void test_too_many_fleets(void **state)
{
    char doc[4096];
    size_t n = (size_t)snprintf(doc, sizeof doc, "{'name':'t','duration':'1s','fleets':[");
    struct scenario sc;
    char err[512];
    for (int i = 0; i <= SC_MAX_FLEETS; i++)
        n += (size_t)snprintf(doc + n, sizeof doc - n, "%s{'id':'f%d','protocol':'jt808','count':1}",
                              i ? "," : "", i);
    snprintf(doc + n, sizeof doc - n, "]}");
    assert_int_equal(parse_q(doc, &sc, err, sizeof err), -1);
    assert_string_equal(err, "x.json: fleets: expected 1 to 32 fleets, got 33");
}

static void test_too_many_expectations(void **state)
{
    const size_t per = 40, n_exp = 129;
    size_t cap = n_exp * per + 256, n, last = 0;
    char *doc = malloc(cap);
    struct scenario sc;
    char err[512];
    assert_non_null(doc);
    n = (size_t)snprintf(doc, cap, "{'name':'t','duration':'1s','fleets':[{'id':'a',"
                                   "'protocol':'jt808','count':1}],'expect':[");
    for (size_t i = 0; i < n_exp; i++) {
        last = n;
        n += (size_t)snprintf(doc + n, cap - n, "%s{'id':'L-%zu','ledger':'balanced'}",
                              i ? "," : "", i);
    }
    snprintf(doc + n, cap - n, "]}");
    assert_int_equal(parse_q(doc, &sc, err, sizeof err), -1);
    /* one limit: what the parser takes, a run can judge */
    assert_string_equal(err, "x.json: expect: at most 128 expectations, got 129");
    /* one fewer is fine */
    strcpy(doc + last, "]}");
    if (parse_q(doc, &sc, err, sizeof err) != 0)
        fail_msg("%s", err);
    assert_int_equal(sc.n_expect, 128);
    scenario_free(&sc);
    free(doc);
}

/* Every error of a file in one pass, one line each, in the order of the file's
 * sections; none that only repeats another. */
static void test_every_error(void **state)
{
    struct scenario sc;
    char err[4096];
    assert_int_equal(parse_q("{'name':'t','duraton':'30s',"
                             "'fleets':[{'id':'a','protocol':'jt808','count':0,'heartbeat':'5x'},"
                             "{'id':'b','protocol':'jt809','count':1}],"
                             "'steps':[{'at':'1s','fault':{'kind':'crash','fleet':'a'}},"
                             "{'at':'2s','command':{'fleet':'b','msg':'0x8104'}}],"
                             "'expect':[{'id':'A-1','state':'flying'},{'id':'A-1','ledger':'ok'},"
                             "{'id':'A-3','state':'idle','within':'1s'}]}",
                             &sc, err, sizeof err),
                     -1);
    assert_string_equal(err,
                        "x.json: duraton: unknown field (did you mean \"duration\"?)\n"
                        "x.json: fleets[0].count: expected a positive count, got 0\n"
                        "x.json: fleets[0].heartbeat: '5x': unknown unit 'x' (use us, ms, s, m, h, d)\n"
                        "x.json: fleets[1].protocol: unknown value \"jt809\" (did you mean \"jt808\"?)\n"
                        "x.json: steps[0].fault.kind: expected one of disconnect, cut, corrupt, "
                        "bad-check, got \"crash\"\n"
                        "x.json: expect[0].state: unknown state \"flying\" (known: idle, connecting, "
                        "connected, registering, registered, authenticating, authenticated, "
                        "disconnected, unregistered)\n"
                        "x.json: expect[1].id: duplicate expectation id \"A-1\" (also expect[0])\n"
                        "x.json: expect[1].ledger: expected one of balanced, acked, got \"ok\"");
    assert_null(sc.steps);
    assert_null(sc.expect);
}

/* A mistake is reported once, not again by everything that depends on it. */
static void test_no_consequential_errors(void **state)
{
    static const struct err_case cases[] = {
        /* a misspelt required field is not also missing */
        {"{'name':'t','duration':'30s','fleets':[{'id':'a','protocol':'jt808','cout':10}]}",
         "x.json: fleets[0].cout: unknown field (did you mean \"count\"?)"},
        /* no fleets read: the fleets the steps and expectations name are not unknown */
        {"{'name':'t','duration':'30s','flets':[{'id':'a','protocol':'jt808','count':1}],"
         "'steps':[{'at':'1s','fault':{'kind':'cut','fleet':'a'}}],"
         "'expect':[{'id':'A-1','state':'idle','fleet':'a'}]}",
         "x.json: flets: unknown field (did you mean \"fleets\"?)"},
        {"{'name':'t','duration':'30s','fleets':[{'protocol':'jt808','count':1}],"
         "'steps':[{'at':'1s','fault':{'kind':'cut','fleet':'a'}}]}",
         "x.json: fleets[0].id: required field missing"},
        /* a fleet without a protocol: its dialect's checks of steps are not run */
        {"{'name':'t','duration':'30s','fleets':[{'id':'a','protocol':'mqtt','count':1}],"
         "'steps':[{'at':'1s','command':{'fleet':'a','msg':'0x8104'}}]}",
         "x.json: fleets[0].protocol: expected one of jt808, replay, got \"mqtt\""},
        /* no duration: a step is not after its end */
        {"{'name':'t','duration':'soon','fleets':[{'id':'a','protocol':'jt808','count':1}],"
         "'steps':[{'at':'40s','fault':{'kind':'cut','fleet':'a'}}]}",
         "x.json: duration: 'soon': expected a number followed by a unit, e.g. 30s or 250ms"},
        /* a step that failed may be the one sending what a reply answers */
        {"{'name':'t','duration':'30s','fleets':[{'id':'a','protocol':'jt808','count':1}],"
         "'steps':[{'at':'1s','command':{'fleet':'a','msg':'0x8104','fraction':2}}],"
         "'expect':[{'id':'R-1','reply':'0x0104','to':'0x8104'}]}",
         "x.json: steps[0].command.fraction: must be in (0, 1], got 2"},
        /* the kind of an expectation misspelt */
        {"{'name':'t','duration':'30s','fleets':[{'id':'a','protocol':'jt808','count':1}],"
         "'expect':[{'id':'A-1','stat':'idle'}]}",
         "x.json: expect[0].stat: unknown field (did you mean \"state\"?)"},
        /* a third-party target that failed is not a reason to refuse the time scale */
        {"{'name':'t','duration':'30s','target':'http://x:1','time_scale':10,"
         "'fleets':[{'id':'a','protocol':'jt808','count':1}]}",
         "x.json: target: expected \"embedded\", \"tcp://host:port\" or \"tls://host:port\", got \"http://x:1\""},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct scenario sc;
        char err[2048] = "";
        assert_int_equal(parse_q(cases[i].doc, &sc, err, sizeof err), -1);
        if (strcmp(err, cases[i].err) != 0)
            fail_msg("case %zu\n  want: %s\n  got:  %s", i, cases[i].err, err);
    }
}

/* Past SCENARIO_ERRORS_MAX errors, or what the buffer holds, the rest are counted. */
static void test_error_limit(void **state)
{
    char doc[8192], err[8192];
    size_t n = (size_t)snprintf(doc, sizeof doc, "{'name':'t','duration':'1s','fleets':[{'id':'a',"
                                                 "'protocol':'jt808','count':1}],'expect':[");
    struct scenario sc;
    for (int i = 0; i < 25; i++)
        n += (size_t)snprintf(doc + n, sizeof doc - n, "%s{'id':'S-%d','state':'zz'}", i ? "," : "", i);
    snprintf(doc + n, sizeof doc - n, "]}");
    assert_int_equal(parse_q(doc, &sc, err, sizeof err), -1);
    int lines = 1;
    for (const char *c = err; *c; c++)
        lines += *c == '\n';
    assert_int_equal(lines, SCENARIO_ERRORS_MAX + 1);
    assert_non_null(strstr(err, "x.json: expect[0].state: unknown state \"zz\" (known: "));
    assert_non_null(strstr(err, "\nx.json: expect[19].state: unknown state \"zz\""));
    assert_null(strstr(err, "expect[20]"));
    const char *last = strrchr(err, '\n') + 1;
    assert_string_equal(last, "x.json: and 5 more errors");

    /* a buffer too small for twenty: whole lines only, and the count of the rest */
    char small[600];
    assert_int_equal(parse_q(doc, &sc, small, sizeof small), -1);
    last = strrchr(small, '\n');
    assert_non_null(last);
    int shown = 1;
    for (const char *c = small; c < last; c++)
        shown += *c == '\n';
    char want[64];
    snprintf(want, sizeof want, "\nx.json: and %d more errors", 25 - shown);
    assert_string_equal(last, want);
    assert_true(shown >= 2 && shown < 20);
    assert_true(strlen(small) < sizeof small - 1);
    /* one more error: "error" */
    snprintf(doc + n, sizeof doc - n, ",{'id':'S-X','stat':1}]}");
    assert_int_equal(parse_q(doc, &sc, err, sizeof err), -1);
    assert_string_equal(strrchr(err, '\n') + 1, "x.json: and 6 more errors");
}

/* A step with a body followed by a failing step: the detached body must be freed. */
static void test_error_after_body_frees(void **state)
{
    struct scenario sc;
    char err[512];
    assert_int_equal(parse_q(STEP("{'at':'1s','command':{'fleet':'vans','msg':'0x8103',"
                                  "'body':{'params':[{'id':'0x0001','value':30}]}}},"
                                  "{'at':'2s','command':{'fleet':'nobody','msg':'0x8104'}}"),
                             &sc, err, sizeof err),
                     -1);
    assert_string_equal(err, "x.json: steps[1].command.fleet: unknown fleet \"nobody\" "
                             "(fleets: trucks, vans)");
    assert_null(sc.steps);
}

/* ---- files ---- */

static void test_typo_file(void **state)
{
    struct scenario sc;
    char err[512];
    assert_int_equal(scenario_load(DATA "typo.json", &sc, err, sizeof err), -1);
    assert_string_equal(err, DATA "typo.json: fleets[0].cout: unknown field (did you mean \"count\"?)");
}

static void test_syntax_file(void **state)
{
    struct scenario sc;
    char err[512];
    assert_int_equal(scenario_load(DATA "syntax.json", &sc, err, sizeof err), -1);
    assert_string_equal(err, DATA "syntax.json:4:3: JSON syntax error near '\"fleets\": []'");
}

static void test_unit_error_file(void **state)
{
    struct scenario sc;
    char err[512];
    assert_int_equal(scenario_load(DATA "bad_unit.json", &sc, err, sizeof err), -1);
    assert_string_equal(err, DATA "bad_unit.json: fleets[0].report.every: '5sec': unknown unit "
                                  "'sec' (use us, ms, s, m, h, d)");
}

static void test_unreadable(void **state)
{
    struct scenario sc;
    char err[512];
    char path[] = "/tmp/scenario_test_XXXXXX";
    int fd;
    assert_int_equal(scenario_load(DATA "does-not-exist.json", &sc, err, sizeof err), -1);
    assert_string_equal(err, DATA "does-not-exist.json: No such file or directory");
    assert_int_equal(scenario_load(DATA, &sc, err, sizeof err), -1);
    assert_string_equal(err, DATA ": Is a directory");
    assert_int_equal(scenario_load(NULL, &sc, err, sizeof err), -1);
    assert_string_equal(err, "<scenario>: no path given");

    /* a NUL byte would silently cut the document short */
    fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, "{\"name\":\"t\"\0}", 13), 13);
    close(fd);
    assert_int_equal(scenario_load(path, &sc, err, sizeof err), -1);
    {
        char want[128];
        snprintf(want, sizeof want, "%s: contains a NUL byte at offset 11 (not a text file?)", path);
        assert_string_equal(err, want);
    }
    /* unreadable for lack of permission (root reads anything, so only check the shape) */
    fd = open(path, O_WRONLY | O_TRUNC);
    assert_true(fd >= 0);
    close(fd);
    assert_int_equal(chmod(path, 0), 0);
    assert_int_equal(scenario_load(path, &sc, err, sizeof err), -1);
    if (geteuid() != 0) {
        char want[128];
        snprintf(want, sizeof want, "%s: Permission denied", path);
        assert_string_equal(err, want);
    }
    unlink(path);
}

static void test_small_error_buffer(void **state)
{
    struct scenario sc;
    char err[16];
    memset(err, 'X', sizeof err);
    assert_int_equal(scenario_load(DATA "typo.json", &sc, err, 12), -1);
    assert_string_equal(err, "tests/data/");
    assert_int_equal(err[12], 'X');
    assert_int_equal(scenario_load(DATA "typo.json", &sc, NULL, 0), -1);
    assert_int_equal(scenario_parse(NULL, "x.json", &sc, err, sizeof err), -1);
    assert_string_equal(err, "x.json: no text");
    assert_int_equal(scenario_parse("{}", NULL, &sc, err, sizeof err), -1);
    assert_string_equal(err, "<scenario>: nam");
}

/* Every prefix of a valid file is either rejected cleanly or, when it is the
 * whole file, accepted; none may crash or leak. */
static void test_truncations(void **state)
{
    FILE *f = fopen("scenarios/quickstart.json", "rb");
    char text[8192];
    size_t len;
    assert_non_null(f);
    len = fread(text, 1, sizeof text - 1, f);
    fclose(f);
    assert_true(len > 100 && len < sizeof text - 1);
    for (size_t n = 0; n <= len; n++) {
        char saved = text[n];
        struct scenario sc;
        char err[512];
        int rc;
        text[n] = '\0';
        rc = scenario_parse(text, "q.json", &sc, err, sizeof err);
        text[n] = saved;
        /* the closing brace is the last byte before the newline */
        assert_int_equal(rc, n >= len - 1 ? 0 : -1);
        scenario_free(&sc);
    }
}

/* Every byte replaced by characters that often break parsers. */
static void test_mutations(void **state)
{
    static const char subst[] = {'"', '{', '}', '[', ']', ',', ':', '0', '-', 'x', '\\', '\xff'};
    FILE *f = fopen("scenarios/quickstart.json", "rb");
    char text[8192];
    size_t len;
    int ok = 0;
    assert_non_null(f);
    len = fread(text, 1, sizeof text - 1, f);
    fclose(f);
    text[len] = '\0';
    for (size_t n = 0; n < len; n++) {
        char saved = text[n];
        for (size_t k = 0; k < sizeof subst; k++) {
            struct scenario sc;
            char err[512] = "";
            text[n] = subst[k];
            if (scenario_parse(text, "q.json", &sc, err, sizeof err) == 0)
                ok++;
            else
                assert_true(strncmp(err, "q.json", 6) == 0);
            scenario_free(&sc);
        }
        text[n] = saved;
    }
    /* some mutations are harmless (inside free text); most are not */
    assert_true(ok > 0);
    assert_true((size_t)ok < len * sizeof subst / 2);
}

/* Metric and counter names are checked when the file is read, against what the
 * evaluation knows for the fleet named, with the closest known name. */
static void test_unknown_names(void **state)
{
    static const struct err_case cases[] = {
        {EXPECT("{'id':'M-1','metric':'report.latncy.p99','below':'5ms'}"),
         "x.json: expect[0].metric: unknown metric \"report.latncy.p99\" "
         "(did you mean \"report.latency.p99\"?)"},
        {EXPECT("{'id':'M-1','metric':'command.latency.p95','below':'5ms'}"),
         "x.json: expect[0].metric: unknown statistic \"p95\" in \"command.latency.p95\" "
         "(use p50, p90, p99, p999, max, mean, rate, count)"},
        {EXPECT("{'id':'M-1','metric':'report.latency.rate','above':1}"),
         "x.json: expect[0].metric: unknown metric \"report.latency.rate\" "
         "(did you mean \"report.latency.max\"?)"},
        {EXPECT("{'id':'M-1','metric':'heartbeat.rate','above':1}"),
         "x.json: expect[0].metric: unknown metric \"heartbeat.rate\" "
         "(did you mean \"heartbeats.rate\"?)"},
        {EXPECT("{'id':'M-1','metric':'gateway.frames.rate','above':1}"),
         "x.json: expect[0].metric: unknown metric \"gateway.frames.rate\" "
         "(scenarios/SCHEMA.md lists them)"},
        {EXPECT("{'id':'C-1','counter':'gateway.bad_chek','min':1}"),
         "x.json: expect[0].counter: unknown counter \"gateway.bad_chek\" "
         "(did you mean \"gateway.bad_check\"?)"},
        {EXPECT("{'id':'C-1','counter':'terminal.heartbeat','fleet':'vans','min':1}"),
         "x.json: expect[0].counter: unknown counter \"terminal.heartbeat\" for fleet \"vans\" "
         "(jt808) (did you mean \"terminal.heartbeats\"?)"},
        /* counters are not metrics, nor metrics counters */
        {EXPECT("{'id':'C-1','counter':'report.latency.p99','max':5}"),
         "x.json: expect[0].counter: unknown counter \"report.latency.p99\" "
         "(scenarios/SCHEMA.md lists them)"},
        {EXPECT("{'id':'C-1','counter':'zz','max':5}"),
         "x.json: expect[0].counter: unknown counter \"zz\" (scenarios/SCHEMA.md lists them)"},
        /* a dialect's counters belong to its fleets, the front-end's to the platform */
        {"{'name':'t','duration':'30s','fleets':[{'id':'j','protocol':'jt808','count':1},"
         "{'id':'r','protocol':'replay','count':1,'target':'tcp://127.0.0.1:9',"
         "'messages':[{'template':'01'}]}],"
         "'expect':[{'id':'C-1','counter':'terminal.heartbeats','fleet':'r','min':1},"
         "{'id':'C-2','counter':'terminal.matched','fleet':'j','min':1},"
         "{'id':'M-1','metric':'heartbeats.rate','fleet':'r','above':1}]}",
         "x.json: expect[0].counter: unknown counter \"terminal.heartbeats\" for fleet \"r\" "
         "(replay) (scenarios/SCHEMA.md lists them)\n"
         "x.json: expect[1].counter: unknown counter \"terminal.matched\" for fleet \"j\" "
         "(jt808) (scenarios/SCHEMA.md lists them)\n"
         "x.json: expect[2].metric: unknown metric \"heartbeats.rate\" for fleet \"r\" (replay) "
         "(scenarios/SCHEMA.md lists them)"},
        {"{'name':'t','duration':'30s','fleets':[{'id':'r','protocol':'replay','count':1,"
         "'target':'tcp://127.0.0.1:9','messages':[{'template':'01'}]}],"
         "'expect':[{'id':'C-1','counter':'gateway.bad_check','max':0}]}",
         "x.json: expect[0].counter: unknown counter \"gateway.bad_check\" "
         "(scenarios/SCHEMA.md lists them)"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct scenario sc;
        char err[2048] = "";
        assert_int_equal(parse_q(cases[i].doc, &sc, err, sizeof err), -1);
        if (strcmp(err, cases[i].err) != 0)
            fail_msg("case %zu\n  want: %s\n  got:  %s", i, cases[i].err, err);
    }
    /* the same names, spelt right, and those of the other fleet's dialect with no fleet */
    struct scenario sc;
    char err[2048] = "";
    if (parse_q("{'name':'t','duration':'30s','fleets':[{'id':'j','protocol':'jt808','count':1},"
                "{'id':'r','protocol':'replay','count':1,'target':'tcp://127.0.0.1:9',"
                "'messages':[{'template':'01'}]}],"
                "'expect':[{'id':'C-1','counter':'terminal.heartbeats','fleet':'j','min':1},"
                "{'id':'C-2','counter':'terminal.matched','min':1},"
                "{'id':'C-3','counter':'gateway.bad_check','fleet':'r','max':0},"
                "{'id':'M-1','metric':'heartbeats.rate','above':1},"
                "{'id':'M-2','metric':'matched.count','fleet':'r','above':1},"
                "{'id':'M-3','metric':'command.latency.p999','below':'1s'}]}",
                &sc, err, sizeof err) != 0)
        fail_msg("%s", err);
    scenario_free(&sc);
}

struct names_seen {
    const struct expect_ctx *ctx;
    int f, n, wrong;
};

static void check_name(void *arg, const char *name, int is_duration)
{
    struct names_seen *s = arg;
    double v = -1;
    int d = -1;
    s->n++;
    /* every name the parser accepts, the evaluation resolves, as the same kind */
    if ((expect_value)(s->ctx, name, s->f, &v, &d) != 0 || d != is_duration) {
        print_error("fleet %d: %s: expect_value %s (duration %d, listed %d)\n", s->f, name,
                    (expect_value)(s->ctx, name, s->f, &v, &d) ? "does not know it" : "knows it",
                    d, is_duration);
        s->wrong++;
    }
}

/* The parser's names and the evaluation's are one set. */
static void test_names_agree_with_evaluation(void **state)
{
    struct scenario sc;
    char err[1024] = "";
    if (parse_q("{'name':'t','duration':'30s','fleets':[{'id':'j','protocol':'jt808','count':1},"
                "{'id':'r','protocol':'replay','count':1,'target':'tcp://127.0.0.1:9',"
                "'messages':[{'template':'01'}]}],'expect':[{'id':'L-1','ledger':'balanced'}]}",
                &sc, err, sizeof err) != 0)
        fail_msg("%s", err);
    struct run_snapshot *snap = snapshot_new();
    assert_non_null(snap);
    snapshot_begin(snap, &sc, "fnv1a64:0000000000000001", 1, 1);
    struct expect_ctx ctx = {.sc = &sc, .snap = snap, .fe = run_frontend_of(&sc, snap)};
    for (int f = -1; f < sc.n_fleets; f++) {
        for (int metric = 0; metric <= 1; metric++) {
            struct names_seen seen = {&ctx, f, 0, 0};
            expect_names(&sc, f, metric, check_name, &seen);
            assert_int_equal(seen.wrong, 0);
            assert_true(seen.n > 10);
        }
    }
    /* and what it refuses, the evaluation does not know either */
    static const char *const wrong[] = {"report.latncy.p99", "gateway.bad_chek", "a.p99",
                                        "report.latency.p98", "terminal.heartbeat", "x"};
    for (size_t i = 0; i < sizeof wrong / sizeof wrong[0]; i++) {
        double v;
        int d;
        char near[64];
        assert_int_equal(expect_name_known(&sc, -1, 1, wrong[i], NULL, near, sizeof near), 0);
        assert_int_equal(expect_name_known(&sc, -1, 0, wrong[i], NULL, near, sizeof near), 0);
        assert_int_equal((expect_value)(&ctx, wrong[i], -1, &v, &d), -1);
    }
    /* a dialect's counter is the replay fleet's own, not the other's */
    assert_int_equal(expect_name_known(&sc, 1, 0, "terminal.matched", NULL, NULL, 0), 1);
    assert_int_equal(expect_name_known(&sc, 0, 0, "terminal.matched", NULL, NULL, 0), 0);
    int dur = -1;
    assert_int_equal(expect_name_known(&sc, -1, 1, "online.latency.mean", &dur, NULL, 0), 1);
    assert_int_equal(dur, 1);
    assert_int_equal(expect_name_known(&sc, -1, 1, "online.latency.count", &dur, NULL, 0), 1);
    assert_int_equal(dur, 0);
    snapshot_free(snap);
    scenario_free(&sc);
}

/* An api step: its members, the templates filled with captured values and device ids. */
static void test_api_step(void **state)
{
    (void)state;
    struct scenario sc;
    char err[2048] = "", out[256], why[128];
    int rc = parse_q("{" HEAD ",'platform':{'api':true},'fleets':[" TRUCKS ",{'id':'vans','protocol':'jt808',"
                     "'version':2013,'count':10,'phone':'13500000000+'}],'steps':[" CMD84 ","
                     "{'at':'2s','api':{'method':'POST','path':'/iocm/app/cmd/v1.4.0/deviceCommands',"
                     "'body':{'deviceId':'${device:vans:1}','command':{'method':'X'}},'expect_status':201,"
                     "'capture':{'cmd1':'commandId','st':'services[0].data'},'id':'API-CMD-1'}},"
                     "{'at':'3s','api':{'method':'GET','path':'/iocm/app/cmd/v1.4.0/deviceCommands?id=${cmd1}'}}],"
                     "'expect':[{'id':'L','ledger':'balanced'}]}", &sc, err, sizeof err);
    if (rc != 0)
        fail_msg("%s", err);
    assert_true(sc.platform.api);
    assert_int_equal(scenario_api_first(&sc), 1);
    /* in time order: the command at 5s comes last */
    const struct sc_api *a = sc.steps[0].api, *b = sc.steps[1].api;
    assert_int_equal(sc.steps[0].kind, SC_STEP_API);
    assert_null(sc.steps[2].api);
    assert_string_equal(a->method, "POST");
    assert_int_equal(a->expect_status, 201);
    assert_string_equal(a->id, "API-CMD-1");
    assert_int_equal(a->index, 1);
    assert_int_equal(a->n_capture, 2);
    assert_string_equal(a->capture_name[1], "st");
    assert_string_equal(a->capture_path[1], "services[0].data");
    assert_int_equal(b->expect_status, 0);
    assert_null(b->body);
    /* the platform's id of a JT/T 808 terminal: its phone in the header's BCD digits */
    assert_int_equal(scenario_device_id(&sc, "vans", 1, out, sizeof out), 0);
    assert_string_equal(out, "013500000001");
    assert_int_equal(scenario_device_id(&sc, "vans", 10, out, sizeof out), -1);
    assert_int_equal(scenario_device_id(&sc, "nope", 0, out, sizeof out), -1);
    assert_int_equal(scenario_device_id(&sc, "trucks", 3, out, sizeof out), 0);
    assert_int_equal(strlen(out), 20); /* 2019: BCD[10] */
    const char names[1][SC_API_NAME_MAX] = {"cmd1"};
    const char *vals[1] = {"c0ffee"};
    assert_int_equal(scenario_api_subst(&sc, b->path, names, vals, 1, out, sizeof out, why, sizeof why), 0);
    assert_string_equal(out, "/iocm/app/cmd/v1.4.0/deviceCommands?id=c0ffee");
    assert_int_equal(scenario_api_subst(&sc, "/d/${device:vans:0}/${cmd1}", names, vals, 1, out, sizeof out, why,
                                        sizeof why), 0);
    assert_string_equal(out, "/d/013500000000/c0ffee");
    assert_int_equal(scenario_api_subst(&sc, b->path, names, vals, 0, out, sizeof out, why, sizeof why), -1);
    assert_string_equal(why, "${cmd1} has no value");
    assert_int_equal(scenario_api_subst(&sc, b->path, names, vals, 1, out, 10, why, sizeof why), -1);
    scenario_free(&sc);
    /* without platform.api the file is still valid: --target-api may give the API */
    rc = parse_q(STEP("{'at':'1s','api':{'method':'GET','path':'/x'}}"), &sc, err, sizeof err);
    assert_int_equal(rc, 0);
    assert_false(sc.platform.api);
    assert_int_equal(scenario_api_first(&sc), 0);
    scenario_free(&sc);
    rc = parse_q(STEP(CMD84), &sc, err, sizeof err);
    assert_int_equal(scenario_api_first(&sc), -1);
    scenario_free(&sc);
}

/* A command's path judged on what GET deviceCommands answers. */
static void test_command_path(void **state)
{
    (void)state;
    struct scenario sc;
    char err[2048], obs[256];
    int rc = parse_q(DOC(",'steps':[{'at':'1s','api':{'method':'POST','path':'/c','capture':{'cmd1':'commandId'}}}],"
                         "'expect':[{'id':'P-1','command_path':{'capture':'cmd1','states':['SENT','SUCCESSFUL']}},"
                         "{'id':'L','ledger':'balanced'}]"), &sc, err, sizeof err);
    if (rc != 0)
        fail_msg("%s", err);
    assert_int_equal(sc.n_expect, 1); /* apart from the others */
    assert_int_equal(sc.n_cmd_paths, 1);
    const struct sc_cmd_path *e = &sc.cmd_paths[0];
    assert_string_equal(e->id, "P-1");
    assert_string_equal(e->area, "api.commands");
    assert_int_equal(e->index, 0);
    assert_string_equal(e->desc, "command ${cmd1} goes SENT -> SUCCESSFUL");
    cJSON *a = cJSON_Parse("{\"data\":[{\"commandId\":\"x\"},{\"commandId\":\"c1\",\"status\":\"SUCCESSFUL\","
                           "\"transitions\":[{\"status\":\"PENDING\"},{\"status\":\"SENT\"},{\"status\":\"DELIVERED\"},"
                           "{\"status\":\"SUCCESSFUL\"}]},{\"commandId\":\"c2\",\"status\":\"SENT\"},"
                           "{\"commandId\":\"c3\",\"transitions\":[{\"status\":\"SUCCESSFUL\"},{\"status\":\"SENT\"}]}]}");
    assert_int_equal(scenario_cmd_path_judge(e, "c1", a, obs, sizeof obs), VERDICT_PASS);
    assert_string_equal(obs, "PENDING -> SENT -> DELIVERED -> SUCCESSFUL");
    /* out of order is not the path */
    assert_int_equal(scenario_cmd_path_judge(e, "c3", a, obs, sizeof obs), VERDICT_FAIL);
    assert_string_equal(obs, "SUCCESSFUL -> SENT (no SUCCESSFUL after that)");
    assert_int_equal(scenario_cmd_path_judge(e, "c2", a, obs, sizeof obs), VERDICT_INCONCLUSIVE);
    assert_string_equal(obs, "command c2 shows no transitions (status SENT)");
    assert_int_equal(scenario_cmd_path_judge(e, "c9", a, obs, sizeof obs), VERDICT_FAIL);
    assert_string_equal(obs, "command c9 is not among the device's 4");
    cJSON_Delete(a);
    a = cJSON_Parse("{\"error_code\":\"1\"}");
    assert_int_equal(scenario_cmd_path_judge(e, "c1", a, obs, sizeof obs), VERDICT_FAIL);
    assert_int_equal(scenario_cmd_path_judge(e, "c1", NULL, obs, sizeof obs), VERDICT_FAIL);
    cJSON_Delete(a);
    scenario_free(&sc);
}

static void test_state_known(void **state)
{
    assert_true(scenario_state_known("idle"));
    assert_true(scenario_state_known("connecting"));
    assert_true(scenario_state_known("connected"));
    assert_true(scenario_state_known("registering"));
    assert_true(scenario_state_known("registered"));
    assert_true(scenario_state_known("authenticating"));
    assert_true(scenario_state_known("authenticated"));
    assert_true(scenario_state_known("disconnected"));
    assert_true(scenario_state_known("unregistered"));
    assert_false(scenario_state_known("Authenticated"));
    assert_false(scenario_state_known(""));
    assert_false(scenario_state_known(NULL));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_quickstart),
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_verify),
        cmocka_unit_test(test_every_field),
        cmocka_unit_test(test_generated_text),
        cmocka_unit_test(test_reply_deadline),
        cmocka_unit_test(test_no_expectations_warns),
        cmocka_unit_test(test_boundaries_accepted),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_every_error),
        cmocka_unit_test(test_no_consequential_errors),
        cmocka_unit_test(test_error_limit),
        cmocka_unit_test(test_too_many_fleets),
        cmocka_unit_test(test_too_many_expectations),
        cmocka_unit_test(test_error_after_body_frees),
        cmocka_unit_test(test_typo_file),
        cmocka_unit_test(test_syntax_file),
        cmocka_unit_test(test_unit_error_file),
        cmocka_unit_test(test_unreadable),
        cmocka_unit_test(test_small_error_buffer),
        cmocka_unit_test(test_truncations),
        cmocka_unit_test(test_mutations),
        cmocka_unit_test(test_state_known),
        cmocka_unit_test(test_api_step),
        cmocka_unit_test(test_command_path),
        cmocka_unit_test(test_unknown_names),
        cmocka_unit_test(test_names_agree_with_evaluation),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
