#!/usr/bin/env bash
# Renders the Kubernetes manifests (k8s/overlays/dev, k8s/overlays/prod,
# k8s/monitoring) with `kubectl kustomize` (no cluster needed), checks
# properties of the rendered objects with python3 + PyYAML, runs
# tests/k8s/rules_test.sh (the alert rules: promtool, unit tests, runbooks) and
# checks the Grafana dashboards in
# k8s/monitoring/dashboards (JSON shape, datasource variable, and every PromQL
# expression parses, is scoped to the namespace variable, filters by site where
# the metric has a site label, rates over $__rate_interval, relative links).
#
#   bash tests/k8s/render_test.sh <repo_root>
#
# Prints one "ok - ..." line per check and, on success, a last line
# "N passed, 0 failed". Stops at the first failed check, says what failed and
# exits 1. Tools: KUBECTL, PROMTOOL, PYTHON override the defaults below;
# KUBECTL defaults to the first `kubectl` on PATH.
#
# The manifests must render with both the kustomize v5 in current kubectl and
# the kustomize v2.0.3 in kubectl <= 1.20 (e.g. Debian 12's kubernetes-client),
# so they use fields that kustomize v5 reports as deprecated. Those warnings,
# and only those (ALLOWED_WARNINGS below, matched as whole lines), are
# tolerated; any other output on stderr fails the test.
set -euo pipefail

root="${1:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}"
cd "$root"

source "$root/tests/k8s/lib.sh"
"$PYTHON" -c 'import yaml' 2>/dev/null || fail "$PYTHON cannot import yaml (install python3-yaml)"
kubectl_version="$("$KUBECTL" version --client -o json 2>/dev/null |
  "$PYTHON" -c 'import json, sys; v = json.load(sys.stdin); print(" ".join(filter(None, [v["clientVersion"]["gitVersion"], v.get("kustomizeVersion")])))' 2>/dev/null ||
  echo "unknown version")"
echo "# kubectl: $(command -v "$KUBECTL") ${kubectl_version}"

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

# --- render -----------------------------------------------------------------
# Deprecation warnings of kustomize v5 (kubectl >= 1.27) for kustomization
# fields that kustomize v2.0.3 needs in place of their replacements (v2 has no
# `labels:`, `patches:`, and takes directories only under `bases:`). Exact
# lines; any other stderr output is a failure.
ALLOWED_WARNINGS=(
  "# Warning: 'bases' is deprecated. Please use 'resources' instead. Run 'kustomize edit fix' to update your Kustomization automatically."
  "# Warning: 'commonLabels' is deprecated. Please use 'labels' instead. Run 'kustomize edit fix' to update your Kustomization automatically."
  "# Warning: 'patchesStrategicMerge' is deprecated. Please use 'patches' instead. Run 'kustomize edit fix' to update your Kustomization automatically."
)

render() {  # render <dir> <name>
  local dir="$1" name="$2"
  [[ -f "$dir/kustomization.yaml" ]] || fail "$dir/kustomization.yaml is missing"
  if ! "$KUBECTL" kustomize "$dir" >"$tmp/$name.yaml" 2>"$tmp/$name.err"; then
    cat "$tmp/$name.err" >&2
    fail "kubectl kustomize $dir failed"
  fi
  ok "kubectl kustomize $dir renders"
  # Warnings (e.g. deprecated kustomization fields) go to stderr. Drop the
  # allowed ones; whatever is left (warnings, errors, blank lines) fails.
  local rc=0
  grep -vxF -f <(printf '%s\n' "${ALLOWED_WARNINGS[@]}") "$tmp/$name.err" >"$tmp/$name.unexpected" || rc=$?
  [[ $rc -le 1 ]] || fail "grep failed while checking the warnings of kubectl kustomize $dir"
  if [[ -s "$tmp/$name.unexpected" ]]; then
    cat "$tmp/$name.unexpected" >&2
    fail "kubectl kustomize $dir printed unexpected warnings (allowed: only the known deprecation warnings in ALLOWED_WARNINGS)"
  fi
  local tolerated
  tolerated="$(grep -cxF -f <(printf '%s\n' "${ALLOWED_WARNINGS[@]}") "$tmp/$name.err" || true)"
  ok "kubectl kustomize $dir renders without unexpected warnings (${tolerated} known deprecation warning(s) tolerated)"
}
render k8s/overlays/dev dev
render k8s/overlays/prod prod
render k8s/monitoring monitoring

# --- Prometheus rules -------------------------------------------------------
# tests/k8s/rules_test.sh: promtool check and every tests/k8s/*-rules.test.yaml
# against the PrometheusRule's rules, each alert tested and linked to its
# runbook, namespaces kept apart, and how the monitoring kustomizations ship
# them. Its checks count here.
if ! bash tests/k8s/rules_test.sh "$root" >"$tmp/rules_test.out" 2>&1; then
  cat "$tmp/rules_test.out" >&2
  fail "tests/k8s/rules_test.sh"
fi
grep '^ok - ' "$tmp/rules_test.out"
passed=$((passed + $(grep -c '^ok - ' "$tmp/rules_test.out")))
# The checks below read the rules as a plain rules file.
rules="$tmp/estate.rules.yaml"
"$PYTHON" tools/prometheus-rules >"$rules" || fail "tools/prometheus-rules"

# --- properties of the rendered objects -------------------------------------
# The checker writes how many checks passed to $tmp/py_passed, also when it
# stops at a failure.
set +e
"$PYTHON" - "$tmp" "$rules" k8s/monitoring/dashboards "$PROMTOOL" <<'PY'
import base64
import glob
import json
import os
import re
import subprocess
import sys

import yaml

tmp, rules_path, dashboards_dir, promtool = sys.argv[1:5]
sys.path.insert(0, "tests/k8s")
import checks  # noqa: E402
from checks import check, done, start  # noqa: E402
start(tmp)



def load(name):
    with open(f"{tmp}/{name}.yaml") as f:
        return [d for d in yaml.safe_load_all(f) if d]


def find(docs, kind, name):
    hits = [d for d in docs if d.get("kind") == kind and d["metadata"].get("name") == name]
    return hits[0] if len(hits) == 1 else None


def by_name(items):
    return {i["name"]: i for i in items or []}


def selects(selector, labels):
    ml = (selector or {}).get("matchLabels") or {}
    return bool(ml) and all(labels.get(k) == v for k, v in ml.items())


def seconds(duration):
    m = re.fullmatch(r"(\d+)(ms|s|m)", duration or "")
    if not m:
        return None
    n, unit = int(m.group(1)), m.group(2)
    return {"ms": n / 1000, "s": n, "m": n * 60}[unit]


# The services deployed from k8s/base/<name>/, with their gRPC and metrics
# ports (DESIGN.md, "Running"). Each has the same shape: Deployment, headless
# Service, PodDisruptionBudget, database user and schema estate_<name>, its
# password in Secret estate-<name>-db, image estate/<name>.
SERVICES = {"tickets": (50052, 9102), "billing": (50051, 9101), "archives": (50053, 9103),
            "cleaning": (50055, 9105), "handover": (50054, 9104)}


def service_flags(name):
    """Flags of the service's binary: ABSL_FLAG in services/kit and services/<name>."""
    flags = set()
    for f in glob.glob("services/kit/*.cc") + glob.glob(f"services/{name}/*.cc"):
        with open(f) as fh:
            flags.update(re.findall(r"ABSL_FLAG\(\s*[^,]+,\s*(\w+)\s*,", fh.read()))
    return flags


