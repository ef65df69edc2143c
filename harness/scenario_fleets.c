/* The "fleets" section: who the virtual terminals are.  Registration fields are
 * checked against the field widths of the JT/T 808 version the fleet speaks, so a
 * scenario that could not be put on the wire is refused here, not mid-run. */
#include <stdio.h>
#include <string.h>

#include "harness/scenario_internal.h"
#include "sim/core/units.h"

/* Default phone numbers: fleet i starts at 13800000000 + i * 10,000,000, so the
 * fleets of one scenario never share a number unless one has more than a block. */
#define FLEET_PHONE_BASE 13800000000ULL
#define FLEET_PHONE_BLOCK 10000000ULL

static const char *const fleet_fields[] = {
    "id", "protocol", "version", "count", "ramp", "phone", "manufacturer", "model",
    "terminal_prefix", "plate_prefix", "plate_color", "province", "city", "heartbeat",
    "report", "reconnect", "ack_timeout",
};
static const char *const report_fields[] = {"every", "location", "lat", "lon"};
static const char *const reconnect_fields[] = {"min", "max"};
static const char *const protocols[] = {"jt808"};
static const char *const locations[] = {"random-walk", "fixed"};

#define N_OF(a) (sizeof(a) / sizeof((a)[0]))

static void fleet_defaults(struct sc_fleet *f, int index)
{
    memset(f, 0, sizeof *f);
    f->protocol = SC_PROTO_JT808;
    f->version = 2019;
    snprintf(f->phone, sizeof f->phone, "%llu+",
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
    f->reconnect_min_ms = 1000;
    f->reconnect_max_ms = 60000;
    f->ack_timeout_ms = 10000;
}

int scenario_fleets_ref(const struct scenario_json *j, const struct scenario *sc, const char *p,
                        const char *id)
{
    const char *ids[SC_MAX_FLEETS];
    const char *near;
    char list[256];
    if (scenario_fleet(sc, id) != NULL)
        return SJ_OK;
    for (int i = 0; i < sc->n_fleets; i++)
        ids[i] = sc->fleets[i].id;
    near = scenario_json_closest(id, ids, (size_t)sc->n_fleets);
    if (near != NULL)
        return scenario_json_fail(j, p, "unknown fleet \"%s\" (did you mean \"%s\"?)", id, near);
    scenario_json_join(ids, (size_t)sc->n_fleets, list, sizeof list);
    return scenario_json_fail(j, p, "unknown fleet \"%s\" (fleets: %s)", id, list);
}

static bool fleet_id_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '_' || c == '.' || c == '-';
}

static int fleet_id(const struct scenario_json *j, const cJSON *obj, const char *path,
                    const struct scenario *sc, int index, struct sc_fleet *f)
{
    char p[SCENARIO_JSON_PATH_MAX];
    int rc = scenario_json_string(j, obj, path, "id", SJ_REQUIRED, true, f->id, sizeof f->id);
    if (rc != SJ_OK)
        return SJ_ERR;
    scenario_json_path(p, sizeof p, path, "id");
    for (const char *c = f->id; *c; c++)
        if (!fleet_id_char(*c))
            return scenario_json_fail(j, p, "use letters, digits, '_', '.' and '-', got \"%s\"",
                                      f->id);
    for (int i = 0; i < index; i++)
        if (strcmp(sc->fleets[i].id, f->id) == 0)
            return scenario_json_fail(j, p, "duplicate fleet id \"%s\" (also fleets[%d])", f->id, i);
    return SJ_OK;
}

static int fleet_version(const struct scenario_json *j, const cJSON *obj, const char *path,
                         struct sc_fleet *f)
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

static int fleet_count(const struct scenario_json *j, const cJSON *obj, const char *path,
                       struct sc_fleet *f)
{
    char p[SCENARIO_JSON_PATH_MAX], got[64];
    uint64_t n;
    if (scenario_json_count(j, obj, path, "count", SJ_REQUIRED, true, &n) != SJ_OK)
        return SJ_ERR;
    if (n > UINT32_MAX) {
        scenario_json_path(p, sizeof p, path, "count");
        scenario_json_got(scenario_json_get(obj, "count"), got, sizeof got);
        return scenario_json_fail(j, p, "too large: at most 4294967295, got %s", got);
    }
    f->count = (uint32_t)n;
    return SJ_OK;
}

