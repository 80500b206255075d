#include "services/tickets/ticket.h"

#include <map>
#include <set>

#include "gtest/gtest.h"

namespace tickets {
namespace {

const absl::Time kT0 = absl::FromCivil(absl::CivilSecond(2026, 3, 2, 9, 0, 0), absl::UTCTimeZone());
const SlaTarget kNormal{absl::Hours(4), absl::Hours(72)};

TicketState Open(v1::TicketKind kind = v1::REPAIR) {
  return NewTicket(kind, v1::NORMAL, kNormal, kT0);
}

Transition Do(Action a) {
  Transition t{a};
  t.department = "engineering";
  t.waiting_on = v1::OWNER;
  t.resolution = "replaced the seal";
  return t;
}

// Drives a fresh ticket into `status` through legal steps.
TicketState In(v1::TicketStatus status, v1::TicketKind kind = v1::REPAIR) {
  TicketState t = Open(kind);
  const absl::Time now = kT0 + absl::Minutes(1);
  auto step = [&](Action a) { EXPECT_TRUE(Apply(t, Do(a), kNormal, now).ok()); };
  switch (status) {
    case v1::OPEN: break;
    case v1::ASSIGNED: step(Action::kAssign); break;
    case v1::IN_PROGRESS: step(Action::kAssign); step(Action::kStart); break;
    case v1::WAITING: step(Action::kWait); break;
    case v1::RESOLVED: step(Action::kAssign); step(Action::kResolve); break;
    case v1::CLOSED:
      step(Action::kAssign); step(Action::kResolve);
      t.return_visit_count = 1;
      t.last_visit_time = now;
      step(Action::kClose);
      break;
    case v1::REOPENED: step(Action::kAssign); step(Action::kResolve); step(Action::kReopen); break;
    case v1::CANCELLED: step(Action::kCancel); break;
    default: break;
  }
  EXPECT_EQ(t.status, status);
  return t;
}

TEST(StatusMachine, EveryTransitionFromEveryStatus) {
  // The legal moves for a repair; everything else must be refused unchanged.
  const std::map<v1::TicketStatus, std::map<Action, v1::TicketStatus>> legal = {
      {v1::OPEN, {{Action::kAssign, v1::ASSIGNED}, {Action::kWait, v1::WAITING},
                  {Action::kCancel, v1::CANCELLED}}},
      {v1::ASSIGNED, {{Action::kAssign, v1::ASSIGNED}, {Action::kStart, v1::IN_PROGRESS},
                      {Action::kWait, v1::WAITING}, {Action::kResolve, v1::RESOLVED},
                      {Action::kCancel, v1::CANCELLED}}},
      {v1::IN_PROGRESS, {{Action::kWait, v1::WAITING}, {Action::kResolve, v1::RESOLVED},
                         {Action::kCancel, v1::CANCELLED}}},
      {v1::WAITING, {{Action::kResume, v1::OPEN}, {Action::kCancel, v1::CANCELLED}}},
      {v1::RESOLVED, {{Action::kReopen, v1::REOPENED}}},  // close needs a visit: below
      {v1::CLOSED, {{Action::kReopen, v1::REOPENED}}},
      {v1::REOPENED, {{Action::kAssign, v1::ASSIGNED}, {Action::kStart, v1::IN_PROGRESS},
                      {Action::kWait, v1::WAITING}, {Action::kResolve, v1::RESOLVED},
                      {Action::kCancel, v1::CANCELLED}}},
      {v1::CANCELLED, {}},
  };
  const Action all[] = {Action::kAssign, Action::kStart, Action::kWait,   Action::kResume,
                        Action::kResolve, Action::kClose, Action::kReopen, Action::kCancel};
  for (const auto& [from, moves] : legal) {
    for (Action a : all) {
      TicketState t = In(from);
      const TicketState before = t;
      const absl::Status s = Apply(t, Do(a), kNormal, kT0 + absl::Minutes(2));
      auto it = moves.find(a);
      if (it != moves.end()) {
        EXPECT_TRUE(s.ok()) << v1::TicketStatus_Name(from) << " " << ActionName(a) << ": " << s;
        EXPECT_EQ(t.status, it->second) << v1::TicketStatus_Name(from) << " " << ActionName(a);
      } else {
        EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition)
            << v1::TicketStatus_Name(from) << " " << ActionName(a);
        EXPECT_EQ(t.status, before.status);
      }
    }
  }
}

TEST(StatusMachine, ComplaintsAndRepairsCloseOnlyAfterAVisitOrWaiver) {
  for (v1::TicketKind kind : {v1::COMPLAINT, v1::REPAIR}) {
    TicketState t = In(v1::RESOLVED, kind);
    Transition close{Action::kClose};
    EXPECT_EQ(Apply(t, close, kNormal, kT0 + absl::Hours(1)).code(),
              absl::StatusCode::kFailedPrecondition);
    close.waiver_reason = "owner unreachable after three calls";
    EXPECT_TRUE(Apply(t, close, kNormal, kT0 + absl::Hours(1)).ok());
    EXPECT_EQ(t.status, v1::CLOSED);
    EXPECT_EQ(t.waiver_reason, "owner unreachable after three calls");
  }
  TicketState visited = In(v1::RESOLVED, v1::COMPLAINT);
  visited.return_visit_count = 1;
  visited.last_visit_time = kT0 + absl::Minutes(30);
  EXPECT_TRUE(Apply(visited, Transition{Action::kClose}, kNormal, kT0 + absl::Hours(1)).ok());
  // Reopened and resolved again: the old visit does not cover the new fix.
  ASSERT_TRUE(Apply(visited, Do(Action::kReopen), kNormal, kT0 + absl::Hours(2)).ok());
  ASSERT_TRUE(Apply(visited, Do(Action::kResolve), kNormal, kT0 + absl::Hours(3)).ok());
  EXPECT_EQ(Apply(visited, Transition{Action::kClose}, kNormal, kT0 + absl::Hours(4)).code(),
            absl::StatusCode::kFailedPrecondition);
  visited.last_visit_time = kT0 + absl::Hours(3) + absl::Minutes(10);
  EXPECT_TRUE(Apply(visited, Transition{Action::kClose}, kNormal, kT0 + absl::Hours(4)).ok());
  // An inquiry needs no return visit, and may be answered straight from open.
  TicketState inquiry = Open(v1::INQUIRY);
  EXPECT_TRUE(Apply(inquiry, Do(Action::kResolve), kNormal, kT0 + absl::Minutes(5)).ok());
  EXPECT_TRUE(Apply(inquiry, Transition{Action::kClose}, kNormal, kT0 + absl::Minutes(6)).ok());
}

TEST(StatusMachine, ReopenCountsAndWaitingReturnsToWhereItWas) {
  TicketState t = In(v1::IN_PROGRESS);
  ASSERT_TRUE(Apply(t, Do(Action::kWait), kNormal, kT0 + absl::Hours(1)).ok());
  EXPECT_EQ(t.waiting_on, v1::OWNER);
  ASSERT_TRUE(Apply(t, Do(Action::kResume), kNormal, kT0 + absl::Hours(2)).ok());
  EXPECT_EQ(t.status, v1::IN_PROGRESS);
  ASSERT_TRUE(Apply(t, Do(Action::kResolve), kNormal, kT0 + absl::Hours(3)).ok());
  ASSERT_TRUE(Apply(t, Do(Action::kReopen), kNormal, kT0 + absl::Hours(4)).ok());
  ASSERT_TRUE(Apply(t, Do(Action::kResolve), kNormal, kT0 + absl::Hours(5)).ok());
  ASSERT_TRUE(Apply(t, Do(Action::kReopen), kNormal, kT0 + absl::Hours(6)).ok());
  EXPECT_EQ(t.reopen_count, 2);
  EXPECT_FALSE(t.resolve_time.has_value());
}

TEST(Sla, DeadlinesFollowThePolicy) {
  TicketState t = Open();
  EXPECT_EQ(t.response_due, kT0 + absl::Hours(4));
  EXPECT_EQ(t.resolve_due, kT0 + absl::Hours(72));
  EXPECT_FALSE(CheckBreach(t, kT0 + absl::Hours(4)));
  EXPECT_TRUE(CheckBreach(t, kT0 + absl::Hours(4) + absl::Seconds(1)));
  EXPECT_TRUE(t.sla_breached);
}

TEST(Sla, FirstResponseInTimeThenResolutionLate) {
  TicketState t = Open();
  ASSERT_TRUE(Apply(t, Do(Action::kAssign), kNormal, kT0 + absl::Hours(1)).ok());
  EXPECT_EQ(t.first_response_time, kT0 + absl::Hours(1));
  EXPECT_FALSE(CheckBreach(t, kT0 + absl::Hours(71)));
  ASSERT_TRUE(Apply(t, Do(Action::kResolve), kNormal, kT0 + absl::Hours(73)).ok());
  EXPECT_TRUE(t.sla_breached);
}

TEST(Sla, ClockPausesWhileWaiting) {
  TicketState t = Open();
  ASSERT_TRUE(Apply(t, Do(Action::kWait), kNormal, kT0 + absl::Hours(1)).ok());
  // Ten hours waiting on the owner: no breach though the response was due at 4h.
  EXPECT_FALSE(CheckBreach(t, kT0 + absl::Hours(11)));
  ASSERT_TRUE(Apply(t, Do(Action::kResume), kNormal, kT0 + absl::Hours(11)).ok());
  EXPECT_EQ(t.paused, absl::Hours(10));
  EXPECT_EQ(t.response_due, kT0 + absl::Hours(14));
  EXPECT_EQ(t.resolve_due, kT0 + absl::Hours(82));
  EXPECT_FALSE(CheckBreach(t, kT0 + absl::Hours(14)));
  EXPECT_TRUE(CheckBreach(t, kT0 + absl::Hours(14) + absl::Seconds(1)));
}

TEST(Sla, ABreachStaysAndAnEarlyAnswerIsNotLaterCalledLate) {
  TicketState t = Open();
  ASSERT_TRUE(Apply(t, Do(Action::kWait), kNormal, kT0).ok());
  ASSERT_TRUE(Apply(t, Do(Action::kResume), kNormal, kT0 + absl::Hours(10)).ok());
  // Answered at 11h: within the paused-extended 14h.
  ASSERT_TRUE(Apply(t, Do(Action::kAssign), kNormal, kT0 + absl::Hours(11)).ok());
  ASSERT_TRUE(Apply(t, Do(Action::kResolve), kNormal, kT0 + absl::Hours(12)).ok());
  ASSERT_TRUE(Apply(t, Do(Action::kReopen), kNormal, kT0 + absl::Hours(13)).ok());
  EXPECT_FALSE(t.sla_breached);
  EXPECT_EQ(t.resolve_due, kT0 + absl::Hours(13 + 72));
  // Late on the new resolution clock: breached, and it stays so.
  ASSERT_TRUE(Apply(t, Do(Action::kResolve), kNormal, kT0 + absl::Hours(13 + 73)).ok());
  EXPECT_TRUE(t.sla_breached);
  ASSERT_TRUE(Apply(t, Do(Action::kReopen), kNormal, kT0 + absl::Hours(100)).ok());
  EXPECT_TRUE(CheckBreach(t, kT0 + absl::Hours(100)));
}

TEST(Sla, RaisingPriorityShortensTheDeadlines) {
  TicketState t = Open();
  ASSERT_TRUE(Reprioritise(t, v1::URGENT, {absl::Minutes(30), absl::Hours(4)},
                           kT0 + absl::Minutes(5)).ok());
  EXPECT_EQ(t.priority, v1::URGENT);
  EXPECT_EQ(t.response_due, kT0 + absl::Minutes(30));
  EXPECT_EQ(t.resolve_due, kT0 + absl::Hours(4));
}

TEST(Sla, LoweringPriorityDoesNotEraseABreachAlreadyIncurred) {
  TicketState t = Open();
  // Five hours unanswered against a four hour target, then lowered to LOW.
  ASSERT_TRUE(Reprioritise(t, v1::LOW, DefaultSlaTarget(v1::LOW), kT0 + absl::Hours(5)).ok());
  EXPECT_TRUE(t.sla_breached);
  EXPECT_EQ(t.response_due, kT0 + DefaultSlaTarget(v1::LOW).first_response);
}

TEST(Sla, ChangingPriorityWhileWaitingCountsThePauseOnce) {
  TicketState t = Open();
  ASSERT_TRUE(Apply(t, Do(Action::kWait), kNormal, kT0 + absl::Hours(1)).ok());
  const SlaTarget high = DefaultSlaTarget(v1::HIGH);
  ASSERT_TRUE(Reprioritise(t, v1::HIGH, high, kT0 + absl::Hours(3)).ok());
  ASSERT_TRUE(Apply(t, Do(Action::kResume), high, kT0 + absl::Hours(5)).ok());
  // Waited four hours in all.
  EXPECT_EQ(t.resolve_due, kT0 + high.resolution + absl::Hours(4));
  EXPECT_EQ(t.response_due, kT0 + high.first_response + absl::Hours(4));
}

TEST(Sla, PriorityIsFixedOnceHandled) {
  TicketState t = In(v1::RESOLVED);
  const TicketState before = t;
  EXPECT_EQ(Reprioritise(t, v1::URGENT, DefaultSlaTarget(v1::URGENT), kT0 + absl::Hours(1)).code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(t.priority, before.priority);
}

TEST(Sla, ResumeMovesDeadlinesByThePauseWhateverThePolicySaysNow) {
  TicketState t = Open();
  ASSERT_TRUE(Apply(t, Do(Action::kWait), kNormal, kT0 + absl::Hours(1)).ok());
  // The site's policy changed meanwhile; the ticket keeps the deal it was opened under.
  const SlaTarget changed{absl::Minutes(10), absl::Hours(1)};
  ASSERT_TRUE(Apply(t, Do(Action::kResume), changed, kT0 + absl::Hours(3)).ok());
  EXPECT_EQ(t.response_due, kT0 + absl::Hours(4 + 2));
  EXPECT_EQ(t.resolve_due, kT0 + absl::Hours(72 + 2));
}

TEST(StatusMachine, ARefusedTransitionChangesNothingNotEvenTheBreachFlag) {
  TicketState t = Open(v1::COMPLAINT);
  const TicketState before = t;
  // Past the response deadline, and closing an open ticket is not allowed.
  EXPECT_FALSE(Apply(t, Transition{Action::kClose}, kNormal, kT0 + absl::Hours(10)).ok());
  EXPECT_EQ(t.sla_breached, before.sla_breached);
  EXPECT_EQ(t.status, before.status);
}

TEST(StatusMachine, CancellingAWaitingTicketClearsTheWait) {
  TicketState t = In(v1::WAITING);
  ASSERT_TRUE(Apply(t, Do(Action::kCancel), kNormal, kT0 + absl::Hours(1)).ok());
  EXPECT_EQ(t.waiting_on, v1::WAITING_ON_UNSPECIFIED);
  EXPECT_FALSE(t.waiting_since.has_value());
  EXPECT_EQ(t.status_before_wait, v1::TICKET_STATUS_UNSPECIFIED);
}

TEST(Sla, DefaultTargetsGrowAsPriorityFalls) {
  EXPECT_LT(DefaultSlaTarget(v1::URGENT).resolution, DefaultSlaTarget(v1::HIGH).resolution);
  EXPECT_LT(DefaultSlaTarget(v1::HIGH).resolution, DefaultSlaTarget(v1::NORMAL).resolution);
  EXPECT_LT(DefaultSlaTarget(v1::NORMAL).resolution, DefaultSlaTarget(v1::LOW).resolution);
}

}  // namespace
}  // namespace tickets
