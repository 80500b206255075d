// Renovation permits against the real database, with the tickets service a
// violation writes to and the billing service that charges the deposit and
// fee running in this process, each on a schema of its own: an application
// approved on the spot (its deposit and fee billed), passes checked at the
// gate by day and night, a violation that stops the work and opens a
// ticket, the work resumed and closed (the deposit refunded less what is
// kept), the half-year's counts; bad input. Each test works on a site of its
// own, so the counts are only its own.
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "estate/billing/v1/billing.grpc.pb.h"
#include "estate/handover/v1/permits.grpc.pb.h"
#include "estate/tickets/v1/tickets.grpc.pb.h"
#include "gtest/gtest.h"
#include "services/billing/billing_service.h"
#include "services/handover/handover_service.h"
#include "services/kit/clock.h"
#include "services/kit/proto_time.h"
#include "services/tickets/tickets_service.h"
#include "tests/support/in_process.h"
#include "tests/support/recount.h"
#include "tests/support/test_db.h"

std::vector<kit::Migration> estate_billing_migrations();
std::vector<kit::Migration> estate_handover_migrations();
std::vector<kit::Migration> estate_tickets_migrations();

namespace handover {
namespace {

namespace billing = ::estate::billing::v1;
namespace tickets = ::estate::tickets::v1;
using testing_support::Context;
using testing_support::InProcessService;
using testing_support::NewRequestId;

constexpr char kManager[] = "user:manager-wang";

absl::Time Shanghai(int month, int day, int hour, int minute = 0) {
  absl::TimeZone shanghai;
  EXPECT_TRUE(absl::LoadTimeZone("Asia/Shanghai", &shanghai));
  return absl::FromCivil(absl::CivilMinute(2026, month, day, hour, minute), shanghai);
}

class RenovationTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    clock_ = new kit::FakeClock(Shanghai(7, 6, 9));
    auto& db = testing_support::TestDatabase::Shared();
    tickets_ = InProcessService::Start("tickets", db.FreshSchema("tickets"),
                                       estate_tickets_migrations(), [](kit::ServiceHost& host) {
                                         ::tickets::RegisterTickets(host, *clock_, absl::Hours(1000));
                                       })
                   .release();
    ASSERT_NE(tickets_, nullptr);
    billing_ =
        InProcessService::Start("billing", db.FreshSchema("billing"), estate_billing_migrations(),
                                [](kit::ServiceHost& host) {
                                  ::billing::BillingOptions o;
                                  o.run_committer = false;
                                  ::billing::RegisterBilling(host, *clock_, o);
                                })
            .release();
    ASSERT_NE(billing_, nullptr);
    db_ = new kit::DbOptions(db.FreshSchema("handover"));
    server_ = InProcessService::Start("handover", *db_, estate_handover_migrations(),
                                      [](kit::ServiceHost& host) {
                                        HandoverOptions o;
                                        o.peers = {{"tickets", tickets_->channel()},
                                                   {"billing", billing_->channel()}};
                                        o.relay_interval = absl::Milliseconds(100);
                                        service_ = RegisterHandover(host, *clock_, o);
                                      })
                  .release();
    ASSERT_NE(server_, nullptr);
    sql_ = new testing_support::Recount(*db_);
  }
  static void TearDownTestSuite() {
    delete sql_;
    delete server_;
    delete billing_;
    delete tickets_;
  }
  void SetUp() override {
    clock_->Set(Shanghai(7, 6, 9));
    stub_ = v1::RenovationService::NewStub(server_->channel());
    tickets_stub_ = tickets::TicketService::NewStub(tickets_->channel());
    billing_stub_ = billing::BillingService::NewStub(billing_->channel());
  }

