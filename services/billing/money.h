#ifndef ESTATE_SERVICES_BILLING_MONEY_H_
#define ESTATE_SERVICES_BILLING_MONEY_H_

// The arithmetic of bills, exact from input to the fen. The start of the
// billing service (issue 4): pure functions, no database, no floating point.
//
// Rounding rule, once per bill line: the exact amount (a rational number of
// fen) is rounded half-up, i.e. to the nearest fen with halves rounded away
// from zero (0.5 fen -> 1 fen, -0.5 fen -> -1 fen, for credits).

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/civil_time.h"

namespace billing {

// An exact non-negative decimal such as a rate "2.6" (yuan per m² per month),
// an area "98.37" (m²) or a daily late-fee rate "0.0005":
// value = units / 10^scale.
class Decimal {
 public:
  static constexpr int kMaxScale = 9;
  static constexpr int kMaxDigits = 15;

  // Plain decimal notation only: digits, at most one '.', at most kMaxScale
  // decimals and kMaxDigits digits in all; no sign, exponent or spaces.
  // INVALID_ARGUMENT naming `field` otherwise.
  static absl::StatusOr<Decimal> Parse(absl::string_view text, absl::string_view field);
  static Decimal FromUnits(int64_t units, int scale);
  Decimal() = default;  // zero

  int64_t units() const { return units_; }
  int scale() const { return scale_; }
  bool is_zero() const { return units_ == 0; }
  // Canonical text: "2.6", "0.0005", "12" (no trailing zeros).
  std::string ToString() const;

  friend bool operator<(const Decimal& a, const Decimal& b);
  friend bool operator==(const Decimal& a, const Decimal& b);

 private:
  Decimal(int64_t units, int scale) : units_(units), scale_(scale) {}
  int64_t units_ = 0;
  int scale_ = 0;
};

// An exact share of a period, e.g. 19/30 of a month.
struct Fraction {
  int64_t num = 1;
  int64_t den = 1;
};

// num / den rounded half-up (away from zero at .5); den must be positive.
// OUT_OF_RANGE if the result does not fit in int64.
absl::StatusOr<int64_t> RoundHalfUp(__int128 num, __int128 den);

// One line: rate (major units, e.g. yuan, per unit of quantity per period)
// x quantity x share of the period, in minor units (fen), rounded once.
// Per-area fees: rate per m² x billable area. Fixed fees: quantity 1.
absl::StatusOr<int64_t> LineAmountMinor(const Decimal& rate, const Decimal& quantity,
                                        Fraction share = {});

// Metered charges with tiers, e.g. water: the first 10 m³ at 3.5, the next
// 10 at 4.2, the rest at 5.6. `up_to` is the cumulative upper bound of each
// tier; the last tier has none. The sum over tiers is exact and rounded once.
struct Tier {
  std::optional<Decimal> up_to;
  Decimal rate;
};
// The tiers' shape, whatever the consumption: at least one; every tier but
// the last has an upper bound above zero and above the bound before it; the
// last has none. INVALID_ARGUMENT naming the tier ("tiers[1].up_to: ...").
absl::Status CheckTiers(const std::vector<Tier>& tiers);
// INVALID_ARGUMENT if the tiers fail CheckTiers.
absl::StatusOr<int64_t> TieredAmountMinor(const std::vector<Tier>& tiers, const Decimal& consumption);

// The share of the period [start, end) a unit pays when its fees start on
// `fee_start` (a unit handed over mid-month pays from that day, inclusive):
// 1 if it starts on or before `start`, 0 if on or after `end`, else
// remaining days / days in the period.
Fraction ProRata(absl::CivilDay start, absl::CivilDay end, absl::CivilDay fee_start);

// Late fees: `daily_rate` of the unpaid amount for each day past the end of
// the grace period (due date + `grace_days`); paying within the grace costs
// nothing and the grace days are never charged. Rounded once; at most
// `cap_minor` (no cap if absent).
struct LateFeePolicy {
  Decimal daily_rate;
  int grace_days = 0;
  std::optional<int64_t> cap_minor;
};
absl::StatusOr<int64_t> LateFeeMinor(const LateFeePolicy& policy, int64_t unpaid_minor,
                                     absl::CivilDay due, absl::CivilDay as_of);

}  // namespace billing

#endif  // ESTATE_SERVICES_BILLING_MONEY_H_