def check_service(env_name, docs, name, grpc_port, metrics_port, want_replicas):
    p = f"[{env_name}/{name}]"

    dep = find(docs, "Deployment", name)
    check(dep is not None, f"{p} exactly one Deployment named {name}")
    check(dep["metadata"].get("namespace") == "estate", f"{p} Deployment {name} is in namespace estate")
    check((dep["metadata"].get("labels") or {}).get("app.kubernetes.io/part-of") == "estate",
          f"{p} Deployment {name} labelled app.kubernetes.io/part-of=estate")
    spec, tmpl = dep["spec"], dep["spec"]["template"]
    pod = tmpl["spec"]
    pod_labels = tmpl["metadata"].get("labels") or {}
    check(selects(spec.get("selector"), pod_labels), f"{p} Deployment selector matches its pod labels")
    check(pod_labels.get("app.kubernetes.io/part-of") == "estate", f"{p} pods labelled app.kubernetes.io/part-of=estate")
    check(spec.get("replicas") == want_replicas, f"{p} Deployment replicas == {want_replicas} (got {spec.get('replicas')})")
    ru = (spec.get("strategy") or {}).get("rollingUpdate") or {}
    check(spec.get("strategy", {}).get("type") == "RollingUpdate" and ru.get("maxUnavailable") == 0,
          f"{p} rolling update with maxUnavailable 0")

    containers = by_name(pod.get("containers"))
    c = containers.get(name)
    check(c is not None, f"{p} container {name}")
    ports = {pt.get("name"): pt.get("containerPort") for pt in c.get("ports") or []}
    check(ports.get("grpc") == grpc_port and ports.get("metrics") == metrics_port,
          f"{p} container ports grpc {grpc_port}, metrics {metrics_port} (got {ports})")

    image = c.get("image", "")
    want_image = f"estate/{name}:dev" if env_name == "dev" else f"estate/{name}([:@].+)?"
    check(re.fullmatch(want_image, image), f"{p} image matches {want_image} (got {image})")

    # Probes: readiness is the native gRPC health check; liveness must not be,
    # because health is NOT_SERVING while the database is down.
    rp = c.get("readinessProbe") or {}
    if any(e["name"] == "ESTATE_TLS_CERT" for e in c.get("env") or []):
        # The kubelet's gRPC probe speaks plaintext only: against a TLS port
        # it would never pass; the binary checks its own health over TLS.
        cmd = (rp.get("exec") or {}).get("command") or []
        check("grpc" not in rp and cmd[:1] == [f"/usr/local/bin/estate-{name}"] and "--health_check" in cmd,
              f"{p} TLS on the gRPC port: readinessProbe runs estate-{name} --health_check (the kubelet's gRPC probe has no TLS)")
    else:
        check((rp.get("grpc") or {}).get("port") == grpc_port, f"{p} readinessProbe is grpc on port {grpc_port}")
    lp = c.get("livenessProbe") or {}
    check(lp and "grpc" not in lp and (lp.get("tcpSocket") or {}).get("port") in ("grpc", grpc_port),
          f"{p} livenessProbe is tcpSocket on the grpc port, not grpc health")
    sp = c.get("startupProbe") or {}
    budget = sp.get("periodSeconds", 10) * sp.get("failureThreshold", 3)
    check(budget > 120, f"{p} startupProbe allows more than the 120s startup DB wait (allows {budget}s)")

    # Security.
    psc, csc = pod.get("securityContext") or {}, c.get("securityContext") or {}
    eff = lambda k: csc.get(k, psc.get(k))
    check(eff("runAsNonRoot") is True, f"{p} runAsNonRoot true")
    check(eff("runAsUser") == 65532, f"{p} runAsUser 65532")
    check(csc.get("readOnlyRootFilesystem") is True, f"{p} readOnlyRootFilesystem true")
    check(csc.get("allowPrivilegeEscalation") is False, f"{p} allowPrivilegeEscalation false")
    check("ALL" in ((csc.get("capabilities") or {}).get("drop") or []), f"{p} capabilities drop ALL")
    check(((eff("seccompProfile") or {}).get("type")) == "RuntimeDefault", f"{p} seccomp RuntimeDefault")

    # Resources.
    res = c.get("resources") or {}
    req = res.get("requests") or {}
    check(req.get("cpu") and req.get("memory"), f"{p} resources.requests cpu and memory set")
    check((res.get("limits") or {}).get("memory"), f"{p} resources.limits.memory set")

    # Environment.
    env_list = c.get("env") or []
    env = {e["name"]: e for e in env_list}
    val = lambda n: (env.get(n) or {}).get("value")
    check(val("ESTATE_GRPC_ADDR") == f"0.0.0.0:{grpc_port}", f"{p} ESTATE_GRPC_ADDR=0.0.0.0:{grpc_port}")
    check(val("ESTATE_METRICS_ADDR") == f"0.0.0.0:{metrics_port}", f"{p} ESTATE_METRICS_ADDR=0.0.0.0:{metrics_port}")
    check("ESTATE_DB_PASSWORD" not in env, f"{p} no plain ESTATE_DB_PASSWORD in env")
    # Its own database user and schema (flags --db_user, --db_name).
    check(val("ESTATE_DB_USER") == f"estate_{name}" and val("ESTATE_DB_NAME") == f"estate_{name}",
          f"{p} ESTATE_DB_USER and ESTATE_DB_NAME are estate_{name} (got {val('ESTATE_DB_USER')}, {val('ESTATE_DB_NAME')})")
    # The binary ignores ESTATE_* variables that name no flag (a typo such as
    # ESTATE_DB_SCHEMA would be silently without effect).
    flags = service_flags(name)
    unknown = [n for n in env if n.startswith("ESTATE_") and n[len("ESTATE_"):].lower() not in flags]
    check(flags and not unknown, f"{p} every ESTATE_* variable names a flag of the binary (unknown: {unknown})")

    grace = seconds(val("ESTATE_SHUTDOWN_GRACE") or "10s")
    drain = seconds(val("ESTATE_SHUTDOWN_DRAIN") or "5s")
    tgps = pod.get("terminationGracePeriodSeconds", 30)
    check(grace is not None and drain is not None and tgps > grace + drain,
          f"{p} terminationGracePeriodSeconds ({tgps}) > shutdown drain + grace "
          f"({val('ESTATE_SHUTDOWN_DRAIN')} + {val('ESTATE_SHUTDOWN_GRACE')})")

    secrets = {d["metadata"]["name"]: d for d in docs if d.get("kind") == "Secret"}

    def secret_ok(ref_name, base_name, key):
        """The reference points at the right secret; in dev it must be rendered too."""
        if env_name == "dev":
            s = secrets.get(ref_name)
            return (s is not None and re.fullmatch(re.escape(base_name) + r"-[a-z0-9]+", ref_name)
                    and s["metadata"].get("namespace") == "estate"
                    and key in {**(s.get("data") or {}), **(s.get("stringData") or {})})
        return ref_name == base_name

    pt = ((env.get("ESTATE_PAGE_TOKEN_SECRET") or {}).get("valueFrom") or {}).get("secretKeyRef") or {}
    check(pt.get("key") == "secret" and secret_ok(pt.get("name", ""), "estate-page-tokens", "secret"),
          f"{p} ESTATE_PAGE_TOKEN_SECRET from Secret estate-page-tokens key secret (ref {pt.get('name')})")

    # DB password: a file on a volume from Secret estate-<name>-db, key password.
    pw_file = val("ESTATE_DB_PASSWORD_FILE")
    check(pw_file == "/var/run/secrets/estate/db/password", f"{p} ESTATE_DB_PASSWORD_FILE=/var/run/secrets/estate/db/password")
    volumes = by_name(pod.get("volumes"))
    mounts = [m for m in c.get("volumeMounts") or [] if pw_file.startswith(m["mountPath"].rstrip("/") + "/")]
    check(len(mounts) == 1, f"{p} one volumeMount holds {pw_file}")
    m = mounts[0]
    vol = volumes.get(m["name"]) or {}
    sec = vol.get("secret") or {}
    rel = pw_file[len(m["mountPath"].rstrip("/")) + 1:]
    items = {i["path"]: i["key"] for i in sec.get("items") or []}
    key = items.get(rel) if items else rel
    check(sec and key == "password" and secret_ok(sec.get("secretName", ""), f"estate-{name}-db", "password"),
          f"{p} {pw_file} is key password of Secret estate-{name}-db (ref {sec.get('secretName')})")
    check(m.get("readOnly") is True, f"{p} the DB password volume is mounted readOnly")

    # Shared settings.
    cm_names = [((e.get("configMapRef") or {}).get("name")) for e in c.get("envFrom") or []]
    cms = {d["metadata"]["name"]: d for d in docs if d.get("kind") == "ConfigMap"}
    shared = [cms[n] for n in cm_names if n in cms]
    data = {}
    for cm in shared:
        data.update(cm.get("data") or {})
    # Dev: the overlay's own MariaDB; prod: the external server (a host name).
    db_host_ok = (data.get("ESTATE_DB_HOST") == "mariadb.estate.svc" if env_name == "dev"
                  else re.fullmatch(r"[a-z0-9]([a-z0-9.-]*[a-z0-9])?", data.get("ESTATE_DB_HOST") or ""))
    check(db_host_ok and re.fullmatch(r"\d+", data.get("ESTATE_DB_PORT") or "")
          and data.get("ESTATE_LOG_LEVEL") == "info",
          f"{p} envFrom ConfigMap (rendered) sets ESTATE_DB_HOST ({data.get('ESTATE_DB_HOST')}), ESTATE_DB_PORT, ESTATE_LOG_LEVEL")
    unknown = [k for k in data if k.startswith("ESTATE_") and k[len("ESTATE_"):].lower() not in flags]
    check(not unknown, f"{p} every ESTATE_* key of the envFrom ConfigMaps names a flag of the binary (unknown: {unknown})")

    check(pod.get("automountServiceAccountToken") is False and pod.get("enableServiceLinks") is False,
          f"{p} pods: no service account token, no service links")
    ann = tmpl["metadata"].get("annotations") or {}
    check(ann.get("prometheus.io/scrape") == "true" and ann.get("prometheus.io/port") == str(metrics_port)
          and ann.get("prometheus.io/path") == "/metrics", f"{p} prometheus.io scrape annotations on pods (port {metrics_port})")

    # Service.
    svc = find(docs, "Service", name)
    check(svc is not None, f"{p} Service {name}")
    check(svc["metadata"].get("namespace") == "estate"
          and (svc["metadata"].get("labels") or {}).get("app.kubernetes.io/part-of") == "estate",
          f"{p} Service {name} in namespace estate, labelled part-of=estate")
    check(svc["spec"].get("clusterIP") == "None", f"{p} Service {name} is headless (clusterIP None)")
    sports = {pt.get("name"): pt for pt in svc["spec"].get("ports") or []}
    check(sports.get("grpc", {}).get("port") == grpc_port and sports.get("metrics", {}).get("port") == metrics_port
          and all(pt.get("targetPort", pt.get("port")) in (n, ports.get(n)) for n, pt in sports.items()),
          f"{p} Service ports grpc {grpc_port} -> grpc, metrics {metrics_port} -> metrics")
    sel = svc["spec"].get("selector") or {}
    check(sel and all(pod_labels.get(k) == v for k, v in sel.items()), f"{p} Service selector matches the pods")

    # PodDisruptionBudget.
    pdbs = [d for d in docs if d.get("kind") == "PodDisruptionBudget" and selects(d["spec"].get("selector"), pod_labels)]
    check(len(pdbs) == 1 and pdbs[0]["apiVersion"] == "policy/v1" and pdbs[0]["metadata"]["name"] == name,
          f"{p} one policy/v1 PodDisruptionBudget ({name}) selects the {name} pods")
    check(pdbs[0]["spec"].get("minAvailable") == 1, f"{p} PodDisruptionBudget minAvailable 1")
    return svc


def check_overlay(env_name, want_replicas):
    docs = load(env_name)
    p = f"[{env_name}]"

    ns = find(docs, "Namespace", "estate")
    check(ns is not None, f"{p} Namespace estate")

    svcs = {name: check_service(env_name, docs, name, grpc, metrics, want_replicas)
            for name, (grpc, metrics) in SERVICES.items()}

    secrets = {d["metadata"]["name"]: d for d in docs if d.get("kind") == "Secret"}
    if env_name == "prod":
        check(not secrets, f"{p} no Secret objects rendered (they must pre-exist), got {sorted(secrets)}")

    # Outbox peers (flags --<peer>_addr: cleaning's tickets, handover's
    # archives, billing and tickets). Each must be set, to the peer's rendered
    # headless Service as in the gateway's ESTATE_BACKENDS: with the default
    # 127.0.0.1 address a pod starts and serves, and its outbox never delivers.
    for name in SERVICES:
        dep = find(docs, "Deployment", name)
        c = by_name(dep["spec"]["template"]["spec"].get("containers")).get(name) or {}
        env = {e["name"]: e.get("value") for e in c.get("env") or []}
        peer_flags = {f[:-len("_addr")] for f in service_flags(name) if f.endswith("_addr") and f[:-len("_addr")] in SERVICES}
        peers = {peer: env.get(f"ESTATE_{peer.upper()}_ADDR") for peer in sorted(peer_flags)}
        want = {peer: f"dns:///{svcs[peer]['metadata']['name']}.{svcs[peer]['metadata']['namespace']}.svc.cluster.local:{SERVICES[peer][0]}"
                for peer in peers}
        check(peers == want and all(svcs[peer]["spec"].get("clusterIP") == "None" for peer in peers),
              f"{p} [{name}] every peer address is the peer's headless Service (want {want}, got {peers})")

    # Each Service and PodDisruptionBudget selects the pods of exactly one
    # Deployment (selectors of new services must not overlap old ones).
    deps = [d for d in docs if d.get("kind") in ("Deployment", "StatefulSet")]
    pod_labels_of = {d["metadata"]["name"]: d["spec"]["template"]["metadata"].get("labels") or {} for d in deps}
    wrong = {}
    for d in docs:
        if d.get("kind") == "Service":
            sel = {"matchLabels": d["spec"].get("selector") or {}}
        elif d.get("kind") in ("PodDisruptionBudget", "Deployment", "StatefulSet"):
            sel = d["spec"].get("selector")
        else:
            continue
        hits = sorted(n for n, labels in pod_labels_of.items() if selects(sel, labels))
        if len(hits) != 1:
            wrong[f"{d['kind']}/{d['metadata']['name']}"] = hits
    check(not wrong, f"{p} every Deployment, StatefulSet, Service and PodDisruptionBudget selects the pods of exactly one Deployment or StatefulSet (wrong: {wrong})")

    # MariaDB durability settings for whoever runs the database.
    cms = {d["metadata"]["name"]: d for d in docs if d.get("kind") == "ConfigMap"}
    md = cms.get("mariadb-durability")
    cnf = "\n".join((md or {}).get("data", {}).values())
    settings = dict(re.findall(r"^\s*([a-z_]+)\s*=\s*(\S+)", cnf, re.M))
    check("[mysqld]" in cnf and settings.get("innodb_flush_log_at_trx_commit") == "1"
          and settings.get("sync_binlog") == "1",
          f"{p} ConfigMap mariadb-durability sets innodb_flush_log_at_trx_commit=1, sync_binlog=1")

    check_backup(env_name, docs, cms, secrets)
    check_network(env_name, docs)
    check_autoscaling(env_name, docs, want_replicas)
    check_identity(env_name, docs)
    if env_name == "dev":
        check_database_dev(docs)
        check_dev_plaintext(docs)
    else:
        check_prod_images_and_tls(docs)
    return docs, svcs


