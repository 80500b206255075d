#ifndef ESTATE_SERVICES_BILLING_BILLS_STORE_H_
#define ESTATE_SERVICES_BILLING_BILLS_STORE_H_

// Bills and their lines (holds, write-offs): the SQL.

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "services/billing/accounts_store.h"
#include "services/billing/store_base.h"
#include "services/billing/totals_store.h"
#include "services/kit/db.h"

namespace billing::store {

// Bills and lines.
struct LineRow {
  int64_t id = 0;
  int64_t bill_id = 0;
  int64_t account_id = 0;
  int64_t item_id = 0;
  std::string code;
  std::string description;
  std::string building;
  std::string period_label;
  std::string quantity;
  int64_t amount_minor = 0;
  int64_t paid_minor = 0;
  int64_t written_off_minor = 0;
  absl::CivilDay due;
  bool held = false;
  std::string hold_reason;
  std::string hold_ticket;
  std::string report_period;    // the bill run's period, for reports
  absl::CivilDay period_start;  // of the bill run's period
  int64_t late_fee_of = 0;      // a late fee: the line it is charged on
  int64_t late_fee_of_bill = 0;  // and that line's bill
  std::string reference;         // a one-off charge's (ChargeAccount)
};
struct BillRow {
  int64_t id = 0;
  std::string site;
  int64_t run_id = 0;
  int64_t account_id = 0;
  std::string unit;
  std::string period_label;
  absl::CivilDay issue_date;
  absl::CivilDay due;
  std::string currency;
  std::vector<LineRow> lines;
};
// The lines a run issued after line id `after`, with each one's unit.
absl::StatusOr<std::vector<std::pair<LineRow, std::string>>> RunLines(kit::Conn& c,
                                                                      int64_t run_id,
                                                                      int64_t after, int limit);
absl::StatusOr<BillRow> ReadBill(kit::Conn& c, const std::string& site, int64_t id);
struct BillFilter {
  std::string site;
  int64_t account_id = 0;  // 0: any
  std::string period_label;
  bool unpaid_only = false;
  int64_t run_id = 0;  // 0: any
};
absl::StatusOr<std::vector<BillRow>> ListBills(kit::Conn& c, const BillFilter& f, int64_t after,
                                               int limit);
// Without a lock.
absl::StatusOr<LineRow> ReadLine(kit::Conn& c, const std::string& site, int64_t bill_id,
                                 int64_t line_id);
// Locked lines are read for changing them: their `description` is left
// empty (read a line again, unlocked, to show it).
// The line, locked; NOT_FOUND if it is not a line of the account.
absl::StatusOr<LineRow> LockLine(kit::Conn& c, const LockedAccount& a, int64_t bill_id,
                                 int64_t line_id);
// The account's lines with something left to pay, locked, oldest due first.
absl::StatusOr<std::vector<LineRow>> LockUnsettledLines(kit::Conn& c, const LockedAccount& a);
// The same for several accounts at once (one statement per 512), by account.
absl::StatusOr<std::map<int64_t, std::vector<LineRow>>> LockUnsettledLines(
    kit::Conn& c, const std::vector<LockedAccount*>& accounts);
// The account's lines `ids`, locked.
absl::StatusOr<std::map<int64_t, LineRow>> LockLines(kit::Conn& c, const LockedAccount& a,
                                                     const std::vector<int64_t>& ids);
// The line must have been locked in this transaction; these keep the
// collection totals in step with it.
absl::Status SetHold(kit::Conn& c, const LockedAccount& a, const LineRow& line, bool held,
                     const std::string& reason, const std::string& ticket, absl::CivilDay today);
// With `totals`, the write-off's share goes there for the caller to write
// (AddTotals, once, last); without, it is written here.
absl::Status WriteOffLine(kit::Conn& c, const LockedAccount& a, const LineRow& line, int64_t amount,
                          Totals* totals = nullptr);

}  // namespace billing::store

#endif  // ESTATE_SERVICES_BILLING_BILLS_STORE_H_
