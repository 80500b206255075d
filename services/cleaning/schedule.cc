#include "services/cleaning/schedule.h"

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "services/kit/field_error.h"
#include "services/kit/validate.h"

namespace cleaning {

using kit::FieldError;

namespace {

std::string F(absl::string_view prefix, absl::string_view field) {
  return absl::StrCat(prefix, ".", field);
}

int Weekday(absl::CivilDay d) {
  switch (absl::GetWeekday(d)) {
    case absl::Weekday::monday: return 1;
    case absl::Weekday::tuesday: return 2;
    case absl::Weekday::wednesday: return 3;
    case absl::Weekday::thursday: return 4;
    case absl::Weekday::friday: return 5;
    case absl::Weekday::saturday: return 6;
    case absl::Weekday::sunday: return 7;
  }
  return 0;
}

absl::CivilDay LastDayOf(absl::CivilMonth m) { return absl::CivilDay(m + 1) - 1; }

}  // namespace

absl::Status CheckSchedule(absl::string_view prefix, const v1::Schedule& s) {
  switch (s.frequency()) {
    case v1::DAILY:
      break;
    case v1::WEEKLY:
      if (s.days_of_week().empty()) return FieldError(F(prefix, "days_of_week"), "required for WEEKLY");
      for (int d : s.days_of_week()) {
        if (d < 1 || d > 7) return FieldError(F(prefix, "days_of_week"), "1 (Monday) to 7 (Sunday)");
      }
      break;
    case v1::MONTHLY:
      if (s.day_of_month() < 1 || s.day_of_month() > 31) {
        return FieldError(F(prefix, "day_of_month"), "1 to 31 for MONTHLY");
      }
      break;
    default:
      return FieldError(F(prefix, "frequency"), "required: DAILY, WEEKLY or MONTHLY");
  }
  if (!s.due_by().empty() && !ParseClock(s.due_by())) {
    return FieldError(F(prefix, "due_by"), "HH:MM, like 08:00");
  }
  return absl::OkStatus();
}

std::vector<absl::CivilDay> DueDays(const v1::Schedule& s, absl::CivilDay from, absl::CivilDay to) {
  std::vector<absl::CivilDay> out;
  for (absl::CivilDay d = from; d <= to; ++d) {
    bool due = false;
    switch (s.frequency()) {
      case v1::DAILY:
        due = true;
        break;
      case v1::WEEKLY:
        due = std::find(s.days_of_week().begin(), s.days_of_week().end(), Weekday(d)) !=
              s.days_of_week().end();
        break;
      case v1::MONTHLY: {
        const absl::CivilDay last = LastDayOf(absl::CivilMonth(d));
        due = d.day() == std::min<int>(s.day_of_month(), last.day());
        break;
      }
      default:
        break;
    }
    if (due) out.push_back(d);
  }
  return out;
}

TaskTimes TimesOn(absl::CivilDay day, const v1::Schedule& s, int shift_start, int shift_end,
                  const absl::TimeZone& zone) {
  const auto at = [&](absl::CivilDay d, int minute) {
    return absl::FromCivil(absl::CivilMinute(d) + minute, zone);
  };
  absl::Time due;
  if (std::optional<int> by = ParseClock(s.due_by())) {
    // On a shift that runs past midnight, a time before its start is the
    // next morning's.
    const bool next_morning = shift_end <= shift_start && *by < shift_start;
    due = at(next_morning ? day + 1 : day, *by);
  } else {
    due = at(shift_end <= shift_start ? day + 1 : day, shift_end);
  }
  return {due, std::max(due, at(day + 1, 0))};
}

std::optional<absl::CivilMonth> ParseMonth(absl::string_view month) {
  if (month.size() != 7 || !kit::IsDate(absl::StrCat(month, "-01"))) return std::nullopt;
  absl::CivilMonth m;
  if (!absl::ParseCivilTime(month, &m)) return std::nullopt;
  return m;
}

std::optional<absl::CivilDay> ParseDay(absl::string_view date) {
  if (!kit::IsDate(date)) return std::nullopt;
  absl::CivilDay d;
  if (!absl::ParseCivilTime(date, &d)) return std::nullopt;
  return d;
}

}  // namespace cleaning
