# Helpers of tests/bench.sh (mawk and gawk alike): the summary of repeated runs and
# the machine-readable output.  Input: the bench's figures file, one figure of one
# run a line, tab-separated:
#   case  run  figure  value  unit  op  target  noisy
# op is "<", "<=", ">=" or "-" (no target); noisy is 1 when the run was flagged
# "noisy machine" (its steal or the CPU other processes used over the run passed
# the thresholds), 0 when not.  What to print is told with -v mode=summary|json.

function met(v, op, t) {
    if (op == "<") return v < t
    if (op == "<=") return v <= t
    if (op == ">=") return v >= t
    return 1
}
# the median of a[1..n] (sorted in place): the middle one, or the mean of the two
function median(a, n,    i, j, x) {
    for (i = 2; i <= n; i++) {
        x = a[i]
        for (j = i - 1; j >= 1 && a[j] > x; j--) a[j + 1] = a[j]
        a[j + 1] = x
    }
    if (n % 2) return a[(n + 1) / 2]
    return (a[n / 2] + a[n / 2 + 1]) / 2
}
function num(v) { return v >= 1000 ? sprintf("%.0f", v) : v >= 10 ? sprintf("%.1f", v) : sprintf("%.2f", v) }
function jstr(s) { gsub(/\\/, "\\\\", s); gsub(/"/, "\\\"", s); return "\"" s "\"" }
function jnum(v) { return v == v + 0 ? v + 0 : "null" }

BEGIN { FS = "\t" }
{
    k = $1 SUBSEP $3
    if (!(k in n)) { order[++nk] = k; cs[nk] = $1; fg[nk] = $3 }
    n[k]++
    val[k, n[k]] = $4 + 0; run[k, n[k]] = $2; noisy[k, n[k]] = $8 + 0
    unit[k] = $5; op[k] = $6; tgt[k] = $7
    rows[++nr] = $0
}
END {
    if (mode == "json") {
        printf "{\n"
        if (meta != "") printf "  %s,\n", meta
        printf "  \"figures\": ["
        for (i = 1; i <= nr; i++) {
            split(rows[i], f, "\t")
            printf "%s\n    {\"case\": %s, \"run\": %d, \"figure\": %s, \"value\": %s, \"unit\": %s, \"target\": %s, \"met\": %s, \"noisy\": %s}",
                   (i > 1 ? "," : ""), jstr(f[1]), f[2], jstr(f[3]), jnum(f[4]), jstr(f[5]),
                   (f[6] == "-" ? "null" : jstr(f[6] " " f[7])),
                   (f[6] == "-" ? "null" : met(f[4] + 0, f[6], f[7] + 0) ? "true" : "false"),
                   (f[8] + 0 ? "true" : "false")
        }
        printf "\n  ],\n  \"summary\": ["
    }
    for (i = 1; i <= nk; i++) {
        k = order[i]; c = n[k]; m = 0; q = 0; hits = 0; lo = ""; hi = ""
        if (mode != "json" && fg[i] == "noisy machine") continue # the lines say how many runs were quiet
        for (j = 1; j <= c; j++) {
            v = val[k, j]; all[j] = v
            if (lo == "" || v < lo) lo = v
            if (hi == "" || v > hi) hi = v
            if (met(v, op[k], tgt[k] + 0)) hits++
            if (!noisy[k, j]) quiet[++q] = v
        }
        md = median(all, c)
        mq = q ? median(quiet, q) : ""
        if (mode == "json") {
            printf "%s\n    {\"case\": %s, \"figure\": %s, \"unit\": %s, \"runs\": %d, \"median\": %s, \"min\": %s, \"max\": %s, \"target\": %s, \"median_met\": %s, \"runs_met\": %s, \"quiet_runs\": %d, \"quiet_median\": %s, \"quiet_median_met\": %s}",
                   (i > 1 ? "," : ""), jstr(cs[i]), jstr(fg[i]), jstr(unit[k]), c, md, lo, hi,
                   (op[k] == "-" ? "null" : jstr(op[k] " " tgt[k])),
                   (op[k] == "-" ? "null" : met(md, op[k], tgt[k] + 0) ? "true" : "false"),
                   (op[k] == "-" ? "null" : hits), q, (q ? mq : "null"),
                   (op[k] == "-" || !q ? "null" : met(mq, op[k], tgt[k] + 0) ? "true" : "false")
            continue
        }
        line = sprintf("bench: %s: %s: median %s %s (min %s, max %s) over %d run(s)", cs[i], fg[i], num(md), unit[k],
                       num(lo), num(hi), c)
        if (op[k] != "-")
            line = line sprintf("; target %s %s: %s in the median, met in %d of %d", op[k], tgt[k],
                                (met(md, op[k], tgt[k] + 0) ? "met" : "MISSED"), hits, c)
        if (!q)
            line = line "; no quiet run"
        else if (q < c)
            line = line sprintf("; median over the %d quiet run(s) %s%s", q, num(mq),
                                (op[k] == "-" ? "" : met(mq, op[k], tgt[k] + 0) ? " (met)" : " (MISSED)"))
        else
            line = line "; every run quiet"
        print line
        # BENCH_STRICT: a target missed in the median of the quiet runs fails the bench
        if (op[k] != "-" && q && !met(mq, op[k], tgt[k] + 0)) missed++
    }
    if (mode == "json") printf "\n  ]\n}\n"
    else if (missed) { printf "bench: %d target(s) missed in the median over the quiet runs\n", missed; exit 3 }
}
