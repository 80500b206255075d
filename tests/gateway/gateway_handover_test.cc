// Handover behind the gateway, with the three services completion writes to:
// an Area B case driven over HTTP from booking to completion, then read back
// where its effects belong (billing's account and a pro-rata dry run,
// archives' register and "who could enter", tickets' warranty repair); and
// the same with billing a real process that is SIGKILLed while the case
// completes, its effects counted in each service's own tables once it is back.
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/time/civil_time.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "nlohmann/json.hpp"
#include "services/archives/archives_service.h"
#include "services/handover/handover_service.h"
#include "services/kit/clock.h"
#include "services/tickets/tickets_service.h"
#include "tests/gateway/gateway_fixture.h"
#include "tests/support/in_process.h"
#include "tests/support/recount.h"
#include "tests/support/service_process.h"
#include "tests/support/test_db.h"

std::vector<kit::Migration> estate_archives_migrations();
std::vector<kit::Migration> estate_handover_migrations();
std::vector<kit::Migration> estate_tickets_migrations();

namespace gateway_test {
namespace {

using nlohmann::json;
using testing_support::InProcessService;
using testing_support::ServiceProcess;

constexpr char kContractor[] = "Harbin No. 3 Construction";

std::string BillingLog() { return absl::StrCat(ESTATE_BUILD_DIR, "/gateway_handover_billing.log"); }

absl::TimeZone Shanghai() {
  absl::TimeZone zone;
  EXPECT_TRUE(absl::LoadTimeZone("Asia/Shanghai", &zone));
  return zone;
}

std::string Day(absl::CivilDay d) { return absl::FormatCivilTime(d); }

// With a Z rather than +00:00: it goes into query strings, where '+' is a space.
std::string Rfc3339(absl::Time t) {
  return absl::FormatTime("%Y-%m-%d%ET%H:%M:%E*SZ", t, absl::UTCTimeZone());
}

absl::Time ParseRfc3339(const std::string& text) {
  absl::Time t;
  std::string err;
  EXPECT_TRUE(absl::ParseTime(absl::RFC3339_full, text, &t, &err)) << text << ": " << err;
  return t;
}

class GatewayHandover : public OneServiceTest {
 protected:
  static void SetUpTestSuite() {
    auto& db = testing_support::TestDatabase::Shared();
    archives_db_ = new kit::DbOptions(db.FreshSchema("gwho_archives"));
    tickets_db_ = new kit::DbOptions(db.FreshSchema("gwho_tickets"));
    billing_db_ = new kit::DbOptions(db.FreshSchema("gwho_billing"));
    handover_db_ = new kit::DbOptions(db.FreshSchema("gwho_handover"));
    archives_ = InProcessService::Start("archives", *archives_db_, estate_archives_migrations(),
                                        [](kit::ServiceHost& host) {
                                          archives::RegisterArchives(host, kit::RealClock(),
                                                                     absl::Hours(1000));
                                        })
                    .release();
    tickets_ = InProcessService::Start("tickets", *tickets_db_, estate_tickets_migrations(),
                                       [](kit::ServiceHost& host) {
                                         tickets::RegisterTickets(host, kit::RealClock(),
                                                                  absl::Hours(1000));
                                       })
                   .release();
    // Billing is the built binary, so the second test can kill it for real.
    billing_ = new ServiceProcess("billing", *billing_db_, BillingLog());
    ASSERT_TRUE(billing_->started());
    ASSERT_TRUE(billing_->AwaitServing(absl::Seconds(20))) << "see " << BillingLog();
    handover_ = InProcessService::Start(
                    "handover", *handover_db_, estate_handover_migrations(),
                    [](kit::ServiceHost& host) {
                      handover::HandoverOptions o;
                      grpc::ChannelArguments args;
                      args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 200);
                      o.peers = {{"archives", archives_->channel()},
                                 {"billing", grpc::CreateCustomChannel(
                                                 billing_->address(),
                                                 grpc::InsecureChannelCredentials(), args)},
                                 {"tickets", tickets_->channel()}};
                      o.relay_interval = absl::Milliseconds(100);
                      handover::RegisterHandover(host, kit::RealClock(), o);
                    })
                    .release();
    ASSERT_NE(handover_, nullptr);
    gateway::GatewayOptions o = TestOptions({{"archives", archives_->address()},
                                             {"billing", billing_->address()},
                                             {"handover", handover_->address()},
                                             {"tickets", tickets_->address()}},
                                            nullptr);
    o.only_packages = {"estate.archives.v1", "estate.billing.v1", "estate.handover.v1",
                       "estate.tickets.v1"};
    auto gw = gateway::Gateway::Start(std::move(o), &kit::RealClock());
    ASSERT_TRUE(gw.ok()) << gw.status();
    gateway_ = gw->release();
    for (int i = 0; i < 100 && testing_support::Http(gateway_->http_port(), "GET", "/readyz").status != 200;
         ++i) {
      absl::SleepFor(absl::Milliseconds(50));
    }
  }
  static void TearDownTestSuite() {
    OneServiceTest::TearDownTestSuite();  // the gateway first: it calls the others
    delete handover_;
    delete billing_;
    delete tickets_;
    delete archives_;
    for (kit::DbOptions* d : {archives_db_, tickets_db_, billing_db_, handover_db_}) delete d;
  }

