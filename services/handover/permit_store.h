#ifndef ESTATE_SERVICES_HANDOVER_PERMIT_STORE_H_
#define ESTATE_SERVICES_HANDOVER_PERMIT_STORE_H_

// The SQL of renovation permits, their worker passes, timelines and
// effects. Functions take a borrowed connection; transactions belong to the
// caller.

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "estate/handover/v1/permits.pb.h"
#include "services/handover/handover_store.h"
#include "services/handover/permit_counts.h"
#include "services/kit/db.h"

namespace handover::store {

struct PermitRow {
  int64_t id = 0;
  std::string site;
  // The permit as the API shows it, less its effects (name, state, etag and
  // create_time filled in on read).
  v1::RenovationPermit body;
  int64_t version = 0;
};
// The permit and the first line of its timeline ("created", by `actor`).
// FAILED_PRECONDITION naming permit.unit if the unit has a permit applied
// for, approved or suspended.
absl::StatusOr<int64_t> CreatePermit(kit::Conn& c, const std::string& site,
                                     const v1::RenovationPermit& body, const std::string& actor,
                                     absl::Time now);
absl::StatusOr<PermitRow> ReadPermit(kit::Conn& c, const std::string& site, int64_t id,
                                     bool for_update);
// Writes body and state, and moves the version on.
absl::Status SavePermit(kit::Conn& c, PermitRow& row, absl::Time now);
struct PermitFilter {
  std::string site;
  std::string unit;                                    // "": any
  v1::PermitState state = v1::PERMIT_STATE_UNSPECIFIED;  // any
};
absl::StatusOr<std::vector<PermitRow>> ListPermits(kit::Conn& c, const PermitFilter& f,
                                                   int64_t after, int limit);

absl::Status AddPermitEvent(kit::Conn& c, const std::string& site, int64_t permit_id,
                            const std::string& type, v1::PermitState from, v1::PermitState to,
                            const std::string& actor, const std::string& detail, absl::Time now);
absl::StatusOr<std::vector<v1::PermitEvent>> ListPermitEvents(kit::Conn& c, int64_t permit_id,
                                                              int64_t after, int limit);
// The site's timeline lines of CountedMoveTypes() recorded within
// [SpanStart(h), SpanEnd(h)), with each permit's unit and zone.
absl::StatusOr<std::vector<PermitMove>> PermitMovesAround(kit::Conn& c, const std::string& site,
                                                          const HalfYear& h);

struct PassRow {
  int64_t id = 0;
  int64_t permit_id = 0;
  v1::WorkerPass body;  // name, state and end_time filled in on read
};
absl::StatusOr<int64_t> InsertPass(kit::Conn& c, const std::string& site, int64_t permit_id,
                                   const v1::WorkerPass& body, absl::Time now);
absl::StatusOr<PassRow> ReadPass(kit::Conn& c, const std::string& site, int64_t permit_id,
                                 int64_t id, bool for_update);
// Writes the pass's body and state (a revocation).
absl::Status SavePass(kit::Conn& c, const std::string& site, const PassRow& row);
absl::StatusOr<int> CountActivePasses(kit::Conn& c, int64_t permit_id);
// Every active pass of the permit ends (it closed); how many did.
absl::StatusOr<int64_t> EndPasses(kit::Conn& c, int64_t permit_id, absl::Time now);
absl::StatusOr<std::vector<PassRow>> ListPasses(kit::Conn& c, const std::string& site,
                                                int64_t permit_id, int64_t after, int limit);

// A violation's ticket calls are effects in kPermitEffects (handover_store.h).

}  // namespace handover::store

#endif  // ESTATE_SERVICES_HANDOVER_PERMIT_STORE_H_
