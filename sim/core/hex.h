/* Hex digits <-> bytes, for frames typed by hand, vector files and wire logs. */
#ifndef FLEETSIM_HEX_H
#define FLEETSIM_HEX_H

#include <stddef.h>
#include <stdint.h>

enum hex_rc {
    HEX_OK = 0,
    HEX_E_CHAR,     /* a character that is neither a hex digit nor whitespace */
    HEX_E_ODD,      /* an odd number of digits: the last one has no partner */
    HEX_E_NOSPACE,  /* output buffer too small */
};

/* Decode n characters of s (NUL not needed).  Whitespace anywhere is skipped, so
 * "FF FE 01" and "FFFE01" are the same; upper and lower case are accepted.
 * On error *err_pos is the index in s of the offending character (for HEX_E_ODD
 * the unpaired digit, for HEX_E_NOSPACE the first digit that did not fit).
 * out may be NULL with cap 0 to count bytes only (then only E_CHAR/E_ODD fail).
 * A buffer of n / 2 bytes is always enough. */
enum hex_rc hex_decode(const char *s, size_t n, uint8_t *out, size_t cap, size_t *out_len,
                       size_t *err_pos);

/* "bad hex character 'G' at position 5" (positions counted from 1) etc.; s/n is the
 * input hex_decode saw, pos the err_pos it returned. */
void hex_format_error(enum hex_rc rc, const char *s, size_t n, size_t pos, char *buf, size_t cap);

/* Uppercase digits, no separators, NUL-terminated.  Writes at most cap - 1 digits,
 * stopping at a byte boundary; returns the number of digits written (2 * n when
 * cap >= 2 * n + 1). */
size_t hex_encode(const uint8_t *p, size_t n, char *out, size_t cap);

/* The same into a malloc'd string the caller frees; NULL when out of memory. */
char *hex_encode_alloc(const uint8_t *p, size_t n);

#endif