  // The people of `site`: the handover team's manager sets things up, an
  // inspector moves the case, the cashier runs bills, ops read the outbox.
  void SetUp() override {
    manager_ = Token({site()}, {"manager"}, "manager-zhao");
    inspector_ = Token({site()}, {"staff"}, "inspector-zhao");
    finance_ = Token({site()}, {"finance"}, "cashier-wu");
    admin_ = Token({site()}, {"admin"}, "ops-sun");
  }
  virtual std::string site() const = 0;
  std::string sites() const { return "/v1/sites/" + site(); }

  json Post(const std::string& token, const std::string& target, json body) {
    const HttpResult r = Call(token, "POST", target, body);
    EXPECT_EQ(r.status, 200) << "POST " << target << ": " << r.body;
    return Body(r);
  }
  json Get(const std::string& token, const std::string& target) {
    const HttpResult r = Call(token, "GET", target);
    EXPECT_EQ(r.status, 200) << "GET " << target << ": " << r.body;
    return Body(r);
  }
  std::string Created(const std::string& token, const std::string& collection, const json& body,
                      const std::string& query = "") {
    return Post(token, sites() + "/" + collection + "?requestId=" + RequestId() + query, body)
        .value("name", "");
  }

  // Area B, phase 2: the bookable window around today, hour slots from
  // 09:00 to 17:00 in Harbin's zone, the property fee from handover.
  json NewBatch() {
    charge_item_ = Created(manager_, "chargeItems",
                           {{"code", "property-fee"},
                            {"displayName", "Property management fee"},
                            {"kind", "PER_AREA"},
                            {"cycle", "MONTHLY"},
                            {"rate", "2.6"},
                            {"effectiveFrom", "2026-01-01"},
                            {"dueDays", 14}});
    const absl::CivilDay today = absl::ToCivilDay(absl::Now(), Shanghai());
    return Post(manager_, sites() + "/handoverBatches?requestId=" + RequestId(),
                {{"displayName", "Area B, phase 2"},
                 {"windowStart", Day(today - 10)},
                 {"windowEnd", Day(today + 20)},
                 {"dayStart", "09:00"},
                 {"dayEnd", "17:00"},
                 {"slotMinutes", 60},
                 {"timeZone", "Asia/Shanghai"},
                 {"inspectors", {"inspector-zhao"}},
                 {"chargeItems", {charge_item_}}});
  }

