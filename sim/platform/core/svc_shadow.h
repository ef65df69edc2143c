/* The shadow service's own declarations (svc_shadow.c; the hooks are in svc.h):
 * the default product models built into the binary, the models a device's shadow
 * follows, and the seam its tests replace the command submission through. */
#ifndef FLEETSIM_SVC_SHADOW_H
#define FLEETSIM_SVC_SHADOW_H

#include "sim/platform/core/svc.h"
#include "sim/proto/pcodec.h"

/* profiles/jt808-terminal.json as built in (svc_shadow_model.c): the product model of
 * a JT/T 808 terminal the platform knows no product for; NUL-terminated at _end. */
extern const char svc_shadow_jt808_model[];
extern const char svc_shadow_jt808_model_end[];

/* The product model of a device of protocol registered with product (the
 * registration's productId, "" none): one of core_config.products with that id,
 * else the protocol's default (JT/T 808: the built-in terminal), else NULL. */
const struct pc_product *svc_shadow_product(struct core *k, const char *protocol, const char *product);

/* How a sync reaches the device: svc_cmd_submit (svc.h), unless a test sets its own
 * before the core starts (it then answers for the commands service, and reports the
 * end of a command through svc_shadow_cmd_done). */
typedef int (*svc_shadow_submit_fn)(struct core *k, const struct svc_cmd_req *rq, char *command_id, size_t cap,
                                    int *state, int *http, char *err, size_t errcap);
extern svc_shadow_submit_fn svc_shadow_submit;

#endif
