#ifndef ESTATE_SERVICES_BILLING_RUNS_STORE_H_
#define ESTATE_SERVICES_BILLING_RUNS_STORE_H_

// Bill runs (drafts, their commit in batches, issuing bills): the SQL.

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "services/billing/accounts_store.h"
#include "services/billing/charges.h"
#include "services/billing/period.h"
#include "services/billing/store_base.h"
#include "services/billing/totals_store.h"
#include "services/kit/db.h"

namespace billing::store {

// What a bill run needs of accounts with ids in (after, last]: at most
// `limit`, in id order, with consumption per meter read within [start, end).
struct RunAccount {
  AccountFacts facts;
  std::string unit;
  std::string building;
};
absl::StatusOr<std::vector<RunAccount>> ReadRunAccounts(kit::Conn& c, const std::string& site,
                                                        int64_t after, int64_t last, int limit,
                                                        absl::CivilDay start, absl::CivilDay end);
absl::StatusOr<std::map<int64_t, ChargeRule>> ReadRules(kit::Conn& c, const std::string& site);

// Bill runs.
struct RunRow {
  int64_t id = 0;
  std::string site;
  v1::BillRun draft;  // cycle, period_date, figures
  v1::BillRunState state = v1::DRAFT;
  int64_t accounts_done = 0;
  int64_t lines_issued = 0;
  int64_t lines_skipped = 0;
  int64_t issued_minor = 0;
  int64_t cursor_account = 0;
  // The last account the dry run saw; the commit bills no account after it.
  int64_t last_account = 0;
  std::string created_by;
  absl::Time created_at;
  std::optional<absl::Time> committed_at;
  std::optional<absl::Time> completed_at;
};
absl::StatusOr<int64_t> InsertRun(kit::Conn& c, RunRow& r, absl::Time now);
absl::StatusOr<RunRow> ReadRun(kit::Conn& c, const std::string& site, int64_t id,
                               bool for_update);
absl::StatusOr<std::vector<RunRow>> ListRuns(kit::Conn& c, const std::string& site,
                                             int64_t after, int limit);
absl::Status MarkCommitting(kit::Conn& c, int64_t run_id, absl::Time now);
// Locks the oldest committing run that no other transaction holds and that
// is the oldest committing run of its site (runs of one site commit one
// after the other, whichever replica holds them); nullopt if none.
absl::StatusOr<std::optional<RunRow>> LockCommittingRun(kit::Conn& c);
absl::Status SaveRunProgress(kit::Conn& c, const RunRow& r);
absl::Status CompleteRun(kit::Conn& c, int64_t run_id, absl::Time now);
// Stops a committing run for good, keeping why.
absl::Status FailRun(kit::Conn& c, int64_t run_id, const std::string& why, absl::Time now);

// Issuing: the (account, item, label) lines that exist for accounts in
// [lo, hi] under any of `labels`.
absl::StatusOr<std::set<std::tuple<int64_t, int64_t, std::string>>> IssuedLines(
    kit::Conn& c, int64_t lo, int64_t hi, const std::vector<std::string>& labels);
struct NewBill {
  int64_t account_id = 0;
  std::string building;
  absl::CivilDay due;
  std::vector<const ChargeLine*> lines;
};
// Inserts bills, their lines and a CHARGE ledger entry per line, in a few
// multi-row statements; adds the lines to `totals` (for the caller to write
// once, with AddTotals, at the end of its transaction). `accounts` are the
// batch's, locked in id order, every bill's among them. Returns the new line
// ids by (account, item).
absl::StatusOr<std::map<std::pair<int64_t, int64_t>, int64_t>> IssueBills(
    kit::Conn& c, const std::string& site, int64_t run_id, const Period& period,
    const std::string& currency, absl::CivilDay issue_date, const std::vector<NewBill>& bills,
    std::vector<LockedAccount>& accounts, const std::string& actor, absl::Time now,
    Totals* totals);

}  // namespace billing::store

#endif  // ESTATE_SERVICES_BILLING_RUNS_STORE_H_
