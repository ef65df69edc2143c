/* The JT/T 808 half of a fleet: edition, phone numbers, registration fields,
 * heartbeat and location reports.  Registration fields are checked against the
 * field widths of the edition the fleet speaks, so a scenario that could not be
 * put on the wire is refused here, not mid-run. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness/scenario_dialect.h"
#include "sim/core/units.h"
#include "sim/dev/jt808_term.h"
#include "sim/platform/jt808/jt808_gw.h"
#include "sim/proto/jt808_kinds.h"

/* Default phone numbers: fleet i starts at 13800000000 + i * 10,000,000, so the
 * fleets of one scenario never share a number unless one has more than a block. */
#define FLEET_PHONE_BASE 13800000000ULL
#define FLEET_PHONE_BLOCK 10000000ULL

#define N_OF(a) (sizeof(a) / sizeof((a)[0]))

static const char *const jt_fields[] = {
    "version", "phone", "manufacturer", "model", "terminal_prefix", "plate_prefix",
    "plate_color", "province", "city", "heartbeat", "report", "deviate", "time_query", "rsa",
};
static const char *const rsa_modes[] = {"off", "after-exchange"}; /* enum jt808_rsa_mode */
static const char *const report_fields[] = {"every", "location", "lat", "lon"};
static const char *const locations[] = {"random-walk", "fixed"};
static const char *const deviate_fields[] = {"kinds", "share"};

static void jt_defaults(struct jt808_fleet_cfg *f, struct fleet_spec *fs, int index)
{
    f->version = 2019;
    snprintf(fs->ident, sizeof fs->ident, "%llu+",
             (unsigned long long)(FLEET_PHONE_BASE + (uint64_t)index * FLEET_PHONE_BLOCK));
    snprintf(f->manufacturer, sizeof f->manufacturer, "FSIM1");
    snprintf(f->model, sizeof f->model, "FS-TERM");
    snprintf(f->terminal_prefix, sizeof f->terminal_prefix, "T");
    snprintf(f->plate_prefix, sizeof f->plate_prefix, "SIM");
    f->plate_color = 1;
    f->province = 11;
    f->city = 0;
    f->heartbeat_ms = 30000;
    f->report_every_ms = 10000;
    snprintf(f->location_model, sizeof f->location_model, "random-walk");
    f->lat = 39.9;
    f->lon = 116.4;
}

static int fleet_version(const struct scenario_json *j, const cJSON *obj, const char *path,
                         struct jt808_fleet_cfg *f)
{
    char p[SCENARIO_JSON_PATH_MAX], got[64];
    const cJSON *v = scenario_json_get(obj, "version");
    int version = 0;
    if (v == NULL)
        return SJ_OK;
    scenario_json_path(p, sizeof p, path, "version");
    if (cJSON_IsNumber(v)) {
        if (v->valuedouble == 2011 || v->valuedouble == 2013 || v->valuedouble == 2019)
            version = (int)v->valuedouble;
    } else if (cJSON_IsString(v) && v->valuestring != NULL) {
        if (strcmp(v->valuestring, "2011") == 0 || strcmp(v->valuestring, "2013") == 0 ||
            strcmp(v->valuestring, "2019") == 0)
            version = (v->valuestring[2] - '0') * 10 + (v->valuestring[3] - '0') + 2000;
    }
    if (version == 0) {
        scenario_json_got(v, got, sizeof got);
        return scenario_json_fail(j, p, "must be 2011, 2013 or 2019, got %s", got);
    }
    f->version = version;
    return SJ_OK;
}

static unsigned fleet_digits(uint64_t n)
{
    unsigned d = 1;
    while (n >= 10) {
        n /= 10;
        d++;
    }
    return d;
}

static bool fleet_phone_add(const char *digits, size_t nd, uint64_t add, char *out, size_t cap,
                            unsigned max_digits)
{
    char buf[48];
    size_t width = sizeof buf - 1, start;
    unsigned carry = 0;
    memset(buf, '0', width);
    buf[width] = '\0';
    memcpy(buf + width - nd, digits, nd);
    for (size_t i = width; i-- > 0;) {
        unsigned d = (unsigned)(buf[i] - '0') + (unsigned)(add % 10) + carry;
        add /= 10;
        carry = d / 10;
        buf[i] = (char)('0' + d % 10);
    }
    for (start = 0; start + 1 < width && buf[start] == '0'; start++)
        ;
    snprintf(out, cap, "%s", buf + start);
    return width - start <= max_digits;
}

