#include "harness/textfile.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

int textfile_read(const char *path, size_t max, char **out, size_t *len)
{
    *out = NULL;
    *len = 0;
    FILE *f = fopen(path, "rb");
    if (!f)
        return errno ? errno : EIO;
    struct stat st;
    if (fstat(fileno(f), &st) == 0 && S_ISDIR(st.st_mode)) {
        fclose(f);
        return EISDIR;
    }
    size_t cap = 0, n = 0;
    char *buf = NULL;
    int rc = 0;
    for (;;) {
        if (n + 1 >= cap) {
            /* room for one byte past the limit, so a file over it is seen */
            size_t ncap = cap ? cap * 2 : 8192;
            if (ncap > max + 2)
                ncap = max + 2;
            char *nb = realloc(buf, ncap);
            if (!nb) {
                rc = ENOMEM;
                break;
            }
            buf = nb;
            cap = ncap;
        }
        size_t got = fread(buf + n, 1, cap - 1 - n, f);
        n += got;
        if (n > max) {
            rc = EFBIG;
            break;
        }
        if (got == 0) {
            if (ferror(f))
                rc = errno ? errno : EIO;
            break;
        }
    }
    fclose(f);
    if (rc) {
        free(buf);
        return rc;
    }
    buf[n] = '\0';
    *out = buf;
    *len = n;
    return 0;
}
