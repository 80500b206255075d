#include "services/handover/batch.h"

#include <optional>
#include <set>
#include <string>

#include "absl/strings/str_cat.h"
#include "services/handover/handover_case.h"
#include "services/kit/civil_text.h"
#include "services/kit/field_error.h"
#include "services/kit/proto_time.h"
#include "services/kit/status_macros.h"
#include "services/kit/validate.h"

namespace handover {

using kit::FieldError;

namespace {
constexpr int kMaxWindowDays = 366;
constexpr int kMaxInspectors = 50;
constexpr int kMaxChecklist = 40;
}  // namespace

absl::Status CheckBatch(v1::HandoverBatch& b, absl::string_view site) {
  RETURN_IF_ERROR(kit::CheckText("batch.display_name", b.display_name(), 100, true));
  ASSIGN_OR_RETURN(absl::CivilDay start, kit::ParseDay("batch.window_start", b.window_start()));
  ASSIGN_OR_RETURN(absl::CivilDay end, kit::ParseDay("batch.window_end", b.window_end()));
  if (end < start) return FieldError("batch.window_end", "must not be before window_start");
  if (end - start >= kMaxWindowDays) return FieldError("batch.window_end", "at most a year after");
  const std::optional<int> from = kit::ParseClock(b.day_start());
  if (!from) return FieldError("batch.day_start", "a time HH:MM");
  const std::optional<int> to = kit::ParseClock(b.day_end());
  if (!to) return FieldError("batch.day_end", "a time HH:MM");
  if (b.slot_minutes() < 10 || b.slot_minutes() > 480) {
    return FieldError("batch.slot_minutes", "between 10 and 480");
  }
  if (*to - *from < b.slot_minutes()) {
    return FieldError("batch.day_end", "must leave at least one slot after day_start");
  }
  absl::TimeZone zone;
  if (b.time_zone().empty() || !absl::LoadTimeZone(b.time_zone(), &zone)) {
    return FieldError("batch.time_zone", "an IANA time zone such as Asia/Shanghai");
  }
  if (b.inspectors().empty()) return FieldError("batch.inspectors", "name at least one");
  if (b.inspectors_size() > kMaxInspectors) {
    return FieldError("batch.inspectors", absl::StrCat("at most ", kMaxInspectors));
  }
  std::set<std::string> people;
  for (int i = 0; i < b.inspectors_size(); ++i) {
    const std::string f = absl::StrCat("batch.inspectors[", i, "]");
    RETURN_IF_ERROR(kit::CheckText(f, b.inspectors(i), 128, true));
    if (!people.insert(b.inspectors(i)).second) return FieldError(f, "given twice");
  }
  for (int i = 0; i < b.charge_items_size(); ++i) {
    const std::string f = absl::StrCat("batch.charge_items[", i, "]");
    ASSIGN_OR_RETURN(kit::SiteId item, kit::ParseSiteId(f, b.charge_items(i), "chargeItems"));
    if (item.site != site) return FieldError(f, "must be a charge item of the batch's site");
  }
  if (b.checklist().empty()) {
    for (v1::ChecklistItem& item : DefaultChecklist()) *b.add_checklist() = std::move(item);
  }
  if (b.checklist_size() > kMaxChecklist) {
    return FieldError("batch.checklist", absl::StrCat("at most ", kMaxChecklist, " items"));
  }
  std::set<std::string> codes;
  for (int i = 0; i < b.checklist_size(); ++i) {
    const std::string f = absl::StrCat("batch.checklist[", i, "]");
    const v1::ChecklistItem& item = b.checklist(i);
    if (item.code().empty() || item.code().size() > 40 || !kit::IsValidSiteId(item.code())) {
      return FieldError(f + ".code", "lowercase letters, digits and '-', at most 40");
    }
    if (!codes.insert(item.code()).second) return FieldError(f + ".code", "given twice");
    RETURN_IF_ERROR(kit::CheckText(f + ".display_name", item.display_name(), 100, true));
  }
  return absl::OkStatus();
}

absl::Status CheckAppointment(const v1::HandoverBatch& b, const v1::Appointment& a) {
  bool known = false;
  for (const std::string& inspector : b.inspectors()) known = known || inspector == a.inspector();
  if (!known) return FieldError("appointment.inspector", "not an inspector of the batch");
  ASSIGN_OR_RETURN(absl::Time start,
                   kit::CheckTimestamp("appointment.start_time", a.start_time()));
  ASSIGN_OR_RETURN(absl::Time end, kit::CheckTimestamp("appointment.end_time", a.end_time()));
  if (end - start != absl::Minutes(b.slot_minutes())) {
    return FieldError("appointment.end_time",
                      absl::StrCat("one slot of ", b.slot_minutes(), " minutes after start_time"));
  }
  absl::TimeZone zone;
  absl::LoadTimeZone(b.time_zone(), &zone);  // checked with the batch
  const absl::CivilMinute local = absl::ToCivilMinute(start, zone);
  const absl::CivilDay day(local);
  absl::CivilDay first, last;
  absl::ParseCivilTime(b.window_start(), &first);
  absl::ParseCivilTime(b.window_end(), &last);
  if (day < first || day > last) {
    return FieldError("appointment.start_time",
                      absl::StrCat("outside the batch's window ", b.window_start(), " to ",
                                   b.window_end()));
  }
  const int minute = local.hour() * 60 + local.minute();
  const int from = kit::ParseClock(b.day_start()).value_or(0);
  const int to = kit::ParseClock(b.day_end()).value_or(0);
  if (absl::ToCivilSecond(start, zone).second() != 0 || minute < from ||
      (minute - from) % b.slot_minutes() != 0 || minute + b.slot_minutes() > to) {
    return FieldError("appointment.start_time",
                      absl::StrCat("not a slot: slots of ", b.slot_minutes(), " minutes from ",
                                   b.day_start(), " to ", b.day_end(), " (", b.time_zone(), ")"));
  }
  return absl::OkStatus();
}

}  // namespace handover