static int fleet_phone(const struct scenario_json *j, const cJSON *obj, const char *path,
                       const struct jt808_fleet_cfg *f, struct fleet_spec *fs)
{
    char p[SCENARIO_JSON_PATH_MAX], phone[40], last[48];
    unsigned wire_max = f->version == 2019 ? 20 : 12;
    size_t len, nd;
    bool plus;
    int rc;
    scenario_json_path(p, sizeof p, path, "phone");
    rc = scenario_json_string(j, obj, path, "phone", SJ_OPTIONAL, true, phone, sizeof phone);
    if (rc == SJ_ERR)
        return SJ_ERR;
    if (rc == SJ_ABSENT) {
        if (fs->count > FLEET_PHONE_BLOCK)
            return scenario_json_fail(j, p,
                                      "required when count is above %llu (the default numbering "
                                      "gives each fleet %llu numbers)",
                                      FLEET_PHONE_BLOCK, FLEET_PHONE_BLOCK);
        return SJ_OK;
    }
    len = strlen(phone);
    plus = phone[len - 1] == '+';
    nd = plus ? len - 1 : len;
    for (size_t i = 0; i < nd; i++)
        if (phone[i] < '0' || phone[i] > '9')
            nd = 0;
    if (nd == 0)
        return scenario_json_fail(j, p,
                                  "expected digits with an optional trailing \"+\" "
                                  "(e.g. \"13800000000+\"), got \"%s\"", phone);
    if (nd > wire_max)
        return scenario_json_fail(j, p, "at most %u digits for version %d, got %zu", wire_max,
                                  f->version, nd);
    if (!plus && fs->count > 1)
        return scenario_json_fail(j, p,
                                  "\"%s\" would be shared by all %u terminals; end it with \"+\" "
                                  "to number them", phone, fs->count);
    if (plus && !fleet_phone_add(phone, nd, fs->count - 1, last, sizeof last, wire_max))
        return scenario_json_fail(j, p,
                                  "\"%s\" with count %u runs past %u digits (the last would be %s)",
                                  phone, fs->count, wire_max, last);
    /* terminals count up from the number: it must fit 64 bits (20 digits do not always) */
    if (plus && strlen(last) == 20 && strcmp(last, "18446744073709551615") > 0)
        return scenario_json_fail(j, p,
                                  "\"%s\" with count %u runs past 18446744073709551615, the largest "
                                  "number terminals can be counted up to", phone, fs->count);
    memcpy(fs->ident, phone, len + 1);
    return SJ_OK;
}

static int fleet_ascii_field(const struct scenario_json *j, const cJSON *obj, const char *path,
                             const char *key, size_t max, int version, char *out, size_t cap)
{
    char p[SCENARIO_JSON_PATH_MAX], s[64];
    size_t len;
    int rc = scenario_json_string(j, obj, path, key, SJ_OPTIONAL, true, s, sizeof s);
    if (rc != SJ_OK)
        return rc;
    scenario_json_path(p, sizeof p, path, key);
    for (const char *c = s; *c; c++)
        if (*c < 0x20 || *c > 0x7e)
            return scenario_json_fail(j, p, "ASCII letters, digits and punctuation only");
    len = strlen(s);
    if (len > max || len >= cap)
        return scenario_json_fail(j, p, "at most %zu characters for version %d, got %zu (\"%s\")",
                                  max, version, len, s);
    memcpy(out, s, len + 1);
    return SJ_OK;
}

