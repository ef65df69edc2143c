/* The commands of the northbound API (004 §7, spec.md §3): to be written. */
#include "sim/platform/core/svc.h"

#include <stdio.h>

const struct north_route svc_cmd_routes[] = {{NULL, NULL, NULL}};
const size_t svc_cmd_n_routes = 0;

int svc_cmd_start(struct core *k, char *err, size_t errcap) { (void)k, (void)err, (void)errcap; return 0; }
void svc_cmd_stop(struct core *k) { (void)k; }
void svc_cmd_online(struct core *k, int proto, const char *id) { (void)k, (void)proto, (void)id; }
void svc_cmd_offline(struct core *k, int proto, const char *id) { (void)k, (void)proto, (void)id; }
void svc_cmd_report(struct core *k, int proto, const char *id) { (void)k, (void)proto, (void)id; }
void svc_cmd_deleted(struct core *k, int proto, const char *id) { (void)k, (void)proto, (void)id; }

bool svc_cmd_result(struct core *k, uint32_t task, int proto, const char *id, int state)
{
    (void)k, (void)task, (void)proto, (void)id, (void)state;
    return false;
}

int svc_cmd_submit(struct core *k, const struct svc_cmd_req *rq, char *command_id, size_t cap, int *state,
                   int *http, char *err, size_t errcap)
{
    (void)k, (void)rq, (void)command_id, (void)cap, (void)state;
    *http = 501;
    snprintf(err, errcap, "commands are not served yet");
    return -1;
}

size_t svc_cmd_cancel_device(struct core *k, const char *device_id)
{
    (void)k, (void)device_id;
    return 0;
}
