#ifndef ESTATE_SERVICES_BILLING_BILLING_VALIDATION_H_
#define ESTATE_SERVICES_BILLING_BILLING_VALIDATION_H_

// Checks of what clients send, turning API messages into domain values.
// Every error is INVALID_ARGUMENT naming the field.

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/civil_time.h"
#include "estate/billing/v1/billing.pb.h"
#include "services/billing/charges.h"
#include "services/billing/period.h"
#include "services/kit/civil_text.h"

namespace billing {

namespace v1 = ::estate::billing::v1;

// The largest single amount accepted (10^12 fen: ten billion yuan); sums of
// any realistic number of these stay far from int64 overflow.
inline constexpr int64_t kMaxAmountMinor = 1000000000000;

using kit::ParseDay;

// A charge item as created: code, kind, cycle, rates, tiers, dates, late fee.
// `prefix` names the message in errors ("charge_item.").
absl::StatusOr<ChargeRule> RuleOf(const v1::ChargeItem& item, absl::string_view prefix);
// A stored item that RuleOf refuses (`why`), as a rule that applies where
// the item would (its kind, cycle and dates, as far as they parse) and
// prices nothing: `unusable` says why.
ChargeRule UnusableRuleOf(const v1::ChargeItem& item, const absl::Status& why);

// sites/{site}/accounts/{unit} -> {site, unit}.
absl::StatusOr<std::pair<std::string, std::string>> ParseAccountName(absl::string_view field,
                                                                     absl::string_view name);

// The fields of an account a client sets (building, payer, area, items,
// fee start, status, mandate), checked; charge item names must be of `site`.
struct AccountInput {
  std::string building;
  std::string area;  // canonical
  absl::CivilDay fee_start;
  v1::AccountStatus status = v1::ACTIVE;
  std::vector<int64_t> items;
  v1::Account profile;  // payer_name, payer_kind, mandate only
};
absl::StatusOr<AccountInput> CheckAccount(const v1::Account& a, const std::string& site);

// A meter reading value, up to 3 decimals, in thousandths.
absl::StatusOr<int64_t> ParseReadingMilli(absl::string_view field, absl::string_view text);
std::string MilliText(int64_t milli);

// A currency code: three upper-case letters.
bool IsCurrencyCode(absl::string_view code);

// A season boundary "MM-DD" that exists in every year (no 02-29).
absl::Status ParseMonthDay(absl::string_view field, absl::string_view text, int* month, int* day);

Cycle CycleOf(v1::Cycle c);

}  // namespace billing

#endif  // ESTATE_SERVICES_BILLING_BILLING_VALIDATION_H_
