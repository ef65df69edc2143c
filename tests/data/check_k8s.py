#!/usr/bin/env python3
"""Checks the Kubernetes deployment of deploy/k8s/ without a cluster.

    python3 tests/data/check_k8s.py [DIR]        (DIR: deploy/k8s by default)

What `kubectl apply --dry-run=client` would refuse, and what this deployment
needs on top: every manifest an object of a known apiVersion and kind with a
DNS-1123 name and only the fields the Kubernetes API has at each level checked
(batch/v1 Job, its pod template, containers, env, volumes; v1
PersistentVolumeClaim); the shard Job Indexed, with parallelism and
FLEETSIM_SHARDS equal to completions and the shard index taken from
JOB_COMPLETION_INDEX; the merge Job with the same shard count, run folder,
image and report volume; the volume mounted where FLEETSIM_REPORTS says and
claimed from the PVC (ReadWriteMany, as the shards write at once); pods that
run as a non-root user; and the Dockerfile: Debian 12, built with make, a
non-root USER, the entrypoint script of DIR.  Field lists after the Kubernetes
API reference (v1.30): https://kubernetes.io/docs/reference/kubernetes-api/

Exit 0 when all is well, 1 with a line per problem, 2 when it cannot read DIR.
"""
import os
import re
import sys

try:
    import yaml
except ImportError:
    sys.exit("check_k8s: needs PyYAML (Debian: python3-yaml)")

OBJECT = {"apiVersion", "kind", "metadata", "spec"}
METADATA = {"name", "namespace", "labels", "annotations", "generateName"}
JOB_SPEC = {"activeDeadlineSeconds", "backoffLimit", "backoffLimitPerIndex", "completionMode",
            "completions", "managedBy", "manualSelector", "maxFailedIndexes", "parallelism",
            "podFailurePolicy", "podReplacementPolicy", "selector", "successPolicy", "suspend",
            "template", "ttlSecondsAfterFinished"}
POD_TEMPLATE = {"metadata", "spec"}
POD_SPEC = {"activeDeadlineSeconds", "affinity", "automountServiceAccountToken", "containers",
            "dnsConfig", "dnsPolicy", "enableServiceLinks", "ephemeralContainers", "hostAliases",
            "hostIPC", "hostNetwork", "hostPID", "hostUsers", "hostname", "imagePullSecrets",
            "initContainers", "nodeName", "nodeSelector", "os", "overhead", "preemptionPolicy",
            "priority", "priorityClassName", "readinessGates", "resourceClaims", "restartPolicy",
            "runtimeClassName", "schedulerName", "schedulingGates", "securityContext",
            "serviceAccountName", "setHostnameAsFQDN", "shareProcessNamespace", "subdomain",
            "terminationGracePeriodSeconds", "tolerations", "topologySpreadConstraints", "volumes"}
POD_SECURITY = {"fsGroup", "fsGroupChangePolicy", "runAsGroup", "runAsNonRoot", "runAsUser",
                "seLinuxOptions", "seccompProfile", "supplementalGroups", "sysctls", "windowsOptions",
                "appArmorProfile"}
CONTAINER = {"args", "command", "env", "envFrom", "image", "imagePullPolicy", "lifecycle",
             "livenessProbe", "name", "ports", "readinessProbe", "resizePolicy", "resources",
             "restartPolicy", "securityContext", "startupProbe", "stdin", "stdinOnce",
             "terminationMessagePath", "terminationMessagePolicy", "tty", "volumeDevices",
             "volumeMounts", "workingDir"}
CONTAINER_SECURITY = {"allowPrivilegeEscalation", "capabilities", "privileged", "procMount",
                      "readOnlyRootFilesystem", "runAsGroup", "runAsNonRoot", "runAsUser",
                      "seLinuxOptions", "seccompProfile", "windowsOptions", "appArmorProfile"}
