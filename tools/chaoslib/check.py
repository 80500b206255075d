"""After the run: every acknowledged write is there exactly once (read back
through the API and counted in the database by the marker it carried), no
write with an unknown outcome is there twice, and the books, the stock, the
key cabinet and the outboxes are consistent."""

import collections
import threading
import time

# Each query returns the rows that break an invariant: none is the answer.
INVARIANTS = {
    "billing: account balance = its ledger sum": """
        SELECT a.site, a.unit, a.balance_minor, COALESCE(l.s, 0)
        FROM estate_billing.accounts a
        LEFT JOIN (SELECT account_id, SUM(amount_minor) s FROM estate_billing.ledger
                   GROUP BY account_id) l ON l.account_id = a.id
        WHERE a.balance_minor <> COALESCE(l.s, 0)""",
    "billing: ledger = what the lines still owe - credit": """
        SELECT a.site, a.unit FROM estate_billing.accounts a
        LEFT JOIN (SELECT account_id, SUM(amount_minor) s FROM estate_billing.ledger
                   GROUP BY account_id) l ON l.account_id = a.id
        LEFT JOIN (SELECT account_id, SUM(amount_minor - paid_minor - written_off_minor) owed
                   FROM estate_billing.bill_lines GROUP BY account_id) b ON b.account_id = a.id
        WHERE COALESCE(l.s, 0) <> COALESCE(b.owed, 0) - a.credit_minor""",
    "billing: each line's paid = its allocations": """
        SELECT l.site, l.id FROM estate_billing.bill_lines l
        LEFT JOIN (SELECT line_id, SUM(amount_minor) s FROM estate_billing.allocations
                   GROUP BY line_id) x ON x.line_id = l.id
        WHERE l.paid_minor <> COALESCE(x.s, 0)""",
    "billing: money paid in = allocated + credit": """
        SELECT a.site, a.unit FROM estate_billing.accounts a
        LEFT JOIN (SELECT account_id, SUM(amount_minor) s FROM estate_billing.payments
                   WHERE NOT reversed GROUP BY account_id) p ON p.account_id = a.id
        LEFT JOIN (SELECT account_id, SUM(amount_minor) s FROM estate_billing.allocations
                   GROUP BY account_id) x ON x.account_id = a.id
        WHERE COALESCE(p.s, 0) <> COALESCE(x.s, 0) + a.credit_minor""",
    "billing: each payment has one ledger row of its amount": """
        SELECT p.site, p.id FROM estate_billing.payments p
        LEFT JOIN estate_billing.ledger l ON l.payment_id = p.id AND l.kind IN (2, 3)
        GROUP BY p.id, p.site, p.amount_minor, p.reversed
        HAVING SUM(l.kind = 2) <> 1 OR SUM(IF(l.kind = 2, l.amount_minor, 0)) <> -p.amount_minor
            OR SUM(l.kind = 3) <> p.reversed""",
    "billing: collection totals = a recount of the lines": """
        WITH r AS (
          SELECT site, report_period p, building, item_id, (late_fee_of IS NOT NULL) lf, held,
                 COUNT(*) n, SUM(amount_minor) billed, SUM(paid_minor) collected,
                 SUM(written_off_minor) wo
          FROM estate_billing.bill_lines GROUP BY 1, 2, 3, 4, 5, 6),
        t AS (SELECT * FROM estate_billing.collection_totals WHERE line_count <> 0)
        SELECT t.site, t.period_label FROM t LEFT JOIN r
          ON r.site = t.site AND r.p = t.period_label AND r.building = t.building
         AND r.item_id = t.item_id AND r.lf = t.late_fee AND r.held = t.held
        WHERE r.site IS NULL OR r.n <> t.line_count OR r.billed <> t.billed_minor
           OR r.collected <> t.collected_minor OR r.wo <> t.written_off_minor
        UNION ALL
        SELECT r.site, r.p FROM r LEFT JOIN t
          ON t.site = r.site AND t.period_label = r.p AND t.building = r.building
         AND t.item_id = r.item_id AND t.late_fee = r.lf AND t.held = r.held
        WHERE t.site IS NULL""",
    "cleaning: stock = the running sum of its moves": """
        SELECT id, site FROM (
          SELECT m.*, SUM(quantity) OVER w rq, SUM(value_minor) OVER w rv
          FROM estate_cleaning.stock_moves m
          WINDOW w AS (PARTITION BY warehouse_id, item_id ORDER BY id ROWS UNBOUNDED PRECEDING)) x
        WHERE balance_after <> rq OR value_after <> rv""",
    "cleaning: stock never negative": """
        SELECT id, site FROM estate_cleaning.stock_moves WHERE balance_after < 0 OR value_after < 0""",
    "cleaning: a posted slip has its issue moves, an unposted one none": """
        SELECT s.site, s.id FROM estate_cleaning.issue_slips s
        LEFT JOIN estate_cleaning.stock_moves m
          ON m.kind = 2 AND m.reference = CONCAT('sites/', s.site, '/issueSlips/', s.id)
        GROUP BY s.id, s.site, s.state, s.value_minor
        HAVING (s.state = 5 AND (COUNT(m.id) = 0 OR -COALESCE(SUM(m.value_minor), 0) <> s.value_minor))
            OR (s.state <> 5 AND COUNT(m.id) > 0)""",
    "archives: one open custody per key, and only for a key that is out": """
        SELECT k.site, k.tag FROM estate_archives.key_register k
        LEFT JOIN estate_archives.key_custody c ON c.key_id = k.id AND c.to_at IS NULL
        GROUP BY k.id, k.site, k.tag, k.state
        HAVING (k.state IN (2, 3) AND COUNT(c.id) <> 1) OR (k.state NOT IN (2, 3) AND COUNT(c.id) <> 0)""",
    "handover: each case's moves applied once, completion with its effects": """
        SELECT c.site, c.unit FROM estate_handover.handover_cases c
        LEFT JOIN (SELECT case_id, COUNT(*) n, SUM(type = 'completed') done,
                          MAX(IF(type = 'completed', CAST(SUBSTRING_INDEX(SUBSTRING_INDEX(
                              detail, '; ', -1), ' ', 1) AS UNSIGNED), NULL)) said
                   FROM estate_handover.handover_case_events GROUP BY case_id) ev ON ev.case_id = c.id
        LEFT JOIN (SELECT case_id, COUNT(*) n FROM estate_handover.handover_case_effects
                   GROUP BY case_id) ef ON ef.case_id = c.id
        WHERE c.version <> COALESCE(ev.n, 0) OR COALESCE(ev.done, 0) > 1
           OR (c.state = 6) <> (COALESCE(ev.done, 0) = 1) OR COALESCE(ef.n, 0) <> COALESCE(ev.said, 0)""",
    "every claimed request_id has its stored answer": " UNION ALL ".join(
        f"SELECT '{s}', request_id FROM estate_{s}.idempotency_keys WHERE response IS NULL"
        for s in ("billing", "tickets", "archives", "cleaning", "handover")),
    "outbox: a delivered call acted exactly once at its peer": """
        SELECT db, id FROM (
          SELECT 'handover' db, o.id, o.delivered_at, CASE o.target
            WHEN 'tickets' THEN (SELECT COUNT(*) FROM estate_tickets.tickets t
                                 WHERE t.create_request_id = o.request_id)
            WHEN 'archives' THEN (SELECT COUNT(*) FROM estate_archives.idempotency_keys k
                                  WHERE k.request_id = o.request_id)
            WHEN 'billing' THEN (SELECT COUNT(*) FROM estate_billing.idempotency_keys k
                                 WHERE k.request_id = o.request_id) END n
          FROM estate_handover.outbox o
          UNION ALL
          SELECT 'cleaning', o.id, o.delivered_at,
                 (SELECT COUNT(*) FROM estate_tickets.tickets t WHERE t.create_request_id = o.request_id)
          FROM estate_cleaning.outbox o) x
        WHERE (delivered_at IS NOT NULL AND n <> 1) OR n > 1""",
    "outbox: a dead call says why": """
        SELECT 'handover', id FROM estate_handover.outbox WHERE dead AND last_error = ''
        UNION ALL SELECT 'cleaning', id FROM estate_cleaning.outbox WHERE dead AND last_error = ''""",
}

