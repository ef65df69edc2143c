#!/usr/bin/env bash
# deploy/k8s: the manifests are checked without a cluster (tests/data/check_k8s.py;
# kubectl --dry-run=client too when a cluster answers), the checker refuses the
# mistakes it is there for, and the Indexed Job is emulated here: 3 shard
# processes through the image's entrypoint with JOB_COMPLETION_INDEX 0, 1, 2,
# then the merge Job's, give the verdicts and counts of one whole run.
. "$(dirname "$0")/lib.sh"
K8S="$ROOT/deploy/k8s"
ENTRY="$K8S/fleetsim-k8s.sh"

if ! python3 -c 'import yaml' 2>/dev/null; then
    nok "python3 with PyYAML (python3-yaml) is there" "the manifests cannot be checked"
    exit 1
fi
check "the manifests and the Dockerfile pass the schema check" python3 tests/data/check_k8s.py "$K8S"
if command -v kubectl >/dev/null 2>&1 && kubectl version --request-timeout=3s >/dev/null 2>&1; then
    check "kubectl apply --dry-run=client takes them" kubectl apply --dry-run=client -f "$K8S"
else
    ok "kubectl apply --dry-run=client takes them # skipped: no kubectl with a cluster to ask"
fi
if command -v shellcheck >/dev/null 2>&1; then
    check "shellcheck finds nothing in the entrypoint" shellcheck -s sh "$ENTRY"
fi

# the image's runtime stage installs every library the binary links against (the
# Debian package that holds each NEEDED soname here; libc6 is in every Debian image,
# and the sanitizers' runtimes are not the image's business)
if command -v readelf >/dev/null 2>&1 && command -v ldd >/dev/null 2>&1 && command -v dpkg >/dev/null 2>&1; then
    runtime=$(awk '/^FROM /{n++} n==2' "$K8S/Dockerfile")
    bin=$(readlink -f "$FLEETSIM")
    missing=""
    for so in $(readelf -d "$bin" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p'); do
        case $so in lib*san.so*) continue ;; esac   # a sanitizer build's runtime
        # the file the loader takes (ldd), by the name dpkg knows it (/lib is /usr/lib)
        path=$(ldd "$bin" | awk -v so="$so" '$1 == so && $2 == "=>" {print $3}')
        pkg=""
        for p in "$path" "$(readlink -f "$path")" "${path#/usr}" "/usr$path"; do
            pkg=$(dpkg -S "$p" 2>/dev/null | head -1 | cut -d: -f1)
            [ -n "$pkg" ] && break
        done
        [ "$pkg" = libc6 ] && continue
        if [ -z "$pkg" ] || ! grep -qw -- "$pkg" <<<"$runtime"; then missing="$missing $so(${pkg:-no package})"; fi
    done
    if [ -z "$missing" ]; then ok "the image's runtime stage has every library fleetsim links against"
    else nok "the image's runtime stage has every library fleetsim links against" "missing:$missing"; fi
fi

