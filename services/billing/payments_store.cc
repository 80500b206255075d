// The SQL of payments and their allocations, and of late fees.
#include "services/billing/payments_store.h"

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

// --- payments ---------------------------------------------------------------

namespace {
constexpr char kPaymentColumns[] =
    "p.id, p.site, p.account_id, a.unit, p.method, p.reference, p.amount_minor, p.currency, "
    "p.received_on, p.named_bills, p.to_credit_minor, p.reversed, p.reversal_reason, "
    "p.recorded_by, p.created_at";

PaymentRow PaymentOf(const Row& r) {
  PaymentRow p;
  p.id = r.Int(0);
  p.site = r.Str(1);
  p.account_id = r.Int(2);
  p.unit = r.Str(3);
  p.method = static_cast<v1::PaymentMethod>(r.Int(4));
  p.reference = r.Str(5);
  p.amount_minor = r.Int(6);
  p.currency = r.Str(7);
  p.received_on = DayOf(r.Str(8));
  p.named_bills = r.Str(9);
  p.to_credit_minor = r.Int(10);
  p.reversed = r.Int(11) != 0;
  p.reversal_reason = r.Str(12);
  p.recorded_by = r.Str(13);
  p.created_at = r.Time(14);
  return p;
}

// The allocations as made (positive rows; a reversal's rows are not
// listed) of every payment in `payments`, in one statement per 512.
absl::Status AttachAllocations(Conn& c, std::vector<PaymentRow>& payments) {
  std::map<int64_t, PaymentRow*> by_id;
  std::vector<int64_t> ids;
  for (PaymentRow& p : payments) {
    by_id[p.id] = &p;
    ids.push_back(p.id);
  }
  for (size_t begin = 0; begin < ids.size(); begin += kit::kMaxInList) {
    std::vector<SqlParam> params;
    const std::string in_list = kit::PaddedInList(
        absl::MakeConstSpan(ids).subspan(begin, std::min(kit::kMaxInList, ids.size() - begin)),
        &params);
    ASSIGN_OR_RETURN(std::vector<Row> rows,
                     c.Query(absl::StrCat("SELECT a.payment_id, a.line_id, a.amount_minor, "
                                          "l.bill_id FROM allocations a JOIN bill_lines l ON "
                                          "l.id = a.line_id WHERE a.payment_id IN (",
                                          in_list, ") AND a.amount_minor > 0 ORDER BY a.id"),
                             params));
    for (const Row& r : rows) {
      PaymentRow* p = by_id[r.Int(0)];
      p->allocations.emplace_back(r.Int(1), r.Int(2));
      p->allocation_bills.push_back(r.Int(3));
    }
  }
  return absl::OkStatus();
}
}  // namespace

absl::Status InsertPayments(Conn& c, std::vector<PaymentRow*>& payments) {
  if (payments.empty()) return absl::OkStatus();
  std::vector<SqlParam> params;
  params.reserve(payments.size() * 11);
  for (const PaymentRow* p : payments) {
    for (SqlParam v : {SqlParam(p->site), SqlParam(p->account_id),
                       SqlParam(static_cast<int>(p->method)), SqlParam(p->reference),
                       SqlParam(p->amount_minor), SqlParam(p->currency),
                       SqlParam(DayText(p->received_on)), SqlParam(p->named_bills),
                       SqlParam(p->to_credit_minor), SqlParam(p->recorded_by),
                       SqlParam(p->created_at)}) {
      params.push_back(std::move(v));
    }
  }
  ASSIGN_OR_RETURN(std::vector<int64_t> ids,
                   kit::InsertRowsReturningIds(
                       c,
                       "INSERT INTO payments (site, account_id, method, reference, amount_minor, "
                       "currency, received_on, named_bills, to_credit_minor, recorded_by, "
                       "created_at) VALUES",
                       11, params));
  for (size_t i = 0; i < payments.size(); ++i) payments[i]->id = ids[i];
  return absl::OkStatus();
}