def check_autoscaling(env_name, docs, want_min):
    """One CPU HorizontalPodAutoscaler per Deployment, from the overlay's
    replica count up; CPU requests set (utilization is a share of them)."""
    p = f"[{env_name}/hpa]"
    hpas = [d for d in docs if d.get("kind") == "HorizontalPodAutoscaler"]
    for dep in (d for d in docs if d.get("kind") == "Deployment"):
        name = dep["metadata"]["name"]
        mine = [h for h in hpas if (h["spec"].get("scaleTargetRef") or {}).get("name") == name
                and h["spec"]["scaleTargetRef"].get("kind") == "Deployment"]
        check(len(mine) == 1 and mine[0]["apiVersion"] == "autoscaling/v2",
              f"{p} one autoscaling/v2 HorizontalPodAutoscaler scales Deployment {name}")
        spec = mine[0]["spec"]
        check(spec.get("minReplicas") == want_min == dep["spec"].get("replicas")
              and spec.get("maxReplicas", 0) > spec["minReplicas"],
              f"{p} {name}: from {want_min} replicas (as the Deployment) up to {spec.get('maxReplicas')}")
        cpu = [m for m in spec.get("metrics") or [] if (m.get("resource") or {}).get("name") == "cpu"]
        requests = [((c.get("resources") or {}).get("requests") or {}).get("cpu")
                    for c in dep["spec"]["template"]["spec"]["containers"]]
        check(cpu and all(requests), f"{p} {name} scales on CPU, and its containers request CPU")


def _peer_matches(peer, labels, namespace_labels):
    """Whether one NetworkPolicy peer (from/to entry) covers a pod."""
    if "ipBlock" in peer:
        return False
    ns_sel = peer.get("namespaceSelector")
    if ns_sel is None:
        ns_ok = namespace_labels.get("kubernetes.io/metadata.name") == "estate"
    else:
        ns_ok = all(namespace_labels.get(k) == v for k, v in (ns_sel.get("matchLabels") or {}).items())
    pod_sel = peer.get("podSelector")
    pod_ok = pod_sel is None or all(labels.get(k) == v for k, v in (pod_sel.get("matchLabels") or {}).items())
    return ns_ok and pod_ok


def _rule_allows(rule, key, labels, ns_labels, port):
    peers = rule.get(key)
    ports = rule.get("ports")
    peer_ok = not peers or any(_peer_matches(x, labels, ns_labels) for x in peers)
    port_ok = not ports or any(pt.get("port") == port for pt in ports)
    return peer_ok and port_ok


def network_allows(policies, src, dst, port, src_ns="estate", dst_ns="estate", ingress_only=False):
    """NetworkPolicy semantics for one TCP connection between two pods (label
    dicts): the destination's ingress and the source's egress must both
    allow it, where policies select the pod. ingress_only: what the
    destination's own policies admit, whatever the source's egress."""
    def ns(name):
        return {"kubernetes.io/metadata.name": name}

    def selected(pol, labels, namespace, kind):
        sel = pol["spec"].get("podSelector") or {}
        return (namespace == "estate" and kind in (pol["spec"].get("policyTypes") or [])
                and all(labels.get(k) == v for k, v in (sel.get("matchLabels") or {}).items()))

    ingress = [p for p in policies if selected(p, dst, dst_ns, "Ingress")]
    egress = [p for p in policies if selected(p, src, src_ns, "Egress")]
    in_ok = dst_ns != "estate" or (ingress and any(
        _rule_allows(r, "from", src, ns(src_ns), port) for p in ingress for r in p["spec"].get("ingress") or []))
    out_ok = ingress_only or src_ns != "estate" or (egress and any(
        _rule_allows(r, "to", dst, ns(dst_ns), port) for p in egress for r in p["spec"].get("egress") or []))
    return bool(in_ok) and bool(out_ok)


def check_network(env_name, docs):
    """Default deny, and exactly the calls the suite makes."""
    p = f"[{env_name}/network]"
    pols = [d for d in docs if d.get("kind") == "NetworkPolicy"]
    check(any(not (d["spec"].get("podSelector") or {}).get("matchLabels") and not d["spec"].get("ingress")
              and not d["spec"].get("egress") and set(d["spec"].get("policyTypes") or []) == {"Ingress", "Egress"}
              for d in pols), f"{p} a default-deny NetworkPolicy (all pods, ingress and egress)")
    pod = lambda name: {"app.kubernetes.io/name": name}
    ports = {name: grpc for name, (grpc, _) in SERVICES.items()}
    metrics = {name: m for name, (_, m) in SERVICES.items()}
    outbox = {("cleaning", "tickets"), ("handover", "billing"), ("handover", "archives"), ("handover", "tickets")}
    for callee, port in ports.items():
        check(network_allows(pols, pod("gateway"), pod(callee), port), f"{p} gateway -> {callee}:{port} allowed")
        for caller in list(SERVICES) + ["intruder", "estate-backup"]:
            if caller == callee:
                continue
            want = (caller, callee) in outbox
            # Refused by the callee's own ingress rules, not only by the
            # caller's egress.
            check(network_allows(pols, pod(caller), pod(callee), port, ingress_only=not want) == want,
                  f"{p} {caller} -> {callee}:{port} {'allowed (outbox)' if want else 'refused'}")
        check(not network_allows(pols, pod("intruder"), pod(callee), port, src_ns="other"),
              f"{p} a pod of another namespace -> {callee}:{port} refused")
        check(network_allows(pols, {"app.kubernetes.io/name": "prometheus"}, pod(callee), metrics[callee],
                             src_ns="monitoring"), f"{p} Prometheus (namespace monitoring) -> {callee}:{metrics[callee]} allowed")
        check(network_allows(pols, pod(callee), {"app": "mariadb"}, 3306, dst_ns="db"),
              f"{p} {callee} -> its database (3306) allowed")
    check(network_allows(pols, pod("estate-backup"), {"app": "mariadb"}, 3306, dst_ns="db"),
          f"{p} the backup job -> the database allowed")
    check(not network_allows(pols, pod("intruder"), {"app": "mariadb"}, 3306, dst_ns="db"),
          f"{p} an unlisted pod -> the database refused")
    dns = {"k8s-app": "kube-dns"}
    check(all(network_allows(pols, pod(n), dns, 53, dst_ns="kube-system") for n in list(SERVICES) + ["gateway", "estate-backup"]),
          f"{p} every pod may resolve names (kube-dns:53)")
    check(network_allows(pols, {"app": "ingress-nginx"}, pod("gateway"), 8080, src_ns="ingress-nginx")
          and network_allows(pols, {"app": "ingress-nginx"}, pod("gateway"), 9090, src_ns="ingress-nginx"),
          f"{p} the ingress controller -> gateway 8080 and 9090 allowed")


# Service identity: which keys of the Secret estate-identity-keys each
# workload mounts (README "Service identity"): a service its own key (it
# verifies the tokens addressed to it), plus the keys of the services its
# outbox calls (it signs those calls); the gateway every service's key.
IDENTITY_KEYS = {
    "tickets": {"tickets"},
    "billing": {"billing"},
    "archives": {"archives"},
    "cleaning": {"cleaning", "tickets"},
    "handover": {"handover", "billing", "archives", "tickets"},
    "gateway": {"tickets", "billing", "archives", "cleaning", "handover"},
}


def secret_refs(pod_spec):
    """(volume name, secret name, items or None) for every Secret a pod's volumes use."""
    refs = []
    for v in pod_spec.get("volumes") or []:
        if "secret" in v:
            refs.append((v["name"], v["secret"].get("secretName", ""), v["secret"].get("items")))
        for src in ((v.get("projected") or {}).get("sources") or []):
            if "secret" in src:
                refs.append((v["name"], src["secret"].get("name", ""), src["secret"].get("items")))
    return refs


def is_secret(ref_name, base_name, env_name):
    """A reference to base_name: the generated name in dev, the plain one in prod."""
    if env_name == "dev":
        return re.fullmatch(re.escape(base_name) + r"-[a-z0-9]+", ref_name) is not None
    return ref_name == base_name


def pod_workloads(docs):
    """(kind/name, pod spec) of every object that runs pods."""
    out = []
    for d in docs:
        k = d.get("kind")
        if k in ("Deployment", "StatefulSet", "Job", "DaemonSet"):
            out.append((f"{k}/{d['metadata']['name']}", d["spec"]["template"]["spec"]))
        elif k == "CronJob":
            out.append((f"{k}/{d['metadata']['name']}", d["spec"]["jobTemplate"]["spec"]["template"]["spec"]))
    return out


