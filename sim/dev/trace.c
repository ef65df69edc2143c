/* Text traces and synthesised pcaps of terminals' traffic. */
#include "sim/dev/trace.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "sim/dev/dialect.h"
#include "sim/dev/fleet.h"
#include "sim/proto/hex.h"
#include "sim/core/fdio.h"

#define PCAP_MAGIC 0xa1b2c3d4u      /* microsecond timestamps */
#define LINKTYPE_RAW 101            /* packets begin with the IPv4 header */
#define SEG_MAX 65000               /* payload per synthesised packet */
#define TEXT_MAX (256 * 1024)       /* one trace line */

/* --- files --------------------------------------------------------------------------- */

int trace_ids_check(const char *ids, char *err, size_t errcap)
{
    if (!ids || !ids[0]) {
        snprintf(err, errcap, "no device id to trace");
        return -1;
    }
    int n = 0;
    for (const char *p = ids;;) {
        size_t l = strcspn(p, ",");
        if (l == 0) {
            snprintf(err, errcap, "'%s': an empty device id (at character %zu)", ids, (size_t)(p - ids) + 1);
            return -1;
        }
        if (l > 63) {
            snprintf(err, errcap, "'%.*s...': a device id of %zu chars, at most 63", 20, p, l);
            return -1;
        }
        if (++n > TRACE_MAX_IDS) {
            snprintf(err, errcap, "more than %d device ids to trace", TRACE_MAX_IDS);
            return -1;
        }
        p += l;
        if (!*p)
            break;
        p++;
    }
    return 0;
}

static void put32le(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}

