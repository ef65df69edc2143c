/* The push queue and its sender (svc_push.h): libcurl's multi interface on the
 * core's loop (curl names the sockets to watch and when to wake it; the loop tells
 * curl what happened), never a blocking call.  Which message goes when follows
 * push_policy.h: push_sent and push_answered decide each message's state and each
 * URL's; this file keeps, per URL, the new messages in the order queued and the
 * kept ones by their next try, so that choosing the next one costs nothing at
 * 40,000 reports a second.  The 15 s without an answer is on the virtual clock
 * (the transfer is cancelled then); curl's own timeout is only a backstop in real
 * time.  A request that gets no answer at all (refused, reset, a TLS failure) is a
 * failure like one that times out (status 0). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim/core/clock.h"
#include "sim/platform/core/core_internal.h"
#include "sim/platform/core/svc_push.h"

/* --- lists ------------------------------------------------------------------------------- */

static void pl_unlink(struct plist *l, struct pmsg *m)
{
    if (m->prev)
        m->prev->next = m->next;
    else
        l->head = m->next;
    if (m->next)
        m->next->prev = m->prev;
    else
        l->tail = m->prev;
    m->prev = m->next = NULL;
    l->n--;
}

static void pl_after(struct plist *l, struct pmsg *at, struct pmsg *m) /* at NULL: at the head */
{
    m->prev = at;
    m->next = at ? at->next : l->head;
    if (m->next)
        m->next->prev = m;
    else
        l->tail = m;
    if (at)
        at->next = m;
    else
        l->head = m;
    l->n++;
}

static struct plist *list_of(struct svc_push *P, struct pmsg *m)
{
    switch (m->list) {
    case PL_FRESH:
        return &P->urls[m->pm.url].fresh;
    case PL_KEPT:
        return &P->urls[m->pm.url].kept;
    case PL_SENT:
        return &P->sent;
    default:
        return NULL;
    }
}

static void unlist(struct svc_push *P, struct pmsg *m)
{
    struct plist *l = list_of(P, m);
    if (l)
        pl_unlink(l, m);
    m->list = PL_NONE;
}

static void to_list(struct svc_push *P, struct pmsg *m, int which)
{
    unlist(P, m);
    m->list = which;
    struct plist *l = list_of(P, m);
    struct pmsg *at = l->tail;
    if (which == PL_KEPT) /* by next try; nearly always at the tail */
        while (at && at->pm.next_try_ms > m->pm.next_try_ms)
            at = at->prev;
    pl_after(l, at, m);
}

/* The expiry list: the failed ones by first failure. */
static void exp_add(struct svc_push *P, struct pmsg *m)
{
    if (m->in_exp)
        return;
    struct pmsg *at = P->exp_tail;
    while (at && at->pm.first_fail_ms > m->pm.first_fail_ms)
        at = at->eprev;
    m->eprev = at;
    m->enext = at ? at->enext : P->exp_head;
    if (m->enext)
        m->enext->eprev = m;
    else
        P->exp_tail = m;
    if (at)
        at->enext = m;
    else
        P->exp_head = m;
    m->in_exp = true;
}

static void exp_del(struct svc_push *P, struct pmsg *m)
{
    if (!m->in_exp)
        return;
    if (m->eprev)
        m->eprev->enext = m->enext;
    else
        P->exp_head = m->enext;
    if (m->enext)
        m->enext->eprev = m->eprev;
    else
        P->exp_tail = m->eprev;
    m->eprev = m->enext = NULL;
    m->in_exp = false;
}

/* --- messages ---------------------------------------------------------------------------- */

static void free_msg(struct pmsg *m)
{
    free(m->body);
    free(m);
}

static void end_transfer(struct svc_push *P, struct pmsg *m)
{
    if (m->easy) {
        curl_multi_remove_handle(P->multi, m->easy);
        curl_easy_cleanup(m->easy);
        curl_slist_free_all(m->hdr);
        m->easy = NULL;
        m->hdr = NULL;
    }
    if (m->list == PL_SENT) {
        unlist(P, m);
        P->urls[m->pm.url].inflight--;
    }
}

