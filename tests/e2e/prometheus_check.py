#!/usr/bin/python3
"""A real Prometheus (Debian's `prometheus`) scraping a running suite, with the
alert rules of k8s/monitoring loaded, checked the way an operator would find
out the monitoring does not work:

- every target is up after two scrapes, and every rule evaluates without error;
- no critical alert is pending or firing while the suite is healthy;
- every metric selector of the alert rules and of the Grafana dashboards
  (k8s/monitoring/dashboards, Grafana variables filled in as Grafana would)
  returns series, and every dashboard variable lists values;
- a dashboard selector whose series carry a `site` label filters by $site;
- the business gauges equal what the API reports: the collection ratio of a
  site (GET .../collectionReport) and its keys out (GET .../keyCounts).

Before that it drives the activity some series need (a bill run and payments,
a key checked out twice, a file lent, stock received, a handover completed)
through the gateway's HTTP API, as the front desk would.

Run by tests/e2e/gateway_binary_test.sh once its suite serves (ctest
prometheus_e2e_test); the suite's services run with --job_interval=1s so that
their gauges read from the database follow within a second.

  prometheus_check.py --root REPO --bin BIN_DIR --work DIR --secret FILE
      --gateway 127.0.0.1:PORT --target JOB=HOST:PORT ... [--site north]

Prints one "ok - ..." or "FAIL: ..." line per check and a last line
"N passed, M failed"; exits non-zero on any failure.
"""
import argparse
import glob
import itertools
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid

import yaml

# Selectors (a regular expression over the selector as written) that cannot
# have series in a short healthy run, with the reason. Each must match a
# selector of the rules or the dashboards (the test says when one no longer
# does) and what it matches must still be empty (when it has series, take it out).
NO_SERIES_IN_A_SHORT_RUN = {
    r"^estate_billing_payment_failures_total\b":
        "created by the first direct debit a bank refuses (a debit batch, its bank file, a refusal)",
    r"^estate_handover_renovation_violations_total\b":
        "created by the first violation found at a renovation inspection of a handed-over flat",
    r'^http_requests_total\{.*code=~"5\.\."':
        "a 5xx answer on an API route: a backend failing or a fault of the gateway; a healthy run has none",
}


def exempt(selector):
    """The NO_SERIES_IN_A_SHORT_RUN pattern the selector matches, or None."""
    return next((p for p in NO_SERIES_IN_A_SHORT_RUN if re.search(p, selector.text)), None)

passed = failed = 0


def check(cond, what, detail=""):
    global passed, failed
    if cond:
        passed += 1
        print(f"ok - {what}")
    else:
        failed += 1
        print(f"FAIL: {what}" + (f"\n  {detail}" if detail else ""))
    sys.stdout.flush()
    return cond


def wait_for(what, fn, timeout, every=0.2):
    """Calls fn until it returns something true or timeout seconds pass; the last result."""
    give_up = time.monotonic() + timeout
    while True:
        got = fn()
        if got or time.monotonic() > give_up:
            return got
        time.sleep(every)


# --- the suite's HTTP API -----------------------------------------------------

class Api:
    def __init__(self, gateway, bindir, secret, site):
        self.base = f"http://{gateway}/v1"
        self.bindir, self.secret, self.site = bindir, secret, site
        self.tokens = {}

    def token(self, role, sub):
        if role not in self.tokens:
            self.tokens[role] = subprocess.run(
                [f"{self.bindir}/estatectl", "token", f"--secret_file={self.secret}", f"--site={self.site}",
                 f"--role={role}", f"--sub={sub}"], check=True, capture_output=True, text=True).stdout.strip()
        return self.tokens[role]

    def call(self, role, method, path, body=None):
        """(status, parsed JSON body) of METHOD /v1/PATH as `role`."""
        req = urllib.request.Request(self.base + "/" + path, method=method,
                                     data=None if body is None else json.dumps(body).encode(),
                                     headers={"Authorization": "Bearer " + self.token(role, f"e2e-{role}")})
        try:
            with urllib.request.urlopen(req, timeout=10) as r:
                return r.status, json.loads(r.read() or b"{}")
        except urllib.error.HTTPError as e:
            return e.code, json.loads(e.read() or b"{}")

    def post(self, role, path, body, what):
        if "requestId" not in body:  # custom methods take it in the body
            path += ("&" if "?" in path else "?") + f"requestId={uuid.uuid4()}"
        status, got = self.call(role, "POST", path, body)
        if not check(status == 200, what, f"POST {path}: {status} {got}"):
            return {}
        return got

    def get(self, role, path):
        status, got = self.call(role, "GET", path)
        return got if status == 200 else {}


