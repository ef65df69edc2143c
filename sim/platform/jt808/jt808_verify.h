/* Third-party verification of JT/T 808 terminals (seed 000, "Third-party
 * Certification"): the JSON the gateway posts to a verification endpoint for a
 * registration (0x0100), an authentication (0x0102) and an unregistration
 * (0x0003), and the endpoint's answers.  Pure: strings in, structs out.
 *
 * Requests (the seed's Tables 1-3):
 *   register   {"manufacturer","deviceModel","deviceId","licensePlateColour",
 *               "licensePlateNumber","phone","action":"register"}
 *   auth       {"phone","authCode","protocol","action":"auth"}
 *   unregister {"phone","manufacturer","deviceModel","deviceId","action":"unregister"}
 * Answers: {"result":"true"|"false","message":...} and
 *   register true:  "authCode" (what the gateway returns in 0x8100)
 *   register false: "message" "1".."4" (vehicle registered, vehicle not found,
 *                   device registered, device not found = 0x8100 results 1-4)
 *   auth true:      "manufacturer","deviceModel","deviceId" (the device name is
 *                   ${manufacturer}_${deviceModel}_${deviceId})
 * Anything else (not JSON, not an object, "result" not the string "true" or
 * "false", a required field missing, of another type or out of its limits) is
 * malformed, and the gateway fails closed on it. */
#ifndef FLEETSIM_JT808_VERIFY_H
#define FLEETSIM_JT808_VERIFY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sim/platform/jt808/jt808_reg.h"

enum jt808_verify_action {
    JT808_VERIFY_REGISTER = 0,
    JT808_VERIFY_AUTH,
    JT808_VERIFY_UNREGISTER,
    JT808_VERIFY__N
};

#define JT808_VERIFY_ALL ((1u << JT808_VERIFY__N) - 1)   /* every action verified */
#define JT808_VERIFY_AUTH_CODE_MAX 255                    /* 0x8100's auth code: 2019 allows 255 GBK bytes */
#define JT808_VERIFY_BODY_MAX 1024                        /* a request body always fits */

/* "register", "auth", "unregister"; "?" */
const char *jt808_verify_action_name(enum jt808_verify_action a);
/* A comma-separated list of action names into a mask (bit = action).  0, or -1
 * with "'regster' is not register, auth or unregister" in err. */
int jt808_verify_events_parse(const char *list, unsigned *mask, char *err, size_t errcap);
/* The mask as a list ("register,auth"). */
void jt808_verify_events_format(unsigned mask, char *out, size_t cap);

/* The device triple of an answer (and of an unregister request). */
struct jt808_verify_dev {
    char manufacturer[12];      /* 4-11 of [A-Za-z0-9-] */
    char model[31];             /* 4-30 */
    char device_id[31];         /* 4-30 */
};

/* The request bodies (compact JSON).  Their length, or -1 when cap is too small. */
int jt808_verify_register_json(const struct jt808_reg_req *q, char *out, size_t cap);
int jt808_verify_auth_json(const char *phone, const char *auth_code, const char *protocol, char *out, size_t cap);
int jt808_verify_unregister_json(const char *phone, const struct jt808_verify_dev *d, char *out, size_t cap);

struct jt808_verify_answer {
    bool ok;                                    /* "result":"true" */
    uint8_t code;                               /* register refused: "message" 1..4; else 0 */
    char message[128];                          /* "message" as sent (cut to fit), "" when absent */
    char auth_code[JT808_VERIFY_AUTH_CODE_MAX + 1];  /* register accepted */
    struct jt808_verify_dev dev;                /* auth accepted */
};

/* Parse the answer to action a (len bytes, not NUL-terminated).  0 with *ans, or
 * -1 with why naming the field ("message: \"7\" is not 1-4", "authCode: missing").
 * A false result with a well-formed message is 0 (an answer, a refusal). */
int jt808_verify_parse(enum jt808_verify_action a, const char *body, size_t len, struct jt808_verify_answer *ans,
                       char *why, size_t whycap);

#endif