  // A unit of the register with one key in the cabinet, its case booked
  // for tomorrow 10:00, inspected with a seepage and a crack, the seepage
  // fixed at re-inspection, and the owner's signature: ACCEPTED, ready to
  // complete. Sets key_.
  json AcceptedCase(const json& batch, const std::string& unit) {
    Created(manager_, "units",
            {{"building", "B2"}, {"floor", 8}, {"number", unit.substr(unit.rfind('-') + 1)}, {"areaCentiM2", "9837"}},
            "&unitId=" + unit);
    key_ = Created(manager_, "keys",
                   {{"kind", "UNIT_KEY"},
                    {"tag", unit + "-A1"},
                    {"unit", absl::StrCat("sites/", site(), "/units/", unit)},
                    {"keySet", "A"}});
    json c = Post(inspector_, sites() + "/handoverCases?requestId=" + RequestId(),
                  {{"batch", batch["name"]},
                   {"unit", unit},
                   {"ownerName", "Liu Wei"},
                   {"ownerPhone", "+86 139 0000 0801"},
                   {"building", "B2"},
                   {"billableArea", "98.37"}});
    EXPECT_EQ(c["state"], "NOT_SCHEDULED");
    const std::string name = c["name"];
    const absl::CivilDay tomorrow = absl::ToCivilDay(absl::Now(), Shanghai()) + 1;
    const absl::Time slot = absl::FromCivil(absl::CivilHour(tomorrow.year(), tomorrow.month(),
                                                            tomorrow.day(), 10),
                                            Shanghai());
    c = Post(inspector_, "/v1/" + name + ":schedule",
             {{"etag", c["etag"]},
              {"requestId", RequestId()},
              {"appointment",
               {{"inspector", "inspector-zhao"},
                {"startTime", Rfc3339(slot)},
                {"endTime", Rfc3339(slot + absl::Hours(1))}}}});
    EXPECT_EQ(c["state"], "SCHEDULED");
    json checklist = json::array();
    for (const json& item : batch["checklist"]) {
      const bool failed = item["code"] == "waterproofing" || item["code"] == "walls";
      checklist.push_back({{"code", item["code"]}, {"result", failed ? "FAIL" : "PASS"}});
    }
    const std::string due = Day(absl::ToCivilDay(absl::Now(), Shanghai()) + 14);
    c = Post(inspector_, "/v1/" + name + ":inspect",
             {{"etag", c["etag"]},
              {"requestId", RequestId()},
              {"checklist", checklist},
              {"defects",
               {{{"category", "waterproofing"},
                 {"location", "bathroom floor, seepage at the drain"},
                 {"contractor", kContractor},
                 {"dueDate", due}},
                {{"category", "walls"},
                 {"location", "master bedroom, crack above the window"},
                 {"contractor", kContractor},
                 {"dueDate", due}}}}});
    EXPECT_EQ(c["state"], "RECTIFYING");
    EXPECT_EQ(c["defects"].size(), 2u);
    c = Post(inspector_, "/v1/" + c["defects"][0]["name"].get<std::string>() + ":fix",
             {{"etag", c["etag"]}, {"requestId", RequestId()}});
    c = Post(inspector_, "/v1/" + name + ":accept",
             {{"etag", c["etag"]},
              {"requestId", RequestId()},
              {"acceptedBy", "Liu Wei"},
              {"signatureRef", "sig://handover/" + unit}});
    EXPECT_EQ(c["state"], "ACCEPTED");
    return c;
  }

  json Complete(const json& c, bool moves_in) {
    return Post(inspector_, "/v1/" + c["name"].get<std::string>() + ":complete",
                {{"etag", c["etag"]},
                 {"requestId", RequestId()},
                 {"ownerMovesIn", moves_in},
                 {"keys", {key_}},
                 {"openingReadings", {{{"meter", "water"}, {"value", "12.5"}}}},
                 {"household", {{{"displayName", "Chen Jing"}, {"relation", "spouse"}}}}});
  }

