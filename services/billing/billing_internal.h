#ifndef ESTATE_SERVICES_BILLING_BILLING_INTERNAL_H_
#define ESTATE_SERVICES_BILLING_BILLING_INTERNAL_H_

// What the billing_service_*.cc files share and nothing else needs.

#include <map>
#include <string>
#include <vector>

#include "services/billing/allocation.h"
#include "services/billing/billing_store.h"
#include "services/billing/billing_validation.h"

namespace billing {

inline void ApplyAccountInput(const AccountInput& in, store::AccountRow& a) {
  a.building = in.building;
  a.area = in.area;
  a.fee_start = in.fee_start;
  a.status = in.status;
  a.items = in.items;
  a.profile = in.profile;
}

// The lines as the allocation rules see them (written-off money counts as
// settled), with the rows by id for the store to update.
inline std::vector<OpenLine> OpenLinesOf(const std::vector<store::LineRow>& rows,
                                         std::map<int64_t, store::LineRow>* by_id = nullptr) {
  std::vector<OpenLine> out;
  out.reserve(rows.size());
  for (const store::LineRow& l : rows) {
    out.push_back({l.id, l.due, l.amount_minor, l.paid_minor + l.written_off_minor, l.held});
    if (by_id) by_id->emplace(l.id, l);
  }
  return out;
}

// Spends `credit` of account `a` on `open` lines (oldest due first, held
// lines skipped) as allocations from no payment; returns what is left of it,
// which the caller keeps as the account's credit. `lines` holds every line
// of `open` as read (locked) in this transaction; the totals' share goes
// into `totals`.
absl::StatusOr<int64_t> SpendCredit(kit::Conn& c, const store::LockedAccount& a, int64_t credit,
                                    const std::vector<OpenLine>& open,
                                    const std::map<int64_t, store::LineRow>& lines,
                                    absl::CivilDay day, store::Totals* totals);

// The line a request names: sites/{site}/bills/{bill}/lines/{line}.
struct LineRef {
  std::string site;
  int64_t bill_id = 0;
  int64_t line_id = 0;
};
absl::StatusOr<LineRef> ParseLineName(absl::string_view field, absl::string_view name);

// The UTC calendar day of `t`: the day a payment or run is dated by default.
absl::CivilDay DayOfTime(absl::Time t);
// The latest date anywhere on Earth at `t` (UTC+14). Billing keeps no time
// zone per site, so "not in the future" checks of dates a client names use
// it: at 07:00 in Harbin the local date is already tomorrow in UTC, and a
// reading or payment dated that day is not from the future.
absl::CivilDay LatestDayOfTime(absl::Time t);

}  // namespace billing

#endif  // ESTATE_SERVICES_BILLING_BILLING_INTERNAL_H_
