/* JT/T 808 terminal: multimedia (see the request/reply table in README.md).
 *
 *   0x8801 -> 0x0805 (ids), then per shot, one after the other: 0x0800 event and
 *             0x0801 data (a synthetic JPEG), in subpackages, a few per turn
 *   0x8800 with package ids -> those packages again; without: that upload is done
 *   0x8003 -> the listed packages of the last subpackaged message, as they were
 *             (each once per request, however often listed; none of its ids names a
 *             package sent: 0x0001 result 2)
 *   0x8802 -> 0x0802 the stored items that match; 0x8803, 0x8805 -> 0x0001 then
 *             0x0801 of each (deleted afterwards when asked); 0x8804 -> 0x0001, and
 *             on stop (or at the end of its duration) an audio 0x0801
 *
 * A platform that floods requests cannot make a terminal hold more: a full queue
 * refuses (0x0805 or 0x0001 result 1, counted requests_refused), and the bytes held
 * stay under a fixed bound (jt808_term_media_held).
 *
 * Everything here is allocated on a terminal's first multimedia request: a
 * bounded store of what it took (no pixels: the bytes are made again from the
 * id when uploaded), a bounded queue of jobs, and the packages of the upload in
 * progress (each encrypted on its own after the key exchange, fleet option rsa), kept until the platform says it has them all (0x8800 without ids) or
 * the upload times out (the ledger's ack timeout for 0x0801). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim/dev/jt808_term_int.h"
#include "sim/proto/jt808_layout.h"
#include "sim/proto/jt808_pkgs.h"

#define MEDIA_STORE 16        /* items kept; the oldest is dropped for a new one */
#define MEDIA_JOBS 32         /* shots and uploads queued */
#define MEDIA_SHOTS_MAX 16    /* shots of one 0x8801 */
#define MEDIA_CHUNK 900       /* body bytes per 0x0801 package */
#define MEDIA_BURST 4         /* packages per turn */
#define MEDIA_GAP_US 20000u   /* between turns (virtual) */
#define MEDIA_BODY_MAX 16384  /* a 0x0801 body: 36 bytes of fields, the picture or sound */
#define AUDIO_MAX 4096        /* samples of a recording (8 kHz, 8 bit: half a second) */

enum { MT_IMAGE = 0, MT_AUDIO = 1 };
enum { MF_JPEG = 0, MF_WAV = 3 };

struct media_item {
    uint32_t id;              /* 0: free */
    uint8_t type, format, event, channel, res;
    uint32_t seconds;         /* audio: length recorded */
    uint64_t taken_us;
    char time[13];            /* YYMMDDhhmmss (GMT+8) it was taken */
    uint8_t loc[28];          /* where (basic location) */
};

enum { J_TAKE = 1, J_EVENT = 2, J_UPLOAD = 4, J_DELETE = 8 };
struct media_job {
    uint32_t id;
    uint64_t due_us;
    uint8_t flags, channel, res;
};

struct upload {
    uint32_t media_id;
    uint16_t first_serial, total, sent; /* packages sent so far (the first time) */
    bool live, expected, del;           /* packages held; in the ledger; delete when done */
    struct jt808_pkgs *pk;              /* the packages as sent (encrypted ones too), for resends */
};

struct jt808_media {
    uint32_t next_id;
    struct media_item store[MEDIA_STORE];
    struct media_job jobs[MEDIA_JOBS];
    uint8_t job_head, n_jobs;
    struct upload up;
    uint64_t next_us;                   /* pacing of the packages */
    bool recording;
    uint8_t rec_channel, rec_save;
    uint64_t rec_start_us, rec_until_us; /* until 0: until told to stop */
};

static struct jt808_media *media(struct term *t, bool create)
{
    struct jt808_more *x = jt_more(t, create);
    if (!x)
        return NULL;
    if (!x->media && create)
        x->media = calloc(1, sizeof *x->media);
    return x->media;
}

/* on_tick at the next turn (a wake at virtual 0 would be no wake) */
static void wake_soon(struct term *t)
{
    term_wake_at(t, term_now() + 1);
}