  // Kitchen and bathroom, 6 July to 31 August, 08:00 to 18:00, three
  // workers, a 2,000 CNY deposit and a 300 CNY garbage fee, charged under
  // billing items 1 and 2 of the site unless the test made real ones
  // (Billed).
  static v1::RenovationPermit Application(const std::string& unit, const std::string& site = "") {
    v1::RenovationPermit p;
    p.set_unit(unit);
    p.set_owner_name("Liu Wei");
    p.set_owner_phone("+86 139 0000 0801");
    p.set_contractor("Harbin Jiayuan Decoration");
    p.set_scope("Retiling kitchen and bathroom, built-in wardrobes");
    p.set_planned_start("2026-07-06");
    p.set_planned_end("2026-08-31");
    p.set_work_start("08:00");
    p.set_work_end("18:00");
    p.set_time_zone("Asia/Shanghai");
    p.set_workers(3);
    p.set_deposit_minor(200000);
    p.set_garbage_fee_minor(30000);
    p.set_currency_code("CNY");
    const std::string of = site.empty() ? "sites/any" : absl::StrCat("sites/", site);
    p.set_deposit_charge_item(of + "/chargeItems/1");
    p.set_garbage_fee_charge_item(of + "/chargeItems/2");
    return p;
  }

  // In billing, `site`'s renovation items and an account for `unit`; the
  // application for `unit` that charges under them.
  v1::RenovationPermit Billed(const std::string& site, const std::string& unit) {
    std::vector<std::string> items;
    for (const char* code : {"renovation-deposit", "decoration-garbage"}) {
      billing::CreateChargeItemRequest req;
      req.set_parent(absl::StrCat("sites/", site));
      req.set_request_id(NewRequestId());
      billing::ChargeItem* i = req.mutable_charge_item();
      i->set_code(code);
      i->set_display_name(code);
      i->set_kind(billing::ONE_OFF);
      i->set_rate("1");
      i->set_effective_from("2026-01-01");
      i->set_due_days(7);
      billing::ChargeItem out;
      const grpc::Status s = billing_stub_->CreateChargeItem(Context().get(), req, &out);
      EXPECT_TRUE(s.ok()) << s.error_message();
      items.push_back(out.name());
    }
    billing::CreateAccountRequest req;
    req.set_parent(absl::StrCat("sites/", site));
    req.set_account_id(unit);
    req.set_request_id(NewRequestId());
    req.mutable_account()->set_building("B2");
    req.mutable_account()->set_payer_name("Liu Wei");
    req.mutable_account()->set_payer_kind(billing::OWNER);
    req.mutable_account()->set_billable_area("98.5");
    req.mutable_account()->set_fee_start("2026-07-01");
    billing::Account account;
    const grpc::Status s = billing_stub_->CreateAccount(Context().get(), req, &account);
    EXPECT_TRUE(s.ok()) << s.error_message();
    v1::RenovationPermit p = Application(unit, site);
    p.set_deposit_charge_item(items[0]);
    p.set_garbage_fee_charge_item(items[1]);
    return p;
  }

  billing::Account Account(const std::string& site, const std::string& unit) {
    billing::GetAccountRequest req;
    req.set_name(absl::StrCat("sites/", site, "/accounts/", unit));
    billing::Account out;
    const grpc::Status s = billing_stub_->GetAccount(Context().get(), req, &out);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return out;
  }

  grpc::Status Apply(const std::string& site, const v1::RenovationPermit& in,
                     v1::RenovationPermit* out) {
    v1::CreateRenovationPermitRequest req;
    req.set_parent(absl::StrCat("sites/", site));
    req.set_request_id(NewRequestId());
    *req.mutable_permit() = in;
    return stub_->CreateRenovationPermit(Context().get(), req, out);
  }

  v1::RenovationPermit Applied(const std::string& site, const std::string& unit) {
    v1::RenovationPermit out;
    const grpc::Status s = Apply(site, Application(unit, site), &out);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return out;
  }

  grpc::Status Approve(v1::RenovationPermit* p, const std::string& conditions = "") {
    v1::ApproveRenovationPermitRequest req;
    req.set_name(p->name());
    req.set_etag(p->etag());
    req.set_conditions(conditions);
    req.set_request_id(NewRequestId());
    return stub_->ApproveRenovationPermit(Context(kManager).get(), req, p);
  }

