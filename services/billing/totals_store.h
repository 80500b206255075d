#ifndef ESTATE_SERVICES_BILLING_TOTALS_STORE_H_
#define ESTATE_SERVICES_BILLING_TOTALS_STORE_H_

// The collection report's running totals, kept by every writer of lines in
// the same transaction: the one shared piece of bookkeeping.

#include <cstdint>
#include <map>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "services/billing/store_base.h"
#include "services/kit/db.h"

namespace billing::store {

// Running totals of the collection report, by report period, building,
// charge item (its charges, or the late fees on them) and hold.
struct TotalsKey {
  std::string period;
  std::string building;
  int64_t item_id = 0;
  bool late_fee = false;  // late fees charged on the item's lines, apart from them
  bool held = false;
  bool operator<(const TotalsKey& o) const {
    return std::tie(period, building, item_id, late_fee, held) <
           std::tie(o.period, o.building, o.item_id, o.late_fee, o.held);
  }
};
struct TotalsDelta {
  int64_t lines = 0;
  int64_t billed = 0;
  int64_t collected = 0;
  int64_t written_off = 0;
};
using Totals = std::map<TotalsKey, TotalsDelta>;
// Writes the totals of a transaction: call once, after its last line change.
absl::Status AddTotals(kit::Conn& c, const std::string& site, const Totals& totals);

}  // namespace billing::store

#endif  // ESTATE_SERVICES_BILLING_TOTALS_STORE_H_
