// Collection and arrears reports equal an independent recount of the rows.
#include <array>
#include <map>

#include "absl/strings/str_cat.h"
#include "absl/time/civil_time.h"
#include "tests/billing/billing_fixture.h"
#include "tests/support/in_process.h"

namespace billing {
namespace {

// collected / billed in basis points, half up: the test's own arithmetic.
int64_t Bp(int64_t collected, int64_t billed) {
  return billed == 0 ? 0 : (collected * 20000 + billed) / (2 * billed);
}

class ReportsTest : public BillingTest {
 protected:
  std::string site_;
  std::string AccountNameForTest(const std::string& unit) {
    return absl::StrCat("sites/", site_, "/accounts/", unit);
  }
  // Two buildings, two items, three months; some paid, some partly, one
  // disputed, one written off.
  std::string BusySite() {
    const std::string site = NewSite();
    const v1::ChargeItem fee = PerAreaItem(site, "property-fee", "2.6");
    const v1::ChargeItem garden = FixedItem(site, "garden", "45.5");
    for (int i = 0; i < 12; ++i) {
      OpenAccount(site, absl::StrCat(i % 3 + 1, "-", 100 + i), absl::StrCat(i % 3 + 1),
                  absl::StrCat(60 + i * 7, ".", i * 3), i % 4 ? std::vector{fee} : std::vector{fee, garden});
    }
    for (const char* day : {"2026-01-01", "2026-02-01", "2026-03-01"}) Bill(site, day);
    for (int i = 0; i < 12; ++i) {
      v1::Payment p;
      if (i % 5 == 0) continue;  // refused to pay
      EXPECT_TRUE(Pay(site, absl::StrCat(i % 3 + 1, "-", 100 + i), 15000 + 9000 * i, &p).ok());
    }
    const std::vector<v1::Bill> bills = Bills(site, "1-100");
    v1::HoldBillLineRequest hold;
    hold.set_name(bills[2].lines(0).name());
    hold.set_reason_code("compensation-claim");
    hold.set_request_id(NewRequestId());
    v1::BillLine line;
    EXPECT_TRUE(stub().HoldBillLine(Context().get(), hold, &line).ok());
    v1::WriteOffBillLineRequest wo;
    wo.set_name(Bills(site, "2-101")[2].lines(0).name());
    wo.set_reason("uncollectable");
    wo.set_request_id(NewRequestId());
    EXPECT_TRUE(stub().WriteOffBillLine(Context().get(), wo, &line).ok());
    site_ = site;
    return site;
  }
};

TEST_F(ReportsTest, CollectionReportEqualsASqlRecount) {
  const std::string site = BusySite();
  v1::GetCollectionReportRequest req;
  req.set_parent("sites/" + site);
  req.set_period("2026-03");
  v1::CollectionReport r;
  const grpc::Status s = stub().GetCollectionReport(Context().get(), req, &r);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(r.currency_code(), "CNY");

  auto recount = [&](const std::string& extra) {
    std::vector<kit::Row> rows = sql().Rows(
        "SELECT COALESCE(SUM(amount_minor), 0), COALESCE(SUM(paid_minor), 0), "
        "COALESCE(SUM(written_off_minor), 0) FROM bill_lines "
        "WHERE site = ? AND report_period = '2026-03'" + extra,
        {site});
    return std::array<int64_t, 3>{rows[0].Int(0), rows[0].Int(1), rows[0].Int(2)};
  };
  auto expect = [&](const v1::Collection& c, const std::array<int64_t, 3>& want,
                    const std::string& what) {
    EXPECT_EQ(c.billed_minor(), want[0]) << what;
    EXPECT_EQ(c.collected_minor(), want[1]) << what;
    EXPECT_EQ(c.written_off_minor(), want[2]) << what;
    EXPECT_EQ(c.outstanding_minor(), want[0] - want[1] - want[2]) << what;
    EXPECT_EQ(c.rate_basis_points(), Bp(want[1], want[0])) << what;
  };
  expect(r.all_lines().total(), recount(""), "all");
  expect(r.excluding_disputed().total(), recount(" AND NOT held"), "excluding disputed");
  expect(r.disputed(), recount(" AND held"), "disputed");
  EXPECT_EQ(r.disputed_lines(), 1);
  ASSERT_EQ(r.all_lines().by_building_size(), 3);
  for (const v1::Collection& b : r.all_lines().by_building()) {
    expect(b, recount(absl::StrCat(" AND building = '", b.key(), "'")), "building " + b.key());
  }
  ASSERT_EQ(r.all_lines().by_charge_item_size(), 2);
  for (const v1::Collection& i : r.all_lines().by_charge_item()) {
    expect(i,
           recount(absl::StrCat(" AND item_id = (SELECT id FROM charge_items WHERE site = '", site,
                                "' AND code = '", i.key(), "')")),
           "item " + i.key());
  }
  // Nothing was paid in March's dates (the fake clock stands on 2 March,
  // payments are dated that day): what was paid for January and February
  // counts as arrears recovered.
  const int64_t recovered = sql().Scalar(
      "SELECT COALESCE(SUM(a.amount_minor), 0) FROM allocations a JOIN bill_lines l ON l.id = "
      "a.line_id WHERE a.site = ? AND a.applied_on >= '2026-03-01' AND a.applied_on < "
      "'2026-04-01' AND l.report_period IN ('2026-01', '2026-02')",
      {site});
  EXPECT_GT(recovered, 0);
  EXPECT_EQ(r.arrears_recovered_minor(), recovered);
  ExpectBooksBalance(site);

  req.set_period("2026-13");
  EXPECT_EQ(stub().GetCollectionReport(Context().get(), req, &r).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
}

TEST_F(ReportsTest, ArrearsAgingEqualsARecountByDaysPastDue) {
  const std::string site = BusySite();
  const absl::CivilDay as_of(2026, 6, 20);
  // The test's own bucketing of every unsettled past-due line.
  std::map<std::string, std::array<int64_t, 5>> want;
  std::array<int64_t, 5> total{};
  for (const kit::Row& r : sql().Rows(
           "SELECT a.unit, l.due_date, l.held, l.amount_minor - l.paid_minor - "
           "l.written_off_minor FROM bill_lines l JOIN accounts a ON a.id = l.account_id "
           "WHERE l.site = ? AND l.amount_minor > l.paid_minor + l.written_off_minor",
           {site})) {
    absl::CivilDay due;
    ASSERT_TRUE(absl::ParseCivilTime(r.Str(1), &due));
    const int64_t days = as_of - due;
    if (days <= 0) continue;
    const int bucket = r.Int(2) ? 4 : days <= 30 ? 0 : days <= 90 ? 1 : days <= 180 ? 2 : 3;
    want[r.Str(0)][bucket] += r.Int(3);
    total[bucket] += r.Int(3);
  }
  v1::GetArrearsAgingRequest req;
  req.set_parent("sites/" + site);
  req.set_as_of("2026-06-20");
  req.set_page_size(4);
  std::map<std::string, v1::Aging> got;
  for (int guard = 0; guard < 10; ++guard) {
    v1::ArrearsAging page;
    const grpc::Status s = stub().GetArrearsAging(Context().get(), req, &page);
    ASSERT_TRUE(s.ok()) << s.error_message();
    EXPECT_EQ(page.total().days_0_30_minor(), total[0]);
    EXPECT_EQ(page.total().days_31_90_minor(), total[1]);
    EXPECT_EQ(page.total().days_91_180_minor(), total[2]);
    EXPECT_EQ(page.total().days_over_180_minor(), total[3]);
    EXPECT_EQ(page.total().disputed_minor(), total[4]);
    EXPECT_EQ(page.total().total_minor(), total[0] + total[1] + total[2] + total[3]);
    for (const v1::AccountAging& a : page.accounts()) {
      EXPECT_TRUE(got.emplace(a.account(), a.aging()).second) << "listed twice: " << a.account();
    }
    if (page.next_page_token().empty()) break;
    req.set_page_token(page.next_page_token());
  }
  ASSERT_EQ(got.size(), want.size());
  for (const auto& [unit, b] : want) {
    const v1::Aging& g = got[AccountNameForTest(unit)];
    EXPECT_EQ(g.days_0_30_minor(), b[0]) << unit;
    EXPECT_EQ(g.days_31_90_minor(), b[1]) << unit;
    EXPECT_EQ(g.days_91_180_minor(), b[2]) << unit;
    EXPECT_EQ(g.days_over_180_minor(), b[3]) << unit;
    EXPECT_EQ(g.disputed_minor(), b[4]) << unit;
  }
}

TEST_F(ReportsTest, APortfolioSumsItsSitesButNeverAcrossCurrencies) {
  const std::string a = BusySite();
  const std::string b = BusySite();
  // A third site bills in Hong Kong dollars.
  const std::string hk = NewSite();
  v1::GetBillingSettingsRequest get;
  get.set_name("sites/" + hk + "/billingSettings");
  v1::BillingSettings settings;
  ASSERT_TRUE(stub().GetBillingSettings(Context().get(), get, &settings).ok());
  v1::UpdateBillingSettingsRequest up;
  *up.mutable_settings() = settings;
  up.mutable_settings()->set_currency_code("HKD");
  up.set_request_id(NewRequestId());
  ASSERT_TRUE(stub().UpdateBillingSettings(Context().get(), up, &settings).ok());
  const v1::ChargeItem fee = PerAreaItem(hk, "management-fee", "3.1");
  OpenAccount(hk, "t1", "T", "55", {fee});
  Bill(hk, "2026-03-01");
  v1::Payment p;
  EXPECT_EQ(Pay(hk, "t1", 100, &p).error_code(), grpc::StatusCode::INVALID_ARGUMENT)
      << "CNY at an HKD site";
  ASSERT_TRUE(Pay(hk, "t1", 10000, &p, {}, "", "HKD").ok());

  v1::GetPortfolioReportRequest req;
  for (const std::string& site : {a, hk, b}) req.add_sites("sites/" + site);
  req.set_period("2026-03");
  v1::PortfolioReport r;
  const grpc::Status s = stub().GetPortfolioReport(Context().get(), req, &r);
  ASSERT_TRUE(s.ok()) << s.error_message();
  ASSERT_EQ(r.sites_size(), 3);
  std::map<std::string, std::array<int64_t, 2>> by_currency;
  for (const v1::SiteCollection& one : r.sites()) {
    const std::string site = one.site().substr(6);
    const std::vector<kit::Row> rows = sql().Rows(
        "SELECT COALESCE(SUM(amount_minor), 0), COALESCE(SUM(paid_minor), 0) FROM bill_lines "
        "WHERE site = ? AND report_period = '2026-03'",
        {site});
    EXPECT_EQ(one.all_lines().billed_minor(), rows[0].Int(0)) << site;
    EXPECT_EQ(one.all_lines().collected_minor(), rows[0].Int(1)) << site;
    EXPECT_EQ(one.all_lines().rate_basis_points(), Bp(rows[0].Int(1), rows[0].Int(0))) << site;
    by_currency[one.currency_code()][0] += rows[0].Int(0);
    by_currency[one.currency_code()][1] += rows[0].Int(1);
  }
  EXPECT_EQ(r.sites(1).currency_code(), "HKD");
  ASSERT_EQ(r.totals_size(), 2);
  for (const v1::Collection& t : r.totals()) {
    EXPECT_EQ(t.billed_minor(), by_currency[t.key()][0]) << t.key();
    EXPECT_EQ(t.collected_minor(), by_currency[t.key()][1]) << t.key();
  }
  req.add_sites("sites/" + a);
  EXPECT_EQ(stub().GetPortfolioReport(Context().get(), req, &r).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
}

TEST_F(ReportsTest, MetricsShowCollectionAndPassPromtool) {
  const std::string site = BusySite();
  ASSERT_TRUE(service().RefreshGauges().ok());
  const std::string text = testing_support::HttpGet(metrics_port(), "/metrics");
  int code = -1;
  EXPECT_EQ(testing_support::PromtoolCheck(text, &code), "");
  EXPECT_EQ(code, 0);
  for (const std::string& series :
       {absl::StrCat("estate_billing_collection_ratio{site=\"", site, "\"}"),
        absl::StrCat("estate_billing_arrears_minor{site=\"", site, "\"}"),
        absl::StrCat("estate_billing_collected_minor_total{charge_item=\"property-fee\",site=\"",
                     site, "\"}"),
        std::string("estate_billing_bill_lines_issued_total"),
        absl::StrCat("estate_billing_bill_runs_committing{site=\"", site, "\"} 0"),
        absl::StrCat("estate_billing_bill_run_commit_age_seconds{site=\"", site, "\"} 0"),
        std::string("estate_billing_bill_run_commit_seconds_count"),
        std::string("grpc_server_handled_total{grpc_code=\"OK\",grpc_method=\"RecordPayment\"")}) {
    EXPECT_NE(text.find(series), std::string::npos) << series;
  }
  // The gauges' values against a recount: this year's bills, and what the
  // periods that ended (January, February; it is 2 March) still owe.
  auto value = [&](const std::string& series) {
    const size_t at = text.find(series + " ");
    EXPECT_NE(at, std::string::npos) << series;
    return at == std::string::npos ? -1.0 : std::stod(text.substr(at + series.size() + 1));
  };
  const std::vector<kit::Row> year = sql().Rows(
      "SELECT SUM(amount_minor), SUM(paid_minor) FROM bill_lines WHERE site = ?", {site});
  EXPECT_NEAR(value(absl::StrCat("estate_billing_collection_ratio{site=\"", site, "\"}")),
              static_cast<double>(year[0].Int(1)) / static_cast<double>(year[0].Int(0)), 1e-9);
  EXPECT_EQ(value(absl::StrCat("estate_billing_arrears_minor{site=\"", site, "\"}")),
            static_cast<double>(sql().Scalar(
                "SELECT SUM(amount_minor - paid_minor - written_off_minor) FROM bill_lines "
                "WHERE site = ? AND NOT held AND report_period IN ('2026-01', '2026-02')",
                {site})));
}

}  // namespace
}  // namespace billing