def check_identity(env_name, docs):
    """Each Deployment mounts exactly the identity keys it needs, where
    ESTATE_IDENTITY_KEYS_DIR says; nothing else reads the Secret."""
    p = f"[{env_name}/identity]"
    secrets = {d["metadata"]["name"]: d for d in docs if d.get("kind") == "Secret"}
    for name, want in IDENTITY_KEYS.items():
        dep = find(docs, "Deployment", name)
        pod = dep["spec"]["template"]["spec"]
        c = by_name(pod.get("containers")).get(name) or {}
        env = {e["name"]: e.get("value") for e in c.get("env") or []}
        refs = [r for r in secret_refs(pod) if is_secret(r[1], "estate-identity-keys", env_name)]
        check(len(refs) == 1, f"{p} {name} uses Secret estate-identity-keys in one volume (got {refs})")
        vol, sname, items = refs[0]
        paths = {i["key"]: i["path"] for i in items or []}
        check(items is not None and set(paths) == {f"{k}.key" for k in want}
              and all(v == k for k, v in paths.items()),
              f"{p} {name} mounts exactly the identity keys {sorted(want)}, as <service>.key (got {sorted(paths)})")
        mounts = [m for m in c.get("volumeMounts") or [] if m["name"] == vol]
        kdir = env.get("ESTATE_IDENTITY_KEYS_DIR") or ""
        check(len(mounts) == 1 and mounts[0].get("readOnly") is True and mounts[0]["mountPath"].rstrip("/") == kdir.rstrip("/")
              and kdir and not mounts[0].get("subPath"),
              f"{p} {name}: ESTATE_IDENTITY_KEYS_DIR={kdir} is where the keys are mounted, readOnly")
        if env_name == "dev":
            s = secrets.get(sname) or {}
            data = {k: base64.b64decode(v).decode().strip() for k, v in (s.get("data") or {}).items()}
            check(set(data) == {f"{k}.key" for k in IDENTITY_KEYS["gateway"]}
                  and all(len(v) >= 32 for v in data.values()) and len(set(data.values())) == len(data),
                  f"{p} dev Secret {sname}: one distinct key of >= 32 bytes per service (got {sorted(data)})")
    # Only the workloads above see any identity key.
    others = [w for w, pod in pod_workloads(docs)
              if w.split("/", 1)[1] not in IDENTITY_KEYS or not w.startswith("Deployment/")
              for r in secret_refs(pod) if is_secret(r[1], "estate-identity-keys", env_name)]
    check(not others, f"{p} no other workload mounts estate-identity-keys (got {others})")
    if env_name == "prod":
        check("estate-identity-keys" not in secrets, f"{p} prod renders no identity keys (the operator creates them)")


def flag_default(name):
    """The default of an int flag of services/kit (ABSL_FLAG(int, name, N, ...))."""
    for f in glob.glob("services/kit/*.cc"):
        with open(f) as fh:
            m = re.search(r"ABSL_FLAG\(\s*int\s*,\s*" + name + r"\s*,\s*(\d+)\s*,", fh.read())
        if m:
            return int(m.group(1))
    return None


def env_of(c, cms):
    """A container's ESTATE_* settings: envFrom ConfigMaps, then env values."""
    out = {}
    for e in c.get("envFrom") or []:
        out.update(((cms.get((e.get("configMapRef") or {}).get("name")) or {}).get("data")) or {})
    out.update({e["name"]: e["value"] for e in c.get("env") or [] if "value" in e})
    return out


def check_database_dev(docs):
    """The dev overlay runs MariaDB and the Job that creates the schemas and
    users, from the SQL tools/up runs; the server is sized for the pools."""
    p = "[dev/db]"
    cms = {d["metadata"]["name"]: d for d in docs if d.get("kind") == "ConfigMap"}
    secrets = {d["metadata"]["name"]: d for d in docs if d.get("kind") == "Secret"}
    sts = find(docs, "StatefulSet", "mariadb")
    check(sts is not None and sts["spec"].get("replicas", 1) == 1, f"{p} one StatefulSet mariadb, 1 replica")
    pod = sts["spec"]["template"]["spec"]
    c = pod["containers"][0]
    vcts = {v["metadata"]["name"]: v for v in sts["spec"].get("volumeClaimTemplates") or []}
    data_mounts = [m for m in c.get("volumeMounts") or [] if m["mountPath"].rstrip("/") == "/var/lib/mysql"]
    check(len(data_mounts) == 1 and data_mounts[0]["name"] in vcts
          and (vcts[data_mounts[0]["name"]]["spec"].get("resources") or {}).get("requests", {}).get("storage"),
          f"{p} /var/lib/mysql is a volumeClaimTemplate with a storage request")
    # Server settings: every file mounted into /etc/mysql/conf.d, from
    # rendered ConfigMaps.
    vols = by_name(pod.get("volumes"))
    cnf = {}
    for m in c.get("volumeMounts") or []:
        if not m["mountPath"].startswith("/etc/mysql/conf.d/"):
            continue
        cm = cms.get(((vols.get(m["name"]) or {}).get("configMap") or {}).get("name"))
        check(cm is not None and m.get("subPath") in (cm.get("data") or {}),
              f"{p} {m['mountPath']} is a key of a rendered ConfigMap")
        for k, v in re.findall(r"^\s*([a-z_-]+)\s*=\s*(\S+)", cm["data"][m["subPath"]], re.M):
            cnf[k.replace("-", "_")] = v
    check(cnf.get("innodb_flush_log_at_trx_commit") == "1" and cnf.get("sync_binlog") == "1",
          f"{p} the server runs with the durability settings (mariadb-durability)")
    check(cnf.get("default_time_zone") == "+00:00" and cnf.get("character_set_server") == "utf8mb4",
          f"{p} the server runs in UTC with utf8mb4, as tools/db's")

    # The Service the services reach: ESTATE_DB_HOST of the shared settings.
    svc = find(docs, "Service", "mariadb")
    labels = sts["spec"]["template"]["metadata"].get("labels") or {}
    check(svc is not None and sts["spec"].get("serviceName") == "mariadb"
          and all(labels.get(k) == v for k, v in (svc["spec"].get("selector") or {}).items())
          and any(pt.get("port") == 3306 for pt in svc["spec"].get("ports") or []),
          f"{p} Service mariadb (port 3306) selects the MariaDB pod, the StatefulSet's serviceName")
    host = f"{svc['metadata']['name']}.{svc['metadata']['namespace']}.svc"

    # Connections: at the HPAs' maximum, plus a surge pod per rolling update,
    # the pools fit under max_connections with the backup, the setup Job and
    # headroom.
    pool_default, cache_default = flag_default("db_pool_size"), flag_default("db_statement_cache")
    check(pool_default and cache_default, f"{p} the defaults of --db_pool_size ({pool_default}) and --db_statement_cache ({cache_default}) are read from services/kit")
    hpas = {h["spec"]["scaleTargetRef"]["name"]: h for h in docs if h.get("kind") == "HorizontalPodAutoscaler"}
    pools, stmts, parts = 0, 0, []
    for name in SERVICES:
        dep = find(docs, "Deployment", name)
        dc = by_name(dep["spec"]["template"]["spec"]["containers"]).get(name)
        settings = env_of(dc, cms)
        check(settings.get("ESTATE_DB_HOST") == host, f"{p} {name} connects to {host} (ESTATE_DB_HOST {settings.get('ESTATE_DB_HOST')})")
        pool = int(settings.get("ESTATE_DB_POOL_SIZE") or pool_default)
        cache = int(settings.get("ESTATE_DB_STATEMENT_CACHE") or cache_default)
        surge = ((dep["spec"].get("strategy") or {}).get("rollingUpdate") or {}).get("maxSurge", 1)
        check(isinstance(surge, int), f"{p} {name} maxSurge is a pod count ({surge})")
        pods = hpas[name]["spec"]["maxReplicas"] + surge
        pools += pods * pool
        stmts += pods * pool * cache
        parts.append(f"{name} {pods}x{pool}")
    backup, setup, headroom = 1, 1, 10
    max_conn = int(cnf.get("max_connections", 151))
    need = pools + backup + setup + headroom
    check(need <= max_conn,
          f"{p} pools at the HPA maximum plus surge ({' + '.join(parts)} = {pools}) + backup {backup} + setup Job {setup} "
          f"+ headroom {headroom} = {need} <= max_connections {max_conn}")
    max_stmt = int(cnf.get("max_prepared_stmt_count", 16382))
    check(stmts <= max_stmt, f"{p} prepared statements of those pools ({stmts}) <= max_prepared_stmt_count {max_stmt}")

    # The setup Job: the SQL of tools/up, byte for byte.
    job = find(docs, "Job", "estate-db-setup")
    check(job is not None, f"{p} one Job estate-db-setup")
    jpod = job["spec"]["template"]["spec"]
    jc = jpod["containers"][0]
    jvols = by_name(jpod.get("volumes"))
    jmounts = {m["mountPath"]: m["name"] for m in jc.get("volumeMounts") or []}
    script_cm = cms.get(((jvols.get(jmounts.get("/opt/estate")) or {}).get("configMap") or {}).get("name"))
    script = "k8s/db/estate-db-users.sh"
    with open(script) as f:
        check(script_cm is not None and (script_cm.get("data") or {}).get("estate-db-users.sh") == f.read(),
              f"{p} the Job mounts {script} as it is in git")
    with open("tools/up") as f:
        up = f.read()
    check("k8s/db/estate-db-users.sh" in up and not re.search(r"CREATE\s+USER|GRANT\s", up, re.I),
          f"{p} tools/up runs {script} and has no account SQL of its own")
    cmd = " ".join(jc.get("command") or []) + " ".join(jc.get("args") or [])
    loops = re.findall(r"for svc in ([a-z ]+); do", cmd)
    check(len(loops) == 1 and sorted(loops[0].split()) == sorted(SERVICES) and "estate-db-users.sh service %" in cmd
          and "estate-db-users.sh backup %" in cmd,
          f"{p} the Job runs {script} for host % for every service ({loops}) and the backup user")
    # The password files it reads, /var/run/secrets/estate/db-users/<name>/password,
    # are key password of the services' (and the backup's) Secrets.
    srcs = {}
    for mount, vname in jmounts.items():
        m = re.fullmatch(r"/var/run/secrets/estate/db-users/([a-z]+)/?", mount)
        sec = (jvols.get(vname) or {}).get("secret") or {}
        items = {i["path"]: i["key"] for i in sec.get("items") or []}
        if m and sec:
            srcs[m.group(1)] = (sec.get("secretName", ""), items.get("password") if items else "password")
    check('"$users/$svc/password"' in cmd and '"$users/backup/password"' in cmd
          and "users=/var/run/secrets/estate/db-users" in cmd,
          f"{p} the Job reads the passwords from /var/run/secrets/estate/db-users/<name>/password")
    want = {n: f"estate-{n}-db" for n in list(SERVICES) + ["backup"]}
    check(set(srcs) == set(want) and all(is_secret(srcs[n][0], s, "dev") and srcs[n][1] == "password"
                                         and srcs[n][0] in secrets for n, s in want.items()),
          f"{p} the Job's password files are key password of the rendered estate-<name>-db Secrets (got {srcs})")
    root_ref = next((((e.get("valueFrom") or {}).get("secretKeyRef") or {}) for e in jc.get("env") or [] if e["name"] == "MYSQL_PWD"), {})
    sts_root = next((((e.get("valueFrom") or {}).get("secretKeyRef") or {}) for e in c.get("env") or [] if e["name"] == "MARIADB_ROOT_PASSWORD"), {})
    check(root_ref and root_ref == sts_root and root_ref.get("name") in secrets,
          f"{p} the Job logs in with the root password the server was given ({root_ref.get('name')})")
    check(env_of(jc, cms).get("ESTATE_DB_HOST") == host, f"{p} the Job connects to {host}")

    # What the script prints: for each service its schema and user, with
    # grants on that schema only; quotes in a password cannot end the string.
    with open(f"{tmp}/pw", "w") as f:
        f.write("it's a \\secret\n")
    for name in SERVICES:
        schema = f"estate_{name}"
        r = subprocess.run(["bash", script, "service", "%", schema, f"{tmp}/pw"], capture_output=True, text=True)
        sql = r.stdout
        grants = re.findall(r"^GRANT .* ON (\S+) TO (\S+);$", sql, re.M)
        check(r.returncode == 0 and f"CREATE DATABASE IF NOT EXISTS `{schema}`" in sql
              and f"CREATE USER IF NOT EXISTS '{schema}'@'%' IDENTIFIED BY 'it\\'s a \\\\secret';" in sql
              and grants == [(f"`{schema}`.*", f"'{schema}'@'%'")],
              f"{p} {script} service % {schema}: the schema, its user, grants on it only")
    r = subprocess.run(["bash", script, "service", "%' OR '1", "estate_x", f"{tmp}/pw"], capture_output=True, text=True)
    check(r.returncode != 0 and not r.stdout, f"{p} {script} refuses a host it cannot quote")

    # Network: the database takes the services, the backup and the Job only.
    pols = [d for d in docs if d.get("kind") == "NetworkPolicy"]
    for src in list(SERVICES) + ["estate-backup", "estate-db-setup"]:
        check(network_allows(pols, {"app.kubernetes.io/name": src}, labels, 3306),
              f"{p} {src} -> mariadb:3306 allowed")
    for src in ("gateway", "intruder"):
        check(not network_allows(pols, {"app.kubernetes.io/name": src}, labels, 3306, ingress_only=True),
              f"{p} {src} -> mariadb:3306 refused (by the database's own policy)")


