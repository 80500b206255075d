#ifndef ESTATE_SERVICES_BILLING_CHARGES_H_
#define ESTATE_SERVICES_BILLING_CHARGES_H_

// What a bill run charges one account for one period: pure rules, no I/O.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/civil_time.h"
#include "services/billing/money.h"
#include "services/billing/period.h"

namespace billing {

enum class ChargeKind { kPerArea, kFixed, kMetered, kOneOff };

// A charge item as the rules need it.
struct ChargeRule {
  int64_t id = 0;
  std::string code;
  ChargeKind kind = ChargeKind::kFixed;
  // kOneOff items have no cycle: they are billed once, by the first run whose
  // period contains their effective_from.
  std::optional<Cycle> cycle;
  Decimal rate;             // per m² (kPerArea) or per period / once
  std::vector<Tier> tiers;  // kMetered
  std::string meter;        // kMetered
  absl::CivilDay effective_from;
  std::optional<absl::CivilDay> effective_to;  // exclusive
  int due_days = 0;
  std::optional<LateFeePolicy> late_fee;
  // Set when the stored item no longer validates (made before a rule it
  // breaks existed): why. It prices nothing; runs report it.
  std::string unusable;
};

enum class AccountState { kActive, kVacant, kSuspended };

struct AccountFacts {
  int64_t id = 0;
  AccountState state = AccountState::kActive;
  Decimal area;  // m²
  absl::CivilDay fee_start;
  std::vector<int64_t> items;
  // Consumption per meter during the period.
  std::map<std::string, Decimal> consumption;
};

struct ChargeLine {
  int64_t account_id = 0;
  int64_t item_id = 0;
  std::string period_label;  // "once" for one-off items
  Decimal quantity;          // m², consumption, or 1
  int64_t amount_minor = 0;
  absl::CivilDay due;
};

// The largest line a run issues (10^12 minor units); above it the run stops.
inline constexpr int64_t kMaxLineMinor = 1000000000000;

// The label under which a one-off charge is issued: at most once per account.
inline constexpr char kOnceLabel[] = "once";

// The lines for `account` in `period` (a period of `cycle`), one per
// subscribed item of that cycle in effect during the period, prorated from
// the later of the fee start and the item's start to the earlier of the
// period's and the item's end. Suspended accounts, items outside the period
// and zero amounts give no line. `rules` maps item id to rule.
//
// An item that cannot be priced for the account (an unknown or unusable
// item, a line above kMaxLineMinor) gives no line: with `failures`, one
// PricingFailure each is appended there and the other items are priced;
// without, the first is FAILED_PRECONDITION.
struct PricingFailure {
  int64_t item_id = 0;
  std::string code;
  std::string reason;
};
absl::StatusOr<std::vector<ChargeLine>> LinesFor(const AccountFacts& account,
                                                 const std::map<int64_t, ChargeRule>& rules,
                                                 Cycle cycle, const Period& period,
                                                 std::vector<PricingFailure>* failures = nullptr);

}  // namespace billing

#endif  // ESTATE_SERVICES_BILLING_CHARGES_H_
