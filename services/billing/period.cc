#include "services/billing/period.h"

#include "absl/strings/str_format.h"

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

}  // namespace billing
