/* libFuzzer target: a terminal's area store (sim/dev/jt808_term_area.c) fed any
 * sequence of 0x8600-0x8608 bodies and positions.  Input: records of a selector byte
 * (bits 0-3: the id 0x8600 + n % 9; bit 6: the store's edition; bit 7: the body's),
 * a 2-byte length and the body, each followed by 8 bytes of a position when there
 * are that many.  After each record: a refused set changed nothing; the caps hold;
 * every kind's 0x0608 decodes, and its data are exactly count items of the kind's
 * set layout, one after the other, adding up to the store's bytes; a crossing gives
 * items 0x12 within the cap and bits 20/21 only. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sim/dev/jt808_term_area.h"
#include "sim/proto/jt808.h"
#include "sim/proto/jt808_layout.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct jt808_msg in, q, item;
static uint8_t out[JT808_MAX_LONG_BODY], one[JT808_MAX_LONG_BODY + 2];

/* The data of a 0x0608 of type: count items of its set layout exactly; their bytes. */
static size_t walk_items(uint32_t type, const uint8_t *d, size_t n, uint32_t count, enum jt808_version v)
{
    static const uint16_t set_id[5] = {0, 0x8600, 0x8602, 0x8604, 0x8606};
    bool listed = type <= 2;
    size_t off = 0;
    for (uint32_t i = 0; i < count; i++) {
        size_t k = 0;
        if (listed) { /* one item after a set attribute and a count of 1 */
            one[0] = 0;
            one[1] = 1;
            k = 2;
        }
        memcpy(one + k, d + off, n - off);
        jt808_msg_free(&item);
        memset(&item, 0, sizeof item);
        item.h.msg_id = set_id[type];
        item.h.version = v;
        struct jt808_err err;
        if (jt808_lay_decode(one, k + n - off, &item, &err) != JT808_OK)
            abort(); /* a kept item does not decode as its kind */
        size_t used = k + n - off - item.lay->n_trailing - k;
        if (!used)
            abort();
        off += used;
    }
    if (off != n)
        abort(); /* bytes after the items counted */
    return off;
}

static void check_store(const struct jt808_areas *s, enum jt808_version v)
{
    size_t bytes = 0, count = jt808_areas_count(s, &bytes), seen = 0;
    if (count > JT808_AREA_MAX_ITEMS || bytes > JT808_AREA_MAX_BYTES || (!s && (count || bytes)))
        abort();
    for (uint32_t type = 1; type <= 4; type++) {
        const struct jt808_lay_kv kv[] = {{.path = "type", .u = type}};
        struct jt808_header h = {.msg_id = 0x8608, .version = v};
        struct jt808_err err;
        if (jt808_lay_build(&q, &h, kv, 1, &err) != JT808_OK)
            abort();
        size_t n = jt808_areas_query(s, q.lay, out, sizeof out);
        if (n < 5)
            abort();
        jt808_msg_free(&q);
        memset(&q, 0, sizeof q);
        q.h.msg_id = 0x0608;
        q.h.version = v;
        uint32_t t = 0, c = 0;
        const uint8_t *d;
        size_t dn;
        if (jt808_lay_decode(out, n, &q, &err) != JT808_OK || !jt808_lay_get_u32(q.lay, "type", &t) || t != type ||
            !jt808_lay_get_u32(q.lay, "count", &c) || !jt808_lay_get_bytes(q.lay, "data", &d, &dn))
            abort();
        uint8_t *copy = malloc(dn + 1);
        if (!copy)
            abort();
        memcpy(copy, d, dn);
        seen += walk_items(type, copy, dn, c, v);
        free(copy);
    }
    if (seen != bytes)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct jt808_areas *s = NULL;
    enum jt808_version store_v = size && data[0] & 0x40 ? JT808_V2019 : JT808_V2013;
    size_t off = 0;
    for (int rec = 0; rec < 64 && off + 3 <= size; rec++) {
        uint8_t sel = data[off];
        size_t n = (size_t)data[off + 1] << 8 | data[off + 2];
        off += 3;
        if (n > size - off)
            n = size - off;
        jt808_msg_free(&in);
        memset(&in, 0, sizeof in);
        in.h.msg_id = (uint16_t)(0x8600 + (sel & 0x0F) % 9);
        in.h.version = sel & 0x80 ? JT808_V2019 : JT808_V2013;
        struct jt808_err err;
        if (jt808_lay_decode(data + off, n, &in, &err) == JT808_OK && in.h.msg_id != 0x8608) {
            size_t b0 = 0, c0 = jt808_areas_count(s, &b0), b1 = 0;
            uint8_t r = jt808_areas_apply(&s, in.lay, store_v);
            size_t c1 = jt808_areas_count(s, &b1);
            if (r > 2 || (r && (c1 != c0 || b1 != b0)))
                abort();
        } else if (in.lay && in.h.msg_id == 0x8608) {
            jt808_areas_query(s, in.lay, out, sizeof out);
        }
        off += n;
        check_store(s, store_v);
        if (off + 8 <= size) {
            struct jt808_pt p;
            memcpy(&p.lat, data + off, 4);
            memcpy(&p.lon, data + off + 4, 4);
            off += 8;
            struct jt808_loc_item items[JT808_AREA_REPORT_ITEMS];
            uint32_t alarm = 0;
            int k = jt808_areas_cross(s, p, 1764720000 + rec * 3600, items, JT808_AREA_REPORT_ITEMS, &alarm);
            if (k < 0 || k > JT808_AREA_REPORT_ITEMS || (alarm & ~(JT808_ALARM_AREA | JT808_ALARM_ROUTE)) ||
                (k && !alarm) || (!k && alarm))
                abort();
            for (int i = 0; i < k; i++)
                if (items[i].id != 0x12 || items[i].len != 6 || items[i].raw[0] < 1 || items[i].raw[0] > 4 ||
                    items[i].raw[5] > 1)
                    abort();
        }
    }
    jt808_areas_free(s);
    return 0;
}