ENV_VAR = {"name", "value", "valueFrom"}
ENV_SOURCE = {"configMapKeyRef", "fieldRef", "resourceFieldRef", "secretKeyRef"}
VOLUME_MOUNT = {"mountPath", "mountPropagation", "name", "readOnly", "recursiveReadOnly",
                "subPath", "subPathExpr"}
VOLUME_SOURCES = {"configMap", "emptyDir", "persistentVolumeClaim", "secret", "hostPath", "nfs",
                  "projected", "downwardAPI", "csi", "ephemeral"}
RESOURCES = {"limits", "requests", "claims"}
PVC_SPEC = {"accessModes", "dataSource", "dataSourceRef", "resources", "selector",
            "storageClassName", "volumeAttributesClassName", "volumeMode", "volumeName"}
ACCESS_MODES = {"ReadWriteOnce", "ReadOnlyMany", "ReadWriteMany", "ReadWriteOncePod"}
PULL_POLICIES = {"Always", "IfNotPresent", "Never"}
INT_FIELDS = {"activeDeadlineSeconds", "backoffLimit", "completions", "parallelism",
              "ttlSecondsAfterFinished"}
DNS1123 = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
QUANTITY = re.compile(r"^[0-9]+(\.[0-9]+)?(m|k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei)?$")
ENV_NAME = re.compile(r"^[-._a-zA-Z][-._a-zA-Z0-9]*$")
# where the Job controller itself takes it from: the pod's annotation, or (with
# the PodIndexLabel feature, Kubernetes 1.28+) its label of the same name
INDEX_FIELDS = ("metadata.annotations['batch.kubernetes.io/job-completion-index']",
                "metadata.labels['batch.kubernetes.io/job-completion-index']")

problems = []


def bad(where, what):
    problems.append("%s: %s" % (where, what))


def fields(where, obj, allowed, required=()):
    """obj is a mapping with only allowed keys and every required one."""
    if not isinstance(obj, dict):
        bad(where, "expected a mapping, got %s" % type(obj).__name__)
        return {}
    for k in obj:
        if k not in allowed:
            bad(where, "unknown field %r" % k)
    for k in required:
        if k not in obj:
            bad(where, "missing required field %r" % k)
    return obj


def seq(where, obj):
    if obj is None:
        return []
    if not isinstance(obj, list):
        bad(where, "expected a list")
        return []
    return obj


def check_metadata(where, md):
    md = fields(where + ".metadata", md, METADATA, ("name",))
    name = md.get("name", "")
    if not isinstance(name, str) or len(name) > 63 or not LABEL.match(name):
        bad(where + ".metadata.name", "%r is no DNS-1123 label (a Job's name is one)" % name)
    for k, v in (md.get("labels") or {}).items():
        if not isinstance(v, str) or len(v) > 63:
            bad(where + ".metadata.labels." + k, "a label value is a string of at most 63 characters")
    return name