/* A final state: counted, out of the store, freed. */
static void finalize(struct svc_push *P, struct pmsg *m)
{
    struct core_slot *st = P->k->st;
    end_transfer(P, m);
    unlist(P, m);
    exp_del(P, m);
    if (m->pm.state == PS_DELIVERED)
        st->push_delivered++;
    else if (m->pm.state == PS_EXPIRED)
        st->push_expired++;
    else
        st->push_rejected++;
    push_store_msg_del(P, m->row);
    P->n_msgs--;
    st->push_pending = P->n_msgs;
    free_msg(m);
}

/* Kept after a failure (or before any try, for an invalid URL). */
static void keep(struct svc_push *P, struct pmsg *m)
{
    to_list(P, m, PL_KEPT);
    exp_add(P, m);
    push_store_msg_failed(P, m);
}

/* Not sent to an invalid URL: kept as a failed one until it recovers (push_tick's rule). */
static void keep_fresh_of(struct svc_push *P, int u, int64_t now)
{
    struct purl *U = &P->urls[u];
    while (U->fresh.head) {
        struct pmsg *m = U->fresh.head;
        m->pm.state = PS_KEPT;
        m->pm.first_fail_ms = now ? now : -1;
        m->pm.next_try_ms = now;
        keep(P, m);
    }
}

void push_kick(struct svc_push *P)
{
    if (!P->stopping && !ev_is_active(&P->kick)) {
        ev_timer_set(&P->kick, 0, 0);
        ev_timer_start(P->k->loop, &P->kick);
    }
}

static struct pmsg *new_msg(struct svc_push *P, int u, char *body, size_t len)
{
    struct pmsg *m = calloc(1, sizeof *m);
    if (!m)
        return NULL;
    m->pm.url = u;
    m->pm.state = PS_NEW;
    m->body = body;
    m->len = len;
    P->n_msgs++;
    P->k->st->push_queued++;
    P->k->st->push_pending = P->n_msgs;
    return m;
}

static void drop(struct svc_push *P, const char *why)
{
    P->k->st->push_dropped++;
    if (!P->dropped_logged) { /* the first only: the counter says how many */
        P->dropped_logged = true;
        fprintf(stderr, "platform core: push: a message dropped: %s (push_dropped counts them)\n", why);
    }
}

bool push_enqueue(struct svc_push *P, int u, char *body, size_t len)
{
    if (P->n_msgs >= PUSH_QUEUE_MAX) {
        free(body);
        char why[64];
        snprintf(why, sizeof why, "the queue holds %d messages", PUSH_QUEUE_MAX);
        drop(P, why);
        return false;
    }
    int64_t row = push_store_msg_put(P, P->urls[u].url, body, len);
    struct pmsg *m = row > 0 ? new_msg(P, u, body, len) : NULL;
    if (!m) {
        if (row > 0)
            push_store_msg_del(P, row);
        free(body);
        drop(P, row > 0 ? "out of memory" : "the store failed");
        return false;
    }
    m->row = row;
    to_list(P, m, PL_FRESH);
    if (P->pu[u].invalid)
        keep_fresh_of(P, u, svc_now_ms());
    push_kick(P);
    return true;
}

void push_restore(struct svc_push *P, int u, int64_t row, char *body, int64_t first_fail_ms, uint32_t tries)
{
    struct pmsg *m = new_msg(P, u, body, strlen(body));
    if (!m) {
        free(body);
        drop(P, "out of memory");
        return;
    }
    m->row = row;
    m->pm.tries = tries;
    if (first_fail_ms) {
        /* failed before the restart: retried at once, expired at the end of its window */
        m->pm.state = PS_KEPT;
        m->pm.first_fail_ms = first_fail_ms;
        m->pm.next_try_ms = svc_now_ms();
        to_list(P, m, PL_KEPT);
        exp_add(P, m);
    } else {
        to_list(P, m, PL_FRESH);
    }
    push_kick(P);
}

int push_url_index(struct svc_push *P, const char *url)
{
    for (int i = 0; i < P->n_urls; i++)
        if (strcmp(P->urls[i].url, url) == 0)
            return i;
    if (P->n_urls >= PUSH_URLS_MAX)
        return -1;
    if (P->n_urls == P->cap_urls) {
        int cap = P->cap_urls ? P->cap_urls * 2 : 16;
        struct purl *nu = realloc(P->urls, (size_t)cap * sizeof *nu);
        if (!nu)
            return -1;
        P->urls = nu;
        struct push_url *np = realloc(P->pu, (size_t)cap * sizeof *np);
        if (!np)
            return -1;
        P->pu = np;
        P->cap_urls = cap;
    }
    char *copy = strdup(url);
    if (!copy)
        return -1;
    memset(&P->urls[P->n_urls], 0, sizeof *P->urls);
    memset(&P->pu[P->n_urls], 0, sizeof *P->pu);
    P->urls[P->n_urls].url = copy;
    return P->n_urls++;
}