  // Reads the case until `done` holds for it (or 30 s pass); the last read.
  template <typename Pred>
  json AwaitCase(const std::string& name, Pred done) {
    const absl::Time give_up = absl::Now() + absl::Seconds(30);
    json c = Get(inspector_, "/v1/" + name);
    while (!done(c) && absl::Now() < give_up) {
      absl::SleepFor(absl::Milliseconds(50));
      c = Get(inspector_, "/v1/" + name);
    }
    return c;
  }
  static int Pending(const json& c) { return c.value("effectsPending", 0); }

  static kit::DbOptions* archives_db_;
  static kit::DbOptions* tickets_db_;
  static kit::DbOptions* billing_db_;
  static kit::DbOptions* handover_db_;
  static InProcessService* archives_;
  static InProcessService* tickets_;
  static InProcessService* handover_;
  static ServiceProcess* billing_;
  std::string manager_, inspector_, finance_, admin_;
  std::string charge_item_, key_;
};

kit::DbOptions* GatewayHandover::archives_db_ = nullptr;
kit::DbOptions* GatewayHandover::tickets_db_ = nullptr;
kit::DbOptions* GatewayHandover::billing_db_ = nullptr;
kit::DbOptions* GatewayHandover::handover_db_ = nullptr;
InProcessService* GatewayHandover::archives_ = nullptr;
InProcessService* GatewayHandover::tickets_ = nullptr;
InProcessService* GatewayHandover::handover_ = nullptr;
ServiceProcess* GatewayHandover::billing_ = nullptr;

class AreaBCase : public GatewayHandover {
 protected:
  std::string site() const override { return "harbin-b"; }
};

TEST_F(AreaBCase, FromBookingToTheOwnersAccountKeysAndWarrantyTicket) {
  const json batch = NewBatch();
  ASSERT_EQ(batch["checklist"].size(), 8u) << batch.dump();
  EXPECT_EQ(Call(inspector_, "POST", sites() + "/handoverBatches?requestId=" + RequestId(),
                 {{"displayName", "x"}})
                .status,
            403)
      << "batches are the manager's";
  const json accepted = AcceptedCase(batch, "B-2-0801");
  const std::string name = accepted["name"];
  const absl::Time before_completion = absl::Now();
  json c = Complete(accepted, /*moves_in=*/true);
  ASSERT_EQ(c["state"], "COMPLETED") << c.dump();
  EXPECT_EQ(Pending(c), 7)
      << "owner, spouse, occupancy, key, account, reading, one warranty ticket";
  c = AwaitCase(name, [](const json& x) { return Pending(x) == 0; });
  ASSERT_EQ(Pending(c), 0) << c.dump();
  EXPECT_TRUE(c["needsAttention"].empty()) << c.dump();
  const std::string handover_date = c["handoverDate"];
  EXPECT_EQ(handover_date, Day(absl::ToCivilDay(absl::Now(), Shanghai())))
      << "today in the batch's zone, when the request names no day";

  // Billing: the owner pays from the handover day, the month's first bill
  // pro rata: 2.6 a m² a month on 98.37 m² for the days left in the month.
  json account = Get(finance_, sites() + "/accounts/B-2-0801");
  EXPECT_EQ(account["feeStart"], handover_date);
  EXPECT_EQ(account["payerName"], "Liu Wei");
  EXPECT_EQ(account["chargeItems"], json::array({charge_item_}));
  const json readings = Get(finance_, sites() + "/accounts/B-2-0801/meterReadings");
  ASSERT_EQ(readings["readings"].size(), 1u) << readings.dump();
  EXPECT_EQ(readings["readings"][0]["meter"], "water");
  EXPECT_EQ(readings["readings"][0]["readOn"], handover_date);
  const json run = Post(finance_, sites() + "/billRuns?requestId=" + RequestId(),
                        {{"cycle", "MONTHLY"}, {"periodDate", handover_date}});
  EXPECT_EQ(run["state"], "DRAFT");
  absl::CivilDay fee_start;
  ASSERT_TRUE(absl::ParseCivilTime(handover_date, &fee_start));
  const absl::CivilMonth month(fee_start);
  const int64_t days_in_month = absl::CivilDay(month + 1) - absl::CivilDay(month);
  const int64_t days_paid = absl::CivilDay(month + 1) - fee_start;
  // 2.6 x 98.37 = 255.762 yuan = 25576.2 fen a month, rounded half up once.
  const int64_t num = 255762 * days_paid, den = 10 * days_in_month;
  EXPECT_EQ(run["accounts"], "1");
  EXPECT_EQ(run["totalMinor"], std::to_string((2 * num + den) / (2 * den))) << run.dump();

  // Archives: the owner and the spouse are in the register from the
  // handover day; the key is with the owner, and the owner is who could
  // enter the unit since the handover.
  json owners = Get(inspector_, sites() + "/parties?unit=sites/" + site() +
                                    "/units/B-2-0801&role=UNIT_OWNER");
  ASSERT_EQ(owners["parties"].size(), 1u) << owners.dump();
  EXPECT_EQ(owners["parties"][0]["displayName"], "Liu Wei");
  EXPECT_EQ(owners["parties"][0]["startDate"], handover_date);
  json household = Get(inspector_, sites() + "/parties?unit=sites/" + site() +
                                       "/units/B-2-0801&role=HOUSEHOLD_MEMBER");
  ASSERT_EQ(household["parties"].size(), 1u) << household.dump();
  EXPECT_EQ(household["parties"][0]["displayName"], "Chen Jing");
  const json access = Get(inspector_, sites() + "/unitAccess?unit=sites/" + site() +
                                          "/units/B-2-0801&startTime=" +
                                          Rfc3339(before_completion - absl::Hours(1)) +
                                          "&endTime=" + Rfc3339(absl::Now() + absl::Hours(1)));
  ASSERT_EQ(access["access"].size(), 1u) << access.dump();
  const json& custody = access["access"][0]["custody"];
  EXPECT_EQ(custody["holder"]["kind"], "OWNER");
  EXPECT_EQ(custody["holder"]["name"], "Liu Wei");
  EXPECT_EQ(custody["reference"], "handover " + name);
  EXPECT_GE(ParseRfc3339(custody["from"]), ParseRfc3339(c["completeTime"]));

  // Tickets: the crack, still open at acceptance, is the contractor's
  // warranty repair; the fixed seepage is not.
  const json repairs = Get(inspector_, sites() + "/tickets?unit=B-2-0801");
  ASSERT_EQ(repairs["tickets"].size(), 1u) << repairs.dump();
  EXPECT_EQ(repairs["tickets"][0]["kind"], "REPAIR");
  EXPECT_EQ(repairs["tickets"][0]["category"], "warranty");
  EXPECT_EQ(repairs["tickets"][0]["assignee"], kContractor);
  // The case links the crack to that ticket and shows where it stands.
  EXPECT_EQ(c["defects"][0]["ticket"], "") << "the seepage was fixed";
  EXPECT_EQ(c["defects"][1]["ticket"], repairs["tickets"][0]["name"]);
  EXPECT_EQ(c["defects"][1]["ticketState"], repairs["tickets"][0]["status"]);
  EXPECT_EQ(Get(inspector_, sites() + "/units/B-2-0801")["occupancy"], "OWNER_OCCUPIED")
      << "the owner moved in at handover";

  // The timeline names who moved the case.
  const json events = Get(inspector_, "/v1/" + name + "/events");
  ASSERT_EQ(events["events"].size(), 6u) << events.dump();
  EXPECT_EQ(events["events"][5]["type"], "completed");
  EXPECT_EQ(events["events"][5]["actor"], "user:inspector-zhao");
}

class BillingKilled : public GatewayHandover {
 protected:
  std::string site() const override { return "harbin-c"; }
};

TEST_F(BillingKilled, DuringCompletionEveryEffectLandsOnceWhenItReturns) {
  const json batch = NewBatch();
  const json accepted = AcceptedCase(batch, "B-3-0502");
  const std::string name = accepted["name"];
  const int port = billing_->grpc_port();
  billing_->Kill();

  json c = Complete(accepted, /*moves_in=*/false);
  ASSERT_EQ(c["state"], "COMPLETED") << "the case completes without billing: " << c.dump();
  // Archives and tickets take theirs; billing's two wait, tried and refused.
  c = AwaitCase(name, [](const json& x) { return Pending(x) == 2; });
  ASSERT_EQ(Pending(c), 2) << c.dump();
  // The operator's view: both wait for billing, the first refused by the
  // dead peer (the relay holds the rest back until billing answers health).
  json waiting;
  bool refused = false;
  const absl::Time give_up = absl::Now() + absl::Seconds(30);
  for (;;) {
    waiting = Get(admin_, sites() + "/handoverOutbox");
    refused = false;
    for (const json& e : waiting["entries"]) {
      refused = refused || (e.value("attempts", 0) >= 1 && e.value("lastCode", "") == "UNAVAILABLE");
    }
    if (refused || absl::Now() > give_up) break;
    absl::SleepFor(absl::Milliseconds(50));
  }
  EXPECT_TRUE(refused) << waiting.dump();
  ASSERT_EQ(waiting["entries"].size(), 2u) << waiting.dump();
  for (const json& e : waiting["entries"]) EXPECT_EQ(e["target"], "billing") << e.dump();
  EXPECT_EQ(Call(finance_, "GET", sites() + "/accounts/B-3-0502").status, 503)
      << "billing is down behind the gateway";

  billing_ = new ServiceProcess("billing", *billing_db_, BillingLog(), port);
  ASSERT_TRUE(billing_->AwaitServing(absl::Seconds(20))) << "see " << BillingLog();
  c = AwaitCase(name, [](const json& x) { return Pending(x) == 0; });
  ASSERT_EQ(Pending(c), 0) << c.dump();
  EXPECT_TRUE(c["needsAttention"].empty()) << c.dump();

  // Counted in each service's own tables.
  testing_support::Recount billing(*billing_db_), archives(*archives_db_), tickets(*tickets_db_);
  EXPECT_EQ(billing.Scalar("SELECT COUNT(*) FROM accounts WHERE site = ? AND unit = ?",
                           {site(), "B-3-0502"}),
            1);
  EXPECT_EQ(billing.Scalar("SELECT COUNT(*) FROM meter_readings r JOIN accounts a ON "
                           "a.id = r.account_id WHERE a.site = ? AND a.unit = ?",
                           {site(), "B-3-0502"}),
            1);
  EXPECT_EQ(archives.Scalar("SELECT COUNT(*) FROM parties WHERE site = ? AND unit_id = ?",
                            {site(), "B-3-0502"}),
            2)
      << "the owner and the spouse";
  EXPECT_EQ(archives.Scalar("SELECT COUNT(*) FROM key_custody WHERE site = ? AND reference = ?",
                            {site(), "handover " + name}),
            1);
  EXPECT_EQ(tickets.Scalar("SELECT COUNT(*) FROM tickets WHERE site = ? AND unit = ?",
                           {site(), "B-3-0502"}),
            1);
  EXPECT_EQ(archives.Scalar("SELECT COUNT(*) FROM register_history WHERE site = ? AND "
                            "action = 'occupancy_set' AND reference = ?",
                            {site(), "handover " + name}),
            1);
  const json account = Get(finance_, sites() + "/accounts/B-3-0502");
  EXPECT_EQ(account["feeStart"], c["handoverDate"]);
  EXPECT_EQ(Get(inspector_, sites() + "/units/B-3-0502")["occupancy"], "VACANT_OWNED");
}

}  // namespace
}  // namespace gateway_test