def check_container(where, c):
    c = fields(where, c, CONTAINER, ("name", "image"))
    if not LABEL.match(str(c.get("name", ""))):
        bad(where + ".name", "%r is no DNS-1123 label" % c.get("name"))
    if not isinstance(c.get("image"), str) or not c.get("image"):
        bad(where + ".image", "a container needs an image")
    if "imagePullPolicy" in c and c["imagePullPolicy"] not in PULL_POLICIES:
        bad(where + ".imagePullPolicy", "%r is not one of %s" % (c["imagePullPolicy"], sorted(PULL_POLICIES)))
    for key in ("args", "command"):
        for i, a in enumerate(seq(where + "." + key, c.get(key))):
            if not isinstance(a, str):
                bad("%s.%s[%d]" % (where, key, i), "%r is not a string" % (a,))
    env = {}
    for i, e in enumerate(seq(where + ".env", c.get("env"))):
        w = "%s.env[%d]" % (where, i)
        e = fields(w, e, ENV_VAR, ("name",))
        n = e.get("name", "")
        if not isinstance(n, str) or not ENV_NAME.match(n):
            bad(w + ".name", "%r is no environment variable name" % n)
        if n in env:
            bad(w, "%s twice" % n)
        if "value" in e and not isinstance(e["value"], str):
            bad(w + ".value", "%r is not a string (quote it)" % (e["value"],))
        if "valueFrom" in e:
            vf = fields(w + ".valueFrom", e["valueFrom"], ENV_SOURCE)
            if len(vf) != 1:
                bad(w + ".valueFrom", "exactly one source")
        env[n] = e
    res = fields(where + ".resources", c.get("resources") or {}, RESOURCES)
    for kind in ("limits", "requests"):
        for k, v in (res.get(kind) or {}).items():
            if not QUANTITY.match(str(v)):
                bad("%s.resources.%s.%s" % (where, kind, k), "%r is no quantity" % (v,))
    fields(where + ".securityContext", c.get("securityContext") or {}, CONTAINER_SECURITY)
    mounts = {}
    for i, m in enumerate(seq(where + ".volumeMounts", c.get("volumeMounts"))):
        m = fields("%s.volumeMounts[%d]" % (where, i), m, VOLUME_MOUNT, ("name", "mountPath"))
        if not str(m.get("mountPath", "")).startswith("/"):
            bad("%s.volumeMounts[%d].mountPath" % (where, i), "not an absolute path")
        mounts[m.get("name")] = m.get("mountPath")
    return c, env, mounts


def check_job(where, doc):
    """The Job's pod, its one container, env and mounts."""
    check_metadata(where, doc.get("metadata"))
    spec = fields(where + ".spec", doc.get("spec"), JOB_SPEC, ("template",))
    for k in INT_FIELDS & set(spec):
        if not isinstance(spec[k], int) or isinstance(spec[k], bool) or spec[k] < 0:
            bad("%s.spec.%s" % (where, k), "%r is not a whole number >= 0" % (spec[k],))
    if spec.get("completionMode", "NonIndexed") not in ("NonIndexed", "Indexed"):
        bad(where + ".spec.completionMode", "%r is neither NonIndexed nor Indexed" % spec["completionMode"])
    tmpl = fields(where + ".spec.template", spec.get("template"), POD_TEMPLATE, ("spec",))
    pod = fields(where + ".spec.template.spec", tmpl.get("spec"), POD_SPEC, ("containers",))
    if pod.get("restartPolicy") not in ("Never", "OnFailure"):
        bad(where + ".spec.template.spec.restartPolicy", "a Job's pods need Never or OnFailure, not %r"
            % pod.get("restartPolicy"))
    sc = fields(where + ".spec.template.spec.securityContext", pod.get("securityContext") or {}, POD_SECURITY)
    if sc.get("runAsNonRoot") is not True or not isinstance(sc.get("runAsUser"), int) or sc.get("runAsUser") == 0:
        bad(where + ".spec.template.spec.securityContext", "the pod must run as a non-root user "
            "(runAsNonRoot: true, runAsUser: not 0)")
    volumes = {}
    for i, v in enumerate(seq(where + ".spec.template.spec.volumes", pod.get("volumes"))):
        w = "%s.spec.template.spec.volumes[%d]" % (where, i)
        v = fields(w, v, VOLUME_SOURCES | {"name"}, ("name",))
        src = [k for k in v if k != "name"]
        if len(src) != 1:
            bad(w, "exactly one volume source, got %s" % src)
        volumes[v.get("name")] = v
    containers = seq(where + ".spec.template.spec.containers", pod.get("containers"))
    if len(containers) != 1:
        bad(where + ".spec.template.spec.containers", "one container (fleetsim), got %d" % len(containers))
        return spec, None, {}, {}, volumes
    c, env, mounts = check_container(where + ".spec.template.spec.containers[0]", containers[0])
    for name in mounts:
        if name not in volumes:
            bad(where + ".spec.template.spec.containers[0].volumeMounts", "no volume named %r" % name)
    return spec, c, env, mounts, volumes