  grpc::Status Issue(const v1::RenovationPermit& p, const std::string& worker,
                     v1::WorkerPass* out, const std::string& valid_to = "2026-07-31") {
    v1::IssueWorkerPassRequest req;
    req.set_parent(p.name());
    req.set_request_id(NewRequestId());
    req.mutable_pass()->set_worker_name(worker);
    req.mutable_pass()->set_worker_phone("+86 138 0000 0001");
    req.mutable_pass()->set_valid_from("2026-07-06");
    req.mutable_pass()->set_valid_to(valid_to);
    return stub_->IssueWorkerPass(Context().get(), req, out);
  }

  grpc::Status Inspect(v1::RenovationPermit* p, v1::ViolationKind violation,
                       const std::string& description) {
    v1::RecordRenovationInspectionRequest req;
    req.set_name(p->name());
    req.set_etag(p->etag());
    req.set_inspector("guard-li");
    req.set_violation(violation);
    req.set_violation_description(description);
    req.set_request_id(NewRequestId());
    return stub_->RecordRenovationInspection(Context().get(), req, p);
  }

  // The gate's question about `pass` at `at` (none: now).
  v1::CheckWorkerPassResponse Check(const v1::WorkerPass& pass,
                                    std::optional<absl::Time> at = std::nullopt) {
    v1::CheckWorkerPassRequest req;
    req.set_name(pass.name());
    if (at) kit::SetTimestamp(req.mutable_at(), *at);
    v1::CheckWorkerPassResponse out;
    const grpc::Status s = stub_->CheckWorkerPass(Context().get(), req, &out);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return out;
  }

  v1::RenovationPermit Get(const std::string& name) {
    v1::GetRenovationPermitRequest req;
    req.set_name(name);
    v1::RenovationPermit out;
    const grpc::Status s = stub_->GetRenovationPermit(Context().get(), req, &out);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return out;
  }

  // Delivers until the permit says none of its calls is on its way (the
  // relay's own threads may hold a row for a moment); the permit.
  v1::RenovationPermit AwaitEffects(const std::string& name) {
    const absl::Time give_up = absl::Now() + absl::Seconds(10);
    for (;;) {
      for (const char* target : {"billing", "tickets"}) {
        absl::StatusOr<int> n = service_->relay().DeliverOnce(target);
        EXPECT_TRUE(n.ok()) << n.status();
      }
      v1::RenovationPermit p = Get(name);
      if (p.effects_pending() == 0 || absl::Now() > give_up) return p;
      absl::SleepFor(absl::Milliseconds(20));
    }
  }

  v1::RenovationCounts Counts(const std::string& site, const std::string& half_year) {
    v1::GetRenovationCountsRequest req;
    req.set_parent(absl::StrCat("sites/", site));
    req.set_half_year(half_year);
    v1::RenovationCounts out;
    const grpc::Status s = stub_->GetRenovationCounts(Context().get(), req, &out);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return out;
  }

  int64_t Rows(const std::string& table, const std::string& site) {
    return sql_->Scalar(absl::StrCat("SELECT COUNT(*) FROM ", table, " WHERE site = ?"), {site});
  }

  static kit::FakeClock* clock_;
  static kit::DbOptions* db_;
  static InProcessService* tickets_;
  static InProcessService* billing_;
  static InProcessService* server_;
  static HandoverService* service_;
  static testing_support::Recount* sql_;
  std::unique_ptr<v1::RenovationService::Stub> stub_;
  std::unique_ptr<tickets::TicketService::Stub> tickets_stub_;
  std::unique_ptr<billing::BillingService::Stub> billing_stub_;
};

kit::FakeClock* RenovationTest::clock_ = nullptr;
kit::DbOptions* RenovationTest::db_ = nullptr;
InProcessService* RenovationTest::tickets_ = nullptr;
InProcessService* RenovationTest::billing_ = nullptr;
InProcessService* RenovationTest::server_ = nullptr;
HandoverService* RenovationTest::service_ = nullptr;
testing_support::Recount* RenovationTest::sql_ = nullptr;

std::string StartOf(const std::string& message) {
  return message.substr(0, message.find(':'));
}

