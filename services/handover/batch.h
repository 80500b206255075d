#ifndef ESTATE_SERVICES_HANDOVER_BATCH_H_
#define ESTATE_SERVICES_HANDOVER_BATCH_H_

// A handover batch's own rules, without I/O: what a valid batch is, and
// which appointments it offers.

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "estate/handover/v1/handover.pb.h"

namespace handover {

namespace v1 = ::estate::handover::v1;

// A batch as a client sends it, for `site`: a display name, a window of
// days, bookable hours that hold whole slots, a known time zone, inspectors,
// charge items of the site, and a checklist (the default one when empty,
// filled in here). Errors name the field ("batch.slot_minutes").
absl::Status CheckBatch(v1::HandoverBatch& batch, absl::string_view site);

// An appointment the batch offers: one of its inspectors, exactly one slot
// (starting on the slot grid from day_start, ending by day_end) on a day of
// the window, in the batch's time zone. Whether the inspector is free is
// the store's to say: one appointment per inspector and slot start.
absl::Status CheckAppointment(const v1::HandoverBatch& batch, const v1::Appointment& a);

}  // namespace handover

#endif  // ESTATE_SERVICES_HANDOVER_BATCH_H_
