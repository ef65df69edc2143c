/* JT/T 808 message <-> JSON.  The shape (from_json accepts exactly these fields,
 * and everything to_json prints):
 *
 * {"msg_id":"0x0200",              hex string, 4 digits
 *  "name":"location report",       printed when the id has a name; checked if given
 *  "version":"2013"|"2019",        header version flag (2011 frames read as "2013")
 *  "proto_version":1,              2019 only (default 1)
 *  "phone":"013912345678",         12 digits (2013) or 20 (2019); shorter is left-padded
 *  "serial":N, "encryption":N,     (default 0)
 *  "decrypted":true                  an RSA body (encryption 1) read or written as its
 *                                    plaintext: decoded with the key, or encrypted when sent
 *  "reserved":1                      only when bit 15 of the properties is set
 *  "subpackage":{"total":N,"index":N},        only when bit 13 is set
 *  "body":{...} | "body_hex":"0102..."}       body for typed ids; body_hex for untyped
 *                                             ids, fragments and encrypted bodies
 *
 * body by msg_id (numbers are JSON numbers; ids are hex strings; bytes are hex):
 *  0x0001, 0x8001  {"ack_serial":N,"ack_id":"0x0200","result":N}
 *  0x0002, 0x0003, 0x8104, 0x8201   {}
 *  0x0100  {"layout":"2011"|"2013"|"2019","province":N,"city":N,"manufacturer":"...",
 *           "model":"...","terminal_id":"...","plate_color":N,"plate":"京A12345"}
 *  0x8100  {"ack_serial":N,"result":N,"auth_code":"..." (only when result is 0)}
 *  0x0102  {"auth_code":"..."}  2019 adds "imei":"...","sw_version":"..."
 *  0x0200  location: {"alarm":N,"status":N,"lat":N,"lon":N,"altitude":N,"speed":N,
 *           "direction":N,"time":"YYMMDDhhmmss","items":[item...]}
 *           item: {"id":"0x01","len":4,"value":N} (known ids)
 *               | {"id":"0xE1","len":3,"raw":"010203"} (any id, sent as given)
 *           lat/lon are the raw 1e-6 degree integers; "items" and "len" may be
 *           left out when writing by hand.
 *  0x0201  {"ack_serial":N,"location":{location}}
 *  0x0704  {"count":N,"type":N,"locations":[location...]}   (count optional on input)
 *  0x8103  {"count":N,"params":[param...]}                   (count optional on input)
 *  0x0104  {"ack_serial":N,"count":N,"params":[param...]}
 *           param: {"id":"0x0001","len":4,"value":30} (BYTE/WORD/DWORD ids)
 *                | {"id":"0x0013","len":11,"value":"example.com"} (STRING ids)
 *                | {"id":"0xF001","len":2,"raw":"0102"} (any id, sent as given)
 *  0x8105  commands 1, 2: {"command":1,"url":"...","apn":"...",...,"tcp_port":N,...}
 *           (jt808_ctl_json.c); others {"command":N,"params":"..."}
 *  0x8300  {"flag":N,"text":"..."}  2019 adds "text_type":N
 *  0x8108  {"type":N,"manufacturer":"...","version":"...","package_len":N,
 *           "package_hex":"..."}
 *  0x0108  {"type":N,"result":N}
 *
 * body_hex on a typed id is sent verbatim (to build malformed bodies on purpose);
 * when it decodes, the typed fields are filled in as well.
 *
 * This file writes the shape (jt808_to_json, for decode); jt808_json_read.c reads
 * it back and checks it (jt808_from_json, for encode). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim/proto/hex.h"
#include "sim/proto/jt808_json.h"
#include "sim/proto/jt808_internal.h"
#include "sim/proto/jt808_layout_int.h"

/* --- to JSON --------------------------------------------------------------- */

static void add_hex_id(cJSON *o, const char *key, uint32_t v, int digits)
{
    char s[16];
    snprintf(s, sizeof s, "0x%0*X", digits, (unsigned)v);
    cJSON_AddStringToObject(o, key, s);
}

static void add_hex_bytes(cJSON *o, const char *key, const uint8_t *p, size_t n)
{
    char small[520];
    char *s = n * 2 + 1 <= sizeof small ? small : malloc(n * 2 + 1);
    if (!s)
        return;
    hex_encode(p, n, s, n * 2 + 1);
    cJSON_AddStringToObject(o, key, s);
    if (s != small)
        free(s);
}

