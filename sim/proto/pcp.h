/* PCP, the software-upgrade protocol carried over LwM2M object 19 (004 §15.2/15.3).
 * Pure codec: no I/O, no clock.  All integers big-endian.
 *   start W 0xFFFE | version B (low nibble 1) | code B 0x13..0x18 | check W | length W | data */
#ifndef FLEETSIM_PCP_H
#define FLEETSIM_PCP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PCP_START 0xFFFE
#define PCP_HDR_LEN 8
#define PCP_VERSION_LEN 16
#define PCP_MAX_DATA 1024

enum pcp_code {
    PCP_QUERY_VERSION = 0x13,
    PCP_NEW_VERSION = 0x14,
    PCP_REQUEST_CHUNK = 0x15,
    PCP_DOWNLOAD_RESULT = 0x16,
    PCP_EXECUTE = 0x17,
    PCP_UPGRADE_RESULT = 0x18,
};

enum pcp_rc {
    PCP_OK = 0,
    PCP_E_SHORT,    /* fewer bytes than the header or the length field says */
    PCP_E_START,    /* first two bytes are not 0xFFFE */
    PCP_E_VERSION,  /* low nibble of version is not 1 */
    PCP_E_CODE,     /* code outside 0x13..0x18 */
    PCP_E_CRC,      /* check field mismatch */
    PCP_E_LENGTH,   /* length field disagrees with the data (too many bytes, or wrong size for the message) */
    PCP_E_VALUE,    /* a field value outside its allowed set */
    PCP_E_NOSPACE,  /* output buffer too small */
};

struct pcp_err {
    enum pcp_rc rc;
    size_t offset;      /* byte offset in the frame */
    const char *field;  /* "start", "version", "code", "check", "length", "data.chunk_index", ... */
};

const char *pcp_rc_name(enum pcp_rc rc);   /* "short", "crc", ... */
const char *pcp_rc_text(enum pcp_rc rc);   /* "check field mismatch", ... */
const char *pcp_code_name(uint8_t code);   /* "query version", ...; NULL if not 0x13..0x18 */

/* CRC16 exactly as 004's sample code: init 0, MSB-first CCITT table (poly 0x1021),
 * crc = (crc >> 8) ^ table[(crc ^ b) & 0xFF]. */
uint16_t crc16_pcp(const uint8_t *p, size_t n);

struct pcp_msg {
    uint8_t version;       /* whole byte; low nibble 1 */
    uint8_t code;
    bool response;         /* direction: the frame is the answer to a request of the same code */
    uint16_t check;        /* as decoded (encode computes it) */
    uint16_t length;       /* as decoded (encode computes it) */
    /* fields, used per code/direction: */
    uint8_t result;        /* responses; 0x16 request: status; 0x18 request: result */
    char version_str[PCP_VERSION_LEN + 1]; /* 0x13 resp, 0x14 req, 0x15 req, 0x18 req */
    uint16_t chunk_size;   /* 0x14 req */
    uint16_t chunk_count;  /* 0x14 req */
    uint16_t check_code;   /* 0x14 req: package check code */
    uint16_t chunk_index;  /* 0x15 req and resp */
    const uint8_t *chunk;  /* 0x15 resp with result 0: points into the frame / caller data */
    size_t chunk_len;
};

/* Direction of a frame cannot be read from the bytes alone for every code (0x16's
 * request and reply are byte-identical), so the caller says which side sent it:
 * from_device = true for frames a device sends. Responses are: from_device for
 * 0x13, 0x14, 0x17 (device answers platform requests) and !from_device for
 * 0x15, 0x16, 0x18. */
bool pcp_is_response(uint8_t code, bool from_device);

enum pcp_rc pcp_decode(const uint8_t *buf, size_t n, bool from_device, struct pcp_msg *m,
                       struct pcp_err *err);
enum pcp_rc pcp_encode(const struct pcp_msg *m, uint8_t *out, size_t cap, size_t *out_len);
/* What pcp_encode checks before writing (version nibble, code, result sets, version
 * strings, chunk size), with err->field naming the culprit as the JSON mapping does
 * ("data.result", "data.version", ...) and err->offset where it would sit in the frame. */
enum pcp_rc pcp_check(const struct pcp_msg *m, struct pcp_err *err);

/* 15.3 appendix: is this payload PCP (true) or business data (false)?  The profile
 * checks come first (supports_upgrade and uses_pcp), then start, version, code, CRC,
 * length, in that order.  *why names the first check that failed (or "pcp"). */
bool pcp_identify(const uint8_t *buf, size_t n, bool supports_upgrade, bool uses_pcp,
                  const char **why);

#endif
