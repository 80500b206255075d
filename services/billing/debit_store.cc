// The SQL of direct-debit batches and their items.
#include "services/billing/debit_store.h"

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
// site's debit batches are serialized); should one slip through, the loser
// plans again from a fresh read instead of failing.
constexpr kit::UniqueKeys kDebitItemKeys{{
    {"one_pending_per_account", absl::StatusCode::kAborted,
     "an account was put in another debit batch meanwhile; try again"},
}};
}  // namespace

// --- direct debit -----------------------------------------------------------

absl::StatusOr<std::vector<DebitCandidate>> DebitCandidates(Conn& c, const std::string& site,
                                                            absl::CivilDay as_of) {
  ASSIGN_OR_RETURN(
      std::vector<Row> rows,
      c.Query("SELECT a.id, a.unit, a.profile, a.credit_minor, "
              "SUM(l.amount_minor - l.paid_minor - l.written_off_minor) FROM accounts a "
              "JOIN bill_lines l ON l.account_id = a.id WHERE a.site = ? AND a.status <> ? AND "
              "l.due_date <= ? AND NOT l.held AND "
              "l.paid_minor + l.written_off_minor < l.amount_minor AND NOT EXISTS "
              "(SELECT 1 FROM debit_items d WHERE d.account_id = a.id AND d.status = ?) "
              "GROUP BY a.id, a.unit, a.profile, a.credit_minor ORDER BY a.id",
              {site, static_cast<int>(v1::SUSPENDED), DayText(as_of),
               static_cast<int>(v1::DEBIT_PENDING)}));
  std::vector<DebitCandidate> out;
  for (const Row& r : rows) {
    DebitCandidate d;
    d.account_id = r.Int(0);
    d.unit = r.Str(1);
    ASSIGN_OR_RETURN(d.profile, kit::ParseStored<v1::Account>(r.Str(2)));
    d.credit_minor = r.Int(3);
    d.due_minor = r.Int(4);
    out.push_back(std::move(d));
  }
  return out;
}

absl::StatusOr<int64_t> InsertDebitBatch(Conn& c, const DebitBatchRow& b,
                                         const std::vector<DebitItemRow>& items) {
  ASSIGN_OR_RETURN(int64_t id,
                   c.InsertReturningId("INSERT INTO debit_batches (site, as_of, currency, "
                                       "created_at, created_by) VALUES (?, ?, ?, ?, ?) RETURNING id",
                                       {b.site, DayText(b.as_of), b.currency, b.created_at,
                                        b.created_by}));
  std::vector<SqlParam> params;
  for (const DebitItemRow& i : items) {
    for (SqlParam p : {SqlParam(id), SqlParam(b.site), SqlParam(i.account_id),
                       SqlParam(i.amount_minor), SqlParam(i.bank), SqlParam(i.account_masked),
                       SqlParam(DayText(i.mandate_expiry)), SqlParam(static_cast<int>(i.status))}) {
      params.push_back(std::move(p));
    }
  }
  RETURN_IF_ERROR(kDebitItemKeys.Map(
      kit::InsertRows(c,
                      "INSERT INTO debit_items (batch_id, site, account_id, "
                      "amount_minor, bank, account_masked, mandate_expiry, status) VALUES",
                      8, params)
          .status()));
  return id;
}

absl::StatusOr<DebitBatchRow> ReadDebitBatch(Conn& c, const std::string& site, int64_t id,
                                             bool with_counts) {
  ASSIGN_OR_RETURN(Row r, c.QueryOne("SELECT id, site, as_of, currency, created_by, created_at "
                                     "FROM debit_batches WHERE site = ? AND id = ?",
                                     {site, id}, "debit batch not found"));
  DebitBatchRow b;
  b.id = r.Int(0);
  b.site = r.Str(1);
  b.as_of = DayOf(r.Str(2));
  b.currency = r.Str(3);
  b.created_by = r.Str(4);
  b.created_at = r.Time(5);
  if (!with_counts) return b;
  ASSIGN_OR_RETURN(std::vector<Row> counts,
                   c.Query("SELECT status, COUNT(*), SUM(amount_minor) FROM debit_items "
                           "WHERE batch_id = ? GROUP BY status",
                           {id}));
  for (const Row& n : counts) b.by_status[static_cast<int>(n.Int(0))] = {n.Int(1), n.Int(2)};
  return b;
}