def drive_activity(api):
    """The calls some series need before they exist; returns what the gauges
    are compared with later."""
    s = f"sites/{api.site}"
    today = time.strftime("%Y-%m-%d", time.gmtime())
    month = today[:7]

    # Billing: a charge item, an account, this month's bill run, a payment, and
    # a second payment reversed (collection ratio, arrears, collected and
    # reversed money, bill lines issued, the bill-run commit histogram).
    item = api.post("admin", f"{s}/chargeItems", {
        "code": "property-fee", "displayName": "Property fee", "kind": "PER_AREA", "cycle": "MONTHLY",
        "rate": "2.6", "effectiveFrom": f"{month[:4]}-01-01", "dueDays": 14}, "billing: a charge item").get("name")
    api.post("staff", f"{s}/accounts?accountId=3-2-1502", {
        "building": "3", "payerName": "Mr. Wang", "payerKind": "OWNER", "billableArea": "98.37",
        "feeStart": f"{month[:4]}-01-01", "chargeItems": [item]}, "billing: an account")
    run = api.post("finance", f"{s}/billRuns", {"cycle": "MONTHLY", "periodDate": f"{month}-01"},
                   "billing: this month's bill run").get("name", "")
    api.post("finance", f"{run}:commit", {"requestId": str(uuid.uuid4())}, "billing: the bill run commits")
    check(wait_for("committed", lambda: api.get("viewer", run).get("state") == "COMMITTED", 20),
          "billing: the bill run is COMMITTED")
    payment = {"account": f"{s}/accounts/3-2-1502", "method": "WECHAT", "amountMinor": "10000", "currencyCode": "CNY"}
    api.post("finance", f"{s}/payments", payment, "billing: a payment")
    bounced = api.post("finance", f"{s}/payments", dict(payment, amountMinor="5000"), "billing: another payment")
    api.post("finance", f"{bounced.get('name')}:reverse", {"reason": "bounced: insufficient funds",
                                                            "requestId": str(uuid.uuid4())},
             "billing: the second payment reversed")

    # Archives: a key checked out, then again (a conflict), a file lent.
    key = api.post("manager", f"{s}/keys", {"kind": "EQUIPMENT_KEY", "tag": "PUMP-ROOM-1"},
                   "archives: a key").get("name", "")
    out = {"holder": {"kind": "CONTRACTOR", "name": "Li Gong", "organization": "Harbin Plumbing"},
           "purpose": "REPAIR", "dueBack": "2099-01-01T00:00:00Z"}
    api.post("staff", f"{key}:checkOut", dict(out, requestId=str(uuid.uuid4())), "archives: the key checked out")
    status, _ = api.call("staff", "POST", f"{key}:checkOut", dict(out, requestId=str(uuid.uuid4())))
    check(status == 400, "archives: checking out a key that is out is refused (a check-out conflict)", status)
    doc = api.post("staff", f"{s}/documents", {"category": "RELEASE_ORDER", "title": "Release order 9",
                                               "location": {"building": "B3", "box": "BOX-01"},
                                               "confidentiality": "INTERNAL"}, "archives: a file").get("name", "")
    api.post("staff", f"{doc}:lend", {"borrower": "Wang", "purpose": "copy for the owner",
                                      "dueTime": "2099-01-01T00:00:00Z", "requestId": str(uuid.uuid4())},
             "archives: the file lent")

    # Cleaning: a store, an item, stock received (stock value, items below
    # their reorder point, issue slips waiting by stage).
    store = api.post("manager", f"{s}/warehouses", {"displayName": "Main store", "kind": "STORE"},
                     "cleaning: a store").get("name")
    mops = api.post("manager", f"{s}/items", {"sku": "MOP-HEAD", "displayName": "Mop head",
                                              "unitOfMeasure": "piece", "reorderPoint": "5"},
                    "cleaning: an item").get("name")
    api.post("staff", f"{s}/stockMoves:receive", {"warehouse": store, "item": mops, "quantity": "3",
                                                  "unitCostMinor": "1250", "supplier": "Harbin Supplies",
                                                  "requestId": str(uuid.uuid4())}, "cleaning: stock received")

    drive_handover(api, item)
    return {"key": key}


