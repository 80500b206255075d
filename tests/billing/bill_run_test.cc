// Bill runs against the real database: what a run charges, that a dry run
// writes nothing, and that no period is ever billed twice.
#include "absl/strings/str_cat.h"
#include "tests/billing/billing_fixture.h"

namespace billing {
namespace {

// Readings for an account's water meter.
grpc::Status Read(v1::BillingService::Stub& stub, const std::string& site, const std::string& unit,
                  const std::string& value, const std::string& day, bool replacement = false,
                  v1::MeterReading* out = nullptr) {
  v1::RecordMeterReadingRequest req;
  req.set_parent(absl::StrCat("sites/", site, "/accounts/", unit));
  req.set_request_id(NewRequestId());
  req.mutable_reading()->set_meter("water");
  req.mutable_reading()->set_value(value);
  req.mutable_reading()->set_read_on(day);
  req.mutable_reading()->set_replacement(replacement);
  v1::MeterReading tmp;
  return stub.RecordMeterReading(Context().get(), req, out ? out : &tmp);
}

TEST_F(BillingTest, MonthlyRunChargesAreaFixedAndMeteredFeesExactly) {
  const std::string site = NewSite();
  const v1::ChargeItem fee = PerAreaItem(site, "property-fee", "2.6");
  const v1::ChargeItem garden = FixedItem(site, "garden", "80");
  const v1::ChargeItem water = WaterItem(site);
  OpenAccount(site, "3-2-1502", "3", "98.37", {fee, garden, water});
  // Handed over on 17 March: pays 15 of March's 31 days.
  OpenAccount(site, "3-2-1503", "3", "98.37", {fee}, "2026-03-17");
  Today(absl::CivilDay(2026, 4, 1));  // March's readings are in
  ASSERT_TRUE(Read(stub(), site, "3-2-1502", "100", "2026-02-28").ok());
  ASSERT_TRUE(Read(stub(), site, "3-2-1502", "112.5", "2026-03-31").ok());

  const v1::BillRun draft = Draft(site, "2026-03-05");
  EXPECT_EQ(draft.state(), v1::DRAFT);
  EXPECT_EQ(draft.period(), "2026-03");
  EXPECT_EQ(draft.period_start(), "2026-03-01");
  EXPECT_EQ(draft.period_end(), "2026-04-01");
  // 2.6 x 98.37 = 255.762 yuan -> 25576 fen; 25576.2 x 15/31 = 12375.58 -> 12376;
  // 80 yuan; 12.5 m³ = 10 x 3.5 + 2.5 x 4.2 = 45.5 yuan.
  const int64_t expected = 25576 + 8000 + 4550 + 12376;
  EXPECT_EQ(draft.accounts(), 2);
  EXPECT_EQ(draft.lines(), 4);
  EXPECT_EQ(draft.total_minor(), expected);
  ASSERT_EQ(draft.by_building_size(), 1);
  EXPECT_EQ(draft.by_building(0).amount_minor(), expected);
  EXPECT_EQ(draft.by_charge_item_size(), 3);
  // A dry run writes no bill and no ledger entry.
  EXPECT_EQ(sql().Scalar("SELECT COUNT(*) FROM bills WHERE site = ?", {site}), 0);
  EXPECT_EQ(sql().Scalar("SELECT COUNT(*) FROM ledger WHERE site = ?", {site}), 0);

  const v1::BillRun done = Commit(draft);
  EXPECT_EQ(done.lines_issued(), 4);
  EXPECT_EQ(done.issued_minor(), expected);
  EXPECT_EQ(done.accounts_done(), 2);
  EXPECT_EQ(GetAccount(site, "3-2-1502").balance_minor(), 25576 + 8000 + 4550);
  EXPECT_EQ(GetAccount(site, "3-2-1503").balance_minor(), 12376);
  const std::vector<v1::Bill> bills = Bills(site, "3-2-1502");
  ASSERT_EQ(bills.size(), 1u);
  EXPECT_EQ(bills[0].amount_minor(), 25576 + 8000 + 4550);
  EXPECT_EQ(bills[0].state(), v1::OPEN);
  EXPECT_EQ(bills[0].lines_size(), 3);
  EXPECT_EQ(bills[0].due_date(), "2026-03-15");  // the earliest line's due date
  ExpectBooksBalance(site);
}

TEST_F(BillingTest, RunningAPeriodTwiceIssuesNothingTwice) {
  const std::string site = NewSite();
  const v1::ChargeItem fee = PerAreaItem(site, "property-fee", "2.6");
  for (int i = 0; i < 20; ++i) {
    OpenAccount(site, absl::StrCat("1-1-", 100 + i), "1", "88.5", {fee});
  }
  const v1::BillRun first = Bill(site, "2026-03-01");
  EXPECT_EQ(first.lines_issued(), 20);
  const int64_t lines = sql().Scalar("SELECT COUNT(*) FROM bill_lines WHERE site = ?", {site});
  const int64_t ledger = sql().Scalar("SELECT SUM(amount_minor) FROM ledger WHERE site = ?", {site});
  EXPECT_EQ(lines, 20);

  // A second draft of the same period sees every line issued already.
  const v1::BillRun again = Draft(site, "2026-03-20");
  EXPECT_EQ(again.lines(), 0);
  EXPECT_EQ(again.lines_skipped(), 20);
  const v1::BillRun second = Commit(again);
  EXPECT_EQ(second.lines_issued(), 0);
  EXPECT_EQ(second.lines_skipped(), 20);
  EXPECT_EQ(sql().Scalar("SELECT COUNT(*) FROM bill_lines WHERE site = ?", {site}), lines);
  EXPECT_EQ(sql().Scalar("SELECT SUM(amount_minor) FROM ledger WHERE site = ?", {site}), ledger);
  EXPECT_EQ(sql().Scalar("SELECT COUNT(*) FROM bills WHERE site = ?", {site}), 20);

  // Committing the same run again is refused; a retry of a commit is not.
  v1::CommitBillRunRequest req;
  req.set_name(first.name());
  req.set_request_id(NewRequestId());
  v1::BillRun out;
  EXPECT_EQ(stub().CommitBillRun(Context().get(), req, &out).error_code(),
            grpc::StatusCode::FAILED_PRECONDITION);
  // The next month is a new period.
  EXPECT_EQ(Bill(site, "2026-04-01").lines_issued(), 20);
  ExpectBooksBalance(site);
}

TEST_F(BillingTest, DraftLinesPageThroughEveryLineOnce) {
  const std::string site = NewSite();
  const v1::ChargeItem fee = PerAreaItem(site, "property-fee", "2.6");
  const v1::ChargeItem garden = FixedItem(site, "garden", "30");
  for (int i = 0; i < 9; ++i) {
    OpenAccount(site, absl::StrCat("2-", i), i % 2 ? "2" : "5", "70", {fee, garden});
  }
  const v1::BillRun draft = Draft(site, "2026-03-01");
  ASSERT_EQ(draft.lines(), 18);
  auto list_all = [&](const std::string& name) {
    std::vector<v1::RunLine> all;
    v1::ListBillRunLinesRequest req;
    req.set_name(name);
    req.set_page_size(5);  // pages split accounts' lines
    for (int guard = 0; guard < 20; ++guard) {
      v1::ListBillRunLinesResponse resp;
      const grpc::Status s = stub().ListBillRunLines(Context().get(), req, &resp);
      EXPECT_TRUE(s.ok()) << s.error_message();
      all.insert(all.end(), resp.lines().begin(), resp.lines().end());
      if (resp.next_page_token().empty()) break;
      req.set_page_token(resp.next_page_token());
    }
    return all;
  };
  std::vector<v1::RunLine> drafted = list_all(draft.name());
  ASSERT_EQ(drafted.size(), 18u);
  int64_t sum = 0;
  std::set<std::pair<std::string, std::string>> seen;
  for (const v1::RunLine& l : drafted) {
    sum += l.amount_minor();
    EXPECT_TRUE(seen.insert({l.account(), l.code()}).second) << l.account() << " " << l.code();
  }
  EXPECT_EQ(sum, draft.total_minor());
  // Once committed, the listing is of the lines issued, with the same total.
  Commit(draft);
  std::vector<v1::RunLine> issued = list_all(draft.name());
  ASSERT_EQ(issued.size(), 18u);
  int64_t issued_sum = 0;
  for (const v1::RunLine& l : issued) issued_sum += l.amount_minor();
  EXPECT_EQ(issued_sum, sum);
}

TEST_F(BillingTest, MeterReadingsMustNotGoBackwardsUnlessTheMeterWasReplaced) {
  const std::string site = NewSite();
  const v1::ChargeItem water = WaterItem(site);
  OpenAccount(site, "7-101", "7", "60", {water});
  EXPECT_EQ(Read(stub(), site, "7-101", "500.25", "2026-03-03").error_code(),
            grpc::StatusCode::INVALID_ARGUMENT)
      << "a reading dated tomorrow";
  Today(absl::CivilDay(2026, 4, 1));
  ASSERT_TRUE(Read(stub(), site, "7-101", "500.25", "2026-03-01").ok());
  EXPECT_EQ(Read(stub(), site, "7-101", "499", "2026-03-10").error_code(),
            grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(Read(stub(), site, "7-101", "abc", "2026-03-10").error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
  v1::MeterReading r;
  ASSERT_TRUE(Read(stub(), site, "7-101", "3", "2026-03-10", true, &r).ok());
  EXPECT_EQ(r.consumption(), "0");
  ASSERT_TRUE(Read(stub(), site, "7-101", "8.5", "2026-03-30", false, &r).ok());
  EXPECT_EQ(r.consumption(), "5.5");
  // Only 5.5 m³ were used in March: 5.5 x 3.5 = 19.25 yuan.
  const v1::BillRun run = Bill(site, "2026-03-01");
  EXPECT_EQ(run.issued_minor(), 1925);
  EXPECT_EQ(sql().Scalar("SELECT COUNT(*) FROM meter_readings WHERE site = ?", {site}), 3);
}

TEST_F(BillingTest, AReadingDatedTodayEastOfUtcIsNotFromTheFuture) {
  const std::string site = NewSite();
  OpenAccount(site, "7-102", "7", "60", {WaterItem(site)});
  // 01:00 on 3 March in Harbin (UTC+8) is still 2 March in UTC: the
  // handover team reads the meter and dates it the 3rd.
  clock().Set(absl::FromCivil(absl::CivilSecond(2026, 3, 2, 17, 0, 0), absl::UTCTimeZone()));
  EXPECT_TRUE(Read(stub(), site, "7-102", "12.5", "2026-03-03").ok());
  EXPECT_EQ(Read(stub(), site, "7-102", "13", "2026-03-04").error_code(),
            grpc::StatusCode::INVALID_ARGUMENT)
      << "the 4th is tomorrow everywhere";
}

TEST_F(BillingTest, SuspendedAccountsAndItemsOutsideTheirDatesAreNotBilled) {
  const std::string site = NewSite();
  const v1::ChargeItem fee = PerAreaItem(site, "property-fee", "2");
  v1::ChargeItem pool = Spec("pool", v1::FIXED, "50");
  pool.set_effective_from("2026-06-01");
  pool.set_effective_to("2026-09-01");
  v1::ChargeItem pool_item;
  ASSERT_TRUE(CreateItem(site, pool, &pool_item).ok());
  OpenAccount(site, "a", "1", "100", {fee, pool_item});
  v1::Account suspended = OpenAccount(site, "b", "1", "100", {fee});
  v1::UpdateAccountRequest up;
  *up.mutable_account() = suspended;
  up.mutable_account()->set_status(v1::SUSPENDED);
  up.set_request_id(NewRequestId());
  v1::Account updated;
  ASSERT_TRUE(stub().UpdateAccount(Context().get(), up, &updated).ok());
  EXPECT_EQ(updated.status(), v1::SUSPENDED);
  EXPECT_EQ(Bill(site, "2026-03-01").issued_minor(), 20000);  // a's fee only
  EXPECT_EQ(Bill(site, "2026-07-01").issued_minor(), 25000);  // and the pool in July
}

TEST_F(BillingTest, QuarterlyAndHeatingSeasonRunsUseTheirOwnPeriods) {
  const std::string site = NewSite();
  const v1::ChargeItem q = PerAreaItem(site, "property-fee-q", "7.8", v1::QUARTERLY);
  const v1::ChargeItem heat = PerAreaItem(site, "heating", "25", v1::HEATING_SEASON);
  OpenAccount(site, "h1", "1", "100", {q, heat});
  const v1::BillRun quarter = Draft(site, "2026-02-10", v1::QUARTERLY);
  EXPECT_EQ(quarter.period(), "2026-Q1");
  EXPECT_EQ(quarter.total_minor(), 78000);
  const v1::BillRun season = Draft(site, "2026-12-01", v1::HEATING_SEASON);
  EXPECT_EQ(season.period(), "heating-2026/27");
  EXPECT_EQ(season.total_minor(), 250000);
  // Outside the season there is no heating period to bill.
  v1::CreateBillRunRequest req;
  req.set_parent("sites/" + site);
  req.set_request_id(NewRequestId());
  req.mutable_bill_run()->set_cycle(v1::HEATING_SEASON);
  req.mutable_bill_run()->set_period_date("2026-07-01");
  v1::BillRun out;
  const grpc::Status s = stub().CreateBillRun(Context().get(), req, &out);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(s.error_message().find("bill_run.period_date"), std::string::npos);
}

TEST_F(BillingTest, BadChargeItemsAreRefusedNamingTheFieldAndNothingIsWritten) {
  const std::string site = NewSite();
  struct Case {
    std::string field;
    std::function<void(v1::ChargeItem&)> spoil;
  };
  const std::vector<Case> cases = {
      {"charge_item.code", [](v1::ChargeItem& i) { i.set_code("Property Fee"); }},
      {"charge_item.rate", [](v1::ChargeItem& i) { i.set_rate("-2.6"); }},
      {"charge_item.rate", [](v1::ChargeItem& i) { i.set_rate("2.6e3"); }},
      {"charge_item.rate", [](v1::ChargeItem& i) { i.set_rate("0"); }},
      {"charge_item.kind", [](v1::ChargeItem& i) { i.set_kind(v1::CHARGE_KIND_UNSPECIFIED); }},
      {"charge_item.cycle", [](v1::ChargeItem& i) { i.set_cycle(v1::CYCLE_UNSPECIFIED); }},
      {"charge_item.effective_from", [](v1::ChargeItem& i) { i.set_effective_from("2026-02-30"); }},
      {"charge_item.effective_to", [](v1::ChargeItem& i) { i.set_effective_to("2025-12-31"); }},
      {"charge_item.tiers", [](v1::ChargeItem& i) { i.add_tiers()->set_rate("1"); }},
      {"charge_item.late_fee.daily_rate",
       [](v1::ChargeItem& i) { i.mutable_late_fee()->set_daily_rate("0.5"); }},
      {"charge_item.display_name", [](v1::ChargeItem& i) { i.set_display_name(""); }},
  };
  for (const Case& c : cases) {
    v1::ChargeItem item = Spec("property-fee", v1::PER_AREA, "2.6");
    c.spoil(item);
    v1::ChargeItem out;
    const grpc::Status s = CreateItem(site, item, &out);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << c.field;
    EXPECT_EQ(s.error_message().rfind(c.field, 0), 0u) << c.field << " vs " << s.error_message();
  }
  EXPECT_EQ(sql().Scalar("SELECT COUNT(*) FROM charge_items WHERE site = ?", {site}), 0);
  // Codes are unique per site: a second item with a taken code already exists.
  PerAreaItem(site, "property-fee", "2.6");
  v1::ChargeItem out;
  const grpc::Status dup = CreateItem(site, Spec("property-fee", v1::FIXED, "1"), &out);
  EXPECT_EQ(dup.error_code(), grpc::StatusCode::ALREADY_EXISTS);
  EXPECT_EQ(dup.error_message(), "charge_item.code: already used by another charge item of the site");
}

}  // namespace
}  // namespace billing

namespace billing {
namespace {

TEST_F(BillingTest, ARunThatCannotFinishFailsWithItsReasonAndDoesNotBlockOthers) {
  const std::string site = NewSite();
  const v1::ChargeItem fee = PerAreaItem(site, "property-fee", "999999");
  const v1::Account a = OpenAccount(site, "big", "1", "10", {fee});
  OpenAccount(site, "small", "1", "10", {fee});
  const v1::BillRun draft = Draft(site, "2026-03-01");
  ASSERT_EQ(draft.lines(), 2);
  // After the draft, a mistyped area makes one line larger than any real
  // charge (99999 m² x 999999 yuan): the commit cannot finish.
  v1::UpdateAccountRequest up;
  *up.mutable_account() = a;
  up.mutable_account()->set_billable_area("99999");
  up.set_request_id(NewRequestId());
  v1::Account updated;
  ASSERT_TRUE(stub().UpdateAccount(Context().get(), up, &updated).ok());
  v1::CommitBillRunRequest commit;
  commit.set_name(draft.name());
  commit.set_request_id(NewRequestId());
  v1::BillRun run;
  ASSERT_TRUE(stub().CommitBillRun(Context().get(), commit, &run).ok());
  v1::GetBillRunRequest get;
  get.set_name(draft.name());
  for (int i = 0; i < 500 && run.state() == v1::COMMITTING; ++i) {
    absl::SleepFor(absl::Milliseconds(20));
    ASSERT_TRUE(stub().GetBillRun(Context().get(), get, &run).ok());
  }
  EXPECT_EQ(run.state(), v1::FAILED);
  EXPECT_NE(run.failure().find("property-fee"), std::string::npos) << run.failure();
  EXPECT_EQ(sql().Scalar("SELECT COUNT(*) FROM bill_lines WHERE site = ?", {site}), 0)
      << "the failed batch issued nothing";
  // Runs behind it still commit.
  const std::string other = NewSite();
  OpenAccount(other, "x", "1", "50", {PerAreaItem(other, "property-fee", "2")});
  EXPECT_EQ(Bill(other, "2026-03-01").lines_issued(), 1);
}

}  // namespace
}  // namespace billing