/* --- answers ---------------------------------------------------------------------------- */

static void answered(struct svc_push *P, struct pmsg *m, int status, const char *why)
{
    int u = m->pm.url;
    int64_t now = svc_now_ms();
    bool probe = m->pm.probe, was_invalid = P->pu[u].invalid;
    end_transfer(P, m);
    if (probe)
        P->urls[u].probing = false;
    if (status != 200 && push_retryable(status) && svc_mutant(P->k, "push-no-retry"))
        status = 400; /* a failure that should be kept is rejected */
    if (status >= 400 && status < 500 && svc_mutant(P->k, "push-retry-4xx"))
        status = 503; /* a rejection is kept and retried */
    if (m->pm.first_fail_ms && svc_mutant(P->k, "push-no-expiry"))
        m->pm.first_fail_ms = now ? now : 1; /* every failure starts its 10 min again */
    push_answered(P->pu, &m->pm, status, now ? now : 1);
    if (svc_mutant(P->k, "push-never-invalid"))
        P->pu[u].invalid = false;
    if (status != 200) {
        P->k->st->push_failed++;
        if (P->k->cfg->verbose)
            fprintf(stderr, "platform core: push to %s: %s\n", P->urls[u].url, why);
    }
    if (push_state_final(m->pm.state))
        finalize(P, m);
    else
        keep(P, m);
    if (!was_invalid && P->pu[u].invalid)
        keep_fresh_of(P, u, now);
    push_kick(P);
}

static size_t discard(char *p, size_t size, size_t n, void *arg)
{
    (void)p, (void)arg;
    return size * n;
}

static void send_one(struct svc_push *P, struct pmsg *m, int64_t now)
{
    struct purl *U = &P->urls[m->pm.url];
    bool retry = m->pm.first_fail_ms != 0;
    to_list(P, m, PL_SENT);
    U->inflight++;
    if (m->pm.probe)
        U->probing = true;
    push_sent(&m->pm, now);
    P->k->st->push_sent++;
    if (retry)
        P->k->st->push_retried++;
    CURL *e = m->easy = curl_easy_init();
    m->hdr = curl_slist_append(NULL, "Content-Type: application/json");
    if (!e || !m->hdr) {
        answered(P, m, 0, "out of memory");
        return;
    }
    /* a backstop only: the virtual 15 s decide (pump); past them curl is cancelled */
    long backstop = (long)(clock_real_seconds((uint64_t)PUSH_TIMEOUT_MS * 1000u) * 1000.0) + 5000;
    curl_easy_setopt(e, CURLOPT_URL, U->url);
    curl_easy_setopt(e, CURLOPT_POSTFIELDS, m->body);
    curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE, (long)m->len);
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, m->hdr);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, discard);
    curl_easy_setopt(e, CURLOPT_PRIVATE, m);
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, backstop);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 2L);
    if (P->ca[0])
        curl_easy_setopt(e, CURLOPT_CAINFO, P->ca);
    if (curl_multi_add_handle(P->multi, e) != CURLM_OK)
        answered(P, m, 0, "libcurl cannot add the request");
}

/* URL u's message to send now, or NULL (push_due's choice, without the scan). */
static struct pmsg *due_of(struct svc_push *P, int u, int64_t now)
{
    struct purl *U = &P->urls[u];
    if (P->pu[u].invalid) {
        if (U->probing || now < P->pu[u].next_probe_ms || !U->kept.head)
            return NULL;
        struct pmsg *oldest = U->kept.head;
        for (struct pmsg *m = oldest->next; m; m = m->next)
            if (m->pm.first_fail_ms < oldest->pm.first_fail_ms)
                oldest = m;
        oldest->pm.probe = true;
        return oldest;
    }
    if (U->inflight >= PUSH_URL_INFLIGHT_MAX)
        return NULL;
    if (U->kept.head && U->kept.head->pm.next_try_ms <= now)
        return U->kept.head;
    return U->fresh.head;
}