static void add_num(cJSON *o, const char *key, double v)
{
    cJSON_AddNumberToObject(o, key, v);
}

static cJSON *loc_to_json(const struct jt808_location *l)
{
    cJSON *o = cJSON_CreateObject();
    add_num(o, "alarm", l->alarm);
    add_num(o, "status", l->status);
    add_num(o, "lat", l->lat);
    add_num(o, "lon", l->lon);
    add_num(o, "altitude", l->altitude);
    add_num(o, "speed", l->speed);
    add_num(o, "direction", l->direction);
    cJSON_AddStringToObject(o, "time", l->time);
    cJSON *items = cJSON_AddArrayToObject(o, "items");
    for (unsigned i = 0; i < l->n_items && l->items; i++) {
        const struct jt808_loc_item *it = &l->items[i];
        cJSON *e = cJSON_CreateObject();
        add_hex_id(e, "id", it->id, 2);
        add_num(e, "len", it->len);
        if (it->known)
            add_num(e, "value", it->value);
        else
            add_hex_bytes(e, "raw", it->raw, it->len);
        cJSON_AddItemToArray(items, e);
    }
    return o;
}

static void params_to_json(cJSON *o, const struct jt808_params *ps)
{
    add_num(o, "count", ps->count);
    cJSON *arr = cJSON_AddArrayToObject(o, "params");
    for (unsigned i = 0; i < ps->n_params && ps->params; i++) {
        const struct jt808_param *p = &ps->params[i];
        cJSON *e = cJSON_CreateObject();
        add_hex_id(e, "id", p->id, 4);
        add_num(e, "len", p->len);
        switch (p->type) {
        case JT808_PT_BYTE:
        case JT808_PT_WORD:
        case JT808_PT_DWORD: add_num(e, "value", p->num); break;
        case JT808_PT_STRING: cJSON_AddStringToObject(e, "value", p->str); break;
        case JT808_PT_BYTES: add_hex_bytes(e, "value", p->raw, p->len); break;
        default: add_hex_bytes(e, "raw", p->raw, p->len); break;
        }
        cJSON_AddItemToArray(arr, e);
    }
}

static const char *const layout_names[] = {"2011", "2013", "2019"};

