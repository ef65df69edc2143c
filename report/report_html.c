/* report.html: one self-contained page (inline CSS, SVG drawn here, a few lines
 * of script for the matrix filter only), readable offline and on paper.  The
 * plots come from the run snapshot in r->snapshot (scenarios/SCHEMA.md, "Run
 * snapshot"): its timeline, one sample per status tick, and the fleets'
 * report latency histograms. */
#include "report/report.h"
#include "report/report_internal.h"

#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim/core/metrics.h"

/* What the HTML parser reports as a parse error in the input stream: controls
 * other than white space, and noncharacters. */
static int html_char_ok(uint32_t cp)
{
    if (cp < 0x20)
        return cp == '\t' || cp == '\n' || cp == '\r';
    if (cp >= 0x7F && cp <= 0x9F)
        return 0;
    if (cp >= 0xFDD0 && cp <= 0xFDEF)
        return 0;
    return (cp & 0xFFFE) != 0xFFFE;
}

/* Text and attribute values alike (attributes are always double-quoted); cap
 * bounds the fixed-size fields a caller may have filled to the brim. */
static void esc_n(FILE *f, const char *str, size_t cap)
{
    const unsigned char *s = (const unsigned char *)str;
    size_t n = strnlen(str, cap);
    for (size_t i = 0; i < n;) {
        uint32_t cp;
        size_t len = report_utf8_decode(s + i, n - i, &cp);
        if (len == 0 || !html_char_ok(cp)) {
            fputs(REPORT_REPLACEMENT, f);
            i += len ? len : 1;
            continue;
        }
        switch (cp) {
        case '&': fputs("&amp;", f); break;
        case '<': fputs("&lt;", f); break;
        case '>': fputs("&gt;", f); break;
        case '"': fputs("&quot;", f); break;
        case '\'': fputs("&#39;", f); break;
        default: fwrite(s + i, 1, len, f);
        }
        i += len;
    }
}

static void esc(FILE *f, const char *s) { esc_n(f, s, SIZE_MAX); }
#define ESC_FIELD(f, field) esc_n((f), (field), sizeof(field))

static const char *verdict_class(enum verdict v)
{
    static const char *const cls[] = {"pass", "inconclusive", "fail", "error"};
    return cls[verdict_worse(VERDICT_PASS, v)];
}

/* ---- the snapshot, read from its JSON (the format of snapshot_to_json) ---- */

/* Whole numbers above 2^53 are strings of digits there. */
static double jnum(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    if (cJSON_IsNumber(v))
        return v->valuedouble;
    if (cJSON_IsString(v) && v->valuestring)
        return strtod(v->valuestring, NULL);
    return 0;
}

static uint64_t jcount(const cJSON *o, const char *key)
{
    double d = jnum(o, key);
    if (!(d > 0))
        return 0;
    return d >= 18446744073709551615.0 ? UINT64_MAX : (uint64_t)d;
}

/* A snapshot histogram into h (whose counts are all zero on entry); returns 0,
 * or -1 when it is not one (then h is left with zero counts). */
static int hist_load(struct hist *h, const cJSON *j)
{
    h->n = jcount(j, "n");
    h->sum = jcount(j, "sum");
    h->min = h->n ? jcount(j, "min") : UINT64_MAX;
    h->max = jcount(j, "max");
    const cJSON *b = cJSON_GetObjectItemCaseSensitive(j, "buckets");
    const cJSON *pair;
    cJSON_ArrayForEach(pair, b) {
        const cJSON *ix = cJSON_GetArrayItem(pair, 0), *cnt = cJSON_GetArrayItem(pair, 1);
        if (!cJSON_IsNumber(ix) || !cJSON_IsNumber(cnt) || ix->valuedouble < 0 || ix->valuedouble >= HIST_BUCKETS
            || cnt->valuedouble < 0)
            continue;
        uint32_t *c = &h->counts[(size_t)ix->valuedouble];
        uint32_t add = cnt->valuedouble > UINT32_MAX ? UINT32_MAX : (uint32_t)cnt->valuedouble;
        *c = add > UINT32_MAX - *c ? UINT32_MAX : *c + add;
    }
    return 0;
}

/* Zero the counts hist_load set (cheaper than clearing 1,184 buckets). */
static void hist_unload(struct hist *h, const cJSON *j)
{
    const cJSON *pair;
    cJSON_ArrayForEach(pair, cJSON_GetObjectItemCaseSensitive(j, "buckets")) {
        const cJSON *ix = cJSON_GetArrayItem(pair, 0);
        if (cJSON_IsNumber(ix) && ix->valuedouble >= 0 && ix->valuedouble < HIST_BUCKETS)
            h->counts[(size_t)ix->valuedouble] = 0;
    }
}

/* One plotted point of the timeline: a tick, or after downsampling the highest
 * value of each series over a run of ticks.  NaN: no value (no report that tick). */