PENDING_OUTBOX = """
    SELECT 'handover', id, target, attempts, last_error FROM estate_handover.outbox
    WHERE delivered_at IS NULL AND NOT dead
    UNION ALL SELECT 'cleaning', id, target, attempts, last_error FROM estate_cleaning.outbox
    WHERE delivered_at IS NULL AND NOT dead"""
DEAD_OUTBOX = """
    SELECT 'handover', id, target, last_code, last_error FROM estate_handover.outbox WHERE dead
    UNION ALL SELECT 'cleaning', id, target, last_code, last_error FROM estate_cleaning.outbox WHERE dead"""


def wait_for_outboxes(suite, seconds):
    """Pending outbox rows after waiting up to `seconds` for the relays."""
    deadline = time.monotonic() + seconds
    while True:
        pending = suite.sql(PENDING_OUTBOX)
        if not pending or time.monotonic() > deadline:
            return pending
        time.sleep(0.5)


def _counts(suite, query):
    return {row[0]: int(row[1]) for row in suite.sql(query)}


def count_copies(suite, writes):
    """Copies in the database of each write, found by its marker: write id ->
    number of rows it made (of its kind)."""
    ids = lambda kind: [w.id for w in writes if w.kind == kind]
    copies = {}

    def in_list(values):
        return ",".join(f"'{v}'" for v in values) or "''"

    tickets = _counts(suite, f"""SELECT SUBSTRING(title, 7), COUNT(*) FROM estate_tickets.tickets
                                 WHERE title IN ({in_list('chaos ' + i for i in ids('ticket.create'))})
                                 GROUP BY title""")
    payments = _counts(suite, f"""SELECT reference, COUNT(*) FROM estate_billing.payments
                                  WHERE reference IN ({in_list(ids('payment.record'))}) GROUP BY reference""")
    custody = _counts(suite, """SELECT REGEXP_SUBSTR(CONVERT(holder USING latin1), 'chaos [0-9a-f-]{36}'),
                                       COUNT(*) FROM estate_archives.key_custody
                                WHERE CONVERT(holder USING latin1) LIKE '%chaos %' GROUP BY 1""")
    slips = _counts(suite, """SELECT SUBSTRING(purpose, 7), COUNT(*) FROM estate_cleaning.issue_slips
                              WHERE purpose LIKE 'chaos %' GROUP BY purpose""")
    for w in writes:
        if w.kind == "ticket.create":
            copies[w.id] = tickets.get(w.id, 0)
        elif w.kind == "payment.record":
            copies[w.id] = payments.get(w.id, 0)
        elif w.kind == "key.checkOut":
            copies[w.id] = custody.get("chaos " + w.id, 0)
        elif w.kind == "slip.create":
            copies[w.id] = slips.get(w.id, 0)
    # Moves on a resource: how many times each took effect, from its state.
    assigned = {f"sites/{r[0]}/tickets/{r[1]}": (int(r[2]), int(r[3])) for r in suite.sql(
        """SELECT site, id, status, version FROM estate_tickets.tickets WHERE title LIKE 'chaos %'""")}
    issue_moves = _counts(suite, """SELECT reference, COUNT(*) FROM estate_cleaning.stock_moves
                                    WHERE kind = 2 AND reference LIKE 'sites/%/issueSlips/%' GROUP BY reference""")
    slip_state = {f"sites/{r[0]}/issueSlips/{r[1]}": int(r[2]) for r in suite.sql(
        "SELECT site, id, state FROM estate_cleaning.issue_slips WHERE purpose LIKE 'chaos %'")}
    case_events = collections.Counter()
    for site, cid, typ, n in suite.sql("""SELECT site, case_id, type, COUNT(*)
                                          FROM estate_handover.handover_case_events GROUP BY 1, 2, 3"""):
        case_events[(f"sites/{site}/handoverCases/{cid}", typ)] = int(n)
    returned = {r[0]: r[1] == "1" for r in suite.sql(
        """SELECT REGEXP_SUBSTR(CONVERT(holder USING latin1), 'chaos [0-9a-f-]{36}'), to_at IS NOT NULL
           FROM estate_archives.key_custody WHERE CONVERT(holder USING latin1) LIKE '%chaos %'""")}
    for w in writes:
        if w.kind == "ticket.assign" and w.resource:
            status, version = assigned.get(w.resource, (0, 0))
            # Created at version 1; one assignment makes 2, a second one 3.
            copies[w.id] = max(0, version - 1) if status == 2 else 0
        elif w.kind == "slip.post" and w.resource:
            copies[w.id] = issue_moves.get(w.resource, 0)
        elif w.kind == "slip.sign" and w.resource:
            copies[w.id] = 1 if slip_state.get(w.resource, 0) >= 2 else 0
        elif w.kind == "handover.accept":
            copies[w.id] = case_events[(w.resource, "accepted")]
        elif w.kind == "handover.complete":
            copies[w.id] = case_events[(w.resource, "completed")]
        elif w.kind == "key.checkIn":
            copies[w.id] = 1 if returned.get("chaos " + w.expect.get("checkout", ""), False) else 0
    return copies


