/* JT/T 808 registration in the platform core's terms (spec.md §5, from seed 000):
 * the gateway checks a 0x0100 here and sends the core a neutral registration;
 * the core's answer maps back to a 0x8100 result.
 *  - phone: 1-20 decimal digits (BCD[10] in 2019 headers); it is the device id
 *  - manufacturer 4-11 chars, model 4-30, terminal id 4-30, of [A-Za-z0-9-]
 *    (a shorter fixed field arrives 0x00-padded; the padding and trailing spaces
 *    are not part of it)
 *  - name = manufacturer_model_terminalId; binding = the vehicle,
 *    "<plate colour>:<plate>", or "" without a plate (nothing identifies it)
 *  - one-party mode: the (manufacturer, model, terminal id) triple must have been
 *    provisioned, from the CSV of jt808_triples_load
 * Results: 0 ok, 1 vehicle registered to another terminal, 2 the triple names
 * another vehicle, 3 terminal registered under another phone, 4 unknown terminal;
 * a field that fails the checks is answered 0x8001 result 2 (bad message). */
#ifndef FLEETSIM_JT808_REG_H
#define FLEETSIM_JT808_REG_H

#include <stddef.h>
#include <stdint.h>

#include "sim/platform/core/store.h"
#include "sim/proto/jt808.h"

#define JT808_REG_PROTOCOL "jt808"

/* A registration checked and trimmed, and the strings the core is sent. */
struct jt808_reg_req {
    char phone[21];
    char manufacturer[sizeof ((struct jt808_register *)0)->manufacturer];
    char model[sizeof ((struct jt808_register *)0)->model];
    char terminal_id[sizeof ((struct jt808_register *)0)->terminal_id];
    uint8_t plate_color;
    char plate[sizeof ((struct jt808_register *)0)->plate];
    char name[STORE_NAME_MAX + 1];
    char binding[STORE_BINDING_MAX + 1];
    char attrs[512];            /* {"manufacturer":..,"model":..,"terminal_id":..,"plate_color":..,"plate":..} */
};

/* Check phone and reg; 0 with q filled, or -1 with why naming the field
 * ("manufacturer: 3 chars, needs 4-11", "phone: byte 0x41 ('A') at 3 not a decimal digit"). */
int jt808_reg_check(const char *phone, const struct jt808_register *reg, struct jt808_reg_req *q, char *why,
                    size_t whycap);
/* The store's view of q (pointers into q). */
void jt808_reg_device(const struct jt808_reg_req *q, struct store_device *d);
/* The 0x8100 result of a store result (STORE_REG_ERROR has none: -1). */
int jt808_reg_result(enum store_reg_result r);

/* Read the CSV of known terminals: manufacturer,model,terminal_id[,plate_color,plate];
 * '#' lines and a header line starting with "manufacturer" are skipped.  Each row
 * goes to emit as a provision (protocol "jt808", the row's name and binding); emit
 * returns 0, or -1 to stop with its err.  Returns the rows, or -1 with
 * "file:line: what" in err. */
int jt808_triples_load(const char *path, int (*emit)(void *ctx, const struct store_provision *p), void *ctx,
                       char *err, size_t errcap);

#endif
