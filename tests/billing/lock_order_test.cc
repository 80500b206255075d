// Late-fee assessment, payments and reversals on one site at the same time,
// against the real database: the lock order (an account before its lines,
// accounts in id order) leaves nothing to deadlock, so no transaction waits
// out a lock or is retried, and the books still add up.
#include <atomic>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/synchronization/notification.h"
#include "tests/billing/billing_fixture.h"

namespace billing {
namespace {

class LockOrderTest : public BillingTest {
 protected:
  // The service's count of transactions retried after a deadlock or a lock
  // wait timeout (estate_db_transaction_retries_total).
  double Retries() {
    const std::string text = testing_support::HttpGet(metrics_port(), "/metrics");
    for (absl::string_view line : absl::StrSplit(text, '\n')) {
      if (!absl::ConsumePrefix(&line, "estate_db_transaction_retries_total ")) continue;
      double v = 0;
      EXPECT_TRUE(absl::SimpleAtod(line, &v)) << line;
      return v;
    }
    ADD_FAILURE() << "no estate_db_transaction_retries_total in /metrics";
    return -1;
  }
};

TEST_F(LockOrderTest, APaymentGoesThroughWhileAnAssessmentHoldsOtherAccounts) {
  const std::string site = NewSite();
  v1::ChargeItem item = Spec("property-fee", v1::PER_AREA, "2");
  item.mutable_late_fee()->set_daily_rate("0.0005");
  v1::ChargeItem fee;
  ASSERT_TRUE(CreateItem(site, item, &fee).ok());
  std::vector<std::string> units;
  for (int i = 0; i < 30; ++i) {
    units.push_back(absl::StrCat("8-", 100 + i));
    OpenAccount(site, units.back(), "8", "100", {fee});
  }
  Bill(site, "2026-01-01");
  Today(absl::CivilDay(2026, 4, 30));

  // The assessment stops inside its first batch (ten accounts locked).
  absl::Notification paused, go;
  std::atomic<int> batches{0};
  service().SetLateFeeBatchForTest(10, [&](const std::vector<int64_t>& ids) {
    EXPECT_LE(ids.size(), 10u);
    if (batches++ > 0) return;
    paused.Notify();
    go.WaitForNotification();
  });
  grpc::Status assessed;
  v1::LateFeeAssessment assessment;
  std::thread assessor([&] {
    v1::AssessLateFeesRequest req;
    req.set_parent("sites/" + site);
    req.set_request_id(NewRequestId());
    assessed = stub().AssessLateFees(Context().get(), req, &assessment);
  });
  paused.WaitForNotification();

  // An account of a later batch pays at once.
  v1::Payment p;
  const grpc::Status paid = Pay(site, units[25], 20000, &p);
  EXPECT_TRUE(paid.ok()) << paid.error_code() << " " << paid.error_message();
  // One the paused batch holds waits for it, and then goes through.
  absl::Notification held_paid;
  grpc::Status held;
  std::thread cashier([&] {
    v1::Payment q;
    held = Pay(site, units[3], 20000, &q);
    held_paid.Notify();
  });
  EXPECT_FALSE(held_paid.WaitForNotificationWithTimeout(absl::Milliseconds(200)))
      << "a payment went through on an account the assessment had locked";
  go.Notify();
  assessor.join();
  cashier.join();
  service().SetLateFeeBatchForTest(200, nullptr);

  ASSERT_TRUE(assessed.ok()) << assessed.error_message();
  EXPECT_TRUE(held.ok()) << held.error_message();
  EXPECT_EQ(batches.load(), 3);
  // The account paid during the assessment, before its batch, owes no fee.
  EXPECT_EQ(assessment.lines_charged(), 29);
  ExpectBooksBalance(site);
}

TEST_F(LockOrderTest, AssessmentPaymentsAndReversalsOfOneSiteRunTogetherWithoutDeadlock) {
  const std::string site = NewSite();
  v1::ChargeItem item = Spec("property-fee", v1::PER_AREA, "2");
  item.mutable_late_fee()->set_daily_rate("0.0005");
  item.mutable_late_fee()->set_grace_days(5);
  v1::ChargeItem fee;
  ASSERT_TRUE(CreateItem(site, item, &fee).ok());
  constexpr int kAccounts = 24;
  std::vector<std::string> units;
  for (int i = 0; i < kAccounts; ++i) {
    units.push_back(absl::StrCat("7-", 100 + i));
    OpenAccount(site, units.back(), "7", "100", {fee});
  }
  for (const char* day : {"2026-01-01", "2026-02-01", "2026-03-01"}) Bill(site, day);
  // Mid-April: every line of the quarter is overdue.
  Today(absl::CivilDay(2026, 4, 30));
  const double retries_before = Retries();

  std::atomic<int> failures{0};
  std::mutex mu;
  std::vector<std::string> payments;  // guarded by mu
  const auto fail = [&](const char* what, const grpc::Status& s) {
    ++failures;
    ADD_FAILURE() << what << ": " << s.error_code() << " " << s.error_message();
  };
  std::vector<std::thread> threads;
  // The assessor: one assessment per day of April, each a whole-site pass.
  threads.emplace_back([&] {
    for (int day = 1; day <= 20; ++day) {
      v1::AssessLateFeesRequest req;
      req.set_parent("sites/" + site);
      req.set_as_of(absl::StrCat("2026-04-", day < 10 ? "0" : "", day));
      req.set_request_id(NewRequestId());
      v1::LateFeeAssessment out;
      const grpc::Status s = stub().AssessLateFees(Context().get(), req, &out);
      if (!s.ok()) fail("AssessLateFees", s);
    }
  });
  // Three cashiers: payments on accounts taken in different orders, some
  // paying a named bill (its lines in another order than the oldest-first).
  for (int t = 0; t < 3; ++t) {
    threads.emplace_back([&, t] {
      for (int k = 0; k < 30; ++k) {
        const std::string& unit = units[(k * 7 + t * 5) % kAccounts];
        std::vector<std::string> named;
        if (k % 3 == 0) {
          const std::vector<v1::Bill> bills = Bills(site, unit);
          if (!bills.empty()) named.push_back(bills.back().name());
        }
        v1::Payment p;
        const grpc::Status s = Pay(site, unit, 3000 + 17 * k + t, &p, named);
        // A bill paid off meanwhile is refused by name; that is not a lock.
        if (!s.ok() && !(s.error_code() == grpc::StatusCode::INVALID_ARGUMENT && !named.empty())) {
          fail("RecordPayment", s);
        }
        if (s.ok()) {
          std::lock_guard<std::mutex> lock(mu);
          payments.push_back(p.name());
        }
      }
    });
  }
  // A clerk reversing payments as they come in (bounced debits).
  threads.emplace_back([&] {
    for (int k = 0; k < 25; ++k) {
      std::string name;
      {
        std::lock_guard<std::mutex> lock(mu);
        if (payments.size() > static_cast<size_t>(k)) name = payments[k];
      }
      if (name.empty()) {
        std::this_thread::yield();
        --k;
        continue;
      }
      v1::ReversePaymentRequest req;
      req.set_name(name);
      req.set_reason("bounced");
      req.set_request_id(NewRequestId());
      v1::Payment out;
      const grpc::Status s = stub().ReversePayment(Context().get(), req, &out);
      if (!s.ok()) fail("ReversePayment", s);
    }
  });
  for (std::thread& t : threads) t.join();

  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(Retries(), retries_before)
      << "a transaction deadlocked or waited out a lock and was retried";
  EXPECT_GT(sql().Scalar("SELECT COUNT(*) FROM bill_lines WHERE site = ? AND late_fee_of IS NOT "
                         "NULL",
                         {site}),
            0);
  EXPECT_EQ(sql().Scalar("SELECT COUNT(*) FROM payments WHERE site = ? AND reversed", {site}), 25);
  ExpectBooksBalance(site);
}

}  // namespace
}  // namespace billing
