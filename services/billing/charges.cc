#include "services/billing/charges.h"

#include <algorithm>

#include "absl/strings/str_cat.h"

namespace billing {

absl::StatusOr<std::vector<ChargeLine>> LinesFor(const AccountFacts& account,
                                                 const std::map<int64_t, ChargeRule>& rules,
                                                 Cycle cycle, const Period& period,
                                                 std::vector<PricingFailure>* failures) {
  std::vector<ChargeLine> out;
  if (account.state == AccountState::kSuspended) return out;
  std::vector<PricingFailure> found;
  const auto fail = [&](const ChargeRule* rule, int64_t item_id, std::string reason) {
    found.push_back(
        {item_id, rule != nullptr ? rule->code : absl::StrCat("#", item_id), std::move(reason)});
  };
  for (int64_t item_id : account.items) {
    auto it = rules.find(item_id);
    if (it == rules.end()) {
      fail(nullptr, item_id, "the account subscribes to it and it does not exist");
      continue;
    }
    const ChargeRule& rule = it->second;
    ChargeLine line;
    line.account_id = account.id;
    line.item_id = rule.id;
    line.due = period.start + rule.due_days;
    if (rule.kind == ChargeKind::kOneOff) {
      // Billed by the run whose period holds its date, if the fees have started.
      if (rule.effective_from < period.start || rule.effective_from >= period.end) continue;
      if (account.fee_start > rule.effective_from) continue;
      line.period_label = kOnceLabel;
      line.quantity = Decimal::FromUnits(1, 0);
      line.due = rule.effective_from + rule.due_days;
      if (!rule.unusable.empty()) {
        fail(&rule, item_id, rule.unusable);
        continue;
      }
      absl::StatusOr<int64_t> amount = LineAmountMinor(rule.rate, line.quantity);
      if (!amount.ok()) {
        fail(&rule, item_id, std::string(amount.status().message()));
        continue;
      }
      line.amount_minor = *amount;
    } else {
      if (rule.cycle != cycle) continue;
      const absl::CivilDay start =
          std::max({period.start, rule.effective_from, account.fee_start});
      absl::CivilDay end = period.end;
      if (rule.effective_to.has_value()) end = std::min(end, *rule.effective_to);
      if (start >= end) continue;
      if (!rule.unusable.empty()) {
        fail(&rule, item_id, rule.unusable);
        continue;
      }
      const Fraction share{end - start, period.days()};
      line.period_label = period.label;
      absl::StatusOr<int64_t> amount;
      switch (rule.kind) {
        case ChargeKind::kPerArea:
          line.quantity = account.area;
          amount = LineAmountMinor(rule.rate, account.area, share);
          break;
        case ChargeKind::kFixed:
          line.quantity = Decimal::FromUnits(1, 0);
          amount = LineAmountMinor(rule.rate, line.quantity, share);
          break;
        case ChargeKind::kMetered: {
          // What the meter measured is what is charged, whatever the share.
          auto used = account.consumption.find(rule.meter);
          line.quantity =
              used == account.consumption.end() ? Decimal::FromUnits(0, 0) : used->second;
          amount = TieredAmountMinor(rule.tiers, line.quantity);
          break;
        }
        case ChargeKind::kOneOff:
          break;
      }
      if (!amount.ok()) {
        fail(&rule, item_id, std::string(amount.status().message()));
        continue;
      }
      line.amount_minor = *amount;
    }
    if (line.amount_minor == 0) continue;
    // A line beyond any real charge (a mistyped reading, say) stops the run
    // before it can overflow a total.
    if (line.amount_minor > kMaxLineMinor) {
      fail(&rule, item_id,
           absl::StrCat("it would bill ", line.amount_minor, " minor units; the largest line is ",
                        kMaxLineMinor));
      continue;
    }
    out.push_back(std::move(line));
  }
  if (failures != nullptr) {
    for (PricingFailure& f : found) failures->push_back(std::move(f));
  } else if (!found.empty()) {
    return absl::FailedPreconditionError(
        absl::StrCat("charge item ", found.front().code, ": ", found.front().reason));
  }
  return out;
}

}  // namespace billing
