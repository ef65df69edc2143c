/* JT/T 808 codec (2011 registration, 2013, 2019): pure, no I/O, no clock.
 *
 * A frame on the wire is 7E <escaped: header body check> 7E.  Decoding goes
 * wire bytes -> struct jt808_msg (header + typed body); encoding goes back.
 * Every decoder reports errors through struct jt808_err: a code, the byte
 * offset in the buffer the caller passed (wire offset for frame decoding),
 * and the name of the field being read.  Nothing reads past the buffer.
 */
#ifndef FLEETSIM_JT808_H
#define FLEETSIM_JT808_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define JT808_FLAG 0x7E
#define JT808_MAX_BODY 1023           /* 10-bit body length field */
#define JT808_MAX_FRAME 2200          /* worst case: every byte escaped */
#define JT808_MAX_QUERY_IDS 64        /* ids per 0x8106 style lists */
/* A body reassembled from subpackages may be longer than one frame's; the codecs that
 * write such bodies back (a location inside a layout body) take up to this much. */
#define JT808_MAX_LONG_BODY (JT808_MAX_BODY * 64u)

enum jt808_rc {
    JT808_OK = 0,
    JT808_E_SHORT,      /* buffer ends before the field does */
    JT808_E_FLAG,       /* missing or misplaced 0x7E */
    JT808_E_ESCAPE,     /* 0x7D followed by something other than 01/02 */
    JT808_E_CHECK,      /* XOR check byte mismatch */
    JT808_E_LENGTH,     /* body length field disagrees with the bytes */
    JT808_E_BCD,        /* a BCD nibble above 9 */
    JT808_E_UNKNOWN_ID, /* message id, item or parameter id not known where it matters */
    JT808_E_VALUE,      /* a field holds a value the standard forbids */
    JT808_E_NOSPACE,    /* output buffer (or fixed struct field) too small */
    JT808_E_ENCODING,   /* GBK <-> UTF-8 conversion failed */
    JT808_E_SUBPKG,     /* subpackage total/index inconsistent, reassembly limit */
    JT808_E_DEVIATION,  /* strict decoding: the frame deviates (err names the first deviation) */
    JT808_E_DECRYPT,    /* an RSA block of an encrypted body that does not decrypt (err: its offset) */
};

struct jt808_err {
    enum jt808_rc rc;
    size_t offset;          /* byte offset of the offending byte in the caller's buffer */
    const char *field;      /* static string naming the field, e.g. "header.phone" */
};

/* "short", "check", ... (stable names used in vectors and JSON output) */
const char *jt808_rc_name(enum jt808_rc rc);
/* Human-readable description, e.g. "check byte mismatch" */
const char *jt808_rc_text(enum jt808_rc rc);

/* --- deviations ------------------------------------------------------------
 * Field devices deviate from the standard; the decoder follows the bytes actually
 * sent, keeps what it cannot type as raw, and records each such case here (like
 * Wireshark's expert info) instead of failing.  Strictness is the caller's verdict
 * (`fleetsim decode --strict`, an expectation of zero deviations). */
/* Every deviation kind, one row each, in the enum's order (the order of the counters
 * too; append, never reorder):
 *   X(ID, counter, name, text, sent, accepted)
 * ID: JT808_DEV_<ID>; counter: the token of its counters terminal.dev_<counter> and
 * gateway.dev_<counter>; name: its stable name (vectors, JSON, scenario "deviate");
 * text: what jt808_dev_text says; sent: what the terminal's counter counts ("frames
 * sent with ..."); accepted: what the gateway's counts ("deviations accepted: ...").
 * A new kind is a row here (and, to send it, its case in sim/dev/jt808_deviate.c). */