# the checker refuses what would break the deployment: each mutant exits 1 naming it
mutant() { # NAME FILE PYTHON-EXPRESSION-ON-s EXPECTED-TEXT
    rm -rf "$TMP/m"; cp -r "$K8S" "$TMP/m"
    python3 - "$TMP/m/$2" "$3" <<'PY'
import sys
p, expr = sys.argv[1], sys.argv[2]
s = open(p).read()
t = eval(expr)
assert t != s, "the mutation changed nothing"
open(p, "w").write(t)
PY
    python3 tests/data/check_k8s.py "$TMP/m" >"$TMP/m.out" 2>&1; local rc=$?
    if [ $rc -eq 1 ] && grep -qF -- "$4" "$TMP/m.out"; then ok "the check refuses $1"; else nok "the check refuses $1" "exit $rc" "$(cat "$TMP/m.out")"; fi
}
mutant "a shard Job that is not Indexed" shards-job.yaml 's.replace("  completionMode: Indexed\n", "")' "the shard Job must be Indexed"
mutant "parallelism other than completions" shards-job.yaml 's.replace("parallelism: 3", "parallelism: 2")' "not completions (3)"
mutant "FLEETSIM_SHARDS other than completions" shards-job.yaml 's.replace("completions: 3", "completions: 4").replace("parallelism: 3", "parallelism: 4")' "FLEETSIM_SHARDS: '3', not completions (4)"
mutant "a merge of another shard count" merge-job.yaml 's.replace("value: \"3\"", "value: \"2\"")' "merge-job.yaml[0]: FLEETSIM_SHARDS"
mutant "a misspelt field" shards-job.yaml 's.replace("completions: 3", "completion: 3")' "unknown field 'completion'"
mutant "a claim that no PVC makes" merge-job.yaml 's.replace("claimName: fleetsim-reports", "claimName: fleetsim-report")' "not the claim of a PersistentVolumeClaim"
mutant "a volume not mounted at FLEETSIM_REPORTS" shards-job.yaml 's.replace("mountPath: /reports", "mountPath: /data")' "nothing mounted at FLEETSIM_REPORTS"
mutant "a mount of no volume" shards-job.yaml 's.replace("        - name: reports\n          persistentVolumeClaim", "        - name: other\n          persistentVolumeClaim")' "no volume named 'reports'"
mutant "a JOB_COMPLETION_INDEX from elsewhere" shards-job.yaml 's.replace("job-completion-index", "job-index")' "JOB_COMPLETION_INDEX: must come from"
mutant "pods that restart always" merge-job.yaml 's.replace("restartPolicy: Never", "restartPolicy: Always")' "Never or OnFailure"
mutant "pods that may run as root" shards-job.yaml 's.replace("runAsNonRoot: true", "runAsNonRoot: false")' "non-root user"
mutant "a PVC one node at a time" reports-pvc.yaml 's.replace("ReadWriteMany", "ReadWriteOnce")' "ReadWriteMany"
mutant "an image run as root" Dockerfile 's.replace("USER 10001:10001", "USER root")' "non-root USER"
mutant "an image on another base" Dockerfile 's.replace("FROM debian:12-slim AS build", "FROM ubuntu:24.04 AS build")' "FROM ubuntu:24.04"
mutant "an image without the entrypoint" Dockerfile 's.replace("ENTRYPOINT [\"/usr/local/bin/fleetsim-k8s\"]", "ENTRYPOINT [\"fleetsim\"]")' "ENTRYPOINT is the fleetsim-k8s script"

# --- the Indexed Job, emulated: the scenario of 95-report-merge (every terminal
# on the same report schedule whichever process runs it)
cat >"$TMP/rm.json" <<'JSON'
{"name": "k8s-shards", "duration": "5500ms", "time_scale": 2,
 "fleets": [{"id": "a", "protocol": "jt808", "version": 2013, "count": 25, "ramp": "100/s", "report": null},
            {"id": "b", "protocol": "jt808", "version": 2019, "count": 15, "report": null}],
 "steps": [{"at": "1s", "command": {"fleet": "a", "msg": "0x8103", "body": {"params": [{"id": "0x0029", "value": 1}]}}},
           {"at": "1s", "command": {"fleet": "b", "msg": "0x8103", "body": {"params": [{"id": "0x0029", "value": 1}]}}},
           {"at": "3s", "command": {"fleet": "b", "msg": "0x8104", "fraction": 0.5}}],
 "expect": [{"id": "K-AUTH-001", "state": "authenticated", "within": "3s"},
            {"id": "K-TRANS-001", "transitions": ["connecting", "registered", "authenticated"]},
            {"id": "K-SET-001", "reply": "0x0001", "to": "0x8103"},
            {"id": "K-QUERY-001", "fleet": "b", "reply": "0x0104", "to": "0x8104"},
            {"id": "K-REPORTS-001", "counter": "terminal.reports", "min": 160, "max": 160},
            {"id": "K-LEDGER-001", "ledger": "acked"}]}
JSON
expect_exit "the scenario passes run whole" 0 "$FLEETSIM" run "$TMP/rm.json" -q --report "$TMP/whole"

