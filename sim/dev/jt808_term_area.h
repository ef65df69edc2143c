/* JT/T 808 terminal: the areas and routes the platform sets (0x8600-0x8607), what
 * 0x8608 returns of them (0x0608), and the area alarms a report raises when the
 * terminal crosses one (alarm bits 20/21, additional item 0x12).
 *
 * The store is per terminal, in struct jt808_more (jt808_term_int.h), made on the
 * first set: a terminal that never gets an area carries no byte for it. */
#ifndef FLEETSIM_JT808_TERM_AREA_H
#define FLEETSIM_JT808_TERM_AREA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sim/proto/jt808.h"

struct term;
struct jt808_more;

/* What one terminal keeps: a set that would pass either is refused (0x0001 result 1,
 * counted as area_refused).  Bytes are the items as their set bodies lay them out,
 * so that the largest 0x0608 (5 bytes + every item of one kind) stays within
 * JT808_MAX_LONG_BODY. */
#define JT808_AREA_MAX_ITEMS 1024
#define JT808_AREA_MAX_BYTES (60u * 1024u)
/* The most heap a store holds at its caps (jt808_areas_held): a slot of at most 96
 * bytes per item, each item's bytes, and its points (never more than its bytes). */
#define JT808_AREA_HELD_MAX (JT808_AREA_MAX_ITEMS * 96u + 2u * JT808_AREA_MAX_BYTES + 64u)
#define JT808_AREA_REPORT_ITEMS 8 /* 0x12 items in one report; further crossings wait for the next */

/* The kinds as 0x8608 and item 0x12 number them. */
enum jt808_area_kind {
    JT808_AREA_CIRCLE = 1,
    JT808_AREA_RECT = 2,
    JT808_AREA_POLYGON = 3,
    JT808_AREA_ROUTE = 4,
};

/* Area attribute bits (JT/T 808-2013 table 56, -2019 table 67; routes use 0-5). */
#define JT808_AREA_TIMED (1u << 0)        /* start and end time present: active between them */
#define JT808_AREA_SPEED (1u << 1)        /* speed limit present */
#define JT808_AREA_IN_DRIVER (1u << 2)    /* entering: alarm to the driver */
#define JT808_AREA_IN_PLATFORM (1u << 3)  /* entering: alarm to the platform */
#define JT808_AREA_OUT_DRIVER (1u << 4)   /* leaving: alarm to the driver */
#define JT808_AREA_OUT_PLATFORM (1u << 5) /* leaving: alarm to the platform */
#define JT808_AREA_SOUTH (1u << 6)        /* the area's latitudes are south */
#define JT808_AREA_WEST (1u << 7)         /* the area's longitudes are west */
/* Route segment (point) attribute bits 2/3: the point's latitude south, longitude west. */
#define JT808_POINT_SOUTH (1u << 2)
#define JT808_POINT_WEST (1u << 3)

#define JT808_ALARM_AREA (1u << 20)  /* entering/leaving an area */
#define JT808_ALARM_ROUTE (1u << 21) /* entering/leaving a route */

/* --- geometry: positions in 1e-6 degree, signed (south, west negative) ------------ */

struct jt808_pt {
    int32_t lat, lon;
};

/* Equirectangular distance in metres (longitudes across 180° take the short way,
 * latitudes clamped to ±90°). */
double jt808_area_dist_m(struct jt808_pt a, struct jt808_pt b);
bool jt808_area_in_circle(struct jt808_pt centre, uint32_t radius_m, struct jt808_pt p);
/* The box from top_left to bottom_right; a left edge east of the right one is a box
 * across 180°. */
bool jt808_area_in_rect(struct jt808_pt top_left, struct jt808_pt bottom_right, struct jt808_pt p);
/* Even-odd rule on the plane of latitude and longitude, each edge taking the short
 * way round (a polygon across 180° works; one around a pole does not); a point on
 * an edge may fall either way. */
bool jt808_area_in_polygon(const struct jt808_pt *v, size_t n, struct jt808_pt p);
/* Within width[i] / 2 metres of segment i (point i to i + 1; a one-point route: of the
 * point). */
bool jt808_area_on_route(const struct jt808_pt *v, const uint8_t *width, size_t n, struct jt808_pt p);

/* --- a store, without a terminal (the terminal's side below uses it; fuzzed) -------- */

struct jt808_areas;
/* Apply set or delete body b (0x8600-0x8607, decoded) to *sp, made on need and given
 * back (NULL) when it holds nothing; items are kept as edition ver lays them out.
 * Returns the 0x0001 result: 0 done, 1 over the caps or out of memory, 2 a bad body;
 * on 1 or 2 nothing changed. */
uint8_t jt808_areas_apply(struct jt808_areas **sp, const struct jt808_lay_body *b, enum jt808_version ver);
/* The 0x0608 body answering query q (0x8608) into out: its length (at most cap), 0 for
 * a query of an unknown type. */
size_t jt808_areas_query(const struct jt808_areas *s, const struct jt808_lay_body *q, uint8_t *out, size_t cap);
/* The crossings at p (time unix_s, for areas with times) since the last call: items
 * 0x12 written (up to cap), bits 20/21 set in *alarm for them. */
int jt808_areas_cross(struct jt808_areas *s, struct jt808_pt p, int64_t unix_s, struct jt808_loc_item *items,
                      int cap, uint32_t *alarm);
size_t jt808_areas_count(const struct jt808_areas *s, size_t *bytes);
/* The heap bytes s holds (0 for NULL), at most JT808_AREA_HELD_MAX. */
size_t jt808_areas_held(const struct jt808_areas *s);
void jt808_areas_free(struct jt808_areas *s);

/* --- the terminal's side (jt808_term_more.c, jt808_term.c) ------------------------- */

/* 0x8600-0x8608: answered (true), or not one of them (false). */
bool jt808_term_area(struct term *t, const struct jt808_msg *m);
/* A 0x0200 of serial is being built at the terminal's current position at now_us:
 * the crossings since the last one are tested, each one whose area asks for a
 * platform alarm sets bit 20/21 of the alarm word (held until a report carrying it
 * is acknowledged) and gets an item 0x12 in items (up to cap).  Returns the items
 * written; call before jt_fill_location, which reads the alarm word. */
int jt808_term_area_check(struct term *t, uint64_t now_us, uint16_t serial, struct jt808_loc_item *items,
                          int cap);
/* The platform acknowledged report serial (0x8001 result 0): the alarm it carried is
 * cleared. */
void jt808_term_area_acked(struct term *t, uint16_t serial);
void jt808_term_area_free(struct jt808_more *x);
/* Items stored and their bytes (tests, stats); 0 without a store. */
size_t jt808_term_area_count(struct term *t, size_t *bytes);

#endif
