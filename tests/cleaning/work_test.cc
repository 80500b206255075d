// The cleaning plan against the real database: tasks generated once per day
// and template, done on time, late or missed; inspections scored against the
// standard; failed ones opening exactly one rectification ticket each, even
// when the tickets service is down at the time; the monthly report.
#include "absl/strings/str_cat.h"
#include "estate/tickets/v1/tickets.grpc.pb.h"
#include "gtest/gtest.h"
#include "tests/cleaning/cleaning_fixture.h"

namespace cleaning {
namespace {

class WorkTest : public CleaningTest {
 protected:
  static v1::Shift Early(const Site& s) {
    v1::CreateShiftRequest req;
    req.set_parent(s.name);
    req.set_request_id(NewRequestId());
    req.mutable_shift()->set_display_name("early");
    req.mutable_shift()->set_start("06:00");
    req.mutable_shift()->set_end("14:00");
    v1::Shift out;
    EXPECT_TRUE(stub_->CreateShift(Context().get(), req, &out).ok());
    return out;
  }
  static void Template(const Site& s, const v1::Shift& shift, const std::string& title,
                       const v1::Schedule& schedule) {
    v1::CreateTaskTemplateRequest req;
    req.set_parent(s.name);
    req.set_request_id(NewRequestId());
    req.mutable_template_()->set_zone(s.zone.name());
    req.mutable_template_()->set_shift(shift.name());
    req.mutable_template_()->set_title(title);
    *req.mutable_template_()->mutable_schedule() = schedule;
    v1::TaskTemplate out;
    const grpc::Status st = stub_->CreateTaskTemplate(Context().get(), req, &out);
    EXPECT_TRUE(st.ok()) << st.error_message();
  }
  static std::vector<v1::Task> Tasks(const Site& s, const std::string& from, const std::string& to) {
    v1::ListTasksRequest req;
    req.set_parent(s.name);
    req.set_start_date(from);
    req.set_end_date(to);
    req.set_page_size(500);
    v1::ListTasksResponse out;
    EXPECT_TRUE(stub_->ListTasks(Context().get(), req, &out).ok());
    return {out.tasks().begin(), out.tasks().end()};
  }
  static grpc::Status Complete(const v1::Task& t, v1::Task* out = nullptr) {
    v1::CompleteTaskRequest req;
    req.set_name(t.name());
    req.set_done_by("Li");
    req.set_request_id(NewRequestId());
    v1::Task tmp;
    return stub_->CompleteTask(Context().get(), req, out ? out : &tmp);
  }
  static grpc::Status Inspect(const Site& s, int floor, int glass, int bins,
                              v1::Inspection* out = nullptr) {
    v1::CreateInspectionRequest req;
    req.set_parent(s.name);
    req.set_request_id(NewRequestId());
    v1::Inspection& in = *req.mutable_inspection();
    in.set_zone(s.zone.name());
    in.set_inspector("Supervisor Gao");
    for (const auto& [code, score] :
         std::vector<std::pair<std::string, int>>{{"floor", floor}, {"glass", glass}, {"bins", bins}}) {
      v1::ItemScore* item = in.add_scores();
      item->set_code(code);
      item->set_score(score);
    }
    in.add_photo_uris("https://photos.example/lobby-1.jpg");
    v1::Inspection tmp;
    return stub_->CreateInspection(As("user:gao").get(), req, out ? out : &tmp);
  }
  static std::vector<estate::tickets::v1::Ticket> Tickets(const Site& s) {
    estate::tickets::v1::ListTicketsRequest req;
    req.set_parent(s.name);
    req.set_page_size(500);
    estate::tickets::v1::ListTicketsResponse resp;
    auto ctx = testing_support::Context();
    if (!estate::tickets::v1::TicketService::NewStub(tickets_channel_)
             ->ListTickets(ctx.get(), req, &resp)
             .ok()) {
      return {};
    }
    return {resp.tickets().begin(), resp.tickets().end()};
  }
  static int64_t Pending() {
    return sql_->Scalar("SELECT COUNT(*) FROM outbox WHERE delivered_at IS NULL AND NOT dead");
  }
};

TEST_F(WorkTest, TasksAreMadeOnceADayAndEndDoneOnTimeLateOrMissed) {
  const Site s = NewSite();
  const v1::Shift early = Early(s);
  v1::Schedule lobby;
  lobby.set_frequency(v1::DAILY);
  lobby.set_due_by("08:00");
  Template(s, early, "Mop the lobby before 8:00", lobby);
  v1::Schedule glass;
  glass.set_frequency(v1::WEEKLY);
  glass.add_days_of_week(1);
  glass.add_days_of_week(4);
  Template(s, early, "Clean the lobby glass", glass);

  v1::GenerateTasksRequest gen;
  gen.set_parent(s.name);
  gen.set_start_date("2026-03-02");
  gen.set_end_date("2026-03-08");
  v1::GenerateTasksResponse made;
  ASSERT_TRUE(stub_->GenerateTasks(Context().get(), gen, &made).ok());
  EXPECT_EQ(made.tasks_created(), 9) << "7 daily + Monday and Thursday";
  ASSERT_TRUE(stub_->GenerateTasks(Context().get(), gen, &made).ok());
  EXPECT_EQ(made.tasks_created(), 0) << "a day's task of a template is made once";
  gen.set_start_date("2026-02-20");
  gen.set_end_date("2026-03-01");
  ASSERT_TRUE(stub_->GenerateTasks(Context().get(), gen, &made).ok());
  EXPECT_EQ(made.tasks_created(), 0) << "days already past get no tasks";

  std::vector<v1::Task> monday = Tasks(s, "2026-03-02", "2026-03-02");
  ASSERT_EQ(monday.size(), 2u);
  const v1::Task& mop = monday[0].title() == "Mop the lobby before 8:00" ? monday[0] : monday[1];
  EXPECT_EQ(mop.due_time().seconds(), absl::ToUnixSeconds(Local(3, 2, 8)));
  EXPECT_EQ(mop.team(), s.team.name());
  clock_->Set(Local(3, 2, 7, 40));
  v1::Task done;
  ASSERT_TRUE(Complete(mop, &done).ok());
  EXPECT_EQ(done.state(), v1::DONE);
  EXPECT_TRUE(done.on_time());
  EXPECT_EQ(Complete(mop).error_code(), grpc::StatusCode::FAILED_PRECONDITION);

  std::vector<v1::Task> tuesday = Tasks(s, "2026-03-03", "2026-03-03");
  ASSERT_EQ(tuesday.size(), 1u);
  clock_->Set(Local(3, 3, 8, 30));
  ASSERT_TRUE(Complete(tuesday[0], &done).ok());
  EXPECT_FALSE(done.on_time()) << "done, but after 8:00";

  clock_->Set(Local(3, 5, 0, 1));
  const std::vector<v1::Task> wednesday = Tasks(s, "2026-03-04", "2026-03-04");
  ASSERT_EQ(wednesday.size(), 1u);
  EXPECT_EQ(Complete(wednesday[0]).error_code(), grpc::StatusCode::FAILED_PRECONDITION)
      << "its day is over, even before the job has marked it";
  ASSERT_TRUE(service_->RunTaskJobs().ok());
  std::vector<v1::Task> missed;
  for (const v1::Task& t : Tasks(s, "2026-03-01", "2026-03-31")) {
    if (t.state() == v1::MISSED) missed.push_back(t);
  }
  ASSERT_EQ(missed.size(), 2u) << "Monday's glass and Wednesday's mopping";
  EXPECT_EQ(Complete(missed[0]).error_code(), grpc::StatusCode::FAILED_PRECONDITION);

  v1::GetCleaningReportRequest report_req;
  report_req.set_parent(s.name);
  report_req.set_month("2026-03");
  v1::CleaningReport report;
  ASSERT_TRUE(stub_->GetCleaningReport(Context().get(), report_req, &report).ok());
  EXPECT_EQ(report.total().tasks(), 9);
  EXPECT_EQ(report.total().tasks_done(), 2);
  EXPECT_EQ(report.total().tasks_on_time(), 1);
  EXPECT_EQ(report.total().tasks_missed(), 2);
  EXPECT_EQ(report.total().on_time_rate_bp(), 1111);
}

TEST_F(WorkTest, FailedInspectionsOpenOneTicketEachEvenWhenTicketsWasDown) {
  const Site s = NewSite();
  StopTickets();
  v1::Inspection failed;
  ASSERT_TRUE(Inspect(s, 70, 85, 90, &failed).ok());  // 78.50 < 80
  EXPECT_EQ(failed.score_centi(), 7850);
  EXPECT_FALSE(failed.passed());
  EXPECT_TRUE(failed.rectification_required());
  EXPECT_EQ(failed.team(), s.team.name());
  ASSERT_TRUE(Inspect(s, 60, 60, 60).ok());
  ASSERT_TRUE(Inspect(s, 10, 20, 30).ok());
  v1::Inspection passed;
  ASSERT_TRUE(Inspect(s, 90, 70, 80, &passed).ok());  // 82.00
  EXPECT_TRUE(passed.passed());
  EXPECT_GE(Pending(), 3);
  // The relay has tried and met the outage (and is backing off).
  const auto until = [](const std::function<bool()>& cond) {
    const absl::Time give_up = absl::Now() + absl::Seconds(30);
    while (!cond() && absl::Now() < give_up) absl::SleepFor(absl::Milliseconds(20));
    return cond();
  };
  ASSERT_TRUE(until([] {
    return sql_->Scalar("SELECT COUNT(*) FROM outbox WHERE delivered_at IS NULL AND attempts > 0") > 0;
  }));

  StartTickets();
  // The relay's health probe sees tickets back and drains the backlog;
  // delivered rows are never sent again, so once all are delivered the
  // count below is final.
  ASSERT_TRUE(until([] { return Pending() == 0; }));
  EXPECT_EQ(sql_->Scalar("SELECT COUNT(*) FROM outbox WHERE dead"), 0);
  const std::vector<estate::tickets::v1::Ticket> tickets = Tickets(s);
  ASSERT_EQ(tickets.size(), 3u);
  std::set<std::string> inspections;
  for (const auto& t : tickets) {
    EXPECT_EQ(t.kind(), estate::tickets::v1::RECTIFICATION);
    EXPECT_EQ(t.channel(), estate::tickets::v1::INSPECTION);
    EXPECT_EQ(t.created_by(), "service:cleaning");
    ASSERT_GE(t.links_size(), 1);
    inspections.insert(t.links(0));
  }
  EXPECT_EQ(inspections.size(), 3u) << "one ticket per failed inspection";
  EXPECT_TRUE(inspections.count(failed.name()));
  EXPECT_FALSE(inspections.count(passed.name()));
  const auto& first = *std::find_if(tickets.begin(), tickets.end(), [&](const auto& t) {
    return t.links(0) == failed.name();
  });
  EXPECT_EQ(first.title(), "Rectify Lobby, building 4: scored 78.50, pass is 80");

  v1::GetCleaningReportRequest report_req;
  report_req.set_parent(s.name);
  report_req.set_month("2026-03");
  v1::CleaningReport report;
  ASSERT_TRUE(stub_->GetCleaningReport(Context().get(), report_req, &report).ok());
  ASSERT_EQ(report.rows_size(), 1);
  EXPECT_EQ(report.rows(0).zone(), s.zone.name());
  EXPECT_EQ(report.rows(0).team(), s.team.name());
  EXPECT_EQ(report.rows(0).team_display_name(), "Team A");
  EXPECT_EQ(report.rows(0).inspections(), 4);
  EXPECT_EQ(report.rows(0).passed(), 1);
  EXPECT_EQ(report.rows(0).pass_rate_bp(), 2500);
  // (7850 + 6000 + 1700 + 8200) / 4 = 5937.5 -> 5938
  EXPECT_EQ(report.rows(0).average_score_centi(), 5938);

  ASSERT_TRUE(service_->RefreshGauges().ok());
  const std::string metrics = testing_support::HttpGet(server_->metrics_port(), "/metrics");
  EXPECT_NE(metrics.find("estate_cleaning_inspection_score_count"), std::string::npos);
}

TEST_F(WorkTest, AnInspectionMustScoreEveryItemOfTheStandardAndNothingElse) {
  const Site s = NewSite();
  v1::CreateInspectionRequest req;
  req.set_parent(s.name);
  req.set_request_id(NewRequestId());
  req.mutable_inspection()->set_zone(s.zone.name());
  req.mutable_inspection()->set_inspector("Supervisor Gao");
  v1::ItemScore* only = req.mutable_inspection()->add_scores();
  only->set_code("floor");
  only->set_score(90);
  v1::Inspection out;
  const grpc::Status st = stub_->CreateInspection(Context().get(), req, &out);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(st.error_message().rfind("inspection.scores", 0), 0u) << st.error_message();
  EXPECT_EQ(sql_->Scalar("SELECT COUNT(*) FROM inspections WHERE site = ?", {s.id}), 0);
  EXPECT_EQ(sql_->Scalar("SELECT COUNT(*) FROM outbox WHERE site = ?", {s.id}), 0);
}

}  // namespace
}  // namespace cleaning
