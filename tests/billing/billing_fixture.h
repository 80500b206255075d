#ifndef ESTATE_TESTS_BILLING_BILLING_FIXTURE_H_
#define ESTATE_TESTS_BILLING_BILLING_FIXTURE_H_

#include <memory>
#include <string>
#include <vector>

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

  static kit::FakeClock* clock_;
  static kit::DbOptions* db_options_;
  static testing_support::InProcessService* server_;
  static v1::BillingService::Stub* stub_;
  static BillingService* service_;
  static testing_support::Recount* recount_;
};

}  // namespace billing

#endif  // ESTATE_TESTS_BILLING_BILLING_FIXTURE_H_
