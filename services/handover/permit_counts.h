#ifndef ESTATE_SERVICES_HANDOVER_PERMIT_COUNTS_H_
#define ESTATE_SERVICES_HANDOVER_PERMIT_COUNTS_H_

// A half-year's renovation figures from the permits' timelines, without
// I/O: the store reads the lines, this dates and counts them.

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "estate/handover/v1/permits.pb.h"

namespace handover {

namespace v1 = ::estate::handover::v1;

// "2026-H1" (January to June) or "2026-H2" (July to December): the days
// [first, end). INVALID_ARGUMENT naming `field` otherwise.
struct HalfYear {
  absl::CivilDay first;
  absl::CivilDay end;
};
absl::StatusOr<HalfYear> ParseHalfYear(absl::string_view field, absl::string_view text);

// The UTC span that holds every instant of the half-year in any zone (a
// day wider on each side): what the store reads before the lines are
// dated in their own zones.
absl::Time SpanStart(const HalfYear& h);
absl::Time SpanEnd(const HalfYear& h);

// One line of a permit's timeline, with what dating and counting need.
struct PermitMove {
  std::string type;  // "created", "approved", "closed", "pass_issued"...
  std::string unit;
  std::string time_zone;  // the permit's
  absl::Time time;
};
// The timeline types the counts read.
const std::vector<std::string>& CountedMoveTypes();

// The moves dated in the half-year (in their permit's zone), counted:
// applications, approvals, refusals, passes issued, inspections, violations,
// and the distinct units whose permit closed. `parent` and `half_year` are
// copied into the answer.
v1::RenovationCounts CountHalfYear(const HalfYear& h, const std::vector<PermitMove>& moves,
                                   absl::string_view parent, absl::string_view half_year);

}  // namespace handover

#endif  // ESTATE_SERVICES_HANDOVER_PERMIT_COUNTS_H_
