/* A scratch directory for a unit test's files, made beside the test binary (in
 * the build directory, not /tmp) and removed with what it holds (one level). */
#ifndef FLEETSIM_TEST_SCRATCH_H
#define FLEETSIM_TEST_SCRATCH_H

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Make "<dir of argv0>/<name>.XXXXXX" in out; 0 or -1. */
static inline int scratch_make(const char *argv0, const char *name, char *out, size_t cap)
{
    const char *slash = argv0 ? strrchr(argv0, '/') : NULL;
    if (slash)
        snprintf(out, cap, "%.*s/%s.XXXXXX", (int)(slash - argv0), argv0, name);
    else
        snprintf(out, cap, "./%s.XXXXXX", name);
    return mkdtemp(out) ? 0 : -1;
}

/* Remove the files in dir, then dir; 0 or -1. */
static inline int scratch_remove(const char *dir)
{
    DIR *d = opendir(dir);
    if (d) {
        struct dirent *e;
        char p[1024];
        while ((e = readdir(d)) != NULL) {
            if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
                continue;
            snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
            unlink(p);
        }
        closedir(d);
    }
    return rmdir(dir);
}

#endif
