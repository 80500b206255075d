// The handover service against the real database, with the archives,
// billing and tickets services it completes into running in this process
// on schemas of their own: a whole Area B case, the inspector's calendar,
// bad input, and completion's effects applied once.
#include <memory>

#include "absl/strings/str_cat.h"
#include "estate/archives/v1/archives.grpc.pb.h"
#include "estate/billing/v1/billing.grpc.pb.h"
#include "estate/handover/v1/handover.grpc.pb.h"
#include "estate/tickets/v1/tickets.grpc.pb.h"
#include "gtest/gtest.h"
#include "services/archives/archives_service.h"
#include "services/billing/billing_service.h"
#include "services/handover/handover_service.h"
#include "services/kit/clock.h"
#include "services/kit/proto_time.h"
#include "services/tickets/tickets_service.h"
#include "tests/support/in_process.h"
#include "tests/support/recount.h"
#include "tests/support/test_db.h"

std::vector<kit::Migration> estate_archives_migrations();
std::vector<kit::Migration> estate_billing_migrations();
std::vector<kit::Migration> estate_handover_migrations();
std::vector<kit::Migration> estate_tickets_migrations();

namespace handover {
namespace {

namespace archives = ::estate::archives::v1;
namespace billing = ::estate::billing::v1;
namespace tickets = ::estate::tickets::v1;
using testing_support::Context;
using testing_support::InProcessService;
using testing_support::NewRequestId;

constexpr char kSite[] = "harbin-b";

// 2026-06-08 09:00 in Shanghai, a Monday of the handover window.
absl::Time At(int day, int hour, int minute = 0) {
  absl::TimeZone shanghai;
  EXPECT_TRUE(absl::LoadTimeZone("Asia/Shanghai", &shanghai));
  return absl::FromCivil(absl::CivilMinute(2026, 6, day, hour, minute), shanghai);
}

class HandoverTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    clock_ = new kit::FakeClock(At(8, 9));
    auto& db = testing_support::TestDatabase::Shared();
    archives_ = InProcessService::Start("archives", db.FreshSchema("archives"),
                                        estate_archives_migrations(), [](kit::ServiceHost& host) {
                                          ::archives::RegisterArchives(host, *clock_, absl::Hours(1000));
                                        })
                    .release();
    billing_ = InProcessService::Start("billing", db.FreshSchema("billing"),
                                       estate_billing_migrations(), [](kit::ServiceHost& host) {
                                         ::billing::BillingOptions o;
                                         o.job_interval = absl::Hours(1000);
                                         ::billing::RegisterBilling(host, *clock_, o);
                                       })
                   .release();
    tickets_ = InProcessService::Start("tickets", db.FreshSchema("tickets"),
                                       estate_tickets_migrations(), [](kit::ServiceHost& host) {
                                         ::tickets::RegisterTickets(host, *clock_, absl::Hours(1000));
                                       })
                   .release();
    ASSERT_NE(archives_, nullptr);
    ASSERT_NE(billing_, nullptr);
    ASSERT_NE(tickets_, nullptr);
    db_ = new kit::DbOptions(db.FreshSchema("handover"));
    server_ = InProcessService::Start("handover", *db_, estate_handover_migrations(),
                                      [](kit::ServiceHost& host) {
                                        HandoverOptions o;
                                        o.peers = {{"archives", archives_->channel()},
                                                   {"billing", billing_->channel()},
                                                   {"tickets", tickets_->channel()}};
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
    delete tickets_;
    delete billing_;
    delete archives_;
  }
  void SetUp() override {
    clock_->Set(At(8, 9));
    stub_ = v1::HandoverService::NewStub(server_->channel());
    archives_stub_ = archives::ArchivesService::NewStub(archives_->channel());
    billing_stub_ = billing::BillingService::NewStub(billing_->channel());
    tickets_stub_ = tickets::TicketService::NewStub(tickets_->channel());
  }

  // Area B, phase 2: June, 09:00 to 17:00 in hour slots, two inspectors,
  // billed the property fee from handover.
  v1::HandoverBatch NewBatch() {
    billing::CreateChargeItemRequest item;
    item.set_parent(absl::StrCat("sites/", kSite));
    item.set_request_id(NewRequestId());
    billing::ChargeItem* i = item.mutable_charge_item();
    i->set_code(absl::StrCat("property-fee-", ++items_));
    i->set_display_name("Property management fee");
    i->set_kind(billing::PER_AREA);
    i->set_cycle(billing::MONTHLY);
    i->set_rate("2.6");
    i->set_effective_from("2026-01-01");
    i->set_due_days(14);
    billing::ChargeItem fee;
    grpc::Status s = billing_stub_->CreateChargeItem(Context().get(), item, &fee);
    EXPECT_TRUE(s.ok()) << s.error_message();

    v1::CreateHandoverBatchRequest req;
    req.set_parent(absl::StrCat("sites/", kSite));
    req.set_request_id(NewRequestId());
    v1::HandoverBatch* b = req.mutable_batch();
    b->set_display_name("Area B, phase 2");
    b->set_window_start("2026-06-01");
    b->set_window_end("2026-06-30");
    b->set_day_start("09:00");
    b->set_day_end("17:00");
    b->set_slot_minutes(60);
    b->set_time_zone("Asia/Shanghai");
    b->add_inspectors("inspector-zhao");
    b->add_inspectors("inspector-qian");
    b->add_charge_items(fee.name());
    v1::HandoverBatch out;
    s = stub_->CreateHandoverBatch(Context().get(), req, &out);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return out;
  }

  // A unit in the register and its case in `batch`.
  v1::HandoverCase NewCase(const v1::HandoverBatch& batch, const std::string& unit) {
    archives::CreateUnitRequest u;
    u.set_parent(absl::StrCat("sites/", kSite));
    u.set_unit_id(unit);
    u.set_request_id(NewRequestId());
    u.mutable_unit()->set_building("B2");
    u.mutable_unit()->set_floor(8);
    u.mutable_unit()->set_number(unit);
    u.mutable_unit()->set_area_centi_m2(9837);
    archives::Unit registered;
    grpc::Status s = archives_stub_->CreateUnit(Context().get(), u, &registered);
    EXPECT_TRUE(s.ok()) << s.error_message();

    v1::CreateHandoverCaseRequest req;
    req.set_parent(absl::StrCat("sites/", kSite));
    req.set_request_id(NewRequestId());
    v1::HandoverCase* c = req.mutable_handover_case();
    c->set_batch(batch.name());
    c->set_unit(unit);
    c->set_owner_name("Liu Wei");
    c->set_owner_phone("+86 139 0000 0801");
    c->set_building("B2");
    c->set_billable_area("98.37");
    v1::HandoverCase out;
    s = stub_->CreateHandoverCase(Context().get(), req, &out);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return out;
  }

  archives::Key NewKey(const std::string& unit, const std::string& tag) {
    archives::CreateKeyRequest req;
    req.set_parent(absl::StrCat("sites/", kSite));
    req.set_request_id(NewRequestId());
    req.mutable_key()->set_kind(archives::UNIT_KEY);
    req.mutable_key()->set_tag(tag);
    req.mutable_key()->set_unit(absl::StrCat("sites/", kSite, "/units/", unit));
    req.mutable_key()->set_key_set("A");
    archives::Key out;
    const grpc::Status s = archives_stub_->CreateKey(Context().get(), req, &out);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return out;
  }

  grpc::Status Schedule(v1::HandoverCase* c, int day, int hour,
                        const std::string& inspector = "inspector-zhao") {
    v1::ScheduleInspectionRequest req;
    req.set_name(c->name());
    req.set_etag(c->etag());
    req.set_request_id(NewRequestId());
    req.mutable_appointment()->set_inspector(inspector);
    kit::SetTimestamp(req.mutable_appointment()->mutable_start_time(), At(day, hour));
    kit::SetTimestamp(req.mutable_appointment()->mutable_end_time(), At(day, hour + 1));
    return stub_->ScheduleInspection(Context().get(), req, c);
  }

  // Inspected with a seepage and a crack (or nothing wrong).
  grpc::Status Inspect(v1::HandoverCase* c, const v1::HandoverBatch& batch, bool defects) {
    v1::RecordInspectionRequest req;
    req.set_name(c->name());
    req.set_etag(c->etag());
    req.set_request_id(NewRequestId());
    for (const v1::ChecklistItem& item : batch.checklist()) {
      v1::ChecklistResult* r = req.add_checklist();
      r->set_code(item.code());
      r->set_result(defects && (item.code() == "waterproofing" || item.code() == "walls")
                        ? v1::FAIL
                        : v1::PASS);
    }
    if (defects) {
      for (const auto& [category, location] :
           {std::pair{"waterproofing", "bathroom floor, seepage at the drain"},
            std::pair{"walls", "master bedroom, crack above the window"}}) {
        v1::Defect* d = req.add_defects();
        d->set_category(category);
        d->set_location(location);
        d->set_contractor("Harbin No. 3 Construction");
        d->set_due_date("2026-06-20");
      }
    }
    return stub_->RecordInspection(Context().get(), req, c);
  }

  grpc::Status Accept(v1::HandoverCase* c) {
    v1::AcceptHandoverRequest req;
    req.set_name(c->name());
    req.set_etag(c->etag());
    req.set_request_id(NewRequestId());
    req.set_accepted_by("Liu Wei");
    req.set_signature_ref("sig://handover/B-2-0801");
    return stub_->AcceptHandover(Context().get(), req, c);
  }

  // One delivery pass over every target, on this thread.
  void Deliver() {
    for (const char* target : {"archives", "billing", "tickets"}) {
      absl::StatusOr<int> n = service_->relay().DeliverOnce(target);
      EXPECT_TRUE(n.ok()) << n.status();
    }
  }

  // Delivers until the case says none of its effects is on its way (the
  // relay's own threads may hold some rows for a moment); the case.
  v1::HandoverCase AwaitEffects(const std::string& name) {
    const absl::Time give_up = absl::Now() + absl::Seconds(10);
    for (;;) {
      Deliver();
      v1::HandoverCase c = Get(name);
      if (c.effects_pending() == 0 || absl::Now() > give_up) return c;
      absl::SleepFor(absl::Milliseconds(20));
    }
  }

  v1::HandoverCase Get(const std::string& name) {
    v1::GetHandoverCaseRequest req;
    req.set_name(name);
    v1::HandoverCase out;
    const grpc::Status s = stub_->GetHandoverCase(Context().get(), req, &out);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return out;
  }

  static kit::FakeClock* clock_;
  static kit::DbOptions* db_;
  static InProcessService* archives_;
  static InProcessService* billing_;
  static InProcessService* tickets_;
  static InProcessService* server_;
  static HandoverService* service_;
  static testing_support::Recount* sql_;
  static int items_;
  std::unique_ptr<v1::HandoverService::Stub> stub_;
  std::unique_ptr<archives::ArchivesService::Stub> archives_stub_;
  std::unique_ptr<billing::BillingService::Stub> billing_stub_;
  std::unique_ptr<tickets::TicketService::Stub> tickets_stub_;
};

kit::FakeClock* HandoverTest::clock_ = nullptr;
kit::DbOptions* HandoverTest::db_ = nullptr;
InProcessService* HandoverTest::archives_ = nullptr;
InProcessService* HandoverTest::billing_ = nullptr;
InProcessService* HandoverTest::tickets_ = nullptr;
InProcessService* HandoverTest::server_ = nullptr;
HandoverService* HandoverTest::service_ = nullptr;
testing_support::Recount* HandoverTest::sql_ = nullptr;
int HandoverTest::items_ = 0;

TEST_F(HandoverTest, AnAreaBCaseFromBookingToTheOwnersAccountKeysAndWarrantyTicket) {
  const v1::HandoverBatch batch = NewBatch();
  ASSERT_EQ(batch.checklist_size(), 8) << "the joint inspection's items by default";
  v1::HandoverCase c = NewCase(batch, "B-2-0801");
  EXPECT_EQ(c.state(), v1::NOT_SCHEDULED);
  const archives::Key front = NewKey("B-2-0801", "B2-0801-A1");

  ASSERT_TRUE(Schedule(&c, 8, 10).ok());
  ASSERT_TRUE(Inspect(&c, batch, /*defects=*/true).ok());
  EXPECT_EQ(c.state(), v1::RECTIFYING);
  ASSERT_EQ(c.defects_size(), 2);

  clock_->Set(At(15, 10));  // the re-inspection: the seepage is fixed
  v1::FixDefectRequest fix;
  fix.set_defect(c.defects(0).name());
  fix.set_etag(c.etag());
  fix.set_request_id(NewRequestId());
  ASSERT_TRUE(stub_->FixDefect(Context().get(), fix, &c).ok());
  ASSERT_TRUE(Accept(&c).ok());
  EXPECT_EQ(c.state(), v1::ACCEPTED);

  clock_->Set(At(16, 9));
  v1::CompleteHandoverRequest done;
  done.set_name(c.name());
  done.set_etag(c.etag());
  done.set_request_id(NewRequestId());
  done.set_handover_date("2026-06-16");
  done.add_keys(front.name());
  v1::MeterReading* water = done.add_opening_readings();
  water->set_meter("water");
  water->set_value("12.5");
  grpc::Status s = stub_->CompleteHandover(Context().get(), done, &c);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(c.state(), v1::COMPLETED);
  EXPECT_EQ(c.effects_pending(), 6)
      << "owner, occupancy, key, account, reading, one warranty ticket";
  const v1::HandoverCase delivered = AwaitEffects(c.name());
  EXPECT_EQ(delivered.effects_pending(), 0);
  EXPECT_TRUE(delivered.needs_attention().empty());

  // Billing: the owner pays from the handover day, for the batch's items.
  billing::GetAccountRequest ga;
  ga.set_name(absl::StrCat("sites/", kSite, "/accounts/B-2-0801"));
  billing::Account account;
  s = billing_stub_->GetAccount(Context().get(), ga, &account);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(account.fee_start(), "2026-06-16");
  EXPECT_EQ(account.payer_name(), "Liu Wei");
  EXPECT_EQ(account.billable_area(), "98.37");
  ASSERT_EQ(account.charge_items_size(), 1);
  EXPECT_EQ(account.charge_items(0), batch.charge_items(0));

  // Archives: the key is with the owner, the handover as its reference;
  // the owner is in the register.
  archives::GetKeyRequest gk;
  gk.set_name(front.name());
  archives::Key key;
  ASSERT_TRUE(archives_stub_->GetKey(Context().get(), gk, &key).ok());
  EXPECT_EQ(key.holder().kind(), archives::OWNER);
  EXPECT_EQ(key.holder().name(), "Liu Wei");
  EXPECT_EQ(key.reference(), absl::StrCat("handover ", c.name()));
  archives::ListPartiesRequest lp;
  lp.set_parent(absl::StrCat("sites/", kSite));
  lp.set_unit(absl::StrCat("sites/", kSite, "/units/B-2-0801"));
  lp.set_role(archives::UNIT_OWNER);
  archives::ListPartiesResponse owners;
  ASSERT_TRUE(archives_stub_->ListParties(Context().get(), lp, &owners).ok());
  ASSERT_EQ(owners.parties_size(), 1);
  EXPECT_EQ(owners.parties(0).display_name(), "Liu Wei");
  EXPECT_EQ(owners.parties(0).start_date(), "2026-06-16");

  // Tickets: the crack, still open at acceptance, is warranty work.
  tickets::ListTicketsRequest lt;
  lt.set_parent(absl::StrCat("sites/", kSite));
  lt.set_unit("B-2-0801");
  tickets::ListTicketsResponse repairs;
  ASSERT_TRUE(tickets_stub_->ListTickets(Context().get(), lt, &repairs).ok());
  ASSERT_EQ(repairs.tickets_size(), 1);
  EXPECT_EQ(repairs.tickets(0).kind(), tickets::REPAIR);
  EXPECT_EQ(repairs.tickets(0).category(), "warranty");
  EXPECT_EQ(repairs.tickets(0).assignee(), "Harbin No. 3 Construction");
  EXPECT_EQ(repairs.tickets(0).unit(), "B-2-0801");
  // The case links the crack to its ticket and shows the ticket's status.
  const v1::HandoverCase linked = Get(c.name());
  EXPECT_EQ(linked.defects(0).ticket(), "") << "the seepage was fixed before acceptance";
  EXPECT_EQ(linked.defects(1).ticket(), repairs.tickets(0).name());
  EXPECT_EQ(linked.defects(1).ticket_state(),
            tickets::TicketStatus_Name(repairs.tickets(0).status()));
  // The unit is the owner's now, empty until they move in.
  archives::GetUnitRequest gu;
  gu.set_name(absl::StrCat("sites/", kSite, "/units/B-2-0801"));
  archives::Unit unit;
  ASSERT_TRUE(archives_stub_->GetUnit(Context().get(), gu, &unit).ok());
  EXPECT_EQ(unit.occupancy(), archives::VACANT_OWNED);

  // The timeline, with who did what.
  v1::ListCaseEventsRequest le;
  le.set_parent(c.name());
  v1::ListCaseEventsResponse events;
  ASSERT_TRUE(stub_->ListCaseEvents(Context().get(), le, &events).ok());
  std::vector<std::string> types;
  for (const v1::CaseEvent& e : events.events()) types.push_back(e.type());
  EXPECT_EQ(types, (std::vector<std::string>{"created", "scheduled", "inspected", "defect_fixed",
                                             "accepted", "completed"}));
  EXPECT_EQ(events.events(5).from_state(), v1::ACCEPTED);
  EXPECT_EQ(events.events(5).to_state(), v1::COMPLETED);
  EXPECT_EQ(events.events(5).actor(), "user:test");
}

TEST_F(HandoverTest, EachEffectDeliveredTwiceIsAppliedOnce) {
  const v1::HandoverBatch batch = NewBatch();
  v1::HandoverCase c = NewCase(batch, "B-2-0802");
  ASSERT_TRUE(Schedule(&c, 9, 10).ok());
  ASSERT_TRUE(Inspect(&c, batch, /*defects=*/true).ok());
  ASSERT_TRUE(Accept(&c).ok());
  v1::CompleteHandoverRequest done;
  done.set_name(c.name());
  done.set_etag(c.etag());
  done.set_request_id(NewRequestId());
  ASSERT_TRUE(stub_->CompleteHandover(Context().get(), done, &c).ok());
  EXPECT_EQ(c.handover_date(), "2026-06-08") << "today, when the request names no day";
  ASSERT_EQ(AwaitEffects(c.name()).effects_pending(), 0);
  // As if every acknowledgement had been lost: each row is delivered again
  // with its request_id.
  const int64_t case_id = std::stoll(c.name().substr(c.name().rfind('/') + 1));
  const std::string mine =
      "id IN (SELECT outbox_id FROM handover_case_effects WHERE case_id = ?)";
  const int64_t rows = sql_->Scalar("SELECT COUNT(*) FROM outbox WHERE " + mine, {case_id});
  sql_->Exec("UPDATE outbox SET delivered_at = NULL, next_attempt_at = '2026-01-01' WHERE " + mine,
             {case_id});
  // Only an OK answer marks a row delivered again.
  EXPECT_EQ(AwaitEffects(c.name()).effects_pending(), 0);
  EXPECT_EQ(
      sql_->Scalar("SELECT COUNT(*) FROM outbox WHERE delivered_at IS NOT NULL AND " + mine,
                   {case_id}),
      rows);
  EXPECT_GT(rows, 0);
  EXPECT_EQ(Get(c.name()).effects_pending(), 0);

  billing::ListAccountsRequest la;
  la.set_parent(absl::StrCat("sites/", kSite));
  la.set_page_size(500);
  billing::ListAccountsResponse accounts;
  ASSERT_TRUE(billing_stub_->ListAccounts(Context().get(), la, &accounts).ok());
  int for_unit = 0;
  for (const billing::Account& a : accounts.accounts()) for_unit += a.unit() == "B-2-0802";
  EXPECT_EQ(for_unit, 1);
  archives::ListPartiesRequest lp;
  lp.set_parent(absl::StrCat("sites/", kSite));
  lp.set_unit(absl::StrCat("sites/", kSite, "/units/B-2-0802"));
  archives::ListPartiesResponse parties;
  ASSERT_TRUE(archives_stub_->ListParties(Context().get(), lp, &parties).ok());
  EXPECT_EQ(parties.parties_size(), 1);
  tickets::ListTicketsRequest lt;
  lt.set_parent(absl::StrCat("sites/", kSite));
  lt.set_unit("B-2-0802");
  tickets::ListTicketsResponse repairs;
  ASSERT_TRUE(tickets_stub_->ListTickets(Context().get(), lt, &repairs).ok());
  EXPECT_EQ(repairs.tickets_size(), 2) << "both defects were open at acceptance";
}

TEST_F(HandoverTest, APeerRefusingForGoodShowsOnTheCaseAndToTheAdmin) {
  const v1::HandoverBatch batch = NewBatch();
  v1::HandoverCase c = NewCase(batch, "B-2-1101");
  // The developer's sales office opened the unit's account in its own name.
  billing::CreateAccountRequest taken;
  taken.set_parent(absl::StrCat("sites/", kSite));
  taken.set_account_id("B-2-1101");
  taken.set_request_id(NewRequestId());
  taken.mutable_account()->set_building("B2");
  taken.mutable_account()->set_payer_name("Harbin Area B Development Co.");
  taken.mutable_account()->set_payer_kind(billing::OWNER);
  taken.mutable_account()->set_billable_area("98.37");
  taken.mutable_account()->set_fee_start("2026-06-01");
  billing::Account existing;
  ASSERT_TRUE(billing_stub_->CreateAccount(Context().get(), taken, &existing).ok());

  ASSERT_TRUE(Schedule(&c, 12, 9).ok());
  ASSERT_TRUE(Inspect(&c, batch, /*defects=*/false).ok());
  ASSERT_TRUE(Accept(&c).ok());
  v1::CompleteHandoverRequest done;
  done.set_name(c.name());
  done.set_etag(c.etag());
  done.set_request_id(NewRequestId());
  ASSERT_TRUE(stub_->CompleteHandover(Context().get(), done, &c).ok());
  EXPECT_EQ(c.state(), v1::COMPLETED) << "the case completes; billing's refusal is not the case's";
  const v1::HandoverCase after = AwaitEffects(c.name());
  EXPECT_EQ(after.effects_pending(), 0);
  ASSERT_EQ(after.needs_attention_size(), 1);
  EXPECT_EQ(after.needs_attention(0).rfind("billing CreateAccount: ", 0), 0u)
      << after.needs_attention(0);

  ::estate::api::v1::ListOutboxEntriesRequest lo;
  lo.set_parent(absl::StrCat("sites/", kSite));
  lo.set_state(::estate::api::v1::DEAD);
  ::estate::api::v1::ListOutboxEntriesResponse dead;
  ASSERT_TRUE(stub_->ListOutboxEntries(Context().get(), lo, &dead).ok());
  ASSERT_EQ(dead.entries_size(), 1);
  EXPECT_EQ(dead.entries(0).target(), "billing");
  EXPECT_EQ(dead.entries(0).last_code(), "ALREADY_EXISTS");
  // The payer the register and the keys now show is the owner; billing's
  // account still names the developer until finance sorts it out.
  billing::GetAccountRequest ga;
  ga.set_name(existing.name());
  billing::Account account;
  ASSERT_TRUE(billing_stub_->GetAccount(Context().get(), ga, &account).ok());
  EXPECT_EQ(account.payer_name(), "Harbin Area B Development Co.");
}

TEST_F(HandoverTest, AnInspectorIsNeverBookedTwiceForOneSlot) {
  const v1::HandoverBatch batch = NewBatch();
  v1::HandoverCase first = NewCase(batch, "B-2-0901");
  v1::HandoverCase second = NewCase(batch, "B-2-0902");
  ASSERT_TRUE(Schedule(&first, 10, 14).ok());
  const grpc::Status taken = Schedule(&second, 10, 14);
  EXPECT_EQ(taken.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(taken.error_message(),
            "appointment: the inspector is booked for that slot; choose another");
  EXPECT_TRUE(Schedule(&second, 10, 14, "inspector-qian").ok()) << "the other inspector is free";
  // The first owner moves to the afternoon: the morning slot is free again.
  ASSERT_TRUE(Schedule(&first, 10, 15).ok());
  v1::HandoverCase third = NewCase(batch, "B-2-0903");
  EXPECT_TRUE(Schedule(&third, 10, 14).ok());
}

TEST_F(HandoverTest, BadRequestsNameTheFieldAndWriteNothing) {
  const v1::HandoverBatch batch = NewBatch();
  v1::HandoverCase c = NewCase(batch, "B-2-1001");
  const int64_t events = sql_->Scalar("SELECT COUNT(*) FROM handover_case_events", {});

  const grpc::Status off_grid = Schedule(&c, 10, 8);  // before 09:00
  EXPECT_EQ(off_grid.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(off_grid.error_message().rfind("appointment.start_time:", 0), 0u)
      << off_grid.error_message();
  const grpc::Status early = Accept(&c);
  EXPECT_EQ(early.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(early.error_message(), "cannot accept a case that is NOT_SCHEDULED");

  v1::CreateHandoverCaseRequest req;
  req.set_parent(absl::StrCat("sites/", kSite));
  req.set_request_id(NewRequestId());
  req.mutable_handover_case()->set_batch(batch.name());
  req.mutable_handover_case()->set_unit("B-2-1002");
  req.mutable_handover_case()->set_owner_name("Zhang Min");
  req.mutable_handover_case()->set_owner_phone("call me");
  req.mutable_handover_case()->set_building("B2");
  req.mutable_handover_case()->set_billable_area("98.37");
  v1::HandoverCase out;
  grpc::Status s = stub_->CreateHandoverCase(Context().get(), req, &out);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(s.error_message().rfind("handover_case.owner_phone:", 0), 0u) << s.error_message();
  req.mutable_handover_case()->set_owner_phone("+86 139 0000 1002");
  req.mutable_handover_case()->set_unit("B-2-1001");
  s = stub_->CreateHandoverCase(Context().get(), req, &out);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::ALREADY_EXISTS);

  EXPECT_EQ(sql_->Scalar("SELECT COUNT(*) FROM handover_case_events", {}), events);
  EXPECT_EQ(Get(c.name()).state(), v1::NOT_SCHEDULED);
}

// Five cases of one batch moved on the fake clock through two weeks; every
// number below is counted by hand from the moves.
TEST_F(HandoverTest, TheReportCountsTheBatchWeekByWeek) {
  const v1::HandoverBatch batch = NewBatch();
  v1::HandoverCase a = NewCase(batch, "R-1-0101");
  v1::HandoverCase b = NewCase(batch, "R-1-0102");
  v1::HandoverCase c = NewCase(batch, "R-1-0103");
  NewCase(batch, "R-1-0104");  // never booked
  v1::HandoverCase e = NewCase(batch, "R-1-0105");
  // Slots no other test of the suite books.
  ASSERT_TRUE(Schedule(&a, 9, 11, "inspector-qian").ok());   // week of 06-08
  ASSERT_TRUE(Schedule(&b, 11, 15, "inspector-qian").ok());  // week of 06-08
  ASSERT_TRUE(Schedule(&c, 16, 11, "inspector-qian").ok());  // week of 06-15
  ASSERT_TRUE(Schedule(&e, 17, 16, "inspector-qian").ok());  // week of 06-15

  // a: inspected 06-09 with two defects, the seepage fixed two days later,
  // signed six days after the inspection, handed over 06-16 with the crack
  // left to a warranty ticket.
  clock_->Set(At(9, 10));
  ASSERT_TRUE(Inspect(&a, batch, /*defects=*/true).ok());
  clock_->Set(At(11, 10));
  v1::FixDefectRequest fix;
  fix.set_defect(a.defects(0).name());  // the seepage
  fix.set_etag(a.etag());
  fix.set_request_id(NewRequestId());
  ASSERT_TRUE(stub_->FixDefect(Context().get(), fix, &a).ok());
  clock_->Set(At(15, 10));
  ASSERT_TRUE(Accept(&a).ok());
  clock_->Set(At(16, 9));
  v1::CompleteHandoverRequest done;
  done.set_name(a.name());
  done.set_etag(a.etag());
  done.set_request_id(NewRequestId());
  done.set_handover_date("2026-06-16");
  grpc::Status s = stub_->CompleteHandover(Context().get(), done, &a);
  ASSERT_TRUE(s.ok()) << s.error_message();

  // b: inspected clean 06-10, signed a day later, handed over 06-12.
  clock_->Set(At(10, 14));
  ASSERT_TRUE(Inspect(&b, batch, /*defects=*/false).ok());
  clock_->Set(At(11, 14));
  ASSERT_TRUE(Accept(&b).ok());
  clock_->Set(At(12, 9));
  done.set_name(b.name());
  done.set_etag(b.etag());
  done.set_request_id(NewRequestId());
  done.set_handover_date("");
  s = stub_->CompleteHandover(Context().get(), done, &b);
  ASSERT_TRUE(s.ok()) << s.error_message();

  // c: inspected 06-16 with two defects, refused 06-17.
  clock_->Set(At(16, 10));
  ASSERT_TRUE(Inspect(&c, batch, /*defects=*/true).ok());
  clock_->Set(At(17, 10));
  v1::RefuseHandoverRequest refuse;
  refuse.set_name(c.name());
  refuse.set_etag(c.etag());
  refuse.set_request_id(NewRequestId());
  refuse.set_reason("the late-delivery compensation");
  ASSERT_TRUE(stub_->RefuseHandover(Context().get(), refuse, &c).ok());

  clock_->Set(At(30, 12));
  v1::GetHandoverReportRequest req;
  req.set_batch(batch.name());
  req.set_return_visit_after_days(14);
  v1::HandoverReport r;
  s = stub_->GetHandoverReport(Context().get(), req, &r);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(r.as_of(), "2026-06-30");
  EXPECT_EQ(r.cases(), 5);
  ASSERT_EQ(r.weeks_size(), 2);
  // appointments a, b; inspected a, b; signed b; completed b
  EXPECT_EQ(r.weeks(0).week(), "2026-06-08");
  EXPECT_EQ(r.weeks(0).appointments(), 2);
  EXPECT_EQ(r.weeks(0).inspected(), 2);
  EXPECT_EQ(r.weeks(0).accepted(), 1);
  EXPECT_EQ(r.weeks(0).refused(), 0);
  EXPECT_EQ(r.weeks(0).completed(), 1);
  // appointments c, e; inspected c; signed a; refused c; completed a
  EXPECT_EQ(r.weeks(1).week(), "2026-06-15");
  EXPECT_EQ(r.weeks(1).appointments(), 2);
  EXPECT_EQ(r.weeks(1).inspected(), 1);
  EXPECT_EQ(r.weeks(1).accepted(), 1);
  EXPECT_EQ(r.weeks(1).refused(), 1);
  EXPECT_EQ(r.weeks(1).completed(), 1);
  EXPECT_EQ(r.totals().appointments(), 4);
  EXPECT_EQ(r.totals().inspected(), 3);
  EXPECT_EQ(r.totals().accepted(), 2);
  EXPECT_EQ(r.totals().refused(), 1);
  EXPECT_EQ(r.totals().completed(), 2);

  ASSERT_EQ(r.not_taken_over_size(), 3);
  EXPECT_EQ(r.not_taken_over(0).unit(), "R-1-0103");
  EXPECT_EQ(r.not_taken_over(0).state(), v1::REFUSED);
  EXPECT_EQ(r.not_taken_over(1).unit(), "R-1-0104");
  EXPECT_EQ(r.not_taken_over(1).state(), v1::NOT_SCHEDULED);
  EXPECT_TRUE(r.not_taken_over(1).never_booked());
  EXPECT_EQ(r.not_taken_over(2).unit(), "R-1-0105");
  EXPECT_EQ(r.not_taken_over(2).state(), v1::SCHEDULED);
  EXPECT_FALSE(r.not_taken_over(2).never_booked());
  EXPECT_EQ(r.never_booked(), 1);

  // a's seepage fixed and crack ticketed; c's two open.
  ASSERT_EQ(r.defects_by_category_size(), 2);
  EXPECT_EQ(r.defects_by_category(0).key(), "walls");
  EXPECT_EQ(r.defects_by_category(0).open(), 1);
  EXPECT_EQ(r.defects_by_category(0).fixed(), 0);
  EXPECT_EQ(r.defects_by_category(0).ticketed(), 1);
  EXPECT_EQ(r.defects_by_category(1).key(), "waterproofing");
  EXPECT_EQ(r.defects_by_category(1).open(), 1);
  EXPECT_EQ(r.defects_by_category(1).fixed(), 1);
  EXPECT_EQ(r.defects_by_category(1).ticketed(), 0);
  ASSERT_EQ(r.defects_by_contractor_size(), 1);
  EXPECT_EQ(r.defects_by_contractor(0).key(), "Harbin No. 3 Construction");
  EXPECT_EQ(r.defect_totals().open(), 2);
  EXPECT_EQ(r.defect_totals().fixed(), 1);
  EXPECT_EQ(r.defect_totals().ticketed(), 1);
  // Signed 6.0 (a) and 1.0 (b) days after inspection; the seepage fixed in 2.0.
  EXPECT_EQ(r.median_days_inspection_to_acceptance(), "3.5");
  EXPECT_EQ(r.median_days_defect_to_fix(), "2.0");

  // Handed over 06-12 (b) and 06-16 (a): both at least 14 days before 06-30.
  ASSERT_EQ(r.return_visits_size(), 2);
  EXPECT_EQ(r.return_visits(0).unit(), "R-1-0102");
  EXPECT_EQ(r.return_visits(0).handover_date(), "2026-06-12");
  EXPECT_EQ(r.return_visits(0).days_since_handover(), 18);
  EXPECT_EQ(r.return_visits(0).warranty_tickets(), 0);
  EXPECT_EQ(r.return_visits(1).unit(), "R-1-0101");
  EXPECT_EQ(r.return_visits(1).days_since_handover(), 14);
  EXPECT_EQ(r.return_visits(1).warranty_tickets(), 1);
  EXPECT_EQ(r.return_visits(1).owner_name(), "Liu Wei");
  EXPECT_EQ(r.return_visits(1).owner_phone(), "+86 139 0000 0801");

  req.set_return_visit_after_days(15);
  ASSERT_TRUE(stub_->GetHandoverReport(Context().get(), req, &r).ok());
  ASSERT_EQ(r.return_visits_size(), 1);
  EXPECT_EQ(r.return_visits(0).unit(), "R-1-0102");
  req.clear_return_visit_after_days();
  ASSERT_TRUE(stub_->GetHandoverReport(Context().get(), req, &r).ok());
  EXPECT_EQ(r.return_visit_after_days(), 30);
  EXPECT_EQ(r.return_visits_size(), 0) << "neither was handed over by 05-31";

  req.set_return_visit_after_days(-1);
  s = stub_->GetHandoverReport(Context().get(), req, &r);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(s.error_message().rfind("return_visit_after_days:", 0), 0u) << s.error_message();
  req.set_return_visit_after_days(0);
  req.set_batch(absl::StrCat("sites/", kSite, "/handoverBatches/999999"));
  EXPECT_EQ(stub_->GetHandoverReport(Context().get(), req, &r).error_code(),
            grpc::StatusCode::NOT_FOUND);
}

constexpr char kBuyerListHeader[] =
    "unit,building,floor,number,area_m2,layout,occupancy,party_role,party_name,party_phone,"
    "party_id_number,party_email\n";

TEST_F(HandoverTest, ABuyerListBecomesTheBatchsCasesOnceAndAllOrNothing) {
  const v1::HandoverBatch batch = NewBatch();
  NewCase(batch, "I-1-0101");  // made by hand before the list came
  const auto run_import = [&](const std::string& batch_name, const std::string& rows,
                          const std::string& request_id, v1::ImportHandoverCasesResponse* out) {
    v1::ImportHandoverCasesRequest req;
    req.set_batch(batch_name);
    req.set_csv(absl::StrCat(kBuyerListHeader, rows));
    req.set_request_id(request_id);
    return stub_->ImportHandoverCases(Context().get(), req, out);
  };
  const std::string list =
      "I-1-0101,B2,1,0101,98.37,3b2b,vacant,owner,Liu Wei,139 0000 0101,,\n"
      "I-1-0102,B2,1,0102,89.5,2b1b,vacant,owner,Zhang Min,139 0000 0102,,\n"
      "I-1-0102,B2,1,0102,89.5,2b1b,vacant,tenant,Zhao Lei,139 0000 0112,,\n"
      "I-1-0103,B2,1,0103,102,3b2b,vacant,,Sun Li,'+86 139 0000 0103,,\n"
      "I-1-0104,B2,1,0104,98.37,3b2b,vacant,,,,,\n";
  const std::string first_id = NewRequestId();
  v1::ImportHandoverCasesResponse out;
  grpc::Status s = run_import(batch.name(), list, first_id, &out);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(out.cases_created(), 2) << "I-1-0102 and I-1-0103; I-1-0104 has no owner";
  EXPECT_EQ(out.cases_skipped(), 1) << "I-1-0101 had its case";

  v1::ListHandoverCasesRequest lc;
  lc.set_parent(absl::StrCat("sites/", kSite));
  lc.set_batch(batch.name());
  v1::ListHandoverCasesResponse cases;
  ASSERT_TRUE(stub_->ListHandoverCases(Context().get(), lc, &cases).ok());
  ASSERT_EQ(cases.cases_size(), 3);
  const v1::HandoverCase& imported = cases.cases(2);
  EXPECT_EQ(imported.unit(), "I-1-0103");
  EXPECT_EQ(imported.owner_name(), "Sun Li");
  EXPECT_EQ(imported.owner_phone(), "+86 139 0000 0103");
  EXPECT_EQ(imported.building(), "B2");
  EXPECT_EQ(imported.billable_area(), "102.00");
  EXPECT_EQ(imported.state(), v1::NOT_SCHEDULED);
  EXPECT_EQ(cases.cases(1).billable_area(), "89.50");
  v1::ListCaseEventsRequest le;
  le.set_parent(imported.name());
  v1::ListCaseEventsResponse events;
  ASSERT_TRUE(stub_->ListCaseEvents(Context().get(), le, &events).ok());
  ASSERT_EQ(events.events_size(), 1);
  EXPECT_EQ(events.events(0).type(), "created");
  EXPECT_EQ(events.events(0).detail(), "I-1-0103 (buyer list, line 5)");

  // The same request again: the first answer, nothing more written.
  const int64_t total = sql_->Scalar("SELECT COUNT(*) FROM handover_cases", {});
  ASSERT_TRUE(run_import(batch.name(), list, first_id, &out).ok());
  EXPECT_EQ(out.cases_created(), 2);
  EXPECT_EQ(out.cases_skipped(), 1);
  EXPECT_EQ(sql_->Scalar("SELECT COUNT(*) FROM handover_cases", {}), total);

  // The list updated with one more sale: only that unit is new.
  const std::string updated =
      absl::StrCat(list, "I-1-0105,B2,1,0105,98.37,3b2b,vacant,owner,Qian Yu,139 0000 0105,,\n");
  ASSERT_TRUE(run_import(batch.name(), updated, NewRequestId(), &out).ok());
  EXPECT_EQ(out.cases_created(), 1);
  EXPECT_EQ(out.cases_skipped(), 3);

  // A bad row fails the whole list, naming its line and column.
  const int64_t before = sql_->Scalar("SELECT COUNT(*) FROM handover_cases", {});
  s = run_import(batch.name(),
             "I-1-0106,B2,1,0106,98.37,3b2b,vacant,owner,Wu Hao,139 0000 0106,,\n"
             "I-1-0107,B2,1,0107,98.37,3b2b,vacant,owner,Zheng Yi,call me,,\n",
             NewRequestId(), &out);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(s.error_message(),
            "csv: line 3, party_phone: may hold only digits, spaces and + - ( )");
  EXPECT_EQ(sql_->Scalar("SELECT COUNT(*) FROM handover_cases", {}), before);

  // A unit whose case is in another batch is not moved, and nothing of
  // that list is written either.
  const v1::HandoverBatch other = NewBatch();
  s = run_import(other.name(),
             "I-1-0108,B2,1,0108,98.37,3b2b,vacant,owner,Feng Lan,139 0000 0108,,\n"
             "I-1-0102,B2,1,0102,89.5,2b1b,vacant,owner,Zhang Min,139 0000 0102,,\n",
             NewRequestId(), &out);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::ALREADY_EXISTS);
  EXPECT_EQ(s.error_message(),
            absl::StrCat("csv: line 3, unit: I-1-0102 already has a case in ", batch.name()));
  EXPECT_EQ(sql_->Scalar("SELECT COUNT(*) FROM handover_cases", {}), before);
}

}  // namespace
}  // namespace handover