static void up_free(struct upload *u)
{
    jt808_pkgs_free(u->pk);
    memset(u, 0, sizeof *u);
}

size_t jt808_term_media_held(const struct jt808_more *x)
{
    const struct jt808_media *md = x->media;
    if (!md)
        return 0;
    return sizeof *md + jt808_pkgs_held(md->up.pk);
}

void jt808_term_media_free(struct jt808_more *x)
{
    if (!x->media)
        return;
    up_free(&x->media->up);
    free(x->media);
    x->media = NULL;
}

/* --- synthetic content ---------------------------------------------------------------- */

static void dims(uint8_t res, unsigned *w, unsigned *h)
{
    static const unsigned wh[][2] = {{640, 480}, {320, 240}, {640, 480}, {800, 600}, {1024, 768},
                                     {176, 144}, {352, 288}, {704, 288}, {704, 576}};
    unsigned k = res < sizeof wh / sizeof wh[0] ? res : 0;
    *w = wh[k][0];
    *h = wh[k][1];
}

/* A baseline JPEG that decoders take: SOI, JFIF APP0, a comment that brings it to
 * the size a picture of that resolution might have (1 kB + a byte per 256 pixels),
 * one quantisation table, an 8x8 grey frame, two one-code Huffman tables, a scan of
 * one block (DC 0, end of block), EOI.  Returns its length (0: cap too small). */
size_t jt808_media_jpeg(uint8_t res, uint32_t media_id, uint8_t *out, size_t cap)
{
    unsigned w, h;
    dims(res, &w, &h);
    size_t want = 1024 + (size_t)w * h / 256;
    static const uint8_t app0[] = {0xFF, 0xE0, 0x00, 0x10, 'J', 'F', 'I', 'F', 0x00, 0x01, 0x01,
                                   0x00, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00};
    static const uint8_t sof_dht_sos[] = {
        0xFF, 0xC0, 0x00, 0x0B, 0x08, 0x00, 0x08, 0x00, 0x08, 0x01, 0x01, 0x11, 0x00,
        0xFF, 0xC4, 0x00, 0x14, 0x00, 0x01, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x00,
        0xFF, 0xC4, 0x00, 0x14, 0x10, 0x01, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x00,
        0xFF, 0xDA, 0x00, 0x08, 0x01, 0x01, 0x00, 0x00, 0x3F, 0x00,
        0x3F, /* DC code 0 (category 0), AC code 0 (EOB), padded with ones */
        0xFF, 0xD9};
    /* SOI, APP0, the comment's marker and length, DQT (marker, length, table), the rest */
    size_t fixed = 2 + sizeof app0 + 4 + 4 + 65 + sizeof sof_dht_sos;
    size_t com = want > fixed ? want - fixed : 0;
    if (com > 65533)
        com = 65533;
    size_t total = fixed + com;
    if (total > cap)
        return 0;
    size_t k = 0;
    out[k++] = 0xFF;
    out[k++] = 0xD8;
    memcpy(out + k, app0, sizeof app0);
    k += sizeof app0;
    out[k++] = 0xFF;
    out[k++] = 0xFE;
    out[k++] = (uint8_t)((com + 2) >> 8);
    out[k++] = (uint8_t)(com + 2);
    int hn = snprintf((char *)out + k, com + 1, "fleetsim shot %u %ux%u ", media_id, w, h);
    size_t filled = hn > 0 ? ((size_t)hn < com ? (size_t)hn : com) : 0;
    for (size_t i = filled; i < com; i++)
        out[k + i] = (uint8_t)('a' + (media_id + i) % 26);
    k += com;
    out[k++] = 0xFF;
    out[k++] = 0xDB;
    out[k++] = 0x00;
    out[k++] = 0x43;
    out[k++] = 0x00;
    memset(out + k, 1, 64);
    k += 64;
    memcpy(out + k, sof_dht_sos, sizeof sof_dht_sos);
    k += sizeof sof_dht_sos;
    return k;
}

static void le32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

