/* Hex digits <-> bytes. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "sim/proto/hex.h"

int hex_digit(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

static int hex_is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

enum hex_rc hex_decode(const char *s, size_t n, unsigned flags, uint8_t *out, size_t cap,
                       size_t *out_len, size_t *err_pos)
{
    size_t len = 0;
    size_t hi_pos = 0;  /* where the pending high nibble was read */
    int hi = -1;
    int run_start = 1;  /* a "0x" here would begin a run of digits */

    if (out_len)
        *out_len = 0;
    for (size_t i = 0; i < n; i++) {
        if ((flags & HEX_SPACES) && hex_is_space(s[i])) {
            run_start = 1;
            continue;
        }
        if ((flags & HEX_SEPARATORS) && hi < 0 && (s[i] == ':' || s[i] == '-')) {
            run_start = 1;
            continue;
        }
        if ((flags & HEX_PREFIX) && run_start && hi < 0 && s[i] == '0' && i + 1 < n &&
            (s[i + 1] == 'x' || s[i + 1] == 'X')) {
            run_start = 0;
            i++;
            continue;
        }
        run_start = 0;
        int d = hex_digit(s[i]);
        if (d < 0) {
            if (err_pos)
                *err_pos = i;
            return HEX_E_CHAR;
        }
        if (hi < 0) {
            hi = d;
            hi_pos = i;
            continue;
        }
        if (out) {
            if (len >= cap) {
                if (err_pos)
                    *err_pos = hi_pos;
                return HEX_E_NOSPACE;
            }
            out[len] = (uint8_t)(hi << 4 | d);
        }
        len++;
        hi = -1;
    }
    if (hi >= 0) {
        if (err_pos)
            *err_pos = hi_pos;
        return HEX_E_ODD;
    }
    if (out_len)
        *out_len = len;
    return HEX_OK;
}

void hex_format_error_at(enum hex_rc rc, unsigned char c, const char *where, char *buf,
                         size_t cap)
{
    switch (rc) {
    case HEX_OK:
        snprintf(buf, cap, "ok");
        return;
    case HEX_E_CHAR:
        if (c >= 0x21 && c <= 0x7E)
            snprintf(buf, cap, "bad hex character '%c' at %s", (char)c, where);
        else
            snprintf(buf, cap, "bad hex character 0x%02X at %s", c, where);
        return;
    case HEX_E_ODD:
        snprintf(buf, cap, "odd number of hex digits: the digit at %s has no partner", where);
        return;
    case HEX_E_NOSPACE:
        snprintf(buf, cap, "too many hex digits: output full at %s", where);
        return;
    }
    snprintf(buf, cap, "hex error %d", (int)rc);
}

void hex_format_error(enum hex_rc rc, const char *s, size_t n, size_t pos, char *buf, size_t cap)
{
    char where[40];
    snprintf(where, sizeof where, "position %zu", pos + 1);
    hex_format_error_at(rc, pos < n ? (unsigned char)s[pos] : 0, where, buf, cap);
}

static size_t hex_encode_with(const char *digits, const uint8_t *p, size_t n, char *out, size_t cap)
{
    size_t w = 0;

    if (cap == 0)
        return 0;
    for (size_t i = 0; i < n && w + 2 < cap; i++) {
        out[w++] = digits[p[i] >> 4];
        out[w++] = digits[p[i] & 0x0F];
    }
    out[w] = '\0';
    return w;
}

size_t hex_encode(const uint8_t *p, size_t n, char *out, size_t cap)
{
    return hex_encode_with("0123456789ABCDEF", p, n, out, cap);
}

size_t hex_encode_lower(const uint8_t *p, size_t n, char *out, size_t cap)
{
    return hex_encode_with("0123456789abcdef", p, n, out, cap);
}

char *hex_encode_alloc(const uint8_t *p, size_t n)
{
    if (n > (SIZE_MAX - 1) / 2)
        return NULL;
    char *s = malloc(2 * n + 1);
    if (!s)
        return NULL;
    hex_encode(p, n, s, 2 * n + 1);
    return s;
}
