// Late fees against the real database: grace, daily accrual charged once,
// the cap, and nothing on a disputed line.
#include "absl/strings/str_cat.h"
#include "tests/billing/billing_fixture.h"

namespace billing {
namespace {

class LateFeesTest : public BillingTest {
 protected:
  // 2 yuan/m² a month, due on the 15th, 0.05% a day after 10 days of grace,
  // at most 30 yuan per line.
  v1::ChargeItem FeeWithLateFee(const std::string& site) {
    v1::ChargeItem item = Spec("property-fee", v1::PER_AREA, "2");
    item.mutable_late_fee()->set_daily_rate("0.0005");
    item.mutable_late_fee()->set_grace_days(10);
    item.mutable_late_fee()->set_cap_minor(3000);
    v1::ChargeItem out;
    const grpc::Status s = CreateItem(site, item, &out);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return out;
  }
  v1::LateFeeAssessment Assess(const std::string& site, const std::string& as_of = "") {
    v1::AssessLateFeesRequest req;
    req.set_parent("sites/" + site);
    req.set_as_of(as_of);
    req.set_request_id(NewRequestId());
    v1::LateFeeAssessment out;
    const grpc::Status s = stub().AssessLateFees(Context().get(), req, &out);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return out;
  }
  int64_t LateFees(const std::string& site, const std::string& unit) {
    return sql().Scalar(
        "SELECT COALESCE(SUM(l.amount_minor), 0) FROM bill_lines l JOIN accounts a ON a.id = "
        "l.account_id WHERE a.site = ? AND a.unit = ? AND l.late_fee_of IS NOT NULL",
        {site, unit});
  }
};

TEST_F(LateFeesTest, AccrueDailyAfterGraceAreChargedOnceAndStopAtTheCapButNotWhileDisputed) {
  const std::string site = NewSite();
  const v1::ChargeItem fee = FeeWithLateFee(site);
  OpenAccount(site, "late", "1", "100", {fee});      // 20000 due 15 March
  OpenAccount(site, "prompt", "1", "100", {fee});
  OpenAccount(site, "disputed", "1", "100", {fee});
  Bill(site, "2026-03-01");
  Today(absl::CivilDay(2026, 3, 20));
  v1::Payment p;
  ASSERT_TRUE(Pay(site, "prompt", 20000, &p).ok());  // within the grace
  v1::HoldBillLineRequest hold;
  hold.set_name(Bills(site, "disputed")[0].lines(0).name());
  hold.set_reason_code("compensation-claim");
  hold.set_request_id(NewRequestId());
  v1::BillLine line;
  ASSERT_TRUE(stub().HoldBillLine(Context().get(), hold, &line).ok());

  // Within the grace (due 15 March + 10 days): nothing.
  Today(absl::CivilDay(2026, 3, 25));
  EXPECT_EQ(Assess(site).lines_charged(), 0);
  // Ten days past the grace: 20000 x 0.0005 x 10 = 100 fen.
  Today(absl::CivilDay(2026, 4, 4));
  v1::LateFeeAssessment a = Assess(site);
  EXPECT_EQ(a.overdue_lines(), 2);
  EXPECT_EQ(a.held_lines_skipped(), 1);
  EXPECT_EQ(a.lines_charged(), 1);
  EXPECT_EQ(a.total_minor(), 100);
  EXPECT_EQ(LateFees(site, "late"), 100);
  // The same day again charges nothing more.
  EXPECT_EQ(Assess(site).total_minor(), 0);
  EXPECT_EQ(LateFees(site, "late"), 100);
  // The dispute is settled after 15 days on hold (20 March to 4 April).
  v1::ReleaseBillLineRequest release;
  release.set_name(hold.name());
  release.set_request_id(NewRequestId());
  ASSERT_TRUE(stub().ReleaseBillLine(Context().get(), release, &line).ok());
  // Ten more days: 200 accrued on "late", 100 more charged; "disputed" pays
  // only for the days off hold past its grace: 30 - 15 - 10 = 5 days, 50 fen.
  Today(absl::CivilDay(2026, 4, 14));
  EXPECT_EQ(Assess(site).total_minor(), 150);
  EXPECT_EQ(LateFees(site, "late"), 200);
  EXPECT_EQ(LateFees(site, "disputed"), 50);
  // Months later the cap (30 yuan) holds.
  Today(absl::CivilDay(2027, 2, 28));  // 340 days x 10 fen, capped
  Assess(site);
  EXPECT_EQ(LateFees(site, "late"), 3000);
  EXPECT_EQ(LateFees(site, "prompt"), 0);
  EXPECT_EQ(LateFees(site, "disputed"), 3000);
  // A late fee is owed like any line, shows in the ledger and in reports
  // apart from the fee it is on.
  EXPECT_EQ(GetAccount(site, "late").balance_minor(), 23000);
  v1::ListLedgerEntriesRequest lr;
  lr.set_parent("sites/" + site + "/accounts/late");
  v1::ListLedgerEntriesResponse entries;
  ASSERT_TRUE(stub().ListLedgerEntries(Context().get(), lr, &entries).ok());
  EXPECT_EQ(entries.entries().rbegin()->kind(), v1::LATE_FEE);
  v1::GetCollectionReportRequest rr;
  rr.set_parent("sites/" + site);
  rr.set_period("2026-04");
  v1::CollectionReport r;
  ASSERT_TRUE(stub().GetCollectionReport(Context().get(), rr, &r).ok());
  ASSERT_EQ(r.all_lines().by_charge_item_size(), 1);
  EXPECT_EQ(r.all_lines().by_charge_item(0).key(), "property-fee:late-fee");
  EXPECT_EQ(r.all_lines().by_charge_item(0).billed_minor(), 250);
  ExpectBooksBalance(site);
  // Late fees are never charged on late fees, and a future day is refused.
  EXPECT_EQ(Assess(site).total_minor(), 0);
  v1::AssessLateFeesRequest future;
  future.set_parent("sites/" + site);
  future.set_as_of("2027-03-01");
  future.set_request_id(NewRequestId());
  v1::LateFeeAssessment out;
  EXPECT_EQ(stub().AssessLateFees(Context().get(), future, &out).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
}

}  // namespace
}  // namespace billing
