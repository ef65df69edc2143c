/* Product models and their declarative binary codecs (004 §3 "产品模型" and the
 * codec plug-in of §6/§7): what a product's devices can report and be commanded,
 * and how each message is laid out in bytes.  A product file (profiles/, format in
 * docs/profiles.md) has:
 *   - "product": productId, manufacturerId, manufacturerName, deviceType, model,
 *     protocolType;
 *   - "services": each with properties (name, dataType int|decimal|string|bool|
 *     DateTime, range min/max, maxLength, enumList, step, unit, access R/W/E) and
 *     commands (name, paras, responses: each a property-like field);
 *   - "codec": byteOrder, the messageId field's type, and the messages: a report
 *     (device -> platform, a service's properties), a command (platform -> device)
 *     or a response (device -> platform, a command's answer), each a list of fields
 *     with type (uint8..uint64, int8..int64, float32, float64, bool, string, varstring,
 *     hex, varhex), length, byte order, scale and add, a constant, and the roles
 *     "mid" (the command's correlation id) and "errcode" (a response's result).
 * Pure: bytes and JSON in, JSON and bytes out; every error names the field and the
 * byte offset (decoding) or the JSON path (the file, values to encode).  Decoding
 * follows the bytes: what deviates from the model (a value out of its range,
 * bytes after the last field, a constant that differs) is reported, not refused. */
#ifndef FLEETSIM_PCODEC_H
#define FLEETSIM_PCODEC_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PC_NAME_MAX 64        /* bytes of a name (with its NUL) */
#define PC_MAX_MSG 65535      /* bytes of one message (a CoAP payload on /19/0/0 fits) */

enum pc_dtype { PD_INT = 0, PD_DECIMAL, PD_STRING, PD_BOOL, PD_DATETIME };

/* A property of a service, a command's parameter or a response's field. */
struct pc_prop {
    char name[PC_NAME_MAX];
    enum pc_dtype type;
    bool has_min, has_max;
    double min, max;
    uint32_t max_len;         /* string: 0 = no limit */
    double step;              /* 0: none */
    int n_enum;
    double *enums;            /* int/decimal enumList (owned) */
    char **senums;            /* string enumList (owned) */
    char unit[32];
    unsigned access;          /* PA_* bits */
    char device_key[PC_NAME_MAX]; /* a property's name on the device's side ("0x0001": a JT/T 808
                                     parameter id): "" = its name */
};
#define PA_R 1u
#define PA_W 2u
#define PA_E 4u

struct pc_command {
    char name[PC_NAME_MAX];
    int n_paras, n_resps;
    struct pc_prop *paras, *resps;
};

struct pc_service {
    char id[PC_NAME_MAX];
    char type[PC_NAME_MAX];
    int n_props, n_cmds;
    struct pc_prop *props;
    struct pc_command *cmds;
};

enum pc_ftype {
    PF_UINT = 0, PF_INT, PF_FLOAT, PF_BOOL, PF_STRING, PF_VARSTRING, PF_HEX, PF_VARHEX,
};
enum pc_role { PR_DATA = 0, PR_MESSAGE_ID, PR_MID, PR_ERRCODE, PR_LENGTH, PR_CONST };

struct pc_field {
    char name[PC_NAME_MAX];
    enum pc_ftype type;
    enum pc_role role;
    uint32_t len;             /* bytes: ints and floats by type; string/hex: "length" */
    bool little;              /* byte order */
    double scale, add;        /* value = raw * scale + add (numbers) */
    int length_of;            /* PR_LENGTH: the field whose length this is */
    int length_from;          /* varstring/varhex: the field that gives the length */
    uint64_t cval;            /* PR_MESSAGE_ID / PR_CONST: the value (two's complement for ints) */
    const struct pc_prop *prop; /* PR_DATA: the model's field it carries */
};

enum pc_kind { PK_REPORT = 0, PK_COMMAND, PK_RESPONSE };

struct pc_message {
    char name[PC_NAME_MAX];
    enum pc_kind kind;
    int service;              /* index in product.services */
    int command;              /* PK_COMMAND/RESPONSE: index in the service's cmds */
    bool has_id;
    uint64_t id;              /* the messageId field's value */
    int n_fields;
    struct pc_field *fields;
};

struct pc_product {
    char id[PC_NAME_MAX];     /* productId */
    char manufacturer_id[PC_NAME_MAX], manufacturer_name[PC_NAME_MAX];
    char device_type[PC_NAME_MAX], model[PC_NAME_MAX], protocol[16];
    int n_services, n_messages;
    struct pc_service *services;
    struct pc_message *messages;
};

/* Parse a product file's JSON; path names it in messages ("profiles/x.json").
 * 0, or -1 with err "path: json.path: what" (e.g. "x.json: codec.messages[1].
 * fields[2].type: \"uint12\" is not one of uint8, ...").  *out is malloc'd. */
int pc_product_parse(const cJSON *j, const char *path, struct pc_product **out, char *err, size_t errcap);
/* The same from text. */
int pc_product_parse_text(const char *text, size_t len, const char *path, struct pc_product **out, char *err,
                          size_t errcap);
void pc_product_free(struct pc_product *p);

/* A service / command / message by name; -1 when none. */
int pc_service_index(const struct pc_product *p, const char *service_id);
int pc_command_index(const struct pc_service *s, const char *name);
/* The message of kind for service si's command ci (PK_COMMAND, PK_RESPONSE) or
 * the first report of service si (PK_REPORT, ci ignored); -1 when the codec has none. */
int pc_message_for(const struct pc_product *p, enum pc_kind kind, int si, int ci);

/* Decode one message.  up: device -> platform (reports, responses), else a
 * command.  On success *out is
 *   {"message": name, "kind": "report"|"command"|"response", "serviceId": ...,
 *    ["command": name, "mid": n, "errcode": n,] "data": {field: value, ...},
 *    ["deviations": [{"kind": ..., "field": ..., "offset": n, "text": ...}]]}
 * (report data are the service's properties; a command's, its paras; a
 * response's, its responses) and 0 is returned; -1 with err "field NAME (TYPE) at
 * offset N: what" when the bytes cannot be read (and *e, when not NULL, with its
 * code, offset and field). */
struct pc_err {
    const char *code;         /* "short", "length", "unknown-message", "no-message", "nomem" */
    size_t offset;            /* the byte the error is at */
    const char *field;        /* the field's name ("" none); points into the product */
};
int pc_decode(const struct pc_product *p, bool up, const uint8_t *b, size_t n, cJSON **out, char *err,
              size_t errcap, struct pc_err *e);
/* Encode message mi from values (an object of the message's data fields, by
 * their model names) with mid (commands, responses) and errcode (responses).
 * The values are checked against the model (type, range, enum, length): an error
 * "data.NAME: what" refuses them.  0 with *len bytes in out, or -1 with err. */
int pc_encode(const struct pc_product *p, int mi, const cJSON *values, uint64_t mid, uint64_t errcode, uint8_t *out,
              size_t cap, size_t *len, char *err, size_t errcap);

const char *pc_kind_name(enum pc_kind k);

/* A JSON value for model field p, checked against it (type, range, enum,
 * maxLength): *num (numbers, bools) or *str (strings) set; 0, or -1 with err
 * "PREFIX.NAME: what" ("data.period: 5 is outside its range 60..86400"). */
int pc_prop_value(const struct pc_prop *p, const cJSON *v, const char *prefix, double *num, const char **str, char *err,
                  size_t cap);

#endif
