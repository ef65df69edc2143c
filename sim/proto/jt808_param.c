/* Terminal parameters (0x8103 set, 0x0104 query response): the type table the
 * standard gives each id, and the parameter list codec (count B, then id DW, len B,
 * value).  Ids not in the table travel as raw bytes. */
#include <string.h>

#include "sim/proto/jt808.h"
#include "sim/proto/jt808_internal.h"

struct param_def {
    uint32_t id;
    enum jt808_param_type type;
    uint8_t size;       /* JT808_PT_BYTES: the BYTE[n]'s n */
    uint8_t editions;   /* JT808_PE_2013 | JT808_PE_2019: the tables that list it */
    const char *field;  /* names the parameter in errors, e.g. "body.params[0x0001]" */
};

#define BOTH (JT808_PE_2013 | JT808_PE_2019)
#define E19 JT808_PE_2019
#define PD(id_, t_) {id_, JT808_PT_##t_, 0, BOTH, "body.params[" #id_ "]"}
#define PD19(id_, t_) {id_, JT808_PT_##t_, 0, E19, "body.params[" #id_ "]"}
#define PB(id_, n_, e_) {id_, JT808_PT_BYTES, n_, e_, "body.params[" #id_ "]"}

/* JT/T 808-2013 Table 12 and JT/T 808-2019 Table 14 (terminal parameter settings):
 * every id either edition defines, with its type.  Reserved ids and the
 * user-defined range 0xF000-0xFFFF are not listed and travel raw. */
static const struct param_def params[] = {
    PD(0x0001, DWORD),  /* heartbeat interval, s */
    PD(0x0002, DWORD),  /* TCP response timeout, s */
    PD(0x0003, DWORD),  /* TCP retransmissions */
    PD(0x0004, DWORD),  /* UDP response timeout, s */
    PD(0x0005, DWORD),  /* UDP retransmissions */
    PD(0x0006, DWORD),  /* SMS response timeout, s */
    PD(0x0007, DWORD),  /* SMS retransmissions */
    PD(0x0010, STRING), /* main server APN */
    PD(0x0011, STRING), /* main server dial-up user */
    PD(0x0012, STRING), /* main server dial-up password */
    PD(0x0013, STRING), /* main server address (IP or domain; 2019: host:port;...) */
    PD(0x0014, STRING), /* backup server APN */
    PD(0x0015, STRING), /* backup server dial-up user */
    PD(0x0016, STRING), /* backup server dial-up password */
    PD(0x0017, STRING), /* backup server address */
    PD(0x0018, DWORD),  /* server TCP port */
    PD(0x0019, DWORD),  /* server UDP port */
    PD(0x001A, STRING), /* road transport IC card auth server address */
    PD(0x001B, DWORD),  /* IC card auth server TCP port */
    PD(0x001C, DWORD),  /* IC card auth server UDP port */
    PD(0x001D, STRING), /* IC card auth backup server address */
    PD(0x0020, DWORD),  /* location report strategy */
    PD(0x0021, DWORD),  /* location report scheme */
    PD(0x0022, DWORD),  /* report interval while the driver is absent, s */
    PD19(0x0023, STRING), /* slave server APN (empty: the main server's) */
    PD19(0x0024, STRING), /* slave server dial-up user */
    PD19(0x0025, STRING), /* slave server dial-up password */
    PD19(0x0026, STRING), /* slave server backup address (host:port;...) */
    PD(0x0027, DWORD),  /* report interval while sleeping, s */
    PD(0x0028, DWORD),  /* report interval in an emergency alarm, s */
    PD(0x0029, DWORD),  /* default report interval, s */
    PD(0x002C, DWORD),  /* default report distance, m */
    PD(0x002D, DWORD),  /* report distance while the driver is absent, m */
    PD(0x002E, DWORD),  /* report distance while sleeping, m */
    PD(0x002F, DWORD),  /* report distance in an emergency alarm, m */
    PD(0x0030, DWORD),  /* corner retransmission angle, degrees */
    PD(0x0031, WORD),   /* electronic fence radius, m */
    PB(0x0032, 4, E19), /* illegal driving period: start HH MM, end HH MM (BCD) */
    PD(0x0040, STRING), /* monitoring platform phone number */
    PD(0x0041, STRING), /* reset phone number */
    PD(0x0042, STRING), /* factory reset phone number */
    PD(0x0043, STRING), /* monitoring platform SMS number */
    PD(0x0044, STRING), /* SMS text alarm number */
    PD(0x0045, DWORD),  /* call answering strategy */
    PD(0x0046, DWORD),  /* longest call time per call, s */
    PD(0x0047, DWORD),  /* longest call time per month, s */
    PD(0x0048, STRING), /* monitoring phone number */
    PD(0x0049, STRING), /* privileged SMS number */
    PD(0x0050, DWORD),  /* alarm mask word */
    PD(0x0051, DWORD),  /* alarm SMS switch */
    PD(0x0052, DWORD),  /* alarm photo switch */
    PD(0x0053, DWORD),  /* alarm photo storage flags */
    PD(0x0054, DWORD),  /* key alarm flags */
    PD(0x0055, DWORD),  /* maximum speed, km/h */
    PD(0x0056, DWORD),  /* overspeed duration, s */
    PD(0x0057, DWORD),  /* continuous driving time limit, s */
    PD(0x0058, DWORD),  /* driving time per day, s */
    PD(0x0059, DWORD),  /* minimum rest time, s */
    PD(0x005A, DWORD),  /* maximum parking time, s */
    PD(0x005B, WORD),   /* overspeed warning difference, 1/10 km/h */
    PD(0x005C, WORD),   /* fatigue driving warning difference, s */
    PD(0x005D, WORD),   /* collision alarm settings */
    PD(0x005E, WORD),   /* rollover alarm angle, degrees */
    PD(0x0064, DWORD),  /* timed photo control */
    PD(0x0065, DWORD),  /* distance photo control */
    PD(0x0070, DWORD),  /* image quality 1..10 */
    PD(0x0071, DWORD),  /* brightness 0..255 */
    PD(0x0072, DWORD),  /* contrast 0..127 */
    PD(0x0073, DWORD),  /* saturation 0..127 */
    PD(0x0074, DWORD),  /* chroma 0..255 */
    PD(0x0080, DWORD),  /* odometer, 1/10 km */
    PD(0x0081, WORD),   /* province id */
    PD(0x0082, WORD),   /* city id */
    PD(0x0083, STRING), /* licence plate */
    PD(0x0084, BYTE),   /* plate colour */
    PD(0x0090, BYTE),   /* GNSS positioning mode */
    PD(0x0091, BYTE),   /* GNSS baud rate */
    PD(0x0092, BYTE),   /* GNSS output frequency */
    PD(0x0093, DWORD),  /* GNSS sampling frequency, s */
    PD(0x0094, BYTE),   /* GNSS detail upload mode */
    PD(0x0095, DWORD),  /* GNSS detail upload setting */
    PD(0x0100, DWORD),  /* CAN channel 1 collection interval, ms */
    PD(0x0101, WORD),   /* CAN channel 1 upload interval, s */
    PD(0x0102, DWORD),  /* CAN channel 2 collection interval, ms */
    PD(0x0103, WORD),   /* CAN channel 2 upload interval, s */
    PB(0x0110, 8, BOTH), /* CAN id collection setting: interval DWORD, channel/frame/id bits DWORD */
};

