/* ${name} in a text: each replaced by what a lookup gives (conformance steps,
 * scenario api steps). */
#ifndef FLEETSIM_SUBST_H
#define FLEETSIM_SUBST_H

#include <stddef.h>

/* The value of name (len bytes, not NUL-terminated), NULL when it has none; tmp
 * (cap bytes) is room for a value made on the spot. */
typedef const char *(*subst_lookup)(void *ctx, const char *name, size_t len, char *tmp, size_t cap);

/* tpl with every ${name} replaced into out: 0, or -1 with why ("${x} has no value",
 * or out too short).  A "${" without its "}" is kept as it is. */
int subst_text(const char *tpl, subst_lookup look, void *ctx, char *out, size_t cap, char *why, size_t whycap);

#endif
