#include "services/handover/report.h"

#include <algorithm>
#include <cstdint>
#include <map>
#include <optional>
#include <tuple>
#include <utility>

#include "absl/strings/str_cat.h"
#include "services/kit/civil_text.h"
#include "services/kit/proto_time.h"

namespace handover {

namespace {

constexpr char kInspected[] = "inspected";
constexpr char kAccepted[] = "accepted";
constexpr char kRefused[] = "refused";
constexpr char kCompleted[] = "completed";

// Counts the move `type` in `w`; false for a type the weeks do not count.
bool Count(v1::HandoverWeek& w, const std::string& type) {
  if (type == kInspected) {
    w.set_inspected(w.inspected() + 1);
  } else if (type == kAccepted) {
    w.set_accepted(w.accepted() + 1);
  } else if (type == kRefused) {
    w.set_refused(w.refused() + 1);
  } else if (type == kCompleted) {
    w.set_completed(w.completed() + 1);
  } else {
    return false;
  }
  return true;
}

void AddWeek(v1::HandoverWeek& into, const v1::HandoverWeek& w) {
  into.set_appointments(into.appointments() + w.appointments());
  into.set_inspected(into.inspected() + w.inspected());
  into.set_accepted(into.accepted() + w.accepted());
  into.set_refused(into.refused() + w.refused());
  into.set_completed(into.completed() + w.completed());
}

void Tally(v1::DefectTally& t, v1::DefectState state) {
  switch (state) {
    case v1::OPEN:
      t.set_open(t.open() + 1);
      break;
    case v1::FIXED:
      t.set_fixed(t.fixed() + 1);
      break;
    case v1::TICKETED:
      t.set_ticketed(t.ticketed() + 1);
      break;
    default:
      break;
  }
}

bool NeverBooked(const v1::HandoverCase& c) {
  return c.state() == v1::NOT_SCHEDULED ||
         (c.state() == v1::ON_HOLD && c.held_from() == v1::NOT_SCHEDULED);
}

struct HandedOver {
  absl::CivilDay day;
  const v1::HandoverCase* c;
};

}  // namespace

const std::vector<std::string>& ReportEventTypes() {
  static const auto* types =
      new std::vector<std::string>{kInspected, kAccepted, kRefused, kCompleted};
  return *types;
}

absl::CivilDay WeekOf(absl::CivilDay day) {
  return absl::PrevWeekday(day + 1, absl::Weekday::monday);
}

std::string MedianDays(std::vector<absl::Duration> values) {
  if (values.empty()) return "";
  std::sort(values.begin(), values.end());
  const size_t n = values.size();
  // In whole seconds, summed over the middle one or two, so that halving
  // and rounding happen once, in integers.
  int64_t seconds = absl::ToInt64Seconds(values[(n - 1) / 2]);
  int64_t count = 1;
  if (n % 2 == 0) {
    seconds += absl::ToInt64Seconds(values[n / 2]);
    count = 2;
  }
  seconds = std::max<int64_t>(seconds, 0);
  constexpr int64_t kSecondsPerTenth = 24 * 3600 / 10;
  const int64_t tenths = (2 * seconds + count * kSecondsPerTenth) / (2 * count * kSecondsPerTenth);
  return absl::StrCat(tenths / 10, ".", tenths % 10);
}

v1::HandoverReport BuildHandoverReport(const v1::HandoverBatch& batch,
                                       const std::vector<CaseHistory>& cases, absl::CivilDay today,
                                       int return_visit_after_days) {
  absl::TimeZone zone;
  absl::LoadTimeZone(batch.time_zone(), &zone);  // checked with the batch
  v1::HandoverReport out;
  out.set_batch(batch.name());
  out.set_time_zone(batch.time_zone());
  out.set_as_of(kit::DayText(today));
  out.set_cases(static_cast<int32_t>(cases.size()));
  out.set_return_visit_after_days(return_visit_after_days);

  std::map<absl::CivilDay, v1::HandoverWeek> weeks;
  const auto week_of = [&](absl::Time t) -> v1::HandoverWeek& {
    return weeks[WeekOf(absl::ToCivilDay(t, zone))];
  };
  std::map<std::string, v1::DefectTally> by_category, by_contractor;
  std::vector<absl::Duration> to_acceptance, to_fix;
  std::vector<const v1::HandoverCase*> left;
  std::vector<HandedOver> handed_over;
  for (const CaseHistory& h : cases) {
    const v1::HandoverCase& c = h.body;
    if (c.has_appointment() && c.appointment().has_start_time()) {
      v1::HandoverWeek& w = week_of(kit::FromTimestamp(c.appointment().start_time()));
      w.set_appointments(w.appointments() + 1);
    }
    std::optional<absl::Time> first_inspection;
    for (const CaseMove& m : h.moves) {
      if (std::find(ReportEventTypes().begin(), ReportEventTypes().end(), m.type) ==
          ReportEventTypes().end()) {
        continue;
      }
      Count(week_of(m.time), m.type);
      if (m.type == kInspected && !first_inspection.has_value()) first_inspection = m.time;
    }
    if (c.has_accept_time() && first_inspection.has_value()) {
      const absl::Time accepted = kit::FromTimestamp(c.accept_time());
      if (accepted >= *first_inspection) to_acceptance.push_back(accepted - *first_inspection);
    }
    for (const v1::Defect& d : c.defects()) {
      Tally(by_category[d.category()], d.state());
      Tally(by_contractor[d.contractor()], d.state());
      Tally(*out.mutable_defect_totals(), d.state());
      if (d.state() == v1::FIXED && d.has_create_time() && d.has_fix_time()) {
        to_fix.push_back(kit::FromTimestamp(d.fix_time()) - kit::FromTimestamp(d.create_time()));
      }
    }
    absl::CivilDay handed_on;
    if (c.state() != v1::COMPLETED) {
      left.push_back(&c);
    } else if (absl::ParseCivilTime(c.handover_date(), &handed_on)) {
      handed_over.push_back({handed_on, &c});
    }
  }

  if (!weeks.empty()) {
    // Every week from the first to the last, so that a chart has no gaps.
    for (absl::CivilDay monday = weeks.begin()->first; monday <= weeks.rbegin()->first;
         monday += 7) {
      v1::HandoverWeek* w = out.add_weeks();
      if (auto it = weeks.find(monday); it != weeks.end()) *w = it->second;
      w->set_week(kit::DayText(monday));
      AddWeek(*out.mutable_totals(), *w);
    }
  }

  std::sort(left.begin(), left.end(), [](const v1::HandoverCase* a, const v1::HandoverCase* b) {
    return std::tie(a->unit(), a->name()) < std::tie(b->unit(), b->name());
  });
  int never_booked = 0;
  for (const v1::HandoverCase* c : left) {
    v1::UnitNotTakenOver* u = out.add_not_taken_over();
    u->set_handover_case(c->name());
    u->set_unit(c->unit());
    u->set_owner_name(c->owner_name());
    u->set_owner_phone(c->owner_phone());
    u->set_state(c->state());
    u->set_never_booked(NeverBooked(*c));
    never_booked += u->never_booked() ? 1 : 0;
  }
  out.set_never_booked(never_booked);

  std::map<std::string, std::string> category_names;
  for (const v1::ChecklistItem& item : batch.checklist()) {
    category_names[item.code()] = item.display_name();
  }
  for (auto& [category, tally] : by_category) {
    tally.set_key(category);
    if (auto it = category_names.find(category); it != category_names.end()) {
      tally.set_display_name(it->second);
    }
    *out.add_defects_by_category() = tally;
  }
  for (auto& [contractor, tally] : by_contractor) {
    tally.set_key(contractor);
    *out.add_defects_by_contractor() = tally;
  }
  out.set_median_days_inspection_to_acceptance(MedianDays(std::move(to_acceptance)));
  out.set_median_days_defect_to_fix(MedianDays(std::move(to_fix)));

  const absl::CivilDay latest = today - return_visit_after_days;
  std::sort(handed_over.begin(), handed_over.end(), [](const HandedOver& a, const HandedOver& b) {
    return std::tie(a.day, a.c->unit(), a.c->name()) < std::tie(b.day, b.c->unit(), b.c->name());
  });
  for (const HandedOver& h : handed_over) {
    if (h.day > latest) continue;
    v1::ReturnVisitUnit* r = out.add_return_visits();
    r->set_handover_case(h.c->name());
    r->set_unit(h.c->unit());
    r->set_owner_name(h.c->owner_name());
    r->set_owner_phone(h.c->owner_phone());
    r->set_handover_date(h.c->handover_date());
    r->set_days_since_handover(static_cast<int32_t>(today - h.day));
    int tickets = 0;
    for (const v1::Defect& d : h.c->defects()) tickets += d.state() == v1::TICKETED ? 1 : 0;
    r->set_warranty_tickets(tickets);
  }
  return out;
}

}  // namespace handover