absl::StatusOr<PaymentRow> ReadPayment(Conn& c, const std::string& site, int64_t id,
                                       bool for_update) {
  ASSIGN_OR_RETURN(Row r, c.QueryOne(absl::StrCat("SELECT ", kPaymentColumns,
                                                  " FROM payments p JOIN accounts a ON a.id = "
                                                  "p.account_id WHERE p.site = ? AND p.id = ?",
                                                  for_update ? " FOR UPDATE" : ""),
                                     {site, id}, "payment not found"));
  std::vector<PaymentRow> one = {PaymentOf(r)};
  RETURN_IF_ERROR(AttachAllocations(c, one));
  return std::move(one.front());
}

absl::StatusOr<std::vector<PaymentRow>> ListPayments(Conn& c, const std::string& site,
                                                     int64_t account_id, int64_t after,
                                                     int limit) {
  std::string sql = absl::StrCat("SELECT ", kPaymentColumns,
                                 " FROM payments p JOIN accounts a ON a.id = p.account_id "
                                 "WHERE p.site = ? AND p.id > ?");
  std::vector<SqlParam> params = {site, after};
  if (account_id != 0) {
    sql += " AND p.account_id = ?";
    params.emplace_back(account_id);
  }
  sql += " ORDER BY p.id LIMIT ?";
  params.emplace_back(limit);
  ASSIGN_OR_RETURN(std::vector<Row> rows, c.Query(sql, params));
  std::vector<PaymentRow> out;
  for (const Row& r : rows) out.push_back(PaymentOf(r));
  RETURN_IF_ERROR(AttachAllocations(c, out));
  return out;
}

absl::Status MarkReversed(Conn& c, int64_t payment_id, const std::string& reason) {
  return c
      .Exec("UPDATE payments SET reversed = TRUE, reversal_reason = ? WHERE id = ?",
            {reason, payment_id})
      .status();
}

absl::Status ApplyPostings(Conn& c, const std::vector<const LockedAccount*>& accounts,
                           const std::vector<Posting>& postings, absl::CivilDay applied_on,
                           const std::map<int64_t, LineRow>& lines, Totals* totals) {
  if (postings.empty()) return absl::OkStatus();
  std::vector<SqlParam> params;
  params.reserve(postings.size() * 7);
  const std::string day = DayText(applied_on);
  std::map<int64_t, int64_t> by_line;
  std::map<int64_t, const LockedAccount*> owners;
  for (const LockedAccount* a : accounts) owners[(*a)->id] = a;
  for (const Posting& x : postings) {
    auto line = lines.find(x.line_id);
    if (line == lines.end()) return absl::InternalError("allocation to a line not read");
    auto found = owners.find(line->second.account_id);
    const LockedAccount* owner = found == owners.end() ? nullptr : found->second;
    if (owner == nullptr) {
      return absl::InternalError(
          absl::StrCat("lock order: line ", x.line_id, " changed without its account locked"));
    }
    for (SqlParam p : {SqlParam((*owner)->site), SqlParam((*owner)->id), SqlParam(x.line_id),
                       x.payment_id == 0 ? SqlParam(nullptr) : SqlParam(x.payment_id),
                       SqlParam(x.amount_minor), SqlParam(day),
                       SqlParam(DayText(line->second.period_start))}) {
      params.push_back(std::move(p));
    }
    (*totals)[KeyOf(line->second)].collected += x.amount_minor;
    by_line[x.line_id] += x.amount_minor;
  }
  // The lines' paid sums in one statement per 512 lines, however many are
  // settled: each line's amount by a CASE over its id.
  std::vector<int64_t> ids, amounts;
  for (const auto& [id, amount] : by_line) {
    ids.push_back(id);
    amounts.push_back(amount);
  }
  for (size_t begin = 0; begin < ids.size(); begin += kit::kMaxInList) {
    const size_t n = std::min(kit::kMaxInList, ids.size() - begin);
    std::vector<SqlParam> update;
    const std::string cases =
        kit::PaddedCase("id", absl::MakeConstSpan(ids).subspan(begin, n),
                        absl::MakeConstSpan(amounts).subspan(begin, n), "0", &update);
    const std::string in_list =
        kit::PaddedInList(absl::MakeConstSpan(ids).subspan(begin, n), &update);
    RETURN_IF_ERROR(c.Exec(absl::StrCat("UPDATE bill_lines SET paid_minor = paid_minor + ", cases,
                                        " WHERE id IN (", in_list, ")"),
                           update)
                        .status());
  }
  return kit::InsertRows(c,
                         "INSERT INTO allocations (site, account_id, line_id, payment_id, "
                         "amount_minor, applied_on, line_period_start) VALUES",
                         7, params)
      .status();
}

