/* JT/T 808 message bodies, both ways, dispatched on msg_id and the header version.
 * Location bodies live in jt808_loc.c and parameter lists in jt808_param.c.
 * Every layout is read to its end; bytes left over are a trailing-bytes deviation,
 * kept in the raw body. */
#include <string.h>

#include "sim/proto/jt808.h"
#include "sim/proto/jt808_internal.h"
#include "sim/proto/jt808_layout_int.h"

/* --- 0x0001 / 0x8001 ----------------------------------------------------- */

static enum jt808_rc gen_resp_read(struct jt808_rd *r, struct jt808_gen_resp *b)
{
    JT808_TRY(jt808_rd_u16(r, &b->ack_serial, "body.ack_serial"));
    JT808_TRY(jt808_rd_u16(r, &b->ack_id, "body.ack_id"));
    JT808_TRY(jt808_rd_u8(r, &b->result, "body.result"));
    return jt808_rd_end(r);
}

static enum jt808_rc gen_resp_write(struct jt808_wr *w, const struct jt808_gen_resp *b)
{
    JT808_TRY(jt808_wr_u16(w, b->ack_serial, "body.ack_serial"));
    JT808_TRY(jt808_wr_u16(w, b->ack_id, "body.ack_id"));
    return jt808_wr_u8(w, b->result, "body.result");
}

/* --- 0x0100 --------------------------------------------------------------- */

static const struct {
    uint8_t manufacturer, model, terminal_id;
} reg_sizes[] = {
    [JT808_REG_2011] = {5, 8, 7},
    [JT808_REG_2013] = {5, 20, 7},
    [JT808_REG_2019] = {11, 30, 30},
};

/* Fixed part of the 2013 layout: a non-2019 body shorter than this is 2011. */
#define REG_2013_MIN 37

static enum jt808_rc register_read(struct jt808_rd *r, enum jt808_version v,
                                   struct jt808_register *b)
{
    if (v == JT808_V2019)
        b->layout = JT808_REG_2019;
    else
        b->layout = r->end - r->pos < REG_2013_MIN ? JT808_REG_2011 : JT808_REG_2013;
    JT808_TRY(jt808_rd_u16(r, &b->province, "body.province"));
    JT808_TRY(jt808_rd_u16(r, &b->city, "body.city"));
    JT808_TRY(jt808_rd_fixed(r, reg_sizes[b->layout].manufacturer, b->manufacturer,
                             sizeof b->manufacturer, "body.manufacturer"));
    JT808_TRY(jt808_rd_fixed(r, reg_sizes[b->layout].model, b->model, sizeof b->model,
                             "body.model"));
    JT808_TRY(jt808_rd_fixed(r, reg_sizes[b->layout].terminal_id, b->terminal_id,
                             sizeof b->terminal_id, "body.terminal_id"));
    JT808_TRY(jt808_rd_u8(r, &b->plate_color, "body.plate_color"));
    return jt808_rd_string(r, r->end - r->pos, b->plate, sizeof b->plate, "body.plate");
}

static enum jt808_rc register_write(struct jt808_wr *w, enum jt808_version v,
                                    const struct jt808_register *b)
{
    /* The layout must be the one a decoder would detect, or the frame lies. */
    if ((unsigned)b->layout > JT808_REG_2019 || (b->layout == JT808_REG_2019) != (v == JT808_V2019))
        return jt808_fail(w->err, JT808_E_VALUE, w->pos, "body.layout");
    size_t start = w->pos;
    JT808_TRY(jt808_wr_u16(w, b->province, "body.province"));
    JT808_TRY(jt808_wr_u16(w, b->city, "body.city"));
    JT808_TRY(jt808_wr_fixed(w, b->manufacturer, reg_sizes[b->layout].manufacturer,
                             "body.manufacturer"));
    JT808_TRY(jt808_wr_fixed(w, b->model, reg_sizes[b->layout].model, "body.model"));
    JT808_TRY(jt808_wr_fixed(w, b->terminal_id, reg_sizes[b->layout].terminal_id,
                             "body.terminal_id"));
    JT808_TRY(jt808_wr_u8(w, b->plate_color, "body.plate_color"));
    size_t plate_at = w->pos;
    JT808_TRY(jt808_wr_string(w, b->plate, JT808_MAX_BODY, NULL, "body.plate"));
    if (b->layout == JT808_REG_2011 && w->pos - start >= REG_2013_MIN)
        return jt808_fail(w->err, JT808_E_VALUE, plate_at, "body.plate");
    return JT808_OK;
}

/* --- 0x8100 --------------------------------------------------------------- */