/* A WAV of silence with a soft tone, 8 kHz 8-bit mono. */
static size_t wav(uint32_t seconds, uint8_t *out, size_t cap)
{
    size_t n = (size_t)seconds * 8000u;
    if (n > AUDIO_MAX || n == 0)
        n = AUDIO_MAX;
    if (44 + n > cap)
        return 0;
    memcpy(out, "RIFF", 4);
    le32(out + 4, (uint32_t)(36 + n));
    memcpy(out + 8, "WAVEfmt ", 8);
    le32(out + 16, 16);
    out[20] = 1, out[21] = 0, out[22] = 1, out[23] = 0; /* PCM, mono */
    le32(out + 24, 8000);
    le32(out + 28, 8000);
    out[32] = 1, out[33] = 0, out[34] = 8, out[35] = 0;
    memcpy(out + 36, "data", 4);
    le32(out + 40, (uint32_t)n);
    for (size_t i = 0; i < n; i++)
        out[44 + i] = (uint8_t)(128 + ((i / 4) % 2 ? 8 : -8));
    return 44 + n;
}

/* --- store and jobs ------------------------------------------------------------------ */

static struct media_item *item_find(struct jt808_media *md, uint32_t id)
{
    for (int i = 0; i < MEDIA_STORE; i++)
        if (id && md->store[i].id == id)
            return &md->store[i];
    return NULL;
}

static struct media_item *item_add(struct term *t, struct jt808_media *md, uint32_t id)
{
    struct media_item *it = &md->store[0];
    for (int i = 0; i < MEDIA_STORE && it->id; i++) /* a free one, else the oldest goes */
        if (!md->store[i].id || md->store[i].taken_us < it->taken_us)
            it = &md->store[i];
    memset(it, 0, sizeof *it);
    it->id = id;
    it->taken_us = term_now();
    jt808_time_text(clock_unix_at(it->taken_us), it->time);
    if (jt_location_bytes(t, false, it->loc, sizeof it->loc) != sizeof it->loc)
        memset(it->loc, 0, sizeof it->loc);
    return it;
}

static bool job_push(struct jt808_media *md, uint32_t id, uint64_t due, uint8_t flags, uint8_t ch, uint8_t res)
{
    if (md->n_jobs == MEDIA_JOBS)
        return false;
    md->jobs[(md->job_head + md->n_jobs) % MEDIA_JOBS] = (struct media_job){id, due, flags, ch, res};
    md->n_jobs++;
    return true;
}

static void job_pop(struct jt808_media *md)
{
    if (!md->n_jobs)
        return;
    md->job_head = (uint8_t)((md->job_head + 1) % MEDIA_JOBS);
    md->n_jobs--;
}

/* --- uploads ------------------------------------------------------------------------- */

/* Build the 0x0801 of item it and split it into packages (held in md->up). */
static bool upload_start(struct term *t, struct jt808_media *md, const struct media_item *it, bool del)
{
    static uint8_t content[MEDIA_BODY_MAX], body[MEDIA_BODY_MAX + 64];
    size_t cn = it->type == MT_AUDIO ? wav(it->seconds, content, sizeof content)
                                     : jt808_media_jpeg(it->res, it->id, content, sizeof content);
    struct jt808_lay_body *b = jt_lay_start(t, 0x0801);
    bool ok = cn && b && jt808_lay_set_u32(b, &jt_out, "media_id", it->id) &&
              jt808_lay_set_u32(b, &jt_out, "type", it->type) &&
              jt808_lay_set_u32(b, &jt_out, "format", it->format) &&
              jt808_lay_set_u32(b, &jt_out, "event", it->event) &&
              jt808_lay_set_u32(b, &jt_out, "channel", it->channel) &&
              jt808_lay_set_bytes(b, &jt_out, "location", it->loc, sizeof it->loc) &&
              jt808_lay_set_bytes(b, &jt_out, "data", content, cn);
    size_t n = 0;
    struct jt808_err err;
    if (!ok || jt808_body_encode(&jt_out, body, sizeof body, &n, &err) != JT808_OK)
        return false;
    struct upload *u = &md->up;
    up_free(u);
    /* consecutive serials from the one jt_lay_start took; encrypted after the key exchange */
    u->pk = jt808_term_pkgs(t, body, n, MEDIA_CHUNK);
    if (!u->pk)
        return false;
    u->first_serial = u->pk->first_serial;
    u->media_id = it->id;
    u->total = u->pk->total;
    u->sent = 0;
    u->live = true;
    u->del = del;
    return true;
}

