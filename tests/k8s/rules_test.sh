#!/usr/bin/env bash
# Checks the alert rules (k8s/monitoring/operator/prometheus-rules.yaml, a
# PrometheusRule) and how they ship:
# - the rules file tools/prometheus-rules makes of it passes
#   `promtool check rules`, and every tests/k8s/*-rules.test.yaml passes
#   `promtool test rules` against it;
# - every alert rule (name and severity) is expected to fire, with its
#   annotations, in some unit test, and every alert name is also expected
#   silent somewhere (below its threshold, its minimum of traffic, its `for`);
# - every alert has a runbook_url into k8s/RUNBOOKS.md whose section exists;
# - every aggregation and every `on (...)` keeps `namespace`; ratio and
#   latency alerts need a minimum of traffic; *Down alerts are a warning for
#   one pod and critical for most of the job;
# - k8s/monitoring/dashboards renders without any Operator kind,
#   k8s/monitoring/operator has the PrometheusRule and the ServiceMonitors,
#   and k8s/monitoring/kube-prometheus-stack labels exactly those with
#   release=kube-prometheus-stack, a value a kustomization of one's own can
#   replace.
#
#   bash tests/k8s/rules_test.sh <repo_root>
#
# Prints one "ok - ..." line per check and, on success, "N passed, 0 failed";
# stops at the first failure (exit 1). tests/k8s/render_test.sh runs it.
# Tools: KUBECTL, PROMTOOL, PYTHON as in render_test.sh.
set -euo pipefail

root="$(cd "${1:-$(dirname "${BASH_SOURCE[0]}")/../..}" && pwd)"
cd "$root"

source "$root/tests/k8s/lib.sh"

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

source_rules=k8s/monitoring/operator/prometheus-rules.yaml
runbooks=k8s/RUNBOOKS.md
[[ -f "$source_rules" ]] || fail "$source_rules is missing"
[[ -f "$runbooks" ]] || fail "$runbooks is missing"

# The unit tests name their rules file `estate.rules.yaml`, relative to
# themselves (promtool's rule), so each runs from a copy next to the
# extracted rules.
rules="$tmp/estate.rules.yaml"
"$PYTHON" tools/prometheus-rules "$source_rules" >"$rules" 2>"$tmp/extract.err" ||
  { cat "$tmp/extract.err" >&2; fail "tools/prometheus-rules $source_rules"; }
ok "tools/prometheus-rules makes a rules file of $source_rules"
"$PROMTOOL" check rules "$rules" >"$tmp/check.out" 2>&1 ||
  { cat "$tmp/check.out" >&2; fail "promtool check rules (the spec of $source_rules)"; }
ok "promtool check rules (the spec of $source_rules)"