static enum jt808_rc register_resp_read(struct jt808_rd *r, struct jt808_register_resp *b)
{
    JT808_TRY(jt808_rd_u16(r, &b->ack_serial, "body.ack_serial"));
    JT808_TRY(jt808_rd_u8(r, &b->result, "body.result"));
    b->auth_code[0] = '\0';
    if (b->result != 0)
        return jt808_rd_end(r);
    return jt808_rd_string(r, r->end - r->pos, b->auth_code, sizeof b->auth_code,
                           "body.auth_code");
}

static enum jt808_rc register_resp_write(struct jt808_wr *w, const struct jt808_register_resp *b)
{
    JT808_TRY(jt808_wr_u16(w, b->ack_serial, "body.ack_serial"));
    JT808_TRY(jt808_wr_u8(w, b->result, "body.result"));
    if (b->result != 0)
        return JT808_OK;
    return jt808_wr_string(w, b->auth_code, JT808_MAX_BODY, NULL, "body.auth_code");
}

/* --- 0x0102 --------------------------------------------------------------- */

static enum jt808_rc auth_read(struct jt808_rd *r, enum jt808_version v, struct jt808_auth *b)
{
    b->imei[0] = b->sw_version[0] = '\0';
    if (v != JT808_V2019)
        return jt808_rd_string(r, r->end - r->pos, b->auth_code, sizeof b->auth_code,
                               "body.auth_code");
    uint8_t n;
    JT808_TRY(jt808_rd_u8(r, &n, "body.auth_code_len"));
    JT808_TRY(jt808_rd_string(r, n, b->auth_code, sizeof b->auth_code, "body.auth_code"));
    JT808_TRY(jt808_rd_fixed(r, 15, b->imei, sizeof b->imei, "body.imei"));
    JT808_TRY(jt808_rd_fixed(r, 20, b->sw_version, sizeof b->sw_version, "body.sw_version"));
    return jt808_rd_end(r);
}

static enum jt808_rc auth_write(struct jt808_wr *w, enum jt808_version v, const struct jt808_auth *b)
{
    if (v != JT808_V2019)
        return jt808_wr_string(w, b->auth_code, JT808_MAX_BODY, NULL, "body.auth_code");
    size_t len_at = w->pos, n = 0;
    JT808_TRY(jt808_wr_u8(w, 0, "body.auth_code_len"));
    JT808_TRY(jt808_wr_string(w, b->auth_code, 255, &n, "body.auth_code"));
    w->p[len_at] = (uint8_t)n;
    JT808_TRY(jt808_wr_fixed(w, b->imei, 15, "body.imei"));
    return jt808_wr_fixed(w, b->sw_version, 20, "body.sw_version");
}

/* --- 0x0201 / 0x0704 ------------------------------------------------------ */

static enum jt808_rc loc_resp_read(struct jt808_rd *r, struct jt808_location_resp *b)
{
    JT808_TRY(jt808_rd_u16(r, &b->ack_serial, "body.ack_serial"));
    return jt808_loc_read(r, &b->loc, &jt808_loc_names_0201);
}

static enum jt808_rc loc_resp_write(struct jt808_wr *w, const struct jt808_location_resp *b)
{
    JT808_TRY(jt808_wr_u16(w, b->ack_serial, "body.ack_serial"));
    return jt808_loc_write(w, &b->loc, &jt808_loc_names_0201);
}

static enum jt808_rc batch_read(struct jt808_rd *r, struct jt808_batch *b)
{
    size_t count_at = r->pos;
    JT808_TRY(jt808_rd_u16(r, &b->count, "body.count"));
    JT808_TRY(jt808_rd_u8(r, &b->type, "body.type"));
    b->n_locs = 0;
    b->locs = NULL;
    /* Each location takes its length W and a 28-byte fixed part: no more fit. */
    size_t fit = (r->end - r->pos) / 30, want = b->count < fit ? b->count : fit;
    if (want && !(b->locs = jt808_rd_alloc(r, want * sizeof *b->locs, "body.locations")))
        return JT808_E_NOSPACE;
    for (unsigned i = 0; i < b->count; i++) {
        if (r->pos == r->end) {
            jt808_rd_deviate(r, JT808_DEV_COUNT_OVERRUN, count_at, "body.count");
            break;
        }
        size_t len_at = r->pos;
        uint16_t len;
        if (r->end - r->pos < 2 || (len = (uint16_t)(r->p[r->pos] << 8 | r->p[r->pos + 1]),
                                    r->end - r->pos - 2 < len)) {
            jt808_rd_deviate(r, JT808_DEV_ITEM_TRUNCATED, len_at, "body.locations.len");
            r->pos = r->end;
            break;
        }
        r->pos += 2;
        if (b->n_locs == want)  /* cannot happen: a location needs 30 bytes */
            return jt808_fail(r->err, JT808_E_SHORT, r->pos, "body.locations");
        /* Read the item inside its own length so it cannot eat the next one. */
        size_t outer = r->end;
        r->end = r->pos + len;
        enum jt808_rc rc = jt808_loc_read(r, &b->locs[b->n_locs], &jt808_loc_names_0704);
        r->end = outer;
        if (rc != JT808_OK)
            return rc;
        b->n_locs++;
    }
    return jt808_rd_end(r);
}