#define JT808_DEV_KINDS(X)                                                                                         \
    X(ITEM_LENGTH, item_length, "item-length", "additional item length disagrees with its id; kept raw",        \
      "an additional item of the wrong length (fleet option deviate)",                                           \
      "an additional item whose length disagrees with its id (kept raw)")                                        \
    X(PARAM_LENGTH, param_length, "param-length", "parameter length disagrees with its type; kept raw",         \
      "a parameter of the wrong length", "a parameter whose length disagrees with its type (kept raw)")          \
    X(COUNT_OVERRUN, count_overrun, "count-overrun",                                                             \
      "count larger than the body holds; stopped at the end of the body", "a count larger than the body holds", \
      "a count larger than the body holds")                                                                      \
    X(TRAILING_BYTES, trailing_bytes, "trailing-bytes", "bytes after the last field; kept raw",                 \
      "bytes after the last field", "bytes after the last field (kept raw)")                                     \
    X(UNESCAPED_CHECK, unescaped_check, "unescaped-check", "lone 0x7D before the closing 0x7E read as the check byte", \
      "a check byte 0x7D left unescaped", "a lone 0x7D before the closing 0x7E read as the check byte")          \
    X(ITEM_TRUNCATED, item_truncated, "item-truncated", "item length runs past the body; the bytes present kept raw", \
      "an item running past the body", "an item whose length runs past the body")                                \
    X(MIXED_ENCRYPTION, mixed_encryption, "mixed-encryption",                                                    \
      "packages of one subpackaged message disagree on encryption; each read as it says",                      \
      "every other package of a subpackaged message in the clear after the key exchange",                      \
      "a subpackaged message whose packages disagree on encryption (each read as it says)")

enum jt808_dev_kind {
#define JT808_DEV_ENUM(id, counter, name, text, sent, accepted) JT808_DEV_##id,
    JT808_DEV_KINDS(JT808_DEV_ENUM)
#undef JT808_DEV_ENUM
    JT808_DEV__COUNT
};

struct jt808_deviation {
    enum jt808_dev_kind kind;
    size_t offset;              /* like jt808_err: wire offset from jt808_decode, else body offset */
    const char *field;          /* static string naming the field */
};

/* The first JT808_MAX_DEVIATIONS are kept with their place; total counts them all. */
#define JT808_MAX_DEVIATIONS 16
struct jt808_devs {
    uint32_t total;
    uint8_t n;
    struct jt808_deviation d[JT808_MAX_DEVIATIONS];
};

/* "item-length", ... (stable names used in vectors, JSON and counters) */
const char *jt808_dev_name(enum jt808_dev_kind k);
/* Human-readable description, e.g. "item length disagrees with its id" */
const char *jt808_dev_text(enum jt808_dev_kind k);
/* Record one (the decoders call this; a NULL d records nothing). */
void jt808_devs_add(struct jt808_devs *d, enum jt808_dev_kind k, size_t offset, const char *field);

/* --- per-message memory ------------------------------------------------------
 * Lists whose length the body sets (additional items, parameters, batch locations,
 * the items of the newer bodies) live in an arena the message owns, so a message
 * takes memory in proportion to its body instead of a fixed worst case.  Decoding
 * resets the arena (keeping its first chunk for the next message); pointers into a
 * decoded message are valid until the next decode into the same struct or
 * jt808_msg_free.  A zeroed arena is a valid empty one. */
struct jt808_chunk;
struct jt808_arena {
    struct jt808_chunk *head;   /* newest chunk first */
    size_t bytes;               /* bytes handed out since the last reset */
};
/* n zeroed bytes aligned for any type; NULL when out of memory. */
void *jt808_arena_alloc(struct jt808_arena *a, size_t n);
void jt808_arena_reset(struct jt808_arena *a);
void jt808_arena_free(struct jt808_arena *a);

enum jt808_version {
    JT808_V2013 = 0, /* also 2011: header is the same, only 0x0100 differs */
    JT808_V2019 = 1,
};

struct jt808_header {
    uint16_t msg_id;
    uint16_t body_len;          /* 10 bits; filled by decode, computed by encode */
    uint8_t encryption;         /* 3 bits: 0 none, 1 RSA */
    bool subpackage;
    bool reserved15;            /* bit 15 of the properties (reserved): kept so frames round-trip */
    enum jt808_version version; /* 2019 iff bit 14 of the properties is set */
    uint8_t proto_version;      /* 2019 only: protocol version byte (1 for 2019) */
    char phone[21];             /* decimal digits: 12 (2013, BCD[6]) or 20 (2019, BCD[10]) */
    uint16_t serial;
    uint16_t pkg_total;         /* when subpackage: total count (>=1) */
    uint16_t pkg_index;         /* when subpackage: index, from 1 */
};

