"""The fault "a bill run's commit killed mid-way": each site's run for next
month is committed, billing is SIGKILLed once some but not all of its
accounts are issued, and started again; the run must resume (after its
lease) and issue every line exactly once."""

import datetime
import time

from . import load


class BillRunFault:
    def __init__(self, suite, rec, cl, sites, log):
        self.suite, self.rec, self.cl, self.sites, self.log = suite, rec, cl, sites, log
        self.runs = []          # run names
        self.done_at_kill = {}  # run -> "accounts_done/accounts"

    def inject(self):
        today = datetime.date.today()
        next_month = (today.replace(day=28) + datetime.timedelta(days=4)).replace(day=1)
        for site in self.sites:
            w = self.rec.new("billrun.create", site)
            a = load.send(self.rec, self.cl, w, "POST", f"/v1/sites/{site}/billRuns?requestId={w.id}",
                          {"cycle": "MONTHLY", "periodDate": next_month.isoformat()})
            if w.outcome != "acked":
                raise RuntimeError(f"creating a bill run on {site}: {a.status} {a.body}")
            run = w.resource
            w = self.rec.new("billrun.commit", site)
            a = load.send(self.rec, self.cl, w, "POST", f"/v1/{run}:commit", {"requestId": w.id})
            if w.outcome != "acked":
                raise RuntimeError(f"committing {run}: {a.status} {a.body}")
            w.resource = run
            self.runs.append(run)
        # Kill once a run is part-way through.
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            states = [self.cl.call("GET", "/v1/" + r).body for r in self.runs]
            if any(0 < int(s.get("accountsDone", 0)) < int(s.get("accounts", 0)) for s in states) \
                    or all(s.get("state") == "COMMITTED" for s in states):
                break
            time.sleep(0.01)
        self.suite.kill("billing")
        for r, s in zip(self.runs, states):
            self.done_at_kill[r] = f"{s.get('accountsDone')}/{s.get('accounts')} accounts, {s.get('state')}"
        self.log("  billing killed with " + "; ".join(f"{r}: {d}" for r, d in self.done_at_kill.items()))

    def check(self, seconds):
        """Problems (empty if none) once every run has finished or `seconds` passed."""
        problems = []
        deadline = time.monotonic() + seconds
        for run in self.runs:
            while True:
                a = self.cl.call("GET", "/v1/" + run)
                if (a.ok and a.body.get("state") != "COMMITTING") or time.monotonic() > deadline:
                    break
                time.sleep(0.5)
            b = a.body
            if b.get("state") != "COMMITTED":
                problems.append(f"{run} is {b.get('state')} ({b.get('failure', '')}), not COMMITTED")
                continue
            site, rid = run.split("/")[1], run.rsplit("/", 1)[1]
            n, total = self.suite.sql(f"""
                SELECT COUNT(*), COALESCE(SUM(l.amount_minor), 0) FROM estate_billing.bill_lines l
                JOIN estate_billing.bills b ON b.id = l.bill_id WHERE b.run_id = {rid}""")[0]
            issued, skipped, lines = (int(b.get(k, 0)) for k in ("linesIssued", "linesSkipped", "lines"))
            if issued != int(n) or int(b.get("issuedMinor", 0)) != int(total):
                problems.append(f"{run} says {issued} lines ({b.get('issuedMinor')}) issued, the "
                                f"database holds {n} ({total})")
            if issued + skipped != lines or int(b.get("accountsDone", 0)) != int(b.get("accounts", 0)):
                problems.append(f"{run}: {issued} issued + {skipped} skipped of {lines} lines, "
                                f"{b.get('accountsDone')}/{b.get('accounts')} accounts")
        return problems
