#ifndef ESTATE_SERVICES_KIT_CIVIL_TEXT_H_
#define ESTATE_SERVICES_KIT_CIVIL_TEXT_H_

// Calendar days and clock times as the APIs write them ("2026-06-01",
// "09:30"), parsed once for every service.

#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/civil_time.h"

namespace kit {

// "YYYY-MM-DD", a real day of a year in 1900..9000; else INVALID_ARGUMENT
// naming `field`.
absl::StatusOr<absl::CivilDay> ParseDay(absl::string_view field, absl::string_view text);
std::string DayText(absl::CivilDay day);

// "06:00" -> 360; nullopt unless HH:MM with HH 00..23 and MM 00..59.
std::optional<int> ParseClock(absl::string_view hhmm);
std::string FormatClock(int minute_of_day);

}  // namespace kit

#endif  // ESTATE_SERVICES_KIT_CIVIL_TEXT_H_
