// The tickets service over a real gRPC channel against the private MariaDB.
#include <atomic>
#include <set>
#include <thread>

#include "google/protobuf/util/message_differencer.h"
#include "services/kit/proto_time.h"
#include "tests/tickets/tickets_fixture.h"

namespace tickets {

kit::FakeClock* TicketsTest::clock_ = nullptr;
kit::DbOptions* TicketsTest::db_options_ = nullptr;
testing_support::InProcessService* TicketsTest::server_ = nullptr;
v1::TicketService::Stub* TicketsTest::stub_ = nullptr;
TicketsService* TicketsTest::service_ = nullptr;
testing_support::Recount* TicketsTest::recount_db_ = nullptr;

namespace {

using google::protobuf::util::MessageDifferencer;

TEST_F(TicketsTest, CreateThenGetReturnsTheSameTicket) {
  const std::string site = NewSite();
  const v1::Ticket created = Create(site, v1::COMPLAINT, "漏水: washing machine tap broke");
  EXPECT_TRUE(absl::StartsWith(created.name(), "sites/" + site + "/tickets/"));
  EXPECT_EQ(created.status(), v1::OPEN);
  EXPECT_EQ(created.priority(), v1::NORMAL);
  EXPECT_EQ(created.created_by(), "user:test");
  EXPECT_EQ(kit::FromTimestamp(created.response_due_time()),
            clock().Now() + absl::Hours(4));  // the default NORMAL target
  v1::Ticket got;
  ASSERT_TRUE(Get(created.name(), &got).ok());
  EXPECT_TRUE(MessageDifferencer::Equals(created, got)) << created.DebugString() << got.DebugString();
}

TEST_F(TicketsTest, GetOfAMissingOrForeignTicketIsNotFound) {
  const v1::Ticket t = Create(NewSite());
  v1::Ticket out;
  EXPECT_EQ(Get(t.name() + "0", &out).error_code(), grpc::StatusCode::NOT_FOUND);
  // The same id under another site is another ticket: not found.
  const std::string id = t.name().substr(t.name().rfind('/') + 1);
  EXPECT_EQ(Get("sites/" + NewSite() + "/tickets/" + id, &out).error_code(),
            grpc::StatusCode::NOT_FOUND);
}

TEST_F(TicketsTest, TwentyConcurrentCreatesWithOneRequestIdMakeOneTicket) {
  const std::string site = NewSite();
  v1::CreateTicketRequest req;
  req.set_parent("sites/" + site);
  req.set_request_id(NewRequestId());
  req.mutable_ticket()->set_kind(v1::REPAIR);
  req.mutable_ticket()->set_channel(v1::VISIT);
  req.mutable_ticket()->set_title("Entrance door will not lock");
  std::vector<std::thread> threads;
  std::vector<std::string> names(20);
  std::atomic<int> failures{0};
  for (int i = 0; i < 20; ++i) {
    threads.emplace_back([&, i] {
      v1::Ticket out;
      const grpc::Status s = stub().CreateTicket(Context().get(), req, &out);
      if (s.ok()) names[i] = out.name(); else ++failures;
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(failures.load(), 0);
  for (const std::string& n : names) EXPECT_EQ(n, names[0]);
  EXPECT_EQ(Sql("SELECT COUNT(*) FROM tickets WHERE site = ?", {site}), 1);
  v1::ListTicketEventsRequest lr;
  lr.set_parent(names[0]);
  v1::ListTicketEventsResponse events;
  ASSERT_TRUE(stub().ListTicketEvents(Context().get(), lr, &events).ok());
  ASSERT_EQ(events.events_size(), 1);
  EXPECT_EQ(events.events(0).type(), "created");
}

TEST_F(TicketsTest, ARetryAfterSuccessReturnsTheStoredAnswerEvenWhenStateMovedOn) {
  const std::string site = NewSite();
  v1::Ticket t = Create(site);
  v1::AssignTicketRequest r;
  r.set_name(t.name());
  r.set_etag(t.etag());
  r.set_request_id(NewRequestId());
  r.set_department("engineering");
  v1::Ticket first, again;
  ASSERT_TRUE(stub().AssignTicket(Context().get(), r, &first).ok());
  ASSERT_TRUE(Simple(&first, &v1::TicketService::Stub::StartTicket).ok());
  // The client never saw the first reply and retries with the same id and etag.
  ASSERT_TRUE(stub().AssignTicket(Context().get(), r, &again).ok());
  EXPECT_EQ(again.status(), v1::ASSIGNED);
  EXPECT_EQ(Sql("SELECT status FROM tickets WHERE site = ?", {site}), v1::IN_PROGRESS);
  EXPECT_EQ(Sql("SELECT COUNT(*) FROM ticket_events WHERE site = ? AND type = 'status_changed'",
                {site}),
            2);
}

TEST_F(TicketsTest, ARetriedCreateAnswersAsTheFirstDidAfterTheTicketMovedOn) {
  v1::CreateTicketRequest req;
  req.set_parent("sites/" + NewSite());
  req.set_request_id(NewRequestId());
  req.mutable_ticket()->set_kind(v1::REPAIR);
  req.mutable_ticket()->set_channel(v1::APP);
  req.mutable_ticket()->set_title("Induction cooker does not heat");
  // Output-only fields a client sends are not taken, nor echoed.
  req.mutable_ticket()->set_status(v1::CLOSED);
  req.mutable_ticket()->mutable_close_time()->set_seconds(1);
  req.mutable_ticket()->set_etag("\"99\"");
  v1::Ticket first;
  ASSERT_TRUE(stub().CreateTicket(Context().get(), req, &first).ok());
  EXPECT_EQ(first.status(), v1::OPEN);
  EXPECT_FALSE(first.has_close_time());
  EXPECT_EQ(first.etag(), "\"1\"");
  v1::Ticket moved = first;
  ASSERT_TRUE(Assign(&moved).ok());
  clock().Advance(absl::Hours(1));
  v1::Ticket again;
  ASSERT_TRUE(stub().CreateTicket(Context().get(), req, &again).ok());
  EXPECT_TRUE(MessageDifferencer::Equals(first, again)) << first.DebugString() << again.DebugString();
}

TEST_F(TicketsTest, TheSameRequestIdForADifferentTicketIsRefused) {
  const std::string site = NewSite();
  v1::CreateTicketRequest req;
  req.set_parent("sites/" + site);
  req.set_request_id(NewRequestId());
  req.mutable_ticket()->set_kind(v1::INQUIRY);
  req.mutable_ticket()->set_channel(v1::PHONE);
  req.mutable_ticket()->set_title("When is the heating fee due?");
  v1::Ticket out;
  ASSERT_TRUE(stub().CreateTicket(Context().get(), req, &out).ok());
  req.mutable_ticket()->set_title("Something else entirely");
  const grpc::Status s = stub().CreateTicket(Context().get(), req, &out);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(s.error_message(), "request_id: already used for a different request");
  EXPECT_EQ(Sql("SELECT COUNT(*) FROM tickets WHERE site = ?", {site}), 1);
}

TEST_F(TicketsTest, AStaleEtagIsAbortedAndChangesNothing) {
  v1::Ticket t = Create(NewSite());
  v1::Ticket stale = t;
  ASSERT_TRUE(Assign(&t).ok());
  const grpc::Status s = Assign(&stale, "security");
  EXPECT_EQ(s.error_code(), grpc::StatusCode::ABORTED);
  v1::Ticket now;
  ASSERT_TRUE(Get(t.name(), &now).ok());
  EXPECT_EQ(now.department(), "engineering");
  EXPECT_EQ(now.etag(), t.etag());

  v1::UpdateTicketRequest u;
  *u.mutable_ticket() = stale;
  u.mutable_ticket()->set_title("changed");
  u.mutable_update_mask()->add_paths("title");
  u.set_request_id(NewRequestId());
  v1::Ticket out;
  EXPECT_EQ(stub().UpdateTicket(Context().get(), u, &out).error_code(), grpc::StatusCode::ABORTED);
}

TEST_F(TicketsTest, IllegalTransitionsFailAndChangeNothing) {
  v1::Ticket t = Create(NewSite(), v1::COMPLAINT);
  const int64_t events_before = Sql("SELECT COUNT(*) FROM ticket_events");
  v1::Ticket copy = t;
  EXPECT_EQ(Simple(&copy, &v1::TicketService::Stub::StartTicket).error_code(),
            grpc::StatusCode::FAILED_PRECONDITION);  // not assigned yet
  copy = t;
  EXPECT_EQ(Resolve(&copy).error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  copy = t;
  EXPECT_EQ(Close(&copy).error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  // Resolved, but a complaint closes only after a return visit or a waiver.
  ASSERT_TRUE(Assign(&t).ok());
  ASSERT_TRUE(Resolve(&t).ok());
  copy = t;
  const grpc::Status s = Close(&copy);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(s.error_message(),
            "a complaint or repair closes only after a return visit or with a waiver_reason");
  v1::Ticket now;
  ASSERT_TRUE(Get(t.name(), &now).ok());
  EXPECT_EQ(now.status(), v1::RESOLVED);
  EXPECT_EQ(now.etag(), t.etag());
  EXPECT_EQ(Sql("SELECT COUNT(*) FROM ticket_events"), events_before + 2);  // assign, resolve
  ASSERT_TRUE(Close(&t, "owner unreachable after three calls").ok());
  EXPECT_EQ(t.status(), v1::CLOSED);
}

TEST_F(TicketsTest, TheWholeLifeOfARepairIsOnItsTimeline) {
  v1::Ticket t = Create(NewSite(), v1::REPAIR);
  ASSERT_TRUE(Assign(&t).ok());
  clock().Advance(absl::Minutes(30));
  ASSERT_TRUE(Simple(&t, &v1::TicketService::Stub::StartTicket).ok());
  v1::WaitTicketRequest w;
  w.set_name(t.name());
  w.set_etag(t.etag());
  w.set_request_id(NewRequestId());
  w.set_waiting_on(v1::CONTRACTOR);
  w.set_note("waiting for the waterproofing contractor");
  ASSERT_TRUE(stub().WaitTicket(Context("user:clerk").get(), w, &t).ok());
  EXPECT_EQ(t.status(), v1::WAITING);
  const absl::Time due_before = kit::FromTimestamp(t.resolve_due_time());
  clock().Advance(absl::Hours(5));
  ASSERT_TRUE(Simple(&t, &v1::TicketService::Stub::ResumeTicket).ok());
  EXPECT_EQ(t.status(), v1::IN_PROGRESS);
  EXPECT_EQ(kit::FromTimestamp(t.resolve_due_time()), due_before + absl::Hours(5));
  ASSERT_TRUE(Resolve(&t).ok());
  v1::ReturnVisit visit;
  ASSERT_TRUE(Visit(t, 5, &visit).ok());
  EXPECT_TRUE(absl::StartsWith(visit.name(), t.name() + "/returnVisits/"));
  EXPECT_EQ(visit.caller(), "user:test");
  ASSERT_TRUE(Get(t.name(), &t).ok());
  EXPECT_EQ(t.return_visit_count(), 1);
  ASSERT_TRUE(Close(&t).ok());

  v1::ListTicketEventsRequest lr;
  lr.set_parent(t.name());
  v1::ListTicketEventsResponse events;
  ASSERT_TRUE(stub().ListTicketEvents(Context().get(), lr, &events).ok());
  std::vector<std::string> seen;
  for (const auto& e : events.events()) {
    seen.push_back(e.type() + ":" + v1::TicketStatus_Name(e.to_status()));
  }
  EXPECT_EQ(seen, (std::vector<std::string>{
                      "created:OPEN", "status_changed:ASSIGNED", "status_changed:IN_PROGRESS",
                      "status_changed:WAITING", "status_changed:IN_PROGRESS",
                      "status_changed:RESOLVED", "return_visit:RESOLVED", "status_changed:CLOSED"}));
  EXPECT_EQ(events.events(3).actor(), "user:clerk");
  // Paged three at a time, the timeline is the same.
  std::vector<std::string> paged;
  lr.set_page_size(3);
  do {
    v1::ListTicketEventsResponse page;
    ASSERT_TRUE(stub().ListTicketEvents(Context().get(), lr, &page).ok());
    EXPECT_LE(page.events_size(), 3);
    for (const auto& e : page.events()) {
      paged.push_back(e.type() + ":" + v1::TicketStatus_Name(e.to_status()));
    }
    lr.set_page_token(page.next_page_token());
  } while (!lr.page_token().empty() && paged.size() < 50);
  EXPECT_EQ(paged, seen);
  EXPECT_EQ(events.events(3).detail(), "waiting on CONTRACTOR: waiting for the waterproofing contractor");

  v1::ListReturnVisitsRequest vr;
  vr.set_parent(t.name());
  v1::ListReturnVisitsResponse visits;
  ASSERT_TRUE(stub().ListReturnVisits(Context().get(), vr, &visits).ok());
  ASSERT_EQ(visits.return_visits_size(), 1);
  EXPECT_EQ(visits.return_visits(0).satisfaction(), 5);
}

TEST_F(TicketsTest, AReturnVisitBeforeResolutionIsRefused) {
  const v1::Ticket t = Create(NewSite());
  EXPECT_EQ(Visit(t, 4).error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(Sql("SELECT COUNT(*) FROM return_visits WHERE ticket_id = ?",
                {kit::IdOf(t.name().substr(t.name().rfind('/') + 1))}),
            0);
}

TEST_F(TicketsTest, ReopeningCountsAndRestartsTheResolutionClock) {
  v1::Ticket t = Create(NewSite(), v1::RECTIFICATION);
  ASSERT_TRUE(Assign(&t).ok());
  ASSERT_TRUE(Resolve(&t).ok());
  clock().Advance(absl::Hours(1));
  v1::ReasonRequest r;
  r.set_name(t.name());
  r.set_etag(t.etag());
  r.set_request_id(NewRequestId());
  r.set_reason("still leaking after rain");
  ASSERT_TRUE(stub().ReopenTicket(Context().get(), r, &t).ok());
  EXPECT_EQ(t.status(), v1::REOPENED);
  EXPECT_EQ(t.reopen_count(), 1);
  EXPECT_FALSE(t.has_resolve_time());
  EXPECT_EQ(kit::FromTimestamp(t.resolve_due_time()), clock().Now() + absl::Hours(72));
}

TEST_F(TicketsTest, UpdateChangesOnlyMaskedFieldsAndPriorityMovesDeadlines) {
  v1::Ticket t = Create(NewSite());
  v1::UpdateTicketRequest u;
  u.mutable_ticket()->set_name(t.name());
  u.mutable_ticket()->set_etag(t.etag());
  u.mutable_ticket()->set_title("Toilet water seepage");
  u.mutable_ticket()->set_priority(v1::URGENT);
  u.mutable_ticket()->set_description("not in the mask: must not be written");
  u.mutable_update_mask()->add_paths("title");
  u.mutable_update_mask()->add_paths("priority");
  u.set_request_id(NewRequestId());
  v1::Ticket out;
  ASSERT_TRUE(stub().UpdateTicket(Context().get(), u, &out).ok());
  EXPECT_EQ(out.title(), "Toilet water seepage");
  EXPECT_EQ(out.description(), "");
  EXPECT_EQ(out.priority(), v1::URGENT);
  EXPECT_EQ(kit::FromTimestamp(out.resolve_due_time()),
            kit::FromTimestamp(t.create_time()) + absl::Hours(4));
  EXPECT_NE(out.etag(), t.etag());

  u.mutable_update_mask()->add_paths("status");
  u.set_request_id(NewRequestId());
  u.mutable_ticket()->set_etag(out.etag());
  const grpc::Status s = stub().UpdateTicket(Context().get(), u, &out);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(s.error_message(), "update_mask: 'status' cannot be updated");
}

TEST_F(TicketsTest, AnUpdateThatChangesNothingKeepsTheEtag) {
  const v1::Ticket t = Create(NewSite());
  v1::UpdateTicketRequest u;
  u.mutable_ticket()->set_name(t.name());
  u.mutable_ticket()->set_etag(t.etag());
  u.mutable_ticket()->set_title(t.title());
  u.mutable_ticket()->set_priority(v1::PRIORITY_UNSPECIFIED);  // means NORMAL, as it is
  u.mutable_update_mask()->add_paths("title");
  u.mutable_update_mask()->add_paths("priority");
  u.set_request_id(NewRequestId());
  v1::Ticket out;
  ASSERT_TRUE(stub().UpdateTicket(Context().get(), u, &out).ok());
  EXPECT_EQ(out.etag(), t.etag());
  EXPECT_EQ(Sql("SELECT COUNT(*) FROM ticket_events WHERE type = 'updated' AND ticket_id = ?",
                {kit::IdOf(t.name().substr(t.name().rfind('/') + 1))}),
            0);
}

TEST_F(TicketsTest, SlaBreachesAreFlaggedOnceAndListable) {
  const std::string site = NewSite();
  v1::SlaPolicy policy;
  v1::GetSlaPolicyRequest gp;
  gp.set_name("sites/" + site + "/slaPolicy");
  ASSERT_TRUE(stub().GetSlaPolicy(Context().get(), gp, &policy).ok());
  EXPECT_EQ(policy.targets_size(), 4);
  v1::UpdateSlaPolicyRequest up;
  *up.mutable_policy() = policy;
  up.mutable_policy()->clear_targets();
  v1::SlaTarget* normal = up.mutable_policy()->add_targets();
  normal->set_priority(v1::NORMAL);
  normal->mutable_first_response()->set_seconds(600);
  normal->mutable_resolution()->set_seconds(3600);
  up.set_request_id(NewRequestId());
  ASSERT_TRUE(stub().UpdateSlaPolicy(Context().get(), up, &policy).ok());
  up.set_request_id(NewRequestId());  // the old etag again: stale
  EXPECT_EQ(stub().UpdateSlaPolicy(Context().get(), up, &policy).error_code(),
            grpc::StatusCode::ABORTED);

  v1::Ticket late = Create(site);
  v1::Ticket answered = Create(site);
  ASSERT_TRUE(Assign(&answered).ok());
  v1::Ticket waiting = Create(site);
  v1::WaitTicketRequest w;
  w.set_name(waiting.name());
  w.set_etag(waiting.etag());
  w.set_request_id(NewRequestId());
  w.set_waiting_on(v1::OWNER);
  ASSERT_TRUE(stub().WaitTicket(Context().get(), w, &waiting).ok());

  clock().Advance(absl::Minutes(11));  // past the 10 minute response target
  ASSERT_TRUE(service().ScanBreaches().ok());
  ASSERT_TRUE(service().ScanBreaches().ok());  // a second scan flags nothing new
  v1::ListTicketsRequest lr;
  lr.set_parent("sites/" + site);
  lr.set_breached_only(true);
  v1::ListTicketsResponse resp;
  ASSERT_TRUE(stub().ListTickets(Context().get(), lr, &resp).ok());
  ASSERT_EQ(resp.tickets_size(), 1);
  EXPECT_EQ(resp.tickets(0).name(), late.name());
  EXPECT_TRUE(resp.tickets(0).sla_breached());
  EXPECT_EQ(Sql("SELECT COUNT(*) FROM ticket_events WHERE site = ? AND type = 'sla_breached'",
                {site}),
            1);

  clock().Advance(absl::Minutes(50));  // the assigned one is now past resolution
  lr.set_page_size(10);
  resp.Clear();
  ASSERT_TRUE(stub().ListTickets(Context().get(), lr, &resp).ok());
  EXPECT_EQ(resp.tickets_size(), 2);  // live, before any scan
  v1::Ticket got;
  ASSERT_TRUE(Get(waiting.name(), &got).ok());
  EXPECT_FALSE(got.sla_breached());  // its clock stands still
}

TEST_F(TicketsTest, ListFiltersByEveryField) {
  const std::string site = NewSite();
  v1::Ticket a = Create(site, v1::COMPLAINT, "Dog barking at night", "4-1201");
  v1::Ticket b = Create(site, v1::REPAIR, "Wall crack", "5-506");
  clock().Advance(absl::Hours(2));
  v1::Ticket c = Create(site, v1::REPAIR, "Threshold stone loose", "5-506");
  ASSERT_TRUE(Assign(&c, "engineering").ok());
  auto names = [&](v1::ListTicketsRequest r) {
    r.set_parent("sites/" + site);
    v1::ListTicketsResponse resp;
    EXPECT_TRUE(stub().ListTickets(Context().get(), r, &resp).ok());
    std::vector<std::string> out;
    for (const auto& t : resp.tickets()) out.push_back(t.name());
    return out;
  };
  v1::ListTicketsRequest r;
  EXPECT_EQ(names(r), (std::vector<std::string>{a.name(), b.name(), c.name()}));
  r.set_kind(v1::REPAIR);
  EXPECT_EQ(names(r), (std::vector<std::string>{b.name(), c.name()}));
  r.set_status(v1::ASSIGNED);
  EXPECT_EQ(names(r), (std::vector<std::string>{c.name()}));
  r.Clear();
  r.set_unit("4-1201");
  EXPECT_EQ(names(r), (std::vector<std::string>{a.name()}));
  r.Clear();
  r.set_department("engineering");
  EXPECT_EQ(names(r), (std::vector<std::string>{c.name()}));
  r.Clear();
  *r.mutable_created_after() = c.create_time();
  EXPECT_EQ(names(r), (std::vector<std::string>{c.name()}));
  r.Clear();
  *r.mutable_created_before() = c.create_time();
  EXPECT_EQ(names(r), (std::vector<std::string>{a.name(), b.name()}));
}

TEST_F(TicketsTest, PagingVisitsEveryTicketOnceWhileOthersAreAdded) {
  const std::string site = NewSite();
  std::set<std::string> before;
  for (int i = 0; i < 23; ++i) before.insert(Create(site).name());
  std::atomic<bool> stop{false};
  std::thread writer([&] {
    for (int i = 0; i < 15 && !stop; ++i) Create(site);
  });
  std::vector<std::string> seen;
  v1::ListTicketsRequest r;
  r.set_parent("sites/" + site);
  r.set_page_size(4);
  int pages = 0;
  do {
    v1::ListTicketsResponse resp;
    ASSERT_TRUE(stub().ListTickets(Context().get(), r, &resp).ok());
    for (const auto& t : resp.tickets()) seen.push_back(t.name());
    r.set_page_token(resp.next_page_token());
    ++pages;
  } while (!r.page_token().empty() && pages < 100);
  stop = true;
  writer.join();
  const std::set<std::string> unique(seen.begin(), seen.end());
  EXPECT_EQ(unique.size(), seen.size()) << "a ticket was listed twice";
  for (const std::string& n : before) EXPECT_TRUE(unique.count(n)) << n << " was skipped";
}

TEST_F(TicketsTest, APageSizeAboveTheMaximumIsLoweredTo500) {
  const std::string site = NewSite();
  // 510 rows straight into the table (the Sequence engine makes the numbers).
  ASSERT_EQ(Sql("SELECT COUNT(*) FROM seq_1_to_510"), 510);
  const absl::Time now = clock().Now();
  Exec("INSERT INTO tickets (site, kind, channel, title, description, priority, status,"
       " resolution, waiver_reason, sla_start, response_due, resolve_due, initial_response_due,"
       " initial_resolve_due, created_at, updated_at, created_by)"
       " SELECT ?, 2, 1, CONCAT('bulk ', seq), '', 2, 1, '', '', ?, ?, ?, ?, ?, ?, ?, 'test'"
       " FROM seq_1_to_510",
       {site, now, now + absl::Hours(4), now + absl::Hours(72), now + absl::Hours(4),
        now + absl::Hours(72), now, now});
  v1::ListTicketsRequest r;
  r.set_parent("sites/" + site);
  r.set_page_size(100000);
  v1::ListTicketsResponse resp;
  ASSERT_TRUE(stub().ListTickets(Context().get(), r, &resp).ok());
  EXPECT_EQ(resp.tickets_size(), 500);
  EXPECT_FALSE(resp.next_page_token().empty());
  r.set_page_token(resp.next_page_token());
  resp.Clear();
  ASSERT_TRUE(stub().ListTickets(Context().get(), r, &resp).ok());
  EXPECT_EQ(resp.tickets_size(), 10);
  EXPECT_TRUE(resp.next_page_token().empty());
  r.Clear();
  r.set_parent("sites/" + site);
  resp.Clear();
  ASSERT_TRUE(stub().ListTickets(Context().get(), r, &resp).ok());
  EXPECT_EQ(resp.tickets_size(), 50);  // the default
}

TEST_F(TicketsTest, SurveysGiveSatisfactionPerDimension) {
  const std::string site = NewSite();
  v1::Survey survey = NewSurvey(site, {"reception", "phone", "return_visit"});
  // 20 households: reception 18 satisfied (90%), phone 15 (75%), return visit 16 (80%).
  for (int i = 0; i < 20; ++i) {
    ASSERT_TRUE(Answer(survey, "3-" + std::to_string(101 + i),
                       {{"reception", i < 18 ? 5 : 2},
                        {"phone", i < 15 ? 4 : 3},
                        {"return_visit", i < 16 ? 4 : 1}})
                    .ok());
  }
  v1::GetSurveyRequest gr;
  gr.set_name(survey.name());
  ASSERT_TRUE(stub().GetSurvey(Context().get(), gr, &survey).ok());
  EXPECT_EQ(survey.response_count(), 20);
  std::map<std::string, int> bp;
  for (const auto& d : survey.results()) bp[d.dimension()] = d.satisfaction_bp();
  EXPECT_EQ(bp, (std::map<std::string, int>{{"phone", 7500}, {"reception", 9000},
                                            {"return_visit", 8000}}));

  EXPECT_EQ(Answer(survey, "3-101", {{"phone", 5}}).error_code(),
            grpc::StatusCode::ALREADY_EXISTS);
  const grpc::Status s = Answer(survey, "3-999", {{"phone", 5}, {"parking", 5}});
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(s.error_message(), "response.ratings: 'parking' is not a dimension of this survey");
  EXPECT_EQ(Sql("SELECT COUNT(*) FROM survey_responses WHERE site = ?", {site}), 20);
}

}  // namespace
}  // namespace tickets