static enum jt808_rc batch_write(struct jt808_wr *w, const struct jt808_batch *b)
{
    JT808_TRY(jt808_wr_u16(w, b->count ? b->count : b->n_locs, "body.count"));
    JT808_TRY(jt808_wr_u8(w, b->type, "body.type"));
    for (unsigned i = 0; i < b->n_locs; i++) {
        size_t len_at = w->pos;
        JT808_TRY(jt808_wr_u16(w, 0, "body.locations.len"));
        JT808_TRY(jt808_loc_write(w, &b->locs[i], &jt808_loc_names_0704));
        size_t n = w->pos - len_at - 2;
        w->p[len_at] = (uint8_t)(n >> 8);
        w->p[len_at + 1] = (uint8_t)n;
    }
    return JT808_OK;
}

/* --- 0x0104 --------------------------------------------------------------- */

static enum jt808_rc params_resp_read(struct jt808_rd *r, struct jt808_params_resp *b)
{
    JT808_TRY(jt808_rd_u16(r, &b->ack_serial, "body.ack_serial"));
    JT808_TRY(jt808_params_read(r, &b->p));
    return jt808_rd_end(r);
}

static enum jt808_rc params_resp_write(struct jt808_wr *w, const struct jt808_params_resp *b)
{
    JT808_TRY(jt808_wr_u16(w, b->ack_serial, "body.ack_serial"));
    return jt808_params_write(w, &b->p);
}

/* --- 0x8300 (0x8105 is in jt808_ctl.c) ------------------------------------ */

static enum jt808_rc text_read(struct jt808_rd *r, enum jt808_version v, struct jt808_text *b)
{
    JT808_TRY(jt808_rd_u8(r, &b->flag, "body.flag"));
    b->text_type = 0;
    if (v == JT808_V2019)
        JT808_TRY(jt808_rd_u8(r, &b->text_type, "body.text_type"));
    return jt808_rd_string(r, r->end - r->pos, b->text, sizeof b->text, "body.text");
}

static enum jt808_rc text_write(struct jt808_wr *w, enum jt808_version v, const struct jt808_text *b)
{
    JT808_TRY(jt808_wr_u8(w, b->flag, "body.flag"));
    if (v == JT808_V2019)
        JT808_TRY(jt808_wr_u8(w, b->text_type, "body.text_type"));
    return jt808_wr_string(w, b->text, JT808_MAX_BODY, NULL, "body.text");
}

/* --- 0x8108 / 0x0108 ------------------------------------------------------ */

static enum jt808_rc upgrade_read(struct jt808_rd *r, enum jt808_version v, struct jt808_upgrade *b)
{
    uint8_t n;
    JT808_TRY(jt808_rd_u8(r, &b->type, "body.type"));
    JT808_TRY(jt808_rd_fixed(r, v == JT808_V2019 ? 11 : 5, b->manufacturer,
                             sizeof b->manufacturer, "body.manufacturer"));
    JT808_TRY(jt808_rd_u8(r, &n, "body.version_len"));
    JT808_TRY(jt808_rd_string(r, n, b->version, sizeof b->version, "body.version"));
    JT808_TRY(jt808_rd_u32(r, &b->pkg_len, "body.package_len"));
    b->pkg = r->p + r->pos;
    b->pkg_bytes = r->end - r->pos;
    /* Fewer bytes than pkg_len is a fragment's share; more deviates. */
    if (b->pkg_bytes > b->pkg_len) {
        b->pkg_bytes = b->pkg_len;
        r->pos += b->pkg_len;
        return jt808_rd_end(r);
    }
    r->pos = r->end;
    return JT808_OK;
}

static enum jt808_rc upgrade_write(struct jt808_wr *w, enum jt808_version v,
                                   const struct jt808_upgrade *b)
{
    JT808_TRY(jt808_wr_u8(w, b->type, "body.type"));
    JT808_TRY(jt808_wr_fixed(w, b->manufacturer, v == JT808_V2019 ? 11 : 5, "body.manufacturer"));
    size_t len_at = w->pos, n = 0;
    JT808_TRY(jt808_wr_u8(w, 0, "body.version_len"));
    JT808_TRY(jt808_wr_string(w, b->version, 255, &n, "body.version"));
    w->p[len_at] = (uint8_t)n;
    if (b->pkg_bytes > b->pkg_len)
        return jt808_fail(w->err, JT808_E_LENGTH, w->pos, "body.package_len");
    JT808_TRY(jt808_wr_u32(w, b->pkg_len, "body.package_len"));
    return jt808_wr_bytes(w, b->pkg, b->pkg_bytes, "body.package");
}

