/* The commands of the northbound API (004 §7, spec.md §3): each command's life
 * (cmd_fsm.h) in memory while it is live, on the bus to the front-end holding its
 * device, and in the service's tables (svc_cmd_store.c); the API's calls are
 * svc_cmd_api.c's.  See svc_cmd.h for what is indexed how.
 *
 * Sending: every sending is a task of the store (store_task_new) and one
 * CMD_BEGIN / CMD_TO / CMD_END to the peer the device is online through, with the
 * ack timeout as the settle time, so the front-end reports TIMEOUT then; its
 * results come back through svc_cmd_result by that task.  A retransmission is a
 * new task: a late result of an earlier sending finds nothing.  The service keeps
 * the ack deadline itself too (the heap), so a command SENT when the core was
 * killed, whose answer went to the old core, times out or is sent again by its
 * maxRetransmit after a restart.
 *
 * Cached commands (short-connection devices) go out one at a time per device, in
 * creation order, when the device comes online (on the next loop pass, after the
 * front-end had its authentication answer) or reports. */
#include "sim/platform/core/svc_cmd.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim/platform/core/core_internal.h"
#include "sim/platform/core/svc.h"
#include "sim/platform/frontend.h"

int64_t svc_cmd_now_ms(void) { return svc_now_ms(); }

static void load_one(struct svc_cmd *s, struct scmd *c)
{
    if (scmd_add_live(s, c) < 0) {
        core_error(s->k, "commands: out of memory reading back %s", c->id);
        scmd_free(c);
    }
}

/* Tell the callbackUrl and the subscribers of commandRsp. */
static void push_state(struct svc_cmd *s, const struct scmd *c, enum store_cmd_state st)
{
    bool sub = svc_push_wanted(s->k, SVC_NOTIFY_COMMAND);
    if (!c->callback_url && !sub)
        return;
    for (int n = 0; n < 2; n++) {
        if (n == 0 ? !c->callback_url : !sub)
            continue;
        /* mutants: the callbackUrl, or the commandRsp subscribers, are not told */
        if (svc_mutant(s->k, n == 0 ? "cmd-no-callback" : "cmd-no-commandrsp"))
            continue;
        cJSON *o = cJSON_CreateObject();
        if (!o)
            return;
        cJSON_AddStringToObject(o, "deviceId", c->device);
        cJSON_AddStringToObject(o, "commandId", c->id);
        cJSON *r = cJSON_AddObjectToObject(o, "result");
        cJSON_AddStringToObject(r, "resultCode", store_cmd_state_name(st));
        if (c->f.why[0] && cmd_state_final(st) && st != STORE_CMD_SUCCESSFUL)
            cJSON_AddStringToObject(r, "resultDetail", c->f.why);
        else
            cJSON_AddNullToObject(r, "resultDetail");
        if (n == 0)
            svc_push_to_url(s->k, c->callback_url, o);
        else
            svc_push_notify(s->k, SVC_NOTIFY_COMMAND, o);
    }
}

static void dispatch(struct svc_cmd *s, const char *device);

/* After an event changed c: its transitions written and pushed, its timer moved;
 * a final state ends it (its origin told, its device's next one sent). */
static void progress(struct svc_cmd *s, struct scmd *c)
{
    int from = c->n_noted;
    core_batch_begin(s->k);
    if (scmd_store_note(s, c) < 0)
        core_error(s->k, "commands: writing %s: %s", c->id, sqlite3_errmsg(s->db));
    for (int i = from; i < c->f.n_path; i++)
        push_state(s, c, c->f.path[i].state);
    if (!cmd_state_final(c->f.state)) {
        scmd_heap_update(s, c);
        if (c->f.state == STORE_CMD_DELIVERED && from < c->f.n_path)
            dispatch(s, c->device); /* a DELIVERED one no longer holds the next (cmd_fsm_due) */
        return;
    }
    scmd_drop_live(s, c);
    char device[STORE_ID_MAX + 1];
    snprintf(device, sizeof device, "%s", c->device);
    if (c->origin && strcmp(c->origin, "api") != 0)
        svc_on_cmd_done(s->k, c->origin, c->device, c->id, c->f.state);
    scmd_free(c);
    dispatch(s, device);
}

