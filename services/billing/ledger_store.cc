// The SQL of the ledger and of the balance it keeps on each account.
#include "services/billing/ledger_store.h"

#include <algorithm>
#include <map>

#include "absl/strings/str_cat.h"
#include "services/billing/billing_store.h"
#include "services/kit/bulk_insert.h"
#include "services/kit/in_list.h"
#include "services/kit/status_macros.h"

namespace billing::store {

using kit::Conn;
using kit::Row;
using kit::SqlParam;

absl::Status PostLedger(Conn& c, std::vector<LockedAccount*> accounts,
                        const std::vector<LedgerRow>& entries) {
  if (entries.empty()) return absl::OkStatus();
  std::sort(accounts.begin(), accounts.end(),
            [](const LockedAccount* x, const LockedAccount* y) { return (*x)->id < (*y)->id; });
  const auto find = [&](int64_t id) -> LockedAccount* {
    auto it = std::lower_bound(accounts.begin(), accounts.end(), id,
                               [](const LockedAccount* a, int64_t v) { return (*a)->id < v; });
    return it == accounts.end() || (**it)->id != id ? nullptr : *it;
  };
  std::map<int64_t, int64_t> moved;
  std::vector<SqlParam> params;
  params.reserve(entries.size() * 9);
  for (const LedgerRow& e : entries) {
    const LockedAccount* a = find(e.account_id);
    if (a == nullptr) {
      return absl::InternalError(
          absl::StrCat("lock order: a ledger entry of account ", e.account_id, " not locked"));
    }
    moved[e.account_id] += e.amount_minor;
    for (SqlParam p : {SqlParam((*a)->site), SqlParam(e.account_id),
                       SqlParam(static_cast<int>(e.kind)), SqlParam(e.amount_minor),
                       e.line_id == 0 ? SqlParam(nullptr) : SqlParam(e.line_id),
                       e.payment_id == 0 ? SqlParam(nullptr) : SqlParam(e.payment_id),
                       SqlParam(e.actor), SqlParam(e.reason), SqlParam(e.created_at)}) {
      params.push_back(std::move(p));
    }
  }
  RETURN_IF_ERROR(kit::InsertRows(c,
                                  "INSERT INTO ledger (site, account_id, kind, amount_minor, "
                                  "line_id, payment_id, actor, reason, created_at) VALUES",
                                  9, params)
                      .status());
  std::vector<int64_t> ids, deltas, credits;
  for (const auto& [id, delta] : moved) {
    LockedAccount* a = find(id);
    (*a)->balance_minor += delta;
    ids.push_back(id);
    deltas.push_back(delta);
    credits.push_back((*a)->credit_minor);
  }
  if (ids.size() == 1) {
    return c
        .Exec("UPDATE accounts SET balance_minor = balance_minor + ?, credit_minor = ? "
              "WHERE id = ?",
              {deltas[0], credits[0], ids[0]})
        .status();
  }
  // Each account moved by its own amount, a few hundred per statement.
  for (size_t begin = 0; begin < ids.size(); begin += kit::kMaxInList) {
    const size_t n = std::min(kit::kMaxInList, ids.size() - begin);
    const auto part = [&](const std::vector<int64_t>& v) {
      return absl::MakeConstSpan(v).subspan(begin, n);
    };
    std::vector<SqlParam> update;
    const std::string balance =
        kit::PaddedCase("id", part(ids), part(deltas), "0", &update);
    const std::string credit =
        kit::PaddedCase("id", part(ids), part(credits), "credit_minor", &update);
    const std::string in_list = kit::PaddedInList(part(ids), &update);
    RETURN_IF_ERROR(c.Exec(absl::StrCat("UPDATE accounts SET balance_minor = balance_minor + ",
                                        balance, ", credit_minor = ", credit, " WHERE id IN (",
                                        in_list, ")"),
                           update)
                        .status());
  }
  return absl::OkStatus();
}

absl::Status PostLedger(Conn& c, std::vector<LockedAccount>& accounts,
                        const std::vector<LedgerRow>& entries) {
  std::vector<LockedAccount*> all;
  all.reserve(accounts.size());
  for (LockedAccount& a : accounts) all.push_back(&a);
  return PostLedger(c, std::move(all), entries);
}

absl::Status PostLedger(Conn& c, LockedAccount& account, const std::vector<LedgerRow>& entries) {
  return PostLedger(c, std::vector<LockedAccount*>{&account}, entries);
}

absl::StatusOr<std::vector<LedgerRow>> ListLedger(Conn& c, int64_t account_id, int64_t after,
                                                  int limit) {
  ASSIGN_OR_RETURN(
      std::vector<Row> rows,
      c.Query("SELECT e.id, e.account_id, e.kind, e.amount_minor, COALESCE(e.line_id, 0), "
              "COALESCE(l.bill_id, 0), COALESCE(e.payment_id, 0), e.actor, e.reason, "
              "e.created_at FROM ledger e LEFT JOIN bill_lines l ON l.id = e.line_id "
              "WHERE e.account_id = ? AND e.id > ? ORDER BY e.id LIMIT ?",
              {account_id, after, limit}));
  std::vector<LedgerRow> out;
  for (const Row& r : rows) {
    out.push_back(LedgerRow{r.Int(0), r.Int(1), static_cast<v1::LedgerKind>(r.Int(2)), r.Int(3),
                            r.Int(4), r.Int(5), r.Int(6), r.Str(7), r.Str(8), r.Time(9)});
  }
  return out;
}

}  // namespace billing::store