static bool send_package(struct term *t, struct upload *u, uint16_t index)
{
    static uint8_t frame[JT808_MAX_FRAME];
    size_t len = 0;
    if (!u->pk || jt808_pkgs_frame(u->pk, index, frame, sizeof frame, &len, NULL) != JT808_OK)
        return false;
    bool ok = term_send(t, frame, len);
    if (ok)
        ts(t)->last_tx_us = term_now();
    return ok;
}

/* The upload is over (whole, abandoned or timed out): on to the next job. */
static void upload_done(struct term *t, struct jt808_media *md, bool ok)
{
    struct upload *u = &md->up;
    if (u->expected) {
        uint16_t kind = 0;
        term_settle(t, u->first_serial, ok, LEDGER_REFUSED, &kind, NULL);
    }
    if (ok && u->del) {
        struct media_item *it = item_find(md, u->media_id);
        if (it)
            it->id = 0;
    }
    up_free(u);
    job_pop(md);
}

/* Resend the listed packages (ids[i]: indexes from 1) of the held upload, in the
 * order listed, each at most once however often it is listed: a list of 65535 ids
 * costs at most the upload's own packages.  Ids of packages it has not sent yet, or
 * that it does not have, are left out.  Returns how many ids named a package. */
static size_t resend(struct term *t, struct jt808_media *md, const struct jt808_lay_body *b)
{
    static uint8_t seen[(UINT16_MAX + 1) / 8];
    size_t n = 0, named = 0;
    jt808_lay_list_len(b, "ids", &n);
    memset(seen, 0, (size_t)md->up.total / 8 + 1);
    char path[24];
    for (size_t i = 0; i < n && conn_open(&t->conn); i++) {
        uint32_t idx = 0;
        snprintf(path, sizeof path, "ids[%zu].id", i);
        if (!jt808_lay_get_u32(b, path, &idx) || idx < 1 || idx > md->up.sent)
            continue;
        named++;
        if (seen[idx / 8] >> (idx % 8) & 1u)
            continue;
        seen[idx / 8] |= (uint8_t)(1u << (idx % 8));
        if (send_package(t, &md->up, (uint16_t)idx))
            term_count(t, JT808_C_MEDIA_RESENT, 1);
    }
    return named;
}

static void send_event(struct term *t, const struct media_item *it)
{
    struct jt808_lay_body *b = jt_lay_start(t, 0x0800);
    if (b && jt808_lay_set_u32(b, &jt_out, "media_id", it->id) &&
        jt808_lay_set_u32(b, &jt_out, "type", it->type) && jt808_lay_set_u32(b, &jt_out, "format", it->format) &&
        jt808_lay_set_u32(b, &jt_out, "event", it->event) && jt808_lay_set_u32(b, &jt_out, "channel", it->channel))
        jt_send(t, true); /* answered with 0x8001 */
}

static void finish_recording(struct term *t, struct jt808_media *md, uint64_t now)
{
    md->recording = false;
    struct media_item *it = item_add(t, md, ++md->next_id);
    it->type = MT_AUDIO;
    it->format = MF_WAV;
    it->channel = md->rec_channel;
    it->seconds = (uint32_t)((now - md->rec_start_us) / 1000000u);
    if (md->rec_save == 0)
        job_push(md, it->id, now, J_UPLOAD, it->channel, 0);
}