def env_value(env, name):
    e = env.get(name)
    return e.get("value") if e else None


def load(dirname):
    docs = []
    for fn in sorted(os.listdir(dirname)):
        if not fn.endswith((".yaml", ".yml")):
            continue
        path = os.path.join(dirname, fn)
        try:
            with open(path) as f:
                for i, d in enumerate(yaml.safe_load_all(f)):
                    if d is not None:
                        docs.append(("%s[%d]" % (fn, i), d))
        except (OSError, yaml.YAMLError) as e:
            bad(fn, "cannot read: %s" % e)
    return docs


def main():
    dirname = sys.argv[1] if len(sys.argv) > 1 else "deploy/k8s"
    if not os.path.isdir(dirname):
        print("check_k8s: %s is not a folder" % dirname, file=sys.stderr)
        return 2
    jobs, pvcs = {}, {}
    for where, doc in load(dirname):
        fields(where, doc, OBJECT, ("apiVersion", "kind", "metadata", "spec"))
        kind = (doc.get("apiVersion"), doc.get("kind"))
        if kind == ("batch/v1", "Job"):
            jobs[where] = check_job(where, doc)
            jobs[where] += (doc,)
        elif kind == ("v1", "PersistentVolumeClaim"):
            name = check_metadata(where, doc.get("metadata"))
            spec = fields(where + ".spec", doc.get("spec"), PVC_SPEC, ("accessModes", "resources"))
            modes = seq(where + ".spec.accessModes", spec.get("accessModes"))
            for m in modes:
                if m not in ACCESS_MODES:
                    bad(where + ".spec.accessModes", "%r is no access mode" % m)
            if "ReadWriteMany" not in modes:
                bad(where + ".spec.accessModes", "the shards write at once, from any node: ReadWriteMany")
            req = ((spec.get("resources") or {}).get("requests") or {}).get("storage")
            if req is None or not QUANTITY.match(str(req)):
                bad(where + ".spec.resources.requests.storage", "%r is no quantity" % (req,))
            pvcs[name] = where
        else:
            bad(where, "%s %s is not a kind this deployment has (batch/v1 Job, v1 PersistentVolumeClaim)" % kind)

    def pick(arg):
        found = [(w, j) for w, j in jobs.items() if j[1] and (j[1].get("args") or [None])[0] == arg]
        if len(found) != 1:
            bad(dirname, "one Job whose container runs %r, found %d" % (arg, len(found)))
            return None
        return found[0]

    shard, merge = pick("shard"), pick("merge")
    if shard:
        w, (spec, c, env, mounts, volumes, doc) = shard
        n = spec.get("completions")
        if spec.get("completionMode") != "Indexed":
            bad(w + ".spec.completionMode", "the shard Job must be Indexed (each pod its JOB_COMPLETION_INDEX)")
        if not isinstance(n, int) or n < 1:
            bad(w + ".spec.completions", "the shard count N, at least 1")
        if spec.get("parallelism") != n:
            bad(w + ".spec.parallelism", "%r, not completions (%r): the shards run side by side"
                % (spec.get("parallelism"), n))
        if env_value(env, "FLEETSIM_SHARDS") != str(n):
            bad(w + ": FLEETSIM_SHARDS", "%r, not completions (%r)" % (env_value(env, "FLEETSIM_SHARDS"), n))
        idx = env.get("JOB_COMPLETION_INDEX")
        if idx is not None:   # Kubernetes sets it; when said, it must be the index
            ref = ((idx.get("valueFrom") or {}).get("fieldRef") or {}).get("fieldPath")
            if ref not in INDEX_FIELDS:
                bad(w + ": JOB_COMPLETION_INDEX", "must come from %s" % " or ".join(INDEX_FIELDS))
    if merge:
        w, (spec, c, env, mounts, volumes, doc) = merge
        if spec.get("completionMode", "NonIndexed") != "NonIndexed" or spec.get("completions", 1) != 1:
            bad(w + ".spec", "the merge is one pod (completions 1, not Indexed)")
        if spec.get("backoffLimit") != 0:
            bad(w + ".spec.backoffLimit", "0: a merge that judged the run failed is not to be repeated")
    if shard and merge:
        (ws, s), (wm, m) = shard, merge
        for var in ("FLEETSIM_SHARDS", "FLEETSIM_RUN", "FLEETSIM_REPORTS"):
            if env_value(s[2], var) != env_value(m[2], var):
                bad(wm + ": " + var, "%r, the shard Job has %r" % (env_value(m[2], var), env_value(s[2], var)))
        if s[1].get("image") != m[1].get("image"):
            bad(wm, "image %r, the shard Job's is %r (the merge reads the scenario where the shards did)"
                % (m[1].get("image"), s[1].get("image")))
    for w, (spec, c, env, mounts, volumes, doc) in [x for x in (shard, merge) if x]:
        reports = env_value(env, "FLEETSIM_REPORTS") or "/reports"
        vol = [n for n, p in mounts.items() if p == reports]
        if not vol:
            bad(w, "nothing mounted at FLEETSIM_REPORTS (%s)" % reports)
            continue
        claim = ((volumes.get(vol[0]) or {}).get("persistentVolumeClaim") or {}).get("claimName")
        if claim not in pvcs:
            bad(w, "the volume at %s is not the claim of a PersistentVolumeClaim here (%r; have %s)"
                % (reports, claim, sorted(pvcs)))
        if c.get("command"):
            bad(w, "command overrides the image's entrypoint (fleetsim-k8s)")
    check_dockerfile(dirname)
    for p in problems:
        print(p)
    if not problems:
        print("check_k8s: %s: %d Job(s), %d PersistentVolumeClaim(s), Dockerfile: ok" % (dirname, len(jobs), len(pvcs)))
    return 1 if problems else 0


