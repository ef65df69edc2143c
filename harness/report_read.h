/* Reading a report.json back: the layout report_write_json writes (report/report.h).
 * Strict, as the scenario and snapshot readers are: a field the writer does not
 * write, a value of the wrong type, a text longer than its field, a verdict or a
 * level that is none of the names, two cases of one id, or a "verdict" that is
 * not the worst of the cases' stops it with the file and the JSON path.  The
 * free-form parts (errors, metrics, snapshot) are taken as objects; their readers
 * are the run snapshot's (snapshot_from_json) and the conformance report's
 * (conform_report_check). */
#ifndef FLEETSIM_REPORT_READ_H
#define FLEETSIM_REPORT_READ_H

#include <stdbool.h>
#include <stddef.h>
#include <cjson/cJSON.h>

#include "report/report.h"

#define REPORT_READ_MAX_BYTES (64u << 20)   /* of one report.json */
#define REPORT_READ_MAX_CASES 65536         /* cases of one report */
#define REPORT_READ_WIRE_LOG_MAX (1u << 20) /* bytes of one case's wire log */

/* root (a report.json's tree) into r, which this initialises; file names it in the
 * messages.  0, or -1 with the errors in err (one line each, "file: path: what", at
 * most 20 and a count of the rest); r is then empty.  report_free(r) either way. */
int report_from_json(const cJSON *root, const char *file, struct run_report *r, char *err, size_t errcap);
/* The same from text (len bytes, NUL-terminated or not): a syntax error is
 * "file:line:col: JSON syntax error". */
int report_read_json(const char *text, size_t len, const char *file, struct run_report *r, char *err,
                     size_t errcap);
/* The same from a file (at most REPORT_READ_MAX_BYTES). */
int report_load_json(const char *path, struct run_report *r, char *err, size_t errcap);

/* "file:line:col: JSON syntax error" for text where cJSON stopped at at (NULL: its
 * error pointer); returns -1. */
int report_json_syntax_error(const char *file, const char *text, const char *at, char *err, size_t errcap);

/* Whether s[0..n) is well-formed UTF-8. */
bool report_json_utf8(const char *s, size_t n);

#endif