/* Hand c to the front-end its device is online through: false when it is not
 * online (or the task could not be made). */
static bool send_cmd(struct svc_cmd *s, struct scmd *c)
{
    struct core *k = s->k;
    int proto = svc_proto_index(k, c->protocol);
    const struct online *e = proto >= 0 ? core_online_get(k, proto, c->device) : NULL;
    if (!e || e->peer >= CORE_MAX_PEERS || k->peers[e->peer].fd < 0)
        return false;
    struct peer *p = &k->peers[e->peer];
    char err[256];
    core_batch_begin(k);
    int64_t task = store_task_new(k->store, "api-command", c->body, core_wall_ms(), err, sizeof err);
    if (task <= 0 || task > UINT32_MAX) {
        core_error(k, "commands: %s: %s", c->id, task <= 0 ? err : "task ids past 32 bits");
        return false;
    }
    if (cmd_fsm_sent(&c->f, svc_now_ms(), err, sizeof err) < 0) {
        core_error(k, "commands: %s: %s", c->id, err);
        return false;
    }
    scmd_task_unindex(s, c);
    c->task = (uint32_t)task;
    scmd_task_index(s, c);
    uint32_t handle = e->handle;
    const char *ids[1] = {c->device};
    if (bus_cmd_begin(&p->out, c->task, c->kind, 0, FRONTEND_STEP_API, (uint64_t)CMD_ACK_TIMEOUT_MS * 1000u,
                      c->body) < 0 ||
        bus_cmd_to(&p->out, c->task, &handle, ids, 1) < 0 || bus_cmd_end(&p->out, c->task) < 0)
        core_error(k, "commands: to front-end %u: %s", p->index, p->out.err);
    k->st->commands++;
    return true;
}

/* A device's next cached command, when it is online and none of its commands is in
 * flight (cmd_fsm_due). */
static void dispatch(struct svc_cmd *s, const char *device)
{
    struct sdev *d = scmd_dev_get(s, device, false);
    /* offline: nothing to look at (a device with many PENDING ones expiring) */
    if (!d || !d->head || !svc_online(s->k, svc_proto_index(s->k, d->head->protocol), device))
        return;
    int n = 0;
    for (struct scmd *c = d->head; c; c = c->dev_next)
        n++;
    const struct cmd_fsm *few[32], **all = n <= 32 ? few : malloc((size_t)n * sizeof *all);
    if (!all)
        return;
    int i = 0;
    for (struct scmd *c = d->head; c; c = c->dev_next)
        all[i++] = &c->f;
    int due = cmd_fsm_due(all, n);
    /* mutant: the newest PENDING one goes first, not the oldest */
    if (due >= 0 && svc_mutant(s->k, "cmd-cached-not-in-order"))
        for (i = n - 1; i > due; i--)
            if (all[i]->state == STORE_CMD_PENDING) {
                due = i;
                break;
            }
    if (all != few)
        free(all);
    struct scmd *c = d->head;
    for (i = 0; c && i < due; i++)
        c = c->dev_next;
    if (due < 0)
        c = NULL;
    if (c && send_cmd(s, c)) {
        progress(s, c);
        /* mutant: every PENDING one goes at once, not one at a time */
        if (svc_mutant(s->k, "cmd-cached-all-at-once") && (d = scmd_dev_get(s, device, false)))
            for (c = d->head; c; c = c->dev_next)
                if (c->f.state == STORE_CMD_PENDING && send_cmd(s, c)) {
                    progress(s, c);
                    break;
                }
    }
}

int scmd_cancel(struct svc_cmd *s, struct scmd *c, char *why, size_t cap)
{
    if (cmd_fsm_cancel(&c->f, svc_now_ms(), why, cap) < 0)
        return -1;
    progress(s, c);
    return 0;
}

