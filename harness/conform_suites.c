/* `fleetsim conform`'s suites: the folders the options name read (a suite, or
 * a folder of suites, in name order), their names and case ids checked unique over
 * the run, the --cases/--exclude globs, and --list. */
#include "harness/conform_runner.h"

#include <dirent.h>
#include <errno.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "harness/run.h"

static bool is_suite(const char *dir)
{
    char p[1024];
    struct stat st;
    snprintf(p, sizeof p, "%s/suite.json", dir);
    return stat(p, &st) == 0 && S_ISREG(st.st_mode);
}

static int by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* dir itself when it is a suite, else the suites in it (name order); count or -1. */
static int suite_dirs(const char *dir, char **out, int cap)
{
    if (is_suite(dir)) {
        out[0] = strdup(dir);
        return out[0] ? 1 : -1;
    }
    DIR *d = opendir(dir);
    if (d == NULL)
        return -1;
    int n = 0;
    for (struct dirent *de; (de = readdir(d)) != NULL && n < cap;) {
        char p[1024];
        if (de->d_name[0] == '.')
            continue;
        snprintf(p, sizeof p, "%s/%s", dir, de->d_name);
        if (is_suite(p) && (out[n] = strdup(p)) != NULL)
            n++;
    }
    closedir(d);
    qsort(out, (size_t)n, sizeof out[0], by_name);
    return n;
}

int conform_load_all(const struct conform_opts *o, struct conform_suite *suites, int *n_suites)
{
    int bad = 0;
    *n_suites = 0;
    for (int i = 0; i < o->n_suites; i++) {
        char *dirs[MAX_SUITES];
        int n = suite_dirs(o->suites[i], dirs, MAX_SUITES - *n_suites);
        if (n <= 0) {
            fprintf(stderr, "fleetsim conform: %s: %s\n", o->suites[i],
                    n < 0 ? strerror(errno) : "neither a suite (a folder with a suite.json) nor a folder of suites");
            bad = 1;
            continue;
        }
        for (int k = 0; k < n; k++) {
            char err[16384];
            if (conform_suite_load(dirs[k], &suites[*n_suites], err, sizeof err) < 0) {
                fprintf(stderr, "%s\n", err);
                bad = 1;
            } else {
                const struct conform_suite *s = &suites[*n_suites];
                for (int q = 0; q < *n_suites; q++) {
                    if (strcmp(suites[q].name, s->name) == 0) {
                        fprintf(stderr, "fleetsim conform: %s: suite name \"%s\" is also %s's\n", dirs[k],
                                suites[q].name, suites[q].dir);
                        bad = 1;
                    }
                    /* a report names its cases by id: one id, one case, over all the suites of a run */
                    int clashes = 0;
                    for (int a = 0; a < s->n_cases; a++)
                        for (int b = 0; b < suites[q].n_cases; b++) {
                            const char *same = conform_case_id_clash(&s->cases[a], &suites[q].cases[b]);
                            if (same && clashes++ == 0)
                                fprintf(stderr, "fleetsim conform: %s: case id %s is also the id of a case in %s",
                                        s->cases[a].file, same, suites[q].cases[b].file);
                        }
                    if (clashes > 1)
                        fprintf(stderr, " (and %d more of suite %s are suite %s's)", clashes - 1, s->name,
                                suites[q].name);
                    if (clashes) {
                        fprintf(stderr, "\n");
                        bad = 1;
                    }
                }
                (*n_suites)++;
            }
            free(dirs[k]);
        }
    }
    return bad ? -1 : 0;
}

/* GLOB or GLOB,GLOB,...: any matches. */
bool conform_glob_any(const char *globs, const char *id)
{
    char buf[512];
    snprintf(buf, sizeof buf, "%s", globs);
    char *save = NULL;
    for (char *g = strtok_r(buf, ",", &save); g; g = strtok_r(NULL, ",", &save))
        if (fnmatch(g, id, 0) == 0)
            return true;
    return false;
}

int conform_list_suites(const struct conform_opts *o)
{
    struct conform_suite suites[MAX_SUITES];
    int n = 0;
    if (conform_load_all(o, suites, &n) < 0) {
        for (int i = 0; i < n; i++)
            conform_suite_free(&suites[i]);
        return RUN_EXIT_USAGE;
    }
    printf("%-16s %-8s %6s  %s\n", "SUITE", "PROTOCOL", "CASES", "FOLDER");
    int total = 0;
    for (int i = 0; i < n; i++) {
        int cases = 0; /* a scenario case is a case per expectation */
        for (int k = 0; k < suites[i].n_cases; k++)
            cases += suites[i].cases[k].kind == CONFORM_SCENARIO ? suites[i].cases[k].n_sub : 1;
        printf("%-16s %-8s %6d  %s\n", suites[i].name, suites[i].protocol, cases, suites[i].dir);
        total += cases;
        conform_suite_free(&suites[i]);
    }
    printf("%d suite%s, %d cases\n", n, n == 1 ? "" : "s", total);
    return RUN_EXIT_PASS;
}