def check_dockerfile(dirname):
    path = os.path.join(dirname, "Dockerfile")
    try:
        text = open(path).read()
    except OSError as e:
        bad(path, "cannot read: %s" % e)
        return
    lines = re.sub(r"\\\n", " ", text).splitlines()
    stages, user, entry, runs = [], None, None, []
    for line in lines:
        word, _, rest = line.strip().partition(" ")
        word = word.upper()
        if word == "FROM":
            stages.append(rest.split()[0])
            user, entry = None, None
        elif word == "USER":
            user = rest.strip()
        elif word == "ENTRYPOINT":
            entry = rest.strip()
        elif word == "RUN":
            runs.append(rest)
    for s in stages:
        if not re.match(r"^debian:(12|bookworm)([-.][a-z0-9.-]*)?$", s):
            bad(path, "FROM %s: the base is Debian 12 (debian:12, debian:bookworm...)" % s)
    if not any(re.search(r"\bmake\b", r) for r in runs):
        bad(path, "fleetsim is built with make")
    if user is None or user.split(":")[0] in ("root", "0"):
        bad(path, "the final stage runs as a non-root USER, got %r" % user)
    script = os.path.join(dirname, "fleetsim-k8s.sh")
    if not entry or "fleetsim-k8s" not in entry:
        bad(path, "ENTRYPOINT is the fleetsim-k8s script, got %r" % entry)
    if "fleetsim-k8s.sh" not in text:
        bad(path, "the image installs deploy/k8s/fleetsim-k8s.sh")
    try:
        sh = open(script).read()
        if "JOB_COMPLETION_INDEX" not in sh or "--shard" not in sh:
            bad(script, "the entrypoint takes the shard from JOB_COMPLETION_INDEX")
    except OSError as e:
        bad(script, "cannot read: %s" % e)


if __name__ == "__main__":
    sys.exit(main())
