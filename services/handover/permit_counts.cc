#include "services/handover/permit_counts.h"

#include <map>
#include <set>

#include "absl/strings/numbers.h"
#include "services/kit/field_error.h"

namespace handover {

absl::StatusOr<HalfYear> ParseHalfYear(absl::string_view field, absl::string_view text) {
  int year = 0;
  if (text.size() != 7 || text.substr(4, 2) != "-H" || (text[6] != '1' && text[6] != '2') ||
      !absl::SimpleAtoi(text.substr(0, 4), &year) || year < 1900 || year > 9000) {
    return kit::FieldError(field, "a half-year such as \"2026-H2\"");
  }
  if (text[6] == '1') return HalfYear{absl::CivilDay(year, 1, 1), absl::CivilDay(year, 7, 1)};
  return HalfYear{absl::CivilDay(year, 7, 1), absl::CivilDay(year + 1, 1, 1)};
}

// Zones are at most 14 hours from UTC; a day covers them all.
absl::Time SpanStart(const HalfYear& h) {
  return absl::FromCivil(h.first - 1, absl::UTCTimeZone());
}
absl::Time SpanEnd(const HalfYear& h) { return absl::FromCivil(h.end + 1, absl::UTCTimeZone()); }

const std::vector<std::string>& CountedMoveTypes() {
  static const auto* types = new std::vector<std::string>(
      {"created", "approved", "refused", "pass_issued", "inspected", "violation", "closed"});
  return *types;
}

v1::RenovationCounts CountHalfYear(const HalfYear& h, const std::vector<PermitMove>& moves,
                                   absl::string_view parent, absl::string_view half_year) {
  v1::RenovationCounts out;
  out.set_parent(std::string(parent));
  out.set_half_year(std::string(half_year));
  std::map<std::string, absl::TimeZone> zones;
  std::set<std::string> renovated;
  for (const PermitMove& m : moves) {
    auto it = zones.find(m.time_zone);
    if (it == zones.end()) {
      absl::TimeZone zone;
      if (!absl::LoadTimeZone(m.time_zone, &zone)) zone = absl::UTCTimeZone();
      it = zones.emplace(m.time_zone, zone).first;
    }
    const absl::CivilDay day = absl::ToCivilDay(m.time, it->second);
    if (day < h.first || day >= h.end) continue;
    if (m.type == "created") {
      out.set_permits_applied(out.permits_applied() + 1);
    } else if (m.type == "approved") {
      out.set_permits_approved(out.permits_approved() + 1);
    } else if (m.type == "refused") {
      out.set_permits_refused(out.permits_refused() + 1);
    } else if (m.type == "pass_issued") {
      out.set_passes_issued(out.passes_issued() + 1);
    } else if (m.type == "inspected") {
      out.set_inspections(out.inspections() + 1);
    } else if (m.type == "violation") {
      out.set_inspections(out.inspections() + 1);
      out.set_violations(out.violations() + 1);
    } else if (m.type == "closed") {
      renovated.insert(m.unit);
    }
  }
  out.set_units_renovated(static_cast<int>(renovated.size()));
  return out;
}

}  // namespace handover
