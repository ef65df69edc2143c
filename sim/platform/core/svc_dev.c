/* Device management (004 §4, §9): registration, status, deletion: to be written. */
#include "sim/platform/core/svc.h"

const struct north_route svc_dev_routes[] = {{NULL, NULL, NULL}};
const size_t svc_dev_n_routes = 0;

int svc_dev_start(struct core *k, char *err, size_t errcap) { (void)k, (void)err, (void)errcap; return 0; }
void svc_dev_stop(struct core *k) { (void)k; }
void svc_dev_online(struct core *k, int proto, const char *id) { (void)k, (void)proto, (void)id; }
void svc_dev_offline(struct core *k, int proto, const char *id) { (void)k, (void)proto, (void)id; }
void svc_dev_report(struct core *k, int proto, const char *id, int64_t at_ms) { (void)k, (void)proto, (void)id, (void)at_ms; }
void svc_dev_registered(struct core *k, int proto, const char *id) { (void)k, (void)proto, (void)id; }