uint64_t jt808_term_media_tick(struct term *t, uint64_t now)
{
    struct jt808_media *md = media(t, false);
    if (!md)
        return 0;
    if (md->recording && md->rec_until_us && now >= md->rec_until_us)
        finish_recording(t, md, now);
    bool online = t->state == TS_AUTHENTICATED && conn_open(&t->conn);
    struct upload *u = &md->up;
    if (u->live && !online) {
        upload_done(t, md, false); /* the connection went: given up */
        u = &md->up;
    }
    /* jobs one after the other: the head one runs until its upload is over */
    while (md->n_jobs && !u->live) {
        struct media_job *j = &md->jobs[md->job_head];
        if (now < j->due_us)
            break;
        struct media_item *it = item_find(md, j->id);
        if (j->flags & J_TAKE) {
            it = item_add(t, md, j->id);
            it->type = MT_IMAGE;
            it->format = MF_JPEG;
            it->channel = j->channel;
            it->res = j->res;
            term_count(t, JT808_C_MEDIA_SHOTS, 1);
            j->flags &= (uint8_t)~J_TAKE;
        }
        if (!(j->flags & J_UPLOAD) || !it) {
            job_pop(md);
            continue;
        }
        if (!online || !term_can_request(t))
            break;
        if (j->flags & J_EVENT) {
            send_event(t, it);
            j->flags &= (uint8_t)~J_EVENT;
            if (!term_can_request(t))
                break;
        }
        if (!upload_start(t, md, it, j->flags & J_DELETE)) {
            job_pop(md); /* cannot be made: skipped rather than retried for ever */
            continue;
        }
        md->next_us = now;
    }
    if (u->live && u->sent < u->total && now >= md->next_us) {
        for (int k = 0; k < MEDIA_BURST && u->sent < u->total; k++) {
            if (u->sent == 0) {
                if (!term_can_request(t))
                    break;
                /* the message is in the ledger until its 0x8800 says it is whole */
                term_expect(t, u->first_serial, 0x0801);
                u->expected = true;
            }
            if (!send_package(t, u, (uint16_t)(u->sent + 1)))
                return 0; /* dropped: the disconnect handles the rest */
            u->sent++;
            term_count(t, JT808_C_MEDIA_PACKAGES, 1);
        }
        md->next_us = now + MEDIA_GAP_US;
    }
    uint64_t next = 0;
    if (u->live && u->sent < u->total)
        next = md->next_us;
    else if (!u->live && md->n_jobs)
        next = md->jobs[md->job_head].due_us > now ? md->jobs[md->job_head].due_us : now + MEDIA_GAP_US;
    if (md->recording && md->rec_until_us && (!next || md->rec_until_us < next))
        next = md->rec_until_us;
    return next;
}

bool jt808_term_media_timeout(struct term *t, uint16_t msg_id)
{
    struct jt808_media *md = media(t, false);
    if (msg_id != 0x0801 || !md || !md->up.live)
        return false;
    md->up.expected = false; /* the ledger has already counted it */
    upload_done(t, md, false);
    term_wake_at(t, term_now() + MEDIA_GAP_US);
    return true;
}

/* --- requests ------------------------------------------------------------------------ */

