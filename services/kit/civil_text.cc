#include "services/kit/civil_text.h"

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_format.h"
#include "services/kit/field_error.h"
#include "services/kit/validate.h"

namespace kit {

absl::StatusOr<absl::CivilDay> ParseDay(absl::string_view field, absl::string_view text) {
  if (!IsDate(text)) return FieldError(field, "must be a date YYYY-MM-DD");
  absl::CivilDay d;
  absl::ParseCivilTime(text, &d);
  if (d.year() < 1900 || d.year() > 9000) return FieldError(field, "year out of range");
  return d;
}

std::string DayText(absl::CivilDay d) {
  return absl::StrFormat("%04d-%02d-%02d", d.year(), d.month(), d.day());
}

std::optional<int> ParseClock(absl::string_view s) {
  int h = 0, m = 0;
  if (s.size() != 5 || s[2] != ':' || !absl::ascii_isdigit(s[0]) || !absl::ascii_isdigit(s[1]) ||
      !absl::ascii_isdigit(s[3]) || !absl::ascii_isdigit(s[4]) ||
      !absl::SimpleAtoi(s.substr(0, 2), &h) || !absl::SimpleAtoi(s.substr(3, 2), &m) || h > 23 ||
      m > 59) {
    return std::nullopt;
  }
  return h * 60 + m;
}

std::string FormatClock(int minute) { return absl::StrFormat("%02d:%02d", minute / 60, minute % 60); }

}  // namespace kit