struct scmd *scmd_device_first(struct svc_cmd *s, const char *device_id)
{
    struct sdev *d = scmd_dev_get(s, device_id, false);
    return d ? d->head : NULL;
}

static void timer_cb(struct ev_loop *loop, ev_timer *t, int revents)
{
    struct svc_cmd *s = t->data;
    int64_t now = svc_now_ms();
    char why[128];
    core_batch_begin(s->k);
    while (s->heap_n && s->heap[0]->heap_ms <= now) {
        struct scmd *c = s->heap[0];
        enum cmd_action act;
        /* mutants: a SENT one never times out, a PENDING one never expires */
        if ((c->f.state == STORE_CMD_SENT && svc_mutant(s->k, "cmd-no-timeout")) ||
            (c->f.state == STORE_CMD_PENDING && svc_mutant(s->k, "cmd-no-expire"))) {
            scmd_heap_remove(s, c);
            continue;
        }
        cmd_fsm_tick(&c->f, now, &act);
        if (act == CMD_SEND && !send_cmd(s, c))
            cmd_fsm_lost(&c->f, now, "offline when a retransmission was due", why, sizeof why);
        else if (act == CMD_NONE && cmd_fsm_next_ms(&c->f) <= now) {
            scmd_heap_remove(s, c); /* cannot be: nothing would ever change it */
            continue;
        }
        progress(s, c);
    }
    core_batch_end(s->k);
    scmd_arm(s);
    (void)loop, (void)revents;
}

/* The devices that came online: their cached commands on the next loop pass. */
static void kick_cb(struct ev_loop *loop, ev_timer *t, int revents)
{
    struct svc_cmd *s = t->data;
    size_t n = s->kick_n;
    char (*ids)[STORE_ID_MAX + 1] = s->kick;
    s->kick = NULL;
    s->kick_n = s->kick_cap = 0;
    for (size_t i = 0; i < n; i++)
        dispatch(s, ids[i]);
    free(ids);
    core_batch_end(s->k);
    scmd_arm(s);
    (void)loop, (void)revents;
}

/* --- life ------------------------------------------------------------------------------ */

int svc_cmd_start(struct core *k, char *err, size_t errcap)
{
    struct svc_cmd *s = calloc(1, sizeof *s);
    if (!s) {
        snprintf(err, errcap, "out of memory");
        return -1;
    }
    s->k = k;
    s->db = store_sqlite(k->store);
    s->unix_off = svc_unix_ms(1000) - 1000;
    if (scmd_store_open(s, err, errcap) < 0) {
        free(s);
        return -1;
    }
    ev_timer_init(&s->timer, timer_cb, 0, 0);
    s->timer.data = s;
    ev_timer_init(&s->kick_t, kick_cb, 0, 0);
    s->kick_t.data = s;
    k->svc_cmd = s;
    if (scmd_store_load(s, load_one, err, errcap) < 0) {
        svc_cmd_stop(k);
        return -1;
    }
    scmd_arm(s);
    return 0;
}

void svc_cmd_stop(struct core *k)
{
    struct svc_cmd *s = k->svc_cmd;
    if (!s)
        return;
    ev_timer_stop(k->loop, &s->timer);
    ev_timer_stop(k->loop, &s->kick_t);
    for (size_t i = 0; i < s->id_nb; i++)
        for (struct scmd *c = s->id_b[i]; c;) {
            struct scmd *nx = c->id_next;
            scmd_free(c);
            c = nx;
        }
    for (size_t i = 0; i < s->dev_nb; i++)
        for (struct sdev *d = s->dev_b[i]; d;) {
            struct sdev *nx = d->next;
            free(d);
            d = nx;
        }
    free(s->id_b);
    free(s->task_b);
    free(s->dev_b);
    free(s->heap);
    free(s->kick);
    scmd_store_close(s);
    free(s);
    k->svc_cmd = NULL;
}