static enum jt808_rc upgrade_result_read(struct jt808_rd *r, struct jt808_upgrade_result *b)
{
    JT808_TRY(jt808_rd_u8(r, &b->type, "body.type"));
    JT808_TRY(jt808_rd_u8(r, &b->result, "body.result"));
    return jt808_rd_end(r);
}

static enum jt808_rc upgrade_result_write(struct jt808_wr *w, const struct jt808_upgrade_result *b)
{
    JT808_TRY(jt808_wr_u8(w, b->type, "body.type"));
    return jt808_wr_u8(w, b->result, "body.result");
}

/* --- dispatch ------------------------------------------------------------- */

enum jt808_rc jt808_body_decode(const uint8_t *body, size_t n, struct jt808_msg *msg,
                                struct jt808_err *err)
{
    msg->devs.n = 0;
    msg->devs.total = 0;
    return jt808_body_read(body, n, msg, err);
}

enum jt808_rc jt808_body_read(const uint8_t *body, size_t n, struct jt808_msg *msg,
                              struct jt808_err *err)
{
    /* Deviations of the frame layer (found before the body) stay; the body's follow. */
    jt808_arena_reset(&msg->arena);
    msg->lay = NULL;
    struct jt808_rd r = {body, 0, n, err, &msg->devs, &msg->arena};
    enum jt808_version v = msg->h.version;
    switch (msg->h.msg_id) {
    case 0x0001:
    case 0x8001: return gen_resp_read(&r, &msg->b.gen_resp);
    case 0x0002:
    case 0x0003:
    case 0x8104:
    case 0x8201: return jt808_rd_end(&r);
    case 0x0100: return register_read(&r, v, &msg->b.reg);
    case 0x8100: return register_resp_read(&r, &msg->b.reg_resp);
    case 0x0102: return auth_read(&r, v, &msg->b.auth);
    case 0x0200: return jt808_loc_read(&r, &msg->b.loc, &jt808_loc_names_0200);
    case 0x0201: return loc_resp_read(&r, &msg->b.loc_resp);
    case 0x0704: return batch_read(&r, &msg->b.batch);
    case 0x8103:
        JT808_TRY(jt808_params_read(&r, &msg->b.params));
        return jt808_rd_end(&r);
    case 0x0104: return params_resp_read(&r, &msg->b.params_resp);
    case 0x8105: return jt808_ctl_read(&r, &msg->b.control);
    case 0x8300: return text_read(&r, v, &msg->b.text);
    case 0x8108: return upgrade_read(&r, v, &msg->b.upgrade);
    case 0x0108: return upgrade_result_read(&r, &msg->b.upgrade_result);
    default: return jt808_lay_read(&r, msg); /* a layout body, or raw only */
    }
}

static enum jt808_rc body_write(struct jt808_wr *w, const struct jt808_msg *msg)
{
    enum jt808_version v = msg->h.version;
    switch (msg->h.msg_id) {
    case 0x0001:
    case 0x8001: return gen_resp_write(w, &msg->b.gen_resp);
    case 0x0002:
    case 0x0003:
    case 0x8104:
    case 0x8201: return JT808_OK;
    case 0x0100: return register_write(w, v, &msg->b.reg);
    case 0x8100: return register_resp_write(w, &msg->b.reg_resp);
    case 0x0102: return auth_write(w, v, &msg->b.auth);
    case 0x0200: return jt808_loc_write(w, &msg->b.loc, &jt808_loc_names_0200);
    case 0x0201: return loc_resp_write(w, &msg->b.loc_resp);
    case 0x0704: return batch_write(w, &msg->b.batch);
    case 0x8103: return jt808_params_write(w, &msg->b.params);
    case 0x0104: return params_resp_write(w, &msg->b.params_resp);
    case 0x8105: return jt808_ctl_write(w, &msg->b.control);
    case 0x8300: return text_write(w, v, &msg->b.text);
    case 0x8108: return upgrade_write(w, v, &msg->b.upgrade);
    case 0x0108: return upgrade_result_write(w, &msg->b.upgrade_result);
    default:
        if (msg->lay && msg->lay->lay->id == msg->h.msg_id)
            return jt808_lay_write(w, msg->lay);
        return jt808_fail(w->err, JT808_E_UNKNOWN_ID, 0, "header.msg_id");
    }
}

enum jt808_rc jt808_body_encode(const struct jt808_msg *msg, uint8_t *out, size_t cap,
                                size_t *out_len, struct jt808_err *err)
{
    struct jt808_wr w = {out, 0, cap, err};
    if (msg->body) {
        JT808_TRY(jt808_wr_bytes(&w, msg->body, msg->body_bytes, "body"));
    } else {
        JT808_TRY(body_write(&w, msg));
    }
    *out_len = w.pos;
    return JT808_OK;
}
