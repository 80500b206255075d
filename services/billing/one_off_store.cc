#include "services/billing/one_off_store.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "services/kit/status_macros.h"
#include "services/kit/unique_keys.h"

namespace billing::store {

using kit::Conn;
using kit::Row;

namespace {
constexpr kit::UniqueKeys kChargeKeys{{
    {"one_charge_per_reference", absl::StatusCode::kAlreadyExists,
     "reference: the account already has a charge with this reference"},
}};
constexpr kit::UniqueKeys kRefundKeys{{
    {"PRIMARY", absl::StatusCode::kFailedPrecondition, "the charge was refunded already"},
}};
}  // namespace

absl::StatusOr<LineRow> IssueOneOffCharge(Conn& c, LockedAccount& a, const OneOffCharge& charge,
                                          Totals* totals) {
  const std::string& site = a->site;
  const int64_t account_id = a->id;
  const absl::CivilMonth month(charge.today);
  const std::string report_period = absl::StrFormat("%04d-%02d", month.year(), month.month());
  const std::string day = DayText(charge.today);
  ASSIGN_OR_RETURN(int64_t bill_id,
                   c.InsertReturningId("INSERT INTO bills (site, run_id, account_id, period_label, "
                                       "issue_date, due_date, currency) "
                                       "VALUES (?, NULL, ?, ?, ?, ?, ?) RETURNING id",
                                       {site, account_id, report_period, day, DayText(charge.due),
                                        charge.currency}));
  // The period label only has to keep the line apart from every other of
  // the account and item: the bill's id does.
  ASSIGN_OR_RETURN(
      int64_t line_id,
      kChargeKeys.Map(c.InsertReturningId(
          "INSERT INTO bill_lines (site, bill_id, account_id, item_id, building, period_label, "
          "report_period, period_start, quantity, amount_minor, due_date, charge_reference) "
          "VALUES (?, ?, ?, ?, ?, ?, ?, ?, '1', ?, ?, ?) RETURNING id",
          {site, bill_id, account_id, charge.item_id, a->building, absl::StrCat("charge:", bill_id),
           report_period, DayText(absl::CivilDay(month)), charge.amount_minor, DayText(charge.due),
           charge.reference})));
  LedgerRow e;
  e.account_id = account_id;
  e.kind = v1::CHARGE;
  e.amount_minor = charge.amount_minor;
  e.line_id = line_id;
  e.actor = charge.actor;
  e.reason = charge.reference;
  e.created_at = charge.now;
  RETURN_IF_ERROR(PostLedger(c, a, {e}));
  TotalsDelta& d = (*totals)[{report_period, a->building, charge.item_id, false, false}];
  d.lines += 1;
  d.billed += charge.amount_minor;
  // The line as written (and locked: this transaction inserted it).
  LineRow l;
  l.id = line_id;
  l.bill_id = bill_id;
  l.account_id = account_id;
  l.item_id = charge.item_id;
  l.building = a->building;
  l.period_label = absl::StrCat("charge:", bill_id);
  l.quantity = "1";
  l.amount_minor = charge.amount_minor;
  l.due = charge.due;
  l.report_period = report_period;
  l.period_start = absl::CivilDay(month);
  l.reference = charge.reference;
  return l;
}

absl::StatusOr<std::pair<int64_t, int64_t>> FindCharge(Conn& c, int64_t account_id,
                                                       const std::string& reference) {
  ASSIGN_OR_RETURN(Row r, c.QueryOne("SELECT bill_id, id FROM bill_lines "
                                     "WHERE account_id = ? AND charge_reference = ?",
                                     {account_id, reference},
                                     "reference: the account has no charge with this reference"));
  return std::make_pair(r.Int(0), r.Int(1));
}

absl::Status InsertRefund(Conn& c, const RefundRow& r) {
  return kRefundKeys.Map(
      c.Exec("INSERT INTO charge_refunds (line_id, site, account_id, charged_minor, kept_minor, "
             "cancelled_minor, credited_minor, applied_minor, reason, actor, created_at) "
             "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
             {r.line_id, r.site, r.account_id, r.charged_minor, r.kept_minor, r.cancelled_minor,
              r.credited_minor, r.applied_minor, r.reason, r.actor, r.created_at})
          .status());
}

absl::StatusOr<std::optional<RefundRow>> ReadRefund(Conn& c, int64_t line_id) {
  ASSIGN_OR_RETURN(std::vector<Row> rows,
                   c.Query("SELECT line_id, site, account_id, charged_minor, kept_minor, "
                           "cancelled_minor, credited_minor, applied_minor, reason, actor, "
                           "created_at FROM charge_refunds WHERE line_id = ?",
                           {line_id}));
  if (rows.empty()) return std::nullopt;
  const Row& x = rows.front();
  RefundRow r;
  r.line_id = x.Int(0);
  r.site = x.Str(1);
  r.account_id = x.Int(2);
  r.charged_minor = x.Int(3);
  r.kept_minor = x.Int(4);
  r.cancelled_minor = x.Int(5);
  r.credited_minor = x.Int(6);
  r.applied_minor = x.Int(7);
  r.reason = x.Str(8);
  r.actor = x.Str(9);
  r.created_at = x.Time(10);
  return r;
}

}  // namespace billing::store
