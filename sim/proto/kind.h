/* A request a platform sends a terminal and the reply that answers it, by the
 * names scenarios use ("0x8104" -> "0x0104" in JT/T 808).  A protocol's table of
 * these is what command steps and reply expectations are checked against, and a
 * dialect's command statistics are counted by its index in that table. */
#ifndef FLEETSIM_PROTO_KIND_H
#define FLEETSIM_PROTO_KIND_H

struct proto_kind {
    const char *request;
    const char *reply;
};

#endif