static void shoot(struct term *t, struct jt808_media *md, const struct jt808_msg *m)
{
    uint32_t channel = 0, command = 0, interval = 0, save = 0, res = 0;
    jt808_lay_get_u32(m->lay, "channel", &channel);
    jt808_lay_get_u32(m->lay, "command", &command);
    jt808_lay_get_u32(m->lay, "interval", &interval);
    jt808_lay_get_u32(m->lay, "save", &save);
    jt808_lay_get_u32(m->lay, "resolution", &res);
    uint32_t ids[MEDIA_SHOTS_MAX];
    size_t n = 0;
    uint8_t result = 0;
    uint64_t now = term_now();
    if (command == 0) {
        /* stop: shots not taken yet are not */
        uint8_t keep = 0;
        for (uint8_t i = 0; i < md->n_jobs; i++) {
            struct media_job j = md->jobs[(md->job_head + i) % MEDIA_JOBS];
            if (!(j.flags & J_TAKE) || (i == 0 && md->up.live))
                md->jobs[(md->job_head + keep++) % MEDIA_JOBS] = j;
        }
        md->n_jobs = keep;
    } else if (command == 0xFFFF) {
        result = 1; /* video is not simulated */
    } else {
        for (uint32_t k = 0; k < command && n < MEDIA_SHOTS_MAX; k++) {
            uint32_t id = md->next_id + 1;
            uint8_t fl = J_TAKE | (save ? 0 : J_EVENT | J_UPLOAD);
            if (!job_push(md, id, now + (uint64_t)k * interval * 1000000ull, fl, (uint8_t)channel, (uint8_t)res))
                break;
            md->next_id = id;
            ids[n++] = id;
        }
        if (!n) {
            result = 1; /* the queue is full (MEDIA_JOBS): refused, not dropped */
            term_count(t, JT808_C_REQ_REFUSED, 1);
        }
    }
    struct jt808_lay_body *b = jt_lay_start(t, 0x0805);
    bool ok = b && jt808_lay_set_u32(b, &jt_out, "ack_serial", m->h.serial) &&
              jt808_lay_set_u32(b, &jt_out, "result", result);
    char path[24];
    if (result == 0) {
        ok = ok && jt808_lay_list_resize(b, &jt_out, "ids", n) && jt808_lay_set_u32(b, &jt_out, "count", (uint32_t)n);
        for (size_t i = 0; i < n && ok; i++) {
            snprintf(path, sizeof path, "ids[%zu].id", i);
            ok = jt808_lay_set_u32(b, &jt_out, path, ids[i]);
        }
    }
    if (ok && jt_send(t, false))
        jt_count_reply(t);
    wake_soon(t);
}

/* Does item it match the filter of 0x8802 / 0x8803 (type, channel 0 = any,
 * event, start and end time, all zeros = unbounded)? */
static bool matches(const struct media_item *it, const struct jt808_lay_body *b)
{
    uint32_t type = 0, channel = 0, event = 0;
    const char *start = "", *end = "";
    jt808_lay_get_u32(b, "type", &type);
    jt808_lay_get_u32(b, "channel", &channel);
    jt808_lay_get_u32(b, "event", &event);
    jt808_lay_get_str(b, "start", &start);
    jt808_lay_get_str(b, "end", &end);
    if (!it->id || it->type != type || (channel && it->channel != channel) || it->event != event)
        return false;
    if (strcmp(start, "000000000000") != 0 && strcmp(it->time, start) < 0)
        return false;
    if (strcmp(end, "000000000000") != 0 && strcmp(it->time, end) > 0)
        return false;
    return true;
}

static void retrieve(struct term *t, struct jt808_media *md, const struct jt808_msg *m)
{
    struct jt808_lay_body *b = jt_lay_start(t, 0x0802);
    bool ok = b && jt808_lay_set_u32(b, &jt_out, "ack_serial", m->h.serial) &&
              jt808_lay_list_resize(b, &jt_out, "items", 0);
    size_t n = 0;
    char path[40];
    for (int i = 0; i < MEDIA_STORE && ok; i++) {
        const struct media_item *it = &md->store[i];
        if (!matches(it, m->lay))
            continue;
        const struct { const char *f; uint32_t v; } kv[] = {
            {"media_id", it->id}, {"type", it->type}, {"channel", it->channel}, {"event", it->event}};
        for (size_t k = 0; k < 4 && ok; k++) {
            snprintf(path, sizeof path, "items[%zu].%s", n, kv[k].f);
            ok = jt808_lay_set_u32(b, &jt_out, path, kv[k].v);
        }
        snprintf(path, sizeof path, "items[%zu].location", n);
        ok = ok && jt808_lay_set_bytes(b, &jt_out, path, it->loc, sizeof it->loc);
        n++;
    }
    ok = ok && jt808_lay_set_u32(b, &jt_out, "count", (uint32_t)n);
    if (ok && jt_send(t, false))
        jt_count_reply(t);
}

/* 0x8805 (one item) and 0x8803 (the matching ones) queue their uploads, answered
 * 0x0001: result 1 when the item is not held, or when the queue (MEDIA_JOBS) has
 * no room for any of them (counted as refused). */