/* The earliest instant something is due (INT64_MAX: nothing). */
static int64_t next_due(struct svc_push *P)
{
    int64_t t = INT64_MAX;
    if (P->sent.head)
        t = P->sent.head->pm.sent_ms + PUSH_TIMEOUT_MS;
    for (struct pmsg *m = P->exp_head; m; m = m->enext)
        if (m->pm.state == PS_KEPT) {
            if (m->pm.first_fail_ms + PUSH_KEEP_MS < t)
                t = m->pm.first_fail_ms + PUSH_KEEP_MS;
            break;
        }
    if (P->sent.n >= PUSH_INFLIGHT_MAX)
        return t; /* an answer wakes the sender */
    for (int u = 0; u < P->n_urls; u++) {
        struct purl *U = &P->urls[u];
        int64_t x = INT64_MAX;
        if (P->pu[u].invalid) {
            if (U->kept.head && !U->probing)
                x = P->pu[u].next_probe_ms;
        } else if (U->inflight < PUSH_URL_INFLIGHT_MAX) {
            if (U->fresh.head)
                x = 0;
            else if (U->kept.head)
                x = U->kept.head->pm.next_try_ms;
        }
        if (x < t)
            t = x;
    }
    return t;
}

static void pump(struct svc_push *P)
{
    if (P->stopping)
        return;
    struct core *k = P->k;
    /* what is sent was committed first */
    if (k->in_batch)
        core_batch_end(k);
    int64_t now = svc_now_ms();
    while (P->sent.head && P->sent.head->pm.sent_ms + PUSH_TIMEOUT_MS <= now)
        answered(P, P->sent.head, svc_mutant(k, "push-no-timeout") ? 200 : 0, "no answer within 15 s");
    for (struct pmsg *m = P->exp_head, *nx; m && m->pm.first_fail_ms + PUSH_KEEP_MS <= now; m = nx) {
        nx = m->enext;
        if (m->pm.state == PS_KEPT) {
            m->pm.state = PS_EXPIRED;
            finalize(P, m);
        }
    }
    while (P->sent.n < PUSH_INFLIGHT_MAX && P->n_urls) {
        struct pmsg *m = NULL;
        for (int i = 0; i < P->n_urls && !m; i++) {
            int u = (P->cursor + i) % P->n_urls;
            if ((m = due_of(P, u, now)))
                P->cursor = (u + 1) % P->n_urls;
        }
        if (!m)
            break;
        send_one(P, m, now);
    }
    core_batch_end(k); /* the final ones' rows are gone */
    int64_t t = next_due(P);
    if (t == INT64_MAX)
        ev_timer_stop(k->loop, &P->due);
    else
        svc_timer_at(k, &P->due, t > now ? t : now);
    /* what pump itself queued a kick for is done */
    ev_timer_stop(k->loop, &P->kick);
}

static void pump_cb(struct ev_loop *loop, ev_timer *t, int revents)
{
    (void)loop, (void)revents;
    pump(t->data);
}

/* --- curl on the loop ----------------------------------------------------------------- */

struct psock {
    ev_io io;
    struct svc_push *P;
    curl_socket_t fd;
};

static void reap(struct svc_push *P)
{
    CURLMsg *msg;
    int left;
    bool any = false;
    while ((msg = curl_multi_info_read(P->multi, &left))) {
        if (msg->msg != CURLMSG_DONE)
            continue;
        struct pmsg *m = NULL;
        curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&m);
        if (!m)
            continue;
        long status = 0;
        CURLcode rc = msg->data.result;
        if (rc == CURLE_OK)
            curl_easy_getinfo(m->easy, CURLINFO_RESPONSE_CODE, &status);
        char why[160];
        if (rc == CURLE_OK)
            snprintf(why, sizeof why, "HTTP %ld", status);
        else
            snprintf(why, sizeof why, "%s", curl_easy_strerror(rc));
        answered(P, m, rc == CURLE_OK ? (int)status : 0, why);
        any = true;
    }
    if (any)
        core_batch_end(P->k);
}

static void act(struct svc_push *P, curl_socket_t fd, int mask)
{
    int still;
    curl_multi_socket_action(P->multi, fd, mask, &still);
    reap(P);
}