/* --- what the front-ends report ----------------------------------------------------------- */

void svc_cmd_online(struct core *k, int proto, const char *id)
{
    struct svc_cmd *s = k->svc_cmd;
    struct sdev *d = s ? scmd_dev_get(s, id, false) : NULL;
    (void)proto;
    /* mutant: coming online does not send the cached commands (a report still does) */
    if (!d || !d->head || svc_mutant(k, "cmd-cached-not-on-online"))
        return;
    if (s->kick_n == s->kick_cap) {
        size_t nc = s->kick_cap ? s->kick_cap * 2 : 64;
        char (*nk)[STORE_ID_MAX + 1] = realloc(s->kick, nc * sizeof *nk);
        if (!nk)
            return;
        s->kick = nk;
        s->kick_cap = nc;
    }
    snprintf(s->kick[s->kick_n++], STORE_ID_MAX + 1, "%s", id);
    if (!ev_is_active(&s->kick_t)) {
        ev_timer_set(&s->kick_t, 0, 0);
        ev_timer_start(k->loop, &s->kick_t);
    }
}

void svc_cmd_report(struct core *k, int proto, const char *id)
{
    struct svc_cmd *s = k->svc_cmd;
    (void)proto;
    if (!s || !s->dev_nb)
        return;
    struct sdev *d = scmd_dev_get(s, id, false);
    if (!d || !d->head)
        return;
    dispatch(s, id);
    scmd_arm(s);
}

/* Immediate commands in flight fail with their device's connection (the front-end
 * tells the same later by a FAIL of their task, which then finds nothing); cached
 * ones are left to the front-end's result and the ack deadline. */
void svc_cmd_offline(struct core *k, int proto, const char *id)
{
    struct svc_cmd *s = k->svc_cmd;
    struct sdev *d = s ? scmd_dev_get(s, id, false) : NULL;
    (void)proto;
    if (!d)
        return;
    char why[128];
    for (struct scmd *c = d->head, *nx; c; c = nx) {
        nx = c->dev_next;
        if (c->f.cached || (c->f.state != STORE_CMD_SENT && c->f.state != STORE_CMD_DELIVERED))
            continue;
        if (cmd_fsm_lost(&c->f, svc_now_ms(), "the device went offline", why, sizeof why) == 0) {
            nx = NULL; /* progress may send the next and change the list: look again */
            progress(s, c);
            d = scmd_dev_get(s, id, false);
            nx = d ? d->head : NULL;
            while (nx && (nx->f.cached || (nx->f.state != STORE_CMD_SENT && nx->f.state != STORE_CMD_DELIVERED)))
                nx = nx->dev_next;
        }
    }
    scmd_arm(s);
}

void svc_cmd_deleted(struct core *k, int proto, const char *id)
{
    struct svc_cmd *s = k->svc_cmd;
    (void)proto;
    if (!s)
        return;
    char why[128];
    struct scmd *c;
    /* every live one ends: the first again each time (the list changes under progress) */
    for (int guard = 0; (c = scmd_device_first(s, id)) && guard < 1000000; guard++) {
        int64_t now = svc_now_ms();
        int rc = c->f.state == STORE_CMD_PENDING ? cmd_fsm_cancel(&c->f, now, why, sizeof why)
                                                 : cmd_fsm_lost(&c->f, now, "the device was deleted", why, sizeof why);
        if (rc < 0)
            break;
        snprintf(c->f.why, sizeof c->f.why, "the device was deleted");
        progress(s, c);
    }
    scmd_arm(s);
}

