/* Evidence of what terminals sent and received (`run --trace ID,... --pcap FILE`):
 *  - a text trace, one line per connect, chunk of bytes and close of a traced
 *    terminal: wall-clock time, fleet and device id, direction, the bytes in
 *    hex and, where the dialect can decode them, each frame as JSON;
 *  - a pcap (link type raw IPv4) synthesised from the same bytes: the
 *    terminal's own addresses and ports, a TCP handshake, segments with running
 *    sequence numbers and correct checksums, a FIN at the close (UDP: one
 *    datagram per send); Wireshark and tshark open it, no capture privileges
 *    needed.  With no trace ids every terminal goes into the pcap, up to a size.
 * Every worker appends to the same files: each line and each packet record is
 * one write(2) on a descriptor opened with O_APPEND, so they never interleave.
 * The parent creates the files (trace_create) before the workers start. */
#ifndef FLEETSIM_TRACE_H
#define FLEETSIM_TRACE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct term;
struct fleet_rt;

#define TRACE_MAX_IDS 64
#define TRACE_PCAP_DEFAULT_LIMIT (100u << 20) /* bytes of pcap without trace ids */

/* What a run asks for (worker_plan.trace). */
struct trace_opts {
    const char *ids;            /* "13800000001,13800000002"; NULL or "": none */
    const char *text_path;      /* the text trace; NULL: none (ids given: stderr of the run) */
    const char *pcap_path;      /* NULL: none */
    uint64_t pcap_limit;        /* bytes (0: TRACE_PCAP_DEFAULT_LIMIT), over all workers */
};

/* One traced connection's synthesised addressing and sequence numbers. */
struct trace_conn {
    uint32_t laddr, raddr;      /* IPv4, network order */
    uint16_t lport, rport;      /* network order */
    uint32_t seq_out, seq_in;
    uint8_t udp, open;
};

/* A worker's sinks. */
struct trace {
    bool opened;                /* trace_open ran: the descriptors are its own */
    int text_fd, pcap_fd;       /* -1: off */
    bool pcap_all;              /* no ids: every terminal into the pcap */
    uint64_t pcap_budget;       /* bytes this worker may still write */
    bool pcap_full_said;
    char ids[TRACE_MAX_IDS][64];
    int n_ids;
};

/* Truncate/create the files and write the pcap's global header (the parent, once).
 * 0, or -1 with err naming the file. */
int trace_create(const struct trace_opts *o, char *err, size_t errcap);
/* Check ids ("a,b,c": at most TRACE_MAX_IDS, none empty, none over 63 chars).
 * 0, or -1 with err. */
int trace_ids_check(const char *ids, char *err, size_t errcap);
/* A worker opens the files for appending; n_workers shares the pcap limit.
 * 0, or -1 with err. */
int trace_open(struct trace *tr, const struct trace_opts *o, int n_workers, char *err, size_t errcap);
void trace_close_all(struct trace *tr);
/* Should this device id be traced (text and pcap)? */
bool trace_wants(const struct trace *tr, const char *ident);

/* The engine's hooks, for a terminal whose fleet keeps trace_conn state. */
void trace_connected(struct trace *tr, struct term *t, struct trace_conn *c);
void trace_data(struct trace *tr, struct term *t, struct trace_conn *c, bool out, const uint8_t *buf, size_t n);
void trace_closed(struct trace *tr, struct term *t, struct trace_conn *c);

/* The pieces of the pcap, for tests: the IPv4 header checksum and the TCP/UDP
 * checksum over the pseudo-header. */
uint16_t trace_ip_checksum(const uint8_t *hdr, size_t n);
uint16_t trace_l4_checksum(uint32_t src, uint32_t dst, uint8_t proto, const uint8_t *seg, size_t n);

#endif
