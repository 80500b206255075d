#!/usr/bin/env bash
# Renders the Kubernetes manifests (k8s/overlays/dev, k8s/overlays/prod,
# k8s/monitoring) with `kubectl kustomize` (no cluster needed), checks
# properties of the rendered objects with python3 + PyYAML, and checks the
# Prometheus rules with promtool.
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

KUBECTL="${KUBECTL:-kubectl}"
PROMTOOL="${PROMTOOL:-promtool}"
PYTHON="${PYTHON:-/usr/bin/python3}"

passed=0
ok() { passed=$((passed + 1)); echo "ok - $*"; }
fail() {
  echo "FAIL: $*" >&2
  echo "${passed} passed, 1 failed"
  exit 1
}

for tool in "$KUBECTL" "$PROMTOOL" "$PYTHON"; do
  command -v "$tool" >/dev/null 2>&1 || fail "required tool not found: $tool"
done
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
rules=k8s/monitoring/prometheus-rules.yaml
[[ -f "$rules" ]] || fail "$rules is missing"
if ! "$PROMTOOL" check rules "$rules" >"$tmp/promtool.out" 2>&1; then
  cat "$tmp/promtool.out" >&2
  fail "promtool check rules $rules"
fi
ok "promtool check rules $rules"

# --- properties of the rendered objects -------------------------------------
# The checker writes how many checks passed to $tmp/py_passed, also when it
# stops at a failure.
set +e
"$PYTHON" - "$tmp" "$rules" <<'PY'
import re
import sys

import yaml

tmp, rules_path = sys.argv[1], sys.argv[2]
passed = 0


def done(code):
    with open(f"{tmp}/py_passed", "w") as f:
        f.write(str(passed))
    sys.exit(code)


def check(cond, what):
    global passed
    if not cond:
        print(f"FAIL: {what}", file=sys.stderr)
        done(1)
    passed += 1
    print(f"ok - {what}")


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


def check_overlay(env_name, want_replicas):
    docs = load(env_name)
    p = f"[{env_name}]"

    ns = find(docs, "Namespace", "estate")
    check(ns is not None, f"{p} Namespace estate")

    dep = find(docs, "Deployment", "tickets")
    check(dep is not None, f"{p} exactly one Deployment named tickets")
    check(dep["metadata"].get("namespace") == "estate", f"{p} Deployment tickets is in namespace estate")
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
    c = containers.get("tickets")
    check(c is not None, f"{p} container tickets")
    ports = {pt.get("name"): pt.get("containerPort") for pt in c.get("ports") or []}
    check(ports.get("grpc") == 50052 and ports.get("metrics") == 9102, f"{p} container ports grpc 50052, metrics 9102")

    image = c.get("image", "")
    check(re.fullmatch(r"estate/tickets([:@].+)?", image), f"{p} image is estate/tickets (got {image})")

    # Probes: readiness is the native gRPC health check; liveness must not be,
    # because health is NOT_SERVING while the database is down.
    rp = c.get("readinessProbe") or {}
    check((rp.get("grpc") or {}).get("port") == 50052, f"{p} readinessProbe is grpc on port 50052")
    lp = c.get("livenessProbe") or {}
    check(lp and "grpc" not in lp and "tcpSocket" in lp, f"{p} livenessProbe is tcpSocket, not grpc health")
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
    check(val("ESTATE_GRPC_ADDR") == "0.0.0.0:50052", f"{p} ESTATE_GRPC_ADDR=0.0.0.0:50052")
    check(val("ESTATE_METRICS_ADDR") == "0.0.0.0:9102", f"{p} ESTATE_METRICS_ADDR=0.0.0.0:9102")
    check("ESTATE_DB_PASSWORD" not in env, f"{p} no plain ESTATE_DB_PASSWORD in env")

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

    # DB password: a file on a volume from Secret estate-tickets-db, key password.
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
    check(sec and key == "password" and secret_ok(sec.get("secretName", ""), "estate-tickets-db", "password"),
          f"{p} {pw_file} is key password of Secret estate-tickets-db (ref {sec.get('secretName')})")

    if env_name == "prod":
        check(not secrets, f"{p} no Secret objects rendered (they must pre-exist), got {sorted(secrets)}")

    # Shared settings.
    cm_names = [((e.get("configMapRef") or {}).get("name")) for e in c.get("envFrom") or []]
    cms = {d["metadata"]["name"]: d for d in docs if d.get("kind") == "ConfigMap"}
    shared = [cms[n] for n in cm_names if n in cms]
    data = {}
    for cm in shared:
        data.update(cm.get("data") or {})
    check(data.get("ESTATE_DB_HOST") == "mariadb.estate.svc" and data.get("ESTATE_DB_PORT") == "3306"
          and data.get("ESTATE_LOG_LEVEL") == "info",
          f"{p} envFrom ConfigMap (rendered) sets ESTATE_DB_HOST, ESTATE_DB_PORT, ESTATE_LOG_LEVEL")

    ann = tmpl["metadata"].get("annotations") or {}
    check(ann.get("prometheus.io/scrape") == "true" and ann.get("prometheus.io/port") == "9102"
          and ann.get("prometheus.io/path") == "/metrics", f"{p} prometheus.io scrape annotations on pods")

    # Service.
    svc = find(docs, "Service", "tickets")
    check(svc is not None, f"{p} Service tickets")
    check(svc["spec"].get("clusterIP") == "None", f"{p} Service tickets is headless (clusterIP None)")
    sports = {pt.get("name"): pt.get("port") for pt in svc["spec"].get("ports") or []}
    check(sports.get("grpc") == 50052 and sports.get("metrics") == 9102, f"{p} Service ports grpc 50052, metrics 9102")
    sel = svc["spec"].get("selector") or {}
    check(sel and all(pod_labels.get(k) == v for k, v in sel.items()), f"{p} Service selector matches the pods")

    # PodDisruptionBudget.
    pdbs = [d for d in docs if d.get("kind") == "PodDisruptionBudget" and selects(d["spec"].get("selector"), pod_labels)]
    check(len(pdbs) == 1 and pdbs[0]["apiVersion"] == "policy/v1", f"{p} one policy/v1 PodDisruptionBudget selects the tickets pods")
    check(pdbs[0]["spec"].get("minAvailable") == 1, f"{p} PodDisruptionBudget minAvailable 1")

    # MariaDB durability settings for whoever runs the database.
    md = cms.get("mariadb-durability")
    cnf = "\n".join((md or {}).get("data", {}).values())
    settings = dict(re.findall(r"^\s*([a-z_]+)\s*=\s*(\S+)", cnf, re.M))
    check("[mysqld]" in cnf and settings.get("innodb_flush_log_at_trx_commit") == "1"
          and settings.get("sync_binlog") == "1",
          f"{p} ConfigMap mariadb-durability sets innodb_flush_log_at_trx_commit=1, sync_binlog=1")
    return docs, svc, image