struct tl_point {
    double t;                 /* virtual seconds since the start (the run's last tick) */
    double online, rps, pending, disc;
    double p50, p99, max;     /* ms */
};

static double max_nan(double a, double b)
{
    if (isnan(a))
        return b;
    if (isnan(b))
        return a;
    return a > b ? a : b;
}

/* The timeline, at most REPORT_HTML_MAX_POINTS points; NULL with *n 0 when there
 * is none, NULL with *n 1 when out of memory. */
static struct tl_point *timeline_points(const cJSON *snap, size_t *n, size_t *per_point)
{
    const cJSON *tl = cJSON_GetObjectItemCaseSensitive(snap, "timeline");
    size_t total = cJSON_IsArray(tl) ? (size_t)cJSON_GetArraySize(tl) : 0;
    *n = 0;
    *per_point = 1;
    if (total == 0)
        return NULL;
    size_t group = (total + REPORT_HTML_MAX_POINTS - 1) / REPORT_HTML_MAX_POINTS;
    size_t cap = (total + group - 1) / group;
    struct tl_point *pts = calloc(cap, sizeof *pts);
    struct hist *h = calloc(1, sizeof *h);
    if (!pts || !h) {
        free(pts);
        free(h);
        *n = 1;
        return NULL;
    }
    size_t i = 0;
    const cJSON *smp;
    cJSON_ArrayForEach(smp, tl) {
        struct tl_point p = {.t = jnum(smp, "t_s"),
                             .online = jnum(smp, "online"),
                             .rps = jnum(smp, "reports_per_s"),
                             .pending = jnum(smp, "pending"),
                             .disc = jnum(smp, "disconnects"),
                             .p50 = NAN, .p99 = NAN, .max = NAN};
        const cJSON *w = cJSON_GetObjectItemCaseSensitive(smp, "report_latency");
        if (cJSON_IsObject(w)) {
            hist_load(h, w);
            if (h->n) {
                p.p50 = (double)hist_percentile(h, 50) / 1000.0;
                p.p99 = (double)hist_percentile(h, 99) / 1000.0;
                p.max = (double)h->max / 1000.0;
            }
            hist_unload(h, w);
        }
        struct tl_point *q = &pts[i / group];
        if (i % group == 0) {
            *q = p;
        } else {
            q->t = p.t;
            q->online = max_nan(q->online, p.online);
            q->rps = max_nan(q->rps, p.rps);
            q->pending = max_nan(q->pending, p.pending);
            q->disc = max_nan(q->disc, p.disc);
            q->p50 = max_nan(q->p50, p.p50);
            q->p99 = max_nan(q->p99, p.p99);
            q->max = max_nan(q->max, p.max);
        }
        i++;
    }
    free(h);
    *n = (i + group - 1) / group;
    *per_point = group;
    return pts;
}

/* ---- SVG ---- */

#define PW 720.0   /* plot box, in SVG user units */
#define PH 240.0
#define ML 64.0    /* margins: left (y labels), right, top, bottom (x labels) */
#define MR 16.0
#define MT 14.0
#define MB 40.0

/* A round step (1, 2 or 5 times a power of ten) near range/5. */
static double nice_step(double range)
{
    if (!(range > 0) || !isfinite(range))
        return 1;
    double raw = range / 5;
    double mag = pow(10, floor(log10(raw)));
    double r = raw / mag;
    return (r <= 1 ? 1 : r <= 2 ? 2 : r <= 5 ? 5 : 10) * mag;
}

static double nice_ceil(double v, double step)
{
    double c = ceil(v / step - 1e-9) * step;
    return isfinite(c) && c > 0 ? c : (isfinite(v) && v > 0 ? v : 1);
}

/* "%g" without "-0" and with no more digits than a label needs. */
static void put_num(FILE *f, double v)
{
    if (fabs(v) < 1e-12)
        v = 0;
    fprintf(f, "%.6g", v);
}

/* A value out of the plot (negative, or from a damaged snapshot) still draws
 * as a short number. */
static double clamp_coord(double c)
{
    if (!(c > -1e4))
        return -1e4;
    return c < 1e4 ? c : 1e4;
}

struct series {
    const char *name;         /* legend */
    const char *cls;          /* CSS class of the line */
    size_t off;               /* offsetof the value in struct tl_point */
};

struct line_plot {
    const char *id, *title, *yunit;
    const struct tl_point *pts;
    size_t n, per_point;
    struct series s[3];
    int ns;
    double ref;               /* a dashed reference line (planned terminals); 0 none */
    const char *ref_name;
};

static double pt_val(const struct tl_point *p, size_t off) { return *(const double *)((const char *)p + off); }

/* Ticks 0, step, ... up to max: counted, so that a huge or odd range (a damaged
 * snapshot) cannot loop for long. */
#define MAX_TICKS 24