absl::Status ApplyAllocations(Conn& c, const LockedAccount& account, int64_t payment_id,
                              const std::vector<Allocation>& allocations, absl::CivilDay applied_on,
                              const std::map<int64_t, LineRow>& lines, Totals* totals) {
  std::vector<Posting> postings;
  postings.reserve(allocations.size());
  for (const Allocation& a : allocations) postings.push_back({a.line_id, payment_id, a.amount_minor});
  return ApplyPostings(c, {&account}, postings, applied_on, lines, totals);
}

absl::StatusOr<std::vector<Allocation>> CreditAllocationsNewestFirst(Conn& c,
                                                                     int64_t account_id) {
  ASSIGN_OR_RETURN(std::vector<Row> rows,
                   c.Query("SELECT line_id, SUM(amount_minor) AS net, MAX(id) AS last "
                           "FROM allocations WHERE account_id = ? AND payment_id IS NULL "
                           "GROUP BY line_id HAVING net > 0 ORDER BY last DESC",
                           {account_id}));
  std::vector<Allocation> out;
  for (const Row& r : rows) out.push_back({r.Int(0), r.Int(1)});
  return out;
}

// --- late fees --------------------------------------------------------------

absl::StatusOr<std::vector<int64_t>> OverdueAccounts(Conn& c, const std::string& site,
                                                     absl::CivilDay as_of, int64_t after,
                                                     int limit) {
  ASSIGN_OR_RETURN(std::vector<Row> rows,
                   c.Query("SELECT DISTINCT account_id FROM bill_lines WHERE site = ? AND "
                           "account_id > ? AND late_fee_of IS NULL AND due_date < ? AND "
                           "paid_minor + written_off_minor < amount_minor "
                           "ORDER BY account_id LIMIT ?",
                           {site, after, DayText(as_of), limit}));
  std::vector<int64_t> out;
  out.reserve(rows.size());
  for (const Row& r : rows) out.push_back(r.Int(0));
  return out;
}

absl::StatusOr<std::vector<LateFeeCandidate>> LateFeeCandidates(
    Conn& c, const std::vector<LockedAccount>& accounts, absl::CivilDay as_of) {
  std::vector<LateFeeCandidate> out;
  std::vector<int64_t> ids;
  ids.reserve(accounts.size());
  for (const LockedAccount& a : accounts) ids.push_back(a->id);
  for (size_t begin = 0; begin < ids.size(); begin += kit::kMaxInList) {
    std::vector<SqlParam> params;
    const std::string in_list = kit::PaddedInList(
        absl::MakeConstSpan(ids).subspan(begin, std::min(kit::kMaxInList, ids.size() - begin)),
        &params);
    params.emplace_back(DayText(as_of));
    const std::string where = absl::StrCat("l.account_id IN (", in_list,
                                           ") AND l.late_fee_of IS NULL AND l.due_date < ? AND "
                                           "l.paid_minor + l.written_off_minor < l.amount_minor");
    // Locked (their accounts are), so that two assessments, or one and a
    // payment, never both charge what accrued on a line. By the account
    // index, named: a padded IN list is past what MariaDB estimates by index
    // dives, and a locking scan of the whole table would lock lines of
    // accounts not locked.
    RETURN_IF_ERROR(c.Query(absl::StrCat("SELECT l.id FROM bill_lines l FORCE INDEX "
                                         "(open_by_account) WHERE ",
                                         where, " FOR UPDATE"),
                            params)
                        .status());
    ASSIGN_OR_RETURN(
        std::vector<Row> rows,
        c.Query(absl::StrCat("SELECT l.id, l.account_id, l.item_id, l.building, l.held, "
                             "l.amount_minor - l.paid_minor - l.written_off_minor, l.due_date, "
                             "(SELECT COALESCE(SUM(f.amount_minor), 0) FROM bill_lines f "
                             " WHERE f.late_fee_of = l.id), "
                             "(SELECT COUNT(*) FROM bill_lines f WHERE f.late_fee_of = l.id), "
                             "l.held_days FROM bill_lines l WHERE ",
                             where, " ORDER BY l.account_id, l.id"),
                params));
    for (const Row& r : rows) {
      LateFeeCandidate f;
      f.line_id = r.Int(0);
      f.account_id = r.Int(1);
      f.item_id = r.Int(2);
      f.building = r.Str(3);
      f.held = r.Int(4) != 0;
      f.unpaid_minor = r.Int(5);
      f.due = DayOf(r.Str(6));
      f.charged_minor = r.Int(7);
      f.fees_charged = r.Int(8);
      f.held_days = static_cast<int>(r.Int(9));
      out.push_back(f);
    }
  }
  return out;
}

