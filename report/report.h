/* Verdicts and run reports: JSON, JUnit XML, HTML and the console verdict table.
 * Verdicts only get worse: pass < inconclusive < fail < error.  "fail" is the
 * system under test; "error" is the harness (kept apart, as conformance suites do). */
#ifndef FLEETSIM_REPORT_H
#define FLEETSIM_REPORT_H

#include <stdio.h>
#include <stddef.h>
#include <stdint.h>
#include <cjson/cJSON.h>

enum verdict { VERDICT_PASS = 0, VERDICT_INCONCLUSIVE, VERDICT_FAIL, VERDICT_ERROR };

const char *verdict_name(enum verdict v);        /* "PASS", "INCONCLUSIVE", "FAIL", "ERROR" */
enum verdict verdict_worse(enum verdict a, enum verdict b);

struct case_result {
    char id[48];                  /* "PCP-CRC-001" */
    char area[48];                /* JUnit classname, e.g. "pcp.crc" */
    char desc[160];               /* objective */
    char ref[128];                /* spec reference: "seed 000 Table 1", "JT/T 808-2019 8.2"; "" none */
    char level[8];                /* requirement level: "MUST", "SHOULD", "MAY"; "" none */
    char suite[48];               /* conformance suite the case is of; "" for a scenario's */
    enum verdict verdict;
    char expected[256];           /* "all 1000 terminals authenticated within 10s" */
    char observed[256];           /* "998 of 1000; slowest 12.4s" */
    double duration_s;
    char *wire_log;               /* optional hex lines (owned, may be NULL) */
};

struct run_report {
    char scenario[64];
    char scenario_path[512];
    char started[32];             /* ISO 8601 UTC */
    double duration_s;            /* wall clock */
    double virtual_s;             /* virtual time covered */
    int n_cases;
    struct case_result *cases;    /* owned */
    cJSON *metrics;               /* owned, free-form summary (counters, histograms, ledger) */
    int ledger_balanced;          /* 1 yes, 0 no */
    char ledger_text[256];        /* "sent 123 = acked 120 + failed 1 + timed out 2" */
    char errors_text[256];        /* "connect failures 14 (refused 14), decode errors 2"; "" none */
    cJSON *errors;                /* owned, may be NULL: the same by reason, for report.json */
    cJSON *snapshot;              /* owned, may be NULL: the state the verdicts were computed from */
};

void report_init(struct run_report *r, const char *scenario, const char *path);
/* Appends a case (copied) and returns it. */
struct case_result *report_add_case(struct run_report *r, const struct case_result *c);
void report_free(struct run_report *r);
enum verdict report_overall(const struct run_report *r);   /* worst verdict; PASS when empty */

/* report.json's text (cJSON_free it), NULL when out of memory. */
char *report_json_text(const struct run_report *r);
/* Each returns 0 or -1 with a message in err. */
int report_write_json(const struct run_report *r, const char *path, char *err, size_t errcap);
int report_write_junit(const struct run_report *r, const char *path, char *err, size_t errcap);
/* One self-contained page (inline CSS and SVG, no network): the header, the
 * verdict matrix (suite x case), each case's evidence and, from r->snapshot,
 * plots of the timeline (at most REPORT_HTML_MAX_POINTS points, each the highest
 * of the ticks it stands for) and the report latency histogram. */
#define REPORT_HTML_MAX_POINTS 600
int report_write_html(const struct run_report *r, const char *path, char *err, size_t errcap);
/* Aligned table: ID | VERDICT | EXPECTED | OBSERVED, then the ledger line and a total. */
void report_print_table(const struct run_report *r, FILE *out);

/* How the summary is drawn: marks in UTF-8 (a check and a cross) or ASCII
 * ('+', 'x', '?', '!'), with or without ANSI colours. */
struct summary_style {
    int utf8;
    int color;
};
/* The style for out: UTF-8 when the locale says so (LC_ALL, else LC_CTYPE, else
 * LANG names a UTF-8 charset); colours when out is a terminal, NO_COLOR is unset
 * or empty, TERM is not "dumb" and no_color (--no-color) is 0. */
struct summary_style report_summary_style(FILE *out, int no_color);
/* The compact summary, a line per case as k6 prints its checks:
 *   "  + AUTH-001  all 100 terminals authenticated within 10s (100 of 100; slowest 1.2s)"
 * with the observed figure ("(observed: ...) FAIL" for a case that did not pass),
 * then "checks: P of N passed (x%)" and the failed, error and inconclusive counts. */
void report_print_summary(const struct run_report *r, FILE *out, struct summary_style st);

#endif