shopt -s nullglob
tests=(tests/k8s/*-rules.test.yaml)
[[ ${#tests[@]} -gt 0 ]] || fail "no tests/k8s/*-rules.test.yaml"
for t in "${tests[@]}"; do
  cp "$t" "$tmp/"
  if ! "$PROMTOOL" test rules "$tmp/$(basename "$t")" >"$tmp/test.out" 2>&1; then
    cat "$tmp/test.out" >&2
    fail "promtool test rules $t"
  fi
  ok "promtool test rules $t"
done

for d in k8s/monitoring k8s/monitoring/dashboards k8s/monitoring/operator k8s/monitoring/kube-prometheus-stack; do
  out="$tmp/$(echo "$d" | tr / _).yaml"
  "$KUBECTL" kustomize "$d" >"$out" 2>"$tmp/kustomize.err" ||
    { cat "$tmp/kustomize.err" >&2; fail "kubectl kustomize $d"; }
done
# A kustomization of an operator's own, as the README shows it: the
# component, and a patch for their Helm release's name.
mkdir -p "$tmp/own"
# kustomize takes only relative paths.
rel="$("$PYTHON" -c 'import os, sys; print(os.path.relpath(sys.argv[1], sys.argv[2]))' "$root" "$tmp/own")"
cat >"$tmp/own/kustomization.yaml" <<EOF
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources:
  - $rel/k8s/monitoring/operator
components:
  - $rel/k8s/monitoring/components/kube-prometheus-stack
patches:
  - target: {group: monitoring.coreos.com}
    patch: |-
      - op: replace
        path: /metadata/labels/release
        value: monitoring
EOF
"$KUBECTL" kustomize "$tmp/own" >"$tmp/own.yaml" 2>"$tmp/kustomize.err" ||
  { cat "$tmp/kustomize.err" >&2; fail "kubectl kustomize of a kustomization with the component and another release name"; }

set +e
"$PYTHON" - "$tmp" "$source_rules" "$rules" "$runbooks" "${tests[@]}" <<'PY'
import re
import sys

import yaml

tmp, source_path, rules_path, runbooks_path, *test_paths = sys.argv[1:]
sys.path.insert(0, "tests/k8s")
from checks import check, done, start  # noqa: E402
start(tmp)
RUNBOOK_URL = "https://github.com/estate/estate/blob/main/k8s/RUNBOOKS.md#"
SERVICES = ["tickets", "billing", "archives", "cleaning", "handover"]
JOBS = SERVICES + ["gateway"]



def load_all(path):
    with open(path) as f:
        return [d for d in yaml.safe_load_all(f) if d]


with open(rules_path) as f:
    groups = yaml.safe_load(f)["groups"]
rules = [(g["name"], r) for g in groups for r in g["rules"]]
alerts = [(g, r) for g, r in rules if "alert" in r]
check(len(alerts) == len(rules) and alerts, f"[rules] {len(alerts)} rules, all alerts")


# --- runbooks ---------------------------------------------------------------
def github_anchor(heading):
    """The id GitHub gives a Markdown heading."""
    a = heading.strip().lower()
    a = re.sub(r"[^\w\- ]", "", a)
    return a.replace(" ", "-")


with open(runbooks_path) as f:
    headings = [m.group(1) for m in re.finditer(r"^#{1,6}\s+(.+?)\s*#*\s*$", f.read(), re.M)]
anchors = {github_anchor(h) for h in headings}
sections = set(headings)
for g, r in alerts:
    name = r["alert"]
    url = (r.get("annotations") or {}).get("runbook_url", "")
    check(url == RUNBOOK_URL + name.lower() and name.lower() in anchors and name in sections,
          f"[runbooks] {name}: runbook_url {url or '(none)'} is its section \"{name}\" of {runbooks_path}")
names = {r["alert"] for _, r in alerts}
check(names <= sections, f"[runbooks] every alert has a section")


# --- unit tests cover every rule --------------------------------------------
fires = {}       # (alertname, severity) -> test files expecting it to fire with annotations
silent = {}      # alertname -> test files expecting it silent at some time
for path in test_paths:
    with open(path) as f:
        t = yaml.safe_load(f)
    check(t.get("rule_files") == ["estate.rules.yaml"],
          f"[tests] {path} loads estate.rules.yaml (the rules tools/prometheus-rules extracts)")
    for case in t.get("tests") or []:
        for a in case.get("alert_rule_test") or []:
            exp = a.get("exp_alerts") or []
            if not exp:
                silent.setdefault(a["alertname"], set()).add(path)
            for e in exp:
                sev = (e.get("exp_labels") or {}).get("severity")
                if e.get("exp_annotations"):
                    fires.setdefault((a["alertname"], sev), set()).add(path)
for g, r in alerts:
    key = (r["alert"], r["labels"]["severity"])
    check(key in fires, f"[tests] {key[0]} ({key[1]}) is expected to fire, with its annotations, in a unit test "
                        f"({', '.join(sorted(fires.get(key, []))) or 'none'})")
for name in sorted(names):
    check(name in silent, f"[tests] {name} is expected not to fire in some case of a unit test "
                          f"({', '.join(sorted(silent.get(name, []))) or 'none'})")
unknown = sorted({n for n, _ in fires} - names)
check(not unknown, f"[tests] the unit tests expect only alerts the rules have (unknown: {unknown})")


# --- the expressions ----------------------------------------------------------
AGGS = r"sum|min|max|avg|count|group|stddev|stdvar|topk|bottomk|quantile|count_values"


def closing(s, i):
    """Index of the parenthesis closing the one at s[i]."""
    depth = 0
    for j in range(i, len(s)):
        depth += {"(": 1, ")": -1}.get(s[j], 0)
        if depth == 0:
            return j
    raise ValueError(f"unbalanced: {s}")


def grouping_clauses(expr):
    """(aggregator, 'by'/'without'/None, labels) for every aggregation in expr."""
    out = []
    for m in re.finditer(rf"\b({AGGS})\s*(?:(by|without)\s*\(([^)]*)\)\s*)?\(", expr):
        agg, kind, labels = m.group(1), m.group(2), m.group(3)
        if kind is None:  # the clause may follow the arguments: sum(x) by (a)
            end = closing(expr, m.end() - 1)
            after = re.match(r"\s*(by|without)\s*\(([^)]*)\)", expr[end + 1:])
            if after:
                kind, labels = after.group(1), after.group(2)
        out.append((agg, kind, [l.strip() for l in (labels or "").split(",") if l.strip()]))
    return out


for g, r in alerts:
    name, expr = r["alert"], re.sub(r"\s+", " ", r["expr"]).strip()
    bad = [f"{a} {k or ''}({', '.join(l)})" for a, k, l in grouping_clauses(expr) if k != "by" or "namespace" not in l]
    check(not bad, f"[rules] {name} ({r['labels']['severity']}): every aggregation is `by (namespace, ...)` (not: {bad})")
    ons = re.findall(r"\b(?:on|ignoring)\s*\(([^)]*)\)", expr)
    check(all("namespace" in [l.strip() for l in o.split(",")] for o in ons) and "ignoring" not in expr,
          f"[rules] {name}: every vector matching is `on (namespace, ...)` (got {ons})")
    # A ratio of rates or a quantile needs a minimum of traffic behind it.
    if "histogram_quantile" in expr or re.search(r"/\s*sum\b", expr):
        m = re.search(r"\band on \(namespace, job\) sum by \(namespace, job\) \(rate\([^\[]*\[5m\]\)\) > ([0-9.]+)$", expr)
        check(m and float(m.group(1)) > 0,
              f"[rules] {name} fires only above a minimum of traffic (`and on (namespace, job) sum by (namespace, job) (rate(...[5m])) > N`)")

# *Down: one pod is a warning, more than half of the job critical.
by_name = {}
for g, r in alerts:
    by_name.setdefault(r["alert"], []).append(r)
for job in JOBS:
    for suffix, metric in (("Down", "up"), ("DatabaseDown", "estate_db_up")):
        if job == "gateway" and suffix == "DatabaseDown":
            continue
        name = job.capitalize() + suffix
        rs = {r["labels"]["severity"]: re.sub(r"\s+", "", r["expr"]) for r in by_name.get(name, [])}
        check(sorted(rs) == ["critical", "warning"]
              and rs["warning"] == f'{metric}{{job="{job}"}}==0'
              and rs["critical"] == f'1-avgby(namespace,job)({metric}{{job="{job}"}})>0.5',
              f"[rules] {name}: warning for one target, critical above half the job's targets in the namespace (got {rs})")
    absent = re.sub(r"\s+", "", by_name[job.capitalize() + "Absent"][0]["expr"])
    check(f'unlesson(namespace)count by(namespace)(up{{job="{job}"}})'.replace(" ", "") in absent
          and "absent(up{job=~" in absent,
          f"[rules] {job.capitalize()}Absent: per namespace where other estate targets are, and when there are none")

# Service alerts read their own job only; the shared gRPC ones cover all.
for prefix, job in (("Billing", "billing"), ("Archives", "archives"), ("Cleaning", "cleaning"), ("Handover", "handover"),
                    ("Tickets", "tickets"), ("Gateway", "gateway")):
    for g, r in alerts:
        if r["alert"].startswith(prefix) and not r["alert"].endswith("Absent"):
            sels = re.findall(r"\b(\w+)\{([^}]*)\}", re.sub(r"\s+", "", r["expr"]))
            bad = [m for m, labels in sels if f'job="{job}"' not in labels]
            check(sels and not bad, f"[rules] {r['alert']}: every selector has job=\"{job}\" (not: {bad})")
for name in ("HighErrorRate", "SlowRequests"):
    for r in by_name[name]:
        regexes = re.findall(r'job=~"([^"]*)"', r["expr"])
        check(regexes and all(set(JOBS) <= set(x.split("|")) for x in regexes),
              f"[rules] {name} covers {JOBS} in every selector (got {regexes})")
GROUP_OF = (("Tickets", "tickets"), ("SLABreaches", "tickets"), ("Billing", "billing"), ("Archives", "archives"),
            ("Cleaning", "cleaning"), ("Handover", "handover"), ("Outbox", "outbox"), ("Database", "database"),
            ("Gateway", "gateway"), ("HighErrorRate", "grpc"), ("SlowRequests", "grpc"))
for g, r in alerts:
    want = next((f"estate-{grp}" for prefix, grp in GROUP_OF if r["alert"].startswith(prefix)), None)
    check(g == want, f"[rules] {r['alert']} is in group {want} (in {g})")
# The alerts the issue asked for, on the metrics the kit and billing export.
for name, metric in (("OutboxDeadRows", "estate_outbox_dead"), ("OutboxDeliveryStalled", "estate_outbox_oldest_pending_seconds"),
                     ("DatabasePoolExhausted", "estate_db_pool_waiters"), ("DatabaseConnectErrors", "estate_db_connect_errors_total"),
                     ("BillingPaymentFailures", "estate_billing_payment_failures_total")):
    check(name in by_name and all(metric in r["expr"] for r in by_name[name]), f"[rules] {name} reads {metric}")


# --- how the rules ship ---------------------------------------------------------
def objs(name):
    return load_all(f"{tmp}/{name}.yaml")


def operator_kinds(docs):
    return sorted((d["kind"], d["metadata"]["name"]) for d in docs if d["apiVersion"].startswith("monitoring.coreos.com/"))


source = [d for d in load_all(source_path)]
check(len(source) == 1 and source[0]["kind"] == "PrometheusRule" and source[0]["apiVersion"] == "monitoring.coreos.com/v1",
      f"[ship] {source_path} is one PrometheusRule (monitoring.coreos.com/v1)")
want = sorted([("PrometheusRule", "estate")] + [("ServiceMonitor", j) for j in JOBS])
dash = objs("k8s_monitoring_dashboards")
check(dash and not operator_kinds(dash) and all(d["apiVersion"] == "v1" for d in dash),
      f"[ship] k8s/monitoring/dashboards has core objects only, so it applies without the Operator's CRDs (got {[(d['kind'], d['metadata']['name']) for d in dash]})")
op = objs("k8s_monitoring_operator")
check(operator_kinds(op) == want and len(op) == len(want), f"[ship] k8s/monitoring/operator is the PrometheusRule and the ServiceMonitors (got {operator_kinds(op)})")
pr = next(d for d in op if d["kind"] == "PrometheusRule")
check(pr["spec"] == source[0]["spec"] and pr["metadata"].get("namespace") == "estate"
      and pr["metadata"]["labels"].get("app.kubernetes.io/part-of") == "estate",
      "[ship] the rendered PrometheusRule estate (namespace estate, part-of=estate) carries the rules as written")
allmon = objs("k8s_monitoring")
check(sorted((d["kind"], d["metadata"]["name"]) for d in allmon) == sorted(
          [(d["kind"], d["metadata"]["name"]) for d in dash + op]),
      "[ship] k8s/monitoring is k8s/monitoring/dashboards plus k8s/monitoring/operator")
check(not any("release" in (d["metadata"].get("labels") or {}) for d in allmon),
      "[ship] without the component nothing carries a release label")
for name, value in (("k8s_monitoring_kube-prometheus-stack", "kube-prometheus-stack"), ("own", "monitoring")):
    docs = objs(name)
    labelled = sorted((d["kind"], d["metadata"]["name"]) for d in docs if (d["metadata"].get("labels") or {}).get("release") == value)
    others = [(d["kind"], d["metadata"]["name"]) for d in docs if (d["kind"], d["metadata"]["name"]) not in labelled]
    where = "k8s/monitoring/kube-prometheus-stack" if name != "own" else "a kustomization with the component and a patch"
    check(labelled == want and all("release" not in (d["metadata"].get("labels") or {}) for d in docs if d["kind"] == "ConfigMap"),
          f"[ship] {where}: release={value} on the PrometheusRule and every ServiceMonitor, not on the dashboards (labelled {labelled}, others {others})")
    sms = [d for d in docs if d["kind"] == "ServiceMonitor"]
    check(all("release" not in (d["spec"]["selector"].get("matchLabels") or {}) for d in sms),
          f"[ship] {where}: the ServiceMonitors' Service selectors are unchanged")
done(0)
PY
py_tally $?
set -e
echo "${passed} passed, 0 failed"
