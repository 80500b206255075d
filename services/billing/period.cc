#include "services/billing/period.h"

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/strip.h"

namespace billing {

std::optional<Period> PeriodContaining(Cycle cycle, absl::CivilDay day,
                                       const HeatingSeason& season) {
  const absl::CivilMonth month(day);
  const absl::CivilYear year(day);
  switch (cycle) {
    case Cycle::kMonthly:
      return Period{absl::CivilDay(month), absl::CivilDay(month + 1),
                    absl::StrFormat("%04d-%02d", month.year(), month.month())};
    case Cycle::kQuarterly: {
      const absl::CivilMonth first(month.year(), (month.month() - 1) / 3 * 3 + 1);
      return Period{absl::CivilDay(first), absl::CivilDay(first + 3),
                    absl::StrFormat("%04d-Q%d", month.year(), (month.month() - 1) / 3 + 1)};
    }
    case Cycle::kYearly:
      return Period{absl::CivilDay(year), absl::CivilDay(year + 1),
                    absl::StrFormat("%04d", year.year())};
    case Cycle::kHeatingSeason: {
      // The season that started this calendar year, or the one that started last year.
      for (int64_t y : {year.year(), year.year() - 1}) {
        const absl::CivilDay start(y, season.start_month, season.start_day);
        const bool spans_new_year = season.end_month < season.start_month ||
                                    (season.end_month == season.start_month &&
                                     season.end_day <= season.start_day);
        const absl::CivilDay end(spans_new_year ? y + 1 : y, season.end_month, season.end_day);
        if (day >= start && day < end) {
          return Period{start, end,
                        spans_new_year ? absl::StrFormat("heating-%04d/%02d", y, (y + 1) % 100)
                                       : absl::StrFormat("heating-%04d", y)};
        }
      }
      return std::nullopt;
    }
  }
  return std::nullopt;
}

std::optional<LabeledPeriod> PeriodOfLabel(absl::string_view label, const HeatingSeason& season) {
  auto number = [](absl::string_view digits, int64_t* out) {
    if (digits.empty() || digits.size() > 4) return false;
    for (char ch : digits) {
      if (ch < '0' || ch > '9') return false;
    }
    return absl::SimpleAtoi(digits, out);
  };
  int64_t year = 0;
  int64_t n = 0;
  std::optional<LabeledPeriod> guess;
  if (absl::ConsumePrefix(&label, "heating-")) {
    if (!number(label.substr(0, 4), &year)) return std::nullopt;
    guess = LabeledPeriod{Cycle::kHeatingSeason,
                          {absl::CivilDay(year, season.start_month, season.start_day), {}, ""}};
  } else if (label.size() == 4 && number(label, &year)) {
    guess = LabeledPeriod{Cycle::kYearly, {absl::CivilDay(year, 1, 1), {}, ""}};
  } else if (label.size() == 7 && label[4] == '-' && number(label.substr(0, 4), &year)) {
    if (label[5] == 'Q' && number(label.substr(6), &n) && n >= 1 && n <= 4) {
      guess = LabeledPeriod{Cycle::kQuarterly, {absl::CivilDay(year, (n - 1) * 3 + 1, 1), {}, ""}};
    } else if (number(label.substr(5), &n) && n >= 1 && n <= 12) {
      guess = LabeledPeriod{Cycle::kMonthly, {absl::CivilDay(year, n, 1), {}, ""}};
    }
  }
  if (!guess.has_value() || year < 1900 || year > 9998) return std::nullopt;
  std::optional<Period> p = PeriodContaining(guess->cycle, guess->period.start, season);
  // Only the canonical spelling names a period ("2026-3" does not).
  const std::string full = guess->cycle == Cycle::kHeatingSeason
                               ? absl::StrCat("heating-", label)
                               : std::string(label);
  if (!p.has_value() || p->label != full) return std::nullopt;
  guess->period = *p;
  return guess;
}

}  // namespace billing