def drive_handover(api, charge_item):
    """A unit handed over to its owner: the batch, the case booked, inspected,
    accepted and completed (handover's completion counter and its outbox
    deliveries to archives, billing and tickets)."""
    s = f"sites/{api.site}"
    now = time.time()
    day = lambda t: time.strftime("%Y-%m-%d", time.gmtime(t))
    batch = api.post("manager", f"{s}/handoverBatches", {
        "displayName": "Area B, phase 2", "windowStart": day(now - 10 * 86400), "windowEnd": day(now + 20 * 86400),
        "dayStart": "09:00", "dayEnd": "17:00", "slotMinutes": 60, "timeZone": "UTC",
        "inspectors": ["e2e-staff"], "chargeItems": [charge_item]}, "handover: a batch")
    api.post("manager", f"{s}/units?unitId=B-2-0801",
             {"building": "B2", "floor": 8, "number": "0801", "areaCentiM2": "9837"}, "handover: the unit")
    key = api.post("manager", f"{s}/keys", {"kind": "UNIT_KEY", "tag": "B-2-0801-A1", "unit": f"{s}/units/B-2-0801",
                                            "keySet": "A"}, "handover: the unit's key").get("name")
    c = api.post("staff", f"{s}/handoverCases", {"batch": batch.get("name"), "unit": "B-2-0801",
                                                 "ownerName": "Liu Wei", "ownerPhone": "+86 139 0000 0801",
                                                 "building": "B2", "billableArea": "98.37"}, "handover: a case")
    slot = time.strftime("%Y-%m-%dT10:00:00Z", time.gmtime(now + 86400))
    slot_end = time.strftime("%Y-%m-%dT11:00:00Z", time.gmtime(now + 86400))
    c = api.post("staff", f"{c.get('name')}:schedule", {
        "etag": c.get("etag"), "requestId": str(uuid.uuid4()),
        "appointment": {"inspector": "e2e-staff", "startTime": slot, "endTime": slot_end}}, "handover: booked")
    c = api.post("staff", f"{c.get('name')}:inspect", {
        "etag": c.get("etag"), "requestId": str(uuid.uuid4()),
        "checklist": [{"code": i["code"], "result": "PASS"} for i in batch.get("checklist", [])]},
        "handover: inspected, nothing to fix")
    c = api.post("staff", f"{c.get('name')}:accept", {
        "etag": c.get("etag"), "requestId": str(uuid.uuid4()), "acceptedBy": "Liu Wei",
        "signatureRef": "sig://handover/B-2-0801"}, "handover: accepted by the owner")
    c = api.post("staff", f"{c.get('name')}:complete", {
        "etag": c.get("etag"), "requestId": str(uuid.uuid4()), "ownerMovesIn": True, "keys": [key],
        "openingReadings": [{"meter": "water", "value": "12.5"}]}, "handover: completed")
    check(c.get("state") == "COMPLETED", "handover: the case is COMPLETED", c)


# --- Prometheus -----------------------------------------------------------------

