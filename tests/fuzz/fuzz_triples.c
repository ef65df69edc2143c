/* libFuzzer target: any bytes as the CSV of known JT/T 808 terminals (what
 * one-party mode loads at start).  The loader opens a path, so the input is a
 * memfd's content read through /proc/self/fd/N.  An error names the file and
 * emits nothing; a load emits exactly the rows it counts, each a provision the
 * store accepts (names of three triple fields, bindings "" or "colour:plate"
 * within the store's limits); never a crash, and everything freed. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "sim/platform/jt808/jt808_reg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct seen {
    int rows;
};

static bool name_ok(const char *name)
{
    size_t n = strlen(name), parts = 1;
    if (n < 4 + 1 + 4 + 1 + 4 || n > STORE_NAME_MAX)
        return false;
    for (const char *p = name; *p; p++) {
        if (*p == '_')
            parts++;
        else if (!((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '-'))
            return false;
    }
    return parts == 3;
}

static bool binding_ok(const char *b)
{
    if (b[0] == '\0')
        return true;
    if (strlen(b) > STORE_BINDING_MAX)
        return false;
    char *end;
    long color = strtol(b, &end, 10);
    return end != b && *end == ':' && end[1] != '\0' && color >= 0 && color <= 255;
}

static int emit(void *ctx, const struct store_provision *p)
{
    struct seen *s = ctx;
    if (!p || !p->protocol || strcmp(p->protocol, JT808_REG_PROTOCOL) != 0 || !p->name || !name_ok(p->name)
        || !p->binding || !binding_ok(p->binding))
        abort();
    s->rows++;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int fd = -1;
    static char path[64];
    if (fd < 0) {
        fd = memfd_create("fuzz_triples.csv", MFD_CLOEXEC);
        if (fd < 0)
            abort();
        snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    }
    if (ftruncate(fd, 0) != 0 || (size > 0 && pwrite(fd, data, size, 0) != (ssize_t)size))
        abort();

    struct seen s = {0};
    char err[512];
    int n = jt808_triples_load(path, emit, &s, err, sizeof err);
    if (n < 0) {
        if (strncmp(err, path, strlen(path)) != 0 || s.rows != 0)
            abort(); /* every error names the file; a bad file emits nothing */
    } else if (n != s.rows) {
        abort();
    }
    return 0;
}