def main():
    dev_docs, dev_svc, dev_image = check_overlay("dev", 1)
    check(dev_image == "estate/tickets:dev", f"[dev] image tag is dev (got {dev_image})")
    check_overlay("prod", 3)

    # Monitoring: the ServiceMonitor must select the tickets Service and scrape
    # its metrics port.
    mon = load("monitoring")
    sm = find(mon, "ServiceMonitor", "tickets")
    check(sm is not None and sm["apiVersion"] == "monitoring.coreos.com/v1", "[monitoring] ServiceMonitor tickets (monitoring.coreos.com/v1)")
    check(selects(sm["spec"].get("selector"), dev_svc["metadata"].get("labels") or {}),
          "[monitoring] ServiceMonitor selector matches the tickets Service labels")
    nss = (sm["spec"].get("namespaceSelector") or {}).get("matchNames") or []
    check(sm["metadata"].get("namespace") == "estate" or "estate" in nss, "[monitoring] ServiceMonitor looks in namespace estate")
    svc_ports = {pt["name"] for pt in dev_svc["spec"]["ports"]}
    eps = sm["spec"].get("endpoints") or []
    check(eps and all(e.get("port") == "metrics" and e.get("port") in svc_ports and e.get("path", "/metrics") == "/metrics"
                      for e in eps), "[monitoring] ServiceMonitor scrapes the Service's metrics port at /metrics")
    check(not [d for d in dev_docs if d.get("kind") == "ServiceMonitor"], "[dev] base does not include the ServiceMonitor (CRD may be absent)")

    # Rules: the alerts exist with the intended expressions and severities.
    with open(rules_path) as f:
        rules = yaml.safe_load(f)
    alerts = {r["alert"]: r for g in rules.get("groups") or [] for r in g.get("rules") or [] if "alert" in r}
    norm = lambda s: re.sub(r"\s+", "", s or "")

    def alert(name, must_contain, severity, need_for=None):
        a = alerts.get(name)
        check(a is not None, f"[rules] alert {name} exists")
        e = norm(a["expr"])
        missing = [s for s in must_contain if norm(s) not in e]
        check(not missing, f"[rules] {name} expr contains {must_contain} (missing {missing})")
        check((a.get("labels") or {}).get("severity") == severity, f"[rules] {name} severity {severity}")
        if need_for:
            check(a.get("for") == need_for, f"[rules] {name} for {need_for}")

    alert("TicketsDown", ['up{job="tickets"}', "==0"], "critical")
    alert("TicketsDatabaseDown", ["estate_db_up", "==0"], "critical", "2m")
    alert("HighErrorRate", ["grpc_server_handled_total", 'grpc_code=~"Unavailable|Internal|Unknown"', "[5m]", ">0.05"], "warning")
    alert("SlowRequests", ["histogram_quantile(0.99", "grpc_server_handling_seconds_bucket", ">1"], "warning")
    alert("SLABreaches", ["increase(estate_tickets_sla_breached_total", "[1h]", ">0"], "info")

    rendered_rules = find(mon, "ConfigMap", "estate-prometheus-rules")
    check(rendered_rules is not None and yaml.safe_load(rendered_rules["data"]["prometheus-rules.yaml"]) == rules,
          "[monitoring] ConfigMap estate-prometheus-rules carries prometheus-rules.yaml")


try:
    main()
except SystemExit:
    raise
except Exception:  # a malformed object: report it as a failed check
    import traceback
    traceback.print_exc()
    print(f"FAIL: checker crashed after {passed} checks (see traceback above)", file=sys.stderr)
    done(1)
done(0)
PY
py_rc=$?
set -e
py_passed="$(cat "$tmp/py_passed" 2>/dev/null || echo 0)"
passed=$((passed + py_passed))
if [[ $py_rc -ne 0 ]]; then
  echo "${passed} passed, 1 failed"
  exit 1
fi

echo "${passed} passed, 0 failed"
