/* The JT/T 808 gateway's registry: terminals, auth codes, imported triples and last
 * positions, in SQLite (WAL) so they survive a restart.  Several gateway processes
 * may open the same file at once.  No sockets here: the gateway calls these with
 * decoded messages.  Rules follow spec.md §5 (from seed 000):
 *  - manufacturer 4-11 chars, model 4-30, terminal id 4-30, of [A-Za-z0-9-]
 *    (a shorter fixed field arrives 0x00-padded; the padding is not part of it)
 *  - open mode: any valid terminal registers; one-party: its (manufacturer, model,
 *    terminal id) triple must have been imported, else result 4
 *  - result 1: the vehicle (plate colour + plate) is registered to another terminal;
 *    2: one-party and the triple names a plate that is not this one;
 *    3: the terminal is registered under another phone;
 *    re-registering the same terminal from the same phone returns its auth code again.
 *  - device name = manufacturer_model_terminalId */
#ifndef FLEETSIM_REGISTRY_H
#define FLEETSIM_REGISTRY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "sim/proto/jt808.h"

enum registry_mode { REGISTRY_OPEN = 0, REGISTRY_ONE_PARTY };

enum registry_result {
    REG_OK = 0,
    REG_VEHICLE_REGISTERED = 1,
    REG_VEHICLE_UNKNOWN = 2,
    REG_TERMINAL_REGISTERED = 3,
    REG_TERMINAL_UNKNOWN = 4,
    REG_INVALID = 5,          /* a field fails validation (not a 0x8100 result: the gateway
                                 answers 0x8001 result 2, bad message, and logs why) */
};

struct registry;

/* Open (create) the database at path (":memory:" allowed).  0 ok, -1 with err. */
int registry_open(struct registry **out, const char *path, enum registry_mode mode, char *err, size_t errcap);
void registry_close(struct registry *r);
/* Import triples from CSV: manufacturer,model,terminal_id[,plate_color,plate]; '#' lines
 * and a header line starting with "manufacturer" are skipped.  Returns rows imported,
 * -1 with "file:line: what" in err. */
int registry_import_csv(struct registry *r, const char *path, char *err, size_t errcap);

/* Register: fills auth_code (NUL-terminated, <= 32 chars) when REG_OK.  For
 * REG_INVALID, why names the field ("manufacturer: 3 chars, needs 4-11"). */
enum registry_result registry_register(struct registry *r, const char *phone,
                                       const struct jt808_register *reg,
                                       char *auth_code, size_t auth_cap, char *why, size_t whycap);
/* Authenticate: true when phone is registered with this auth code. */
bool registry_auth(struct registry *r, const char *phone, const char *auth_code);
/* Unregister (0x0003): forget the terminal registered under phone; false if none. */
bool registry_unregister(struct registry *r, const char *phone);
/* Device name of the terminal registered under phone ("" when none). */
bool registry_device_name(struct registry *r, const char *phone, char *out, size_t cap);

/* Last position: kept in memory and written in one transaction by registry_flush(). */
void registry_position(struct registry *r, const char *phone, const struct jt808_location *loc);
int registry_flush(struct registry *r, char *err, size_t errcap);
/* Read back a stored position (after flush): false when none. */
bool registry_last_position(struct registry *r, const char *phone, struct jt808_location *loc);
size_t registry_count(struct registry *r);   /* registered terminals */

#endif