static void upload_stored(struct term *t, struct jt808_media *md, const struct jt808_msg *m)
{
    uint32_t del = 0;
    uint8_t flags = J_UPLOAD;
    jt808_lay_get_u32(m->lay, "delete", &del);
    if (del)
        flags |= J_DELETE;
    size_t wanted = 0, queued = 0;
    if (m->h.msg_id == 0x8805) {
        uint32_t id = 0;
        jt808_lay_get_u32(m->lay, "media_id", &id);
        if (item_find(md, id)) {
            wanted = 1;
            queued = job_push(md, id, term_now(), flags, 0, 0);
        }
    } else {
        /* oldest first, as they were taken */
        uint32_t last = 0;
        for (;;) {
            const struct media_item *best = NULL;
            for (int i = 0; i < MEDIA_STORE; i++) {
                const struct media_item *it = &md->store[i];
                if (it->id > last && matches(it, m->lay) && (!best || it->id < best->id))
                    best = it;
            }
            if (!best)
                break;
            wanted++;
            if (!job_push(md, best->id, term_now(), flags, 0, 0))
                break;
            queued++;
            last = best->id;
        }
    }
    bool refused = wanted && !queued;
    if (refused)
        term_count(t, JT808_C_REQ_REFUSED, 1);
    jt_general_reply(t, &m->h, refused || (m->h.msg_id == 0x8805 && !wanted) ? 1 : 0);
    wake_soon(t);
}

static void record(struct term *t, struct jt808_media *md, const struct jt808_msg *m)
{
    uint32_t command = 0, duration = 0, save = 0;
    jt808_lay_get_u32(m->lay, "command", &command);
    jt808_lay_get_u32(m->lay, "duration", &duration);
    jt808_lay_get_u32(m->lay, "save", &save);
    jt_general_reply(t, &m->h, 0);
    uint64_t now = term_now();
    if (command == 0) {
        if (md->recording)
            finish_recording(t, md, now);
    } else if (!md->recording) {
        md->recording = true;
        md->rec_channel = 1;
        md->rec_save = (uint8_t)save;
        md->rec_start_us = now;
        md->rec_until_us = duration ? now + duration * 1000000ull : 0;
    }
    if (md->recording && md->rec_until_us)
        term_wake_at(t, md->rec_until_us);
    wake_soon(t);
}

bool jt808_term_media(struct term *t, const struct jt808_msg *m)
{
    uint16_t id = m->h.msg_id;
    /* answers about uploads need nothing new */
    struct jt808_media *md = media(t, id != 0x8800 && id != 0x8003);
    if (!md) {
        if (id != 0x8800)
            jt_general_reply(t, &m->h, 1); /* nothing held (0x8003), or out of memory */
        return true;
    }
    switch (id) {
    case 0x8801: shoot(t, md, m); break;
    case 0x8802: retrieve(t, md, m); break;
    case 0x8803:
    case 0x8805: upload_stored(t, md, m); break;
    case 0x8804: record(t, md, m); break;
    case 0x8800: {
        uint32_t mid = 0;
        size_t n = 0;
        jt808_lay_get_u32(m->lay, "media_id", &mid);
        jt808_lay_list_len(m->lay, "ids", &n);
        if (!md->up.live || md->up.media_id != mid)
            break; /* about an upload no longer held */
        if (n == 0) {
            upload_done(t, md, true);
            wake_soon(t);
        } else if (!resend(t, md, m->lay)) {
            jt_general_reply(t, &m->h, 2); /* ids of no package it sent: a bad message */
        }
        break;
    }
    case 0x8003: {
        uint32_t orig = 0;
        jt808_lay_get_u32(m->lay, "orig_serial", &orig);
        if (md->up.live && md->up.first_serial == orig) {
            if (!resend(t, md, m->lay)) /* else answered by the packages themselves */
                jt_general_reply(t, &m->h, 2); /* ids of no package it sent: a bad message */
        } else
            jt_general_reply(t, &m->h, 1); /* that message is no longer held */
        break;
    }
    default:
        return false;
    }
    return true;
}
