/* Push notifications (004 §5): to be written. */
#include "sim/platform/core/svc.h"

const struct north_route svc_push_routes[] = {{NULL, NULL, NULL}};
const size_t svc_push_n_routes = 0;

int svc_push_start(struct core *k, char *err, size_t errcap) { (void)k, (void)err, (void)errcap; return 0; }
void svc_push_stop(struct core *k) { (void)k; }
void svc_push_notify(struct core *k, const char *type, cJSON *body) { (void)k, (void)type; cJSON_Delete(body); }
void svc_push_to_url(struct core *k, const char *url, cJSON *body) { (void)k, (void)url; cJSON_Delete(body); }
bool svc_push_wanted(struct core *k, const char *type) { (void)k, (void)type; return false; }
void svc_push_report(struct core *k, int proto, const char *id, const char *service, const char *data,
                     int64_t at_ms)
{
    (void)k, (void)proto, (void)id, (void)service, (void)data, (void)at_ms;
}
void svc_push_registered(struct core *k, int proto, const char *id) { (void)k, (void)proto, (void)id; }
