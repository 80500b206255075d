#ifndef ESTATE_SERVICES_CLEANING_SCHEDULE_H_
#define ESTATE_SERVICES_CLEANING_SCHEDULE_H_

// When a task template's tasks fall due, without I/O: which days, and the
// times on those days in the site's time zone.

#include <optional>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "estate/cleaning/v1/work.pb.h"
#include "services/kit/civil_text.h"

namespace cleaning {

namespace v1 = ::estate::cleaning::v1;

using kit::FormatClock;
using kit::ParseClock;

// The schedule's fields; errors name `prefix`.field.
absl::Status CheckSchedule(absl::string_view prefix, const v1::Schedule& s);

// The days in [from, to] a task of `s` falls on, in order.
std::vector<absl::CivilDay> DueDays(const v1::Schedule& s, absl::CivilDay from, absl::CivilDay to);

// The moments of a task on `day`: due by the schedule's due_by, else at the
// shift's end (the next day for a shift that ends before it starts); missed
// once the later of that and the end of the day has passed.
struct TaskTimes {
  absl::Time due;
  absl::Time miss;
};
TaskTimes TimesOn(absl::CivilDay day, const v1::Schedule& s, int shift_start, int shift_end,
                  const absl::TimeZone& zone);

// "YYYY-MM" as the first day of that month; nullopt if malformed.
std::optional<absl::CivilMonth> ParseMonth(absl::string_view month);
std::optional<absl::CivilDay> ParseDay(absl::string_view date);

}  // namespace cleaning

#endif  // ESTATE_SERVICES_CLEANING_SCHEDULE_H_