/* 0x0001 terminal general response / 0x8001 platform general response */
struct jt808_gen_resp {
    uint16_t ack_serial;
    uint16_t ack_id;
    uint8_t result; /* 0 ok, 1 fail, 2 bad message, 3 unsupported, 4 alarm ack (0x8001 only) */
};

/* 0x0100 terminal registration.  Layouts by body length / header version:
 *   2011: province W, city W, manufacturer B[5], model B[8],  terminal_id B[7],  color B, plate STRING
 *   2013: province W, city W, manufacturer B[5], model B[20], terminal_id B[7],  color B, plate STRING
 *   2019: province W, city W, manufacturer B[11], model B[30], terminal_id B[30], color B, plate STRING
 * A non-2019 body shorter than 37 bytes is 2011. */
enum jt808_reg_layout { JT808_REG_2011 = 0, JT808_REG_2013, JT808_REG_2019 };
struct jt808_register {
    enum jt808_reg_layout layout;  /* decode: detected; encode: chosen */
    uint16_t province;
    uint16_t city;
    char manufacturer[12];  /* 0x00-padded on the wire, trailing NULs dropped */
    char model[31];
    char terminal_id[31];
    uint8_t plate_color;
    char plate[96];         /* UTF-8 here, GBK on the wire */
};

/* 0x8100 registration response; auth_code present only when result == 0 */
struct jt808_register_resp {
    uint16_t ack_serial;
    uint8_t result; /* 0 ok, 1 vehicle registered, 2 no vehicle, 3 terminal registered, 4 no terminal */
    char auth_code[400];    /* the rest of the body; UTF-8 may be 1.5x the GBK bytes */
};

/* 0x0102 authentication.  2013: body = auth code STRING.
 * 2019: code length B, code STRING, IMEI B[15], software version B[20]. */
struct jt808_auth {
    char auth_code[400];    /* 2019: up to 255 GBK bytes */
    char imei[16];
    char sw_version[21];
};

/* One additional item of a location report. */
struct jt808_loc_item {
    uint8_t id;
    uint8_t len;
    /* known ids decode into value (0x01 mileage DWORD 1/10 km, 0x02 fuel WORD 1/10 L,
     * 0x03 tachograph speed WORD 1/10 km/h, 0x25 ext signal DWORD, 0x2A IO WORD,
     * 0x2B analog DWORD, 0x30 signal strength BYTE, 0x31 GNSS satellites BYTE);
     * every item also keeps its raw bytes so unknown ids round-trip. */
    uint32_t value;
    bool known;
    uint8_t raw[255];
};

/* 0x0200 location report body (also inside 0x0201 and 0x0704) */
struct jt808_location {
    uint32_t alarm;
    uint32_t status;
    uint32_t lat;       /* 1e-6 degree; south flagged in status bit 2 */
    uint32_t lon;       /* 1e-6 degree; west flagged in status bit 3 */
    uint16_t altitude;  /* m */
    uint16_t speed;     /* 1/10 km/h */
    uint16_t direction; /* 0..359 */
    char time[13];      /* YYMMDDhhmmss from BCD[6], GMT+8 */
    /* As many items as the body holds: decode allocates them in the message's arena;
     * to encode, point items at n_items of the caller's. */
    uint16_t n_items;
    struct jt808_loc_item *items;
};

/* 0x0201 position query response */
struct jt808_location_resp {
    uint16_t ack_serial;
    struct jt808_location loc;
};

/* 0x0704 batch upload: count W, type B (0 normal, 1 blind-area backfill),
 * then count x (length W, location body).  count is the wire field; n_locs the
 * locations present (decode: fewer than count after a count-overrun; encode: the
 * locations written, count going out as given, so 0 means n_locs). */
struct jt808_batch {
    uint8_t type;
    uint16_t count;
    uint16_t n_locs;
    struct jt808_location *locs;    /* decode: in the message's arena */
};

/* Terminal parameter (0x8103 / 0x0104): id DWORD, len BYTE, value.
 * Known numeric ids (e.g. 0x0001 heartbeat s, 0x0029 default report interval s)
 * decode into num; known string ids (0x0010 APN, 0x0013 server, ...) into str;
 * unknown ids keep raw bytes. */
