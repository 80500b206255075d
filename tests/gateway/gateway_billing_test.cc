// Billing behind the gateway, over real HTTP: routes come from the proto
// annotations, and moving money needs the finance role.
#include "absl/strings/str_cat.h"
#include "nlohmann/json.hpp"
#include "services/billing/billing_service.h"
#include "tests/gateway/gateway_fixture.h"
#include "tests/support/in_process.h"
#include "tests/support/test_db.h"

std::vector<kit::Migration> estate_billing_migrations();

namespace gateway_test {
namespace {

using nlohmann::json;

class GatewayBilling : public OneServiceTest {
 protected:
  static void SetUpTestSuite() {
    StartBehindGateway(
        "billing", "estate.billing.v1", estate_billing_migrations(),
        [](kit::ServiceHost& host) { billing::RegisterBilling(host, kit::RealClock()); });
  }
};

TEST_F(GatewayBilling, ACashierDayOverHttp) {
  const std::string admin = Token({"east"}, {"admin"}, "manager-zhao");
  const std::string staff = Token({"east"}, {"staff"}, "front-desk-li");
  const std::string finance = Token({"east"}, {"finance"}, "cashier-wu");
  const std::string viewer = Token({"east"}, {"viewer"}, "auditor");

  HttpResult r = Call(admin, "POST", "/v1/sites/east/chargeItems?requestId=" + RequestId(),
                      {{"code", "property-fee"},
                       {"displayName", "Property fee"},
                       {"kind", "PER_AREA"},
                       {"cycle", "MONTHLY"},
                       {"rate", "2.6"},
                       {"effectiveFrom", "2026-01-01"},
                       {"dueDays", 14}});
  ASSERT_EQ(r.status, 200) << r.body;
  const std::string item = Body(r)["name"];
  EXPECT_EQ(
      Call(staff, "POST", "/v1/sites/east/chargeItems?requestId=" + RequestId(), {{"code", "x"}})
          .status,
      403)
      << "only managers define charges";

  r = Call(staff, "POST", "/v1/sites/east/accounts?accountId=3-2-1502&requestId=" + RequestId(),
           {{"building", "3"},
            {"payerName", "Mr. Wang"},
            {"payerKind", "OWNER"},
            {"billableArea", "98.37"},
            {"feeStart", "2026-01-01"},
            {"chargeItems", {item}}});
  ASSERT_EQ(r.status, 200) << r.body;

  // A bill run is a money movement: staff may not, finance may.
  const json run_body = {{"cycle", "MONTHLY"}, {"periodDate", "2026-03-01"}};
  EXPECT_EQ(
      Call(staff, "POST", "/v1/sites/east/billRuns?requestId=" + RequestId(), run_body).status,
      403);
  r = Call(finance, "POST", "/v1/sites/east/billRuns?requestId=" + RequestId(), run_body);
  ASSERT_EQ(r.status, 200) << r.body;
  const std::string run = Body(r)["name"];
  EXPECT_EQ(Body(r)["totalMinor"], "25576");
  r = Call(finance, "POST", "/v1/" + run + ":commit", {{"requestId", RequestId()}});
  ASSERT_EQ(r.status, 200) << r.body;
  std::string state;
  for (int i = 0; i < 200 && state != "COMMITTED"; ++i) {
    r = Call(viewer, "GET", "/v1/" + run);
    ASSERT_EQ(r.status, 200) << r.body;
    state = Body(r)["state"];
    if (state != "COMMITTED") absl::SleepFor(absl::Milliseconds(25));
  }
  ASSERT_EQ(state, "COMMITTED");

  const json payment = {{"account", "sites/east/accounts/3-2-1502"},
                        {"method", "WECHAT"},
                        {"amountMinor", "10000"},
                        {"currencyCode", "CNY"}};
  EXPECT_EQ(Call(staff, "POST", "/v1/sites/east/payments?requestId=" + RequestId(), payment).status,
            403)
      << "staff taking money";
  const std::string rid = RequestId();
  r = Call(finance, "POST", "/v1/sites/east/payments?requestId=" + rid, payment);
  ASSERT_EQ(r.status, 200) << r.body;
  const json first = Body(r);
  r = Call(finance, "POST", "/v1/sites/east/payments?requestId=" + rid, payment);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(Body(r), first) << "a retried payment answers as the first and posts nothing";

  r = Call(viewer, "GET", "/v1/sites/east/accounts/3-2-1502");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(Body(r)["balanceMinor"], "15576");
  r = Call(viewer, "GET", "/v1/sites/east/collectionReport?period=2026-03");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(Body(r)["allLines"]["total"]["collectedMinor"], "10000");
  EXPECT_EQ(Body(r)["allLines"]["total"]["rateBasisPoints"],
            3910);  // 10000 / 25576

  // Bad money is a 400 naming the field; another site's data is a 403.
  json bad = payment;
  bad["amountMinor"] = "-5";
  r = Call(finance, "POST", "/v1/sites/east/payments?requestId=" + RequestId(), bad);
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(r.body.find("payment.amount_minor"), std::string::npos) << r.body;
  EXPECT_EQ(Call(finance, "GET", "/v1/sites/west/accounts/3-2-1502").status, 403);
}

TEST_F(GatewayBilling, ADepositChargedAndRefundedOverHttpByFinanceOnly) {
  const std::string admin = Token({"south"}, {"admin"}, "manager-zhao");
  const std::string staff = Token({"south"}, {"staff"}, "front-desk-li");
  const std::string finance = Token({"south"}, {"finance"}, "cashier-wu");
  HttpResult r = Call(admin, "POST", "/v1/sites/south/chargeItems?requestId=" + RequestId(),
                      {{"code", "renovation-deposit"},
                       {"displayName", "Renovation deposit"},
                       {"kind", "ONE_OFF"},
                       {"rate", "2000"},
                       {"effectiveFrom", "2026-01-01"},
                       {"dueDays", 7}});
  ASSERT_EQ(r.status, 200) << r.body;
  const std::string item = Body(r)["name"];
  r = Call(staff, "POST", "/v1/sites/south/accounts?accountId=B-2-0801&requestId=" + RequestId(),
           {{"building", "B2"},
            {"payerName", "Liu Wei"},
            {"payerKind", "OWNER"},
            {"billableArea", "98.5"},
            {"feeStart", "2026-07-01"}});
  ASSERT_EQ(r.status, 200) << r.body;

  const std::string account = "/v1/sites/south/accounts/B-2-0801";
  // Zero figures are written, not left out.
  r = Call(finance, "GET", account);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(Body(r)["balanceMinor"], "0") << r.body;
  EXPECT_EQ(Body(r)["creditMinor"], "0") << r.body;
  const json charge = {{"chargeItem", item},
                       {"reference", "renovationPermits/1/deposit"},
                       {"requestId", RequestId()}};
  EXPECT_EQ(Call(staff, "POST", account + ":charge", charge).status, 403) << "money: finance";
  r = Call(finance, "POST", account + ":charge", charge);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(Body(r)["amountMinor"], "200000");
  EXPECT_EQ(Body(r)["lines"][0]["reference"], "renovationPermits/1/deposit");
  json bad = charge;
  bad["amountMinor"] = "-1";
  bad["requestId"] = RequestId();
  r = Call(finance, "POST", account + ":charge", bad);
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(r.body.find("amount_minor"), std::string::npos) << r.body;

  const json refund = {{"reference", "renovationPermits/1/deposit"},
                       {"keepMinor", "50000"},
                       {"reason", "scratched lift door panel"},
                       {"requestId", RequestId()}};
  EXPECT_EQ(Call(staff, "POST", account + ":refundCharge", refund).status, 403);
  r = Call(finance, "POST", account + ":refundCharge", refund);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(Body(r)["cancelledMinor"], "150000") << "never paid: nothing to pay out";
  EXPECT_EQ(Body(r)["actor"], "user:cashier-wu");
  r = Call(finance, "GET", account);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(Body(r)["balanceMinor"], "50000") << "only what was kept is owed";
}

TEST_F(GatewayBilling, APortfolioOnlyCoversSitesTheCallerMaySee) {
  const std::string regional = Token({"east", "north"}, {"viewer"}, "regional-manager");
  HttpResult r = Call(regional, "GET",
                      "/v1/portfolio/collectionReport?period=2026-03&sites=sites/"
                      "east&sites=sites/north");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(Body(r)["sites"].size(), 2u);
  EXPECT_EQ(Body(r)["sites"][1]["site"], "sites/north");
  EXPECT_EQ(Call(regional, "GET",
                 "/v1/portfolio/collectionReport?period=2026-03&sites=sites/"
                 "east&sites=sites/west")
                .status,
            403)
      << "one site out of reach refuses the whole roll-up";
  EXPECT_EQ(Call(regional, "GET", "/v1/portfolio/collectionReport?period=2026-03").status, 400);
}

TEST_F(GatewayBilling, OpenApiListsTheBillingRoutes) {
  HttpResult r = Http(gateway_->http_port(), "GET", "/openapi.json");
  ASSERT_EQ(r.status, 200);
  const json doc = Body(r);
  for (const char* path :
       {"/v1/sites/{siteId}/payments", "/v1/sites/{siteId}/billRuns/{billRunId}:commit",
        "/v1/sites/{siteId}/bills/{billId}/lines/{lineId}:hold",
        "/v1/sites/{siteId}/collectionReport"}) {
    EXPECT_TRUE(doc["paths"].contains(path)) << path;
  }
}

}  // namespace
}  // namespace gateway_test
