#ifndef ESTATE_SERVICES_HANDOVER_HANDOVER_CASE_H_
#define ESTATE_SERVICES_HANDOVER_HANDOVER_CASE_H_

// A unit's handover case and the moves it may make, without I/O:
//
//   NOT_SCHEDULED -> SCHEDULED -> INSPECTED <-> RECTIFYING -> ACCEPTED -> COMPLETED
//   SCHEDULED, INSPECTED, RECTIFYING -> REFUSED -> SCHEDULED (the owner comes back)
//   any but COMPLETED -> ON_HOLD -> where it was
//
// An illegal move is FAILED_PRECONDITION naming the state it met. Each move
// sets the fields it owns; the caller stores the case and its timeline.

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "estate/handover/v1/handover.pb.h"

namespace handover {

namespace v1 = ::estate::handover::v1;

// What a batch checks when its creator names nothing: the items of a
// joint inspection of a new home.
std::vector<v1::ChecklistItem> DefaultChecklist();

// A new case from what a client gives of it (unit, owner_name, owner_phone,
// building, billable_area), NOT_SCHEDULED; the rest is left out.
// Completion sends these on to the register, billing and tickets, so they
// are checked here, where every way of making a case passes. Errors name
// `prefix` + the field ("handover_case.unit").
absl::StatusOr<v1::HandoverCase> NewCase(absl::string_view prefix, const v1::HandoverCase& in);

// An inspection is booked (or moved): from NOT_SCHEDULED, SCHEDULED or
// REFUSED the case becomes SCHEDULED; in RECTIFYING it is the re-inspection
// visit and the state stays.
absl::Status Schedule(v1::HandoverCase& c, const v1::Appointment& appointment);

// The joint inspection of a SCHEDULED case: a result for every item of the
// batch's checklist, and the defects found (each in a checklist category;
// every FAIL has at least one). Defects get their ids from the caller
// (`first_defect_id` onwards). The case becomes RECTIFYING with defects,
// else INSPECTED.
absl::Status Inspect(v1::HandoverCase& c, const v1::HandoverBatch& batch,
                     const std::vector<v1::ChecklistResult>& results,
                     const std::vector<v1::Defect>& defects, int64_t first_defect_id,
                     absl::Time now);

// A re-inspection passed defect `defect_id` of a RECTIFYING case; with no
// defect left open the case is INSPECTED.
absl::Status FixDefect(v1::HandoverCase& c, int64_t defect_id, absl::Time now);

// The owner signs, defects open or not (those still open become warranty
// tickets at completion).
absl::Status Accept(v1::HandoverCase& c, absl::string_view accepted_by,
                    absl::string_view signature_ref, absl::Time now);
absl::Status Refuse(v1::HandoverCase& c, absl::string_view reason);
absl::Status Hold(v1::HandoverCase& c, absl::string_view reason);
absl::Status Resume(v1::HandoverCase& c);

// The handover of an ACCEPTED case on `handover_date` (the day the fee
// starts: not before the acceptance, not after `today`). Open defects become
// TICKETED: completion asks tickets for a warranty repair ticket for each.
absl::Status Complete(v1::HandoverCase& c, absl::CivilDay handover_date, absl::CivilDay accepted_on,
                      absl::CivilDay today, absl::Time now);

// The id at the end of a defect's name, or 0.
int64_t DefectId(const v1::Defect& d);

}  // namespace handover

#endif  // ESTATE_SERVICES_HANDOVER_HANDOVER_CASE_H_