/* BYTES: a BYTE[n] of the size the table gives the id (0x0032 BYTE[4], 0x0110-0x01FF
 * BYTE[8]), kept in raw. */
enum jt808_param_type { JT808_PT_RAW = 0, JT808_PT_BYTE, JT808_PT_WORD, JT808_PT_DWORD, JT808_PT_STRING,
                        JT808_PT_BYTES };
struct jt808_param {
    uint32_t id;
    uint8_t len;
    enum jt808_param_type type;
    uint32_t num;
    char str[384];       /* UTF-8 for STRING (255 GBK bytes may take 382) */
    uint8_t raw[255];    /* always the wire bytes */
};
/* The type the standard gives a parameter id (JT808_PT_RAW when unknown). */
enum jt808_param_type jt808_param_type_of(uint32_t id);
/* The bytes a fixed-size parameter takes (BYTE 1, WORD 2, DWORD 4, BYTE[n] n); 0 for
 * STRING and unknown ids. */
uint8_t jt808_param_size(uint32_t id);
/* Which editions' tables define the id (0: neither).  Decoding uses either table's
 * type whatever the frame's edition: the 2019-only ids are reserved in 2013. */
#define JT808_PE_2013 1u
#define JT808_PE_2019 2u
unsigned jt808_param_editions(uint32_t id);

/* 0x8103 set parameters: count B, params.  count is the wire field; n_params the
 * parameters present (decode: fewer after a count-overrun; encode: written, with
 * count going out as given, 0 meaning n_params). */
struct jt808_params {
    uint8_t count;
    uint8_t n_params;
    struct jt808_param *params;     /* decode: in the message's arena */
};

/* 0x0104 query parameters response: ack serial W, count B, params */
struct jt808_params_resp {
    uint16_t ack_serial;
    struct jt808_params p;
};

/* 0x8105 terminal control: command B, then the command's parameters, fields separated
 * by ';'.  Commands 1 (wireless upgrade) and 2 (connect to a given server) carry typed
 * fields, STRING ones in GBK among binary BYTE/WORD/BYTE[5] ones (a binary value may
 * itself be 0x3B, so the list is walked by the fields' types, never split on ';'):
 *   1: url; apn; user; password; host; tcp_port W; udp_port W; manufacturer B[5];
 *      hw_version; fw_version; time_limit W
 *   2: connection B; auth_code; apn; user; password; host; tcp_port W; udp_port W;
 *      time_limit W        (connection 1, back to the default server, sends no more)
 * The other commands keep their parameters as one STRING (params). */
enum jt808_cf {
    JT808_CF_URL = 0,       /* STRING: full URL of the upgrade */
    JT808_CF_CONNECTION,    /* BYTE: 0 switch to the given server, 1 back to the default one */
    JT808_CF_AUTH_CODE,     /* STRING: authentication code for the given server */
    JT808_CF_APN,           /* STRING: dial point name */
    JT808_CF_USER,          /* STRING: dial user name */
    JT808_CF_PASSWORD,      /* STRING: dial password */
    JT808_CF_HOST,          /* STRING: server address, IP or domain name */
    JT808_CF_TCP_PORT,      /* WORD */
    JT808_CF_UDP_PORT,      /* WORD */
    JT808_CF_MANUFACTURER,  /* BYTE[5]: manufacturer id, 0x00-padded */
    JT808_CF_HW_VERSION,    /* STRING: hardware version */
    JT808_CF_FW_VERSION,    /* STRING: firmware version */
    JT808_CF_TIME_LIMIT,    /* WORD: minutes on the given server before going back; 0 for good */
    JT808_CF__COUNT
};
enum jt808_cft { JT808_CFT_STRING = 0, JT808_CFT_BYTE, JT808_CFT_WORD, JT808_CFT_BYTES5 };
struct jt808_cfd {
    enum jt808_cf id;
    enum jt808_cft type;
    const char *name;       /* JSON key, e.g. "tcp_port" */
    const char *path;       /* error and deviation field, e.g. "body.tcp_port" */
};
/* The fields of command (1 or 2) in wire order, *n of them; NULL for other commands. */
const struct jt808_cfd *jt808_ctl_fields(uint8_t command, size_t *n);
/* The bytes a binary field takes (BYTE 1, WORD 2, BYTE[5] 5); 0 for STRING. */
unsigned jt808_ctl_field_size(enum jt808_cft t);

