#include "harness/subst.h"

#include <stdio.h>
#include <string.h>

int subst_text(const char *tpl, subst_lookup look, void *ctx, char *out, size_t cap, char *why, size_t whycap)
{
    size_t o = 0;
    for (const char *p = tpl; *p;) {
        const char *e;
        if (p[0] == '$' && p[1] == '{' && (e = strchr(p + 2, '}')) != NULL) {
            size_t len = (size_t)(e - p - 2);
            char tmp[128];
            const char *v = look(ctx, p + 2, len, tmp, sizeof tmp);
            if (v == NULL) {
                snprintf(why, whycap, "${%.*s} has no value", (int)(len > 40 ? 40 : len), p + 2);
                return -1;
            }
            size_t l = strlen(v);
            if (o + l >= cap) {
                snprintf(why, whycap, "the text with its ${...} filled in is longer than %zu bytes", cap - 1);
                return -1;
            }
            memcpy(out + o, v, l);
            o += l;
            p = e + 1;
        } else {
            if (o + 1 >= cap) {
                snprintf(why, whycap, "the text is longer than %zu bytes", cap - 1);
                return -1;
            }
            out[o++] = *p++;
        }
    }
    out[o] = '\0';
    return 0;
}