static void io_cb(struct ev_loop *loop, ev_io *w, int revents)
{
    (void)loop;
    struct psock *s = (struct psock *)w;
    act(s->P, s->fd, (revents & EV_READ ? CURL_CSELECT_IN : 0) | (revents & EV_WRITE ? CURL_CSELECT_OUT : 0));
}

static void curl_timer_cb(struct ev_loop *loop, ev_timer *t, int revents)
{
    (void)loop, (void)revents;
    act(t->data, CURL_SOCKET_TIMEOUT, 0);
}

static int sock_fn(CURL *e, curl_socket_t fd, int what, void *userp, void *sockp)
{
    (void)e;
    struct svc_push *P = userp;
    struct psock *s = sockp;
    if (what == CURL_POLL_REMOVE) {
        if (s) {
            ev_io_stop(P->k->loop, &s->io);
            curl_multi_assign(P->multi, fd, NULL);
            free(s);
        }
        return 0;
    }
    if (!s) {
        if (!(s = calloc(1, sizeof *s)))
            return -1;
        s->P = P;
        s->fd = fd;
        ev_init(&s->io, io_cb);
        curl_multi_assign(P->multi, fd, s);
    }
    int ev = (what & CURL_POLL_IN ? EV_READ : 0) | (what & CURL_POLL_OUT ? EV_WRITE : 0);
    ev_io_stop(P->k->loop, &s->io);
    ev_io_set(&s->io, fd, ev);
    ev_io_start(P->k->loop, &s->io);
    return 0;
}

static int timer_fn(CURLM *multi, long timeout_ms, void *userp)
{
    (void)multi;
    struct svc_push *P = userp;
    ev_timer_stop(P->k->loop, &P->curl_timer);
    if (timeout_ms >= 0) {
        ev_timer_set(&P->curl_timer, (double)timeout_ms / 1000.0, 0.);
        ev_timer_start(P->k->loop, &P->curl_timer);
    }
    return 0;
}

int push_send_start(struct svc_push *P, char *err, size_t errcap)
{
    if (!(P->multi = curl_multi_init())) {
        snprintf(err, errcap, "libcurl: cannot create a multi handle");
        return -1;
    }
    curl_multi_setopt(P->multi, CURLMOPT_SOCKETFUNCTION, sock_fn);
    curl_multi_setopt(P->multi, CURLMOPT_SOCKETDATA, P);
    curl_multi_setopt(P->multi, CURLMOPT_TIMERFUNCTION, timer_fn);
    curl_multi_setopt(P->multi, CURLMOPT_TIMERDATA, P);
    curl_multi_setopt(P->multi, CURLMOPT_MAXCONNECTS, (long)PUSH_INFLIGHT_MAX * 2);
    ev_init(&P->due, pump_cb);
    P->due.data = P;
    ev_init(&P->kick, pump_cb);
    P->kick.data = P;
    ev_init(&P->curl_timer, curl_timer_cb);
    P->curl_timer.data = P;
    return 0;
}

static void free_list(struct svc_push *P, struct plist *l)
{
    while (l->head) {
        struct pmsg *m = l->head;
        end_transfer(P, m); /* a SENT one leaves the sent list here */
        if (m->list != PL_NONE)
            unlist(P, m);
        exp_del(P, m);
        free_msg(m);
    }
}

void push_send_stop(struct svc_push *P)
{
    P->stopping = true;
    if (P->k && P->k->loop) {
        ev_timer_stop(P->k->loop, &P->due);
        ev_timer_stop(P->k->loop, &P->kick);
    }
    /* what is not final stays in the store for the next core */
    free_list(P, &P->sent);
    for (int u = 0; u < P->n_urls; u++) {
        free_list(P, &P->urls[u].fresh);
        free_list(P, &P->urls[u].kept);
        free(P->urls[u].url);
    }
    P->exp_head = P->exp_tail = NULL;
    if (P->multi)
        curl_multi_cleanup(P->multi);
    P->multi = NULL;
    if (P->k && P->k->loop)
        ev_timer_stop(P->k->loop, &P->curl_timer);
    free(P->urls);
    free(P->pu);
    P->urls = NULL;
    P->pu = NULL;
    P->n_urls = P->cap_urls = 0;
}