struct jt808_ctl_val {
    uint32_t num;           /* BYTE and WORD fields */
    const char *str;        /* STRING and BYTE[5] fields, UTF-8 (decode: in the arena; encode: NULL is "") */
    const uint8_t *raw;     /* kept_raw: the field's bytes as sent (decode: in the arena) */
    uint16_t raw_len;
    bool kept_raw;          /* a binary field whose bytes do not fit its type (a param-length deviation) */
};

struct jt808_control {
    uint8_t command;
    char params[1536];      /* commands other than 1 and 2: the rest of the body, UTF-8 */
    /* Commands 1 and 2: the first n_fields of jt808_ctl_fields(command) are present
     * (decode: fewer when the body stops early, a count-overrun unless it is command 2
     * with connection 1; encode: the fields written). */
    uint8_t n_fields;
    struct jt808_ctl_val f[JT808_CF__COUNT];    /* indexed by enum jt808_cf */
    const uint8_t *trailing;                    /* bytes after the last field (trailing-bytes) */
    uint16_t n_trailing;
};

/* 0x8300 text message.  2013: flag B, text STRING.  2019: flag B, type B, text STRING. */
struct jt808_text {
    uint8_t flag;
    uint8_t text_type; /* 2019 only: 1 notice, 2 service */
    char text[1536];   /* UTF-8 here (a 1023-byte GBK body may take 1.5x) */
};

/* 0x8108 upgrade package: type B, manufacturer B[5] (2019: B[11]), version len B,
 * version STRING, package len DWORD, package bytes */
struct jt808_upgrade {
    uint8_t type; /* 0 terminal, 12 IC card reader, 52 GNSS module */
    char manufacturer[12];
    char version[256];
    uint32_t pkg_len;
    const uint8_t *pkg;   /* decode: points into the caller's body buffer */
    size_t pkg_bytes;     /* bytes present in this (possibly partial) body */
};

/* 0x0108 upgrade result: type B, result B (0 ok, 1 fail, 2 cancelled) */
struct jt808_upgrade_result {
    uint8_t type;
    uint8_t result;
};

struct jt808_msg {
    struct jt808_header h;
    union {
        struct jt808_gen_resp gen_resp;           /* 0x0001, 0x8001 */
        struct jt808_register reg;                /* 0x0100 */
        struct jt808_register_resp reg_resp;      /* 0x8100 */
        struct jt808_auth auth;                   /* 0x0102 */
        struct jt808_location loc;                /* 0x0200 */
        struct jt808_location_resp loc_resp;      /* 0x0201 */
        struct jt808_batch batch;                 /* 0x0704 */
        struct jt808_params params;               /* 0x8103 */
        struct jt808_params_resp params_resp;     /* 0x0104 */
        struct jt808_control control;             /* 0x8105 */
        struct jt808_text text;                   /* 0x8300 */
        struct jt808_upgrade upgrade;             /* 0x8108 */
        struct jt808_upgrade_result upgrade_result; /* 0x0108 */
    } b;
    /* Body bytes exactly as on the wire (after unescaping).  Decode sets these to point
     * into the caller's scratch buffer; for ids without a typed body (0x0002, 0x0003,
     * 0x8104, 0x8201, subpackage fragments, unknown ids) this is all there is. */
    const uint8_t *body;
    size_t body_bytes;
    struct jt808_devs devs;     /* deviations found by the last decode */
    struct jt808_arena arena;   /* lists of the decoded body; jt808_msg_free releases it */
    /* Bodies of the layout engine (jt808_layout.h), in the arena; NULL for the above. */
    struct jt808_lay_body *lay;
    /* h.encryption is RSA and body (typed or raw) is its plaintext: decrypted with a
     * key (jt808_rsa_decode), or to be encrypted when sent (jt808_rsa_encode;
     * jt808_encode refuses it).  jt808_decode clears it. */
    bool rsa_plain;
};

/* Release what a decoded message holds (its arena); the struct can be reused. */
void jt808_msg_free(struct jt808_msg *msg);

/* Is msg_id one whose body this codec types? */
bool jt808_msg_known(uint16_t msg_id);
/* "terminal general response", ... ; NULL when unknown */
const char *jt808_msg_name(uint16_t msg_id);