static int fleet_terminal_prefix(const struct scenario_json *j, const cJSON *obj,
                                 const char *path, const struct fleet_spec *fs,
                                 struct jt808_fleet_cfg *f)
{
    char p[SCENARIO_JSON_PATH_MAX];
    size_t max = f->version == 2019 ? 30 : 7;
    /* terminal numbers count from 1 across the scenario: this fleet's last one */
    uint64_t last = (uint64_t)fs->first + fs->count;
    unsigned nd;
    nd = fleet_digits(last);
    int rc = scenario_json_string(j, obj, path, "terminal_prefix", SJ_OPTIONAL, false,
                                  f->terminal_prefix, sizeof f->terminal_prefix);
    if (rc == SJ_ERR)
        return SJ_ERR;
    scenario_json_path(p, sizeof p, path, "terminal_prefix");
    for (const char *c = f->terminal_prefix; *c; c++)
        if (!((*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9')))
            return scenario_json_fail(j, p,
                                      "a terminal id holds uppercase letters and digits only, "
                                      "got \"%s\"", f->terminal_prefix);
    if (strlen(f->terminal_prefix) + nd > max)
        return scenario_json_fail(j, p,
                                  "\"%s\" plus the %u digits of a terminal number (numbered "
                                  "across fleets, up to %llu here) exceeds the %zu characters "
                                  "of a version %d terminal id",
                                  f->terminal_prefix, nd, (unsigned long long)last, max,
                                  f->version);
    return SJ_OK;
}

static int fleet_plate(const struct scenario_json *j, const cJSON *obj, const char *path,
                       struct jt808_fleet_cfg *f)
{
    char p[SCENARIO_JSON_PATH_MAX];
    long long v;
    int rc = SJ_OK;
    int r = scenario_json_string(j, obj, path, "plate_prefix", SJ_OPTIONAL, false,
                                 f->plate_prefix, sizeof f->plate_prefix);
    SJ_TRY(rc, r);
    scenario_json_path(p, sizeof p, path, "plate_prefix");
    for (const char *c = f->plate_prefix; r == SJ_OK && *c; c++) {
        if ((unsigned char)*c < 0x20 || *c == 0x7f) {
            rc = scenario_json_fail(j, p, "control characters are not allowed");
            break;
        }
    }
    r = scenario_json_int(j, obj, path, "plate_color", SJ_OPTIONAL, 0, 255, &v);
    SJ_TRY(rc, r);
    if (r == SJ_OK)
        f->plate_color = (uint8_t)v;
    r = scenario_json_int(j, obj, path, "province", SJ_OPTIONAL, 0, 65535, &v);
    SJ_TRY(rc, r);
    if (r == SJ_OK)
        f->province = (uint16_t)v;
    r = scenario_json_int(j, obj, path, "city", SJ_OPTIONAL, 0, 65535, &v);
    SJ_TRY(rc, r);
    if (r == SJ_OK)
        f->city = (uint16_t)v;
    return rc;
}

static int fleet_degrees(const struct scenario_json *j, const cJSON *obj, const char *path,
                         const char *key, double limit, double *out)
{
    char p[SCENARIO_JSON_PATH_MAX], got[64];
    double d;
    int rc = scenario_json_number(j, obj, path, key, SJ_OPTIONAL, &d);
    if (rc != SJ_OK)
        return rc;
    if (d < -limit || d > limit) {
        scenario_json_path(p, sizeof p, path, key);
        scenario_json_got(scenario_json_get(obj, key), got, sizeof got);
        return scenario_json_fail(j, p, "must be between %g and %g, got %s", -limit, limit, got);
    }
    *out = d;
    return SJ_OK;
}

static int fleet_report(const struct scenario_json *j, const cJSON *obj, const char *path,
                        struct jt808_fleet_cfg *f)
{
    char p[SCENARIO_JSON_PATH_MAX];
    const cJSON *r = scenario_json_get(obj, "report");
    if (r == NULL)
        return SJ_OK;
    if (cJSON_IsNull(r)) {
        f->report_every_ms = 0;
        return SJ_OK;
    }
    scenario_json_path(p, sizeof p, path, "report");
    if (scenario_json_want_object(j, r, p) != SJ_OK)
        return SJ_ERR;
    int rc = SJ_OK;
    SJ_TRY(rc, scenario_json_fields(j, r, p, report_fields, N_OF(report_fields)));
    SJ_TRY(rc, scenario_json_duration_ms(j, r, p, "every", SJ_OPTIONAL, &f->report_every_ms));
    SJ_TRY(rc, scenario_json_enum(j, r, p, "location", SJ_OPTIONAL, locations, N_OF(locations),
                                  f->location_model, sizeof f->location_model));
    SJ_TRY(rc, fleet_degrees(j, r, p, "lat", 90, &f->lat));
    SJ_TRY(rc, fleet_degrees(j, r, p, "lon", 180, &f->lon));
    return rc;
}

/* "deviate": {"kinds": [...], "share": 0.1}: that share of the fleet's terminals
 * send frames with those deviations (sim/dev/jt808_deviate.h). */
static int fleet_deviate(const struct scenario_json *j, const cJSON *obj, const char *path,
                         struct jt808_fleet_cfg *f)
{
    char p[SCENARIO_JSON_PATH_MAX], q[SCENARIO_JSON_PATH_MAX], got[64];
    const cJSON *d = scenario_json_get(obj, "deviate");
    if (d == NULL)
        return SJ_OK;
    scenario_json_path(p, sizeof p, path, "deviate");
    if (scenario_json_want_object(j, d, p) != SJ_OK)
        return SJ_ERR;
    int rc = SJ_OK;
    SJ_TRY(rc, scenario_json_fields(j, d, p, deviate_fields, N_OF(deviate_fields)));
    const char *names[JT808_DEV__COUNT];
    for (int k = 0; k < JT808_DEV__COUNT; k++)
        names[k] = jt808_dev_name((enum jt808_dev_kind)k);
    const cJSON *kinds = scenario_json_get(d, "kinds");
    scenario_json_path(q, sizeof q, p, "kinds");
    if (kinds == NULL) {
        SJ_TRY(rc, scenario_json_fail(j, q, "missing: the deviation kinds to send"));
    } else if (scenario_json_want_array(j, kinds, q) != SJ_OK) {
        rc = SJ_ERR;
    } else if (cJSON_GetArraySize(kinds) == 0) {
        SJ_TRY(rc, scenario_json_fail(j, q, "must list at least one deviation kind"));
    } else {
        char all[256];
        scenario_json_join(names, JT808_DEV__COUNT, all, sizeof all);
        int i = 0;
        const cJSON *e;
        cJSON_ArrayForEach(e, kinds) {
            char ip[SCENARIO_JSON_PATH_MAX];
            scenario_json_index(ip, sizeof ip, q, i++);
            int k = -1;
            for (int n = 0; cJSON_IsString(e) && n < JT808_DEV__COUNT; n++)
                if (strcmp(e->valuestring, names[n]) == 0)
                    k = n;
            if (k < 0) {
                scenario_json_got(e, got, sizeof got);
                const char *near = cJSON_IsString(e)
                                       ? scenario_json_closest(e->valuestring, names, JT808_DEV__COUNT)
                                       : NULL;
                SJ_TRY(rc, near ? scenario_json_fail(j, ip, "unknown deviation kind %s (did you mean \"%s\"?); one of %s",
                                                     got, near, all)
                                : scenario_json_fail(j, ip, "unknown deviation kind %s; one of %s", got, all));
                continue;
            }
            f->deviate_mask |= 1u << k;
        }
    }
    double share = 0;
    int r = scenario_json_number(j, d, p, "share", SJ_REQUIRED, &share);
    SJ_TRY(rc, r);
    if (r == SJ_OK) {
        if (share < 0 || share > 1) {
            scenario_json_path(q, sizeof q, p, "share");
            scenario_json_got(scenario_json_get(d, "share"), got, sizeof got);
            SJ_TRY(rc, scenario_json_fail(j, q, "must be between 0 and 1 (a share of the fleet), got %s", got));
        } else {
            f->deviate_share = share;
        }
    }
    if (rc != SJ_OK)
        f->deviate_mask = 0;
    return rc;
}

/* "time_query": true: each terminal asks the server time (0x0004) after it
 * authenticates.  0x0004 and its answer 0x8004 exist in JT/T 808-2019 only. */
static int fleet_time_query(const struct scenario_json *j, const cJSON *obj, const char *path,
                            struct jt808_fleet_cfg *f)
{
    char p[SCENARIO_JSON_PATH_MAX], got[64];
    const cJSON *v = scenario_json_get(obj, "time_query");
    if (v == NULL)
        return SJ_OK;
    scenario_json_path(p, sizeof p, path, "time_query");
    if (!cJSON_IsBool(v)) {
        scenario_json_got(v, got, sizeof got);
        return scenario_json_fail(j, p, "must be true or false, got %s", got);
    }
    if (cJSON_IsTrue(v) && f->version != 2019)
        return scenario_json_fail(j, p,
                                  "0x0004 (query server time) exists in JT/T 808-2019 only: not for "
                                  "version %d terminals", f->version);
    f->time_query = cJSON_IsTrue(v);
    return SJ_OK;
}

static int jt_parse(const struct scenario_json *j, const cJSON *obj, const char *path,
                    const struct scenario *sc, int index, struct fleet_spec *fs)
{
    struct jt808_fleet_cfg *f = calloc(1, sizeof *f);
    size_t man_max, model_max;
    int rc = SJ_OK;
    (void)sc;
    if (f == NULL)
        return scenario_json_fail(j, path, "out of memory");
    fs->cfg = f;
    jt_defaults(f, fs, index);
    /* a version that failed leaves 2019, the widest fields: what follows is still
     * checked, without errors that only a wrong version would cause */
    SJ_TRY(rc, fleet_version(j, obj, path, f));
    SJ_TRY(rc, fleet_phone(j, obj, path, f, fs));
    man_max = f->version == 2019 ? 11 : 5;
    model_max = f->version == 2019 ? 30 : f->version == 2013 ? 20 : 8;
    SJ_TRY(rc, fleet_ascii_field(j, obj, path, "manufacturer", man_max, f->version,
                                 f->manufacturer, sizeof f->manufacturer));
    SJ_TRY(rc, fleet_ascii_field(j, obj, path, "model", model_max, f->version, f->model,
                                 sizeof f->model));
    SJ_TRY(rc, fleet_terminal_prefix(j, obj, path, fs, f));
    SJ_TRY(rc, fleet_plate(j, obj, path, f));
    SJ_TRY(rc, scenario_fleets_period(j, obj, path, "heartbeat", &f->heartbeat_ms));
    SJ_TRY(rc, fleet_report(j, obj, path, f));
    SJ_TRY(rc, fleet_deviate(j, obj, path, f));
    SJ_TRY(rc, fleet_time_query(j, obj, path, f));
    char rsa[16] = "off";
    int r = scenario_json_enum(j, obj, path, "rsa", SJ_OPTIONAL, rsa_modes, N_OF(rsa_modes), rsa, sizeof rsa);
    SJ_TRY(rc, r);
    f->rsa = strcmp(rsa, "after-exchange") == 0 ? JT808_RSA_AFTER_EXCHANGE : JT808_RSA_OFF;
    return rc;
}

static int jt_check_command(const struct fleet_spec *fs, int kind, const char *body_json,
                            char *err, size_t errcap)
{
    const struct jt808_fleet_cfg *f = fs->cfg;
    return gw_check_command(jt808_kind_msg(kind), f->version, body_json, err, errcap);
}

static void jt_describe(const struct fleet_spec *fs, char *out, size_t cap)
{
    const struct jt808_fleet_cfg *f = fs->cfg;
    char hb[32], rep[32];
    units_format_us(f->heartbeat_ms * 1000u, hb, sizeof hb);
    units_format_us(f->report_every_ms * 1000u, rep, sizeof rep);
    snprintf(out, cap, "  version %d  heartbeat %s  reports %s%s", f->version, hb, f->report_every_ms ? rep : "off",
             f->time_query ? "  time query" : "");
}

/* The gateway names a device by the header's phone: BCD[6] (12 digits) before 2019, BCD[10] (20) in it. */
static void jt_device_id(const struct fleet_spec *fs, const char *ident, char *out, size_t cap)
{
    const struct jt808_fleet_cfg *f = fs->cfg;
    size_t want = f->version == 2019 ? 20 : 12, n = strlen(ident);
    snprintf(out, cap, "%.*s%s", (int)(n < want ? want - n : 0), "00000000000000000000", ident);
}

const struct sc_dialect scenario_jt808 = {
    .device_id = jt_device_id,
    .describe = jt_describe,
    .name = "jt808",
    .dev = &jt808_dialect,
    .fields = jt_fields,
    .n_fields = N_OF(jt_fields),
    .parse = jt_parse,
    .free = free,
    .check_command = jt_check_command,
    .frontend = &jt808_frontend,
};