static int fleet_ramp(const struct scenario_json *j, const cJSON *obj, const char *path,
                      struct sc_fleet *f)
{
    char p[SCENARIO_JSON_PATH_MAX], got[64];
    double r;
    int rc = scenario_json_rate(j, obj, path, "ramp", SJ_OPTIONAL, &r);
    if (rc != SJ_OK)
        return rc;
    if (r <= 0) {
        scenario_json_path(p, sizeof p, path, "ramp");
        scenario_json_got(scenario_json_get(obj, "ramp"), got, sizeof got);
        return scenario_json_fail(j, p,
                                  "must be above 0 (leave ramp out to connect all at once), got %s",
                                  got);
    }
    f->ramp_per_s = r;
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

/* digits + add, as decimal text without leading zeros; false when the
 * result has more than max_digits digits. */
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
                       struct sc_fleet *f)
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
        if (f->count > FLEET_PHONE_BLOCK)
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
    if (len >= sizeof f->phone)
        return scenario_json_fail(j, p, "at most %zu digits with a trailing \"+\", got %zu",
                                  sizeof f->phone - 2, nd);
    if (!plus && f->count > 1)
        return scenario_json_fail(j, p,
                                  "\"%s\" would be shared by all %u terminals; end it with \"+\" "
                                  "to number them", phone, f->count);
    if (plus && !fleet_phone_add(phone, nd, f->count - 1, last, sizeof last, wire_max))
        return scenario_json_fail(j, p,
                                  "\"%s\" with count %u runs past %u digits (the last would be %s)",
                                  phone, f->count, wire_max, last);
    memcpy(f->phone, phone, len + 1);
    return SJ_OK;
}

/* Printable ASCII of 1..max characters: these go into fixed-width byte fields. */
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

/* Terminals are numbered across the whole scenario (fleet after fleet), so that
 * fleets sharing a prefix do not claim each other's ids: the largest number is
 * the count of this fleet and all before it. */
static int fleet_terminal_prefix(const struct scenario_json *j, const cJSON *obj,
                                 const char *path, const struct scenario *sc, int index,
                                 struct sc_fleet *f)
{
    char p[SCENARIO_JSON_PATH_MAX];
    size_t max = f->version == 2019 ? 30 : 7;
    uint64_t last = f->count;
    unsigned nd;
    for (int i = 0; i < index; i++)
        last += sc->fleets[i].count;
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
                       struct sc_fleet *f)
{
    char p[SCENARIO_JSON_PATH_MAX];
    long long v;
    int rc = scenario_json_string(j, obj, path, "plate_prefix", SJ_OPTIONAL, false,
                                  f->plate_prefix, sizeof f->plate_prefix);
    if (rc == SJ_ERR)
        return SJ_ERR;
    scenario_json_path(p, sizeof p, path, "plate_prefix");
    for (const char *c = f->plate_prefix; *c; c++)
        if ((unsigned char)*c < 0x20 || *c == 0x7f)
            return scenario_json_fail(j, p, "control characters are not allowed");
    rc = scenario_json_int(j, obj, path, "plate_color", SJ_OPTIONAL, 0, 255, &v);
    if (rc == SJ_ERR)
        return SJ_ERR;
    if (rc == SJ_OK)
        f->plate_color = (uint8_t)v;
    rc = scenario_json_int(j, obj, path, "province", SJ_OPTIONAL, 0, 65535, &v);
    if (rc == SJ_ERR)
        return SJ_ERR;
    if (rc == SJ_OK)
        f->province = (uint16_t)v;
    rc = scenario_json_int(j, obj, path, "city", SJ_OPTIONAL, 0, 65535, &v);
    if (rc == SJ_ERR)
        return SJ_ERR;
    if (rc == SJ_OK)
        f->city = (uint16_t)v;
    return SJ_OK;
}

/* An optional duration that must not be zero. */
static int fleet_period(const struct scenario_json *j, const cJSON *obj, const char *path,
                        const char *key, uint64_t *out)
{
    char p[SCENARIO_JSON_PATH_MAX];
    uint64_t ms;
    int rc = scenario_json_duration_ms(j, obj, path, key, SJ_OPTIONAL, &ms);
    if (rc != SJ_OK)
        return rc;
    if (ms == 0) {
        scenario_json_path(p, sizeof p, path, key);
        return scenario_json_fail(j, p, "must be above 0s");
    }
    *out = ms;
    return SJ_OK;
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
                        struct sc_fleet *f)
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
    if (scenario_json_want_object(j, r, p) != SJ_OK ||
        scenario_json_fields(j, r, p, report_fields, N_OF(report_fields)) != SJ_OK)
        return SJ_ERR;
    if (scenario_json_duration_ms(j, r, p, "every", SJ_OPTIONAL, &f->report_every_ms) == SJ_ERR ||
        scenario_json_enum(j, r, p, "location", SJ_OPTIONAL, locations, N_OF(locations),
                           f->location_model, sizeof f->location_model) == SJ_ERR ||
        fleet_degrees(j, r, p, "lat", 90, &f->lat) == SJ_ERR ||
        fleet_degrees(j, r, p, "lon", 180, &f->lon) == SJ_ERR)
        return SJ_ERR;
    return SJ_OK;
}