def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def alert_rules(root):
    """The rule groups of k8s/monitoring: from the PrometheusRule resource(s),
    or from plain rule files when there is no such resource."""
    from_resources, plain = [], []
    for path in sorted(glob.glob(f"{root}/k8s/monitoring/**/*.yaml", recursive=True)):
        with open(path) as fh:
            for doc in yaml.safe_load_all(fh):
                if not isinstance(doc, dict):
                    continue
                if doc.get("kind") == "PrometheusRule":
                    from_resources += (doc.get("spec") or {}).get("groups") or []
                elif isinstance(doc.get("groups"), list) and "kind" not in doc:
                    plain += doc["groups"]
    return from_resources or plain


class Prometheus:
    def __init__(self, work, targets, namespace, rules):
        self.work, self.port = work, free_port()
        shutil.rmtree(work, ignore_errors=True)
        os.makedirs(f"{work}/data")
        with open(f"{work}/rules.yaml", "w") as fh:
            yaml.safe_dump({"groups": rules}, fh)
        config = {
            "global": {"scrape_interval": "1s", "scrape_timeout": "1s", "evaluation_interval": "1s"},
            "rule_files": [f"{work}/rules.yaml"],
            "scrape_configs": [
                {"job_name": job, "static_configs": [{"targets": [addr], "labels": {"namespace": namespace}}]}
                for job, addr in sorted(targets.items())],
        }
        with open(f"{work}/prometheus.yml", "w") as fh:
            yaml.safe_dump(config, fh)
        self.log = open(f"{work}/prometheus.log", "w")
        self.proc = subprocess.Popen(
            ["prometheus", f"--config.file={work}/prometheus.yml", f"--storage.tsdb.path={work}/data",
             f"--web.listen-address=127.0.0.1:{self.port}", "--storage.tsdb.retention.time=1h"],
            stdout=self.log, stderr=subprocess.STDOUT)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()

    def api(self, path, **params):
        url = f"http://127.0.0.1:{self.port}/api/v1/{path}"
        if params:
            url += "?" + urllib.parse.urlencode(params, doseq=True)
        try:
            with urllib.request.urlopen(url, timeout=5) as r:
                return json.loads(r.read())["data"]
        except (urllib.error.URLError, ConnectionError, OSError):
            return None

    def query(self, expr):
        got = self.api("query", query=expr)
        if got is None:
            raise RuntimeError(f"Prometheus did not answer the query {expr}")
        return got["result"]

    def ready(self):
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/-/ready", timeout=2) as r:
                return r.status == 200
        except (urllib.error.URLError, ConnectionError, OSError):
            return False


# --- what the rules and the dashboards select -----------------------------------

def dashboard_queries(root):
    """(dashboard, where, expr, variables) of every panel target and query variable."""
    out = []
    for path in sorted(glob.glob(f"{root}/k8s/monitoring/dashboards/*.json")):
        with open(path) as fh:
            d = json.load(fh)
        n = os.path.basename(path)
        tvars = [v for v in (d.get("templating") or {}).get("list") or [] if v.get("type") == "query"]

        def walk(panels):
            for p in panels:
                yield p
                yield from walk(p.get("panels") or [])
        for p in walk(d.get("panels") or []):
            for t in p.get("targets") or []:
                out.append((n, f"{p.get('title')} ({t.get('refId')})", t["expr"], tvars))
        for v in tvars:
            q = v.get("query")
            q = q.get("query", "") if isinstance(q, dict) else q
            m = re.fullmatch(r"\s*label_values\((.*),\s*(\w+)\s*\)\s*", q)
            out.append((n, f"variable {v['name']} ({m.group(2)})", m.group(1), tvars))
    return out


