#include "services/billing/billing_validation.h"

#include <set>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "services/kit/errors.h"
#include "services/kit/status_macros.h"
#include "services/kit/validate.h"

namespace billing {

using kit::FieldError;

namespace {
const Decimal kMaxRate = Decimal::FromUnits(1000000, 0);
}  // namespace

ChargeRule UnusableRuleOf(const v1::ChargeItem& item, const absl::Status& why) {
  ChargeRule r;
  r.code = item.code();
  r.kind = item.kind() == v1::ONE_OFF    ? ChargeKind::kOneOff
           : item.kind() == v1::METERED  ? ChargeKind::kMetered
           : item.kind() == v1::PER_AREA ? ChargeKind::kPerArea
                                         : ChargeKind::kFixed;
  if (r.kind != ChargeKind::kOneOff) r.cycle = CycleOf(item.cycle());
  absl::CivilDay day;
  r.effective_from = absl::ParseCivilTime(item.effective_from(), &day) ? day : absl::CivilDay();
  if (absl::ParseCivilTime(item.effective_to(), &day)) r.effective_to = day;
  r.unusable = std::string(why.message());
  if (r.unusable.empty()) r.unusable = "the item no longer validates";
  return r;
}

Cycle CycleOf(v1::Cycle c) {
  switch (c) {
    case v1::QUARTERLY:
      return Cycle::kQuarterly;
    case v1::YEARLY:
      return Cycle::kYearly;
    case v1::HEATING_SEASON:
      return Cycle::kHeatingSeason;
    default:
      return Cycle::kMonthly;
  }
}

absl::StatusOr<ChargeRule> RuleOf(const v1::ChargeItem& item, absl::string_view prefix) {
  auto field = [&](absl::string_view f) { return absl::StrCat(prefix, f); };
  ChargeRule r;
  if (item.code().empty() || item.code().size() > 64) {
    return FieldError(field("code"), "required, at most 64 characters");
  }
  for (char ch : item.code()) {
    if (!absl::ascii_islower(ch) && !absl::ascii_isdigit(ch) && ch != '-') {
      return FieldError(field("code"), "lowercase letters, digits and '-' only");
    }
  }
  r.code = item.code();
  RETURN_IF_ERROR(kit::CheckText(field("display_name"), item.display_name(), 200, true));
  switch (item.kind()) {
    case v1::PER_AREA:
      r.kind = ChargeKind::kPerArea;
      break;
    case v1::FIXED:
      r.kind = ChargeKind::kFixed;
      break;
    case v1::METERED:
      r.kind = ChargeKind::kMetered;
      break;
    case v1::ONE_OFF:
      r.kind = ChargeKind::kOneOff;
      break;
    default:
      return FieldError(field("kind"), "required: PER_AREA, FIXED, METERED or ONE_OFF");
  }
  if (r.kind == ChargeKind::kOneOff) {
    if (item.cycle() != v1::CYCLE_UNSPECIFIED && item.cycle() != v1::ONCE) {
      return FieldError(field("cycle"), "a one-off item has cycle ONCE");
    }
  } else {
    if (item.cycle() < v1::MONTHLY || item.cycle() > v1::HEATING_SEASON) {
      return FieldError(field("cycle"), "required: MONTHLY, QUARTERLY, YEARLY or HEATING_SEASON");
    }
    r.cycle = CycleOf(item.cycle());
  }
  if (r.kind == ChargeKind::kMetered) {
    if (!item.rate().empty()) return FieldError(field("rate"), "a metered item is priced by tiers");
    if (item.tiers().empty()) return FieldError(field("tiers"), "required for a metered item");
    if (item.tiers_size() > 10) return FieldError(field("tiers"), "at most 10 tiers");
    for (int i = 0; i < item.tiers_size(); ++i) {
      const v1::Tier& t = item.tiers(i);
      Tier tier;
      ASSIGN_OR_RETURN(tier.rate,
                       Decimal::Parse(t.rate(), absl::StrCat(prefix, "tiers[", i, "].rate")));
      if (!(tier.rate < kMaxRate)) {
        return FieldError(absl::StrCat(prefix, "tiers[", i, "].rate"), "below 1,000,000 a unit");
      }
      if (!t.up_to().empty()) {
        ASSIGN_OR_RETURN(tier.up_to,
                         Decimal::Parse(t.up_to(), absl::StrCat(prefix, "tiers[", i, "].up_to")));
      }
      r.tiers.push_back(tier);
    }
    if (absl::Status tiers = CheckTiers(r.tiers); !tiers.ok()) {
      return absl::InvalidArgumentError(absl::StrCat(prefix, tiers.message()));
    }
    if (item.meter().empty() || item.meter().size() > 32 ||
        !kit::IsValidSiteId(item.meter())) {
      return FieldError(field("meter"), "required for a metered item: lowercase letters, digits, '-'");
    }
    r.meter = item.meter();
  } else {
    if (!item.tiers().empty()) return FieldError(field("tiers"), "only metered items have tiers");
    if (!item.meter().empty()) return FieldError(field("meter"), "only metered items read a meter");
    ASSIGN_OR_RETURN(r.rate, Decimal::Parse(item.rate(), field("rate")));
    if (r.rate.is_zero()) return FieldError(field("rate"), "must be positive");
    if (!(r.rate < kMaxRate)) return FieldError(field("rate"), "below 1,000,000 a unit");
  }
  ASSIGN_OR_RETURN(r.effective_from, ParseDay(field("effective_from"), item.effective_from()));
  if (!item.effective_to().empty()) {
    ASSIGN_OR_RETURN(absl::CivilDay to, ParseDay(field("effective_to"), item.effective_to()));
    if (to <= r.effective_from) return FieldError(field("effective_to"), "must be after effective_from");
    r.effective_to = to;
  }
  if (item.due_days() < 0 || item.due_days() > 366) {
    return FieldError(field("due_days"), "between 0 and 366");
  }
  r.due_days = item.due_days();
  if (item.has_late_fee()) {
    const v1::LateFeePolicy& lf = item.late_fee();
    ASSIGN_OR_RETURN(Decimal rate, Decimal::Parse(lf.daily_rate(), field("late_fee.daily_rate")));
    if (rate.is_zero() || !(rate < Decimal::FromUnits(1, 1))) {
      return FieldError(field("late_fee.daily_rate"), "a fraction per day, above 0 and below 0.1");
    }
    if (lf.grace_days() < 0 || lf.grace_days() > 366) {
      return FieldError(field("late_fee.grace_days"), "between 0 and 366");
    }
    if (lf.cap_minor() < 0 || lf.cap_minor() > kMaxAmountMinor) {
      return FieldError(field("late_fee.cap_minor"), "between 0 (no cap) and 10^12");
    }
    r.late_fee = LateFeePolicy{rate, lf.grace_days(),
                               lf.cap_minor() > 0 ? std::optional<int64_t>(lf.cap_minor())
                                                  : std::nullopt};
  }
  return r;
}

absl::StatusOr<std::pair<std::string, std::string>> ParseAccountName(absl::string_view field,
                                                                     absl::string_view name) {
  std::vector<absl::string_view> parts = absl::StrSplit(name, '/');
  if (parts.size() != 4 || parts[0] != "sites" || parts[2] != "accounts" ||
      !kit::IsValidSiteId(parts[1]) || !kit::IsValidUnitId(parts[3])) {
    return FieldError(field, "must be sites/{site}/accounts/{unit}");
  }
  return std::make_pair(std::string(parts[1]), std::string(parts[3]));
}

absl::StatusOr<AccountInput> CheckAccount(const v1::Account& a, const std::string& site) {
  AccountInput in;
  RETURN_IF_ERROR(kit::CheckText("account.building", a.building(), 64, false));
  in.building = a.building();
  RETURN_IF_ERROR(kit::CheckText("account.payer_name", a.payer_name(), 200, true));
  in.profile.set_payer_name(a.payer_name());
  if (a.payer_kind() != v1::OWNER && a.payer_kind() != v1::TENANT) {
    return FieldError("account.payer_kind", "required: OWNER or TENANT");
  }
  in.profile.set_payer_kind(a.payer_kind());
  ASSIGN_OR_RETURN(Decimal area, Decimal::Parse(a.billable_area(), "account.billable_area"));
  if (area.scale() > 2) return FieldError("account.billable_area", "at most 2 decimals (1/100 m²)");
  if (!(area < Decimal::FromUnits(1000000, 0))) {
    return FieldError("account.billable_area", "below 1,000,000 m²");
  }
  in.area = area.ToString();
  ASSIGN_OR_RETURN(in.fee_start, ParseDay("account.fee_start", a.fee_start()));
  if (a.status() == v1::ACCOUNT_STATUS_UNSPECIFIED) {
    in.status = v1::ACTIVE;
  } else if (a.status() == v1::ACTIVE || a.status() == v1::VACANT || a.status() == v1::SUSPENDED) {
    in.status = a.status();
  } else {
    return FieldError("account.status", "ACTIVE, VACANT or SUSPENDED");
  }
  if (a.charge_items_size() > 50) return FieldError("account.charge_items", "at most 50");
  std::set<int64_t> seen;
  for (int i = 0; i < a.charge_items_size(); ++i) {
    const std::string f = absl::StrCat("account.charge_items[", i, "]");
    ASSIGN_OR_RETURN(kit::SiteId item, kit::ParseSiteId(f, a.charge_items(i), "chargeItems"));
    if (item.site != site) return FieldError(f, "must be a charge item of the account's site");
    const int64_t id = item.id;
    if (!seen.insert(id).second) return FieldError(f, "named twice");
    in.items.push_back(id);
  }
  if (a.has_mandate()) {
    const v1::Mandate& m = a.mandate();
    RETURN_IF_ERROR(kit::CheckText("account.mandate.bank", m.bank(), 100, true));
    RETURN_IF_ERROR(kit::CheckText("account.mandate.account_masked", m.account_masked(), 40, true));
    // Banks show the first and last four digits; more is a card number.
    int digits = 0, masked = 0;
    for (char ch : m.account_masked()) {
      digits += absl::ascii_isdigit(ch) ? 1 : 0;
      masked += ch == '*' ? 1 : 0;
    }
    if (digits > 8 || masked < 4) {
      return FieldError("account.mandate.account_masked",
                        "must be masked: at most 8 digits shown (e.g. \"6222 **** **** 1234\")");
    }
    RETURN_IF_ERROR(ParseDay("account.mandate.expiry", m.expiry()).status());
    *in.profile.mutable_mandate() = m;
  }
  return in;
}

absl::StatusOr<int64_t> ParseReadingMilli(absl::string_view field, absl::string_view text) {
  ASSIGN_OR_RETURN(Decimal d, Decimal::Parse(text, field));
  if (d.scale() > 3) return FieldError(field, "at most 3 decimals");
  int64_t milli = d.units();
  for (int s = d.scale(); s < 3; ++s) {
    if (milli > INT64_MAX / 10) return FieldError(field, "too large");
    milli *= 10;
  }
  if (milli > int64_t{1000000000000}) return FieldError(field, "too large");
  return milli;
}

std::string MilliText(int64_t milli) { return Decimal::FromUnits(milli, 3).ToString(); }

bool IsCurrencyCode(absl::string_view code) {
  if (code.size() != 3) return false;
  for (char ch : code) {
    if (ch < 'A' || ch > 'Z') return false;
  }
  return true;
}

absl::Status ParseMonthDay(absl::string_view field, absl::string_view text, int* month, int* day) {
  if (text.size() != 5 || text[2] != '-' || !absl::SimpleAtoi(text.substr(0, 2), month) ||
      !absl::SimpleAtoi(text.substr(3, 2), day) || *month < 1 || *month > 12 || *day < 1 ||
      absl::CivilDay(2001, *month, *day).day() != *day || (*month == 2 && *day == 29)) {
    return FieldError(field, "must be a day of the year MM-DD (not 02-29)");
  }
  return absl::OkStatus();
}

}  // namespace billing
