/* The JT/T 808 gateway as a front-end of the embedded platform: its options,
 * listening sockets, one-party provisioning and counter names. */
#include <stdio.h>
#include <string.h>

#include "sim/platform/jt808/jt808_gw_internal.h"
#include "sim/platform/jt808/jt808_reg.h"
#include "sim/proto/jt808_rsa.h"

/* --- as a front-end of the embedded platform ------------------------------------ */

static int fe_configure(void *cfgp, const struct frontend_opts *o, char *err, size_t errcap)
{
    struct gw_config *g = cfgp;
    snprintf(g->bind, sizeof g->bind, "%s", o->bind[0] ? o->bind : "127.0.0.1");
    g->port = o->port;
    g->one_party = strcmp(o->auth, "one-party") == 0;
    g->third_party = strcmp(o->auth, "third-party") == 0;
    snprintf(g->verify_url, sizeof g->verify_url, "%s", o->verify_url);
    g->verify_timeout_ms = o->verify_timeout_ms ? o->verify_timeout_ms : 2000;
    g->verify_events = o->verify_events ? o->verify_events : JT808_VERIFY_ALL;
    if (g->third_party && !g->verify_url[0]) {
        snprintf(err, errcap, "auth third-party needs a verification URL");
        return -1;
    }
    snprintf(g->triples, sizeof g->triples, "%s", o->triples);
    snprintf(g->core, sizeof g->core, "%s", o->core);
    g->idle_timeout_ms = o->idle_timeout_ms ? o->idle_timeout_ms : 180000;
    g->cmd_timeout_ms = o->cmd_timeout_ms ? o->cmd_timeout_ms : 10000;
    g->reasm_timeout_ms = o->reasm_timeout_ms; /* 0: the gateway's 30 s */
    g->verbose = o->verbose;
    g->tls = o->tls;
    if (gw_rsa_configure(g, o->rsa, o->rsa_key, err, errcap) < 0)
        return -1;
    if (g->tls.cert[0] || g->tls.key[0] || g->tls.ca[0])
        return tls_opts_check(&g->tls, 1, err, errcap);
    return 0;
}

/* The RSA key file, read as the gateway will read it (configure reports the same later,
 * but as the harness's failure). */
static int fe_check(const struct frontend_opts *o, char *err, size_t errcap)
{
    char why[400];
    if (!o->rsa_key[0])
        return 0;
    EVP_PKEY *k = jt808_rsa_load(o->rsa_key, why, sizeof why);
    if (!k) {
        snprintf(err, errcap, "platform.rsa_key: %s", why);
        return -1;
    }
    EVP_PKEY_free(k);
    return 0;
}

static int fe_listen(void *cfgp, int *fds, int n, uint16_t *port, char *err, size_t errcap)
{
    struct gw_config *g = cfgp;
    if (gw_listen(g, fds, n, err, errcap) < 0)
        return -1;
    *port = g->port;
    return 0;
}

/* One-party mode: the CSV of known terminals, provisioned in the core. */
static int fe_provision(const void *cfgp, int (*emit)(void *ctx, const struct store_provision *p), void *ctx,
                        char *err, size_t errcap)
{
    const struct gw_config *g = cfgp;
    if (!g->one_party || !g->triples[0])
        return 0;
    return jt808_triples_load(g->triples, emit, ctx, err, errcap);
}

static int fe_main(const void *cfg, int id, int lfd, int ctl_fd, struct gw_slot *slot)
{
    return gw_main(cfg, id, lfd, ctl_fd, slot);
}

