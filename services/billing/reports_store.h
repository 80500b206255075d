#ifndef ESTATE_SERVICES_BILLING_REPORTS_STORE_H_
#define ESTATE_SERVICES_BILLING_REPORTS_STORE_H_

// Collection, arrears and aging reports, the metrics' figures: the SQL.

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "services/billing/collection.h"
#include "services/billing/store_base.h"
#include "services/kit/db.h"

namespace billing::store {

// Reports.
absl::StatusOr<std::vector<LineSums>> CollectionRows(kit::Conn& c, const std::string& site,
                                                          const std::string& label);
// Allocated during [start, end) to lines of periods that started before `start`.
absl::StatusOr<int64_t> ArrearsRecovered(kit::Conn& c, const std::string& site,
                                         absl::CivilDay start, absl::CivilDay end);
// Past-due amounts by account and age bucket (0..3, 4 = on hold), for
// accounts after `after` (all if limit is 0). Bucket upper bounds in days.
struct AgingRow {
  int64_t account_id = 0;
  std::string unit;
  int bucket = 0;
  int64_t amount = 0;
};
absl::StatusOr<std::vector<AgingRow>> AgingRows(kit::Conn& c, const std::string& site,
                                                absl::CivilDay as_of, const int bounds[3],
                                                int64_t after, int account_limit);
// A site's collection totals by report period and hold, for the gauges.
struct PeriodSums {
  std::string period;
  bool held = false;
  int64_t billed = 0;
  int64_t collected = 0;
  int64_t written_off = 0;
};
absl::StatusOr<std::vector<PeriodSums>> SiteTotals(kit::Conn& c, const std::string& site);
// Per site: runs being committed and when the oldest of them was committed.
absl::StatusOr<std::map<std::string, std::pair<int64_t, absl::Time>>> CommittingRuns(kit::Conn& c);
// Sites with any bill run, for the metrics job.
absl::StatusOr<std::vector<std::string>> BilledSites(kit::Conn& c);

}  // namespace billing::store

#endif  // ESTATE_SERVICES_BILLING_REPORTS_STORE_H_
