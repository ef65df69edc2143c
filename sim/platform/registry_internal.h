/* Internals shared by the registry's files (registry.c, registry_register.c,
 * registry_import.c, registry_position.c).  Not for other modules. */
#ifndef FLEETSIM_REGISTRY_INTERNAL_H
#define FLEETSIM_REGISTRY_INTERNAL_H

#include <sqlite3.h>
#include "sim/platform/registry.h"

#define REGISTRY_SCHEMA_VERSION 1
#define REGISTRY_BUSY_MS 5000       /* other gateway processes hold the write lock briefly */
#define REGISTRY_AUTH_HEX 16        /* auth code length: 8 random bytes in hex */
#define REGISTRY_PHONE_MAX 20       /* BCD[10] in 2019 headers */
#define REGISTRY_PLATE_MAX 63       /* fits struct jt808_register.plate */

/* Prepared once at open; every use ends with sqlite3_reset so no statement keeps a
 * read transaction open (that would stall WAL checkpoints of every process). */
enum registry_stmt {
    RS_BEGIN,            /* BEGIN IMMEDIATE: take the write lock up front, no upgrade deadlock */
    RS_COMMIT,
    RS_ROLLBACK,
    RS_TRIPLE_GET,
    RS_TRIPLE_PUT,
    RS_TERM_BY_TRIPLE,
    RS_TERM_BY_PHONE,
    RS_VEHICLE_OWNER,
    RS_TERM_PUT,
    RS_TERM_SET_PLATE,
    RS_TERM_DEL,
    RS_TERM_COUNT,
    RS_POS_PUT,
    RS_POS_GET,
    RS__COUNT
};

/* One phone's latest position, stored inline in the open-addressing table. */
struct registry_pos {
    char phone[REGISTRY_PHONE_MAX + 1];  /* "" = empty slot */
    bool dirty;                          /* changed since the last flush */
    uint32_t hash;
    uint32_t alarm;
    uint32_t status;
    uint32_t lat;                        /* 1e-6 degree, as on the wire */
    uint32_t lon;
    uint16_t altitude;
    uint16_t speed;
    uint16_t direction;
    char time[13];                       /* YYMMDDhhmmss */
    int64_t arrived_ms;                  /* wall clock at arrival: newest arrival wins */
};

struct registry_pos_table {
    struct registry_pos *slots;
    size_t cap;                          /* power of two, 0 until the first position */
    size_t used;
    size_t dirty;                        /* entries with dirty set: flush skips work when 0 */
};

struct registry {
    sqlite3 *db;
    enum registry_mode mode;
    sqlite3_stmt *st[RS__COUNT];
    struct registry_pos_table pos;
};

/* printf into err (if any) */
void registry__err(char *err, size_t cap, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Wall clock in ms (stored timestamps, not timers). */
int64_t registry__now_ms(void);
/* Run a prepared no-result statement (BEGIN/COMMIT/ROLLBACK); SQLite rc. */
int registry__exec(struct registry *r, enum registry_stmt s);
/* Check a triple field: [A-Za-z0-9-], min..max chars.  0 ok, -1 with why
 * ("manufacturer: 3 chars, needs 4-11"). */
int registry__check_id(const char *name, const char *s, size_t min, size_t max, char *why, size_t cap);

void registry__pos_free(struct registry_pos_table *t);

#endif