/* 0x0111-0x01FF: the other CAN id collection settings, BYTE[8] like 0x0110. */
static const struct param_def can_range = {0, JT808_PT_BYTES, 8, BOTH, "body.params[0x0111-0x01FF]"};

static const struct param_def *param_def(uint32_t id)
{
    if (id >= 0x0111 && id <= 0x01FF)
        return &can_range;
    for (size_t i = 0; i < sizeof params / sizeof params[0]; i++)
        if (params[i].id == id)
            return &params[i];
    return NULL;
}

enum jt808_param_type jt808_param_type_of(uint32_t id)
{
    const struct param_def *d = param_def(id);
    return d ? d->type : JT808_PT_RAW;
}

unsigned jt808_param_editions(uint32_t id)
{
    const struct param_def *d = param_def(id);
    return d ? d->editions : 0;
}

uint8_t jt808_param_size(uint32_t id)
{
    const struct param_def *d = param_def(id);
    if (!d)
        return 0;
    switch (d->type) {
    case JT808_PT_BYTE: return 1;
    case JT808_PT_WORD: return 2;
    case JT808_PT_DWORD: return 4;
    case JT808_PT_BYTES: return d->size;
    default: return 0;
    }
}

static uint8_t type_size(enum jt808_param_type t)
{
    switch (t) {
    case JT808_PT_BYTE: return 1;
    case JT808_PT_WORD: return 2;
    case JT808_PT_DWORD: return 4;
    default: return 0;
    }
}

static const char *param_field(uint32_t id)
{
    const struct param_def *d = param_def(id);
    return d ? d->field : "body.params.value";
}