int trace_create(const struct trace_opts *o, char *err, size_t errcap)
{
    if (o->text_path && o->text_path[0]) {
        int fd = open(o->text_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (fd < 0) {
            snprintf(err, errcap, "--trace: cannot create %s: %s", o->text_path, strerror(errno));
            return -1;
        }
        close(fd);
    }
    if (o->pcap_path && o->pcap_path[0]) {
        int fd = open(o->pcap_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (fd < 0) {
            snprintf(err, errcap, "--pcap: cannot create %s: %s", o->pcap_path, strerror(errno));
            return -1;
        }
        uint8_t h[24] = {0};
        put32le(h, PCAP_MAGIC);
        h[4] = 2; /* version 2.4 */
        h[6] = 4;
        put32le(h + 16, 65535);        /* snaplen */
        put32le(h + 20, LINKTYPE_RAW);
        int rc = fd_write_all(fd, h, sizeof h);
        int e = errno;
        close(fd);
        if (rc < 0) {
            snprintf(err, errcap, "--pcap: cannot write %s: %s", o->pcap_path, strerror(e));
            return -1;
        }
    }
    return 0;
}

int trace_open(struct trace *tr, const struct trace_opts *o, int n_workers, char *err, size_t errcap)
{
    memset(tr, 0, sizeof *tr);
    tr->opened = true;
    tr->text_fd = tr->pcap_fd = -1;
    if (o->ids && o->ids[0]) {
        if (trace_ids_check(o->ids, err, errcap) < 0)
            return -1;
        for (const char *p = o->ids; *p && tr->n_ids < TRACE_MAX_IDS;) {
            size_t l = strcspn(p, ",");
            snprintf(tr->ids[tr->n_ids++], sizeof tr->ids[0], "%.*s", (int)l, p);
            p += l + (p[l] == ',');
        }
        if (o->text_path && o->text_path[0]) {
            tr->text_fd = open(o->text_path, O_WRONLY | O_APPEND | O_CLOEXEC);
            if (tr->text_fd < 0) {
                snprintf(err, errcap, "--trace: cannot open %s: %s", o->text_path, strerror(errno));
                return -1;
            }
        } else {
            tr->text_fd = dup(STDERR_FILENO);
        }
    }
    if (o->pcap_path && o->pcap_path[0]) {
        tr->pcap_fd = open(o->pcap_path, O_WRONLY | O_APPEND | O_CLOEXEC);
        if (tr->pcap_fd < 0) {
            snprintf(err, errcap, "--pcap: cannot open %s: %s", o->pcap_path, strerror(errno));
            trace_close_all(tr);
            return -1;
        }
        tr->pcap_all = tr->n_ids == 0;
        uint64_t limit = o->pcap_limit ? o->pcap_limit : TRACE_PCAP_DEFAULT_LIMIT;
        tr->pcap_budget = limit / (uint64_t)(n_workers > 0 ? n_workers : 1);
    }
    return 0;
}

void trace_close_all(struct trace *tr)
{
    if (!tr->opened)
        return;
    if (tr->text_fd >= 0)
        close(tr->text_fd);
    if (tr->pcap_fd >= 0)
        close(tr->pcap_fd);
    tr->text_fd = tr->pcap_fd = -1;
}

bool trace_wants(const struct trace *tr, const char *ident)
{
    for (int i = 0; i < tr->n_ids; i++)
        if (strcmp(tr->ids[i], ident) == 0)
            return true;
    return false;
}

/* --- the text trace ----------------------------------------------------------------- */

static void stamp(char *out, size_t cap, struct timespec *ts)
{
    clock_gettime(CLOCK_REALTIME, ts);
    struct tm tm;
    gmtime_r(&ts->tv_sec, &tm);
    snprintf(out, cap, "%04d-%02d-%02dT%02d:%02d:%02d.%06ldZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
             tm.tm_hour, tm.tm_min, tm.tm_sec, ts->tv_nsec / 1000);
}

static void text_line(struct trace *tr, struct term *t, const char *what, const uint8_t *buf, size_t n)
{
    if (tr->text_fd < 0 || !t->traced)
        return;
    static char line[TEXT_MAX];
    char when[40], id[80];
    struct timespec ts;
    stamp(when, sizeof when, &ts);
    term_ident(t, id, sizeof id);
    int l = snprintf(line, sizeof line, "%s %s/%s %s", when, t->fleet->spec->id, id, what);
    size_t len = l > 0 ? (size_t)l : 0;
    if (buf && n) {
        /* the bytes as they went, then what the dialect makes of them */
        size_t hex_room = (sizeof line - len - 64) / 2;
        size_t shown = n < hex_room ? n : hex_room;
        len += (size_t)snprintf(line + len, sizeof line - len, " %zu bytes ", n);
        hex_encode_lower(buf, shown, line + len, sizeof line - len);
        len += 2 * shown;
        if (shown < n)
            len += (size_t)snprintf(line + len, sizeof line - len, "...");
        const struct dialect *d = t->fleet->d;
        if (d->describe && len + 8 < sizeof line) {
            memcpy(line + len, "  ", 2);
            len += 2;
            size_t k = d->describe(buf, n, line + len, sizeof line - len - 2);
            len += k;
        }
    }
    if (len > sizeof line - 2)
        len = sizeof line - 2;
    line[len++] = '\n';
    fd_write_all(tr->text_fd, line, len); /* one write: lines from all workers stay whole */
}

/* --- the pcap ------------------------------------------------------------------------ */

static uint32_t sum16(const uint8_t *p, size_t n, uint32_t s)
{
    for (size_t i = 0; i + 1 < n; i += 2)
        s += (uint32_t)(p[i] << 8 | p[i + 1]);
    if (n & 1)
        s += (uint32_t)p[n - 1] << 8;
    return s;
}

static uint16_t fold(uint32_t s)
{
    while (s >> 16)
        s = (s & 0xFFFF) + (s >> 16);
    return (uint16_t)~s;
}

uint16_t trace_ip_checksum(const uint8_t *hdr, size_t n) { return fold(sum16(hdr, n, 0)); }

uint16_t trace_l4_checksum(uint32_t src, uint32_t dst, uint8_t proto, const uint8_t *seg, size_t n)
{
    uint8_t ph[12];
    memcpy(ph, &src, 4);
    memcpy(ph + 4, &dst, 4);
    ph[8] = 0;
    ph[9] = proto;
    ph[10] = (uint8_t)(n >> 8);
    ph[11] = (uint8_t)n;
    uint16_t c = fold(sum16(seg, n, sum16(ph, sizeof ph, 0)));
    return proto == IPPROTO_UDP && c == 0 ? 0xFFFF : c;
}

enum { F_FIN = 0x01, F_SYN = 0x02, F_PSH = 0x08, F_ACK = 0x10 };

/* One packet: from the terminal (out) or to it, with TCP flags or as UDP. */
static void packet(struct trace *tr, struct trace_conn *c, bool out, uint8_t flags, const uint8_t *pay, size_t n)
{
    if (tr->pcap_fd < 0)
        return;
    static uint8_t rec[16 + 20 + 20 + SEG_MAX];
    size_t l4 = c->udp ? 8 : 20;
    size_t total = 20 + l4 + n;
    if (tr->pcap_budget < 16 + total) {
        tr->pcap_budget = 0;
        if (!tr->pcap_full_said) {
            tr->pcap_full_said = true;
            static const char msg[] = "fleetsim: --pcap: the size limit is reached; no more packets\n";
            fd_write_all(STDERR_FILENO, msg, sizeof msg - 1);
        }
        return;
    }
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    put32le(rec, (uint32_t)ts.tv_sec);
    put32le(rec + 4, (uint32_t)(ts.tv_nsec / 1000));
    put32le(rec + 8, (uint32_t)total);
    put32le(rec + 12, (uint32_t)total);
    uint8_t *ip = rec + 16;
    uint32_t src = out ? c->laddr : c->raddr, dst = out ? c->raddr : c->laddr;
    uint16_t sp = out ? c->lport : c->rport, dp = out ? c->rport : c->lport;
    memset(ip, 0, 20 + l4);
    ip[0] = 0x45;
    ip[2] = (uint8_t)(total >> 8);
    ip[3] = (uint8_t)total;
    ip[6] = 0x40; /* don't fragment */
    ip[8] = 64;
    ip[9] = c->udp ? IPPROTO_UDP : IPPROTO_TCP;
    memcpy(ip + 12, &src, 4);
    memcpy(ip + 16, &dst, 4);
    uint16_t ck = trace_ip_checksum(ip, 20);
    ip[10] = (uint8_t)(ck >> 8);
    ip[11] = (uint8_t)ck;
    uint8_t *h = ip + 20;
    memcpy(h, &sp, 2);
    memcpy(h + 2, &dp, 2);
    if (n)
        memcpy(h + l4, pay, n);
    if (c->udp) {
        h[4] = (uint8_t)((8 + n) >> 8);
        h[5] = (uint8_t)(8 + n);
    } else {
        uint32_t seq = htonl(out ? c->seq_out : c->seq_in), ack = htonl(out ? c->seq_in : c->seq_out);
        memcpy(h + 4, &seq, 4);
        if (flags & F_ACK)
            memcpy(h + 8, &ack, 4);
        h[12] = 5 << 4;
        h[13] = flags;
        h[14] = 0xFF; /* window 65535 */
        h[15] = 0xFF;
        uint32_t adv = (uint32_t)n + ((flags & (F_SYN | F_FIN)) ? 1u : 0u);
        if (out)
            c->seq_out += adv;
        else
            c->seq_in += adv;
    }
    ck = trace_l4_checksum(src, dst, ip[9], h, l4 + n);
    h[c->udp ? 6 : 16] = (uint8_t)(ck >> 8);
    h[c->udp ? 7 : 17] = (uint8_t)ck;
    if (fd_write_all(tr->pcap_fd, rec, 16 + total) == 0)
        tr->pcap_budget -= 16 + total;
}

static bool pcap_wants(const struct trace *tr, const struct term *t)
{
    return tr->pcap_fd >= 0 && (tr->pcap_all || t->traced);
}

void trace_connected(struct trace *tr, struct term *t, struct trace_conn *c)
{
    struct sockaddr_in l, r;
    socklen_t ll = sizeof l;
    memset(c, 0, sizeof *c);
    const struct sockaddr_storage *target = t->fleet->target;
    if (t->conn.tp.fd >= 0 && getsockname(t->conn.tp.fd, (struct sockaddr *)&l, &ll) == 0 && l.sin_family == AF_INET &&
        target && target->ss_family == AF_INET) {
        memcpy(&r, target, sizeof r);
        c->laddr = l.sin_addr.s_addr;
        c->lport = l.sin_port;
        c->raddr = r.sin_addr.s_addr;
        c->rport = r.sin_port;
    } else {
        /* not IPv4 (or no socket): addresses made up from the terminal's index */
        c->laddr = htonl(0x0A000000u | (t->index & 0xFFFFFF));
        c->lport = htons((uint16_t)(10000 + t->index % 50000));
        c->raddr = htonl(0x0A0000FEu);
        c->rport = htons(1);
    }
    c->udp = t->conn.tp.tp && t->conn.tp.tp->datagram;
    c->seq_out = 1000u + t->index * 7919u;
    c->seq_in = 5000u + t->index * 104729u;
    c->open = 1;
    if (pcap_wants(tr, t) && !c->udp) {
        packet(tr, c, true, F_SYN, NULL, 0);
        packet(tr, c, false, F_SYN | F_ACK, NULL, 0);
        packet(tr, c, true, F_ACK, NULL, 0);
    }
    char what[96];
    char la[INET_ADDRSTRLEN], ra[INET_ADDRSTRLEN];
    inet_ntop(AF_INET, &c->laddr, la, sizeof la);
    inet_ntop(AF_INET, &c->raddr, ra, sizeof ra);
    snprintf(what, sizeof what, "connected %s:%u -> %s:%u", la, ntohs(c->lport), ra, ntohs(c->rport));
    text_line(tr, t, what, NULL, 0);
}

void trace_data(struct trace *tr, struct term *t, struct trace_conn *c, bool out, const uint8_t *buf, size_t n)
{
    if (!c->open)
        return;
    text_line(tr, t, out ? ">" : "<", buf, n);
    if (!pcap_wants(tr, t))
        return;
    for (size_t off = 0; off < n; off += SEG_MAX) {
        size_t k = n - off < SEG_MAX ? n - off : SEG_MAX;
        packet(tr, c, out, F_ACK | F_PSH, buf + off, k);
    }
}

void trace_closed(struct trace *tr, struct term *t, struct trace_conn *c)
{
    if (!c->open)
        return;
    if (pcap_wants(tr, t) && !c->udp) {
        packet(tr, c, true, F_FIN | F_ACK, NULL, 0);
        packet(tr, c, false, F_FIN | F_ACK, NULL, 0);
        packet(tr, c, true, F_ACK, NULL, 0);
    }
    c->open = 0;
    text_line(tr, t, "closed", NULL, 0);
}