IMAGE_PINNED = re.compile(r"[^@:\s]+(?::\d+)?(?:/[^@:\s]+)*(?::[\w][\w.-]*)?@sha256:[0-9a-f]{64}")


def check_prod_images_and_tls(docs):
    """Prod: every image pinned by digest; TLS between processes and to the
    database on every workload; no database of its own."""
    p = "[prod]"
    for w, pod in pod_workloads(docs):
        for c in (pod.get("initContainers") or []) + (pod.get("containers") or []):
            img = c.get("image", "")
            check(IMAGE_PINNED.fullmatch(img) and not re.search(r":latest@", img),
                  f"{p} {w} container {c['name']} image is pinned by digest, not :latest (got {img})")
    check(find(docs, "StatefulSet", "mariadb") is None and find(docs, "Job", "estate-db-setup") is None,
          f"{p} no in-cluster MariaDB or setup Job (prod uses an external database)")
    cms = {d["metadata"]["name"]: d for d in docs if d.get("kind") == "ConfigMap"}

    def file_from_secret(pod, c, path, secret, key):
        vols = by_name(pod.get("volumes"))
        for m in c.get("volumeMounts") or []:
            mp = m["mountPath"].rstrip("/")
            if not path.startswith(mp + "/"):
                continue
            sec = (vols.get(m["name"]) or {}).get("secret") or {}
            rel = path[len(mp) + 1:]
            items = {i["path"]: i["key"] for i in sec.get("items") or []}
            return (sec.get("secretName") == secret and (items.get(rel) if items else rel) == key
                    and m.get("readOnly") is True)
        return False

    for name in list(SERVICES) + ["gateway"]:
        dep = find(docs, "Deployment", name)
        pod = dep["spec"]["template"]["spec"]
        c = by_name(pod.get("containers")).get(name)
        env = env_of(c, cms)
        for var, key in (("ESTATE_TLS_CERT", "tls.crt"), ("ESTATE_TLS_KEY", "tls.key"), ("ESTATE_TLS_CA", "ca.crt")):
            check(file_from_secret(pod, c, env.get(var) or "", f"estate-{name}-internal-tls", key),
                  f"{p} {name}: {var}={env.get(var)} is key {key} of Secret estate-{name}-internal-tls, mounted readOnly")
        if name in SERVICES:
            check(file_from_secret(pod, c, env.get("ESTATE_DB_TLS_CA") or "", "estate-db-tls", "ca.crt"),
                  f"{p} {name}: ESTATE_DB_TLS_CA={env.get('ESTATE_DB_TLS_CA')} is key ca.crt of Secret estate-db-tls, mounted readOnly")
            check(env.get("ESTATE_DB_HOST") not in (None, "", "127.0.0.1", "localhost", "mariadb.estate.svc"),
                  f"{p} {name}: ESTATE_DB_HOST names the external database ({env.get('ESTATE_DB_HOST')})")
    cj = find(docs, "CronJob", "estate-backup")
    pod = cj["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    c = pod["containers"][0]
    env = env_of(c, cms)
    check(file_from_secret(pod, c, env.get("ESTATE_DB_TLS_CA") or "", "estate-db-tls", "ca.crt")
          and "ESTATE_DB_TLS_CA" in " ".join(c.get("command") or []),
          f"{p} the backup CronJob reaches the database over TLS too (ESTATE_DB_TLS_CA, used by its command)")


def check_dev_plaintext(docs):
    cms = {d["metadata"]["name"]: d for d in docs if d.get("kind") == "ConfigMap"}
    on = [d["metadata"]["name"] for d in docs if d.get("kind") == "Deployment"
          for c in d["spec"]["template"]["spec"]["containers"]
          if any(k.startswith("ESTATE_TLS_") or k.startswith("ESTATE_DB_TLS_") for k in env_of(c, cms))]
    check(not on, f"[dev] no TLS settings in dev (plaintext, as tools/up) (set on: {on})")


def check_backup(env_name, docs, cms, secrets):
    """The nightly backup CronJob runs tools/backup's procedure onto its volume."""
    p = f"[{env_name}/backup]"
    cj = find(docs, "CronJob", "estate-backup")
    check(cj is not None and cj["apiVersion"] == "batch/v1", f"{p} one batch/v1 CronJob estate-backup")
    spec = cj["spec"]
    check(spec.get("concurrencyPolicy") == "Forbid", f"{p} backups never overlap (concurrencyPolicy Forbid)")
    pod = spec["jobTemplate"]["spec"]["template"]["spec"]
    vols = by_name(pod.get("volumes"))
    c = pod["containers"][0]
    mounts = {m["mountPath"]: m["name"] for m in c.get("volumeMounts") or []}
    # The mounted script is the one tools/backup runs, byte for byte.
    script_cm = cms.get(((vols.get(mounts.get("/opt/estate")) or {}).get("configMap") or {}).get("name"))
    with open("k8s/base/backup/estate-backup.sh") as f:
        check(script_cm is not None and script_cm["data"].get("estate-backup.sh") == f.read(),
              f"{p} the CronJob runs k8s/base/backup/estate-backup.sh, the procedure of tools/backup")
    check("estate-backup.sh" in " ".join(c.get("command") or []), f"{p} the container's command runs estate-backup.sh")
    claim = ((vols.get(mounts.get("/backups")) or {}).get("persistentVolumeClaim") or {}).get("claimName")
    check(find(docs, "PersistentVolumeClaim", claim) is not None, f"{p} /backups is the PersistentVolumeClaim {claim}, rendered")
    env = by_name(c.get("env"))
    ref = ((env.get("MYSQL_PWD") or {}).get("valueFrom") or {}).get("secretKeyRef") or {}
    if env_name == "dev":
        check(ref.get("name") in secrets and ref.get("key") in secrets[ref["name"]].get("data", {}),
              f"{p} the backup password comes from a rendered Secret ({ref.get('name')})")
    else:
        check(ref.get("name") == "estate-backup-db", f"{p} the backup password comes from the pre-existing Secret estate-backup-db")
    sc = c.get("securityContext") or {}
    check(sc.get("readOnlyRootFilesystem") and sc.get("allowPrivilegeEscalation") is False
          and (pod.get("securityContext") or {}).get("runAsNonRoot"),
          f"{p} the backup runs as non-root, read-only root filesystem, no privilege escalation")


def parse_size(text):
    """nginx size ("4m", "512k", "1048576") in bytes; None if unparseable."""
    m = re.fullmatch(r"(\d+)([kKmMgG]?)", str(text or ""))
    if not m:
        return None
    return int(m.group(1)) * {"": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30}[m.group(2).lower()]


def ingress_path_matches(path_rule, request_path):
    """Whether an Ingress path (Exact/Prefix) would route request_path."""
    path, kind = path_rule.get("path", "/"), path_rule.get("pathType")
    if kind == "Exact":
        return request_path == path
    # Prefix (and, conservatively, ImplementationSpecific): element-wise prefix.
    want = [e for e in path.split("/") if e]
    have = [e for e in request_path.split("/") if e]
    return have[:len(want)] == want


# The services and their gRPC ports (DESIGN.md, "Running").
BACKEND_PORTS = {"billing": 50051, "tickets": 50052, "archives": 50053, "handover": 50054, "cleaning": 50055}


def check_gateway(env_name, docs, want_replicas, svcs):
    p = f"[{env_name}]"
    dep = find(docs, "Deployment", "gateway")
    check(dep is not None, f"{p} exactly one Deployment named gateway")
    check(dep["metadata"].get("namespace") == "estate", f"{p} Deployment gateway is in namespace estate")
    check((dep["metadata"].get("labels") or {}).get("app.kubernetes.io/part-of") == "estate",
          f"{p} Deployment gateway labelled app.kubernetes.io/part-of=estate")
    spec, tmpl = dep["spec"], dep["spec"]["template"]
    pod = tmpl["spec"]
    pod_labels = tmpl["metadata"].get("labels") or {}
    check(selects(spec.get("selector"), pod_labels), f"{p} gateway selector matches its pod labels")
    check(pod_labels.get("app.kubernetes.io/part-of") == "estate", f"{p} gateway pods labelled app.kubernetes.io/part-of=estate")
    check(spec.get("replicas") == want_replicas, f"{p} gateway replicas == {want_replicas} (got {spec.get('replicas')})")
    ru = (spec.get("strategy") or {}).get("rollingUpdate") or {}
    check(spec.get("strategy", {}).get("type") == "RollingUpdate" and ru.get("maxUnavailable") == 0,
          f"{p} gateway rolling update with maxUnavailable 0")
    # Pod selectors must not overlap: each Service/PDB finds only its own pods.
    for name in svcs:
        sdep = find(docs, "Deployment", name)
        check(not selects(spec.get("selector"), sdep["spec"]["template"]["metadata"].get("labels") or {})
              and not selects(sdep["spec"].get("selector"), pod_labels),
              f"{p} gateway and {name} selectors do not select each other's pods")

    c = by_name(pod.get("containers")).get("gateway")
    check(c is not None, f"{p} container gateway")
    ports = {pt.get("name"): pt.get("containerPort") for pt in c.get("ports") or []}
    check(ports.get("http") == 8080 and ports.get("grpc") == 9090, f"{p} gateway container ports http 8080, grpc 9090 (got {ports})")
    image = c.get("image", "")
    want_image = r"estate/gateway:dev" if env_name == "dev" else r"estate/gateway([:@].+)?"
    check(re.fullmatch(want_image, image), f"{p} gateway image matches {want_image} (got {image})")

    # Probes: all on the gateway's own /healthz over HTTP. Never /readyz (503
    # while any backend is down) for liveness or readiness: one backend outage
    # would take every gateway pod out of the Service, or restart them all.
    def probe_path(pr):
        hg = (pr or {}).get("httpGet") or {}
        return hg.get("path"), hg.get("port")
    for kind in ("readinessProbe", "livenessProbe"):
        path, port = probe_path(c.get(kind))
        check(path == "/healthz" and port in ("http", 8080),
              f"{p} gateway {kind} is httpGet /healthz on the http port (got {path} on {port})")
    sp = c.get("startupProbe")
    check(sp is None or probe_path(sp)[0] != "/readyz", f"{p} gateway startupProbe does not use /readyz")

    # Security and resources, as for the services.
    psc, csc = pod.get("securityContext") or {}, c.get("securityContext") or {}
    eff = lambda k: csc.get(k, psc.get(k))
    check(eff("runAsNonRoot") is True and eff("runAsUser") == 65532, f"{p} gateway runs as non-root 65532")
    check(csc.get("readOnlyRootFilesystem") is True and csc.get("allowPrivilegeEscalation") is False
          and "ALL" in ((csc.get("capabilities") or {}).get("drop") or [])
          and ((eff("seccompProfile") or {}).get("type")) == "RuntimeDefault",
          f"{p} gateway readOnlyRootFilesystem, no privilege escalation, drops ALL, seccomp RuntimeDefault")
    check(pod.get("automountServiceAccountToken") is False and pod.get("enableServiceLinks") is False,
          f"{p} gateway pods: no service account token, no service links")
    res = c.get("resources") or {}
    check((res.get("requests") or {}).get("cpu") and (res.get("requests") or {}).get("memory")
          and (res.get("limits") or {}).get("memory"), f"{p} gateway resources: requests cpu/memory, limits memory")

    env = {e["name"]: e for e in c.get("env") or []}
    val = lambda n: (env.get(n) or {}).get("value")
    check(val("ESTATE_HTTP_ADDR") == "0.0.0.0:8080", f"{p} ESTATE_HTTP_ADDR=0.0.0.0:8080")
    check(val("ESTATE_GRPC_ADDR") == "0.0.0.0:9090", f"{p} ESTATE_GRPC_ADDR=0.0.0.0:9090")

    # Backends: name=dns:///<name>.estate.svc.cluster.local:<port>, each entry
    # exactly as the binary splits it (no spaces), and the target of each
    # service deployed here is its rendered headless Service.
    raw = val("ESTATE_BACKENDS") or ""
    entries = raw.split(",")
    backends = dict(e.split("=", 1) for e in entries if "=" in e)
    check(len(backends) == len(entries) and all(k == k.strip() and v == v.strip() for k, v in backends.items()),
          f"{p} ESTATE_BACKENDS is a plain name=target,... list (got {raw!r})")
    check(set(backends) == set(BACKEND_PORTS), f"{p} ESTATE_BACKENDS lists {sorted(BACKEND_PORTS)} (got {sorted(backends)})")
    bad = {k: v for k, v in backends.items()
           if v != f"dns:///{k}.estate.svc.cluster.local:{BACKEND_PORTS[k]}"}
    check(not bad, f"{p} every backend target is dns:///<name>.estate.svc.cluster.local:<port> (wrong: {bad})")
    for name, ssvc in svcs.items():
        sports = {pt["name"]: pt["port"] for pt in ssvc["spec"]["ports"]}
        check(ssvc["spec"].get("clusterIP") == "None"
              and backends.get(name) == f"dns:///{ssvc['metadata']['name']}.{ssvc['metadata']['namespace']}.svc.cluster.local:{sports['grpc']}",
              f"{p} the {name} backend target is the headless {name} Service's grpc port (got {backends.get(name)})")

    grace = seconds(val("ESTATE_SHUTDOWN_GRACE") or "10s")
    deadline = seconds(val("ESTATE_UPSTREAM_DEADLINE") or "10s")
    tgps = pod.get("terminationGracePeriodSeconds", 30)
    check(grace is not None and deadline is not None and deadline <= grace < tgps,
          f"{p} gateway upstream deadline ({deadline}s) <= shutdown grace ({grace}s) < terminationGracePeriodSeconds ({tgps})")

    # Credentials: files from the Secret estate-gateway-auth on a read-only
    # mount; nothing secret in the environment.
    check(not [n for n in env if n in ("ESTATE_JWT_HS256_SECRET", "ESTATE_API_KEYS")]
          and not [n for n, e in env.items() if "secretKeyRef" in (e.get("valueFrom") or {})],
          f"{p} no gateway credentials in environment variables")
    secrets = {d["metadata"]["name"]: d for d in docs if d.get("kind") == "Secret"}
    volumes = by_name(pod.get("volumes"))
    auth_vols = {n: v["secret"] for n, v in volumes.items()
                 if "secret" in v and re.fullmatch(r"estate-gateway-auth(-[a-z0-9]+)?", v["secret"].get("secretName", ""))}
    check(len(auth_vols) == 1, f"{p} gateway has one volume of Secret estate-gateway-auth (got {sorted(auth_vols)})")
    vol_name, vsec = next(iter(auth_vols.items()))
    sname = vsec.get("secretName", "")
    if env_name == "dev":
        s = secrets.get(sname)
        check(s is not None and re.fullmatch(r"estate-gateway-auth-[a-z0-9]+", sname)
              and s["metadata"].get("namespace") == "estate"
              and (s["metadata"].get("labels") or {}).get("app.kubernetes.io/part-of") == "estate",
              f"{p} gateway volume uses the generated Secret estate-gateway-auth (ref {sname}), labelled part-of=estate")
        data = {k: base64.b64decode(v).decode() for k, v in (s.get("data") or {}).items()}
        data.update(s.get("stringData") or {})
        check(len(data.get("jwt-hs256-secret", "").strip()) >= 32,
              f"{p} dev jwt-hs256-secret is at least 32 bytes (the gateway refuses shorter)")
        keys_doc = json.loads(data.get("api-keys.json", "null"))
        check(isinstance(keys_doc, dict) and isinstance(keys_doc.get("api_keys"), list),
              f"{p} dev api-keys.json is {{\"api_keys\": [...]}}")
    else:
        check(sname == "estate-gateway-auth", f"{p} gateway volume uses Secret estate-gateway-auth (ref {sname})")
    check(not vsec.get("optional"), f"{p} Secret estate-gateway-auth is not optional (pods wait for it)")
    mounts = [m for m in c.get("volumeMounts") or [] if m["name"] == vol_name]
    check(len(mounts) == 1 and mounts[0].get("readOnly") is True,
          f"{p} Secret estate-gateway-auth mounted once, readOnly")
    mount = mounts[0]["mountPath"].rstrip("/")
    items = {i["path"]: i["key"] for i in vsec.get("items") or []}
    for flag, key in (("ESTATE_JWT_HS256_SECRET_FILE", "jwt-hs256-secret"), ("ESTATE_API_KEYS_FILE", "api-keys.json")):
        f = val(flag) or ""
        rel = f[len(mount) + 1:] if f.startswith(mount + "/") else None
        got = (items.get(rel) if items else rel) if rel else None
        check(got == key, f"{p} {flag}={f} is key {key} of the mounted Secret")
    # Every *_FILE the gateway is given must exist, or it refuses to start: in
    # dev, each must be a key of the generated Secret.
    if env_name == "dev":
        file_keys = [val(n)[len(mount) + 1:] for n in env if n.endswith("_FILE") and (val(n) or "").startswith(mount + "/")]
        check(all(k in (secrets[sname].get("data") or {}) for k in file_keys),
              f"{p} every gateway *_FILE under {mount} is a key of the dev Secret ({file_keys})")

    cm_names = [((e.get("configMapRef") or {}).get("name")) for e in c.get("envFrom") or []]
    cms = {d["metadata"]["name"] for d in docs if d.get("kind") == "ConfigMap"}
    check(cm_names and all(n in cms for n in cm_names), f"{p} gateway envFrom ConfigMaps are rendered ({cm_names})")
    ann = tmpl["metadata"].get("annotations") or {}
    check(ann.get("prometheus.io/scrape") == "true" and ann.get("prometheus.io/port") == "8080"
          and ann.get("prometheus.io/path") == "/metrics", f"{p} prometheus.io scrape annotations on gateway pods")

    # Service: ClusterIP with both ports, onto the container's ports.
    svc = find(docs, "Service", "gateway")
    check(svc is not None, f"{p} Service gateway")
    ss = svc["spec"]
    check(ss.get("type", "ClusterIP") == "ClusterIP" and ss.get("clusterIP") != "None",
          f"{p} Service gateway is a ClusterIP Service")
    sports = {pt.get("name"): pt for pt in ss.get("ports") or []}
    def target_ok(pt, cname):
        t = pt.get("targetPort", pt.get("port"))
        return t == cname or t == ports.get(cname)
    check(sports.get("http", {}).get("port") == 8080 and sports.get("grpc", {}).get("port") == 9090
          and target_ok(sports["http"], "http") and target_ok(sports["grpc"], "grpc"),
          f"{p} Service gateway ports http 8080 -> http, grpc 9090 -> grpc")
    sel = ss.get("selector") or {}
    check(sel and all(pod_labels.get(k) == v for k, v in sel.items()), f"{p} Service gateway selector matches the gateway pods")
    for name in svcs:
        labels = find(docs, "Deployment", name)["spec"]["template"]["metadata"].get("labels") or {}
        check(not all(labels.get(k) == v for k, v in sel.items()), f"{p} Service gateway does not select the {name} pods")

    # PodDisruptionBudget.
    pdbs = [d for d in docs if d.get("kind") == "PodDisruptionBudget" and selects(d["spec"].get("selector"), pod_labels)]
    check(len(pdbs) == 1 and pdbs[0]["apiVersion"] == "policy/v1" and pdbs[0]["metadata"]["name"] == "gateway",
          f"{p} one policy/v1 PodDisruptionBudget (gateway) selects the gateway pods")
    check(pdbs[0]["spec"].get("minAvailable") == 1, f"{p} gateway PodDisruptionBudget minAvailable 1")

    # Ingresses: networking.k8s.io/v1, onto Service gateway.
    ings = [d for d in docs if d.get("kind") == "Ingress"]
    check(ings and all(i["apiVersion"] == "networking.k8s.io/v1" and i["metadata"].get("namespace") == "estate"
                       and (i["metadata"].get("labels") or {}).get("app.kubernetes.io/part-of") == "estate" for i in ings),
          f"{p} Ingresses are networking.k8s.io/v1 in namespace estate, labelled part-of=estate")
    routes = []  # (ingress, path rule, service port name or number)
    for i in ings:
        for rule in i["spec"].get("rules") or []:
            for pr in ((rule.get("http") or {}).get("paths") or []):
                b = (pr.get("backend") or {}).get("service") or {}
                port = (b.get("port") or {}).get("name") or (b.get("port") or {}).get("number")
                routes.append((i, pr, b.get("name"), port))
    svc_ports = set(sports) | {pt.get("port") for pt in sports.values()}
    check(routes and all(svc_name == "gateway" and port in svc_ports for _, _, svc_name, port in routes),
          f"{p} every Ingress path points at a port of Service gateway")
    http_routes = [(i, pr) for i, pr, _, port in routes if port in ("http", 8080)]
    grpc_routes = [(i, pr) for i, pr, _, port in routes if port in ("grpc", 9090)]
    check(any(ingress_path_matches(pr, "/v1/sites/demo/tickets") for _, pr in http_routes)
          and any(ingress_path_matches(pr, "/openapi.json") for _, pr in http_routes),
          f"{p} an Ingress routes /v1/... and /openapi.json to the gateway's http port")
    exposed = [path for path in ("/metrics", "/healthz", "/readyz")
               if any(ingress_path_matches(pr, path) for _, pr in http_routes)]
    check(not exposed, f"{p} no Ingress publishes the gateway's {exposed or '/metrics, /healthz, /readyz'}")
    grpc_ings = {id(i): i for i, _ in grpc_routes}.values()
    check(grpc_ings and all((i["metadata"].get("annotations") or {}).get("nginx.ingress.kubernetes.io/backend-protocol") == "GRPC"
                            and i["spec"].get("tls") for i in grpc_ings),
          f"{p} the gRPC Ingress has backend-protocol GRPC and TLS")
    check(not [i for i, _ in http_routes if (i["metadata"].get("annotations") or {}).get("nginx.ingress.kubernetes.io/backend-protocol")
               not in (None, "HTTP")], f"{p} the HTTP Ingress is not marked GRPC")
    grpc_hosts = {r.get("host") for i in grpc_ings for r in i["spec"]["rules"]}
    http_hosts = {r.get("host") for i, _ in http_routes for r in i["spec"]["rules"]}
    check(None not in grpc_hosts and not (grpc_hosts & http_hosts), f"{p} gRPC and HTTP Ingresses use distinct hosts ({grpc_hosts} vs {http_hosts})")
    max_body = int(val("ESTATE_MAX_BODY_BYTES") or 4 << 20)
    small = [i["metadata"]["name"] for i in ings
             if (parse_size((i["metadata"].get("annotations") or {}).get("nginx.ingress.kubernetes.io/proxy-body-size")) or 1 << 20) < max_body]
    check(not small, f"{p} Ingress proxy-body-size >= ESTATE_MAX_BODY_BYTES ({max_body}) (too small: {small})")
    return svc


# The metric families the services and the gateway export, read from their
# C++ (prometheus::Build*().Name("...") into a member), with whether any of
# their series carries a `site` label (the member's .Add({{"site", ...}...})
# in any file of the same directory).
# Whether the dashboards' and rules' names are real is checked against a
# running suite by tests/e2e/prometheus_check.py (ctest prometheus_e2e_test).
def cpp_metric_families():
    families = {}
    for d in glob.glob("services/*/") + ["gateway/"]:
        src = ""  # a family is built in one file of the directory, filled in others
        for path in sorted(glob.glob(f"{d}*.cc")):
            with open(path) as fh:
                src += fh.read()
        for member, name in re.findall(r"\b(\w+)\(\s*prometheus::Build\w+\(\)\s*\.Name\(\"(\w+)\"\)", src):
            site = bool(re.search(r"\b%s\.Add\(\s*\{\s*\{\s*\"site\"" % re.escape(member), src))
            families[name] = families.get(name, False) or site
    return families


from promql import duration_seconds, rate_windows, selectors  # noqa: E402

PROMQL_KEYWORDS = {"by", "without", "on", "ignoring", "group_left", "group_right", "bool", "and", "or",
                   "unless", "offset", "inf", "nan"}


def promql_metric_names(expr):
    """Metric names in a PromQL expression (Grafana variables allowed)."""
    e = re.sub(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'|`[^`]*`', '""', expr)  # string literals
    e = re.sub(r"\{[^}]*\}", " ", e)  # label matchers
    e = re.sub(r"\[[^\]]*\]", " ", e)  # ranges, subqueries
    e = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", " ", e)  # label lists
    e = re.sub(r"\$\{?\w+(:\w+)?\}?", " ", e)  # Grafana variables
    names = set()
    for m in re.finditer(r"(?<![\w.:])([A-Za-z_:][\w:]*)(\s*\()?", e):
        if not m.group(2) and m.group(1).lower() not in PROMQL_KEYWORDS:  # not a function call
            names.add(m.group(1))
    return names


def grafana_to_promql(expr):
    """Substitutes Grafana variables so promtool can parse the expression."""
    expr = re.sub(r"\$(__\w+|\{__\w+\})", "5m", expr)  # $__rate_interval, $__range, ...
    return re.sub(r"\$\{\w+(:\w+)?\}|\$\w+", "x", expr)


def check_dashboard_scoping(dashboards, exprs):
    """Namespace, site, rate windows and links: what makes the dashboards work
    in a cluster of many namespaces and sites, and between each other."""
    p = "[dashboards]"
    uids = {d.get("uid") for d in dashboards.values()}
    families = cpp_metric_families()
    site_metrics = {m for m, site in families.items() if site}
    check(len(site_metrics) >= 10 and "estate_billing_collection_ratio" in site_metrics
          and "estate_archives_keys_out" in site_metrics and "estate_db_up" not in site_metrics,
          f"{p} the metrics with a site label, read from the C++: {sorted(site_metrics)}")
    for n, d in dashboards.items():
        tvars = {v.get("name"): v for v in (d.get("templating") or {}).get("list") or []}
        ns = tvars.get("namespace") or {}
        q = ns.get("query")
        q = q.get("query", "") if isinstance(q, dict) else q or ""
        check(ns.get("type") == "query" and re.fullmatch(r"label_values\(.*,\s*namespace\s*\)", q)
              and not ns.get("includeAll") and not ns.get("multi"),
              f"{p} {n}: a single-valued namespace variable, label_values(..., namespace) (got {q!r})")
        names = list(tvars)
        check(names.index("namespace") < min([names.index(v) for v in names if v not in ("datasource", "namespace")] or [99]),
              f"{p} {n}: the namespace variable comes before the variables that use it ({names})")
        site = tvars.get("site")
        if site:
            check(site.get("includeAll") and site.get("multi") and site.get("allValue") == ".*",
                  f"{p} {n}: variable site is multi-valued with All as .* (every site, also one another metric has)")

        # Links: relative (/d/<uid> of a dashboard here, or by tag), carrying
        # the time range and the variables (namespace, site) along.
        links = d.get("links") or []
        tags = set(d.get("tags") or [])
        by_tag = [l for l in links if l.get("type") == "dashboards"]
        check(by_tag and all(set(l.get("tags") or []) and set(l["tags"]) <= tags and l.get("includeVars")
                             and l.get("keepTime") for l in by_tag),
              f"{p} {n}: links to the other estate dashboards by its own tags, keeping time and variables")
        bad = [l.get("url") for l in links if l.get("type") == "link" and not (
            re.fullmatch(r"/d/([\w-]+)(/[\w-]+)?(\?[^#]*)?", l.get("url") or "")
            and re.match(r"/d/([\w-]+)", l["url"]).group(1) in uids and l.get("includeVars") and l.get("keepTime"))]
        check(not bad, f"{p} {n}: every URL link is /d/<uid of a dashboard here>, keeping time and variables (not: {bad})")
        check(all(l.get("type") in ("dashboards", "link") for l in links), f"{p} {n}: links are of type dashboards or link")

    no_ns, no_site, fixed = [], [], []
    for where, expr in exprs:
        if where.endswith(": variable namespace"):
            continue
        for s in selectors(expr):
            if ("=", "$namespace") not in s.labels("namespace"):
                no_ns.append(f"{where}: {s.text}")
            base = re.sub(r"_(bucket|sum|count)$", "", s.name or "")
            if ((s.name in site_metrics or base in site_metrics) and ("=~", "$site") not in s.labels("site")
                    and not where.endswith(": variable site")):
                no_site.append(f"{where}: {s.text}")
        # A window shorter than an hour depends on the scrape interval:
        # $__rate_interval. Longer fixed windows are reporting periods ("per
        # hour", "last day", "per week"), named in the panel's title.
        for fn, window in rate_windows(expr):
            secs = duration_seconds(window)
            if window not in ("$__rate_interval", "$__range") and (secs is None or secs < 3600):
                fixed.append(f"{where}: {fn}(...[{window}])")
    check(not no_ns, f"{p} every selector of every query has namespace=\"$namespace\" (not: {no_ns})")
    check(not no_site, f"{p} every selector of a metric with a site label has site=~\"$site\" (not: {no_site})")
    check(not fixed, f"{p} rate/increase windows are $__rate_interval, $__range or a reporting period of 1h or more (not: {fixed})")


def check_dashboards(mon):
    p = "[dashboards]"
    files = sorted(glob.glob(os.path.join(dashboards_dir, "*.json")))
    names = [os.path.basename(f) for f in files]
    want = {"estate-archives.json", "estate-billing.json", "estate-cleaning.json", "estate-gateway.json",
            "estate-services.json"}
    check(want <= set(names), f"{p} {dashboards_dir} has {', '.join(sorted(want))} (got {names})")

    # The ConfigMap the Grafana sidecar picks up: every dashboard file, as is.
    cm = find(mon, "ConfigMap", "estate-grafana-dashboards")
    check(cm is not None and cm["metadata"].get("namespace") == "estate",
          "[monitoring] ConfigMap estate-grafana-dashboards (namespace estate, no name hash)")
    labels = cm["metadata"].get("labels") or {}
    check(labels.get("grafana_dashboard") == "1" and labels.get("app.kubernetes.io/part-of") == "estate",
          f"[monitoring] estate-grafana-dashboards labelled grafana_dashboard=1 and part-of=estate (got {labels})")
    labelled = [d["metadata"]["name"] for d in mon if "grafana_dashboard" in (d["metadata"].get("labels") or {})]
    check(labelled == ["estate-grafana-dashboards"],
          f"[monitoring] only estate-grafana-dashboards is labelled grafana_dashboard (got {labelled})")
    data = cm.get("data") or {}
    check(sorted(data) == names, f"[monitoring] estate-grafana-dashboards has one key per dashboard file (keys {sorted(data)})")
    dashboards = {}
    for f, n in zip(files, names):
        with open(f) as fh:
            try:
                dashboards[n] = json.load(fh)
            except ValueError as e:
                check(False, f"{p} {n} is valid JSON ({e})")
        check(json.loads(data[n]) == dashboards[n], f"[monitoring] estate-grafana-dashboards carries {n} unchanged")
    # kubectl apply (client-side) copies the object into an annotation, and
    # all annotations of an object together may not exceed 256 KiB.
    size = sum(len(v.encode()) for v in data.values())
    check(size < 200 * 1024, f"[monitoring] estate-grafana-dashboards data is {size} bytes (< 200 KiB, room for kubectl apply's annotation)")

    uids = [d.get("uid") for d in dashboards.values()]
    check(len(set(uids)) == len(uids), f"{p} dashboard uids are distinct ({uids})")
    exprs = []  # (where, expr) for promtool
    for n, d in dashboards.items():
        check(isinstance(d, dict) and d.get("title") and re.fullmatch(r"[A-Za-z0-9_-]{1,40}", d.get("uid") or "")
              and isinstance(d.get("panels"), list) and d["panels"],
              f"{p} {n} is a dashboard with title, uid (<= 40 chars) and panels")
        check(isinstance(d.get("schemaVersion"), int) and d["schemaVersion"] >= 36,
              f"{p} {n} schemaVersion >= 36 (got {d.get('schemaVersion')})")
        tvars = {v.get("name"): v for v in (d.get("templating") or {}).get("list") or []}
        dsv = tvars.get("datasource") or {}
        check(dsv.get("type") == "datasource" and dsv.get("query") == "prometheus",
              f"{p} {n} has a datasource variable of type prometheus")
        uses_var = lambda ds: isinstance(ds, dict) and ds.get("uid") in ("${datasource}", "$datasource")

        panels = []
        for panel in d["panels"]:
            panels.append(panel)
            panels.extend(panel.get("panels") or [])  # panels inside (collapsed) rows
        ids = [x.get("id") for x in panels]
        check(len(set(ids)) == len(ids) and all("gridPos" in x for x in panels),
              f"{p} {n}: panel ids are distinct and every panel has a gridPos")
        queries = [x for x in panels if x.get("type") != "row"]
        bad_ds = [x.get("title") for x in queries
                  if not uses_var(x.get("datasource")) or not x.get("targets")
                  or not all(uses_var(t.get("datasource", x["datasource"])) and (t.get("expr") or "").strip()
                             for t in x["targets"])]
        check(queries and not bad_ds,
              f"{p} {n}: every panel has targets with an expr and its datasource is the ${{datasource}} variable (wrong: {bad_ds})")
        for x in queries:
            for t in x["targets"]:
                exprs.append((f"{n}: {x.get('title')} ({t.get('refId')})", t["expr"]))
        for v in tvars.values():
            if v.get("type") != "query":
                continue
            check(uses_var(v.get("datasource")), f"{p} {n}: variable {v.get('name')} queries the ${{datasource}} variable")
            q = v.get("query")
            q = q.get("query", "") if isinstance(q, dict) else q or ""
            m = re.fullmatch(r"\s*label_values\((.*),\s*\w+\s*\)\s*", q)
            check(m, f"{p} {n}: variable {v.get('name')} is label_values(<series>, <label>) (got {q!r})")
            exprs.append((f"{n}: variable {v.get('name')}", m.group(1)))

    metricless = [where for where, expr in exprs if not promql_metric_names(expr) or "__name__" in expr]
    check(not metricless, f"{p} every expression selects metrics by name (not: {metricless})")
    check_dashboard_scoping(dashboards, exprs)

    # Each service's own dashboard shows every metric the service exports of
    # its own (estate_<name>_*), and its gRPC panels are about its service.
    for name, grpc_service in (("billing", "estate.billing.v1.BillingService"),
                               ("archives", "estate.archives.v1.ArchivesService"),
                               ("cleaning", "estate.cleaning.v1.CleaningService")):
        n = f"estate-{name}.json"
        svc_exprs = [e for w, e in exprs if w.startswith(f"{n}:")]
        used = set().union(*(promql_metric_names(e) for e in svc_exprs))
        used |= {re.sub(r"_(bucket|sum|count)$", "", m) for m in used}
        own = {m for m in cpp_metric_families() if m.startswith(f"estate_{name}_")}
        check(own and own <= used, f"{p} {n} uses every estate_{name}_* metric (missing: {sorted(own - used)})")
        grpc_exprs = [e for e in svc_exprs if "grpc_server_" in e]
        check(grpc_exprs and all(f'grpc_service="{grpc_service}"' in e and f'job="{name}"' in e for e in grpc_exprs),
              f"{p} {n}'s gRPC expressions select job=\"{name}\" and grpc_service=\"{grpc_service}\"")
        db_used = {m for m in used if m.startswith("estate_db_")}
        check(db_used >= {"estate_db_up", "estate_db_pool_connections", "estate_db_query_duration_seconds"}
              and all(f'job="{name}"' in e for e in svc_exprs if "estate_db_" in e),
              f"{p} {n} has database panels (up, pool, query latency) for job=\"{name}\" (uses {sorted(db_used)})")

    # Handover has no dashboard of its own: its row in estate-services.json
    # shows every estate_handover_* metric and, per peer, the outbox gauges the
    # estate-outbox alerts read (they are its only outbox alerts).
    n = "estate-services.json"
    handover_exprs = [e for w, e in exprs if w.startswith(f"{n}:") and 'job="handover"' in e]
    used = set().union(set(), *(promql_metric_names(e) for e in handover_exprs))
    own = {m for m in cpp_metric_families() if m.startswith("estate_handover_")}
    want = own | {"estate_outbox_dead", "estate_outbox_oldest_pending_seconds"}
    check(own and want <= used, f"{p} {n} has a handover row using {sorted(want)} (missing: {sorted(want - used)})")

    # Each expression parses as PromQL (variables substituted).
    rule_file = f"{tmp}/dashboard-exprs.rules.yaml"
    with open(rule_file, "w") as fh:
        yaml.safe_dump({"groups": [{"name": "dashboard-expressions", "rules": [
            {"record": f"dashboard_expr_{i}", "expr": grafana_to_promql(e)} for i, (_, e) in enumerate(exprs)]}]}, fh)
    r = subprocess.run([promtool, "check", "rules", rule_file], capture_output=True, text=True)
    if r.returncode != 0:
        print(r.stdout + r.stderr, file=sys.stderr)
        print("\n".join(f"dashboard_expr_{i}: {w}" for i, (w, _) in enumerate(exprs)), file=sys.stderr)
    check(r.returncode == 0, f"{p} all {len(exprs)} dashboard expressions parse (promtool check rules)")


def main():
    dev_docs, dev_svcs = check_overlay("dev", 1)
    dev_gw_svc = check_gateway("dev", dev_docs, 1, dev_svcs)
    prod_docs, prod_svcs = check_overlay("prod", 3)
    check_gateway("prod", prod_docs, 3, prod_svcs)

    # Monitoring: one ServiceMonitor per service, selecting that service's
    # Service only and scraping its metrics port.
    mon = load("monitoring")
    check(not [d for d in dev_docs if d.get("kind") == "ServiceMonitor"], "[dev] base does not include the ServiceMonitors (CRD may be absent)")
    others = {n: s["metadata"].get("labels") or {} for n, s in dev_svcs.items()}
    others["gateway"] = dev_gw_svc["metadata"].get("labels") or {}
    for name, svc in dev_svcs.items():
        p = f"[monitoring/{name}]"
        sm = find(mon, "ServiceMonitor", name)
        check(sm is not None and sm["apiVersion"] == "monitoring.coreos.com/v1", f"{p} ServiceMonitor {name} (monitoring.coreos.com/v1)")
        selected = sorted(n for n, labels in others.items() if selects(sm["spec"].get("selector"), labels))
        check(selected == [name], f"{p} ServiceMonitor {name} selects the {name} Service and no other (selects {selected})")
        nss = (sm["spec"].get("namespaceSelector") or {}).get("matchNames") or []
        check(sm["metadata"].get("namespace") == "estate" and "estate" in nss, f"{p} ServiceMonitor {name} in and looking at namespace estate")
        svc_ports = {pt["name"] for pt in svc["spec"]["ports"]}
        eps = sm["spec"].get("endpoints") or []
        check(eps and all(e.get("port") == "metrics" and e.get("port") in svc_ports and e.get("path", "/metrics") == "/metrics"
                          for e in eps), f"{p} ServiceMonitor {name} scrapes the Service's metrics port at /metrics")
        check((sm["metadata"].get("labels") or {}).get("app.kubernetes.io/part-of") == "estate",
              f"{p} ServiceMonitor {name} labelled app.kubernetes.io/part-of=estate")

    # The gateway's ServiceMonitor: port http (which serves /metrics).
    gsm = find(mon, "ServiceMonitor", "gateway")
    check(gsm is not None and gsm["apiVersion"] == "monitoring.coreos.com/v1", "[monitoring] ServiceMonitor gateway (monitoring.coreos.com/v1)")
    selected = sorted(n for n, labels in others.items() if selects(gsm["spec"].get("selector"), labels))
    check(selected == ["gateway"], f"[monitoring] ServiceMonitor gateway selects the gateway Service and no service's (selects {selected})")
    gnss = (gsm["spec"].get("namespaceSelector") or {}).get("matchNames") or []
    check(gsm["metadata"].get("namespace") == "estate" and "estate" in gnss, "[monitoring] ServiceMonitor gateway in and looking at namespace estate")
    gw_ports = {pt["name"] for pt in dev_gw_svc["spec"]["ports"]}
    geps = gsm["spec"].get("endpoints") or []
    check(geps and all(e.get("port") == "http" and e.get("port") in gw_ports and e.get("path", "/metrics") == "/metrics"
                       for e in geps), "[monitoring] ServiceMonitor gateway scrapes the Service's http port at /metrics")
    check((gsm["metadata"].get("labels") or {}).get("app.kubernetes.io/part-of") == "estate",
          "[monitoring] ServiceMonitor gateway labelled app.kubernetes.io/part-of=estate")
    sms = sorted(d["metadata"]["name"] for d in mon if d.get("kind") == "ServiceMonitor")
    check(sms == sorted(list(SERVICES) + ["gateway"]), f"[monitoring] ServiceMonitors are exactly the services' and the gateway's (got {sms})")

    # The rules are checked by tests/k8s/rules_test.sh (run above).

    check_dashboards(mon)


try:
    main()
except SystemExit:
    raise
except Exception:  # a malformed object: report it as a failed check
    import traceback
    traceback.print_exc()
    print(f"FAIL: checker crashed after {checks.passed()} checks (see traceback above)", file=sys.stderr)
    done(1)
done(0)
PY
py_tally $?
set -e

echo "${passed} passed, 0 failed"