/* --- frame layer ---------------------------------------------------------- */

/* Find one frame in a byte stream.  Skips garbage before the first 0x7E; returns
 * the number of bytes consumed (including skipped garbage) when a complete frame
 * 7E..7E was found and sets *start and *len to it; 0 when more bytes are needed
 * (in which case *skipped tells how many leading garbage bytes may be dropped). */
size_t jt808_frame_find(const uint8_t *buf, size_t n, size_t *start, size_t *len, size_t *skipped);

/* Unescape wire bytes between the flags into out (header+body+check). */
enum jt808_rc jt808_unescape(const uint8_t *wire, size_t n, uint8_t *out, size_t cap,
                             size_t *out_len, struct jt808_err *err);
/* Escape raw bytes into wire form (no flags added). */
enum jt808_rc jt808_escape(const uint8_t *raw, size_t n, uint8_t *out, size_t cap, size_t *out_len);
/* XOR of bytes. */
uint8_t jt808_xor(const uint8_t *p, size_t n);

/* Decode one complete wire frame (with both 0x7E).  scratch (>= len bytes) receives
 * the unescaped message; msg->body points into it.  The body is decoded when
 * the message is known and not a subpackage fragment. Error offsets are wire offsets.
 * msg must be zeroed before its first decode (its arena is kept from one decode to
 * the next); jt808_msg_free releases it. */
enum jt808_rc jt808_decode(const uint8_t *wire, size_t len, uint8_t *scratch, size_t scratch_cap,
                           struct jt808_msg *msg, struct jt808_err *err);

/* jt808_decode that turns the first deviation into an error: JT808_E_DEVIATION with
 * the deviation's offset and field (msg->devs still lists them all). */
enum jt808_rc jt808_decode_strict(const uint8_t *wire, size_t len, uint8_t *scratch,
                                  size_t scratch_cap, struct jt808_msg *msg, struct jt808_err *err);

/* Decode only a body (msg->h must be filled: msg_id, version, body_len ignored). */
enum jt808_rc jt808_body_decode(const uint8_t *body, size_t n, struct jt808_msg *msg,
                                struct jt808_err *err);

/* Encode msg (header + typed body, or msg->body raw bytes when the id has no typed
 * body or msg->body is set) into a complete wire frame with flags.  body_len,
 * check and escaping are computed. Returns JT808_OK and sets *out_len. */
enum jt808_rc jt808_encode(const struct jt808_msg *msg, uint8_t *out, size_t cap, size_t *out_len,
                           struct jt808_err *err);

/* Encode only the body of msg into out. */
enum jt808_rc jt808_body_encode(const struct jt808_msg *msg, uint8_t *out, size_t cap,
                                size_t *out_len, struct jt808_err *err);

/* --- BCD / strings ------------------------------------------------------- */

/* digits -> BCD, left-padded with '0' to 2*n digits; E_VALUE if not digits or too long */
enum jt808_rc jt808_bcd_encode(const char *digits, uint8_t *out, size_t n);
/* BCD -> digits (2*n chars + NUL); E_BCD on a nibble > 9 (err->offset = index of byte) */
enum jt808_rc jt808_bcd_decode(const uint8_t *in, size_t n, char *out, size_t *bad_index);

/* Unix seconds -> YYMMDDhhmmss in GMT+8, the time zone of JT/T 808 time fields. */
void jt808_time_text(int64_t unix_s, char out[13]);

/* UTF-8 <-> GBK through iconv; return JT808_OK or JT808_E_ENCODING / E_NOSPACE */
enum jt808_rc jt808_utf8_to_gbk(const char *in, uint8_t *out, size_t cap, size_t *out_len);
enum jt808_rc jt808_gbk_to_utf8(const uint8_t *in, size_t n, char *out, size_t cap);

/* --- subpackages ---------------------------------------------------------- */

/* Reassembles subpackaged messages for one terminal.  Pure: callers pass now_ms.
 * Keyed by msg_id and the serial of package 1 (serial - (index-1)). */