# as the Job's pods: the same environment, JOB_COMPLETION_INDEX 0..2, side by side
export FLEETSIM FLEETSIM_SCENARIO="$TMP/rm.json" FLEETSIM_REPORTS="$TMP/pvc" FLEETSIM_RUN=run-1 \
    FLEETSIM_SHARDS=3 FLEETSIM_RUN_ARGS="--quiet"
pids=()
for i in 0 1 2; do
    JOB_COMPLETION_INDEX=$i sh "$ENTRY" shard >"$TMP/pod-$i.out" 2>&1 &
    pids+=($!)
done
rcs=""
for p in "${pids[@]}"; do wait "$p"; rcs="$rcs $?"; done
if [ "$rcs" = " 0 0 0" ]; then ok "the 3 shard pods complete (exit 0)"; else nok "the 3 shard pods complete (exit 0)" "exits:$rcs" "$(tail -5 "$TMP/pod-0.out")"; fi
contains "pod 0 runs shard 1/3" "shard 1/3 of $TMP/rm.json into $TMP/pvc/run-1/shard-1" "$TMP/pod-0.out"
contains "pod 2 runs shard 3/3" "shard 3/3 of $TMP/rm.json into $TMP/pvc/run-1/shard-3" "$TMP/pod-2.out"
check "each shard's report and run status are on the volume" \
    test -s "$TMP/pvc/run-1/shard-1/report.json" -a -s "$TMP/pvc/run-1/shard-2/junit.xml" -a -s "$TMP/pvc/run-1/shard-3/exit-status"
# a shard alone fails the whole fleet's counter: judged (status 1 kept), the pod still completes
check "a shard's own verdict is kept beside its report (1: the fleet's counter)" grep -qx 1 "$TMP/pvc/run-1/shard-2/exit-status"

expect_exit "the merge pod passes" 0 sh "$ENTRY" merge
contains "... merging the 3 shards" "merged 3 report(s) of k8s-shards: shards 1-3/3" "$TMP/out"
contains "... ending with the summary" "checks: 6 of 6 passed (100.0%)" "$TMP/out"
check "... into report.json and junit.xml on the volume" test -s "$TMP/pvc/run-1/report.json" -a -s "$TMP/pvc/run-1/junit.xml"
check "the merged junit.xml validates" xmllint --noout --schema tests/data/junit.xsd "$TMP/pvc/run-1/junit.xml"

python3 - "$TMP/whole/report.json" "$TMP/pvc/run-1/report.json" >"$TMP/cmp.out" 2>&1 <<'PY'
import json, sys
whole, merged = (json.load(open(p)) for p in sys.argv[1:3])
bad = []
def same(what, a, b):
    if a != b:
        bad.append("%s: whole %r, merged %r" % (what, a, b))
same("verdicts", [(c["id"], c["verdict"]) for c in whole["cases"]], [(c["id"], c["verdict"]) for c in merged["cases"]])
for fid in ["a", "b"]:
    w, m = whole["metrics"]["fleets"][fid], merged["metrics"]["fleets"][fid]
    for k in ["started", "connects", "reports", "reports_acked", "commands", "replies", "disconnects"]:
        same("%s.%s" % (fid, k), w[k], m[k])
    same(fid + ".states_reached", w["states_reached"], m["states_reached"])
    same(fid + ".ledger", w["ledger"], m["ledger"])
    same(fid + ".report_latency.n", w["report_latency"]["n"], m["report_latency"]["n"])
ws, ms = whole["snapshot"], merged["snapshot"]
same("planned", [f["planned"] for f in ws["fleets"]], [f["planned"] for f in ms["fleets"]])
same("partials", [(e["id"], e["ok"], e["total"]) for e in ws["expect"]], [(e["id"], e["ok"], e["total"]) for e in ms["expect"]])
same("shards", ms["shard"], {"count": 3, "covered": [1, 2, 3]})
print("\n".join(bad) if bad else "same verdicts, counts, states, ledgers and partials")
sys.exit(1 if bad else 0)
PY
if [ $? -eq 0 ]; then ok "3 emulated pods merged = one whole run (verdicts, counts)"; else nok "3 emulated pods merged = one whole run (verdicts, counts)" "$(cat "$TMP/cmp.out")"; fi

