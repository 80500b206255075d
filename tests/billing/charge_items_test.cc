// Charge items corrected and retired (UpdateChargeItem), against the real
// database: one item that cannot be priced is named by the dry run with
// every account it would bill, and once corrected the site bills again.
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "tests/billing/billing_fixture.h"

namespace billing {
namespace {

class ChargeItemsTest : public BillingTest {
 protected:
  grpc::Status Update(const v1::ChargeItem& item, v1::ChargeItem* out) {
    v1::UpdateChargeItemRequest req;
    *req.mutable_charge_item() = item;
    req.set_request_id(NewRequestId());
    return stub().UpdateChargeItem(Context().get(), req, out);
  }
  grpc::Status DryRun(const std::string& site, const std::string& day, v1::BillRun* out) {
    v1::CreateBillRunRequest req;
    req.set_parent("sites/" + site);
    req.set_request_id(NewRequestId());
    req.mutable_bill_run()->set_cycle(v1::MONTHLY);
    req.mutable_bill_run()->set_period_date(day);
    return stub().CreateBillRun(Context().get(), req, out);
  }
  int64_t IdOf(const v1::ChargeItem& item) {
    return std::stoll(item.name().substr(item.name().rfind('/') + 1));
  }
};

TEST_F(ChargeItemsTest, TiersWhoseBoundsGoDownAreRefusedNamingTheTier) {
  const std::string site = NewSite();
  v1::ChargeItem item = Spec("water", v1::METERED, "");
  item.set_meter("water");
  item.clear_rate();
  const auto tier = [&](const char* up_to, const char* rate) {
    v1::Tier* t = item.add_tiers();
    t->set_up_to(up_to);
    t->set_rate(rate);
  };
  tier("10", "3.5");
  tier("5", "4.2");
  tier("", "5.6");
  v1::ChargeItem out;
  grpc::Status s = CreateItem(site, item, &out);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(s.error_message().rfind("charge_item.tiers[1].up_to: must be above", 0), 0u)
      << s.error_message();
  item.clear_tiers();
  tier("10", "3.5");
  s = CreateItem(site, item, &out);
  EXPECT_EQ(s.error_message().rfind("charge_item.tiers[0].up_to: the last tier", 0), 0u)
      << s.error_message();
  EXPECT_EQ(sql().Scalar("SELECT COUNT(*) FROM charge_items WHERE site = ?", {site}), 0);
}

TEST_F(ChargeItemsTest, AnItemThatCannotBePricedIsNamedWithEveryAccountUntilCorrected) {
  const std::string site = NewSite();
  const v1::ChargeItem fee = PerAreaItem(site, "property-fee", "2");
  const v1::ChargeItem water = WaterItem(site);
  for (const char* unit : {"5-101", "5-102", "5-103"})
    OpenAccount(site, unit, "5", "80", {fee, water});
  OpenAccount(site, "5-104", "5", "80", {fee});
  // Stored before the tier check existed: upTo 10, then 5.
  v1::ChargeItem bad = water;
  bad.clear_name();
  bad.clear_create_time();
  bad.clear_etag();
  bad.mutable_tiers(1)->set_up_to("5");
  bad.add_tiers()->set_rate("5.6");
  sql().Exec("UPDATE charge_items SET definition = ? WHERE id = ?",
             {bad.SerializeAsString(), IdOf(water)});

  v1::BillRun run;
  grpc::Status s = DryRun(site, "2026-03-01", &run);
  ASSERT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION) << s.error_message();
  EXPECT_NE(s.error_message().find("charge item water cannot be priced (tiers[1].up_to"),
            std::string::npos)
      << s.error_message();
  for (const char* unit : {"5-101", "5-102", "5-103"}) {
    EXPECT_NE(s.error_message().find(unit), std::string::npos) << unit << ": " << s.error_message();
  }
  EXPECT_EQ(s.error_message().find("5-104"), std::string::npos) << "it has no water";
  // The rest of the site's money still moves: late fees, payments.
  v1::AssessLateFeesRequest assess;
  assess.set_parent("sites/" + site);
  assess.set_request_id(NewRequestId());
  v1::LateFeeAssessment assessed;
  s = stub().AssessLateFees(Context().get(), assess, &assessed);
  EXPECT_TRUE(s.ok()) << s.error_message();

  // Corrected under its etag: a stale etag or a changed code is refused.
  v1::GetChargeItemRequest get;
  get.set_name(water.name());
  v1::ChargeItem current;
  ASSERT_TRUE(stub().GetChargeItem(Context().get(), get, &current).ok());
  v1::ChargeItem fixed = current;
  fixed.mutable_tiers(1)->set_up_to("20");
  fixed.set_etag("\"99\"");
  v1::ChargeItem out;
  EXPECT_EQ(Update(fixed, &out).error_code(), grpc::StatusCode::ABORTED);
  fixed.set_etag(current.etag());
  v1::ChargeItem renamed = fixed;
  renamed.set_code("water-2");
  s = Update(renamed, &out);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(s.error_message().rfind("charge_item.code", 0), 0u) << s.error_message();
  s = Update(fixed, &out);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_NE(out.etag(), current.etag());
  EXPECT_EQ(out.tiers(1).up_to(), "20");
  EXPECT_EQ(
      sql().Scalar("SELECT COUNT(*) FROM charge_item_versions WHERE item_id = ?", {IdOf(water)}), 1)
      << "the definition it replaced is kept";

  s = DryRun(site, "2026-03-01", &run);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(run.accounts(), 4);
}

TEST_F(ChargeItemsTest, ARetiredItemBillsUpToItsEnd) {
  const std::string site = NewSite();
  const v1::ChargeItem garden = FixedItem(site, "garden", "31");
  OpenAccount(site, "6-101", "6", "80", {garden});
  v1::ChargeItem retired = garden;
  retired.set_effective_to("2026-03-16");  // exclusive: 15 of March's 31 days
  v1::ChargeItem out;
  const grpc::Status s = Update(retired, &out);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(out.effective_to(), "2026-03-16");
  EXPECT_EQ(Draft(site, "2026-03-01").total_minor(), 1500);
  v1::BillRun april;
  ASSERT_TRUE(DryRun(site, "2026-04-01", &april).ok());
  EXPECT_EQ(april.lines(), 0) << "retired";
}

}  // namespace
}  // namespace billing
