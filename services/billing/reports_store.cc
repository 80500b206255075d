// The SQL the reports read.
#include "services/billing/reports_store.h"

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

// --- reports ----------------------------------------------------------------

absl::StatusOr<std::vector<LineSums>> CollectionRows(Conn& c, const std::string& site,
                                                     const std::string& label) {
  ASSIGN_OR_RETURN(std::vector<Row> rows,
                   c.Query("SELECT t.building, CONCAT(i.code, IF(t.late_fee, ':late-fee', '')), "
                           "t.held, t.line_count, t.billed_minor, "
                           "t.collected_minor, t.written_off_minor FROM collection_totals t "
                           "JOIN charge_items i ON i.id = t.item_id "
                           "WHERE t.site = ? AND t.period_label = ? AND t.line_count > 0",
                           {site, label}));
  std::vector<LineSums> out;
  for (const Row& r : rows) {
    out.push_back(
        LineSums{r.Str(0), r.Str(1), r.Int(2) != 0, r.Int(3), r.Int(4), r.Int(5), r.Int(6)});
  }
  return out;
}

absl::StatusOr<int64_t> ArrearsRecovered(Conn& c, const std::string& site, absl::CivilDay start,
                                         absl::CivilDay end) {
  ASSIGN_OR_RETURN(std::vector<Row> rows,
                   c.Query("SELECT COALESCE(SUM(amount_minor), 0) FROM allocations "
                           "WHERE site = ? AND applied_on >= ? AND applied_on < ? AND "
                           "line_period_start < ?",
                           {site, DayText(start), DayText(end), DayText(start)}));
  return rows.empty() ? 0 : rows[0].Int(0);
}

absl::StatusOr<std::vector<AgingRow>> AgingRows(Conn& c, const std::string& site,
                                                absl::CivilDay as_of, const int bounds[3],
                                                int64_t after, int account_limit) {
  const std::string day = DayText(as_of);
  std::string sql =
      "SELECT l.account_id, a.unit, CASE WHEN l.held THEN 4 "
      "WHEN DATEDIFF(?, l.due_date) <= ? THEN 0 WHEN DATEDIFF(?, l.due_date) <= ? THEN 1 "
      "WHEN DATEDIFF(?, l.due_date) <= ? THEN 2 ELSE 3 END AS bucket, "
      "SUM(l.amount_minor - l.paid_minor - l.written_off_minor) FROM bill_lines l "
      "JOIN accounts a ON a.id = l.account_id "
      "WHERE l.site = ? AND l.due_date < ? AND "
      "l.paid_minor + l.written_off_minor < l.amount_minor";
  std::vector<SqlParam> params = {day, bounds[0], day, bounds[1], day, bounds[2], site, day};
  if (account_limit > 0) {
    // The page's accounts: the first `account_limit` past-due accounts after `after`.
    sql +=
        " AND l.account_id IN (SELECT * FROM (SELECT DISTINCT account_id FROM bill_lines "
        "WHERE site = ? AND due_date < ? AND paid_minor + written_off_minor < amount_minor "
        "AND account_id > ? ORDER BY account_id LIMIT ?) page)";
    for (SqlParam p : {SqlParam(site), SqlParam(day), SqlParam(after), SqlParam(account_limit)}) {
      params.push_back(std::move(p));
    }
  }
  sql += " GROUP BY l.account_id, a.unit, bucket ORDER BY l.account_id, bucket";
  ASSIGN_OR_RETURN(std::vector<Row> rows, c.Query(sql, params));
  std::vector<AgingRow> out;
  for (const Row& r : rows) {
    out.push_back(AgingRow{r.Int(0), r.Str(1), static_cast<int>(r.Int(2)), r.Int(3)});
  }
  return out;
}

absl::StatusOr<std::vector<PeriodSums>> SiteTotals(Conn& c, const std::string& site) {
  ASSIGN_OR_RETURN(std::vector<Row> rows,
                   c.Query("SELECT period_label, held, SUM(billed_minor), SUM(collected_minor), "
                           "SUM(written_off_minor) FROM collection_totals WHERE site = ? "
                           "GROUP BY period_label, held",
                           {site}));
  std::vector<PeriodSums> out;
  for (const Row& r : rows) {
    out.push_back(PeriodSums{r.Str(0), r.Int(1) != 0, r.Int(2), r.Int(3), r.Int(4)});
  }
  return out;
}

absl::StatusOr<std::map<std::string, std::pair<int64_t, absl::Time>>> CommittingRuns(Conn& c) {
  ASSIGN_OR_RETURN(std::vector<Row> rows,
                   c.Query("SELECT site, COUNT(*), MIN(committed_at) FROM bill_runs "
                           "WHERE state = ? GROUP BY site",
                           {static_cast<int>(v1::COMMITTING)}));
  std::map<std::string, std::pair<int64_t, absl::Time>> out;
  for (const Row& r : rows) out[r.Str(0)] = {r.Int(1), r.Time(2)};
  return out;
}

absl::StatusOr<std::vector<std::string>> BilledSites(Conn& c) {
  ASSIGN_OR_RETURN(std::vector<Row> rows, c.Query("SELECT DISTINCT site FROM bill_runs"));
  std::vector<std::string> out;
  for (const Row& r : rows) out.push_back(r.Str(0));
  return out;
}

}  // namespace billing::store
