/* Device management (004 §4, §9; docs/api.md, Devices): registration through the
 * API with its timeout, the status of every device by dev_status.h's rules on the
 * virtual clock (one timer for the earliest change of all), the status history,
 * deletion, the device list.  svc.h has the hooks; this header what the device
 * service offers besides, and its pure parsers (svc_dev_req.c), which touch no
 * core, so that a fuzzer can drive them alone. */
#ifndef FLEETSIM_SVC_DEV_H
#define FLEETSIM_SVC_DEV_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stdint.h>

#include "sim/platform/core/dev_status.h"
#include "sim/platform/core/store.h"

struct core;

#define SVC_DEV_NODE_MAX 64            /* nodeId, productId, verifyCode, endUser: bytes */
#define SVC_DEV_TIMEOUT_S 180          /* the registration timeout when none is given */
#define SVC_DEV_PAGE 25                /* pageSize when none is given */
#define SVC_DEV_PAGE_MAX 250           /* ... and the largest */

/* Its registration is gone (svc_on_deleted hands it on, after the store forgot it):
 * its state and history go, a deviceDeleted push goes out. */
void svc_dev_deleted(struct core *k, int proto, const char *id);

/* The status of a registered device by the rules now; false when the service does
 * not know it. */
bool svc_dev_status(struct core *k, const char *protocol, const char *device_id, enum dev_status *out);

/* The device id registered through the API for nodeId (a front-end whose devices
 * name themselves by it on the wire finds its device so); false when none. */
bool svc_dev_node_device(struct core *k, const char *protocol, const char *node_id, char *device_id, size_t cap);

/* --- the bodies and parameters of the calls (pure) -------------------------------- */

/* POST deviceCredentials: what the body asks for, checked. */
struct svc_dev_reg {
    char node_id[SVC_DEV_NODE_MAX + 1];
    char verify_code[SVC_DEV_NODE_MAX + 1];   /* nodeId when not given */
    char product[SVC_DEV_NODE_MAX + 1];       /* "": none */
    char protocol[STORE_PROTOCOL_MAX + 1];    /* lower case; "jt808" when not given */
    char psk[STORE_SECRET_MAX + 1];           /* "": generated */
    char name[STORE_NAME_MAX + 1];            /* "": the deviceId */
    char end_user[SVC_DEV_NODE_MAX + 1];
    int64_t timeout_s;                        /* 0: never */
    char device_id[STORE_ID_MAX + 1];         /* by svc_dev_device_id */
};
/* 0, or -1 with err "field: what is wrong". */
int svc_dev_reg_parse(const cJSON *body, struct svc_dev_reg *out, char *err, size_t errcap);

/* deviceId of a registration: productId_nodeId, nodeId without a product, and
 * nodeId for JT/T 808 (a terminal names itself by its phone on the wire, and
 * registers under it over the air).  0, or -1 with err when it is too long. */
int svc_dev_device_id(const char *protocol, const char *product, const char *node_id, char *out, size_t cap,
                      char *err, size_t errcap);

/* PUT devices/{deviceId}: what may change. */
struct svc_dev_mod {
    bool has_name, has_end_user;
    char name[STORE_NAME_MAX + 1];
    char end_user[SVC_DEV_NODE_MAX + 1];
};
int svc_dev_mod_parse(const cJSON *body, struct svc_dev_mod *out, char *err, size_t errcap);

/* pageNo (from 0, default 0) and pageSize (1..max, default def) of a query; NULL
 * text: absent.  0, or -1 with err. */
int svc_dev_page_parse(const char *page_no, const char *page_size, int def, int max, int *no, int *size, char *err,
                       size_t errcap);
/* A time parameter "yyyyMMddTHHmmssZ" (UTC) into unix ms; name names it in err. */
int svc_dev_time_parse(const char *name, const char *text, int64_t *unix_ms, char *err, size_t errcap);
/* A status name (ONLINE, OFFLINE, ABNORMAL, INACTIVE): its value, or -1. */
int svc_dev_status_parse(const char *text);

#endif