TEST_F(RenovationTest, ApprovedOnTheSpotCheckedAtTheGateStoppedByAViolationThenClosed) {
  const std::string site = "harbin-r1";
  v1::RenovationPermit p;
  ASSERT_TRUE(Apply(site, Billed(site, "B-2-0801"), &p).ok());
  EXPECT_EQ(p.state(), v1::PERMIT_APPLIED);
  EXPECT_EQ(p.deposit_minor(), 200000);
  EXPECT_EQ(p.garbage_fee_minor(), 30000);

  // On the spot: the application and its approval in the same minute.
  v1::ApproveRenovationPermitRequest approve;
  approve.set_name(p.name());
  approve.set_etag(p.etag());
  approve.set_conditions("No drilling on Sundays");
  approve.set_request_id(NewRequestId());
  grpc::Status s = stub_->ApproveRenovationPermit(Context(kManager).get(), approve, &p);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(p.state(), v1::PERMIT_APPROVED);
  EXPECT_EQ(p.approver(), kManager);
  EXPECT_EQ(p.conditions(), "No drilling on Sundays");
  EXPECT_EQ(kit::FromTimestamp(p.approve_time()), Shanghai(7, 6, 9));
  // The same request again is answered as the first time.
  v1::RenovationPermit replay;
  ASSERT_TRUE(stub_->ApproveRenovationPermit(Context(kManager).get(), approve, &replay).ok());
  EXPECT_EQ(replay.etag(), p.etag());
  approve.set_etag(p.etag());
  approve.set_request_id(NewRequestId());
  s = stub_->ApproveRenovationPermit(Context(kManager).get(), approve, &replay);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(s.error_message(), "cannot approve a permit that is PERMIT_APPROVED");

  // The deposit and the fee are billed to the owner's account, each once.
  EXPECT_EQ(p.effects_pending(), 2) << "both charges are written with the approval";
  p = AwaitEffects(p.name());
  EXPECT_TRUE(p.needs_attention().empty()) << p.needs_attention(0);
  ASSERT_EQ(p.bills_size(), 2);
  billing::ListBillsRequest lb;
  lb.set_parent(absl::StrCat("sites/", site));
  lb.set_account(absl::StrCat("sites/", site, "/accounts/B-2-0801"));
  billing::ListBillsResponse bills;
  ASSERT_TRUE(billing_stub_->ListBills(Context().get(), lb, &bills).ok());
  ASSERT_EQ(bills.bills_size(), 2);
  const std::string permit_id = p.name().substr(p.name().rfind('/') + 1);
  EXPECT_EQ(bills.bills(0).name(), p.bills(0));
  EXPECT_EQ(bills.bills(0).amount_minor(), 200000);
  EXPECT_EQ(bills.bills(0).lines(0).code(), "renovation-deposit");
  EXPECT_EQ(bills.bills(0).lines(0).reference(),
            absl::StrCat("renovationPermits/", permit_id, "/deposit"));
  EXPECT_EQ(bills.bills(1).amount_minor(), 30000);
  EXPECT_EQ(bills.bills(1).lines(0).code(), "decoration-garbage");
  EXPECT_EQ(Account(site, "B-2-0801").balance_minor(), 230000);
  // The owner pays the deposit at the counter.
  billing::RecordPaymentRequest pay;
  pay.set_parent(absl::StrCat("sites/", site));
  pay.set_request_id(NewRequestId());
  pay.mutable_payment()->set_account(lb.account());
  pay.mutable_payment()->set_method(billing::WECHAT);
  pay.mutable_payment()->set_amount_minor(200000);
  pay.mutable_payment()->set_currency_code("CNY");
  pay.mutable_payment()->add_bills(p.bills(0));
  billing::Payment paid;
  s = billing_stub_->RecordPayment(Context().get(), pay, &paid);
  ASSERT_TRUE(s.ok()) << s.error_message();

  std::vector<v1::WorkerPass> passes(3);
  const std::vector<std::string> workers = {"Zhang San", "Li Si", "Wang Wu"};
  for (int i = 0; i < 3; ++i) {
    s = Issue(p, workers[i], &passes[i]);
    ASSERT_TRUE(s.ok()) << s.error_message();
    EXPECT_EQ(passes[i].state(), v1::PASS_ACTIVE);
    EXPECT_EQ(passes[i].name().rfind(p.name() + "/workerPasses/", 0), 0u) << passes[i].name();
    EXPECT_EQ(passes[i].issued_by(), "user:test");
  }
  v1::WorkerPass fourth;
  s = Issue(p, "Zhao Liu", &fourth);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION) << "three workers applied for";

  // At the gate: 10:00 on Tuesday is work time, 23:00 is night.
  v1::CheckWorkerPassResponse day = Check(passes[0], Shanghai(7, 7, 10));
  EXPECT_TRUE(day.valid()) << day.reason();
  EXPECT_EQ(day.local_time(), "2026-07-07 10:00");
  EXPECT_EQ(day.pass().worker_name(), "Zhang San");
  v1::CheckWorkerPassResponse night = Check(passes[0], Shanghai(7, 7, 23));
  EXPECT_FALSE(night.valid());
  EXPECT_EQ(night.denial(), v1::DENIED_OUTSIDE_HOURS);
  EXPECT_EQ(night.local_time(), "2026-07-07 23:00");
  EXPECT_TRUE(Check(passes[1]).valid()) << "now: 09:00 on the pass's first day";

  // Drilling at night: the work stops and a ticket is opened.
  clock_->Set(Shanghai(7, 9, 22, 45));
  s = Inspect(&p, v1::OUTSIDE_HOURS, "drilling at 22:40, neighbours complained");
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(p.state(), v1::PERMIT_SUSPENDED);
  EXPECT_EQ(p.suspension().kind(), v1::OUTSIDE_HOURS);
  EXPECT_EQ(p.effects_pending(), 1) << "the ticket is written with the suspension";
  const v1::RenovationPermit delivered = AwaitEffects(p.name());
  EXPECT_EQ(delivered.effects_pending(), 0);
  EXPECT_TRUE(delivered.needs_attention().empty());

  tickets::ListTicketsRequest lt;
  lt.set_parent(absl::StrCat("sites/", site));
  lt.set_unit("B-2-0801");
  tickets::ListTicketsResponse found;
  ASSERT_TRUE(tickets_stub_->ListTickets(Context().get(), lt, &found).ok());
  ASSERT_EQ(found.tickets_size(), 1);
  const tickets::Ticket& ticket = found.tickets(0);
  EXPECT_EQ(ticket.kind(), tickets::RECTIFICATION);
  EXPECT_EQ(ticket.category(), "renovation");
  EXPECT_EQ(ticket.title(), "Renovation violation at B-2-0801: work outside the permitted hours");
  ASSERT_EQ(ticket.links_size(), 1);
  EXPECT_EQ(ticket.links(0), p.name());
  ASSERT_EQ(delivered.tickets_size(), 1);
  EXPECT_EQ(delivered.tickets(0), ticket.name()) << "the permit links its ticket";

  v1::CheckWorkerPassResponse stopped = Check(passes[0], Shanghai(7, 10, 10));
  EXPECT_FALSE(stopped.valid());
  EXPECT_EQ(stopped.denial(), v1::DENIED_PERMIT_SUSPENDED);
  EXPECT_EQ(stopped.permit_state(), v1::PERMIT_SUSPENDED);

  v1::CloseRenovationPermitRequest close;
  close.set_name(p.name());
  close.set_etag(p.etag());
  close.set_inspector("inspector-zhao");
  close.set_request_id(NewRequestId());
  v1::RenovationPermit out;
  s = stub_->CloseRenovationPermit(Context().get(), close, &out);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(s.error_message(), "cannot close a permit that is PERMIT_SUSPENDED");

  // The procedure is done: the work goes on.
  clock_->Set(Shanghai(7, 10, 11));
  v1::ResumeRenovationWorkRequest resume;
  resume.set_name(p.name());
  resume.set_etag("\"1\"");
  resume.set_note("owner signed the working-hours undertaking");
  resume.set_request_id(NewRequestId());
  s = stub_->ResumeRenovationWork(Context(kManager).get(), resume, &p);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::ABORTED) << "a stale etag";
  resume.set_etag(p.etag());
  resume.set_request_id(NewRequestId());
  s = stub_->ResumeRenovationWork(Context(kManager).get(), resume, &p);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(p.state(), v1::PERMIT_APPROVED);
  EXPECT_FALSE(p.has_suspension());
  EXPECT_TRUE(Check(passes[0], Shanghai(7, 10, 14)).valid());

  v1::RevokeWorkerPassRequest revoke;
  revoke.set_name(passes[2].name());
  revoke.set_reason("left the crew");
  revoke.set_request_id(NewRequestId());
  v1::WorkerPass revoked;
  ASSERT_TRUE(stub_->RevokeWorkerPass(Context().get(), revoke, &revoked).ok());
  EXPECT_EQ(revoked.state(), v1::PASS_REVOKED);
  EXPECT_EQ(Check(passes[2], Shanghai(7, 10, 14)).denial(), v1::DENIED_REVOKED);

  // The closing inspection passes, keeping 500 CNY of the deposit for a
  // scratched lift door: every pass ends with the permit.
  clock_->Set(Shanghai(8, 28, 15));
  close.set_etag(p.etag());
  close.set_note("all in order but the lift");
  close.set_request_id(NewRequestId());
  close.set_deposit_kept_minor(250000);
  s = stub_->CloseRenovationPermit(Context().get(), close, &p);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << "more than the deposit";
  EXPECT_EQ(StartOf(s.error_message()), "deposit_kept_minor");
  close.set_deposit_kept_minor(50000);
  close.set_deposit_kept_reason("scratched lift door panel");
  s = stub_->CloseRenovationPermit(Context().get(), close, &p);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(p.state(), v1::PERMIT_CLOSED);
  EXPECT_EQ(p.closed_by(), "inspector-zhao");
  EXPECT_EQ(p.deposit_kept_minor(), 50000);
  p = AwaitEffects(p.name());
  EXPECT_TRUE(p.needs_attention().empty()) << p.needs_attention(0);
  // 1,500 back: it pays the 300 fee still owed and 1,200 waits as credit.
  billing::Account account = Account(site, "B-2-0801");
  EXPECT_EQ(account.balance_minor(), -120000);
  EXPECT_EQ(account.credit_minor(), 120000);

  // Every billing call delivered again is answered, not applied, again.
  sql_->Exec("UPDATE outbox SET delivered_at = NULL WHERE site = ? AND target = 'billing'", {site});
  p = AwaitEffects(p.name());
  EXPECT_EQ(p.bills_size(), 2);
  ASSERT_TRUE(billing_stub_->ListBills(Context().get(), lb, &bills).ok());
  EXPECT_EQ(bills.bills_size(), 2);
  account = Account(site, "B-2-0801");
  EXPECT_EQ(account.balance_minor(), -120000);
  EXPECT_EQ(account.credit_minor(), 120000);
  v1::ListWorkerPassesRequest lp;
  lp.set_parent(p.name());
  v1::ListWorkerPassesResponse listed;
  ASSERT_TRUE(stub_->ListWorkerPasses(Context().get(), lp, &listed).ok());
  ASSERT_EQ(listed.passes_size(), 3);
  EXPECT_EQ(listed.passes(0).state(), v1::PASS_ENDED);
  EXPECT_EQ(listed.passes(1).state(), v1::PASS_ENDED);
  EXPECT_EQ(listed.passes(2).state(), v1::PASS_REVOKED);
  EXPECT_EQ(kit::FromTimestamp(listed.passes(0).end_time()), Shanghai(8, 28, 15));
  EXPECT_EQ(Check(passes[0], Shanghai(8, 29, 10)).denial(), v1::DENIED_PERMIT_CLOSED);

  // The timeline, with who did what.
  v1::ListPermitEventsRequest le;
  le.set_parent(p.name());
  v1::ListPermitEventsResponse events;
  ASSERT_TRUE(stub_->ListPermitEvents(Context().get(), le, &events).ok());
  std::vector<std::string> types;
  for (const v1::PermitEvent& e : events.events()) types.push_back(e.type());
  EXPECT_EQ(types, (std::vector<std::string>{"created", "approved", "pass_issued", "pass_issued",
                                             "pass_issued", "violation", "resumed",
                                             "pass_revoked", "closed"}));
  EXPECT_EQ(events.events(1).actor(), kManager);
  EXPECT_EQ(events.events(5).from_state(), v1::PERMIT_APPROVED);
  EXPECT_EQ(events.events(5).to_state(), v1::PERMIT_SUSPENDED);
  EXPECT_EQ(events.events(8).detail(),
            "closing inspection passed (inspector-zhao); 2 pass(es) ended; deposit refund "
            "queued, 50000 kept: scratched lift door panel");

  // The report's figures: one application approved, three passes, one
  // violation, one unit renovated; none of it in the first half.
  const v1::RenovationCounts h2 = Counts(site, "2026-H2");
  EXPECT_EQ(h2.permits_applied(), 1);
  EXPECT_EQ(h2.permits_approved(), 1);
  EXPECT_EQ(h2.permits_refused(), 0);
  EXPECT_EQ(h2.passes_issued(), 3);
  EXPECT_EQ(h2.inspections(), 1);
  EXPECT_EQ(h2.violations(), 1);
  EXPECT_EQ(h2.units_renovated(), 1);
  const v1::RenovationCounts h1 = Counts(site, "2026-H1");
  EXPECT_EQ(h1.permits_applied() + h1.passes_issued() + h1.units_renovated(), 0);
}

