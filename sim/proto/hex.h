/* Hex digits <-> bytes: frames typed by hand, vector files, scenario bodies, wire
 * logs and auth codes.  Pure: no I/O; only hex_encode_alloc allocates. */
#ifndef FLEETSIM_HEX_H
#define FLEETSIM_HEX_H

#include <stddef.h>
#include <stdint.h>

enum hex_rc {
    HEX_OK = 0,
    HEX_E_CHAR,     /* a character that is neither a hex digit nor an allowed space,
                     * separator or prefix */
    HEX_E_ODD,      /* an odd number of digits: the last one has no partner */
    HEX_E_NOSPACE,  /* output buffer too small */
};

/* hex_decode's flags. */
enum hex_flags {
    HEX_STRICT = 0,      /* digits only: a space is a bad character */
    HEX_SPACES = 1 << 0, /* skip whitespace anywhere, so "FF FE 01" reads as "FFFE01" */
    HEX_SEPARATORS = 1 << 1, /* skip ':' and '-' between bytes, so "7E:00-02" reads as
                              * "7E0002"; inside a byte ("7:E") one is a bad character */
    HEX_PREFIX = 1 << 2, /* skip "0x" or "0X" before a run of digits: at the start of s,
                          * or after a skipped space or separator, between bytes; so
                          * "0x7E00 0x02" reads as "7E0002" (with HEX_SPACES) */
};

/* @return the value of one hex digit (either case), or -1 when c is not one. */
int hex_digit(char c);

/* Decode n characters of s (NUL not needed); upper and lower case are accepted.
 * @return HEX_OK with *out_len bytes written to out, or an error with *err_pos the
 * index in s (from 0) of the offending character: the bad character for
 * HEX_E_CHAR, the unpaired digit for HEX_E_ODD, the first digit that did not fit
 * for HEX_E_NOSPACE.  Scanning stops at the first error, so a bad character before
 * the end wins over an odd count.  out may be NULL with cap 0 to count bytes only
 * (then only HEX_E_CHAR and HEX_E_ODD can fail).  n / 2 bytes are always enough.
 * out_len and err_pos may be NULL. */
enum hex_rc hex_decode(const char *s, size_t n, unsigned flags, uint8_t *out, size_t cap,
                       size_t *out_len, size_t *err_pos);

/* A message for a hex_decode error, positions counted from 1 as an editor shows
 * them: "bad hex character 'G' at position 5", "bad hex character 0x01 at position
 * 3" (control and non-ASCII bytes in hex), "odd number of hex digits: ...", "too
 * many hex digits: ...".  s/n is the input hex_decode saw, pos the err_pos it set. */
void hex_format_error(enum hex_rc rc, const char *s, size_t n, size_t pos, char *buf, size_t cap);

/* The same with the place named by the caller: where is what follows "at", e.g.
 * "column 5 of argument 2"; c is the character at err_pos (shown for HEX_E_CHAR:
 * 'G', or 0x01 for control and non-ASCII bytes).  hex_format_error is this with
 * "position N". */
void hex_format_error_at(enum hex_rc rc, unsigned char c, const char *where, char *buf,
                         size_t cap);

/* Upper-case digits, no separators, NUL-terminated.  Writes at most cap - 1 digits,
 * stopping at a byte boundary.
 * @return the number of digits written: 2 * n when cap >= 2 * n + 1. */
size_t hex_encode(const uint8_t *p, size_t n, char *out, size_t cap);

/* The same in lower case (the platform store's secrets, JT/T 808 auth codes). */
size_t hex_encode_lower(const uint8_t *p, size_t n, char *out, size_t cap);

/* hex_encode into a malloc'd string the caller frees.
 * @return the string, or NULL when out of memory. */
char *hex_encode_alloc(const uint8_t *p, size_t n);

#endif
