/* Groups, batch tasks and data history (004 §11, §12): to be written. */
#include "sim/platform/core/svc.h"

const struct north_route svc_group_routes[] = {{NULL, NULL, NULL}};
const size_t svc_group_n_routes = 0;

int svc_group_start(struct core *k, char *err, size_t errcap) { (void)k, (void)err, (void)errcap; return 0; }
void svc_group_stop(struct core *k) { (void)k; }
void svc_group_report(struct core *k, int proto, const char *id, const char *service, const char *data,
                      int64_t at_ms)
{
    (void)k, (void)proto, (void)id, (void)service, (void)data, (void)at_ms;
}
void svc_group_deleted(struct core *k, int proto, const char *id) { (void)k, (void)proto, (void)id; }

char **svc_group_members(struct core *k, const char *group_id, size_t *n)
{
    (void)k, (void)group_id;
    *n = 0;
    return NULL;
}

void svc_group_cmd_done(struct core *k, const char *origin, const char *device_id, const char *command_id, int state)
{
    (void)k, (void)origin, (void)device_id, (void)command_id, (void)state;
}