TEST_F(RenovationTest, BadRequestsNameTheFieldAndWriteNothing) {
  const std::string site = "harbin-r2";
  v1::RenovationPermit p = Applied(site, "B-3-0101");
  ASSERT_TRUE(Approve(&p).ok());
  const int64_t permits = Rows("renovation_permits", site);
  const int64_t events = Rows("permit_events", site);
  const int64_t outbox = Rows("outbox", site);

  const auto field_of_create = [&](void (*edit)(v1::RenovationPermit&)) {
    v1::RenovationPermit in = Application("B-3-0102", site);
    edit(in);
    v1::RenovationPermit out;
    const grpc::Status s = Apply(site, in, &out);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << s.error_message();
    return StartOf(s.error_message());
  };
  EXPECT_EQ(field_of_create([](v1::RenovationPermit& in) { in.set_owner_phone("call me"); }),
            "permit.owner_phone");
  EXPECT_EQ(field_of_create([](v1::RenovationPermit& in) { in.clear_time_zone(); }),
            "permit.time_zone");
  EXPECT_EQ(field_of_create([](v1::RenovationPermit& in) { in.set_work_end("07:00"); }),
            "permit.work_end");
  EXPECT_EQ(field_of_create([](v1::RenovationPermit& in) { in.set_deposit_minor(-1); }),
            "permit.deposit_minor");
  EXPECT_EQ(field_of_create([](v1::RenovationPermit& in) { in.clear_deposit_charge_item(); }),
            "permit.deposit_charge_item");

  // One permit in progress per unit.
  v1::RenovationPermit out;
  grpc::Status s = Apply(site, Application("B-3-0101", site), &out);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(s.error_message(),
            "permit.unit: the unit has a permit applied for, approved or suspended");

  v1::WorkerPass pass;
  s = Issue(p, "Zhang San", &pass, "2026-09-01");
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(StartOf(s.error_message()), "pass.valid_to") << s.error_message();

  v1::RenovationPermit same = p;
  s = Inspect(&same, v1::STRUCTURAL_CHANGE, "");
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(StartOf(s.error_message()), "violation_description");

  v1::CheckWorkerPassRequest check;
  check.set_name(absl::StrCat(p.name(), "/passes/1"));
  v1::CheckWorkerPassResponse answer;
  s = stub_->CheckWorkerPass(Context().get(), check, &answer);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(StartOf(s.error_message()), "name");

  v1::GetRenovationCountsRequest counts;
  counts.set_parent(absl::StrCat("sites/", site));
  counts.set_half_year("2026-H3");
  v1::RenovationCounts figures;
  s = stub_->GetRenovationCounts(Context().get(), counts, &figures);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(StartOf(s.error_message()), "half_year");

  EXPECT_EQ(Rows("renovation_permits", site), permits);
  EXPECT_EQ(Rows("permit_events", site), events);
  EXPECT_EQ(Rows("permit_passes", site), 0);
  EXPECT_EQ(Rows("outbox", site), outbox);
  const v1::RenovationPermit after = Get(p.name());
  EXPECT_EQ(after.state(), v1::PERMIT_APPROVED);
  EXPECT_EQ(after.etag(), p.etag());
  EXPECT_EQ(after.inspections_size(), 0);
}

