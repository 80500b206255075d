#ifndef ESTATE_SERVICES_HANDOVER_REPORT_H_
#define ESTATE_SERVICES_HANDOVER_REPORT_H_

// A batch's report arithmetic, without I/O: moves per week, what is left to
// hand over, defects by category and contractor, medians, and the units due
// a return visit.

#include <string>
#include <vector>

#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "estate/handover/v1/handover.pb.h"

namespace handover {

namespace v1 = ::estate::handover::v1;

// The timeline lines the weeks count; the store reads only these.
const std::vector<std::string>& ReportEventTypes();

// A line of a case's timeline: its type ("inspected") and when.
struct CaseMove {
  std::string type;
  absl::Time time;
};

// A case as the API shows it (name, unit, owner, state, appointment,
// defects, accept_time, handover_date) and its timeline, oldest first.
struct CaseHistory {
  v1::HandoverCase body;
  std::vector<CaseMove> moves;
};

// The report of `batch` (its name, time zone and checklist) on `today`, a
// day of the batch's zone, listing for return visits the cases handed over
// at least `return_visit_after_days` days before it. See HandoverReport in
// handover.proto for what each part counts.
v1::HandoverReport BuildHandoverReport(const v1::HandoverBatch& batch,
                                       const std::vector<CaseHistory>& cases, absl::CivilDay today,
                                       int return_visit_after_days);

// The Monday that starts the ISO week of `day`.
absl::CivilDay WeekOf(absl::CivilDay day);

// The median of elapsed times in days of 24 hours with one decimal ("3.5"),
// rounded half up, the mean of the middle two for an even count; "" for
// none.
std::string MedianDays(std::vector<absl::Duration> values);

}  // namespace handover

#endif  // ESTATE_SERVICES_HANDOVER_REPORT_H_
