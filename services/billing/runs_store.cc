// The SQL of bill runs: what a run reads, its row, and the bills it issues.
#include "services/billing/runs_store.h"

#include <algorithm>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "services/billing/billing_store.h"
#include "services/billing/billing_validation.h"
#include "services/billing/store_rows.h"
#include "services/kit/bulk_insert.h"
#include "services/kit/etag.h"
#include "services/kit/in_list.h"
#include "services/kit/serial_lock.h"
#include "services/kit/status_macros.h"
#include "services/kit/unique_keys.h"

namespace billing::store {

using kit::Conn;
using kit::Row;
using kit::SqlParam;

namespace {
// Guards money against a race that the writers' locks already prevent (a
// site's run batches are serialized); should one slip through, the loser
// plans again from a fresh read instead of failing.
constexpr kit::UniqueKeys kBillLineKeys{{
    {"once_per_period", absl::StatusCode::kAborted,
     "another run issued a line of this period meanwhile; try again"},
}};
}  // namespace

// --- bill runs: inputs ------------------------------------------------------

absl::StatusOr<std::vector<RunAccount>> ReadRunAccounts(Conn& c, const std::string& site,
                                                        int64_t after, int64_t last, int limit,
                                                        absl::CivilDay start, absl::CivilDay end) {
  ASSIGN_OR_RETURN(std::vector<Row> rows,
                   c.Query("SELECT id, unit, building, status, area, fee_start, items "
                           "FROM accounts WHERE site = ? AND id > ? AND id <= ? ORDER BY id "
                           "LIMIT ?",
                           {site, after, last, limit}));
  std::vector<RunAccount> out;
  out.reserve(rows.size());
  for (const Row& r : rows) {
    RunAccount a;
    a.facts.id = r.Int(0);
    a.unit = r.Str(1);
    a.building = r.Str(2);
    switch (static_cast<v1::AccountStatus>(r.Int(3))) {
      case v1::VACANT:
        a.facts.state = AccountState::kVacant;
        break;
      case v1::SUSPENDED:
        a.facts.state = AccountState::kSuspended;
        break;
      default:
        a.facts.state = AccountState::kActive;
    }
    absl::StatusOr<Decimal> area = Decimal::Parse(r.Str(4), "billable_area");
    if (!area.ok()) return absl::InternalError("stored billable area does not parse");
    a.facts.area = *area;
    a.facts.fee_start = DayOf(r.Str(5));
    a.facts.items = IdList(r.Str(6));
    out.push_back(std::move(a));
  }
  if (out.empty()) return out;
  ASSIGN_OR_RETURN(
      std::vector<Row> used,
      c.Query("SELECT account_id, meter, SUM(consumption_milli) FROM meter_readings "
              "WHERE site = ? AND read_on >= ? AND read_on < ? AND account_id BETWEEN ? AND ? "
              "GROUP BY account_id, meter",
              {site, DayText(start), DayText(end), out.front().facts.id, out.back().facts.id}));
  for (const Row& r : used) {
    auto it = std::lower_bound(out.begin(), out.end(), r.Int(0),
                               [](const RunAccount& a, int64_t id) { return a.facts.id < id; });
    if (it == out.end() || it->facts.id != r.Int(0)) continue;
    it->facts.consumption[r.Str(1)] = Decimal::FromUnits(std::max<int64_t>(r.Int(2), 0), 3);
  }
  return out;
}

absl::StatusOr<std::map<int64_t, ChargeRule>> ReadRules(Conn& c, const std::string& site) {
  ASSIGN_OR_RETURN(std::vector<Row> rows,
                   c.Query("SELECT id, definition FROM charge_items WHERE site = ?", {site}));
  std::map<int64_t, ChargeRule> out;
  for (const Row& r : rows) {
    ASSIGN_OR_RETURN(v1::ChargeItem def, kit::ParseStored<v1::ChargeItem>(r.Str(1)));
    absl::StatusOr<ChargeRule> rule = RuleOf(def, "");
    if (!rule.ok()) {
      // Stored before a check it fails existed: it prices nothing, and runs
      // name it with the accounts it would bill, until it is corrected.
      ChargeRule unusable = UnusableRuleOf(def, rule.status());
      unusable.id = r.Int(0);
      out.emplace(unusable.id, std::move(unusable));
      continue;
    }
    rule->id = r.Int(0);
    out.emplace(rule->id, std::move(*rule));
  }
  return out;
}

// --- bill runs --------------------------------------------------------------

namespace {
constexpr char kRunColumns[] =
    "id, site, draft, state, accounts_done, lines_issued, lines_skipped, issued_minor, "
    "cursor_account, created_by, created_at, committed_at, completed_at, "
    "COALESCE(last_account, 9223372036854775807)";

absl::StatusOr<RunRow> RunOf(const Row& r) {
  RunRow run;
  run.id = r.Int(0);
  run.site = r.Str(1);
  ASSIGN_OR_RETURN(run.draft, kit::ParseStored<v1::BillRun>(r.Str(2)));
  run.state = static_cast<v1::BillRunState>(r.Int(3));
  run.accounts_done = r.Int(4);
  run.lines_issued = r.Int(5);
  run.lines_skipped = r.Int(6);
  run.issued_minor = r.Int(7);
  run.cursor_account = r.Int(8);
  run.created_by = r.Str(9);
  run.created_at = r.Time(10);
  run.committed_at = r.OptTime(11);
  run.completed_at = r.OptTime(12);
  run.last_account = r.Int(13);
  return run;
}
}  // namespace

absl::StatusOr<int64_t> InsertRun(Conn& c, RunRow& r, absl::Time now) {
  r.created_at = now;
  r.state = v1::DRAFT;
  return c.InsertReturningId(
      "INSERT INTO bill_runs (site, cycle, period_label, period_date, state, draft, created_at, "
      "created_by, last_account) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
      {r.site, static_cast<int>(r.draft.cycle()), r.draft.period(), r.draft.period_date(),
       static_cast<int>(v1::DRAFT), ToBlob(r.draft), now, r.created_by, r.last_account});
}

absl::StatusOr<RunRow> ReadRun(Conn& c, const std::string& site, int64_t id, bool for_update) {
  ASSIGN_OR_RETURN(Row r, c.QueryOne(absl::StrCat("SELECT ", kRunColumns,
                                                  " FROM bill_runs WHERE site = ? AND id = ?",
                                                  for_update ? " FOR UPDATE" : ""),
                                     {site, id}, "bill run not found"));
  return RunOf(r);
}

absl::StatusOr<std::vector<RunRow>> ListRuns(Conn& c, const std::string& site, int64_t after,
                                             int limit) {
  ASSIGN_OR_RETURN(std::vector<Row> rows,
                   c.Query(absl::StrCat("SELECT ", kRunColumns,
                                        " FROM bill_runs WHERE site = ? AND id > ? "
                                        "ORDER BY id LIMIT ?"),
                           {site, after, limit}));
  std::vector<RunRow> out;
  for (const Row& r : rows) {
    ASSIGN_OR_RETURN(RunRow run, RunOf(r));
    out.push_back(std::move(run));
  }
  return out;
}

absl::Status MarkCommitting(Conn& c, int64_t run_id, absl::Time now) {
  return c.Exec("UPDATE bill_runs SET state = ?, committed_at = ? WHERE id = ?",
                {static_cast<int>(v1::COMMITTING), now, run_id})
      .status();
}

absl::StatusOr<std::optional<RunRow>> LockCommittingRun(Conn& c) {
  // The oldest committing run of each site, read without locks (a locking
  // read with SKIP LOCKED would skip a site's head that another replica
  // holds and take the run queued behind it).
  ASSIGN_OR_RETURN(std::vector<Row> heads,
                   c.Query("SELECT MIN(id) FROM bill_runs WHERE state = ? GROUP BY site "
                           "ORDER BY 1",
                           {static_cast<int>(v1::COMMITTING)}));
  for (const Row& head : heads) {
    ASSIGN_OR_RETURN(std::vector<Row> rows,
                     c.Query(absl::StrCat("SELECT ", kRunColumns,
                                          " FROM bill_runs WHERE id = ? AND state = ? "
                                          "FOR UPDATE SKIP LOCKED"),
                             {head.Int(0), static_cast<int>(v1::COMMITTING)}));
    if (rows.empty()) continue;  // another replica is committing it
    ASSIGN_OR_RETURN(RunRow run, RunOf(rows[0]));
    // An older draft committed later becomes its site's head while a newer
    // run is half done; the site's lock keeps their batches apart.
    RETURN_IF_ERROR(kit::SerializeOn(c, absl::StrCat("bill-run-commit/", run.site)));
    return std::optional<RunRow>(std::move(run));
  }
  return std::optional<RunRow>();
}

absl::Status SaveRunProgress(Conn& c, const RunRow& r) {
  return c
      .Exec(
          "UPDATE bill_runs SET accounts_done = ?, lines_issued = ?, lines_skipped = ?, "
          "issued_minor = ?, cursor_account = ? WHERE id = ?",
          {r.accounts_done, r.lines_issued, r.lines_skipped, r.issued_minor, r.cursor_account,
           r.id})
      .status();
}

absl::Status FailRun(Conn& c, int64_t run_id, const std::string& why, absl::Time now) {
  ASSIGN_OR_RETURN(Row r, c.QueryOne("SELECT draft FROM bill_runs WHERE id = ? FOR UPDATE",
                                     {run_id}, "bill run not found"));
  ASSIGN_OR_RETURN(v1::BillRun draft, kit::ParseStored<v1::BillRun>(r.Str(0)));
  draft.set_failure(why.substr(0, 500));
  return c.Exec("UPDATE bill_runs SET state = ?, draft = ?, completed_at = ? WHERE id = ? AND "
                "state = ?",
                {static_cast<int>(v1::FAILED), ToBlob(draft), now, run_id,
                 static_cast<int>(v1::COMMITTING)})
      .status();
}

absl::Status CompleteRun(Conn& c, int64_t run_id, absl::Time now) {
  return c.Exec("UPDATE bill_runs SET state = ?, completed_at = ? WHERE id = ?",
                {static_cast<int>(v1::COMMITTED), now, run_id})
      .status();
}

absl::StatusOr<std::vector<std::pair<LineRow, std::string>>> RunLines(Conn& c, int64_t run_id,
                                                                      int64_t after, int limit) {
  ASSIGN_OR_RETURN(
      std::vector<Row> rows,
      c.Query(absl::StrCat("SELECT ", kLineColumns,
                           ", a.unit FROM bills b JOIN bill_lines l ON l.bill_id = b.id "
                           "JOIN charge_items i ON i.id = l.item_id "
                           "JOIN accounts a ON a.id = b.account_id "
                           "WHERE b.run_id = ? AND l.id > ? ORDER BY l.id LIMIT ?"),
              {run_id, after, limit}));
  std::vector<std::pair<LineRow, std::string>> out;
  for (const Row& r : rows) {
    ASSIGN_OR_RETURN(LineRow l, LineOf(r));
    out.emplace_back(std::move(l), r.Str(20));
  }
  return out;
}

// --- issuing ----------------------------------------------------------------

absl::StatusOr<std::set<std::tuple<int64_t, int64_t, std::string>>> IssuedLines(
    Conn& c, int64_t lo, int64_t hi, const std::vector<std::string>& labels) {
  std::set<std::tuple<int64_t, int64_t, std::string>> out;
  // The run's label and the one-off label: two at a time, one round trip.
  for (size_t i = 0; i < labels.size(); i += 2) {
    const std::string& second = i + 1 < labels.size() ? labels[i + 1] : labels[i];
    ASSIGN_OR_RETURN(std::vector<Row> rows,
                     c.Query("SELECT account_id, item_id, period_label FROM bill_lines "
                             "WHERE account_id BETWEEN ? AND ? AND period_label IN (?, ?)",
                             {lo, hi, labels[i], second}));
    for (const Row& r : rows) out.emplace(r.Int(0), r.Int(1), r.Str(2));
  }
  return out;
}

absl::StatusOr<std::map<std::pair<int64_t, int64_t>, int64_t>> IssueBills(
    Conn& c, const std::string& site, int64_t run_id, const Period& period,
    const std::string& currency, absl::CivilDay issue_date, const std::vector<NewBill>& bills,
    std::vector<LockedAccount>& accounts, const std::string& actor, absl::Time now,
    Totals* totals) {
  std::map<std::pair<int64_t, int64_t>, int64_t> line_ids;
  if (bills.empty() || accounts.empty()) return line_ids;
  const int64_t lo = accounts.front()->id;
  const int64_t hi = accounts.back()->id;
  std::vector<SqlParam> params;
  params.reserve(bills.size() * 8);
  const std::string issue = DayText(issue_date);
  for (const NewBill& b : bills) {
    for (SqlParam p : {SqlParam(site), SqlParam(run_id), SqlParam(b.account_id),
                       SqlParam(period.label), SqlParam(issue), SqlParam(DayText(b.due)),
                       SqlParam(currency)}) {
      params.push_back(std::move(p));
    }
  }
  RETURN_IF_ERROR(kit::InsertRows(c,
                                  "INSERT INTO bills (site, run_id, account_id, period_label, "
                                  "issue_date, due_date, currency) VALUES",
                                  7, params)
                      .status());
  ASSIGN_OR_RETURN(std::vector<Row> ids,
                   c.Query("SELECT account_id, id FROM bills WHERE run_id = ? AND account_id "
                           "BETWEEN ? AND ?",
                           {run_id, lo, hi}));
  std::map<int64_t, int64_t> bill_of;
  for (const Row& r : ids) bill_of[r.Int(0)] = r.Int(1);

  params.clear();
  const std::string start = DayText(period.start);
  for (const NewBill& b : bills) {
    for (const ChargeLine* l : b.lines) {
      for (SqlParam p :
           {SqlParam(site), SqlParam(bill_of[b.account_id]), SqlParam(b.account_id),
            SqlParam(l->item_id), SqlParam(b.building), SqlParam(l->period_label),
            SqlParam(period.label), SqlParam(start), SqlParam(l->quantity.ToString()),
            SqlParam(l->amount_minor), SqlParam(DayText(l->due))}) {
        params.push_back(std::move(p));
      }
      TotalsDelta& d = (*totals)[{period.label, b.building, l->item_id, false, false}];
      d.lines += 1;
      d.billed += l->amount_minor;
    }
  }
  RETURN_IF_ERROR(kBillLineKeys.Map(
      kit::InsertRows(c,
                      "INSERT INTO bill_lines (site, bill_id, account_id, item_id, "
                      "building, period_label, report_period, period_start, quantity, "
                      "amount_minor, due_date) VALUES",
                      11, params)
          .status()));
  ASSIGN_OR_RETURN(std::vector<Row> lines,
                   c.Query("SELECT l.account_id, l.item_id, l.id, l.amount_minor FROM bills b "
                           "JOIN bill_lines l ON l.bill_id = b.id "
                           "WHERE b.run_id = ? AND b.account_id BETWEEN ? AND ?",
                           {run_id, lo, hi}));
  std::vector<LedgerRow> entries;
  entries.reserve(lines.size());
  for (const Row& r : lines) {
    line_ids[{r.Int(0), r.Int(1)}] = r.Int(2);
    LedgerRow e;
    e.account_id = r.Int(0);
    e.kind = v1::CHARGE;
    e.amount_minor = r.Int(3);
    e.line_id = r.Int(2);
    e.actor = actor;
    e.reason = period.label;
    e.created_at = now;
    entries.push_back(std::move(e));
  }
  RETURN_IF_ERROR(PostLedger(c, accounts, entries));
  return line_ids;
}

}  // namespace billing::store
