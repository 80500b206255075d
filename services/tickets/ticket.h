#ifndef ESTATE_SERVICES_TICKETS_TICKET_H_
#define ESTATE_SERVICES_TICKETS_TICKET_H_

#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "estate/tickets/v1/tickets.pb.h"

namespace tickets {

namespace v1 = ::estate::tickets::v1;

// Time allowed for the first response and for resolution at one priority.
struct SlaTarget {
  absl::Duration first_response;
  absl::Duration resolution;
};

// What a site gets until it sets its own policy.
SlaTarget DefaultSlaTarget(v1::Priority priority);

// The part of a ticket that the status machine and the SLA rules read and
// write. Times are absent until the event happens.
struct TicketState {
  v1::TicketKind kind = v1::TICKET_KIND_UNSPECIFIED;
  v1::Priority priority = v1::NORMAL;
  v1::TicketStatus status = v1::OPEN;
  v1::TicketStatus status_before_wait = v1::TICKET_STATUS_UNSPECIFIED;
  v1::WaitingOn waiting_on = v1::WAITING_ON_UNSPECIFIED;
  std::string department;
  std::string assignee;
  std::string resolution;
  std::string waiver_reason;
  int reopen_count = 0;
  int return_visit_count = 0;
  bool sla_breached = false;

  absl::Time create_time;
  // The SLA clock runs from sla_start (creation, or the last reopening) and
  // stands still while waiting; paused holds the time stood still so far.
  absl::Time sla_start;
  absl::Duration paused;
  std::optional<absl::Time> waiting_since;
  absl::Time response_due;
  absl::Time resolve_due;
  std::optional<absl::Time> first_response_time;
  std::optional<absl::Time> resolve_time;
  std::optional<absl::Time> close_time;
  // The latest return visit; a complaint or repair closes only after a visit
  // that follows its latest resolution.
  std::optional<absl::Time> last_visit_time;
};

enum class Action { kAssign, kStart, kWait, kResume, kResolve, kClose, kReopen, kCancel };

// A requested transition and what it carries; fields other than the action's
// own are ignored.
struct Transition {
  Action action;
  std::string department;   // kAssign (required)
  std::string assignee;     // kAssign
  v1::WaitingOn waiting_on = v1::WAITING_ON_UNSPECIFIED;  // kWait (required)
  std::string resolution;   // kResolve (required)
  std::string waiver_reason;  // kClose
};

// A new ticket as of `now`: OPEN with its SLA deadlines set.
TicketState NewTicket(v1::TicketKind kind, v1::Priority priority, const SlaTarget& target,
                      absl::Time now);

// Applies `tr` at `now`, or returns FAILED_PRECONDITION (leaving `t` as it was)
// if the current status forbids it. `target` is the SLA target of the ticket's
// priority; only a reopening reads it (it restarts the resolution clock).
absl::Status Apply(TicketState& t, const Transition& tr, const SlaTarget& target,
                   absl::Time now);

// A priority change at `now`: a breach already incurred stays, then the
// deadlines follow the new target. Not allowed once resolved, closed or
// cancelled (FAILED_PRECONDITION).
absl::Status Reprioritise(TicketState& t, v1::Priority priority, const SlaTarget& target,
                          absl::Time now);

// True if the ticket is (or was) past a deadline with the clock running.
// Also latches t.sla_breached.
bool CheckBreach(TicketState& t, absl::Time now);

// Statuses in which the SLA clock runs.
bool ClockRuns(v1::TicketStatus s);
bool IsTerminal(v1::TicketStatus s);  // closed or cancelled
bool IsHandled(v1::TicketStatus s);   // resolved or closed

const char* ActionName(Action a);

}  // namespace tickets

#endif  // ESTATE_SERVICES_TICKETS_TICKET_H_
