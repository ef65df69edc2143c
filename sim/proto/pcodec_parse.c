/* Product files: JSON -> struct pc_product, every error with its path (pcodec.h). */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim/proto/pcodec.h"

struct pp {
    const char *file;
    char *err;
    size_t cap;
};

__attribute__((format(printf, 3, 4))) static int fail(struct pp *c, const char *path, const char *fmt, ...)
{
    char msg[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    snprintf(c->err, c->cap, "%s: %s%s%s", c->file, path, path[0] ? ": " : "", msg);
    return -1;
}

static void sub(char *out, size_t cap, const char *path, const char *key)
{
    snprintf(out, cap, "%s%s%s", path, path[0] ? "." : "", key);
}

static void idx(char *out, size_t cap, const char *path, const char *key, int i)
{
    snprintf(out, cap, "%s%s%s[%d]", path, path[0] ? "." : "", key, i);
}

/* obj must be an object whose members are all in known. */
static int members(struct pp *c, const cJSON *obj, const char *path, const char *const *known, size_t n)
{
    if (!cJSON_IsObject(obj))
        return fail(c, path, "expected an object");
    const cJSON *m;
    cJSON_ArrayForEach(m, obj)
    {
        size_t k = 0;
        while (k < n && strcmp(known[k], m->string) != 0)
            k++;
        if (k == n) {
            char p[300], list[400] = "";
            sub(p, sizeof p, path, m->string);
            for (size_t i = 0; i < n; i++)
                snprintf(list + strlen(list), sizeof list - strlen(list), "%s%s", i ? ", " : "", known[i]);
            return fail(c, p, "unknown member (known: %s)", list);
        }
    }
    return 0;
}

/* A name: 1..PC_NAME_MAX-1 bytes of A-Z a-z 0-9 _ - . */
static int name_at(struct pp *c, const cJSON *obj, const char *path, const char *key, bool need, char *out)
{
    char p[300];
    sub(p, sizeof p, path, key);
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (!v) {
        if (need)
            return fail(c, p, "missing");
        out[0] = 0;
        return 0;
    }
    if (!cJSON_IsString(v))
        return fail(c, p, "expected a string");
    size_t n = strlen(v->valuestring);
    if (n == 0 || n >= PC_NAME_MAX)
        return fail(c, p, "\"%s\": 1 to %d bytes", v->valuestring, PC_NAME_MAX - 1);
    for (size_t i = 0; i < n; i++) {
        char ch = v->valuestring[i];
        if (!((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '_' ||
              ch == '-' || ch == '.'))
            return fail(c, p, "\"%s\": character %zu is not one of A-Z a-z 0-9 _ - .", v->valuestring, i + 1);
    }
    memcpy(out, v->valuestring, n + 1);
    return 0;
}

static int text_at(struct pp *c, const cJSON *obj, const char *path, const char *key, char *out, size_t cap)
{
    char p[300];
    sub(p, sizeof p, path, key);
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    out[0] = 0;
    if (!v)
        return 0;
    if (!cJSON_IsString(v))
        return fail(c, p, "expected a string");
    if (strlen(v->valuestring) >= cap)
        return fail(c, p, "longer than %zu bytes", cap - 1);
    memcpy(out, v->valuestring, strlen(v->valuestring) + 1);
    return 0;
}

/* A number member: absent (0, *has false) or a finite number. */
static int num_at(struct pp *c, const cJSON *obj, const char *path, const char *key, double *out, bool *has)
{
    char p[300];
    sub(p, sizeof p, path, key);
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (has)
        *has = v != NULL;
    if (!v)
        return 0;
    if (!cJSON_IsNumber(v) || !isfinite(v->valuedouble))
        return fail(c, p, "expected a number");
    *out = v->valuedouble;
    return 0;
}

static const char *const dtype_names[] = {"int", "decimal", "string", "bool", "DateTime"};

static int prop_parse(struct pp *c, const cJSON *o, const char *path, bool with_access, struct pc_prop *p)
{
    static const char *const known[] = {"name", "dataType", "min",  "max",    "maxLength",  "step",
                                        "enumList", "unit", "access", "required", "description", "deviceKey"};
    if (members(c, o, path, known, sizeof known / sizeof *known) < 0 || name_at(c, o, path, "name", true, p->name) < 0)
        return -1;
    char pt[300];
    sub(pt, sizeof pt, path, "dataType");
    const cJSON *dt = cJSON_GetObjectItemCaseSensitive(o, "dataType");
    if (!dt)
        return fail(c, pt, "missing");
    int t = -1;
    for (int i = 0; cJSON_IsString(dt) && i < 5; i++)
        if (strcmp(dt->valuestring, dtype_names[i]) == 0)
            t = i;
    if (t < 0)
        return fail(c, pt, "expected one of int, decimal, string, bool, DateTime");
    p->type = (enum pc_dtype)t;
    bool numeric = p->type == PD_INT || p->type == PD_DECIMAL;
    if (num_at(c, o, path, "min", &p->min, &p->has_min) < 0 || num_at(c, o, path, "max", &p->max, &p->has_max) < 0 ||
        num_at(c, o, path, "step", &p->step, NULL) < 0)
        return -1;
    if ((p->has_min || p->has_max || p->step) && !numeric) {
        sub(pt, sizeof pt, path, p->has_min ? "min" : p->has_max ? "max" : "step");
        return fail(c, pt, "only an int or decimal has a range");
    }
    if (p->has_min && p->has_max && p->min > p->max) {
        sub(pt, sizeof pt, path, "min");
        return fail(c, pt, "%g is above max %g", p->min, p->max);
    }
    if (p->step < 0) {
        sub(pt, sizeof pt, path, "step");
        return fail(c, pt, "must be positive");
    }
    double ml = 0;
    bool has_ml = false;
    if (num_at(c, o, path, "maxLength", &ml, &has_ml) < 0)
        return -1;
    if (has_ml) {
        sub(pt, sizeof pt, path, "maxLength");
        if (p->type != PD_STRING && p->type != PD_DATETIME)
            return fail(c, pt, "only a string has a maxLength");
        if (ml < 1 || ml > PC_MAX_MSG || ml != floor(ml))
            return fail(c, pt, "expected an integer 1..%d", PC_MAX_MSG);
        p->max_len = (uint32_t)ml;
    }
    const cJSON *en = cJSON_GetObjectItemCaseSensitive(o, "enumList");
    if (en) {
        sub(pt, sizeof pt, path, "enumList");
        if (!cJSON_IsArray(en) || cJSON_GetArraySize(en) < 1 || cJSON_GetArraySize(en) > 1024)
            return fail(c, pt, "expected an array of 1 to 1024 values");
        if (p->type == PD_BOOL || p->type == PD_DATETIME)
            return fail(c, pt, "a %s has no enumList", dtype_names[p->type]);
        int n = cJSON_GetArraySize(en);
        if (numeric ? !(p->enums = calloc((size_t)n, sizeof *p->enums))
                    : !(p->senums = calloc((size_t)n, sizeof *p->senums)))
            return fail(c, pt, "out of memory");
        const cJSON *e;
        int i = 0;
        cJSON_ArrayForEach(e, en)
        {
            char pe[320];
            snprintf(pe, sizeof pe, "%s[%d]", pt, i);
            if (numeric && !cJSON_IsNumber(e))
                return fail(c, pe, "expected a number (the property is %s)", dtype_names[p->type]);
            if (!numeric && !cJSON_IsString(e))
                return fail(c, pe, "expected a string (the property is a string)");
            if (numeric)
                p->enums[i] = e->valuedouble;
            else if (!(p->senums[i] = strdup(e->valuestring)))
                return fail(c, pe, "out of memory");
            p->n_enum = ++i;
        }
    }
    if (text_at(c, o, path, "unit", p->unit, sizeof p->unit) < 0)
        return -1;
    const cJSON *ac = cJSON_GetObjectItemCaseSensitive(o, "access");
    p->access = with_access ? PA_R : 0;
    if (ac) {
        sub(pt, sizeof pt, path, "access");
        if (!with_access)
            return fail(c, pt, "only a service's property has an access mode");
        if (!cJSON_IsString(ac) || !ac->valuestring[0])
            return fail(c, pt, "expected a string of R, W and E");
        p->access = 0;
        for (const char *s = ac->valuestring; *s; s++) {
            unsigned bit = *s == 'R' ? PA_R : *s == 'W' ? PA_W : *s == 'E' ? PA_E : 0;
            if (!bit || (p->access & bit))
                return fail(c, pt, "\"%s\": each of R, W, E at most once, nothing else", ac->valuestring);
            p->access |= bit;
        }
    }
    if (cJSON_GetObjectItemCaseSensitive(o, "deviceKey")) {
        sub(pt, sizeof pt, path, "deviceKey");
        if (!with_access)
            return fail(c, pt, "only a service's property has a device key");
        if (name_at(c, o, path, "deviceKey", true, p->device_key) < 0)
            return -1;
    }
    const cJSON *rq = cJSON_GetObjectItemCaseSensitive(o, "required");
    if (rq && !cJSON_IsBool(rq)) {
        sub(pt, sizeof pt, path, "required");
        return fail(c, pt, "expected true or false");
    }
    return 0;
}

static int props_parse(struct pp *c, const cJSON *o, const char *path, const char *key, bool need, bool with_access,
                       struct pc_prop **out, int *n_out)
{
    char p[300];
    sub(p, sizeof p, path, key);
    const cJSON *a = cJSON_GetObjectItemCaseSensitive(o, key);
    *n_out = 0;
    if (!a)
        return need ? fail(c, p, "missing") : 0;
    if (!cJSON_IsArray(a) || cJSON_GetArraySize(a) > 1024)
        return fail(c, p, "expected an array of at most 1024");
    int n = cJSON_GetArraySize(a);
    if (n && !(*out = calloc((size_t)n, sizeof **out)))
        return fail(c, p, "out of memory");
    const cJSON *e;
    int i = 0;
    cJSON_ArrayForEach(e, a)
    {
        char pe[320];
        idx(pe, sizeof pe, path, key, i);
        *n_out = i + 1; /* freed with what it holds, parsed or not */
        if (prop_parse(c, e, pe, with_access, &(*out)[i]) < 0)
            return -1;
        for (int k = 0; k < i; k++)
            if (strcmp((*out)[k].name, (*out)[i].name) == 0)
                return fail(c, pe, "\"%s\" twice (also %s[%d])", (*out)[i].name, key, k);
        i++;
    }
    return 0;
}

static int service_parse(struct pp *c, const cJSON *o, const char *path, struct pc_service *s)
{
    static const char *const known[] = {"serviceId", "serviceType", "properties", "commands", "description"};
    if (members(c, o, path, known, sizeof known / sizeof *known) < 0 || name_at(c, o, path, "serviceId", true, s->id) < 0 ||
        name_at(c, o, path, "serviceType", false, s->type) < 0 ||
        props_parse(c, o, path, "properties", false, true, &s->props, &s->n_props) < 0)
        return -1;
    if (!s->type[0])
        memcpy(s->type, s->id, sizeof s->type);
    char p[300];
    sub(p, sizeof p, path, "commands");
    const cJSON *a = cJSON_GetObjectItemCaseSensitive(o, "commands");
    if (!a)
        return 0;
    if (!cJSON_IsArray(a) || cJSON_GetArraySize(a) > 256)
        return fail(c, p, "expected an array of at most 256");
    int n = cJSON_GetArraySize(a);
    if (n && !(s->cmds = calloc((size_t)n, sizeof *s->cmds)))
        return fail(c, p, "out of memory");
    const cJSON *e;
    int i = 0;
    cJSON_ArrayForEach(e, a)
    {
        static const char *const ck[] = {"name", "paras", "responses", "description"};
        char pe[320];
        idx(pe, sizeof pe, path, "commands", i);
        struct pc_command *cm = &s->cmds[i];
        s->n_cmds = i + 1;
        if (members(c, e, pe, ck, sizeof ck / sizeof *ck) < 0 || name_at(c, e, pe, "name", true, cm->name) < 0 ||
            props_parse(c, e, pe, "paras", false, false, &cm->paras, &cm->n_paras) < 0 ||
            props_parse(c, e, pe, "responses", false, false, &cm->resps, &cm->n_resps) < 0)
            return -1;
        for (int k = 0; k < i; k++)
            if (strcmp(s->cmds[k].name, cm->name) == 0)
                return fail(c, pe, "command \"%s\" twice", cm->name);
        i++;
    }
    return 0;
}

/* --- the codec -------------------------------------------------------------------------- */

static const struct {
    const char *name;
    enum pc_ftype type;
    uint32_t len;
} ftypes[] = {
    {"uint8", PF_UINT, 1},   {"uint16", PF_UINT, 2}, {"uint24", PF_UINT, 3},    {"uint32", PF_UINT, 4},
    {"uint64", PF_UINT, 8},  {"int8", PF_INT, 1},    {"int16", PF_INT, 2},      {"int24", PF_INT, 3},
    {"int32", PF_INT, 4},    {"int64", PF_INT, 8},   {"float32", PF_FLOAT, 4},  {"float64", PF_FLOAT, 8},
    {"bool", PF_BOOL, 1},    {"string", PF_STRING, 0}, {"varstring", PF_VARSTRING, 0}, {"hex", PF_HEX, 0},
    {"varhex", PF_VARHEX, 0},
};
#define N_FTYPES (sizeof ftypes / sizeof *ftypes)

static int ftype_at(struct pp *c, const cJSON *o, const char *path, struct pc_field *f)
{
    char p[300];
    sub(p, sizeof p, path, "type");
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(o, "type");
    if (!t)
        return fail(c, p, "missing");
    for (size_t i = 0; cJSON_IsString(t) && i < N_FTYPES; i++)
        if (strcmp(t->valuestring, ftypes[i].name) == 0) {
            f->type = ftypes[i].type;
            f->len = ftypes[i].len;
            return 0;
        }
    char list[300] = "";
    for (size_t i = 0; i < N_FTYPES; i++)
        snprintf(list + strlen(list), sizeof list - strlen(list), "%s%s", i ? ", " : "", ftypes[i].name);
    return fail(c, p, "%s%s%s is not one of %s", cJSON_IsString(t) ? "\"" : "", cJSON_IsString(t) ? t->valuestring : "it",
                cJSON_IsString(t) ? "\"" : "", list);
}

static int order_at(struct pp *c, const cJSON *o, const char *path, bool *little)
{
    char p[300];
    sub(p, sizeof p, path, "byteOrder");
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, "byteOrder");
    if (!v)
        return 0;
    if (!cJSON_IsString(v) || (strcmp(v->valuestring, "big") != 0 && strcmp(v->valuestring, "little") != 0))
        return fail(c, p, "expected \"big\" or \"little\"");
    *little = strcmp(v->valuestring, "little") == 0;
    return 0;
}

static bool is_int(enum pc_ftype t) { return t == PF_UINT || t == PF_INT; }

/* Does an integer value fit a field of t and len bytes? */
static bool int_fits(enum pc_ftype t, uint32_t len, double v)
{
    if (v != floor(v))
        return false;
    double lim = ldexp(1.0, (int)(8 * len));
    if (t == PF_UINT)
        return v >= 0 && v < lim;
    return v >= -lim / 2 && v < lim / 2;
}

static const struct pc_prop *prop_named(const struct pc_prop *a, int n, const char *name)
{
    for (int i = 0; i < n; i++)
        if (strcmp(a[i].name, name) == 0)
            return &a[i];
    return NULL;
}

/* Which model fields a message of kind carries. */
static void model_of(const struct pc_product *p, const struct pc_message *m, const struct pc_prop **a, int *n)
{
    const struct pc_service *s = &p->services[m->service];
    if (m->kind == PK_REPORT) {
        *a = s->props;
        *n = s->n_props;
    } else if (m->kind == PK_COMMAND) {
        *a = s->cmds[m->command].paras;
        *n = s->cmds[m->command].n_paras;
    } else {
        *a = s->cmds[m->command].resps;
        *n = s->cmds[m->command].n_resps;
    }
}

static int field_parse(struct pp *c, const struct pc_product *p, const struct pc_message *m, const cJSON *o,
                       const char *path, bool little, struct pc_field *f)
{
    static const char *const known[] = {"name", "type",  "length", "byteOrder", "scale",
                                        "add",  "value", "role",   "lengthOf",  "description"};
    char pt[300];
    if (members(c, o, path, known, sizeof known / sizeof *known) < 0 || name_at(c, o, path, "name", true, f->name) < 0 ||
        ftype_at(c, o, path, f) < 0)
        return -1;
    f->little = little;
    f->scale = 1;
    f->length_of = f->length_from = -1;
    if (order_at(c, o, path, &f->little) < 0)
        return -1;
    double v = 0;
    bool has = false;
    if (num_at(c, o, path, "length", &v, &has) < 0)
        return -1;
    sub(pt, sizeof pt, path, "length");
    if (f->type == PF_STRING || f->type == PF_HEX) {
        if (!has)
            return fail(c, pt, "missing (a %s has a fixed length)", f->type == PF_STRING ? "string" : "hex");
        if (v < 1 || v > PC_MAX_MSG || v != floor(v))
            return fail(c, pt, "expected an integer 1..%d", PC_MAX_MSG);
        f->len = (uint32_t)v;
    } else if (has) {
        return fail(c, pt, "only a string or hex field has a length (varstring/varhex: lengthOf on their length field)");
    }
    bool numeric = is_int(f->type) || f->type == PF_FLOAT;
    bool has_scale = false, has_add = false;
    if (num_at(c, o, path, "scale", &f->scale, &has_scale) < 0 || num_at(c, o, path, "add", &f->add, &has_add) < 0)
        return -1;
    if ((has_scale || has_add) && !numeric) {
        sub(pt, sizeof pt, path, has_scale ? "scale" : "add");
        return fail(c, pt, "only a number field has a scale or add");
    }
    if (has_scale && !(f->scale > 0)) {
        sub(pt, sizeof pt, path, "scale");
        return fail(c, pt, "must be positive");
    }
    const cJSON *role = cJSON_GetObjectItemCaseSensitive(o, "role");
    const cJSON *val = cJSON_GetObjectItemCaseSensitive(o, "value");
    const cJSON *lof = cJSON_GetObjectItemCaseSensitive(o, "lengthOf");
    f->role = PR_DATA;
    if (role) {
        sub(pt, sizeof pt, path, "role");
        if (!cJSON_IsString(role) || (strcmp(role->valuestring, "mid") != 0 && strcmp(role->valuestring, "errcode") != 0))
            return fail(c, pt, "expected \"mid\" or \"errcode\"");
        f->role = strcmp(role->valuestring, "mid") == 0 ? PR_MID : PR_ERRCODE;
        if (!is_int(f->type) || has_scale || has_add)
            return fail(c, pt, "a %s is a plain integer field (uint8..int64, no scale)", role->valuestring);
        if (f->role == PR_MID && m->kind == PK_REPORT)
            return fail(c, pt, "a report carries no mid (commands and responses do)");
        if (f->role == PR_ERRCODE && m->kind != PK_RESPONSE)
            return fail(c, pt, "only a response carries an errcode");
        for (int k = 0; k < m->n_fields; k++)
            if (m->fields[k].role == f->role)
                return fail(c, pt, "a second %s (fields[%d] is one)", role->valuestring, k - (m->has_id ? 1 : 0));
    }
    if (val) {
        sub(pt, sizeof pt, path, "value");
        if (role || lof)
            return fail(c, pt, "a constant has no role or lengthOf");
        if (!is_int(f->type) || has_scale || has_add || !cJSON_IsNumber(val) || !int_fits(f->type, f->len, val->valuedouble))
            return fail(c, pt, "a constant is an integer that fits its field (uint8..int64, no scale)");
        f->role = PR_CONST;
        f->cval = (uint64_t)(int64_t)val->valuedouble;
        if (f->type == PF_UINT)
            f->cval = (uint64_t)val->valuedouble;
    }
    if (lof) {
        sub(pt, sizeof pt, path, "lengthOf");
        if (role)
            return fail(c, pt, "a length field has no role");
        if (!cJSON_IsString(lof))
            return fail(c, pt, "expected the name of a later varstring or varhex field");
        if (f->type != PF_UINT || has_scale || has_add)
            return fail(c, pt, "a length field is a plain unsigned integer (uint8..uint64)");
        f->role = PR_LENGTH; /* length_of is resolved once every field is read */
    }
    if (f->role == PR_DATA) {
        const struct pc_prop *a;
        int n;
        model_of(p, m, &a, &n);
        const struct pc_prop *pr = prop_named(a, n, f->name);
        sub(pt, sizeof pt, path, "name");
        if (!pr)
            return fail(c, pt, "\"%s\" is not a %s of %s%s%s", f->name,
                        m->kind == PK_REPORT ? "property" : m->kind == PK_COMMAND ? "para" : "response field",
                        m->kind == PK_REPORT ? "service " : "command ",
                        m->kind == PK_REPORT ? p->services[m->service].id
                                             : p->services[m->service].cmds[m->command].name,
                        m->kind == PK_REPORT ? "" : " (its paras or responses)");
        f->prop = pr;
        bool ok = (pr->type == PD_INT && is_int(f->type)) ||
                  (pr->type == PD_DECIMAL && (is_int(f->type) || f->type == PF_FLOAT)) ||
                  (pr->type == PD_BOOL && (f->type == PF_BOOL || (f->type == PF_UINT && f->len == 1))) ||
                  ((pr->type == PD_STRING || pr->type == PD_DATETIME) &&
                   (f->type == PF_STRING || f->type == PF_VARSTRING || f->type == PF_HEX || f->type == PF_VARHEX));
        if (!ok) {
            sub(pt, sizeof pt, path, "type");
            return fail(c, pt, "a %s field cannot carry %s, a %s",
                        cJSON_GetObjectItemCaseSensitive(o, "type")->valuestring, pr->name, dtype_names[pr->type]);
        }
        if (pr->type == PD_INT && (has_scale || has_add) && (f->scale != floor(f->scale) || f->add != floor(f->add))) {
            sub(pt, sizeof pt, path, has_scale ? "scale" : "add");
            return fail(c, pt, "%s is an int: its scale and add are integers", pr->name);
        }
    }
    return 0;
}

static const char *const kind_names[] = {"report", "command", "response"};

const char *pc_kind_name(enum pc_kind k) { return (unsigned)k < 3 ? kind_names[k] : "?"; }

static int message_parse(struct pp *c, struct pc_product *p, const cJSON *o, const char *path, bool little,
                         const struct pc_field *idf, struct pc_message *m)
{
    static const char *const known[] = {"name", "kind", "serviceId", "command", "messageId", "fields", "description"};
    char pt[300];
    if (members(c, o, path, known, sizeof known / sizeof *known) < 0 || name_at(c, o, path, "name", true, m->name) < 0)
        return -1;
    sub(pt, sizeof pt, path, "kind");
    const cJSON *k = cJSON_GetObjectItemCaseSensitive(o, "kind");
    int kind = -1;
    for (int i = 0; cJSON_IsString(k) && i < 3; i++)
        if (strcmp(k->valuestring, kind_names[i]) == 0)
            kind = i;
    if (kind < 0)
        return fail(c, pt, k ? "expected \"report\", \"command\" or \"response\"" : "missing");
    m->kind = (enum pc_kind)kind;
    char sid[PC_NAME_MAX], cmd[PC_NAME_MAX];
    if (name_at(c, o, path, "serviceId", true, sid) < 0 || name_at(c, o, path, "command", false, cmd) < 0)
        return -1;
    sub(pt, sizeof pt, path, "serviceId");
    if ((m->service = pc_service_index(p, sid)) < 0)
        return fail(c, pt, "\"%s\" is not a service of the product", sid);
    sub(pt, sizeof pt, path, "command");
    if (m->kind == PK_REPORT) {
        if (cmd[0])
            return fail(c, pt, "a report carries properties, not a command");
        m->command = -1;
    } else {
        if (!cmd[0])
            return fail(c, pt, "missing (a %s is of a command)", kind_names[kind]);
        if ((m->command = pc_command_index(&p->services[m->service], cmd)) < 0)
            return fail(c, pt, "\"%s\" is not a command of service %s", cmd, sid);
    }
    sub(pt, sizeof pt, path, "messageId");
    const cJSON *id = cJSON_GetObjectItemCaseSensitive(o, "messageId");
    if (idf && !id)
        return fail(c, pt, "missing (the codec has a messageId field)");
    if (!idf && id)
        return fail(c, pt, "the codec has no messageId field (codec.messageId)");
    const cJSON *fa = cJSON_GetObjectItemCaseSensitive(o, "fields");
    sub(pt, sizeof pt, path, "fields");
    if (!cJSON_IsArray(fa) || cJSON_GetArraySize(fa) > 1024)
        return fail(c, pt, fa ? "expected an array of at most 1024 fields" : "missing");
    int n = cJSON_GetArraySize(fa) + (idf ? 1 : 0);
    if (!(m->fields = calloc((size_t)(n ? n : 1), sizeof *m->fields)))
        return fail(c, pt, "out of memory");
    if (idf) {
        if (!cJSON_IsNumber(id) || !int_fits(PF_UINT, idf->len, id->valuedouble)) {
            sub(pt, sizeof pt, path, "messageId");
            return fail(c, pt, "expected an integer that fits the messageId field (%u byte%s)", idf->len,
                        idf->len > 1 ? "s" : "");
        }
        m->has_id = true;
        m->id = (uint64_t)id->valuedouble;
        m->fields[0] = *idf;
        m->fields[0].cval = m->id;
        m->n_fields = 1;
    }
    const cJSON *e;
    int i = 0;
    cJSON_ArrayForEach(e, fa)
    {
        char pe[320];
        idx(pe, sizeof pe, path, "fields", i);
        struct pc_field *f = &m->fields[m->n_fields];
        if (field_parse(c, p, m, e, pe, little, f) < 0)
            return -1;
        for (int q = 0; q < m->n_fields; q++)
            if (strcmp(m->fields[q].name, f->name) == 0)
                return fail(c, pe, "a second field \"%s\"", f->name);
        m->n_fields++;
        i++;
    }
    /* lengths: each length field names a later varstring/varhex, each of those has one */
    i = 0;
    cJSON_ArrayForEach(e, fa)
    {
        int fi = i + (idf ? 1 : 0);
        struct pc_field *f = &m->fields[fi];
        char pe[320], pl[340];
        idx(pe, sizeof pe, path, "fields", i);
        sub(pl, sizeof pl, pe, "lengthOf");
        if (f->role == PR_LENGTH) {
            const char *target = cJSON_GetObjectItemCaseSensitive(e, "lengthOf")->valuestring;
            int t = -1;
            for (int q = fi + 1; q < m->n_fields && t < 0; q++)
                if (strcmp(m->fields[q].name, target) == 0)
                    t = q;
            if (t < 0 || (m->fields[t].type != PF_VARSTRING && m->fields[t].type != PF_VARHEX))
                return fail(c, pl, "\"%s\" is not a varstring or varhex field after this one", target);
            if (m->fields[t].length_from >= 0)
                return fail(c, pl, "\"%s\" has a length field already", target);
            f->length_of = t;
            m->fields[t].length_from = fi;
        }
        i++;
    }
    for (int q = 0; q < m->n_fields; q++)
        if ((m->fields[q].type == PF_VARSTRING || m->fields[q].type == PF_VARHEX) && m->fields[q].length_from < 0) {
            char pe[320];
            idx(pe, sizeof pe, path, "fields", q - (idf ? 1 : 0));
            return fail(c, pe, "%s has no length field (a uint field before it with \"lengthOf\": \"%s\")",
                        m->fields[q].name, m->fields[q].name);
        }
    /* a command carries every para of its command */
    if (m->kind == PK_COMMAND) {
        const struct pc_command *cm = &p->services[m->service].cmds[m->command];
        for (int a = 0; a < cm->n_paras; a++) {
            int found = 0;
            for (int q = 0; q < m->n_fields && !found; q++)
                found = m->fields[q].role == PR_DATA && m->fields[q].prop == &cm->paras[a];
            if (!found)
                return fail(c, pt, "para %s of command %s has no field", cm->paras[a].name, cm->name);
        }
    }
    return 0;
}

static int codec_parse(struct pp *c, struct pc_product *p, const cJSON *o)
{
    static const char *const known[] = {"byteOrder", "messageId", "messages"};
    if (members(c, o, "codec", known, sizeof known / sizeof *known) < 0)
        return -1;
    bool little = false;
    if (order_at(c, o, "codec", &little) < 0)
        return -1;
    struct pc_field idf = {.role = PR_MESSAGE_ID, .scale = 1, .length_of = -1, .length_from = -1};
    snprintf(idf.name, sizeof idf.name, "messageId");
    const cJSON *mid = cJSON_GetObjectItemCaseSensitive(o, "messageId");
    if (mid) {
        static const char *const mk[] = {"type", "byteOrder"};
        if (members(c, mid, "codec.messageId", mk, 2) < 0 || ftype_at(c, mid, "codec.messageId", &idf) < 0)
            return -1;
        if (idf.type != PF_UINT)
            return fail(c, "codec.messageId.type", "expected uint8, uint16, uint24, uint32 or uint64");
        idf.little = little;
        if (order_at(c, mid, "codec.messageId", &idf.little) < 0)
            return -1;
    }
    const cJSON *a = cJSON_GetObjectItemCaseSensitive(o, "messages");
    if (!cJSON_IsArray(a) || cJSON_GetArraySize(a) < 1 || cJSON_GetArraySize(a) > 1024)
        return fail(c, "codec.messages", a ? "expected an array of 1 to 1024 messages" : "missing");
    p->messages = calloc((size_t)cJSON_GetArraySize(a), sizeof *p->messages);
    if (!p->messages)
        return fail(c, "codec.messages", "out of memory");
    const cJSON *e;
    int i = 0, up = 0, down = 0;
    cJSON_ArrayForEach(e, a)
    {
        char pe[64];
        snprintf(pe, sizeof pe, "codec.messages[%d]", i);
        struct pc_message *m = &p->messages[i];
        p->n_messages = i + 1;
        if (message_parse(c, p, e, pe, little, mid ? &idf : NULL, m) < 0)
            return -1;
        for (int k = 0; k < i; k++) {
            const struct pc_message *o2 = &p->messages[k];
            if (strcmp(o2->name, m->name) == 0)
                return fail(c, pe, "a second message \"%s\"", m->name);
            bool same_way = (o2->kind == PK_COMMAND) == (m->kind == PK_COMMAND);
            if (mid && same_way && o2->id == m->id)
                return fail(c, pe, "messageId %llu is message %s's too (the same direction)",
                            (unsigned long long)m->id, o2->name);
            if (m->kind != PK_REPORT && o2->kind == m->kind && o2->service == m->service && o2->command == m->command)
                return fail(c, pe, "a second %s of command %s (message %s is one)", kind_names[m->kind],
                            p->services[m->service].cmds[m->command].name, o2->name);
        }
        *(m->kind == PK_COMMAND ? &down : &up) += 1;
        i++;
    }
    if (!mid && (up > 1 || down > 1))
        return fail(c, "codec.messageId", "missing: %d messages go %s, and only a messageId tells them apart",
                    up > 1 ? up : down, up > 1 ? "from the device" : "to the device");
    return 0;
}

int pc_service_index(const struct pc_product *p, const char *service_id)
{
    for (int i = 0; i < p->n_services; i++)
        if (strcmp(p->services[i].id, service_id) == 0)
            return i;
    return -1;
}

int pc_command_index(const struct pc_service *s, const char *name)
{
    for (int i = 0; i < s->n_cmds; i++)
        if (strcmp(s->cmds[i].name, name) == 0)
            return i;
    return -1;
}

int pc_message_for(const struct pc_product *p, enum pc_kind kind, int si, int ci)
{
    for (int i = 0; i < p->n_messages; i++) {
        const struct pc_message *m = &p->messages[i];
        if (m->kind == kind && m->service == si && (kind == PK_REPORT || m->command == ci))
            return i;
    }
    return -1;
}

int pc_product_parse(const cJSON *j, const char *path, struct pc_product **out, char *err, size_t errcap)
{
    struct pp c = {.file = path, .err = err, .cap = errcap};
    *out = NULL;
    static const char *const known[] = {"product", "services", "codec", "description"};
    if (members(&c, j, "", known, sizeof known / sizeof *known) < 0)
        return -1;
    struct pc_product *p = calloc(1, sizeof *p);
    if (!p)
        return fail(&c, "", "out of memory");
    const cJSON *pr = cJSON_GetObjectItemCaseSensitive(j, "product");
    static const char *const pk[] = {"productId", "manufacturerId", "manufacturerName", "deviceType", "model",
                                     "protocolType"};
    int rc = -1;
    if (!pr) {
        fail(&c, "product", "missing");
        goto out;
    }
    if (members(&c, pr, "product", pk, 6) < 0 || name_at(&c, pr, "product", "productId", true, p->id) < 0 ||
        name_at(&c, pr, "product", "manufacturerId", true, p->manufacturer_id) < 0 ||
        text_at(&c, pr, "product", "manufacturerName", p->manufacturer_name, sizeof p->manufacturer_name) < 0 ||
        name_at(&c, pr, "product", "deviceType", true, p->device_type) < 0 ||
        name_at(&c, pr, "product", "model", true, p->model) < 0 ||
        text_at(&c, pr, "product", "protocolType", p->protocol, sizeof p->protocol) < 0)
        goto out;
    if (strcmp(p->protocol, "CoAP") != 0 && strcmp(p->protocol, "LWM2M") != 0 && strcmp(p->protocol, "MQTT") != 0 &&
        strcmp(p->protocol, "JT808") != 0) {
        fail(&c, "product.protocolType", "%s%s%s: expected CoAP, LWM2M, MQTT or JT808", p->protocol[0] ? "\"" : "",
             p->protocol[0] ? p->protocol : "missing", p->protocol[0] ? "\"" : "");
        goto out;
    }
    const cJSON *sv = cJSON_GetObjectItemCaseSensitive(j, "services");
    if (!cJSON_IsArray(sv) || cJSON_GetArraySize(sv) < 1 || cJSON_GetArraySize(sv) > 256) {
        fail(&c, "services", sv ? "expected an array of 1 to 256 services" : "missing");
        goto out;
    }
    if (!(p->services = calloc((size_t)cJSON_GetArraySize(sv), sizeof *p->services))) {
        fail(&c, "services", "out of memory");
        goto out;
    }
    const cJSON *e;
    int i = 0;
    cJSON_ArrayForEach(e, sv)
    {
        char pe[64];
        snprintf(pe, sizeof pe, "services[%d]", i);
        p->n_services = i + 1;
        if (service_parse(&c, e, pe, &p->services[i]) < 0)
            goto out;
        for (int k = 0; k < i; k++)
            if (strcmp(p->services[k].id, p->services[i].id) == 0) {
                fail(&c, pe, "service \"%s\" twice", p->services[i].id);
                goto out;
            }
        i++;
    }
    const cJSON *cd = cJSON_GetObjectItemCaseSensitive(j, "codec");
    if (cd && codec_parse(&c, p, cd) < 0)
        goto out;
    rc = 0;
out:
    if (rc < 0) {
        pc_product_free(p);
        return -1;
    }
    *out = p;
    return 0;
}

int pc_product_parse_text(const char *text, size_t len, const char *path, struct pc_product **out, char *err,
                          size_t errcap)
{
    const char *end = NULL;
    cJSON *j = cJSON_ParseWithLengthOpts(text, len, &end, 0);
    if (!j) {
        size_t at = end && end >= text ? (size_t)(end - text) : 0;
        size_t line = 1, col = 1;
        for (size_t i = 0; i < at && i < len; i++) {
            if (text[i] == '\n') {
                line++;
                col = 1;
            } else {
                col++;
            }
        }
        snprintf(err, errcap, "%s:%zu:%zu: not JSON", path, line, col);
        *out = NULL;
        return -1;
    }
    int rc = pc_product_parse(j, path, out, err, errcap);
    cJSON_Delete(j);
    return rc;
}

static void props_free(struct pc_prop *a, int n)
{
    for (int i = 0; i < n; i++) {
        free(a[i].enums);
        for (int k = 0; a[i].senums && k < a[i].n_enum; k++)
            free(a[i].senums[k]);
        free(a[i].senums);
    }
    free(a);
}

void pc_product_free(struct pc_product *p)
{
    if (!p)
        return;
    for (int i = 0; i < p->n_services; i++) {
        struct pc_service *s = &p->services[i];
        props_free(s->props, s->n_props);
        for (int k = 0; k < s->n_cmds; k++) {
            props_free(s->cmds[k].paras, s->cmds[k].n_paras);
            props_free(s->cmds[k].resps, s->cmds[k].n_resps);
        }
        free(s->cmds);
    }
    free(p->services);
    for (int i = 0; i < p->n_messages; i++)
        free(p->messages[i].fields);
    free(p->messages);
    free(p);
}
