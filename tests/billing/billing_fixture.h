#ifndef ESTATE_TESTS_BILLING_BILLING_FIXTURE_H_
#define ESTATE_TESTS_BILLING_BILLING_FIXTURE_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "estate/billing/v1/billing.grpc.pb.h"
#include "gtest/gtest.h"
#include "services/billing/billing_service.h"
#include "services/kit/clock.h"
#include "tests/support/in_process.h"
#include "tests/support/recount.h"
#include "tests/support/test_db.h"

std::vector<kit::Migration> estate_billing_migrations();

namespace billing {

namespace v1 = ::estate::billing::v1;
using testing_support::Context;
using testing_support::NewRequestId;

// One billing service per test suite on a fresh schema of the private test
// MariaDB, with a fake clock (2026-03-02 09:00 UTC). Bill runs commit on the
// service's own thread, as in production; tests poll like a client would.
class BillingTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite();
  static void TearDownTestSuite();
  // Every test starts on 2026-03-02 09:00 UTC; a test may move the day.
  void TearDown() override { clock().Set(Start()); }
  static absl::Time Start() {
    return absl::FromCivil(absl::CivilSecond(2026, 3, 2, 9, 0, 0), absl::UTCTimeZone());
  }
  void Today(absl::CivilDay d) {
    clock().Set(absl::FromCivil(absl::CivilSecond(d.year(), d.month(), d.day(), 9, 0, 0),
                                absl::UTCTimeZone()));
  }

  v1::BillingService::Stub& stub() { return *stub_; }
  kit::FakeClock& clock() { return *clock_; }
  BillingService& service() { return *service_; }
  testing_support::Recount& sql() { return *recount_; }
  int metrics_port() { return server_->metrics_port(); }

  // A fresh site per test keeps tests independent inside one schema.
  std::string NewSite();

  // The definition of a charge item in effect from 2026-01-01.
  static v1::ChargeItem Spec(const std::string& code, v1::ChargeKind kind,
                             const std::string& rate, v1::Cycle cycle = v1::MONTHLY,
                             int due_days = 14);
  // A charge item; fails the test if it is refused.
  v1::ChargeItem PerAreaItem(const std::string& site, const std::string& code,
                             const std::string& rate, v1::Cycle cycle = v1::MONTHLY,
                             int due_days = 14);
  v1::ChargeItem FixedItem(const std::string& site, const std::string& code,
                           const std::string& rate, v1::Cycle cycle = v1::MONTHLY);
  v1::ChargeItem WaterItem(const std::string& site);  // 3.5 up to 10 m³, then 4.2
  grpc::Status CreateItem(const std::string& site, const v1::ChargeItem& item, v1::ChargeItem* out);

  v1::Account OpenAccount(const std::string& site, const std::string& unit,
                          const std::string& building, const std::string& area,
                          const std::vector<v1::ChargeItem>& items,
                          const std::string& fee_start = "2026-01-01");

  // A dry run, then its commit, waiting until the commit completes.
  v1::BillRun Draft(const std::string& site, const std::string& period_date,
                    v1::Cycle cycle = v1::MONTHLY);
  v1::BillRun Commit(const v1::BillRun& draft);
  v1::BillRun Bill(const std::string& site, const std::string& period_date,
                   v1::Cycle cycle = v1::MONTHLY) {
    return Commit(Draft(site, period_date, cycle));
  }

  grpc::Status Pay(const std::string& site, const std::string& unit, int64_t amount,
                   v1::Payment* out, const std::vector<std::string>& bills = {},
                   const std::string& request_id = "", const std::string& currency = "CNY");
  v1::Account GetAccount(const std::string& site, const std::string& unit);
  std::vector<v1::Bill> Bills(const std::string& site, const std::string& unit);

  // The books of every account of `site` agree: the balance (sum of the
  // ledger) equals what its lines still owe less its credit; each line's
  // paid sum equals its allocations; the API's balance equals the ledger.
  void ExpectBooksBalance(const std::string& site);

  // Direct debit: a valid mandate for `unit`, a batch, its items, a bank
  // file imported.
  void GiveMandate(const std::string& site, const std::string& unit, const std::string& expiry) {
    v1::UpdateAccountRequest req;
    *req.mutable_account() = GetAccount(site, unit);
    req.mutable_account()->mutable_mandate()->set_bank("Bank of Harbin");
    req.mutable_account()->mutable_mandate()->set_account_masked("6222 **** **** 1234");
    req.mutable_account()->mutable_mandate()->set_expiry(expiry);
    req.set_request_id(NewRequestId());
    v1::Account out;
    const grpc::Status s = stub().UpdateAccount(Context().get(), req, &out);
    ASSERT_TRUE(s.ok()) << s.error_message();
  }
  v1::DebitBatch NewBatch(const std::string& site, const std::string& as_of) {
    v1::CreateDebitBatchRequest req;
    req.set_parent("sites/" + site);
    req.mutable_debit_batch()->set_as_of(as_of);
    req.set_request_id(NewRequestId());
    v1::DebitBatch out;
    const grpc::Status s = stub().CreateDebitBatch(Context().get(), req, &out);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return out;
  }
  std::vector<v1::DebitItem> Items(const v1::DebitBatch& b) {
    v1::ListDebitItemsRequest req;
    req.set_parent(b.name());
    v1::ListDebitItemsResponse out;
    EXPECT_TRUE(stub().ListDebitItems(Context().get(), req, &out).ok());
    return {out.items().begin(), out.items().end()};
  }
  grpc::Status Import(const v1::DebitBatch& b, const std::vector<v1::DebitResult>& results,
                      v1::DebitBatch* out) {
    v1::ImportDebitResultsRequest req;
    req.set_name(b.name());
    req.set_request_id(NewRequestId());
    for (const v1::DebitResult& r : results) *req.add_results() = r;
    return stub().ImportDebitResults(Context().get(), req, out);
  }
  static v1::DebitResult Result(const v1::DebitItem& item, v1::DebitStatus status,
                                v1::DebitFailure failure = v1::DEBIT_FAILURE_UNSPECIFIED) {
    v1::DebitResult r;
    r.set_item(item.name());
    r.set_status(status);
    r.set_failure(failure);
    r.set_bank_reference("BOH-" + item.name().substr(item.name().rfind('/') + 1));
    return r;
  }

  // Polls (as a client would) until the run has left COMMITTING.
  v1::BillRun AwaitRun(const std::string& name);

  static kit::FakeClock* clock_;
  static kit::DbOptions* db_options_;
  static testing_support::InProcessService* server_;
  static v1::BillingService::Stub* stub_;
  static BillingService* service_;
  static testing_support::Recount* recount_;
};

}  // namespace billing

#endif  // ESTATE_TESTS_BILLING_BILLING_FIXTURE_H_