def read_back(cl, w):
    """"" if the API shows what the acknowledged write did, else what it shows."""
    if not w.resource:
        return "no resource name in the answer"
    for _ in range(100):
        a = cl.call("GET", "/v1/" + w.resource)
        if a.status not in (429, 503):
            break
        # The gateway's per-caller rate limit, or a backend still coming back.
        time.sleep(0.2)
    if not a.ok:
        return f"GET {w.resource}: {a.status} {a.body}"
    b = a.body
    ok = {
        "ticket.create": lambda: b.get("title") == "chaos " + w.id,
        "ticket.assign": lambda: b.get("status") == "ASSIGNED",
        "payment.record": lambda: b.get("amountMinor") == w.expect.get("amountMinor")
        and b.get("account") == w.expect.get("account"),
        "key.checkOut": lambda: True,
        "key.checkIn": lambda: True,
        "slip.create": lambda: b.get("purpose") == "chaos " + w.id,
        "slip.sign": lambda: b.get("state") != "DRAFT",
        "slip.post": lambda: b.get("state") == "POSTED",
        "handover.accept": lambda: b.get("state") in ("ACCEPTED", "COMPLETED"),
        "handover.complete": lambda: b.get("state") == "COMPLETED",
        "billrun.create": lambda: True,
        "billrun.commit": lambda: b.get("state") == "COMMITTED",
    }[w.kind]()
    return "" if ok else f"GET {w.resource}: {b}"