enum jt808_rc jt808_params_read(struct jt808_rd *r, struct jt808_params *ps)
{
    size_t count_at = r->pos;
    JT808_TRY(jt808_rd_u8(r, &ps->count, "body.count"));
    ps->n_params = 0;
    ps->params = NULL;
    /* Each parameter takes at least id DW and len B: no more than that fit. */
    size_t fit = (r->end - r->pos + 4) / 5, want = ps->count < fit ? ps->count : fit;
    if (want && !(ps->params = jt808_rd_alloc(r, want * sizeof *ps->params, "body.params")))
        return JT808_E_NOSPACE;
    for (unsigned i = 0; i < ps->count; i++) {
        if (r->pos == r->end) {
            jt808_rd_deviate(r, JT808_DEV_COUNT_OVERRUN, count_at, "body.count");
            break;
        }
        struct jt808_param *p = &ps->params[ps->n_params++];
        size_t at = r->pos;
        if (r->end - r->pos < 5) {
            /* Not even id and len: keep what is there raw. */
            jt808_rd_deviate(r, JT808_DEV_ITEM_TRUNCATED, at, "body.params.id");
            p->type = JT808_PT_RAW;
            p->len = (uint8_t)(r->end - r->pos);
            memcpy(p->raw, r->p + r->pos, p->len);
            r->pos = r->end;
            break;
        }
        JT808_TRY(jt808_rd_u32(r, &p->id, "body.params.id"));
        size_t len_at = r->pos;
        JT808_TRY(jt808_rd_u8(r, &p->len, "body.params.len"));
        const char *field = param_field(p->id);
        p->type = jt808_param_type_of(p->id);
        p->num = 0;
        p->str[0] = '\0';
        uint8_t size = jt808_param_size(p->id);
        size_t have = r->end - r->pos;
        if (have < p->len) {
            jt808_rd_deviate(r, JT808_DEV_ITEM_TRUNCATED, len_at, field);
            p->len = (uint8_t)have;
            p->type = JT808_PT_RAW;
        } else if (size && p->len != size) {
            jt808_rd_deviate(r, JT808_DEV_PARAM_LENGTH, len_at, field);
            p->type = JT808_PT_RAW;
        }
        const uint8_t *d = r->p + r->pos;
        memcpy(p->raw, d, p->len);
        if (p->type == JT808_PT_STRING) {
            JT808_TRY(jt808_rd_string(r, p->len, p->str, sizeof p->str, field));
            continue;
        }
        if (p->type != JT808_PT_RAW && p->type != JT808_PT_BYTES)
            for (uint8_t b = 0; b < size; b++)
                p->num = p->num << 8 | d[b];
        r->pos += p->len;
    }
    return JT808_OK;
}

enum jt808_rc jt808_params_write(struct jt808_wr *w, const struct jt808_params *ps)
{
    if (ps->n_params && !ps->params)
        return jt808_fail(w->err, JT808_E_VALUE, w->pos, "body.params");
    JT808_TRY(jt808_wr_u8(w, ps->count ? ps->count : ps->n_params, "body.count"));
    for (unsigned i = 0; i < ps->n_params; i++) {
        const struct jt808_param *p = &ps->params[i];
        const char *field = param_field(p->id);
        JT808_TRY(jt808_wr_u32(w, p->id, "body.params.id"));
        size_t len_at = w->pos;
        JT808_TRY(jt808_wr_u8(w, 0, "body.params.len"));
        uint8_t size = type_size(p->type);
        size_t n = 0;
        switch (p->type) {
        case JT808_PT_BYTE:
        case JT808_PT_WORD:
        case JT808_PT_DWORD:
            /* len 0 means "the type's size"; anything else must agree with it. */
            if (p->len != 0 && p->len != size)
                return jt808_fail(w->err, JT808_E_LENGTH, len_at, field);
            if (size < 4 && p->num >> (8 * size) != 0)
                return jt808_fail(w->err, JT808_E_VALUE, w->pos, field);
            JT808_TRY(jt808_wr_need(w, size, field));
            for (unsigned b = 0; b < size; b++)
                w->p[w->pos++] = (uint8_t)(p->num >> (8 * (size - 1 - b)));
            n = size;
            break;
        case JT808_PT_STRING:
            JT808_TRY(jt808_wr_string(w, p->str, 255, &n, field));
            if (p->len != 0 && p->len != n)
                return jt808_fail(w->err, JT808_E_LENGTH, len_at, field);
            break;
        case JT808_PT_BYTES:
            /* BYTE[n]: exactly the n bytes the table gives the id */
            size = jt808_param_size(p->id);
            if (p->len != size)
                return jt808_fail(w->err, JT808_E_LENGTH, len_at, field);
            JT808_TRY(jt808_wr_bytes(w, p->raw, size, field));
            n = size;
            break;
        case JT808_PT_RAW:
            /* Raw values go out as given, whatever the id. */
            JT808_TRY(jt808_wr_bytes(w, p->raw, p->len, field));
            n = p->len;
            break;
        default:
            return jt808_fail(w->err, JT808_E_VALUE, len_at, field);
        }
        w->p[len_at] = (uint8_t)n;
    }
    return JT808_OK;
}
