/* A command's life; see cmd_fsm.h. */
#include "sim/platform/core/cmd_fsm.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

__attribute__((format(printf, 3, 4))) static int refuse(char *why, size_t cap, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    if (why && cap)
        vsnprintf(why, cap, fmt, ap);
    va_end(ap);
    return -1;
}

static void go(struct cmd_fsm *f, enum store_cmd_state s, int64_t now_ms)
{
    f->state = s;
    if (f->n_path < CMD_MAX_PATH)
        f->path[f->n_path++] = (struct cmd_step){s, now_ms};
    else
        f->path[CMD_MAX_PATH - 1] = (struct cmd_step){s, now_ms}; /* the last is always the current */
}

bool cmd_state_final(enum store_cmd_state s)
{
    return s == STORE_CMD_EXPIRED || s == STORE_CMD_CANCELED || s == STORE_CMD_TIMEOUT ||
           s == STORE_CMD_SUCCESSFUL || s == STORE_CMD_FAIL;
}

int cmd_fsm_create(struct cmd_fsm *f, int64_t now_ms, int64_t expire_ms, int max_retransmit, enum cmd_conn conn,
                   bool online, enum cmd_action *act, char *why, size_t cap)
{
    memset(f, 0, sizeof *f);
    *act = CMD_NONE;
    if (max_retransmit < 0 || max_retransmit > CMD_MAX_RETRANSMIT)
        return refuse(why, cap, "maxRetransmit %d: 0 to %d", max_retransmit, CMD_MAX_RETRANSMIT);
    if (expire_ms < 0)
        expire_ms = CMD_DEFAULT_EXPIRE_MS;
    if (expire_ms > 0 && conn == CMD_LONG)
        return refuse(why, cap, "expireTime %lld s: a long-connection device takes immediate commands only "
                                "(expireTime 0)", (long long)(expire_ms / 1000));
    f->created_ms = now_ms;
    f->max_retransmit = (uint8_t)max_retransmit;
    f->ack_timeout_ms = CMD_ACK_TIMEOUT_MS;
    f->cached = expire_ms > 0;
    if (f->cached) {
        f->expire_at_ms = now_ms + expire_ms;
        go(f, STORE_CMD_PENDING, now_ms);
        *act = CMD_NOTIFY; /* sent when the owner finds it due (cmd_fsm_due) */
        return 0;
    }
    if (!online) {
        snprintf(f->why, sizeof f->why, "the device is offline (an immediate command)");
        go(f, STORE_CMD_FAIL, now_ms);
        *act = CMD_NOTIFY;
        return 0;
    }
    f->state = STORE_CMD__COUNT; /* not yet in a state: SENT once it went */
    *act = CMD_SEND;
    return 0;
}

int cmd_fsm_sent(struct cmd_fsm *f, int64_t now_ms, char *why, size_t cap)
{
    bool first = f->state == STORE_CMD__COUNT || f->state == STORE_CMD_PENDING;
    if (!first && f->state != STORE_CMD_SENT)
        return refuse(why, cap, "a %s command is not sent again", store_cmd_state_name(f->state));
    if (f->state == STORE_CMD_SENT && f->sendings > f->max_retransmit)
        return refuse(why, cap, "sent %u times already (maxRetransmit %u)", f->sendings, f->max_retransmit);
    f->sendings++;
    f->ack_deadline_ms = now_ms + f->ack_timeout_ms;
    if (first)
        go(f, STORE_CMD_SENT, now_ms);
    return 0;
}

int cmd_fsm_delivered(struct cmd_fsm *f, int64_t now_ms, char *why, size_t cap)
{
    if (f->state != STORE_CMD_SENT)
        return refuse(why, cap, "an acknowledgement of a %s command (only a SENT one is acknowledged)",
                      f->state == STORE_CMD__COUNT ? "new" : store_cmd_state_name(f->state));
    go(f, STORE_CMD_DELIVERED, now_ms);
    return 0;
}

