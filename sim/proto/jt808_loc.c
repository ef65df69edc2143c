/* Location information body (0x0200; also inside 0x0201 and 0x0704):
 *   alarm DW, status DW, lat DW, lon DW, altitude W, speed W, direction W,
 *   time BCD[6] YYMMDDhhmmss, then additional items (id B, len B, data).
 * Known item ids decode into a number; every item keeps its raw bytes.  An item
 * whose length disagrees with its id, or runs past the body, is kept raw and
 * reported as a deviation (item-length, item-truncated). */
#include <string.h>

#include "sim/proto/jt808.h"
#include "sim/proto/jt808_internal.h"

#define N_KNOWN 8

static const struct {
    uint8_t id, len;
} known_items[N_KNOWN] = {
    {0x01, 4}, /* mileage, 1/10 km */
    {0x02, 2}, /* fuel, 1/10 L */
    {0x03, 2}, /* tachograph speed, 1/10 km/h */
    {0x25, 4}, /* extended vehicle signal status */
    {0x2A, 2}, /* IO status */
    {0x2B, 4}, /* analog quantity */
    {0x30, 1}, /* wireless signal strength */
    {0x31, 1}, /* GNSS satellites */
};

/* Field names are static strings, so each place a location can sit gets its own set. */
struct jt808_loc_names {
    const char *alarm, *status, *lat, *lon, *altitude, *speed, *direction, *time;
    const char *items, *item_id, *item_len, *item_data;
    const char *known[N_KNOWN];
};

#define LOC_NAMES(P)                                                                       \
    {                                                                                      \
        P "alarm", P "status", P "lat", P "lon", P "altitude", P "speed", P "direction",   \
            P "time", P "items", P "items.id", P "items.len", P "items.data",              \
        {                                                                                  \
            P "items[0x01]", P "items[0x02]", P "items[0x03]", P "items[0x25]",            \
                P "items[0x2A]", P "items[0x2B]", P "items[0x30]", P "items[0x31]"         \
        }                                                                                  \
    }

const struct jt808_loc_names jt808_loc_names_0200 = LOC_NAMES("body.");
const struct jt808_loc_names jt808_loc_names_0201 = LOC_NAMES("body.location.");
const struct jt808_loc_names jt808_loc_names_0704 = LOC_NAMES("body.locations.");

static int known_index(uint8_t id)
{
    for (int i = 0; i < N_KNOWN; i++)
        if (known_items[i].id == id)
            return i;
    return -1;
}

uint8_t jt808_loc_item_len(uint8_t id)
{
    int k = known_index(id);
    return k < 0 ? 0 : known_items[k].len;
}

enum jt808_rc jt808_loc_read(struct jt808_rd *r, struct jt808_location *loc,
                             const struct jt808_loc_names *nm)
{
    JT808_TRY(jt808_rd_u32(r, &loc->alarm, nm->alarm));
    JT808_TRY(jt808_rd_u32(r, &loc->status, nm->status));
    JT808_TRY(jt808_rd_u32(r, &loc->lat, nm->lat));
    JT808_TRY(jt808_rd_u32(r, &loc->lon, nm->lon));
    JT808_TRY(jt808_rd_u16(r, &loc->altitude, nm->altitude));
    JT808_TRY(jt808_rd_u16(r, &loc->speed, nm->speed));
    JT808_TRY(jt808_rd_u16(r, &loc->direction, nm->direction));
    JT808_TRY(jt808_rd_need(r, 6, nm->time));
    size_t bad = 0;
    if (jt808_bcd_decode(r->p + r->pos, 6, loc->time, &bad) != JT808_OK)
        return jt808_fail(r->err, JT808_E_BCD, r->pos + bad, nm->time);
    r->pos += 6;

    /* Count the items first (each takes at least id and len) to allocate them at once. */
    loc->n_items = 0;
    loc->items = NULL;
    size_t n = 0;
    for (size_t q = r->pos; q < r->end; n++)
        q += q + 1 < r->end ? 2u + r->p[q + 1] : 1u;
    if (n && !(loc->items = jt808_rd_alloc(r, n * sizeof *loc->items, nm->items)))
        return JT808_E_NOSPACE;
    while (r->pos < r->end) {
        struct jt808_loc_item *it = &loc->items[loc->n_items++];
        size_t id_at = r->pos;
        it->id = r->p[r->pos++];
        if (r->pos == r->end) {
            /* An id with no length: nothing to keep but the id. */
            jt808_rd_deviate(r, JT808_DEV_ITEM_TRUNCATED, id_at, nm->item_len);
            it->len = 0;
            break;
        }
        size_t len_at = r->pos;
        it->len = r->p[r->pos++];
        int k = known_index(it->id);
        const char *field = k >= 0 ? nm->known[k] : nm->item_data;
        size_t have = r->end - r->pos;
        if (have < it->len) {
            jt808_rd_deviate(r, JT808_DEV_ITEM_TRUNCATED, len_at, field);
            it->len = (uint8_t)have;
            k = -1;
        } else if (k >= 0 && it->len != known_items[k].len) {
            jt808_rd_deviate(r, JT808_DEV_ITEM_LENGTH, len_at, field);
            k = -1;
        }
        const uint8_t *d = r->p + r->pos;
        memcpy(it->raw, d, it->len);
        it->known = k >= 0;
        it->value = 0;
        if (it->known)
            for (uint8_t i = 0; i < it->len; i++)
                it->value = it->value << 8 | d[i];
        r->pos += it->len;
    }
    return JT808_OK;
}