absl::Status IssueLateFees(Conn& c, std::vector<LockedAccount>& accounts,
                           const std::string& currency, absl::CivilDay as_of,
                           const std::vector<LateFeeCandidate>& fees, const std::string& actor,
                           absl::Time now) {
  if (accounts.empty()) return absl::OkStatus();
  const std::string& site = accounts.front()->site;
  const auto locked = [&](int64_t account_id) {
    return std::any_of(accounts.begin(), accounts.end(),
                       [&](const LockedAccount& a) { return a->id == account_id; });
  };
  const absl::CivilMonth month(as_of);
  const std::string report_period = absl::StrFormat("%04d-%02d", month.year(), month.month());
  const std::string day = DayText(as_of);
  Totals totals;
  std::vector<LedgerRow> entries;
  int64_t bill_id = 0, bill_account = 0;
  for (const LateFeeCandidate& f : fees) {
    if (f.charge_minor <= 0) continue;
    if (!locked(f.account_id)) {
      return absl::InternalError(
          absl::StrCat("lock order: a late fee on account ", f.account_id, " not locked"));
    }
    if (f.account_id != bill_account) {
      // One bill per account and assessment.
      ASSIGN_OR_RETURN(bill_id, c.InsertReturningId(
                                    "INSERT INTO bills (site, run_id, account_id, period_label, "
                                    "issue_date, due_date, currency) VALUES (?, NULL, ?, ?, ?, ?, ?) "
                                    "RETURNING id",
                                    {site, f.account_id, report_period, day, day, currency}));
      bill_account = f.account_id;
    }
    ASSIGN_OR_RETURN(
        int64_t line_id,
        c.InsertReturningId(
            "INSERT INTO bill_lines (site, bill_id, account_id, item_id, building, period_label, "
            "report_period, period_start, quantity, amount_minor, due_date, late_fee_of) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
            {site, bill_id, f.account_id, f.item_id, f.building,
             absl::StrCat("late:", f.line_id, ":", f.fees_charged + 1), report_period,
             DayText(absl::CivilDay(month)), absl::StrCat(as_of - f.due), f.charge_minor, day,
             f.line_id}));
    LedgerRow e;
    e.account_id = f.account_id;
    e.kind = v1::LATE_FEE;
    e.amount_minor = f.charge_minor;
    e.line_id = line_id;
    e.actor = actor;
    e.reason = absl::StrCat("late fee as of ", day);
    e.created_at = now;
    entries.push_back(std::move(e));
    TotalsDelta& d = totals[{report_period, f.building, f.item_id, true, false}];
    d.lines += 1;
    d.billed += f.charge_minor;
  }
  RETURN_IF_ERROR(PostLedger(c, accounts, entries));
  return AddTotals(c, site, totals);
}

}  // namespace billing::store