bool svc_cmd_result(struct core *k, uint32_t task, int proto, const char *id, int state)
{
    struct svc_cmd *s = k->svc_cmd;
    struct scmd *c = s ? scmd_task_find(s, task) : NULL;
    (void)proto;
    if (!c)
        return false;
    if (strcmp(c->device, id) != 0)
        return true; /* not its device: nothing of it */
    int64_t now = svc_now_ms();
    char why[128];
    int rc = 0;
    switch (state) {
    case STORE_CMD_DELIVERED:
        if (svc_mutant(k, "cmd-no-delivered"))
            return true; /* mutant: the acknowledgement is not taken */
        rc = cmd_fsm_delivered(&c->f, now, why, sizeof why);
        break;
    case STORE_CMD_SUCCESSFUL:
        rc = cmd_fsm_result(&c->f, now, true, NULL, why, sizeof why);
        break;
    case STORE_CMD_FAIL:
        if (svc_mutant(k, "cmd-refusal-success")) { /* mutant: a refusal taken for success */
            rc = cmd_fsm_result(&c->f, now, true, NULL, why, sizeof why);
            break;
        }
        rc = cmd_fsm_result(&c->f, now, false, "the device refused it, or the front-end could not deliver it", why,
                            sizeof why);
        break;
    case STORE_CMD_TIMEOUT: {
        /* the front-end waited the ack timeout: the deadline is now, whatever the clocks say */
        if (c->f.state != STORE_CMD_SENT || svc_mutant(k, "cmd-no-timeout"))
            return true;
        if (c->f.ack_deadline_ms > now)
            c->f.ack_deadline_ms = now;
        enum cmd_action act;
        cmd_fsm_tick(&c->f, now, &act);
        if (act == CMD_SEND && !send_cmd(s, c))
            cmd_fsm_lost(&c->f, now, "offline when a retransmission was due", why, sizeof why);
        break;
    }
    default:
        return true;
    }
    if (rc == 0)
        progress(s, c);
    scmd_arm(s);
    return true;
}

/* --- creating ----------------------------------------------------------------------------- */

static core_map_command_fn mapper(struct core *k, const char *protocol)
{
    for (int i = 0; i < CORE_MAX_MAPS; i++)
        if (k->cfg->maps[i].protocol && k->cfg->maps[i].map && strcmp(k->cfg->maps[i].protocol, protocol) == 0)
            return k->cfg->maps[i].map;
    return NULL;
}

__attribute__((format(printf, 5, 6))) static int refuse(int *http, int status, char *err, size_t errcap,
                                                         const char *fmt, ...);
static int refuse(int *http, int status, char *err, size_t errcap, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errcap, fmt, ap);
    va_end(ap);
    *http = status;
    return -1;
}

/* The protocol of a device online now, without the store: the devices table is
 * keyed by (protocol, device id), and a look-up by the id alone reads all of it
 * (store_device_protocol), which 10,000 creates cannot afford. */
static bool online_protocol(struct core *k, const char *device_id, char *protocol, size_t cap)
{
    for (int i = 0; i < k->n_protos; i++)
        if (svc_online(k, i, device_id)) {
            snprintf(protocol, cap, "%s", svc_proto_name(k, i));
            return true;
        }
    return false;
}

static bool text_ok(const char *t, size_t max)
{
    return t && t[0] && strlen(t) <= max;
}