def read_back_all(clients, writes):
    """read_back of every acknowledged write, over several callers at once
    (the gateway limits each caller's rate): write id -> what is wrong."""
    acked = [w for w in writes if w.outcome == "acked"]
    wrong = {}
    lock = threading.Lock()

    def part(cl, ws):
        for w in ws:
            try:
                why = read_back(cl, w)
            except Exception as e:  # a checker bug must fail the run, not pass it
                why = f"read back raised {e!r}"
            if why:
                with lock:
                    wrong[w.id] = why

    threads = [threading.Thread(target=part, args=(cl, acked[i::len(clients)]))
               for i, cl in enumerate(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return wrong


def invariants(suite):
    return {name: suite.sql(q) for name, q in INVARIANTS.items()}


def self_test(suite, writes):
    """Plants one duplicate and one loss among the acknowledged tickets and
    asks count_copies to find them: a checker that cannot see either would
    pass any run. Run last: it damages the data."""
    tickets = [w for w in writes if w.kind == "ticket.create" and w.outcome == "acked"]
    if len(tickets) < 2:
        return "fewer than two acknowledged tickets to plant faults among"
    doubled, lost = tickets[0], tickets[1]
    did = doubled.resource.rsplit("/", 1)[1]
    lid = lost.resource.rsplit("/", 1)[1]
    suite.sql(f"""
        CREATE TEMPORARY TABLE estate_tickets.chaos_copy AS
          SELECT * FROM estate_tickets.tickets WHERE id = {did};
        UPDATE estate_tickets.chaos_copy
          SET id = (SELECT MAX(id) + 1 FROM estate_tickets.tickets), create_request_id = NULL;
        INSERT INTO estate_tickets.tickets SELECT * FROM estate_tickets.chaos_copy;
        DELETE FROM estate_tickets.tickets WHERE id = {lid};""")
    copies = count_copies(suite, [doubled, lost])
    if copies.get(doubled.id) != 2 or copies.get(lost.id) != 0:
        return f"planted a duplicate and a loss, the checker counted {copies}"
    return ""