def fill(text, values):
    """Grafana's variables replaced by values (a list per variable: the first)."""
    text = re.sub(r"\$(__rate_interval|__range|__interval)\b|\$\{(__\w+)\}", "1m", text)

    def one(m):
        name = m.group(1) or m.group(2)
        return values.get(name, [m.group(0)])[0]
    return re.sub(r"\$\{(\w+)(?::\w+)?\}|\$(\w+)", one, text)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--root", required=True)
    ap.add_argument("--bin", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("--secret", required=True)
    ap.add_argument("--gateway", required=True)
    ap.add_argument("--target", action="append", default=[], help="JOB=HOST:PORT of a /metrics")
    ap.add_argument("--site", default="north")
    ap.add_argument("--namespace", default="estate-e2e")
    args = ap.parse_args()
    sys.path.insert(0, f"{args.root}/tests/k8s")
    from promql import selectors

    started = time.monotonic()
    api = Api(args.gateway, args.bin, args.secret, args.site)
    drive_activity(api)

    targets = dict(t.split("=", 1) for t in args.target)
    rules = alert_rules(args.root)
    check(rules, f"alert rules found under k8s/monitoring ({sum(len(g.get('rules') or []) for g in rules)} rules)")
    prom = Prometheus(args.work, targets, args.namespace, rules)
    try:
        run_checks(args, api, prom, targets, rules, selectors)
    finally:
        prom.stop()
    print(f"# {time.monotonic() - started:.1f} s")


def run_checks(args, api, prom, targets, rules, selectors):
    ns = args.namespace
    check(wait_for("ready", prom.ready, 20) and prom.proc.poll() is None,
          f"prometheus serves on 127.0.0.1:{prom.port}", open(f"{args.work}/prometheus.log").read()[-2000:])

    # Two scrapes of every target: two samples of `up` each.
    def scraped_twice():
        got = {r["metric"]["job"]: int(r["value"][1]) for r in
               prom.query(f'count_over_time(up{{namespace="{ns}"}}[1m])')}
        return got if set(got) == set(targets) and min(got.values()) >= 2 else None
    twice = wait_for("two scrapes", scraped_twice, 20)
    check(twice, f"every target ({', '.join(sorted(targets))}) scraped twice", twice)
    # A scrape that timed out on a busy machine is retried a second later.
    def down_targets():
        return [t for t in prom.api("targets")["activeTargets"] if t["health"] != "up"]
    wait_for("every target up", lambda: not down_targets(), 10)
    down = down_targets()
    check(not down, "every target is up", [(t["labels"].get("job"), t["lastError"]) for t in down])

    # The rules loaded, evaluated without error; no critical alert while healthy.
    want_rules = sum(len(g.get("rules") or []) for g in rules)

    def evaluated():
        groups = prom.api("rules")["groups"]
        loaded = [r for g in groups for r in g["rules"]]
        return groups if len(loaded) == want_rules and all(r.get("health") != "unknown" for r in loaded) else None
    groups = wait_for("rules evaluated", evaluated, 10) or prom.api("rules")["groups"]
    loaded = [r for g in groups for r in g["rules"]]
    check(len(loaded) == want_rules, f"prometheus loaded all {want_rules} rules (got {len(loaded)})")
    bad = [(r["name"], r.get("lastError")) for r in loaded if r.get("health") != "ok"]
    check(not bad, "every rule evaluates without error", bad)
    # (The Absent alerts are pending until the first scrape's evaluation.)
    def critical():
        return [(a["labels"].get("alertname"), a["state"]) for a in prom.api("alerts")["alerts"]
                if a["labels"].get("severity") == "critical"]
    wait_for("no critical alert", lambda: not critical(), 10)
    alerting = critical()
    check(not alerting, "no critical alert is pending or firing while the suite is healthy", alerting)

    # Every selector of the rules and the dashboards returns series.
    empty, site_unfiltered, names = [], [], set()
    exempt_seen = {}  # pattern -> the selectors it matched, variables filled in

    def series(sel):
        return prom.query(sel)

    for g in rules:
        for r in g.get("rules") or []:
            for s in selectors(r["expr"]):
                names.add(s.name)
                if exempt(s):
                    exempt_seen.setdefault(exempt(s), set()).add(s.text)
                    continue
                if not wait_for(s.text, lambda: series(s.text), 3):
                    empty.append(f"rule {r.get('alert') or r.get('record')}: {s.text}")
    var_values = {}  # (dashboard, variable) -> the values its query lists
    for n, where, expr, tvars in dashboard_queries(args.root):
        # $namespace is the suite's, $site All (.*); any other variable ($job)
        # each value it lists: the panel must show series for at least one.
        values = {"namespace": [ns], "site": [".*"]}
        for v in tvars:
            if v["name"] in values:
                continue
            if (n, v["name"]) not in var_values:
                q = v["query"]["query"] if isinstance(v["query"], dict) else v["query"]
                m = re.fullmatch(r"\s*label_values\((.*),\s*(\w+)\s*\)\s*", q)
                var_values[(n, v["name"])] = sorted(
                    {r["metric"].get(m.group(2)) for r in series(fill(m.group(1), values))} - {None})
            values[v["name"]] = var_values[(n, v["name"])]
        choices = [dict(zip(values, [[x] for x in combo])) for combo in itertools.product(*values.values())]
        for s in selectors(expr):
            names.add(s.name)
            if exempt(s):
                exempt_seen.setdefault(exempt(s), set()).update(fill(s.text, c) for c in choices)
                continue
            found = wait_for(s.text, lambda: next((got for c in choices if (got := series(fill(s.text, c)))), None), 3)
            if not found:
                empty.append(f"{n}: {where}: {s.text}")
            elif any("site" in r["metric"] for r in found) and ("=~", "$site") not in s.labels("site") \
                    and not where.startswith("variable site"):
                site_unfiltered.append(f"{n}: {where}: {s.text}")
    # The namespace and site variables list the suite's namespace and site.
    for n, where, expr, tvars in dashboard_queries(args.root):
        m = re.fullmatch(r"variable (namespace|site) \((\w+)\)", where)
        if m:
            var_values[(n, m.group(1))] = sorted(
                {r["metric"].get(m.group(2)) for r in series(fill(expr, {"namespace": [ns]}))} - {None})
    for (n, name), vals in sorted(var_values.items()):
        want = {"namespace": ns, "site": args.site}.get(name)
        check(vals and (want is None or want in vals), f"{n}: variable {name} lists values ({vals})")
    check(not empty, f"every metric selector of the rules and the dashboards returns series ({len(names)} metrics)",
          "\n  ".join(empty))
    check(not site_unfiltered, "every dashboard selector whose series carry a site label filters by $site",
          "\n  ".join(site_unfiltered))
    stale = set(NO_SERIES_IN_A_SHORT_RUN) - set(exempt_seen)
    check(not stale, "every selector listed as empty in a short run is still used by the rules or dashboards", stale)
    grown = sorted(sel for sels in exempt_seen.values() for sel in sels if series(sel))
    check(not grown, f"the {sum(map(len, exempt_seen.values()))} selectors listed as empty in a short run are "
          "empty (else take them off the list)", grown)

    # Business gauges: what Prometheus has equals what the API reports.
    site = args.site
    month = time.strftime("%Y-%m", time.gmtime())

    def api_ratio():
        total = api.get("viewer", f"sites/{site}/collectionReport?period={month}").get("allLines", {}).get("total", {})
        billed, collected = int(total.get("billedMinor", 0)), int(total.get("collectedMinor", 0))
        return collected / billed if billed else None

    def api_keys_out():
        return sum(int(k.get("out", 0)) for k in api.get("viewer", f"sites/{site}/keyCounts").get("kinds", []))

    for what, metric, from_api in (
            ("collection ratio", "estate_billing_collection_ratio", api_ratio),
            ("keys out", "estate_archives_keys_out", api_keys_out)):
        sel = f'max({metric}{{namespace="{ns}", site="{site}"}})'
        last = {}

        def same():
            want, got = from_api(), prom.query(sel)
            last.update(want=want, got=float(got[0]["value"][1]) if got else None)
            return want is not None and last["got"] is not None and abs(last["got"] - want) < 1e-9
        agreed = wait_for(what, same, 15)
        check(agreed and 0 < last["want"], f"{what} of site {site}: Prometheus has what the API reports "
              f"({last.get('got')} vs {last.get('want')})", last)


if __name__ == "__main__":
    try:
        main()
    except Exception:  # noqa: BLE001 - a crash is a failed check, with its traceback
        import traceback
        traceback.print_exc()
        failed += 1
    print(f"{passed} passed, {failed} failed")
    sys.exit(1 if failed else 0)
