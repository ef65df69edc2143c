/* Golden vector files: check every entry both ways and report a verdict table.
 *
 * File format (the .json files in vectors/):
 *   {"protocol":"jt808"|"pcp"|"pcodec", "source":"...", ["note":"...",] ["profile":"FILE",]
 *    "vectors":[
 *      {"name","source","hex","fields":{...}[,"from"][,"note"]},
 *      {"name","source","hex","error":{"code","offset"[,"field"]}[,"from"][,"note"]}]}
 * A file may name private keys, "keys":{"NAME":"PEM text"}, and an entry "key":"NAME":
 * it is decoded with that key (a JT/T 808 RSA body decrypted, its fields "decrypted":
 * true with the plaintext's "body"), and encoded with it (encrypted: PKCS#1 v1.5
 * padding is random, so the frame written must decode to the fields again, not match
 * the bytes).
 * Entries may also carry "fragment_of": the name of another entry in the same file
 * (a subpackage fragment points at the whole message it is cut from); the fragments,
 * in file order, must reassemble into that message (a row of its own); fragments with
 * a "key" are decrypted with it first (JT/T 808: each package encrypted on its own).
 * "fields" is exactly what the protocol's to_json gives for the frame; "from"
 * ("device"|"platform") is required for pcp and pcodec and refused for jt808; a
 * pcodec file names its product file ("profile", profiles/); "error.code" is
 * the codec's result name ("crc", "short", ...); names are unique in a file.
 *
 * A fields entry passes when decode(hex) equals fields as JSON and
 * encode(fields) gives back hex byte for byte (a frame that deviates, its fields
 * listing "deviations" with kind, offset and field, is checked by decode only);
 * an error entry passes when decode
 * fails with that code and offset (and field, when given). */
#ifndef FLEETSIM_VECTORS_H
#define FLEETSIM_VECTORS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <cjson/cJSON.h>

/* --- one protocol's codec, seen through JSON --------------------------------- */

struct vectors_error {
    const char *code;   /* result name, e.g. "crc" */
    size_t offset;      /* byte offset in the frame */
    const char *field;  /* e.g. "check" */
    const char *text;   /* e.g. "check field mismatch" */
};

struct vectors_codec {
    const char *protocol;  /* "jt808" | "pcp" */
    bool has_from;         /* frames need the sender's side to be decoded (pcp) */
    /* Decode one frame: 0 and *out (caller frees), or -1 with *e filled. */
    int (*decode)(const uint8_t *buf, size_t n, bool from_device, cJSON **out,
                  struct vectors_error *e);
    /* Encode JSON fields: 0 with the frame in out[0 .. *out_len), or -1 with
     * "path: what" in err. */
    int (*encode)(const cJSON *fields, uint8_t *out, size_t cap, size_t *out_len, char *err,
                  size_t errcap);
    /* Is name one of the codec's result names? */
    bool (*rc_known)(const char *name);
    /* Subpackaged protocols: do the fragment frames reassemble into exactly the
     * whole frame's message?  With pem (the fragments' private key, PEM text; NULL:
     * none) an encrypted fragment is decrypted first (JT/T 808: each package on its
     * own).  0 yes, -1 with what differs in detail.  NULL when the protocol has no
     * subpackages. */
    int (*reassemble)(const uint8_t *const *frags, const size_t *lens, size_t n, const uint8_t *whole,
                      size_t whole_len, const char *pem, char *detail, size_t cap);
    /* Protocols with encrypted bodies (JT/T 808 RSA): decode with the private key in
     * PEM text pem (an encrypted body is decrypted and decoded), and encode fields whose
     * body is plaintext (encrypted for the key's public half).  The padding is random, so
     * such an encoding is checked by decoding it again, not byte for byte.  Errors as
     * decode's and encode's; a key that does not read is code "key".  NULL when the
     * protocol has none. */
    int (*decode_key)(const uint8_t *buf, size_t n, const char *pem, cJSON **out, struct vectors_error *e);
    int (*encode_key)(const cJSON *fields, const char *pem, uint8_t *out, size_t cap, size_t *out_len,
                      char *err, size_t errcap);
    /* Codecs that need a definition before any frame (a product's codec): read it
     * from the file's top-level "profile" (a product file's path, from the current
     * directory or the vector file's parent folder: dir is the file's folder, NULL
     * for text); 0, or -1 with "profile: what" in err.  NULL: the codec needs none
     * (and a file of it has no "profile"). */
    int (*load)(const char *profile, const char *dir, char *err, size_t errcap);
};

/* NULL when the protocol is unknown. */
const struct vectors_codec *vectors_codec_find(const char *protocol);

/* Largest frame any codec writes (an encode buffer of this size always suffices). */
#define VECTORS_MAX_FRAME 4096

/* --- checking ---------------------------------------------------------------- */

enum vectors_verdict { VECTORS_OK = 0, VECTORS_FAIL, VECTORS_NA };

struct vectors_row {
    char *file;                   /* the path as given */
    char *name;                   /* the entry's name */
    enum vectors_verdict decode;  /* decode matched fields / the expected error */
    enum vectors_verdict encode;  /* encode gave the bytes back; NA for error entries */
    char *detail;                 /* "" when ok, else "expected ... / observed ..." */
};

struct vectors_run {
    struct vectors_row *rows;  /* one per entry, in file order */
    size_t n_rows;
    size_t cap_rows;
    int n_pass;                /* entries whose every direction is ok */
    int n_fail;                /* entries with a mismatch */
    int n_files;               /* files checked (well-formed ones) */
};

void vectors_run_init(struct vectors_run *r);
void vectors_run_free(struct vectors_run *r);

/* Check every entry of one file (label names it in rows and errors).  Returns 0
 * when the file is well-formed (its rows appended, mismatches counted), -1 when
 * it is unreadable or malformed: nothing is appended and err gets
 * "FILE: json.path: what" or "FILE:LINE:COL: JSON syntax error near '...'". */
int vectors_run_file(struct vectors_run *r, const char *path, char *err, size_t errcap);
int vectors_run_text(struct vectors_run *r, const char *label, const char *text, size_t len,
                     char *err, size_t errcap);

/* The table: FILE NAME DECODE ENCODE DETAIL, columns aligned over all rows;
 * failures_only skips passing rows.  Then the total line
 * "N vectors in F files: P passed, X failed". */
void vectors_print(const struct vectors_run *r, FILE *out, bool failures_only);

/* Parse a whole JSON text (NUL-terminated, len bytes).  NULL on error with
 * "LABEL:LINE:COL: JSON syntax error near '...'" in err; the caller frees the tree. */
cJSON *vectors_parse_json(const char *label, const char *text, size_t len, char *err,
                          size_t errcap);

/* One file start to end: checks, prints the table and total to out, adds to the
 * counters.  Returns 0 all passed, 1 a mismatch, 2 unreadable/malformed (err set). */
int vectors_check_file(const char *path, FILE *out, int *n_pass, int *n_fail, char *err,
                       size_t errcap);

#endif