namespace {
constexpr char kDebitItemColumns[] =
    "d.id, d.batch_id, d.account_id, a.unit, d.amount_minor, d.bank, d.account_masked, "
    "d.mandate_expiry, d.status, d.failure, d.bank_reference, COALESCE(d.payment_id, 0)";
constexpr char kLockedDebitItemColumns[] =
    "d.id, d.batch_id, d.account_id, '', d.amount_minor, d.bank, d.account_masked, "
    "d.mandate_expiry, d.status, d.failure, d.bank_reference, COALESCE(d.payment_id, 0)";
DebitItemRow DebitItemOf(const Row& r) {
  DebitItemRow i;
  i.id = r.Int(0);
  i.batch_id = r.Int(1);
  i.account_id = r.Int(2);
  i.unit = r.Str(3);
  i.amount_minor = r.Int(4);
  i.bank = r.Str(5);
  i.account_masked = r.Str(6);
  i.mandate_expiry = DayOf(r.Str(7));
  i.status = static_cast<v1::DebitStatus>(r.Int(8));
  i.failure = static_cast<v1::DebitFailure>(r.Int(9));
  i.bank_reference = r.Str(10);
  i.payment_id = r.Int(11);
  return i;
}
}  // namespace

absl::StatusOr<std::vector<DebitItemRow>> ListDebitItems(Conn& c, int64_t batch_id,
                                                         v1::DebitStatus status, int64_t after,
                                                         int limit) {
  std::string sql = absl::StrCat("SELECT ", kDebitItemColumns,
                                 " FROM debit_items d JOIN accounts a ON a.id = d.account_id "
                                 "WHERE d.batch_id = ? AND d.id > ?");
  std::vector<SqlParam> params = {batch_id, after};
  if (status != v1::DEBIT_STATUS_UNSPECIFIED) {
    sql += " AND d.status = ?";
    params.emplace_back(static_cast<int>(status));
  }
  sql += " ORDER BY d.id LIMIT ?";
  params.emplace_back(limit);
  ASSIGN_OR_RETURN(std::vector<Row> rows, c.Query(sql, params));
  std::vector<DebitItemRow> out;
  for (const Row& r : rows) out.push_back(DebitItemOf(r));
  return out;
}

absl::StatusOr<std::map<int64_t, DebitItemRow>> ReadDebitItems(Conn& c, int64_t batch_id,
                                                               std::vector<int64_t> ids,
                                                               bool for_update) {
  std::sort(ids.begin(), ids.end());
  ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
  std::map<int64_t, DebitItemRow> out;
  for (size_t begin = 0; begin < ids.size(); begin += kit::kMaxInList) {
    std::vector<SqlParam> params = {batch_id};
    const std::string in_list = kit::PaddedInList(
        absl::MakeConstSpan(ids).subspan(begin, std::min(kit::kMaxInList, ids.size() - begin)),
        &params);
    // Locked, it reads debit_items alone: the unit is left empty.
    ASSIGN_OR_RETURN(
        std::vector<Row> rows,
        c.Query(for_update
                    ? absl::StrCat("SELECT ", kLockedDebitItemColumns,
                                   " FROM debit_items d FORCE INDEX (PRIMARY) WHERE "
                                   "d.batch_id = ? AND d.id IN (",
                                   in_list, ") ORDER BY d.id FOR UPDATE")
                    : absl::StrCat("SELECT ", kDebitItemColumns,
                                   " FROM debit_items d JOIN accounts a ON a.id = d.account_id "
                                   "WHERE d.batch_id = ? AND d.id IN (",
                                   in_list, ")"),
                params));
    for (const Row& r : rows) {
      DebitItemRow i = DebitItemOf(r);
      out.emplace(i.id, std::move(i));
    }
  }
  return out;
}

absl::Status SetDebitResult(Conn& c, const DebitItemRow& i) {
  return c
      .Exec("UPDATE debit_items SET status = ?, failure = ?, bank_reference = ?, payment_id = ? "
            "WHERE id = ?",
            {static_cast<int>(i.status), static_cast<int>(i.failure), i.bank_reference,
             i.payment_id == 0 ? SqlParam(nullptr) : SqlParam(i.payment_id), i.id})
      .status();
}

}  // namespace billing::store