static void axis_y(FILE *f, double ymax, double step, const char *unit)
{
    for (int k = 0; k <= MAX_TICKS && k * step <= ymax * (1 + 1e-9); k++) {
        double v = k * step;
        double y = MT + (PH - MT - MB) * (1 - v / ymax);
        fprintf(f, "<line class=\"grid\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"></line>", ML, y, PW - MR, y);
        fprintf(f, "<text class=\"yl\" x=\"%.1f\" y=\"%.1f\">", ML - 6, y + 4);
        put_num(f, v);
        fputs("</text>", f);
    }
    fprintf(f, "<text class=\"unit\" transform=\"translate(14 %.1f) rotate(-90)\">", (PH - MB + MT) / 2);
    esc(f, unit);
    fputs("</text>", f);
}

static void axis_x_seconds(FILE *f, double xmax, double step)
{
    for (int k = 0; k <= MAX_TICKS && k * step <= xmax * (1 + 1e-9); k++) {
        double v = k * step;
        double x = ML + (PW - ML - MR) * v / xmax;
        fprintf(f, "<line class=\"tick\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"></line>", x, PH - MB, x,
                PH - MB + 5);
        fprintf(f, "<text class=\"xl\" x=\"%.1f\" y=\"%.1f\">", x, PH - MB + 18);
        put_num(f, v);
        fputs("</text>", f);
    }
    fprintf(f, "<text class=\"unit\" x=\"%.1f\" y=\"%.1f\">virtual time since the start (s)</text>",
            (ML + PW - MR) / 2, PH - 4);
}

static void plot_lines(FILE *f, const struct line_plot *p)
{
    double xmax = 0, ymax = p->ref;
    for (size_t i = 0; i < p->n; i++) {
        xmax = p->pts[i].t > xmax && p->pts[i].t < 1e300 ? p->pts[i].t : xmax;
        for (int k = 0; k < p->ns; k++)
            ymax = max_nan(ymax, pt_val(&p->pts[i], p->s[k].off));
    }
    if (!(xmax > 0))
        xmax = 1;
    if (!(ymax <= 1e300))
        ymax = isnan(ymax) ? 0 : 1e300;
    double xstep = nice_step(xmax);
    xmax = nice_ceil(xmax, xstep);
    double step = nice_step(ymax > 0 ? ymax : 1);
    ymax = nice_ceil(ymax > 0 ? ymax : 1, step);

    fprintf(f, "<figure class=\"plot\" id=\"%s\">\n<figcaption>", p->id);
    esc(f, p->title);
    if (p->per_point > 1)
        fprintf(f, " <small>(each point: the highest of %zu ticks)</small>", p->per_point);
    fprintf(f, "</figcaption>\n<svg viewBox=\"0 0 %.0f %.0f\" role=\"img\" aria-label=\"", PW, PH);
    esc(f, p->title);
    fputs("\">", f);
    axis_y(f, ymax, step, p->yunit);
    axis_x_seconds(f, xmax, xstep);
    fprintf(f, "<line class=\"axis\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"></line>", ML, MT, ML, PH - MB);
    fprintf(f, "<line class=\"axis\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"></line>\n", ML, PH - MB, PW - MR,
            PH - MB);
    if (p->ref > 0) {
        double y = MT + (PH - MT - MB) * (1 - p->ref / ymax);
        fprintf(f, "<line class=\"ref\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"></line>\n", ML, y, PW - MR, y);
    }
    for (int k = 0; k < p->ns; k++) {
        fprintf(f, "<path class=\"line %s\" data-series=\"%s\" d=\"", p->s[k].cls, p->s[k].name);
        int pen = 0;   /* a tick without a value lifts the pen */
        for (size_t i = 0; i < p->n; i++) {
            double v = pt_val(&p->pts[i], p->s[k].off);
            if (isnan(v)) {
                pen = 0;
                continue;
            }
            double x = clamp_coord(ML + (PW - ML - MR) * p->pts[i].t / xmax);
            double y = clamp_coord(MT + (PH - MT - MB) * (1 - v / ymax));
            fprintf(f, "%s%.1f %.1f", pen ? " L" : (i ? " M" : "M"), x, y);
            pen = 1;
        }
        fputs("\"></path>\n", f);
    }
    fputs("</svg>\n<div class=\"legend\">", f);
    for (int k = 0; k < p->ns; k++)
        fprintf(f, "<span class=\"key %s\">%s</span> ", p->s[k].cls, p->s[k].name);
    if (p->ref > 0) {
        fputs("<span class=\"key refk\">", f);
        esc(f, p->ref_name);
        fputs("</span>", f);
    }
    fputs("</div>\n</figure>\n", f);
}

/* "250us", "1.5ms", "2s" */
static void put_us(FILE *f, double us)
{
    if (us < 1000)
        fprintf(f, "%.3gus", us);
    else if (us < 1e6)
        fprintf(f, "%.3gms", us / 1e3);
    else
        fprintf(f, "%.3gs", us / 1e6);
}

static uint64_t bucket_lower(size_t b) { return b == 0 ? 0 : hist_bucket_upper(b - 1) + 1; }

/* Report latency of every fleet, one bar per non-empty bucket on a log axis. */
static void plot_histogram(FILE *f, const struct hist *h)
{
    size_t lo = HIST_BUCKETS, hi = 0;
    uint32_t cmax = 0;
    for (size_t b = 0; b < HIST_BUCKETS; b++) {
        if (!h->counts[b])
            continue;
        lo = b < lo ? b : lo;
        hi = b;
        cmax = h->counts[b] > cmax ? h->counts[b] : cmax;
    }
    /* decades covering the samples: 1 us .. 10^k us */
    double d0 = floor(log10(bucket_lower(lo) > 0 ? (double)bucket_lower(lo) : 1));
    double top = hi >= HIST_BUCKETS - 1 ? (double)bucket_lower(hi) * 2 : (double)hist_bucket_upper(hi) + 1;
    double d1 = ceil(log10(top));
    if (d1 <= d0)
        d1 = d0 + 1;
    double step = nice_step(cmax);
    double ymax = nice_ceil(cmax, step);
    fputs("<figure class=\"plot\" id=\"plot-histogram\">\n<figcaption>Report latency, all fleets: samples per "
          "histogram bucket (log scale)</figcaption>\n",
          f);
    fprintf(f, "<svg viewBox=\"0 0 %.0f %.0f\" role=\"img\" aria-label=\"report latency histogram\">", PW, PH);
    axis_y(f, ymax, step, "reports");
    double span = PW - ML - MR;
#define XLOG(v) (ML + span * (log10(v) - d0) / (d1 - d0))
    for (double d = d0; d <= d1; d++) {
        double x = ML + span * (d - d0) / (d1 - d0);
        fprintf(f, "<line class=\"tick\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"></line>", x, PH - MB, x,
                PH - MB + 5);
        fprintf(f, "<text class=\"xl\" x=\"%.1f\" y=\"%.1f\">", x, PH - MB + 18);
        put_us(f, pow(10, d));
        fputs("</text>", f);
    }
    fprintf(f, "<text class=\"unit\" x=\"%.1f\" y=\"%.1f\">report latency (log scale)</text>", (ML + PW - MR) / 2,
            PH - 4);
    fprintf(f, "<line class=\"axis\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"></line>", ML, MT, ML, PH - MB);
    fprintf(f, "<line class=\"axis\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"></line>\n", ML, PH - MB, PW - MR,
            PH - MB);
    for (size_t b = lo; b <= hi && b < HIST_BUCKETS; b++) {
        if (!h->counts[b])
            continue;
        double a = bucket_lower(b) > 0 ? (double)bucket_lower(b) : 0.5;
        double z = b >= HIST_BUCKETS - 1 ? top : (double)hist_bucket_upper(b) + 1;
        double x0 = XLOG(a < pow(10, d0) ? pow(10, d0) : a), x1 = XLOG(z);
        double y = MT + (PH - MT - MB) * (1 - h->counts[b] / ymax);
        fprintf(f, "<rect class=\"bar\" x=\"%.2f\" y=\"%.1f\" width=\"%.2f\" height=\"%.1f\"><title>", x0, y,
                x1 - x0 > 0.6 ? x1 - x0 : 0.6, PH - MB - y);
        put_us(f, (double)bucket_lower(b));
        fputs(" to ", f);
        put_us(f, z);
        fprintf(f, ": %u</title></rect>", h->counts[b]);
    }
#undef XLOG
    fputs("\n</svg>\n</figure>\n", f);
}

/* ---- the page ---- */

static const char css[] =
    "[hidden]{display:none!important}\n"
    "body{font:14px/1.4 system-ui,sans-serif;margin:1.5em auto;max-width:1100px;padding:0 1em;color:#222}\n"
    "h1{font-size:1.5em;margin:0 0 .3em}h2{font-size:1.2em;border-bottom:1px solid #ccc;margin-top:1.6em}\n"
    "table{border-collapse:collapse}td,th{padding:.2em .6em;text-align:left;vertical-align:top}\n"
    ".meta th{color:#555;font-weight:normal}\n"
    ".badge{display:inline-block;padding:0 .5em;border-radius:3px;font-weight:bold;border:1px solid}\n"
    ".pass{background:#e3f4e4;color:#1b5e20;border-color:#2e7d32}\n"
    ".inconclusive{background:#fff4d6;color:#6d4c00;border-color:#c79100}\n"
    ".fail{background:#fde3e3;color:#8e0000;border-color:#c62828}\n"
    ".error{background:#efe3f7;color:#4a148c;border-color:#6a1b9a}\n"
    ".matrix th{white-space:nowrap;border-right:1px solid #ccc}.matrix tr{border-bottom:1px solid #eee}\n"
    ".cell{display:inline-block;margin:2px;padding:2px 6px;border:1px solid;border-radius:3px;"
    "text-decoration:none;font:12px monospace}\n"
    ".cell span{display:block;font:bold 10px system-ui,sans-serif}\n"
    "#filter{margin:.5em 0}#filter label{margin-right:1em}\n"
    ".case{border:1px solid #ccc;border-left:6px solid;border-radius:3px;margin:.8em 0;padding:.4em .8em}\n"
    ".case{color:#222}.case.pass{background:none;border-left-color:#2e7d32}.case.inconclusive{background:none;"
    "border-left-color:#c79100}\n"
    ".case.fail{background:none;border-left-color:#c62828}.case.error{background:none;border-left-color:#6a1b9a}\n"
    ".case h3{margin:.2em 0;font-size:1.05em}.case h3 code{font-size:1.05em}\n"
    ".case dl{display:grid;grid-template-columns:9em 1fr;gap:.1em .8em;margin:.3em 0}.case dt{color:#555}\n"
    ".case dd{margin:0;white-space:pre-wrap;word-break:break-word}\n"
    "pre{background:#f6f6f6;border:1px solid #ddd;padding:.5em;overflow:auto;max-height:30em;font-size:12px}\n"
    ".plot{margin:1em 0;break-inside:avoid}.plot svg{width:100%;max-width:900px;height:auto;display:block}\n"
    ".plot figcaption{font-weight:bold}\n"
    "svg text{font:11px system-ui,sans-serif;fill:#333}.yl{text-anchor:end}.xl,.unit{text-anchor:middle}\n"
    ".axis{stroke:#333}.grid{stroke:#e4e4e4}.tick{stroke:#333}.ref{stroke:#888;stroke-dasharray:4 3}\n"
    ".line{fill:none;stroke-width:1.6}.s1{stroke:#1565c0}.s2{stroke:#c62828}.s3{stroke:#2e7d32}\n"
    ".bar{fill:#1565c0}\n"
    ".key::before{content:'';display:inline-block;width:1.5em;height:3px;margin:0 .3em .25em 0;"
    "vertical-align:middle;background:#888}\n"
    ".key.s1::before{background:#1565c0}.key.s2::before{background:#c62828}.key.s3::before{background:#2e7d32}\n"
    ".note{color:#555;font-style:italic}.num{text-align:right;font-variant-numeric:tabular-nums}\n"
    ".fleets{margin:.5em 0}.fleets th,.fleets td{border-bottom:1px solid #eee}\n"
    "@media print{body{max-width:none;margin:0;font-size:11px}#filter{display:none!important}"
    "a{color:inherit;text-decoration:none}*{-webkit-print-color-adjust:exact;print-color-adjust:exact}"
    ".case{break-inside:avoid}pre{max-height:none;white-space:pre-wrap}h2{break-after:avoid}}\n";

/* Shows the filter and hides what does not match; without script the page shows
 * every case and no filter.  ?verdict=FAIL&suite=S&q=TEXT in the address sets it
 * (a link to the failures). */
static const char script[] =
    "(function(){var f=document.getElementById('filter');if(!f)return;f.hidden=false;\n"
    "var v=document.getElementById('fv'),s=document.getElementById('fs'),t=document.getElementById('ft'),"
    "n=document.getElementById('fn');\n"
    "function apply(){var q=t.value.toLowerCase(),shown=0,cells=document.querySelectorAll('.cell');\n"
    "for(var i=0;i<cells.length;i++){var c=cells[i],ok=(!v.value||c.getAttribute('data-verdict')===v.value)"
    "&&(!s.value||c.getAttribute('data-suite')===s.value)"
    "&&(!q||(c.textContent+' '+c.title).toLowerCase().indexOf(q)>=0);\n"
    "c.hidden=!ok;var e=document.getElementById(c.getAttribute('href').slice(1));if(e)e.hidden=!ok;if(ok)shown++;}\n"
    "var rows=document.querySelectorAll('.mrow');for(var j=0;j<rows.length;j++)"
    "rows[j].hidden=!rows[j].querySelector('.cell:not([hidden])');\n"
    "n.textContent=shown+' of '+cells.length+' cases';}\n"
    "var u=new URLSearchParams(location.search);if(u.get('verdict'))v.value=u.get('verdict').toUpperCase();\n"
    "if(u.get('suite'))s.value=u.get('suite');if(u.get('q'))t.value=u.get('q');\n"
    "v.onchange=apply;s.onchange=apply;t.oninput=apply;apply();})();\n";

static const char *case_suite(const struct run_report *r, const struct case_result *c)
{
    return c->suite[0] ? c->suite : r->scenario;
}

/* The distinct suites in order of first appearance; NULL when out of memory. */
static const char **suites_of(const struct run_report *r, int *n)
{
    const char **s = calloc((size_t)r->n_cases + 1, sizeof *s);
    *n = 0;
    if (!s)
        return NULL;
    for (int i = 0; i < r->n_cases; i++) {
        const char *name = case_suite(r, &r->cases[i]);
        int k = 0;
        while (k < *n && strcmp(s[k], name) != 0)
            k++;
        if (k == *n)
            s[(*n)++] = name;
    }
    return s;
}

static void put_header(FILE *f, const struct run_report *r)
{
    enum verdict overall = report_overall(r);
    int count[4] = {0};
    for (int i = 0; i < r->n_cases; i++)
        count[verdict_worse(VERDICT_PASS, r->cases[i].verdict)]++;
    fputs("<header>\n<h1>fleetsim report: ", f);
    ESC_FIELD(f, r->scenario);
    fprintf(f, " <span class=\"badge %s\" id=\"overall\">%s</span></h1>\n<table class=\"meta\">\n",
            verdict_class(overall), verdict_name(overall));
    fputs("<tr><th>scenario</th><td>", f);
    ESC_FIELD(f, r->scenario_path);
    fputs("</td></tr>\n<tr><th>started</th><td>", f);
    ESC_FIELD(f, r->started);
    fprintf(f, "</td></tr>\n<tr><th>duration</th><td>%.3f s wall clock, %.3f s virtual</td></tr>\n",
            isfinite(r->duration_s) ? r->duration_s : 0, isfinite(r->virtual_s) ? r->virtual_s : 0);
    fprintf(f, "<tr><th>cases</th><td>%d: %d pass, %d inconclusive, %d fail, %d error</td></tr>\n", r->n_cases,
            count[VERDICT_PASS], count[VERDICT_INCONCLUSIVE], count[VERDICT_FAIL], count[VERDICT_ERROR]);
    fprintf(f, "<tr><th>ledger</th><td><span class=\"badge %s\">%s</span> ", r->ledger_balanced ? "pass" : "fail",
            r->ledger_balanced ? "balanced" : "NOT balanced");
    ESC_FIELD(f, r->ledger_text);
    fputs("</td></tr>\n<tr><th>errors</th><td>", f);
    if (r->errors_text[0])
        ESC_FIELD(f, r->errors_text);
    else
        fputs("none", f);
    fputs("</td></tr>\n", f);
    if (r->snapshot) {
        const cJSON *sh = cJSON_GetObjectItemCaseSensitive(r->snapshot, "shard");
        const cJSON *cov = cJSON_GetObjectItemCaseSensitive(sh, "covered");
        double count_n = jnum(sh, "count");
        if (count_n > 1) {
            fputs("<tr><th>shards</th><td>", f);
            const cJSON *k;
            int first = 1;
            cJSON_ArrayForEach(k, cov) {
                fprintf(f, "%s%.0f", first ? "" : ",", cJSON_IsNumber(k) ? k->valuedouble : 0);
                first = 0;
            }
            fprintf(f, " of %.0f</td></tr>\n", count_n);
        }
        const cJSON *he = cJSON_GetObjectItemCaseSensitive(r->snapshot, "harness_error");
        if (cJSON_IsString(he) && he->valuestring && he->valuestring[0]) {
            fputs("<tr><th>harness error</th><td>", f);
            esc(f, he->valuestring);
            fputs("</td></tr>\n", f);
        }
    }
    fputs("</table>\n</header>\n", f);
}

static void put_matrix(FILE *f, const struct run_report *r, const char **suites, int n_suites)
{
    fputs("<section id=\"matrix\">\n<h2>Verdict matrix</h2>\n", f);
    if (r->n_cases == 0) {
        fputs("<p class=\"note\">No cases.</p>\n</section>\n", f);
        return;
    }
    fputs("<div id=\"filter\" hidden><label>verdict <select id=\"fv\"><option value=\"\">all</option>", f);
    for (int v = VERDICT_PASS; v <= VERDICT_ERROR; v++)
        fprintf(f, "<option value=\"%s\">%s</option>", verdict_name((enum verdict)v), verdict_name((enum verdict)v));
    fputs("</select></label><label>suite <select id=\"fs\"><option value=\"\">all</option>", f);
    for (int k = 0; k < n_suites; k++) {
        fputs("<option value=\"", f);
        esc(f, suites[k]);
        fputs("\">", f);
        esc(f, suites[k]);
        fputs("</option>", f);
    }
    fputs("</select></label><label>text <input id=\"ft\" type=\"search\" placeholder=\"id, objective\"></label>"
          "<output id=\"fn\"></output></div>\n<table class=\"matrix\">\n",
          f);
    for (int k = 0; k < n_suites; k++) {
        fputs("<tr class=\"mrow\"><th scope=\"row\">", f);
        esc(f, suites[k]);
        fputs("</th><td>", f);
        for (int i = 0; i < r->n_cases; i++) {
            const struct case_result *c = &r->cases[i];
            if (strcmp(case_suite(r, c), suites[k]) != 0)
                continue;
            fprintf(f, "<a class=\"cell %s\" href=\"#case-%d\" data-verdict=\"%s\" data-suite=\"", verdict_class(c->verdict),
                    i, verdict_name(verdict_worse(VERDICT_PASS, c->verdict)));
            esc(f, suites[k]);
            fputs("\" title=\"", f);
            ESC_FIELD(f, c->desc);
            fputs("\">", f);
            ESC_FIELD(f, c->id);
            fprintf(f, "<span>%s</span></a>", verdict_name(verdict_worse(VERDICT_PASS, c->verdict)));
        }
        fputs("</td></tr>\n", f);
    }
    fputs("</table>\n</section>\n", f);
}

static void put_dd(FILE *f, const char *term, const char *v, size_t cap)
{
    if (!v[0])
        return;
    fprintf(f, "<dt>%s</dt><dd>", term);
    esc_n(f, v, cap);
    fputs("</dd>\n", f);
}
#define PUT_DD(f, term, field) put_dd((f), (term), (field), sizeof(field))

static void put_cases(FILE *f, const struct run_report *r)
{
    fputs("<section id=\"cases\">\n<h2>Cases</h2>\n", f);
    for (int i = 0; i < r->n_cases; i++) {
        const struct case_result *c = &r->cases[i];
        enum verdict v = verdict_worse(VERDICT_PASS, c->verdict);
        fprintf(f, "<article class=\"case %s\" id=\"case-%d\">\n<h3><code>", verdict_class(v), i);
        ESC_FIELD(f, c->id);
        fprintf(f, "</code> <span class=\"badge %s\">%s</span></h3>\n<dl>\n", verdict_class(v), verdict_name(v));
        PUT_DD(f, "objective", c->desc);
        PUT_DD(f, "reference", c->ref);
        PUT_DD(f, "level", c->level);
        PUT_DD(f, "suite", c->suite);
        PUT_DD(f, "area", c->area);
        PUT_DD(f, "expected", c->expected);
        PUT_DD(f, "observed", c->observed);
        fprintf(f, "<dt>duration</dt><dd>%.3f s</dd>\n</dl>\n",
                isfinite(c->duration_s) && c->duration_s > 0 ? c->duration_s : 0);
        if (c->wire_log && c->wire_log[0]) {
            fputs("<details open><summary>wire log</summary><pre>", f);
            esc(f, c->wire_log);
            fputs("</pre></details>\n", f);
        }
        fputs("</article>\n", f);
    }
    fputs("</section>\n", f);
}

static void put_fleets(FILE *f, const cJSON *snap, struct hist *h)
{
    const cJSON *fleets = cJSON_GetObjectItemCaseSensitive(snap, "fleets");
    if (cJSON_GetArraySize(fleets) == 0)
        return;
    fputs("<table class=\"fleets\">\n<tr><th>fleet</th><th class=\"num\">planned</th><th class=\"num\">connects</th>"
          "<th class=\"num\">connect failures</th><th class=\"num\">disconnects</th><th class=\"num\">reports</th>"
          "<th class=\"num\">acked</th><th class=\"num\">decode errors</th><th class=\"num\">latency p50</th>"
          "<th class=\"num\">p99</th><th class=\"num\">max</th></tr>\n",
          f);
    const cJSON *fl;
    cJSON_ArrayForEach(fl, fleets) {
        const cJSON *id = cJSON_GetObjectItemCaseSensitive(fl, "id");
        const cJSON *k = cJSON_GetObjectItemCaseSensitive(fl, "counters");
        fputs("<tr><td>", f);
        esc(f, cJSON_IsString(id) && id->valuestring ? id->valuestring : "?");
        fprintf(f, "</td><td class=\"num\">%.0f</td>", jnum(fl, "planned"));
        static const char *const keys[] = {"connects", "connect_failures", "disconnects", "reports", "reports_acked",
                                           "decode_errors"};
        for (size_t j = 0; j < sizeof keys / sizeof keys[0]; j++)
            fprintf(f, "<td class=\"num\">%.0f</td>", jnum(k, keys[j]));
        const cJSON *lat = cJSON_GetObjectItemCaseSensitive(fl, "report_latency");
        struct hist *one = h;
        hist_load(one, lat);
        if (one->n) {
            double v[3] = {(double)hist_percentile(one, 50), (double)hist_percentile(one, 99), (double)one->max};
            for (int j = 0; j < 3; j++) {
                fputs("<td class=\"num\">", f);
                put_us(f, v[j]);
                fputs("</td>", f);
            }
        } else {
            fputs("<td class=\"num\">-</td><td class=\"num\">-</td><td class=\"num\">-</td>", f);
        }
        hist_unload(one, lat);
        fputs("</tr>\n", f);
    }
    fputs("</table>\n", f);
}

/* Returns -1 when out of memory. */
static int put_plots(FILE *f, const struct run_report *r)
{
    fputs("<section id=\"plots\">\n<h2>Load</h2>\n", f);
    if (!r->snapshot) {
        fputs("<p class=\"note\" id=\"no-timeline\">No plots: this report has no run snapshot, so no timeline.</p>\n"
              "</section>\n",
              f);
        return 0;
    }
    struct hist *h = calloc(1, sizeof *h), *all = calloc(1, sizeof *all);
    if (!h || !all) {
        free(h);
        free(all);
        return -1;
    }
    put_fleets(f, r->snapshot, h);
    size_t n, per;
    struct tl_point *pts = timeline_points(r->snapshot, &n, &per);
    if (!pts && n) {
        free(h);
        free(all);
        return -1;
    }
    if (!pts) {
        fputs("<p class=\"note\" id=\"no-timeline\">No plots of the run over time: its snapshot has no timeline "
              "(no status tick passed).</p>\n",
              f);
    } else {
        double planned = 0;
        const cJSON *fl;
        cJSON_ArrayForEach(fl, cJSON_GetObjectItemCaseSensitive(r->snapshot, "fleets"))
            planned += jnum(fl, "planned");
        struct line_plot p = {.pts = pts, .n = n, .per_point = per};
        p.id = "plot-throughput", p.title = "Throughput: reports acknowledged per second", p.yunit = "reports/s";
        p.s[0] = (struct series){"reports/s", "s1", offsetof(struct tl_point, rps)}, p.ns = 1;
        plot_lines(f, &p);
        p.id = "plot-online", p.title = "Connected terminals (authenticated at each tick)", p.yunit = "terminals";
        p.s[0] = (struct series){"online", "s1", offsetof(struct tl_point, online)};
        p.ref = planned, p.ref_name = "planned";
        plot_lines(f, &p);
        p.ref = 0;
        p.id = "plot-latency", p.title = "Report latency per tick", p.yunit = "latency (ms)";
        p.s[0] = (struct series){"p50", "s3", offsetof(struct tl_point, p50)};
        p.s[1] = (struct series){"p99", "s1", offsetof(struct tl_point, p99)};
        p.s[2] = (struct series){"max", "s2", offsetof(struct tl_point, max)};
        p.ns = 3;
        plot_lines(f, &p);
        p.id = "plot-errors", p.title = "Disconnects (since the start) and requests pending", p.yunit = "count";
        p.s[0] = (struct series){"disconnects", "s2", offsetof(struct tl_point, disc)};
        p.s[1] = (struct series){"pending", "s1", offsetof(struct tl_point, pending)};
        p.ns = 2;
        plot_lines(f, &p);
        free(pts);
    }
    /* the histogram of every fleet's report latency, added bucket by bucket */
    const cJSON *fl;
    cJSON_ArrayForEach(fl, cJSON_GetObjectItemCaseSensitive(r->snapshot, "fleets")) {
        const cJSON *lat = cJSON_GetObjectItemCaseSensitive(fl, "report_latency");
        hist_load(h, lat);
        for (size_t b = 0; b < HIST_BUCKETS; b++)
            all->counts[b] = h->counts[b] > UINT32_MAX - all->counts[b] ? UINT32_MAX : all->counts[b] + h->counts[b];
        all->n += h->n;
        hist_unload(h, lat);
    }
    if (all->n)
        plot_histogram(f, all);
    else
        fputs("<p class=\"note\" id=\"no-histogram\">No latency histogram: no report was acknowledged.</p>\n", f);
    free(h);
    free(all);
    fputs("</section>\n", f);
    return 0;
}

static int put_page(FILE *f, const struct run_report *r)
{
    int n_suites;
    const char **suites = suites_of(r, &n_suites);
    if (!suites)
        return -1;
    fputs("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
          "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>fleetsim report: ",
          f);
    ESC_FIELD(f, r->scenario);
    fprintf(f, " (%s)</title>\n<style>\n%s</style>\n</head>\n<body>\n", verdict_name(report_overall(r)), css);
    put_header(f, r);
    put_matrix(f, r, suites, n_suites);
    free(suites);
    if (put_plots(f, r) < 0)
        return -1;
    put_cases(f, r);
    fprintf(f, "<script>\n%s</script>\n</body>\n</html>\n", script);
    return 0;
}

int report_write_html(const struct run_report *r, const char *path, char *err, size_t errcap)
{
    errno = 0;
    FILE *f = fopen(path, "w");
    if (!f) {
        snprintf(err, errcap, "html report '%s': %s", path, strerror(errno));
        return -1;
    }
    int oom = put_page(f, r) < 0;
    int e = ferror(f) ? (errno ? errno : EIO) : 0;
    if (fclose(f) != 0 && !e)
        e = errno ? errno : EIO;
    if (oom || e) {
        snprintf(err, errcap, "html report '%s': %s", path, oom ? "out of memory" : strerror(e));
        return -1;
    }
    return 0;
}
