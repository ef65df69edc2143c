/* The protocol-neutral terminal states.  Every dialect maps its own life cycle onto
 * these (JT/T 808: register -> authenticate; MQTT: CONNECT -> CONNACK; LwM2M:
 * Register -> 2.01), so expectations and the dashboard speak one language. */
#ifndef FLEETSIM_TERM_STATE_H
#define FLEETSIM_TERM_STATE_H

enum term_state {
    TS_IDLE = 0,        /* not started yet (ramp) */
    TS_CONNECTING,      /* transport connect in progress */
    TS_CONNECTED,       /* transport up, nothing said yet */
    TS_REGISTERING,     /* registration sent */
    TS_REGISTERED,      /* registration accepted (credentials held) */
    TS_AUTHENTICATING,  /* authentication sent */
    TS_AUTHENTICATED,   /* online: may report and take commands */
    TS_DISCONNECTED,    /* transport lost; reconnect pending */
    TS_UNREGISTERED,    /* deregistered on purpose; stays away */
    TS__COUNT
};

const char *term_state_name(enum term_state s);
/* -1 when unknown */
int term_state_from_name(const char *name);

#endif