int scmd_create(struct svc_cmd *s, const struct svc_cmd_req *rq, const char *app_id, int64_t *row, int *state,
                char *command_id, size_t cap, int *http, char *err, size_t errcap)
{
    struct core *k = s->k;
    if (!text_ok(rq->device_id, STORE_ID_MAX))
        return refuse(http, 400, err, errcap, "deviceId: 1 to %d characters", STORE_ID_MAX);
    if (!text_ok(rq->service_id, SCMD_SERVICE_MAX))
        return refuse(http, 400, err, errcap, "command.serviceId: 1 to %d characters", SCMD_SERVICE_MAX);
    if (!text_ok(rq->method, SCMD_METHOD_MAX))
        return refuse(http, 400, err, errcap, "command.method: 1 to %d characters", SCMD_METHOD_MAX);
    if (rq->paras && !cJSON_IsObject(rq->paras) && !cJSON_IsNull(rq->paras))
        return refuse(http, 400, err, errcap, "command.paras: an object");
    if (rq->expire_s > SCMD_EXPIRE_MAX_S)
        return refuse(http, 400, err, errcap, "expireTime: %lld s is past the %lld s (30 days) it can be",
                      (long long)rq->expire_s, SCMD_EXPIRE_MAX_S);
    if (rq->max_retransmit < 0 || rq->max_retransmit > CMD_MAX_RETRANSMIT)
        return refuse(http, 400, err, errcap, "maxRetransmit: %d is not 0 to %d", rq->max_retransmit,
                      CMD_MAX_RETRANSMIT);
    if (rq->callback_url && (strlen(rq->callback_url) > SCMD_URL_MAX ||
                             (strncmp(rq->callback_url, "http://", 7) != 0 &&
                              strncmp(rq->callback_url, "https://", 8) != 0)))
        return refuse(http, 400, err, errcap, "callbackUrl: an http:// or https:// URL of at most %d bytes",
                      SCMD_URL_MAX);
    const char *origin = rq->origin && rq->origin[0] ? rq->origin : "api";
    char protocol[STORE_PROTOCOL_MAX + 1];
    if (!online_protocol(k, rq->device_id, protocol, sizeof protocol) &&
        !svc_device_protocol(k, rq->device_id, protocol, sizeof protocol))
        return refuse(http, 404, err, errcap, "deviceId: no device %s is registered", rq->device_id);
    core_map_command_fn map = mapper(k, protocol);
    if (!map)
        return refuse(http, 400, err, errcap, "command: the %s devices take no commands of the API (no mapping)",
                      protocol);
    const cJSON *paras = cJSON_IsObject(rq->paras) ? rq->paras : NULL;
    char *paras_text = paras ? cJSON_PrintUnformatted(paras) : NULL;
    if (paras && (!paras_text || strlen(paras_text) > SCMD_PARAS_MAX)) {
        free(paras_text);
        return refuse(http, 400, err, errcap, "command.paras: at most %d bytes of JSON", SCMD_PARAS_MAX);
    }
    struct scmd *c = calloc(1, sizeof *c);
    char why[256] = "";
    if (!c) {
        free(paras_text);
        return refuse(http, 500, err, errcap, "out of memory");
    }
    if (map(rq->service_id, rq->method, paras, &c->kind, &c->body, why, sizeof why) < 0) {
        free(paras_text);
        scmd_free(c);
        return refuse(http, 400, err, errcap, "%s", why[0] ? why : "command: the front-end cannot send it");
    }
    snprintf(c->device, sizeof c->device, "%s", rq->device_id);
    snprintf(c->protocol, sizeof c->protocol, "%s", protocol);
    scmd_new_id(c->id);
    c->origin = strdup(origin);
    c->callback_url = rq->callback_url ? strdup(rq->callback_url) : NULL;
    c->heap_at = SIZE_MAX;
    int proto = svc_proto_index(k, protocol);
    bool online = proto >= 0 && svc_online(k, proto, rq->device_id);
    /* mutant: the offline device's immediate command is SENT (to nobody), not FAIL */
    bool fake_online = !online && svc_mutant(k, "cmd-offline-sent");
    /* mutant: a long-connection device takes cached commands too */
    enum cmd_conn conn = svc_short_conn(k, protocol) || svc_mutant(k, "cmd-cached-long-conn") ? CMD_SHORT : CMD_LONG;
    enum cmd_action act;
    /* expireTime absent: 48 h for a short-connection device; a long-connection one
     * takes immediate commands only, so absent is 0 for it */
    int64_t expire_s = rq->expire_s >= 0 ? rq->expire_s : conn == CMD_LONG ? 0 : CMD_DEFAULT_EXPIRE_MS / 1000;
    if (rq->expire_s < 0 && conn == CMD_SHORT && svc_mutant(k, "cmd-default-expire-30d"))
        expire_s = SCMD_EXPIRE_MAX_S; /* mutant: the default expiry is 30 days, not 48 h */
    int64_t expire_ms = expire_s * 1000;
    int max_rt = svc_mutant(k, "cmd-no-retransmit") ? 0 : rq->max_retransmit; /* mutant: never sent again */
    if (!c->origin || cmd_fsm_create(&c->f, svc_now_ms(), expire_ms, max_rt, conn, online || fake_online,
                                     &act, why, sizeof why) < 0) {
        free(paras_text);
        scmd_free(c);
        if (!why[0])
            return refuse(http, 500, err, errcap, "out of memory");
        return refuse(http, 400, err, errcap, "%s", why);
    }
    core_batch_begin(k);
    int rc = scmd_store_insert(s, c, app_id, rq->service_id, rq->method, paras_text, expire_s, why, sizeof why);
    free(paras_text);
    if (rc < 0) {
        scmd_free(c);
        return refuse(http, 500, err, errcap, "%s", why);
    }
    *row = c->row;
    snprintf(command_id, cap, "%s", c->id);
    if (cmd_state_final(c->f.state)) {
        /* failed at once (an immediate command to an offline device): never live */
        scmd_store_note(s, c);
        for (int i = 0; i < c->f.n_path; i++)
            push_state(s, c, c->f.path[i].state);
        *state = c->f.state;
        if (strcmp(c->origin, "api") != 0)
            svc_on_cmd_done(k, c->origin, c->device, c->id, c->f.state);
        scmd_free(c);
        return 0;
    }
    if (scmd_add_live(s, c) < 0) {
        scmd_store_note(s, c);
        scmd_free(c);
        return refuse(http, 500, err, errcap, "out of memory");
    }
    if (act == CMD_SEND && fake_online)
        cmd_fsm_sent(&c->f, svc_now_ms(), why, sizeof why);
    else if (act == CMD_SEND && !send_cmd(s, c))
        cmd_fsm_lost(&c->f, svc_now_ms(), "the device is offline (an immediate command)", why, sizeof why);
    bool cached = c->f.state == STORE_CMD_PENDING;
    int final_state = c->f.state;
    char device[STORE_ID_MAX + 1];
    snprintf(device, sizeof device, "%s", c->device);
    progress(s, c); /* c is gone after this when it ended */
    if (cached && online)
        dispatch(s, device); /* a short-connection device connected now takes it at once */
    struct scmd *live = scmd_find(s, command_id);
    *state = live ? (int)live->f.state : final_state;
    scmd_arm(s);
    return 0;
}

