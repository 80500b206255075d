#include "services/billing/money.h"

#include <algorithm>
#include <limits>

#include "absl/strings/str_cat.h"

namespace billing {
namespace {

constexpr int64_t kPow10[] = {1,         10,         100,         1000,        10000,
                              100000,    1000000,    10000000,    100000000,   1000000000,
                              10000000000LL};

absl::Status Bad(absl::string_view field, absl::string_view why) {
  return absl::InvalidArgumentError(absl::StrCat(field, ": ", why));
}

}  // namespace

absl::StatusOr<Decimal> Decimal::Parse(absl::string_view text, absl::string_view field) {
  if (text.empty()) return Bad(field, "required");
  int64_t units = 0;
  int scale = -1;  // -1: no '.' seen yet
  int digits = 0;
  for (char c : text) {
    if (c == '.') {
      if (scale >= 0) return Bad(field, "more than one '.'");
      scale = 0;
      continue;
    }
    if (c < '0' || c > '9') return Bad(field, "a plain decimal such as 2.6 is expected");
    if (scale >= 0 && ++scale > kMaxScale) {
      return Bad(field, absl::StrCat("at most ", kMaxScale, " decimal places"));
    }
    if (units != 0 || c != '0') ++digits;
    if (digits > kMaxDigits) return Bad(field, absl::StrCat("at most ", kMaxDigits, " digits"));
    units = units * 10 + (c - '0');
  }
  if (text.front() == '.' || text.back() == '.') return Bad(field, "a digit must stand on each side of '.'");
  return Decimal(units, std::max(scale, 0));
}

Decimal Decimal::FromUnits(int64_t units, int scale) { return Decimal(units, scale); }

std::string Decimal::ToString() const {
  int64_t units = units_;
  int scale = scale_;
  while (scale > 0 && units % 10 == 0) {
    units /= 10;
    --scale;
  }
  std::string digits = std::to_string(units);
  if (scale == 0) return digits;
  if (static_cast<int>(digits.size()) <= scale) digits.insert(0, scale - digits.size() + 1, '0');
  digits.insert(digits.size() - scale, ".");
  return digits;
}

bool operator<(const Decimal& a, const Decimal& b) {
  const int s = std::max(a.scale_, b.scale_);
  return static_cast<__int128>(a.units_) * kPow10[s - a.scale_] <
         static_cast<__int128>(b.units_) * kPow10[s - b.scale_];
}

bool operator==(const Decimal& a, const Decimal& b) { return !(a < b) && !(b < a); }

absl::StatusOr<int64_t> RoundHalfUp(__int128 num, __int128 den) {
  if (den <= 0) return absl::InvalidArgumentError("rounding: the denominator must be positive");
  const bool negative = num < 0;
  const __int128 magnitude = negative ? -num : num;
  __int128 q = magnitude / den;
  if ((magnitude % den) * 2 >= den) ++q;  // halves go away from zero
  if (q > std::numeric_limits<int64_t>::max()) {
    return absl::OutOfRangeError("amount: too large for 64-bit minor units");
  }
  return static_cast<int64_t>(negative ? -q : q);
}

absl::StatusOr<int64_t> LineAmountMinor(const Decimal& rate, const Decimal& quantity,
                                        Fraction share) {
  if (share.den <= 0 || share.num < 0) return absl::InvalidArgumentError("share: must be a non-negative fraction");
  // At most 10^15 * 10^15 * 100 * share.num: inside 128 bits for any share of
  // a period counted in days.
  const __int128 num = static_cast<__int128>(rate.units()) * quantity.units() * 100 * share.num;
  const __int128 den = static_cast<__int128>(kPow10[rate.scale()]) * kPow10[quantity.scale()] * share.den;
  return RoundHalfUp(num, den);
}

absl::Status CheckTiers(const std::vector<Tier>& tiers) {
  if (tiers.empty()) return absl::InvalidArgumentError("tiers: at least one");
  for (size_t i = 0; i < tiers.size(); ++i) {
    const std::string field = absl::StrCat("tiers[", i, "].up_to");
    if (i + 1 == tiers.size()) {
      if (tiers[i].up_to.has_value()) {
        return absl::InvalidArgumentError(
            absl::StrCat(field, ": the last tier has no upper bound (it takes the rest)"));
      }
      break;
    }
    if (!tiers[i].up_to.has_value()) {
      return absl::InvalidArgumentError(
          absl::StrCat(field, ": required on every tier but the last"));
    }
    if (tiers[i].up_to->is_zero()) {
      return absl::InvalidArgumentError(absl::StrCat(field, ": must be above 0"));
    }
    if (i > 0 && !(*tiers[i - 1].up_to < *tiers[i].up_to)) {
      return absl::InvalidArgumentError(absl::StrCat(field, ": must be above the tier before's (",
                                                     tiers[i - 1].up_to->ToString(),
                                                     "): bounds must increase"));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<int64_t> TieredAmountMinor(const std::vector<Tier>& tiers,
                                          const Decimal& consumption) {
  if (absl::Status s = CheckTiers(tiers); !s.ok()) return s;
  // Everything in units of 10^-9 quantity and 10^-9 rate, exact.
  constexpr int kScale = Decimal::kMaxScale;
  auto scaled = [](const Decimal& d) {
    return static_cast<__int128>(d.units()) * kPow10[kScale - d.scale()];
  };
  const __int128 total = scaled(consumption);
  __int128 below = 0;  // where the current tier starts
  __int128 num = 0;    // sum of quantity x rate, in 10^-18 major units
  for (size_t i = 0; i < tiers.size() && below < total; ++i) {
    const __int128 top = tiers[i].up_to ? scaled(*tiers[i].up_to) : total;
    if (top <= below) return absl::InvalidArgumentError("tiers: bounds must increase");
    const __int128 in_tier = std::min(top, total) - below;
    num += in_tier * scaled(tiers[i].rate);
    below = top;
  }
  const __int128 den = static_cast<__int128>(kPow10[kScale]) * kPow10[kScale];
  return RoundHalfUp(num * 100, den);
}

Fraction ProRata(absl::CivilDay start, absl::CivilDay end, absl::CivilDay fee_start) {
  const int64_t days = end - start;
  if (days <= 0 || fee_start >= end) return {0, 1};
  if (fee_start <= start) return {1, 1};
  return {end - fee_start, days};
}

absl::StatusOr<int64_t> LateFeeMinor(const LateFeePolicy& policy, int64_t unpaid_minor,
                                     absl::CivilDay due, absl::CivilDay as_of) {
  if (unpaid_minor < 0) return absl::InvalidArgumentError("unpaid: must not be negative");
  if (policy.grace_days < 0) return absl::InvalidArgumentError("grace_days: must not be negative");
  const int64_t charged_days = (as_of - due) - policy.grace_days;
  if (unpaid_minor == 0 || charged_days <= 0) return 0;
  const __int128 num = static_cast<__int128>(unpaid_minor) * policy.daily_rate.units() * charged_days;
  auto fee = RoundHalfUp(num, kPow10[policy.daily_rate.scale()]);
  if (!fee.ok()) return fee.status();
  if (policy.cap_minor && *fee > *policy.cap_minor) return *policy.cap_minor;
  return *fee;
}

}  // namespace billing
