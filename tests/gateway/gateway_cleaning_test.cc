// Cleaning behind the gateway, over real HTTP: the storekeeper's day. The
// three signatures of an issue slip come from three tokens, and the manager
// signature needs the manager role, which only the gateway can vouch for.
#include "absl/strings/str_cat.h"
#include "nlohmann/json.hpp"
#include "services/cleaning/cleaning_service.h"
#include "tests/gateway/gateway_fixture.h"
#include "tests/support/in_process.h"
#include "tests/support/test_db.h"

std::vector<kit::Migration> estate_cleaning_migrations();

namespace gateway_test {
namespace {

using nlohmann::json;

class GatewayCleaning : public OneServiceTest {
 protected:
  static std::string Create(const std::string& token, const std::string& target, const json& body) {
    const HttpResult r = Call(token, "POST", target + "?requestId=" + RequestId(), body);
    EXPECT_EQ(r.status, 200) << target << ": " << r.body;
    return json::parse(r.body, nullptr, false).value("name", "");
  }
  static void SetUpTestSuite() {
    StartBehindGateway("cleaning", "estate.cleaning.v1", estate_cleaning_migrations(),
                       [](kit::ServiceHost& host) {
                         cleaning::CleaningOptions options;
                         options.job_interval = absl::Hours(1000);
                         cleaning::RegisterCleaning(host, kit::RealClock(), options);
                       });
  }
};

TEST_F(GatewayCleaning, ASlipSignedByThreePeopleOverHttp) {
  const std::string manager = Token({"east"}, {"manager"}, "manager-zhao");
  const std::string cleaner = Token({"east"}, {"staff"}, "cleaner-li");
  const std::string monitor = Token({"east"}, {"staff"}, "monitor-wu");
  const std::string store = Create(manager, "/v1/sites/east/warehouses",
                                   {{"displayName", "Main store"}, {"kind", "STORE"}});
  const std::string team = Create(manager, "/v1/sites/east/teams", {{"displayName", "Team A"}});
  const std::string mops = Create(manager, "/v1/sites/east/items",
                                  {{"sku", "MOP-HEAD"},
                                   {"displayName", "Mop head"},
                                   {"unitOfMeasure", "piece"},
                                   {"reorderPoint", "5"}});
  EXPECT_EQ(Call(cleaner, "POST", "/v1/sites/east/items?requestId=" + RequestId(),
                 {{"sku", "X"}, {"displayName", "X"}, {"unitOfMeasure", "piece"}})
                .status,
            403)
      << "items are defined by managers";
  HttpResult r = Call(cleaner, "POST", "/v1/sites/east/stockMoves:receive",
                      {{"warehouse", store},
                       {"item", mops},
                       {"quantity", "10"},
                       {"unitCostMinor", "1250"},
                       {"supplier", "Harbin Supplies"},
                       {"requestId", RequestId()}});
  ASSERT_EQ(r.status, 200) << r.body;
  const std::string slip = Create(
      cleaner, "/v1/sites/east/issueSlips",
      {{"warehouse", store}, {"team", team}, {"lines", {{{"item", mops}, {"quantity", "4"}}}}});
  const auto sign = [&](const std::string& token, const char* role) {
    return Call(token, "POST", "/v1/" + slip + ":sign",
                {{"role", role}, {"requestId", RequestId()}});
  };
  ASSERT_EQ(sign(cleaner, "RECIPIENT").status, 200);
  ASSERT_EQ(sign(monitor, "MONITOR").status, 200);
  EXPECT_EQ(sign(Token({"east"}, {"staff"}, "clerk-sun"), "MANAGER").status, 403)
      << "a staff token cannot sign as manager";
  EXPECT_EQ(sign(cleaner, "MANAGER").status, 400) << "nor can the recipient sign twice";
  r = sign(manager, "MANAGER");
  ASSERT_EQ(r.status, 200) << r.body;
  const json signed_slip = json::parse(r.body);
  ASSERT_EQ(signed_slip["signatures"].size(), 3u);
  EXPECT_EQ(signed_slip["signatures"][2]["signer"], "user:manager-zhao");
  r = Call(cleaner, "POST", "/v1/" + slip + ":post", {{"requestId", RequestId()}});
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(json::parse(r.body)["valueMinor"], "5000");
  r = Call(cleaner, "GET", "/v1/sites/east/stock");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(json::parse(r.body)["levels"][0]["onHand"], "6");
  EXPECT_EQ(Call(cleaner, "GET", "/v1/sites/west/stock").status, 403) << "another site";
}

TEST_F(GatewayCleaning, AdminsSeeAndRetryDeadOutboxEntries) {
  // A rectification ticket tickets refused for good, as the relay leaves it.
  const std::string schema = "`" + db_->schema + "`";
  testing_support::AdminScalar(
      testing_support::TestDatabase::Shared(),
      "INSERT INTO " + schema + ".outbox (site, target, method, request, request_id, created_at,"
      " next_attempt_at, attempts, last_code, last_error, dead) VALUES ('west', 'tickets',"
      " '/estate.tickets.v1.TicketService/CreateTicket', '', ?, NOW(6), NOW(6), 1, 6,"
      " 'this household has already answered this survey', TRUE) RETURNING id",
      {RequestId()});
  const std::string admin = Token({"west"}, {"admin"}, "ops-ma");
  const std::string manager = Token({"west"}, {"manager"}, "manager-zhao");
  EXPECT_EQ(Call(manager, "GET", "/v1/sites/west/cleaningOutbox").status, 403)
      << "the outbox is for admins";
  HttpResult r = Call(admin, "GET", "/v1/sites/west/cleaningOutbox?state=DEAD");
  ASSERT_EQ(r.status, 200) << r.body;
  json list = Body(r);
  ASSERT_EQ(list["entries"].size(), 1u) << r.body;
  const json entry = list["entries"][0];
  EXPECT_EQ(entry["state"], "DEAD");
  EXPECT_EQ(entry["target"], "tickets");
  EXPECT_EQ(entry["lastCode"], "ALREADY_EXISTS");
  EXPECT_EQ(entry["lastError"], "this household has already answered this survey");
  const std::string name = entry["name"];
  EXPECT_EQ(name.rfind("sites/west/cleaningOutbox/", 0), 0u) << name;

  EXPECT_EQ(Call(manager, "POST", "/v1/" + name + ":retry", {{"requestId", RequestId()}})
                .status,
            403);
  r = Call(admin, "POST", "/v1/" + name + ":retry", {{"requestId", RequestId()}});
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(Body(r)["state"], "PENDING") << "due again; the relay takes it from here";
  EXPECT_TRUE(Body(Call(admin, "GET", "/v1/sites/west/cleaningOutbox?state=DEAD"))["entries"]
                  .empty());
  EXPECT_EQ(Call(admin, "POST", "/v1/sites/west/cleaningOutbox/999999:retry",
                 {{"requestId", RequestId()}})
                .status,
            404);
  EXPECT_EQ(Call(admin, "GET", "/v1/sites/west/cleaningOutbox?state=BOGUS").status, 400);
}

}  // namespace
}  // namespace gateway_test