int svc_cmd_submit(struct core *k, const struct svc_cmd_req *rq, char *command_id, size_t cap, int *state,
                   int *http, char *err, size_t errcap)
{
    struct svc_cmd *s = k->svc_cmd;
    int64_t row;
    if (!s) {
        *http = 500;
        snprintf(err, errcap, "the commands service is not running");
        return -1;
    }
    return scmd_create(s, rq, NULL, &row, state, command_id, cap, http, err, errcap);
}

size_t scmd_cancel_device(struct svc_cmd *s, const char *device_id, int64_t *rows, size_t cap)
{
    size_t n = 0;
    char why[128];
    for (;;) {
        struct scmd *c = scmd_device_first(s, device_id);
        while (c && c->f.state != STORE_CMD_PENDING)
            c = c->dev_next;
        if (!c)
            break;
        int64_t row = c->row;
        if (scmd_cancel(s, c, why, sizeof why) < 0)
            break;
        if (rows && n < cap)
            rows[n] = row;
        n++;
        if (svc_mutant(s->k, "cmd-cancel-task-first"))
            break; /* mutant: the task cancels the first PENDING one only */
    }
    scmd_arm(s);
    return n;
}

size_t svc_cmd_cancel_device(struct core *k, const char *device_id)
{
    struct svc_cmd *s = k->svc_cmd;
    return s ? scmd_cancel_device(s, device_id, NULL, 0) : 0;
}
