#ifndef ESTATE_SERVICES_BILLING_PERIOD_H_
#define ESTATE_SERVICES_BILLING_PERIOD_H_

// Billing periods by charge-item cycle (issue 4). A period's label is what
// makes a bill run idempotent: one line per account x item x period label.

#include <optional>
#include <string>

#include "absl/strings/string_view.h"
#include "absl/time/civil_time.h"

namespace billing {

enum class Cycle { kMonthly, kQuarterly, kYearly, kHeatingSeason };

// The heating season of a site, e.g. 20 October to 20 April in Harbin:
// [start, end) spans the new year when end comes before start.
struct HeatingSeason {
  int start_month = 11;
  int start_day = 1;
  int end_month = 4;  // exclusive: the season ends the day before
  int end_day = 1;
};

struct Period {
  absl::CivilDay start;  // inclusive
  absl::CivilDay end;    // exclusive
  std::string label;     // "2026-03", "2026-Q1", "2026", "heating-2026/27"
  int64_t days() const { return end - start; }
};

// The period of `cycle` that contains `day`; nullopt for a heating-season
// item on a day outside the season.
std::optional<Period> PeriodContaining(Cycle cycle, absl::CivilDay day,
                                       const HeatingSeason& season = {});

// The period a label names ("2026-03", "2026-Q1", "2026", "heating-2026/27"),
// with the cycle it belongs to; nullopt for anything else.
struct LabeledPeriod {
  Cycle cycle;
  Period period;
};
std::optional<LabeledPeriod> PeriodOfLabel(absl::string_view label,
                                           const HeatingSeason& season = {});

}  // namespace billing

#endif  // ESTATE_SERVICES_BILLING_PERIOD_H_