int cmd_fsm_result(struct cmd_fsm *f, int64_t now_ms, bool ok, const char *detail, char *why, size_t cap)
{
    if (f->state != STORE_CMD_SENT && f->state != STORE_CMD_DELIVERED)
        return refuse(why, cap, "an answer to a %s command (only a SENT or DELIVERED one is answered)",
                      f->state == STORE_CMD__COUNT ? "new" : store_cmd_state_name(f->state));
    if (!ok)
        snprintf(f->why, sizeof f->why, "%s", detail && detail[0] ? detail : "the device reported a failure");
    go(f, ok ? STORE_CMD_SUCCESSFUL : STORE_CMD_FAIL, now_ms);
    return 0;
}

int cmd_fsm_lost(struct cmd_fsm *f, int64_t now_ms, const char *detail, char *why, size_t cap)
{
    if (f->state != STORE_CMD_SENT && f->state != STORE_CMD_DELIVERED && f->state != STORE_CMD__COUNT)
        return refuse(why, cap, "a %s command is not in flight", store_cmd_state_name(f->state));
    snprintf(f->why, sizeof f->why, "%s", detail && detail[0] ? detail : "the device went offline");
    go(f, STORE_CMD_FAIL, now_ms);
    return 0;
}

int cmd_fsm_cancel(struct cmd_fsm *f, int64_t now_ms, char *why, size_t cap)
{
    if (f->state != STORE_CMD_PENDING)
        return refuse(why, cap, "only a PENDING command can be cancelled (this one is %s)",
                      f->state == STORE_CMD__COUNT ? "being sent" : store_cmd_state_name(f->state));
    snprintf(f->why, sizeof f->why, "cancelled");
    go(f, STORE_CMD_CANCELED, now_ms);
    return 0;
}

void cmd_fsm_tick(struct cmd_fsm *f, int64_t now_ms, enum cmd_action *act)
{
    *act = CMD_NONE;
    if (f->state == STORE_CMD_PENDING && now_ms >= f->expire_at_ms) {
        snprintf(f->why, sizeof f->why, "not sent within its expireTime (%lld s)",
                 (long long)((f->expire_at_ms - f->created_ms) / 1000));
        go(f, STORE_CMD_EXPIRED, now_ms);
        *act = CMD_NOTIFY;
    } else if (f->state == STORE_CMD_SENT && now_ms >= f->ack_deadline_ms) {
        if (f->sendings <= f->max_retransmit) {
            *act = CMD_SEND; /* again: cmd_fsm_sent moves the deadline */
            return;
        }
        snprintf(f->why, sizeof f->why, "no acknowledgement within %lld s of %u sending%s",
                 (long long)(f->ack_timeout_ms / 1000), f->sendings, f->sendings > 1 ? "s" : "");
        go(f, STORE_CMD_TIMEOUT, now_ms);
        *act = CMD_NOTIFY;
    }
}

int64_t cmd_fsm_next_ms(const struct cmd_fsm *f)
{
    if (f->state == STORE_CMD_PENDING)
        return f->expire_at_ms;
    if (f->state == STORE_CMD_SENT)
        return f->ack_deadline_ms;
    return INT64_MAX;
}

int cmd_fsm_due(const struct cmd_fsm *const *cmds, int n)
{
    int first = -1;
    for (int i = 0; i < n; i++) {
        if (cmds[i]->state == STORE_CMD_SENT || cmds[i]->state == STORE_CMD__COUNT)
            return -1; /* one in flight: the next waits for it */
        if (cmds[i]->state == STORE_CMD_PENDING && first < 0)
            first = i;
    }
    return first;
}

void cmd_fsm_path_text(const struct cmd_fsm *f, char *out, size_t cap)
{
    size_t o = 0;
    out[0] = 0;
    for (int i = 0; i < f->n_path && o < cap; i++)
        o += (size_t)snprintf(out + o, cap - o, "%s%s", i ? " -> " : "", store_cmd_state_name(f->path[i].state));
}
