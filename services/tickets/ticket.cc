#include "services/tickets/ticket.h"

#include <initializer_list>

#include "absl/strings/str_cat.h"

namespace tickets {
namespace {

bool In(v1::TicketStatus s, std::initializer_list<v1::TicketStatus> set) {
  for (v1::TicketStatus x : set) {
    if (s == x) return true;
  }
  return false;
}

absl::Status Forbidden(const TicketState& t, Action a) {
  return absl::FailedPreconditionError(absl::StrCat(
      "cannot ", ActionName(a), " a ticket that is ", v1::TicketStatus_Name(t.status)));
}

void RecomputeDue(TicketState& t, const SlaTarget& target) {
  // Once answered, the response deadline is history and never moves again.
  if (!t.first_response_time.has_value()) {
    t.response_due = t.create_time + target.first_response + t.paused;
  }
  t.resolve_due = t.sla_start + target.resolution + t.paused;
}

void MarkResponded(TicketState& t, absl::Time now) {
  if (!t.first_response_time.has_value()) t.first_response_time = now;
}

}  // namespace

SlaTarget DefaultSlaTarget(v1::Priority priority) {
  switch (priority) {
    case v1::URGENT:
      return {absl::Minutes(30), absl::Hours(4)};
    case v1::HIGH:
      return {absl::Hours(2), absl::Hours(24)};
    case v1::LOW:
      return {absl::Hours(24), absl::Hours(7 * 24)};
    default:
      return {absl::Hours(4), absl::Hours(72)};
  }
}

const char* ActionName(Action a) {
  switch (a) {
    case Action::kAssign: return "assign";
    case Action::kStart: return "start";
    case Action::kWait: return "pause";
    case Action::kResume: return "resume";
    case Action::kResolve: return "resolve";
    case Action::kClose: return "close";
    case Action::kReopen: return "reopen";
    case Action::kCancel: return "cancel";
  }
  return "change";
}

bool ClockRuns(v1::TicketStatus s) {
  return In(s, {v1::OPEN, v1::ASSIGNED, v1::IN_PROGRESS, v1::REOPENED});
}
bool IsTerminal(v1::TicketStatus s) { return In(s, {v1::CLOSED, v1::CANCELLED}); }
bool IsHandled(v1::TicketStatus s) { return In(s, {v1::RESOLVED, v1::CLOSED}); }

TicketState NewTicket(v1::TicketKind kind, v1::Priority priority, const SlaTarget& target,
                      absl::Time now) {
  TicketState t;
  t.kind = kind;
  t.priority = priority == v1::PRIORITY_UNSPECIFIED ? v1::NORMAL : priority;
  t.status = v1::OPEN;
  t.create_time = now;
  t.sla_start = now;
  t.paused = absl::ZeroDuration();
  RecomputeDue(t, target);
  return t;
}

absl::Status Reprioritise(TicketState& t, v1::Priority priority, const SlaTarget& target,
                          absl::Time now) {
  if (t.priority == priority) return absl::OkStatus();
  if (IsHandled(t.status) || IsTerminal(t.status)) {
    return absl::FailedPreconditionError(absl::StrCat(
        "priority cannot change on a ticket that is ", v1::TicketStatus_Name(t.status)));
  }
  CheckBreach(t, now);
  t.priority = priority;
  // A pause still running is added when the ticket resumes.
  RecomputeDue(t, target);
  return absl::OkStatus();
}

bool CheckBreach(TicketState& t, absl::Time now) {
  if (t.sla_breached) return true;
  bool late = false;
  if (ClockRuns(t.status)) {
    late = now > t.resolve_due || (!t.first_response_time.has_value() && now > t.response_due);
  }
  if (t.first_response_time.has_value() && *t.first_response_time > t.response_due) late = true;
  if (t.resolve_time.has_value() && *t.resolve_time > t.resolve_due) late = true;
  t.sla_breached = late;
  return late;
}

absl::Status Apply(TicketState& state, const Transition& tr, const SlaTarget& target,
                   absl::Time now) {
  TicketState t = state;  // committed back only if the transition is allowed
  // Breaches are judged before the change, with the clock as it stood.
  CheckBreach(t, now);
  switch (tr.action) {
    case Action::kAssign:
      if (!In(t.status, {v1::OPEN, v1::ASSIGNED, v1::REOPENED})) return Forbidden(t, tr.action);
      t.department = tr.department;
      t.assignee = tr.assignee;
      t.status = v1::ASSIGNED;
      MarkResponded(t, now);
      break;
    case Action::kStart:
      if (!In(t.status, {v1::ASSIGNED, v1::REOPENED})) return Forbidden(t, tr.action);
      if (t.department.empty()) {
        return absl::FailedPreconditionError("cannot start a ticket no department is assigned to");
      }
      t.status = v1::IN_PROGRESS;
      MarkResponded(t, now);
      break;
    case Action::kWait:
      if (!ClockRuns(t.status)) return Forbidden(t, tr.action);
      t.status_before_wait = t.status;
      t.waiting_on = tr.waiting_on;
      t.waiting_since = now;
      t.status = v1::WAITING;
      break;
    case Action::kResume: {
      if (t.status != v1::WAITING) return Forbidden(t, tr.action);
      // The deadlines move by the pause; they are not re-derived from today's
      // policy, which may have changed since the ticket was opened.
      const absl::Duration pause = now - t.waiting_since.value_or(now);
      t.paused += pause;
      if (!t.first_response_time.has_value()) t.response_due += pause;
      t.resolve_due += pause;
      t.waiting_since.reset();
      t.waiting_on = v1::WAITING_ON_UNSPECIFIED;
      t.status = t.status_before_wait == v1::TICKET_STATUS_UNSPECIFIED ? v1::OPEN
                                                                        : t.status_before_wait;
      t.status_before_wait = v1::TICKET_STATUS_UNSPECIFIED;
      break;
    }
    case Action::kResolve: {
      // An inquiry or a suggestion may be answered at the desk, straight from open.
      const bool desk = (t.kind == v1::INQUIRY || t.kind == v1::SUGGESTION) && t.status == v1::OPEN;
      if (!desk && !In(t.status, {v1::ASSIGNED, v1::IN_PROGRESS, v1::REOPENED})) {
        return Forbidden(t, tr.action);
      }
      t.resolution = tr.resolution;
      t.status = v1::RESOLVED;
      MarkResponded(t, now);
      t.resolve_time = now;
      break;
    }
    case Action::kClose:
      if (t.status != v1::RESOLVED) return Forbidden(t, tr.action);
      if ((t.kind == v1::COMPLAINT || t.kind == v1::REPAIR) && tr.waiver_reason.empty() &&
          !(t.last_visit_time.has_value() && t.resolve_time.has_value() &&
            *t.last_visit_time >= *t.resolve_time)) {
        return absl::FailedPreconditionError(
            "a complaint or repair closes only after a return visit or with a waiver_reason");
      }
      t.waiver_reason = tr.waiver_reason;
      t.status = v1::CLOSED;
      t.close_time = now;
      break;
    case Action::kReopen:
      if (!In(t.status, {v1::RESOLVED, v1::CLOSED})) return Forbidden(t, tr.action);
      t.status = v1::REOPENED;
      ++t.reopen_count;
      t.resolve_time.reset();
      t.close_time.reset();
      t.resolution.clear();
      t.waiver_reason.clear();
      // A reopened ticket gets a fresh resolution clock; an earlier breach stays.
      t.sla_start = now;
      t.paused = absl::ZeroDuration();
      RecomputeDue(t, target);
      break;
    case Action::kCancel:
      if (!In(t.status, {v1::OPEN, v1::ASSIGNED, v1::IN_PROGRESS, v1::WAITING, v1::REOPENED})) {
        return Forbidden(t, tr.action);
      }
      if (t.waiting_since.has_value()) {
        t.paused += now - *t.waiting_since;
        t.waiting_since.reset();
      }
      t.waiting_on = v1::WAITING_ON_UNSPECIFIED;
      t.status_before_wait = v1::TICKET_STATUS_UNSPECIFIED;
      t.status = v1::CANCELLED;
      t.close_time = now;
      break;
  }
  CheckBreach(t, now);
  state = std::move(t);
  return absl::OkStatus();
}

}  // namespace tickets
