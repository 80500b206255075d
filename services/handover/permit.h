#ifndef ESTATE_SERVICES_HANDOVER_PERMIT_H_
#define ESTATE_SERVICES_HANDOVER_PERMIT_H_

// A unit's renovation permit, its worker passes and the moves they make,
// without I/O:
//
//   PERMIT_APPLIED -> PERMIT_APPROVED <-> PERMIT_SUSPENDED
//   PERMIT_APPLIED -> PERMIT_REFUSED
//   PERMIT_APPROVED -> PERMIT_CLOSED (every pass ends)
//
// An illegal move is FAILED_PRECONDITION naming the state it met. Each move
// sets the fields it owns; the caller stores the permit and its timeline.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "estate/handover/v1/permits.pb.h"
#include "services/handover/completion.h"

namespace handover {

namespace v1 = ::estate::handover::v1;

// A new permit from the application a client sends (the fields
// CreateRenovationPermitRequest lists), PERMIT_APPLIED; the rest is left
// out. The work must not have ended before `now` in the permit's zone; the
// deposit and the fee name billing charge items of `site`. Errors name
// `prefix` + the field ("permit.owner_phone").
absl::StatusOr<v1::RenovationPermit> NewPermit(absl::string_view prefix, absl::string_view site,
                                               const v1::RenovationPermit& in, absl::Time now);

// The permit's zone (checked when it was made; UTC if it no longer loads).
absl::TimeZone ZoneOf(const v1::RenovationPermit& p);

// Approval on the spot by `approver`, subject to `conditions` (may be
// empty); FAILED_PRECONDITION once the planned days are over.
absl::Status Approve(v1::RenovationPermit& p, absl::string_view approver,
                     absl::string_view conditions, absl::Time now);
absl::Status Refuse(v1::RenovationPermit& p, absl::string_view reason);

// An inspection of a permit applied for, approved or suspended. A violation
// suspends approved work; before approval there is no approved work to
// stop (the work is itself the violation) and a suspended permit stays
// suspended, so there it is only recorded. Either way the caller opens a
// ticket for it. At most kMaxInspections per permit.
inline constexpr int kMaxInspections = 200;
absl::Status Inspect(v1::RenovationPermit& p, absl::string_view inspector, absl::string_view note,
                     v1::ViolationKind violation, absl::string_view violation_description,
                     absl::Time now);

// The procedure after the violation is done (`note` says what was done).
absl::Status ResumeWork(v1::RenovationPermit& p, absl::string_view note);

// The closing inspection passed, keeping `deposit_kept_minor` of the deposit
// (a reason is required with it). The caller ends the permit's passes and
// asks billing for the DepositRefund.
absl::Status Close(v1::RenovationPermit& p, absl::string_view inspector, absl::string_view note,
                   int64_t deposit_kept_minor, absl::string_view deposit_kept_reason,
                   absl::Time now);

// A pass the client asks for on permit `p` (worker_name, worker_phone,
// valid_from, valid_to), with `active` passes already active: only on an
// approved permit, days within its planned ones and not all past at `now`,
// at most `p.workers()` active. Errors name "pass." + the field.
absl::StatusOr<v1::WorkerPass> NewPass(const v1::RenovationPermit& p, const v1::WorkerPass& in,
                                       int active, absl::Time now);
absl::Status Revoke(v1::WorkerPass& pass, absl::string_view reason, absl::Time now);

// Whether `pass` of `p` lets its worker in at `at`, in the permit's zone:
// the pass is not revoked, the permit approved (not applied for, refused,
// suspended or closed), `at` falls on a day of the pass and within the
// permit's working hours [work_start, work_end). The first reason that
// applies, in that order, is the answer's.
struct PassVerdict {
  bool valid = false;
  v1::PassDenial denial = v1::PASS_DENIAL_UNSPECIFIED;
  std::string reason;
  std::string local_time;  // "2026-07-06 23:00"
};
PassVerdict CheckPass(const v1::RenovationPermit& p, const v1::WorkerPass& pass, absl::Time at);

// The rectification ticket a violation found on permit `p` (named) at
// `site` asks tickets for: the unit, category "renovation", a title naming
// the violation, the permit linked; structural changes first (HIGH).
// The request carries no request_id: the outbox gives it one.
PeerCall ViolationTicket(const v1::RenovationPermit& p, absl::string_view site,
                         const v1::RenovationInspection& inspection);

inline constexpr char kChargeAccountMethod[] = "/estate.billing.v1.BillingService/ChargeAccount";
inline constexpr char kRefundChargeMethod[] = "/estate.billing.v1.BillingService/RefundCharge";

// What approving permit `p` (named) of `site` asks billing for: the deposit
// and the garbage fee, each charged to the unit's account under its item
// with a reference billing keeps ("renovationPermits/12/deposit"); none for
// a zero amount. The subject is "deposit" or "garbage-fee".
std::vector<PeerCall> PermitCharges(const v1::RenovationPermit& p, absl::string_view site);

// What closing `p` asks billing for: the deposit given back less what the
// closing inspection kept, naming the deposit's reference; none without a
// deposit.
std::optional<PeerCall> DepositRefund(const v1::RenovationPermit& p, absl::string_view site);

// "work outside the permitted hours" for OUTSIDE_HOURS, and so on.
std::string ViolationText(v1::ViolationKind kind);

}  // namespace handover

#endif  // ESTATE_SERVICES_HANDOVER_PERMIT_H_
