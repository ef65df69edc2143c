/* Device shadows and configuration updates (004 §8, §9): to be written. */
#include "sim/platform/core/svc.h"

const struct north_route svc_shadow_routes[] = {{NULL, NULL, NULL}};
const size_t svc_shadow_n_routes = 0;

int svc_shadow_start(struct core *k, char *err, size_t errcap) { (void)k, (void)err, (void)errcap; return 0; }
void svc_shadow_stop(struct core *k) { (void)k; }
void svc_shadow_online(struct core *k, int proto, const char *id) { (void)k, (void)proto, (void)id; }
void svc_shadow_report(struct core *k, int proto, const char *id, const char *service, const char *data,
                       int64_t at_ms)
{
    (void)k, (void)proto, (void)id, (void)service, (void)data, (void)at_ms;
}
void svc_shadow_deleted(struct core *k, int proto, const char *id) { (void)k, (void)proto, (void)id; }

void svc_shadow_cmd_done(struct core *k, const char *origin, const char *device_id, const char *command_id, int state)
{
    (void)k, (void)origin, (void)device_id, (void)command_id, (void)state;
}
