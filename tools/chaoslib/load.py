"""The mixed workload of a property group's staff, through the gateway: the
front desk (tickets opened and assigned), the cashier (payments), the archive
clerk (keys out and back in), the storekeeper (issue slips created, signed
three times and posted) and the handover team (cases completed). Every write
carries a requestId and a marker the checker finds it by in the database."""

import collections
import random
import threading
import time
import uuid

from . import client as client_mod

# Writes of one kind, in the order a worker's round does them.
KINDS = ("ticket.create", "ticket.assign", "payment.record", "key.checkOut", "key.checkIn",
         "slip.create", "slip.sign", "slip.post", "handover.accept", "handover.complete")
# A write whose outcome stays unknown this long is given up ("unresolved").
RETRY_FOR = 120.0


class Write:
    def __init__(self, kind, site, phase):
        self.id = str(uuid.uuid4())
        self.kind, self.site, self.phase = kind, site, phase
        self.started = time.monotonic()
        self.acked_at = None
        self.outcome = None      # "acked", "refused" or "unresolved"
        self.status = None       # the last answer's status
        self.unknown = False     # some attempt's outcome was unknown
        self.attempts = 0
        self.resource = None     # the name the answer gave
        self.expect = {}         # what the checker expects of it


class Recorder:
    """What happened, by fault phase; shared by every worker."""

    def __init__(self):
        self.lock = threading.Lock()
        self.phase = "warm-up"
        self.phase_started = {"warm-up": time.monotonic()}
        self.writes = []
        self.codes = collections.defaultdict(collections.Counter)  # phase -> status -> n
        self.past_deadline = collections.Counter()                 # phase -> n
        self.first_ack_after = {}                                  # phase -> seconds

    def set_phase(self, name):
        with self.lock:
            self.phase = name
            self.phase_started[name] = time.monotonic()

    def fault_injected(self):
        """"Serve again" counts from here: a write started while the fault
        was still being injected (before the SIGKILL landed) proves nothing."""
        with self.lock:
            self.phase_started[self.phase] = time.monotonic()

    def attempt(self, answer):
        with self.lock:
            self.codes[self.phase][answer.status] += 1
            if answer.seconds > client_mod.DEADLINE + 1.0:
                self.past_deadline[self.phase] += 1

    def new(self, kind, site):
        with self.lock:
            w = Write(kind, site, self.phase)
            self.writes.append(w)
            return w

    def acked(self, w):
        with self.lock:
            # Time to serve again: from the fault to the first write that was
            # started after it and acknowledged.
            started = self.phase_started[self.phase]
            if self.phase not in self.first_ack_after and w.started >= started:
                self.first_ack_after[self.phase] = w.acked_at - started


def send(rec, cl, w, method, path, body, token=None):
    """Sends w until it has a definite answer; returns the last Answer."""
    deadline = time.monotonic() + RETRY_FOR
    backoff = 0.2
    while True:
        w.attempts += 1
        a = cl.call(method, path, body, token)
        rec.attempt(a)
        w.status = a.status
        if not client_mod.unknown_outcome(a):
            break
        w.unknown = True
        if time.monotonic() > deadline:
            w.outcome = "unresolved"
            return a
        time.sleep(backoff)
        backoff = min(backoff * 1.6, 2.0)
    if a.ok:
        w.outcome = "acked"
        w.acked_at = time.monotonic()
        w.resource = a.body.get("name")
        rec.acked(w)
    else:
        w.outcome = "refused"
    return a


class Site:
    """What the workers of one site share: its accounts, keys, cases."""

    def __init__(self, name):
        self.name = name
        self.lock = threading.Lock()
        self.accounts = []
        self.free_keys = []
        self.cases_to_accept = []   # (name, etag)
        self.cases_to_complete = []
        self.warehouse = self.team = None
        self.items = []


def prepare_site(cl, site, tokens):
    """Reads the demo data the workload needs, and stocks the store."""
    s = Site(site)
    base = f"/v1/sites/{site}"

    def get(path):
        a = cl.call("GET", base + path)
        if not a.ok:
            raise RuntimeError(f"GET {base}{path}: {a.status} {a.body}")
        return a.body

    s.accounts = [a["name"] for a in get("/accounts?pageSize=500")["accounts"]]
    keys = get("/keys?state=IN_CABINET&pageSize=500")["keys"]
    # Building 1's keys: handover completions hand Area B's keys to owners.
    s.free_keys = [k["name"] for k in keys if not k["master"] and "/units/1-" in k.get("unit", "")]
    cases = get("/handoverCases?pageSize=500")["cases"]
    s.cases_to_complete = [(c["name"], c["etag"]) for c in cases if c["state"] == "ACCEPTED"]
    s.cases_to_accept = [(c["name"], c["etag"]) for c in cases if c["state"] == "INSPECTED"]
    s.warehouse = next(w["name"] for w in get("/warehouses")["warehouses"] if w["kind"] == "STORE")
    s.team = get("/teams")["teams"][0]["name"]
    items = get("/items?pageSize=500")["items"]
    s.items = [i["name"] for i in items if i["sku"] in ("MOP-HEAD", "GLOVES-M", "TRASH-BAG-L")]
    for item in s.items:
        a = cl.call("POST", base + "/stockMoves:receive",
                    {"warehouse": s.warehouse, "item": item, "quantity": "100000",
                     "unitCostMinor": "100", "supplier": "chaos", "requestId": str(uuid.uuid4())})
        if not a.ok:
            raise RuntimeError(f"receiving stock on {site}: {a.status} {a.body}")
    return s


