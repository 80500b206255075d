#ifndef ESTATE_TESTS_TICKETS_TICKETS_FIXTURE_H_
#define ESTATE_TESTS_TICKETS_TICKETS_FIXTURE_H_

#include <map>
#include <memory>
#include <string>

#include "absl/strings/match.h"
#include "estate/tickets/v1/tickets.grpc.pb.h"
#include "gtest/gtest.h"
#include "services/kit/clock.h"
#include "services/kit/validate.h"
#include "services/tickets/tickets_service.h"
#include "tests/support/in_process.h"
#include "tests/support/recount.h"
#include "tests/support/test_db.h"

std::vector<kit::Migration> estate_tickets_migrations();

namespace tickets {

namespace v1 = ::estate::tickets::v1;
using testing_support::Context;
using testing_support::NewRequestId;

// One tickets service per test suite on a fresh schema of the private test
// MariaDB, with a fake clock; jobs run only when a test calls them.
class TicketsTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    clock_ = new kit::FakeClock(absl::FromCivil(absl::CivilSecond(2026, 3, 2, 9, 0, 0),
                                                absl::UTCTimeZone()));
    db_options_ = new kit::DbOptions(testing_support::TestDatabase::Shared().FreshSchema("tickets"));
    server_ = testing_support::InProcessService::Start(
                  "tickets", *db_options_, estate_tickets_migrations(),
                  [](kit::ServiceHost& host) {
                    service_ = RegisterTickets(host, *clock_, absl::Hours(1000));
                  })
                  .release();
    ASSERT_NE(server_, nullptr);
    stub_ = v1::TicketService::NewStub(server_->channel()).release();
    recount_db_ = new testing_support::Recount(*db_options_);
  }
  static void TearDownTestSuite() {
    delete recount_db_;
    delete stub_;
    delete server_;
  }

  v1::TicketService::Stub& stub() { return *stub_; }
  kit::FakeClock& clock() { return *clock_; }
  TicketsService& service() { return *service_; }
  const std::string& schema() { return db_options_->schema; }

  // A fresh site per test keeps tests independent inside one schema.
  std::string NewSite() {
    static int n = 0;
    return "site-" + std::to_string(++n);
  }

  v1::Ticket Create(const std::string& site, v1::TicketKind kind = v1::REPAIR,
                    const std::string& title = "Bathroom floor tile tilted",
                    const std::string& unit = "5-506") {
    v1::CreateTicketRequest req;
    req.set_parent("sites/" + site);
    req.set_request_id(NewRequestId());
    v1::Ticket* t = req.mutable_ticket();
    t->set_kind(kind);
    t->set_channel(v1::PHONE);
    t->set_title(title);
    t->set_unit(unit);
    t->set_reporter_name("Mr. Wang");
    t->set_reporter_phone("+86 138 0000 0000");
    v1::Ticket out;
    const grpc::Status s = stub().CreateTicket(Context().get(), req, &out);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return out;
  }

  // A survey of the first half of 2026 over `dimensions`.
  v1::Survey NewSurvey(const std::string& site, const std::vector<std::string>& dimensions) {
    v1::CreateSurveyRequest cr;
    cr.set_parent("sites/" + site);
    cr.set_request_id(NewRequestId());
    cr.mutable_survey()->set_title("Household opinion survey, first half");
    for (const std::string& d : dimensions) cr.mutable_survey()->add_dimensions(d);
    cr.mutable_survey()->set_period_start("2026-01-01");
    cr.mutable_survey()->set_period_end("2026-06-30");
    v1::Survey survey;
    const grpc::Status s = stub().CreateSurvey(Context().get(), cr, &survey);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return survey;
  }
  // One household's answer; the status of the call.
  grpc::Status Answer(const v1::Survey& survey, const std::string& unit,
                      const std::map<std::string, int>& ratings) {
    v1::AddSurveyResponseRequest ar;
    ar.set_parent(survey.name());
    ar.set_request_id(NewRequestId());
    ar.mutable_response()->set_unit(unit);
    for (const auto& [d, r] : ratings) (*ar.mutable_response()->mutable_ratings())[d] = r;
    v1::SurveyResponse out;
    return stub().AddSurveyResponse(Context().get(), ar, &out);
  }

  // Runs one transition verb and returns the new ticket (or the status).
  grpc::Status Assign(v1::Ticket* t, const std::string& department = "engineering") {
    v1::AssignTicketRequest r;
    r.set_name(t->name());
    r.set_etag(t->etag());
    r.set_request_id(NewRequestId());
    r.set_department(department);
    r.set_assignee("Lao Li");
    return stub().AssignTicket(Context().get(), r, t);
  }
  grpc::Status Simple(v1::Ticket* t,
                      grpc::Status (v1::TicketService::Stub::*verb)(grpc::ClientContext*,
                                                                    const v1::TransitionRequest&,
                                                                    v1::Ticket*)) {
    v1::TransitionRequest r;
    r.set_name(t->name());
    r.set_etag(t->etag());
    r.set_request_id(NewRequestId());
    return (stub().*verb)(Context().get(), r, t);
  }
  grpc::Status Resolve(v1::Ticket* t) {
    v1::ResolveTicketRequest r;
    r.set_name(t->name());
    r.set_etag(t->etag());
    r.set_request_id(NewRequestId());
    r.set_resolution("Replaced the seal; no more seepage");
    return stub().ResolveTicket(Context().get(), r, t);
  }
  grpc::Status Close(v1::Ticket* t, const std::string& waiver = "") {
    v1::CloseTicketRequest r;
    r.set_name(t->name());
    r.set_etag(t->etag());
    r.set_request_id(NewRequestId());
    r.set_waiver_reason(waiver);
    return stub().CloseTicket(Context().get(), r, t);
  }
  grpc::Status Visit(const v1::Ticket& t, int satisfaction, v1::ReturnVisit* out = nullptr) {
    v1::RecordReturnVisitRequest r;
    r.set_parent(t.name());
    r.set_request_id(NewRequestId());
    r.mutable_return_visit()->set_channel(v1::PHONE);
    r.mutable_return_visit()->set_satisfaction(satisfaction);
    r.mutable_return_visit()->set_comment("owner satisfied");
    v1::ReturnVisit tmp;
    return stub().RecordReturnVisit(Context().get(), r, out ? out : &tmp);
  }
  grpc::Status Get(const std::string& name, v1::Ticket* out) {
    v1::GetTicketRequest r;
    r.set_name(name);
    return stub().GetTicket(Context().get(), r, out);
  }
  // Queries run behind the service's back.
  int64_t Sql(const std::string& sql, const std::vector<kit::SqlParam>& params = {}) {
    return recount_db_->Scalar(sql, params);
  }
  int64_t Scalar(const std::string& sql, const std::vector<kit::SqlParam>& params) {
    return recount_db_->Scalar(sql, params);
  }
  void Exec(const std::string& sql, const std::vector<kit::SqlParam>& params = {}) {
    recount_db_->Exec(sql, params);
  }
  std::vector<kit::Row> Rows(const std::string& sql, const std::vector<kit::SqlParam>& params = {}) {
    return recount_db_->Rows(sql, params);
  }

  static kit::FakeClock* clock_;
  static kit::DbOptions* db_options_;
  static testing_support::InProcessService* server_;
  static v1::TicketService::Stub* stub_;
  static TicketsService* service_;
  static testing_support::Recount* recount_db_;
};

}  // namespace tickets

#endif  // ESTATE_TESTS_TICKETS_TICKETS_FIXTURE_H_