struct jt808_reasm_slot;
struct jt808_reasm {
    struct jt808_reasm_slot *slots;  /* in-progress messages */
    size_t mem_used;                 /* bytes buffered now */
    size_t mem_limit;                /* max bytes buffered per terminal */
    uint64_t timeout_ms;             /* drop an incomplete message after this */
    uint64_t dropped;                /* messages dropped (timeout or memory) */
    /* the message the last jt808_reasm_feed completed (for jt808_reasm_decode): */
    uint8_t done_encryption;         /* package 1's body attribute bits 10-12 */
    uint16_t done_mixed;             /* the first package whose bits differ from package 1's (0: all agree) */
    size_t done_mixed_offset;        /* where its bytes start in the reassembled body */
};

void jt808_reasm_init(struct jt808_reasm *r, size_t mem_limit, uint64_t timeout_ms);
void jt808_reasm_free(struct jt808_reasm *r);
/* Feed one decoded fragment (h.subpackage set, body/body_bytes valid: an encrypted
 * package decrypted already, its h.encryption as it came).  Returns JT808_OK with
 * *done = true and *out, *out_len (malloc'd, caller frees) when the message is
 * complete (r->done_* then tell its packages' encryption); *done = false while
 * incomplete; JT808_E_SUBPKG when index/total are invalid or the memory limit is hit. */
enum jt808_rc jt808_reasm_feed(struct jt808_reasm *r, const struct jt808_header *h,
                               const uint8_t *body, size_t n, uint64_t now_ms,
                               bool *done, uint8_t **out, size_t *out_len, struct jt808_err *err);
/* The message jt808_reasm_feed just completed (body[0..n), last: the header of the
 * package that completed it) decoded into msg: its header that package's without the
 * subpackage fields, its encryption package 1's (msg->rsa_plain when that is RSA:
 * the packages were decrypted as they came), msg->body the caller's body.  When its packages disagree on
 * encryption, msg->devs holds a mixed-encryption deviation at the body offset of the
 * first one that differs from package 1 (field "header.encryption"), before the
 * body's own.  Errors as jt808_body_decode's. */
enum jt808_rc jt808_reasm_decode(const struct jt808_reasm *r, const struct jt808_header *last, const uint8_t *body,
                                 size_t n, struct jt808_msg *msg, struct jt808_err *err);
/* Drop incomplete messages older than the timeout; returns how many were dropped. */
size_t jt808_reasm_expire(struct jt808_reasm *r, uint64_t now_ms);

/* Messages in progress that got no new package for idle_ms since the last one (or
 * since they were last listed here), listed at most max_asks times each: fn gets
 * each one's id, first serial and missing package indexes (from 1, ascending), as
 * a 2019 0x0005 asks for them.  Returns the earliest now_ms at which another call
 * would list something (0: never). */
uint64_t jt808_reasm_missing(struct jt808_reasm *r, uint64_t now_ms, uint64_t idle_ms, unsigned max_asks,
                             void (*fn)(uint16_t msg_id, uint16_t first_serial, const uint16_t *ids,
                                        size_t n, void *arg),
                             void *arg);
/* An incomplete message idle past the timeout, as jt808_reasm_expire_ask shows it. */
struct jt808_reasm_gap {
    uint16_t msg_id, first_serial, total;
    unsigned ask;                 /* 1 for the first time it is asked for, ... */
    const uint16_t *missing;      /* the indexes it misses, ascending */
    size_t n_missing;
    const uint8_t *first_body;    /* package 1's body when received (0x0801: the media id), else NULL */
    size_t first_len;
};
/* Like jt808_reasm_expire, but a message idle past the timeout is shown to ask
 * (which asks the peer for the missing packages) up to max_asks times, a timeout
 * apart, before it is dropped; returns how many were dropped. */
size_t jt808_reasm_expire_ask(struct jt808_reasm *r, uint64_t now_ms, unsigned max_asks,
                              void (*ask)(const struct jt808_reasm_gap *g, void *arg), void *arg);

/* Split a long body into subpackage frames: calls emit(frame, len, arg) for each
 * wire frame.  h supplies msg_id/version/phone; serials start at first_serial.
 * max_chunk <= JT808_MAX_BODY. */
enum jt808_rc jt808_split(const struct jt808_header *h, uint16_t first_serial,
                          const uint8_t *body, size_t n, size_t max_chunk,
                          void (*emit)(const uint8_t *frame, size_t len, void *arg), void *arg);

#endif