static cJSON *body_to_json(const struct jt808_msg *m)
{
    cJSON *o = cJSON_CreateObject();
    bool v19 = m->h.version == JT808_V2019;
    switch (m->h.msg_id) {
    case 0x0001:
    case 0x8001:
        add_num(o, "ack_serial", m->b.gen_resp.ack_serial);
        add_hex_id(o, "ack_id", m->b.gen_resp.ack_id, 4);
        add_num(o, "result", m->b.gen_resp.result);
        break;
    case 0x0100: {
        const struct jt808_register *b = &m->b.reg;
        cJSON_AddStringToObject(o, "layout", layout_names[b->layout <= JT808_REG_2019 ? b->layout : 1]);
        add_num(o, "province", b->province);
        add_num(o, "city", b->city);
        cJSON_AddStringToObject(o, "manufacturer", b->manufacturer);
        cJSON_AddStringToObject(o, "model", b->model);
        cJSON_AddStringToObject(o, "terminal_id", b->terminal_id);
        add_num(o, "plate_color", b->plate_color);
        cJSON_AddStringToObject(o, "plate", b->plate);
        break;
    }
    case 0x8100:
        add_num(o, "ack_serial", m->b.reg_resp.ack_serial);
        add_num(o, "result", m->b.reg_resp.result);
        if (m->b.reg_resp.result == 0)
            cJSON_AddStringToObject(o, "auth_code", m->b.reg_resp.auth_code);
        break;
    case 0x0102:
        cJSON_AddStringToObject(o, "auth_code", m->b.auth.auth_code);
        if (v19) {
            cJSON_AddStringToObject(o, "imei", m->b.auth.imei);
            cJSON_AddStringToObject(o, "sw_version", m->b.auth.sw_version);
        }
        break;
    case 0x0200:
        cJSON_Delete(o);
        return loc_to_json(&m->b.loc);
    case 0x0201:
        add_num(o, "ack_serial", m->b.loc_resp.ack_serial);
        cJSON_AddItemToObject(o, "location", loc_to_json(&m->b.loc_resp.loc));
        break;
    case 0x0704: {
        add_num(o, "count", m->b.batch.count);
        add_num(o, "type", m->b.batch.type);
        cJSON *arr = cJSON_AddArrayToObject(o, "locations");
        for (unsigned i = 0; i < m->b.batch.n_locs && m->b.batch.locs; i++)
            cJSON_AddItemToArray(arr, loc_to_json(&m->b.batch.locs[i]));
        break;
    }
    case 0x8103:
        params_to_json(o, &m->b.params);
        break;
    case 0x0104:
        add_num(o, "ack_serial", m->b.params_resp.ack_serial);
        params_to_json(o, &m->b.params_resp.p);
        break;
    case 0x8105:
        jt808_ctl_to_json(o, &m->b.control);
        break;
    case 0x8300:
        add_num(o, "flag", m->b.text.flag);
        if (v19)
            add_num(o, "text_type", m->b.text.text_type);
        cJSON_AddStringToObject(o, "text", m->b.text.text);
        break;
    case 0x8108: {
        const struct jt808_upgrade *u = &m->b.upgrade;
        add_num(o, "type", u->type);
        cJSON_AddStringToObject(o, "manufacturer", u->manufacturer);
        cJSON_AddStringToObject(o, "version", u->version);
        add_num(o, "package_len", u->pkg_len);
        add_hex_bytes(o, "package_hex", u->pkg, u->pkg ? u->pkg_bytes : 0);
        break;
    }
    case 0x0108:
        add_num(o, "type", m->b.upgrade_result.type);
        add_num(o, "result", m->b.upgrade_result.result);
        break;
    default: /* 0x0002, 0x0003, 0x8104, 0x8201: empty; the rest: jt808_layout_json.c */
        if (m->lay && m->lay->lay->id == m->h.msg_id) {
            cJSON_Delete(o);
            return jt808_lay_to_json(m->lay);
        }
        break;
    }
    return o;
}

cJSON *jt808_to_json(const struct jt808_msg *m)
{
    cJSON *o = cJSON_CreateObject();
    if (!o)
        return NULL;
    const struct jt808_header *h = &m->h;
    add_hex_id(o, "msg_id", h->msg_id, 4);
    const char *name = jt808_msg_name(h->msg_id);
    if (name)
        cJSON_AddStringToObject(o, "name", name);
    cJSON_AddStringToObject(o, "version", h->version == JT808_V2019 ? "2019" : "2013");
    if (h->version == JT808_V2019)
        add_num(o, "proto_version", h->proto_version);
    cJSON_AddStringToObject(o, "phone", h->phone);
    add_num(o, "serial", h->serial);
    add_num(o, "encryption", h->encryption);
    if (h->reserved15)
        add_num(o, "reserved", 1);
    if (h->subpackage) {
        cJSON *s = cJSON_AddObjectToObject(o, "subpackage");
        add_num(s, "total", h->pkg_total);
        add_num(s, "index", h->pkg_index);
    }
    if (m->rsa_plain)
        cJSON_AddTrueToObject(o, "decrypted");
    if (jt808_body_is_typed(m))
        cJSON_AddItemToObject(o, "body", body_to_json(m));
    else
        add_hex_bytes(o, "body_hex", m->body, m->body ? m->body_bytes : 0);
    if (m->devs.total) {
        /* Where the frame deviates (the first JT808_MAX_DEVIATIONS, in wire order). */
        cJSON *arr = cJSON_AddArrayToObject(o, "deviations");
        for (unsigned i = 0; i < m->devs.n; i++) {
            cJSON *e = cJSON_CreateObject();
            cJSON_AddStringToObject(e, "kind", jt808_dev_name(m->devs.d[i].kind));
            add_num(e, "offset", m->devs.d[i].offset);
            cJSON_AddStringToObject(e, "field", m->devs.d[i].field ? m->devs.d[i].field : "");
            cJSON_AddItemToArray(arr, e);
        }
        if (m->devs.total > m->devs.n)
            add_num(o, "deviations_total", m->devs.total);
    }
    return o;
}
