#include "tests/billing/billing_fixture.h"

#include <thread>

#include "absl/strings/str_cat.h"

namespace billing {

kit::FakeClock* BillingTest::clock_ = nullptr;
kit::DbOptions* BillingTest::db_options_ = nullptr;
testing_support::InProcessService* BillingTest::server_ = nullptr;
v1::BillingService::Stub* BillingTest::stub_ = nullptr;
BillingService* BillingTest::service_ = nullptr;
testing_support::Recount* BillingTest::recount_ = nullptr;

void BillingTest::SetUpTestSuite() {
  clock_ = new kit::FakeClock(Start());
  db_options_ =
      new kit::DbOptions(testing_support::TestDatabase::Shared().FreshSchema("billing"));
  BillingOptions options;
  options.commit_batch = 7;  // several batches even for small sites
  options.job_interval = absl::Hours(1000);
  server_ = testing_support::InProcessService::Start(
                "billing", *db_options_, estate_billing_migrations(),
                [options](kit::ServiceHost& host) {
                  service_ = RegisterBilling(host, *clock_, options);
                })
                .release();
  ASSERT_NE(server_, nullptr);
  stub_ = v1::BillingService::NewStub(server_->channel()).release();
  recount_ = new testing_support::Recount(*db_options_);
}

void BillingTest::TearDownTestSuite() {
  delete recount_;
  delete stub_;
  delete server_;
}

std::string BillingTest::NewSite() {
  static int n = 0;
  return absl::StrCat("site-", ++n);
}

grpc::Status BillingTest::CreateItem(const std::string& site, const v1::ChargeItem& item,
                                     v1::ChargeItem* out) {
  v1::CreateChargeItemRequest req;
  req.set_parent("sites/" + site);
  req.set_request_id(NewRequestId());
  *req.mutable_charge_item() = item;
  return stub().CreateChargeItem(Context().get(), req, out);
}

v1::ChargeItem BillingTest::Spec(const std::string& code, v1::ChargeKind kind,
                                 const std::string& rate, v1::Cycle cycle, int due_days) {
  v1::ChargeItem item;
  item.set_code(code);
  item.set_display_name(kind == v1::PER_AREA ? "Property management fee"
                                             : "Private garden maintenance");
  item.set_kind(kind);
  item.set_cycle(cycle);
  item.set_rate(rate);
  item.set_effective_from("2026-01-01");
  item.set_due_days(due_days);
  return item;
}

v1::ChargeItem BillingTest::PerAreaItem(const std::string& site, const std::string& code,
                                        const std::string& rate, v1::Cycle cycle, int due_days) {
  v1::ChargeItem out;
  const grpc::Status s = CreateItem(site, Spec(code, v1::PER_AREA, rate, cycle, due_days), &out);
  EXPECT_TRUE(s.ok()) << s.error_message();
  return out;
}

v1::ChargeItem BillingTest::FixedItem(const std::string& site, const std::string& code,
                                      const std::string& rate, v1::Cycle cycle) {
  v1::ChargeItem out;
  const grpc::Status s = CreateItem(site, Spec(code, v1::FIXED, rate, cycle), &out);
  EXPECT_TRUE(s.ok()) << s.error_message();
  return out;
}

v1::ChargeItem BillingTest::WaterItem(const std::string& site) {
  v1::ChargeItem item;
  item.set_code("water");
  item.set_display_name("Water");
  item.set_kind(v1::METERED);
  item.set_cycle(v1::MONTHLY);
  item.set_meter("water");
  v1::Tier* t = item.add_tiers();
  t->set_up_to("10");
  t->set_rate("3.5");
  item.add_tiers()->set_rate("4.2");
  item.set_effective_from("2026-01-01");
  item.set_due_days(20);
  v1::ChargeItem out;
  const grpc::Status s = CreateItem(site, item, &out);
  EXPECT_TRUE(s.ok()) << s.error_message();
  return out;
}

v1::Account BillingTest::OpenAccount(const std::string& site, const std::string& unit,
                                     const std::string& building, const std::string& area,
                                     const std::vector<v1::ChargeItem>& items,
                                     const std::string& fee_start) {
  v1::CreateAccountRequest req;
  req.set_parent("sites/" + site);
  req.set_account_id(unit);
  req.set_request_id(NewRequestId());
  v1::Account* a = req.mutable_account();
  a->set_building(building);
  a->set_payer_name("Owner of " + unit);
  a->set_payer_kind(v1::OWNER);
  a->set_billable_area(area);
  a->set_fee_start(fee_start);
  for (const v1::ChargeItem& i : items) a->add_charge_items(i.name());
  v1::Account out;
  const grpc::Status s = stub().CreateAccount(Context().get(), req, &out);
  EXPECT_TRUE(s.ok()) << s.error_message();
  return out;
}

v1::BillRun BillingTest::Draft(const std::string& site, const std::string& period_date,
                               v1::Cycle cycle) {
  v1::CreateBillRunRequest req;
  req.set_parent("sites/" + site);
  req.set_request_id(NewRequestId());
  req.mutable_bill_run()->set_cycle(cycle);
  req.mutable_bill_run()->set_period_date(period_date);
  v1::BillRun out;
  const grpc::Status s = stub().CreateBillRun(Context().get(), req, &out);
  EXPECT_TRUE(s.ok()) << s.error_message();
  return out;
}

v1::BillRun BillingTest::Commit(const v1::BillRun& draft) {
  v1::CommitBillRunRequest req;
  req.set_name(draft.name());
  req.set_request_id(NewRequestId());
  v1::BillRun run;
  grpc::Status s = stub().CommitBillRun(Context().get(), req, &run);
  EXPECT_TRUE(s.ok()) << s.error_message();
  if (s.ok()) run = AwaitRun(draft.name());
  EXPECT_EQ(run.state(), v1::COMMITTED) << run.failure();
  return run;
}

v1::BillRun BillingTest::AwaitRun(const std::string& name) {
  v1::BillRun run;
  const absl::Time give_up = absl::Now() + absl::Seconds(60);
  for (;;) {
    v1::GetBillRunRequest get;
    get.set_name(name);
    const grpc::Status s = stub().GetBillRun(Context().get(), get, &run);
    EXPECT_TRUE(s.ok()) << s.error_message();
    if (!s.ok() || run.state() != v1::COMMITTING || absl::Now() > give_up) return run;
    absl::SleepFor(absl::Milliseconds(20));
  }
}

grpc::Status BillingTest::Pay(const std::string& site, const std::string& unit, int64_t amount,
                              v1::Payment* out, const std::vector<std::string>& bills,
                              const std::string& request_id, const std::string& currency) {
  v1::RecordPaymentRequest req;
  req.set_parent("sites/" + site);
  req.set_request_id(request_id.empty() ? NewRequestId() : request_id);
  v1::Payment* p = req.mutable_payment();
  p->set_account(absl::StrCat("sites/", site, "/accounts/", unit));
  p->set_method(v1::WECHAT);
  p->set_reference("wx-4200001234");
  p->set_amount_minor(amount);
  p->set_currency_code(currency);
  for (const std::string& b : bills) p->add_bills(b);
  return stub().RecordPayment(Context().get(), req, out);
}

v1::Account BillingTest::GetAccount(const std::string& site, const std::string& unit) {
  v1::GetAccountRequest req;
  req.set_name(absl::StrCat("sites/", site, "/accounts/", unit));
  v1::Account out;
  const grpc::Status s = stub().GetAccount(Context().get(), req, &out);
  EXPECT_TRUE(s.ok()) << s.error_message();
  return out;
}

std::vector<v1::Bill> BillingTest::Bills(const std::string& site, const std::string& unit) {
  v1::ListBillsRequest req;
  req.set_parent("sites/" + site);
  req.set_account(absl::StrCat("sites/", site, "/accounts/", unit));
  req.set_page_size(500);
  v1::ListBillsResponse out;
  const grpc::Status s = stub().ListBills(Context().get(), req, &out);
  EXPECT_TRUE(s.ok()) << s.error_message();
  return {out.bills().begin(), out.bills().end()};
}

void BillingTest::ExpectBooksBalance(const std::string& site) {
  for (const kit::Row& r : sql().Rows(
           "SELECT id, unit, credit_minor, balance_minor FROM accounts WHERE site = ?", {site})) {
    const int64_t id = r.Int(0);
    const int64_t ledger =
        sql().Scalar("SELECT COALESCE(SUM(amount_minor), 0) FROM ledger WHERE account_id = ?", {id});
    const int64_t owed = sql().Scalar(
        "SELECT COALESCE(SUM(amount_minor - paid_minor - written_off_minor), 0) "
        "FROM bill_lines WHERE account_id = ?",
        {id});
    EXPECT_EQ(ledger, owed - r.Int(2)) << "account " << r.Str(1) << ": ledger vs lines - credit";
    const int64_t mismatched = sql().Scalar(
        "SELECT COUNT(*) FROM bill_lines l WHERE l.account_id = ? AND l.paid_minor <> "
        "(SELECT COALESCE(SUM(a.amount_minor), 0) FROM allocations a WHERE a.line_id = l.id)",
        {id});
    EXPECT_EQ(mismatched, 0) << "account " << r.Str(1) << ": paid sums vs allocations";
    // Money in = allocated + kept as credit (payments net of reversals).
    const int64_t paid_in = sql().Scalar(
        "SELECT COALESCE(SUM(amount_minor), 0) FROM payments WHERE account_id = ? AND NOT reversed",
        {id});
    const int64_t from_payments = sql().Scalar(
        "SELECT COALESCE(SUM(amount_minor), 0) FROM allocations WHERE account_id = ?", {id});
    EXPECT_EQ(paid_in, from_payments + r.Int(2)) << "account " << r.Str(1)
                                                 << ": payments vs allocations + credit";
    // The balance is a column every ledger write moves: a recount of the
    // ledger finds it, and the API shows it.
    EXPECT_EQ(r.Int(3), ledger) << "account " << r.Str(1) << ": balance column vs ledger";
    EXPECT_EQ(GetAccount(site, r.Str(1)).balance_minor(), ledger) << "account " << r.Str(1);
  }
  // The report's running totals equal a recount of the lines and allocations.
  const std::vector<kit::Row> recount = sql().Rows(
      "SELECT report_period, building, item_id, late_fee_of IS NOT NULL AS late_fee, "
      "held, COUNT(*), SUM(amount_minor), SUM(paid_minor), SUM(written_off_minor) "
      "FROM bill_lines WHERE site = ? GROUP BY report_period, building, item_id, late_fee, held "
      "ORDER BY 1, 2, 3, 4, 5",
      {site});
  const std::vector<kit::Row> totals = sql().Rows(
      "SELECT period_label, building, item_id, late_fee, held, line_count, billed_minor, "
      "collected_minor, written_off_minor FROM collection_totals WHERE site = ? AND "
      "line_count <> 0 ORDER BY 1, 2, 3, 4, 5",
      {site});
  ASSERT_EQ(recount.size(), totals.size());
  for (size_t i = 0; i < totals.size(); ++i) {
    for (int col = 0; col < 9; ++col) {
      EXPECT_EQ(totals[i].Str(col), recount[i].Str(col)) << "collection totals row " << i;
    }
  }
  EXPECT_EQ(sql().Scalar("SELECT COUNT(*) FROM collection_totals WHERE site = ? AND line_count = 0 AND "
                         "(billed_minor <> 0 OR collected_minor <> 0 OR written_off_minor <> 0)",
                         {site}),
            0);
  EXPECT_EQ(sql().Scalar("SELECT COUNT(*) FROM allocations a JOIN bill_lines l ON l.id = "
                         "a.line_id WHERE a.site = ? AND NOT a.line_period_start <=> l.period_start",
                         {site}),
            0);
}

}  // namespace billing