def _with_id(value, wid):
    if isinstance(value, str):
        return value.replace("{id}", wid)
    if isinstance(value, dict):
        return {k: _with_id(v, wid) for k, v in value.items()}
    if isinstance(value, list):
        return [_with_id(v, wid) for v in value]
    return value


class Worker(threading.Thread):
    def __init__(self, rec, base, tokens, site, keys, interval, stop, rng):
        super().__init__(daemon=True)
        self.rec, self.site, self.keys, self.interval, self.stop, self.rng = (
            rec, site, keys, interval, stop, rng)
        self.tokens = tokens
        self.cl = client_mod.Client(base, tokens["worker"])
        self.out = {}  # key -> holder of a key this worker has out
        self.p = f"/v1/sites/{site.name}"

    def run(self):
        ops = [(self.ticket, 30), (self.payment, 30), (self.key, 20), (self.slip, 10),
               (self.handover, 10)]
        fns, weights = zip(*ops)
        next_at = time.monotonic()
        while not self.stop.is_set():
            self.rng.choices(fns, weights)[0]()
            next_at += self.interval
            pause = next_at - time.monotonic()
            if pause > 0:
                self.stop.wait(pause)
            else:
                next_at = time.monotonic()

    def write(self, kind, method, path, body, token=None):
        """One write: "{id}" in the body's strings becomes its requestId (the
        marker the checker finds it by); the requestId goes in the body where
        the route takes one there, else in the query."""
        w = self.rec.new(kind, self.site.name)
        body = _with_id(body, w.id)
        if body is None or "requestId" not in body:
            path += ("&" if "?" in path else "?") + "requestId=" + w.id
        return w, send(self.rec, self.cl, w, method, path, body, token)

    # --- the front desk ---------------------------------------------------
    def ticket(self):
        w, a = self.write("ticket.create", "POST", self.p + "/tickets",
                          {"kind": "REPAIR", "channel": "PHONE", "title": "chaos {id}"})
        if w.outcome != "acked":
            return
        w2, _ = self.write("ticket.assign", "POST", f"/v1/{w.resource}:assign",
                           {"etag": a.body["etag"], "requestId": "{id}", "department": "engineering",
                            "assignee": "chaos"})
        w2.resource = w.resource

    # --- the cashier -------------------------------------------------------
    def payment(self):
        account = self.rng.choice(self.site.accounts)
        amount = self.rng.randint(100, 50000)
        w, _ = self.write("payment.record", "POST", self.p + "/payments",
                          {"account": account, "method": "CASH", "amountMinor": str(amount),
                           "currencyCode": "CNY", "reference": "{id}"})
        w.expect = {"account": account, "amountMinor": str(amount)}

    # --- the archive clerk -------------------------------------------------
    def key(self):
        if self.out and (len(self.out) == len(self.keys) or self.rng.random() < 0.5):
            key = next(iter(self.out))
            w, a = self.write("key.checkIn", "POST", f"/v1/{key}:checkIn",
                              {"condition": "ok", "receivedBy": "chaos clerk", "requestId": "{id}"})
            w.resource, w.expect = key, {"checkout": self.out[key]}
            if w.outcome == "acked" or (w.outcome == "refused" and a.status == 400):
                del self.out[key]
            return
        free = [k for k in self.keys if k not in self.out]
        if not free:
            return
        key = self.rng.choice(free)
        w, a = self.write("key.checkOut", "POST", f"/v1/{key}:checkOut",
                          {"holder": {"kind": "STAFF", "name": "chaos {id}"}, "purpose": "REPAIR",
                           "requestId": "{id}"})
        w.resource = key
        if w.outcome == "acked":
            self.out[key] = w.id

    # --- the storekeeper ---------------------------------------------------
    def slip(self):
        item = self.rng.choice(self.site.items)
        w, a = self.write("slip.create", "POST", self.p + "/issueSlips",
                          {"warehouse": self.site.warehouse, "team": self.site.team,
                           "purpose": "chaos {id}", "lines": [{"item": item, "quantity": "1"}]})
        if w.outcome != "acked":
            return
        slip = w.resource
        for role, token in (("RECIPIENT", None), ("MONITOR", self.tokens["monitor"]),
                            ("MANAGER", self.tokens["manager"])):
            ws, _ = self.write("slip.sign", "POST", f"/v1/{slip}:sign",
                               {"role": role, "requestId": "{id}"}, token)
            ws.resource = slip
            if ws.outcome != "acked":
                return
        wp, _ = self.write("slip.post", "POST", f"/v1/{slip}:post", {"requestId": "{id}"})
        wp.resource, wp.expect = slip, {"item": item}

    # --- the handover team -------------------------------------------------
    def handover(self):
        with self.site.lock:
            accept = self.site.cases_to_accept.pop() if self.site.cases_to_accept else None
            complete = None if accept else (
                self.site.cases_to_complete.pop() if self.site.cases_to_complete else None)
        if accept:
            case, etag = accept
            w, a = self.write("handover.accept", "POST", f"/v1/{case}:accept",
                              {"etag": etag, "acceptedBy": "chaos owner",
                               "signatureRef": "chaos", "requestId": "{id}"})
            w.resource = case
            if w.outcome == "acked":
                with self.site.lock:
                    self.site.cases_to_complete.append((case, a.body["etag"]))
        elif complete:
            case, etag = complete
            w, _ = self.write("handover.complete", "POST", f"/v1/{case}:complete",
                              {"etag": etag, "requestId": "{id}"})
            w.resource = case
        else:
            self.ticket()