TEST_F(RenovationTest, ChargesBillingRefusesForGoodShowOnThePermit) {
  // No billing account for the unit: the approval stands, and the permit
  // says what billing refused until an admin sorts it out.
  const std::string site = "harbin-r4";
  v1::RenovationPermit p = Applied(site, "B-5-0101");
  ASSERT_TRUE(Approve(&p).ok());
  EXPECT_EQ(p.state(), v1::PERMIT_APPROVED);
  p = AwaitEffects(p.name());
  ASSERT_EQ(p.needs_attention_size(), 2);
  EXPECT_EQ(p.needs_attention(0).rfind("billing ChargeAccount: ", 0), 0u) << p.needs_attention(0);
  EXPECT_TRUE(p.bills().empty());
}

TEST_F(RenovationTest, ARefusedOwnerAppliesAgainAndTheListFiltersByUnitAndState) {
  const std::string site = "harbin-r3";
  v1::RenovationPermit first = Applied(site, "B-4-0501");
  v1::RefuseRenovationPermitRequest refuse;
  refuse.set_name(first.name());
  refuse.set_etag(first.etag());
  refuse.set_reason("Plans move a load-bearing wall");
  refuse.set_request_id(NewRequestId());
  grpc::Status s = stub_->RefuseRenovationPermit(Context(kManager).get(), refuse, &first);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(first.state(), v1::PERMIT_REFUSED);
  EXPECT_EQ(first.refusal_reason(), "Plans move a load-bearing wall");
  v1::WorkerPass pass;
  s = Issue(first, "Zhang San", &pass);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(s.error_message(), "cannot issue a pass on a permit that is PERMIT_REFUSED");

  const v1::RenovationPermit second = Applied(site, "B-4-0501");
  Applied(site, "B-4-0502");

  v1::ListRenovationPermitsRequest req;
  req.set_parent(absl::StrCat("sites/", site));
  req.set_unit("B-4-0501");
  v1::ListRenovationPermitsResponse of_unit;
  ASSERT_TRUE(stub_->ListRenovationPermits(Context().get(), req, &of_unit).ok());
  ASSERT_EQ(of_unit.permits_size(), 2);
  EXPECT_EQ(of_unit.permits(0).name(), first.name());
  EXPECT_EQ(of_unit.permits(1).name(), second.name());
  req.set_state(v1::PERMIT_APPLIED);
  v1::ListRenovationPermitsResponse applied;
  ASSERT_TRUE(stub_->ListRenovationPermits(Context().get(), req, &applied).ok());
  ASSERT_EQ(applied.permits_size(), 1);
  EXPECT_EQ(applied.permits(0).name(), second.name());
  req.clear_unit();
  req.set_page_size(1);
  v1::ListRenovationPermitsResponse page;
  ASSERT_TRUE(stub_->ListRenovationPermits(Context().get(), req, &page).ok());
  ASSERT_EQ(page.permits_size(), 1);
  EXPECT_FALSE(page.next_page_token().empty()) << "two applications are open";

  const v1::RenovationCounts h2 = Counts(site, "2026-H2");
  EXPECT_EQ(h2.permits_applied(), 3);
  EXPECT_EQ(h2.permits_refused(), 1);
  EXPECT_EQ(h2.permits_approved(), 0);
}

}  // namespace
}  // namespace handover
