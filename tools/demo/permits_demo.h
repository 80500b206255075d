#ifndef ESTATE_TOOLS_DEMO_PERMITS_DEMO_H_
#define ESTATE_TOOLS_DEMO_PERMITS_DEMO_H_

#include <string>

#include "absl/time/time.h"
#include "estate/billing/v1/billing.grpc.pb.h"
#include "estate/handover/v1/handover.grpc.pb.h"
#include "estate/handover/v1/permits.grpc.pb.h"

namespace demo {

// Two renovation permits on the first two handed-over flats of the site:
// both approved on the spot with worker passes, their deposit and garbage
// fee billed under the billing demo's ONE_OFF items, the second stopped by
// a violation (work at night) that opens a rectification ticket. A re-run
// takes each permit on from where it is.
void LoadPermits(const std::string& site, absl::TimeZone zone,
                 ::estate::handover::v1::HandoverService::Stub& cases,
                 ::estate::handover::v1::RenovationService::Stub& permits,
                 ::estate::billing::v1::BillingService::Stub& billing);

}  // namespace demo

#endif  // ESTATE_TOOLS_DEMO_PERMITS_DEMO_H_