enum jt808_rc jt808_loc_write(struct jt808_wr *w, const struct jt808_location *loc,
                              const struct jt808_loc_names *nm)
{
    JT808_TRY(jt808_wr_u32(w, loc->alarm, nm->alarm));
    JT808_TRY(jt808_wr_u32(w, loc->status, nm->status));
    JT808_TRY(jt808_wr_u32(w, loc->lat, nm->lat));
    JT808_TRY(jt808_wr_u32(w, loc->lon, nm->lon));
    JT808_TRY(jt808_wr_u16(w, loc->altitude, nm->altitude));
    JT808_TRY(jt808_wr_u16(w, loc->speed, nm->speed));
    JT808_TRY(jt808_wr_u16(w, loc->direction, nm->direction));
    JT808_TRY(jt808_wr_need(w, 6, nm->time));
    if (strnlen(loc->time, sizeof loc->time) != 12 ||
        jt808_bcd_encode(loc->time, w->p + w->pos, 6) != JT808_OK)
        return jt808_fail(w->err, JT808_E_VALUE, w->pos, nm->time);
    w->pos += 6;

    if (loc->n_items && !loc->items)
        return jt808_fail(w->err, JT808_E_VALUE, w->pos, nm->items);
    for (unsigned i = 0; i < loc->n_items; i++) {
        const struct jt808_loc_item *it = &loc->items[i];
        if (!it->known) {
            /* Raw items go out as given, whatever the id: that is how malformed
             * reports are built on purpose. */
            JT808_TRY(jt808_wr_u8(w, it->id, nm->item_id));
            JT808_TRY(jt808_wr_u8(w, it->len, nm->item_len));
            JT808_TRY(jt808_wr_bytes(w, it->raw, it->len, nm->item_data));
            continue;
        }
        int k = known_index(it->id);
        if (k < 0)
            return jt808_fail(w->err, JT808_E_UNKNOWN_ID, w->pos, nm->item_id);
        uint8_t len = known_items[k].len;
        /* len 0 means "the standard's length". */
        if (it->len != 0 && it->len != len)
            return jt808_fail(w->err, JT808_E_LENGTH, w->pos + 1, nm->known[k]);
        if (len < 4 && it->value >> (8 * len) != 0)
            return jt808_fail(w->err, JT808_E_VALUE, w->pos + 2, nm->known[k]);
        JT808_TRY(jt808_wr_u8(w, it->id, nm->item_id));
        JT808_TRY(jt808_wr_u8(w, len, nm->item_len));
        JT808_TRY(jt808_wr_need(w, len, nm->known[k]));
        for (unsigned b = 0; b < len; b++)
            w->p[w->pos++] = (uint8_t)(it->value >> (8 * (len - 1 - b)));
    }
    return JT808_OK;
}