static int fleet_reconnect(const struct scenario_json *j, const cJSON *obj, const char *path,
                           struct sc_fleet *f)
{
    char p[SCENARIO_JSON_PATH_MAX], pmax[SCENARIO_JSON_PATH_MAX], a[24], b[24];
    const cJSON *r = scenario_json_get(obj, "reconnect");
    if (r == NULL)
        return SJ_OK;
    scenario_json_path(p, sizeof p, path, "reconnect");
    if (scenario_json_want_object(j, r, p) != SJ_OK ||
        scenario_json_fields(j, r, p, reconnect_fields, N_OF(reconnect_fields)) != SJ_OK)
        return SJ_ERR;
    if (fleet_period(j, r, p, "min", &f->reconnect_min_ms) == SJ_ERR ||
        fleet_period(j, r, p, "max", &f->reconnect_max_ms) == SJ_ERR)
        return SJ_ERR;
    if (f->reconnect_max_ms < f->reconnect_min_ms) {
        scenario_json_path(pmax, sizeof pmax, p, "max");
        units_format_us(f->reconnect_max_ms * 1000, a, sizeof a);
        units_format_us(f->reconnect_min_ms * 1000, b, sizeof b);
        return scenario_json_fail(j, pmax, "%s is below min %s", a, b);
    }
    return SJ_OK;
}

static int fleet_parse(const struct scenario_json *j, const cJSON *obj, const char *path,
                       struct scenario *sc, int index)
{
    struct sc_fleet *f = &sc->fleets[index];
    char proto[16];
    size_t man_max, model_max;
    fleet_defaults(f, index);
    if (scenario_json_want_object(j, obj, path) != SJ_OK ||
        scenario_json_fields(j, obj, path, fleet_fields, N_OF(fleet_fields)) != SJ_OK)
        return SJ_ERR;
    if (fleet_id(j, obj, path, sc, index, f) != SJ_OK ||
        scenario_json_enum(j, obj, path, "protocol", SJ_REQUIRED, protocols, N_OF(protocols),
                           proto, sizeof proto) != SJ_OK ||
        fleet_version(j, obj, path, f) != SJ_OK ||
        fleet_count(j, obj, path, f) != SJ_OK ||
        fleet_ramp(j, obj, path, f) == SJ_ERR ||
        fleet_phone(j, obj, path, f) == SJ_ERR)
        return SJ_ERR;
    man_max = f->version == 2019 ? 11 : 5;
    model_max = f->version == 2019 ? 30 : f->version == 2013 ? 20 : 8;
    if (fleet_ascii_field(j, obj, path, "manufacturer", man_max, f->version, f->manufacturer,
                          sizeof f->manufacturer) == SJ_ERR ||
        fleet_ascii_field(j, obj, path, "model", model_max, f->version, f->model,
                          sizeof f->model) == SJ_ERR ||
        fleet_terminal_prefix(j, obj, path, sc, index, f) == SJ_ERR ||
        fleet_plate(j, obj, path, f) == SJ_ERR ||
        fleet_period(j, obj, path, "heartbeat", &f->heartbeat_ms) == SJ_ERR ||
        fleet_report(j, obj, path, f) == SJ_ERR ||
        fleet_reconnect(j, obj, path, f) == SJ_ERR ||
        fleet_period(j, obj, path, "ack_timeout", &f->ack_timeout_ms) == SJ_ERR)
        return SJ_ERR;
    return SJ_OK;
}

int scenario_fleets_parse(const struct scenario_json *j, const cJSON *v, struct scenario *sc)
{
    char p[SCENARIO_JSON_PATH_MAX];
    int n;
    if (v == NULL)
        return scenario_json_fail(j, "fleets", "required field missing");
    if (scenario_json_want_array(j, v, "fleets") != SJ_OK)
        return SJ_ERR;
    n = cJSON_GetArraySize(v);
    if (n < 1 || n > SC_MAX_FLEETS)
        return scenario_json_fail(j, "fleets", "expected 1 to %d fleets, got %d", SC_MAX_FLEETS, n);
    for (const cJSON *e = v->child; e != NULL; e = e->next) {
        scenario_json_index(p, sizeof p, "fleets", sc->n_fleets);
        if (fleet_parse(j, e, p, sc, sc->n_fleets) != SJ_OK)
            return SJ_ERR;
        sc->n_fleets++;
    }
    return SJ_OK;
}