#define C(id, n, d) {"gateway." n, id, d}
static const struct stats_counter fe_counters[] = {
    C(GWC_BAD_CHECK, "bad_check", "frames with a bad check code (answered 0x8001 result 2)"),
    C(GWC_BAD_ESCAPE, "bad_escape", "frames with a bad escape (answered 0x8001 result 2)"),
    C(GWC_BAD_FRAME, "bad_frame", "other malformed frames (answered 0x8001 result 2)"),
    C(GWC_GARBAGE_BYTES, "garbage_bytes", "bytes skipped between frames"),
    C(GWC_UNAUTHENTICATED, "unauthenticated", "messages refused before authentication"),
    C(GWC_UNSUPPORTED, "unsupported", "message ids answered with result 3"),
    C(GWC_REGISTRATIONS, "registrations", "registrations accepted"),
    C(GWC_REG_REFUSED, "reg_refused", "registrations refused (results 1-4, or invalid)"),
    C(GWC_AUTHENTICATIONS, "authentications", "authentications accepted"),
    C(GWC_AUTH_REFUSED, "auth_refused", "authentications refused"),
    C(GWC_POSITIONS, "positions", "locations stored (0x0200, 0x0201, 0x0704 items)"),
    C(GWC_UNREGISTRATIONS, "unregistrations", "0x0003 unregistrations"),
    C(GWC_SUBPACKAGES, "subpackages", "subpackage fragments received"),
    C(GWC_REASSEMBLED, "reassembled", "messages completed from fragments"),
    C(GWC_UPGRADE_OK, "upgrade_ok", "0x0108 upgrade results 0 (succeeded)"),
    C(GWC_UPGRADE_FAILED, "upgrade_failed", "0x0108 upgrade results 1, or a code JT/T 808 does not define"),
    C(GWC_UPGRADE_CANCELLED, "upgrade_cancelled", "0x0108 upgrade results 2 (cancelled)"),
    C(GWC_TLS_HANDSHAKES + TLS_EV_HANDSHAKE, "tls_handshakes", "TLS handshakes completed"),
    C(GWC_TLS_HANDSHAKES + TLS_EV_NO_CERT, "tls_no_cert", "TLS terminals refused: no device certificate"),
    C(GWC_TLS_HANDSHAKES + TLS_EV_UNKNOWN_CA, "tls_unknown_ca",
      "TLS terminals refused: a certificate the device root CA did not sign"),
    C(GWC_TLS_HANDSHAKES + TLS_EV_EXPIRED, "tls_expired", "TLS terminals refused: an expired or not yet valid certificate"),
    C(GWC_TLS_HANDSHAKES + TLS_EV_BAD_CERT, "tls_bad_cert", "TLS terminals refused: another certificate failure"),
    C(GWC_TLS_HANDSHAKES + TLS_EV_REVOKED, "tls_revoked", "TLS terminals refused: OCSP says the device certificate is revoked"),
    C(GWC_TLS_HANDSHAKES + TLS_EV_OCSP_FAILED, "tls_ocsp_failed",
      "TLS terminals refused: OCSP status unknown, or no valid answer from the responder"),
    C(GWC_TLS_STAPLES, "tls_staples", "OCSP responses for the server certificate obtained for stapling"),
    C(GWC_REG_RESULT_1, "reg_result_1", "registrations answered 0x8100 result 1 (vehicle registered already)"),
    C(GWC_REG_RESULT_1 + 1, "reg_result_2", "registrations answered 0x8100 result 2 (no such vehicle)"),
    C(GWC_REG_RESULT_1 + 2, "reg_result_3", "registrations answered 0x8100 result 3 (terminal registered already)"),
    C(GWC_REG_RESULT_1 + 3, "reg_result_4", "registrations answered 0x8100 result 4 (no such terminal)"),
    C(GWC_REG_RESULT_5, "reg_invalid", "registrations refused as invalid (0x8001 result 2)"),
    C(GWC_VERIFY_OK, "verify_ok", "third-party verifications answered true"),
    C(GWC_VERIFY_REFUSED, "verify_refused", "third-party verifications answered false"),
    C(GWC_VERIFY_TIMEOUT, "verify_timeout", "third-party verifications unanswered within the timeout (refused)"),
    C(GWC_VERIFY_MALFORMED, "verify_malformed", "third-party answers that are not seed 000's JSON (refused)"),
    C(GWC_VERIFY_HTTP_ERROR, "verify_http_error", "third-party answers with an HTTP status other than 200 (refused)"),
    C(GWC_VERIFY_UNREACHABLE, "verify_unreachable", "third-party verifications not asked or not reached (refused)"),
    C(GWC_TLS_HANDSHAKES + TLS_EV_FAILED, "tls_handshake_failed", "TLS handshakes failed otherwise (not TLS, a protocol error)"),
#define DEV(id, counter, name, text, sent, accepted) \
    C(GWC_DEV_FIRST + JT808_DEV_##id, "dev_" #counter, "deviations accepted: " accepted),
    JT808_DEV_KINDS(DEV)
#undef DEV
    C(GWC_REPLY_WRONG_ID, "reply_wrong_id",
      "answers to platform requests refused as invalid: another message than the request's reply"),
    C(GWC_REPLY_BAD_BODY, "reply_bad_body",
      "answers refused as invalid: a body off its edition's layout (0x0107 field widths, trailing bytes)"),
    C(GWC_REPLY_BAD_IDS, "reply_bad_ids",
      "answers refused as invalid: ids not asked (0x0104 to 0x8106) or counts that disagree (0x0805, 0x0802)"),
    C(GWC_REPLY_BAD_LOCATION, "reply_bad_location", "answers refused as invalid: no location (0x0500)"),
    C(GWC_REPLY_MISMATCH, "reply_mismatch",
      "answers refused as invalid: a field that does not echo the request (0x0700 command, 0x0608 type)"),
    C(GWC_SERVER_TIME, "server_time", "0x0004 server time queries answered with 0x8004"),
    C(GWC_RESEND_ASKED, "resend_asked", "0x0005 terminal resend requests received"),
    C(GWC_PACKAGES_RESENT, "packages_resent", "packages of the gateway's last subpackaged message resent for 0x0005"),
    C(GWC_RESEND_UNKNOWN, "resend_unknown",
      "0x0005 for a message the gateway does not keep (answered 0x8001 result 1)"),
    C(GWC_EVENTS, "events", "0x0301 event reports"),
    C(GWC_QUESTION_ANSWERS, "question_answers", "0x0302 answers to a 0x8302 question"),
    C(GWC_INFO_ORDERS, "info_orders", "0x0303 information orders and cancellations"),
    C(GWC_WAYBILLS, "waybills", "0x0701 electronic waybills"),
    C(GWC_DRIVER_IDS, "driver_ids", "0x0702 driver identity reports of the terminal's own accord"),
    C(GWC_CAN_DATA, "can_data", "0x0705 CAN bus data uploads"),
    C(GWC_MEDIA_EVENTS, "media_events", "0x0800 multimedia events"),
    C(GWC_PASSTHROUGH, "passthrough", "0x0900 uplink passthrough messages"),
    C(GWC_COMPRESSED, "compressed", "0x0901 compressed reports, inflated"),
    C(GWC_INFLATED_BYTES, "inflated_bytes", "bytes the 0x0901 reports inflated to"),
    C(GWC_RSA_KEYS, "rsa_keys", "0x0A00 terminal RSA public keys of the terminal's own accord"),
    C(GWC_RSA_ENCRYPTED, "rsa_encrypted",
      "bodies sent RSA-encrypted for a terminal's 0x0A00 key (platform.rsa encrypt), one per package of a "
      "body over 819 bytes, too long for one frame encrypted"),
    C(GWC_RSA_DECRYPTED, "rsa_decrypted", "RSA-encrypted terminal bodies decrypted with the gateway's key"),
    C(GWC_RSA_ERRORS, "rsa_errors",
      "RSA failures: bodies that do not decrypt (answered 0x8001 result 2), 0x0A00 keys refused, bodies that "
      "could not be encrypted for a terminal's key (sent in the clear)"),
    C(GWC_MEDIA_RECEIVED, "media_received", "0x0801 multimedia data received whole (answered 0x8800)"),
    C(GWC_MEDIA_RETRY, "media_retry", "0x8800 sent listing the missing packages of an incomplete 0x0801"),
    C(GWC_RESEND_REQUESTS, "resend_requests", "0x8003 sent listing the missing packages of an incomplete message"),
    C(GWC_REASM_EXPIRED, "reasm_expired",
      "incomplete subpackaged messages dropped after the last request for their missing packages"),
};
_Static_assert(TLS_EV__COUNT == 8, "a counter per TLS event");
_Static_assert(sizeof fe_counters / sizeof fe_counters[0] == GWC__COUNT, "a row of fe_counters per gateway counter");
_Static_assert(GWC__COUNT <= STATS_FE_COUNTERS, "gateway counters");
#undef C

const struct frontend jt808_frontend = {
    .name = "jt808",
    .cfg_size = sizeof(struct gw_config),
    .configure = fe_configure,
    .check = fe_check,
    .listen = fe_listen,
    .main = fe_main,
    .provision = fe_provision,
    .map_command = jt808_gw_map_command,
    .counters = fe_counters,
    .n_counters = (int)(sizeof fe_counters / sizeof fe_counters[0]),
};