# the entrypoint's own errors: exit 2 and why (a pod that fails, for Kubernetes to retry)
expect_exit "an index past the shard count is refused" 2 env JOB_COMPLETION_INDEX=3 sh "$ENTRY" shard
contains "... saying so" "JOB_COMPLETION_INDEX='3' is not 0..2" "$TMP/out"
expect_exit "no index (not an Indexed Job) is refused" 2 env -u JOB_COMPLETION_INDEX sh "$ENTRY" shard
expect_exit "no FLEETSIM_SHARDS is refused" 2 env -u FLEETSIM_SHARDS JOB_COMPLETION_INDEX=0 sh "$ENTRY" shard
contains "... naming it" "FLEETSIM_SHARDS='' is not a shard count" "$TMP/out"
expect_exit "a merge with a shard missing is refused" 2 env FLEETSIM_SHARDS=4 sh "$ENTRY" merge
contains "... naming the shard" "no report of shard(s) 4 of 4" "$TMP/out"
expect_exit "a shard whose run cannot start fails its pod with the run's status" 2 \
    env JOB_COMPLETION_INDEX=0 FLEETSIM_SCENARIO="$TMP/missing.json" FLEETSIM_RUN=run-2 sh "$ENTRY" shard
check "... kept beside it" grep -qx 2 "$TMP/pvc/run-2/shard-1/exit-status"
expect_exit "an unknown mode is refused" 2 sh "$ENTRY" serve

# --- conformance cases split over the pods (FLEETSIM_CONFORM): 2 emulated pods and
# the merge give the cases, and verdicts, of one whole conform run
SUITE="$ROOT/scenarios/conformance/jt808"
CASES='JT808-ESC-*'
"$FLEETSIM" conform "$SUITE" --cases "$CASES" --report "$TMP/cwhole" >"$TMP/cwhole.out" 2>&1
pids=()
for i in 0 1; do
    JOB_COMPLETION_INDEX=$i FLEETSIM_SHARDS=2 FLEETSIM_RUN=conf-1 FLEETSIM_CONFORM="$SUITE" \
        FLEETSIM_RUN_ARGS="--cases $CASES" sh "$ENTRY" shard >"$TMP/cpod-$i.out" 2>&1 &
    pids+=($!)
done
rcs=""
for p in "${pids[@]}"; do wait "$p"; rcs="$rcs $?"; done
if [ "$rcs" = " 0 0" ]; then ok "2 conformance shard pods complete (exit 0)"; else nok "2 conformance shard pods complete" "exits:$rcs" "$(tail -5 "$TMP/cpod-0.out")"; fi
contains "pod 1 runs a slice of the suite's cases" "shard 2/2 of the conformance cases of $SUITE into $TMP/pvc/conf-1/shard-2" "$TMP/cpod-1.out"
expect_exit "their merge passes" 0 env FLEETSIM_SHARDS=2 FLEETSIM_RUN=conf-1 sh "$ENTRY" merge
if python3 -c 'import json,sys
w=[(c["id"],c["verdict"]) for c in json.load(open(sys.argv[1]))["cases"]]
m=[(c["id"],c["verdict"]) for c in json.load(open(sys.argv[2]))["cases"]]
s=[json.load(open(p))["cases"] for p in sys.argv[3:5]]
sys.exit(0 if w == m and len(w) >= 3 and all(len(x) < len(w) for x in s) else 1)' \
    "$TMP/cwhole/report.json" "$TMP/pvc/conf-1/report.json" "$TMP/pvc/conf-1/shard-1/report.json" \
    "$TMP/pvc/conf-1/shard-2/report.json"; then
    ok "the merged conformance report has the whole run's cases and verdicts, each pod a part of them"
else nok "the merged conformance report has the whole run's cases and verdicts" "$(head -c 400 "$TMP/pvc/conf-1/report.json")"; fi
