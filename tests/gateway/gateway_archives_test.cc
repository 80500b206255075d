// Archives behind the gateway, over real HTTP: the gateway's roles reach the
// service, so a viewer sees personal data masked whatever it asks for, and a
// buyer list goes in as JSON and comes out as CSV.
#include "absl/strings/str_cat.h"
#include "nlohmann/json.hpp"
#include "services/archives/archives_service.h"
#include "tests/gateway/gateway_fixture.h"
#include "tests/support/in_process.h"
#include "tests/support/test_db.h"

std::vector<kit::Migration> estate_archives_migrations();

namespace gateway_test {
namespace {

using nlohmann::json;

class GatewayArchives : public OneServiceTest {
 protected:
  static void SetUpTestSuite() {
    StartBehindGateway(
        "archives", "estate.archives.v1", estate_archives_migrations(),
        [](kit::ServiceHost& host) { archives::RegisterArchives(host, kit::RealClock()); });
  }
};

TEST_F(GatewayArchives, TheFrontDeskRegisterOverHttp) {
  const std::string staff = Token({"east"}, {"staff"}, "front-desk-li");
  const std::string viewer = Token({"east"}, {"viewer"}, "auditor");
  const std::string manager = Token({"east"}, {"manager"}, "manager-zhao");

  HttpResult r = Call(staff, "POST", "/v1/sites/east/units:import",
                      {{"csv",
                        "unit,building,floor,area_m2,party_name,party_phone\n"
                        "B3-0101,B3,1,89.35,Zhou Li,13812345678\n"
                        "B3-0102,B3,1,bad,Wang Fang,13800000000\n"},
                       {"requestId", RequestId()}});
  ASSERT_EQ(r.status, 200) << r.body;
  ASSERT_EQ(Body(r)["errors"].size(), 1u) << r.body;
  EXPECT_EQ(Body(r)["errors"][0]["line"], 3);
  EXPECT_EQ(Body(r)["errors"][0]["column"], "area_m2");

  r = Call(staff, "POST", "/v1/sites/east/units:import",
           {{"csv",
             "unit,building,floor,area_m2,party_name,party_phone\n"
             "B3-0101,B3,1,89.35,Zhou Li,13812345678\n"},
            {"requestId", RequestId()}});
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(Body(r)["unitsCreated"], 1);

  r = Call(viewer, "GET", "/v1/sites/east/parties?unit=sites/east/units/B3-0101");
  ASSERT_EQ(r.status, 200) << r.body;
  const std::string party = Body(r)["parties"][0]["name"];
  EXPECT_EQ(Body(r)["parties"][0]["phone"], "138****5678");

  EXPECT_EQ(Call(viewer, "GET", "/v1/" + party + "?revealReason=curious").status, 403);
  r = Call(staff, "GET", "/v1/" + party + "?revealReason=owner%20called%20about%20a%20leak");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(Body(r)["phone"], "13812345678");

  EXPECT_EQ(Call(staff, "GET", "/v1/sites/east/personalDataReveals").status, 403)
      << "the reveal log is for managers";
  r = Call(manager, "GET", "/v1/sites/east/personalDataReveals");
  ASSERT_EQ(r.status, 200) << r.body;
  ASSERT_EQ(Body(r)["reveals"].size(), 1u);
  EXPECT_EQ(Body(r)["reveals"][0]["actor"], "user:front-desk-li");
  EXPECT_EQ(Body(r)["reveals"][0]["roles"], "staff");

  r = Call(viewer, "GET", "/v1/sites/east/units:export");
  ASSERT_EQ(r.status, 200) << r.body;
  const std::string csv = Body(r)["csv"];
  EXPECT_EQ(csv.rfind("unit,building,", 0), 0u) << csv;
  EXPECT_NE(csv.find("B3-0101,B3,1,,89.35"), std::string::npos) << csv;
  EXPECT_EQ(csv.find("13812345678"), std::string::npos) << csv;

  EXPECT_EQ(Call(staff, "POST", "/v1/sites/west/units:import",
                 {{"csv", "unit,building\nX,Y\n"}, {"requestId", RequestId()}})
                .status,
            403)
      << "another site";
}

TEST_F(GatewayArchives, LendingAFileOverHttp) {
  const std::string staff = Token({"east"}, {"staff"}, "clerk-zhou");
  HttpResult r = Call(staff, "POST", "/v1/sites/east/documents?requestId=" + RequestId(),
                      {{"category", "RELEASE_ORDER"},
                       {"title", "Release order 9"},
                       {"location", {{"building", "B3"}, {"box", "BOX-01"}}},
                       {"confidentiality", "INTERNAL"}});
  ASSERT_EQ(r.status, 200) << r.body;
  const std::string doc = Body(r)["name"];
  const json lend = {{"borrower", "Wang"},
                     {"purpose", "copy for the owner"},
                     {"dueTime", "2099-01-01T00:00:00Z"},
                     {"requestId", RequestId()}};
  r = Call(staff, "POST", "/v1/" + doc + ":lend", lend);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(Body(r)["lentBy"], "user:clerk-zhou");
  json again = lend;
  again["requestId"] = RequestId();
  EXPECT_EQ(Call(staff, "POST", "/v1/" + doc + ":lend", again).status, 400)
      << "FAILED_PRECONDITION: already lent";
  r = Call(staff, "GET", "/v1/sites/east/loans?openOnly=true");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(Body(r)["loans"].size(), 1u);
}

}  // namespace
}  // namespace gateway_test
