// Payments against the real database: idempotency under concurrency, exact
// balances, allocation order, credit, reversals, disputes and write-offs.
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/barrier.h"
#include "google/protobuf/util/message_differencer.h"
#include "tests/billing/billing_fixture.h"

namespace billing {
namespace {

using google::protobuf::util::MessageDifferencer;

class PaymentsTest : public BillingTest {
 protected:
  // A site with one account billed for January, February and March
  // (100 m² x 2 yuan = 20000 fen a month, due on the 15th).
  std::string BilledSite(const std::string& unit = "9-901") {
    const std::string site = NewSite();
    const v1::ChargeItem fee = PerAreaItem(site, "property-fee", "2");
    OpenAccount(site, unit, "9", "100", {fee});
    for (const char* day : {"2026-01-01", "2026-02-01", "2026-03-01"}) Bill(site, day);
    return site;
  }
  int64_t Payments(const std::string& site) {
    return sql().Scalar("SELECT COUNT(*) FROM payments WHERE site = ?", {site});
  }
};

TEST_F(PaymentsTest, TwentyConcurrentRetriesOfOnePaymentPostItOnce) {
  const std::string site = BilledSite();
  const std::string request_id = NewRequestId();
  constexpr int kThreads = 20;
  std::vector<v1::Payment> results(kThreads);
  std::vector<grpc::Status> statuses(kThreads);
  absl::Barrier* start = new absl::Barrier(kThreads);
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&, i] {
      if (start->Block()) delete start;
      statuses[i] = Pay(site, "9-901", 25000, &results[i], {}, request_id);
    });
  }
  for (std::thread& t : threads) t.join();
  for (int i = 0; i < kThreads; ++i) {
    ASSERT_TRUE(statuses[i].ok()) << statuses[i].error_message();
    EXPECT_TRUE(MessageDifferencer::Equals(results[i], results[0])) << i;
  }
  EXPECT_EQ(Payments(site), 1);
  EXPECT_EQ(sql().Scalar("SELECT COUNT(*) FROM ledger WHERE site = ? AND kind = ?",
                         {site, static_cast<int>(v1::PAYMENT)}),
            1);
  EXPECT_EQ(GetAccount(site, "9-901").balance_minor(), 60000 - 25000);
  ExpectBooksBalance(site);
}

TEST_F(PaymentsTest, ConcurrentDifferentPaymentsLeaveExactBalances) {
  const std::string site = BilledSite();
  constexpr int kThreads = 8;
  constexpr int kEach = 5;
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&, i] {
      for (int k = 0; k < kEach; ++k) {
        v1::Payment p;
        // Uneven amounts so that lines are split and credit is left over.
        if (!Pay(site, "9-901", 1000 + 37 * i + k, &p).ok()) ++failures;
      }
    });
  }
  for (std::thread& t : threads) t.join();
  ASSERT_EQ(failures.load(), 0);
  int64_t total = 0;
  for (int i = 0; i < kThreads; ++i) {
    for (int k = 0; k < kEach; ++k) total += 1000 + 37 * i + k;
  }
  EXPECT_EQ(Payments(site), kThreads * kEach);
  const v1::Account a = GetAccount(site, "9-901");
  EXPECT_EQ(a.balance_minor(), 60000 - total);
  EXPECT_EQ(a.credit_minor(), std::max<int64_t>(0, total - 60000));
  EXPECT_EQ(sql().Scalar("SELECT SUM(paid_minor) FROM bill_lines WHERE site = ?", {site}),
            std::min<int64_t>(total, 60000));
  ExpectBooksBalance(site);
}

TEST_F(PaymentsTest, BadAmountsAreRefusedNamingTheFieldAndWriteNothing) {
  const std::string site = BilledSite();
  struct Case {
    int64_t amount;
    std::string currency;
    std::string field;
  };
  const std::vector<Case> cases = {
      {-100, "CNY", "payment.amount_minor"},
      {0, "CNY", "payment.amount_minor"},
      {INT64_MAX, "CNY", "payment.amount_minor"},
      {1000000000001, "CNY", "payment.amount_minor"},
      {100, "USD", "payment.currency_code"},  // the site bills in CNY
      {100, "cny", "payment.currency_code"},
      {100, "", "payment.currency_code"},
  };
  for (const Case& c : cases) {
    v1::Payment out;
    const grpc::Status s = Pay(site, "9-901", c.amount, &out, {}, "", c.currency);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << c.amount << c.currency;
    EXPECT_EQ(s.error_message().rfind(c.field, 0), 0u) << s.error_message();
  }
  v1::Payment out;
  const grpc::Status bad_bill = Pay(site, "9-901", 100, &out, {"sites/other/bills/1"});
  EXPECT_EQ(bad_bill.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(Pay(site, "no-such-unit", 100, &out).error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(Payments(site), 0);
  EXPECT_EQ(sql().Scalar("SELECT COUNT(*) FROM allocations WHERE site = ?", {site}), 0);
  EXPECT_EQ(sql().Scalar("SELECT COUNT(*) FROM ledger WHERE site = ? AND kind <> ?",
                         {site, static_cast<int>(v1::CHARGE)}),
            0);
  // The same request_id with a different body is refused, not replayed.
  const std::string rid = NewRequestId();
  ASSERT_TRUE(Pay(site, "9-901", 100, &out, {}, rid).ok());
  EXPECT_EQ(Pay(site, "9-901", 200, &out, {}, rid).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(Payments(site), 1);
  ExpectBooksBalance(site);
}

TEST_F(PaymentsTest, MoneyGoesToTheOldestLinesFirstUnlessThePayerNamesBills) {
  const std::string site = BilledSite();
  std::vector<v1::Bill> bills = Bills(site, "9-901");
  ASSERT_EQ(bills.size(), 3u);  // January, February, March in id order
  v1::Payment p;
  ASSERT_TRUE(Pay(site, "9-901", 25000, &p).ok());
  ASSERT_EQ(p.allocations_size(), 2);
  EXPECT_EQ(p.allocations(0).line(), bills[0].lines(0).name());
  EXPECT_EQ(p.allocations(0).amount_minor(), 20000);
  EXPECT_EQ(p.allocations(1).line(), bills[1].lines(0).name());
  EXPECT_EQ(p.allocations(1).amount_minor(), 5000);
  // Naming March pays March before February's rest.
  ASSERT_TRUE(Pay(site, "9-901", 20000, &p, {bills[2].name()}).ok());
  ASSERT_EQ(p.allocations_size(), 1);
  EXPECT_EQ(p.allocations(0).line(), bills[2].lines(0).name());
  bills = Bills(site, "9-901");
  EXPECT_EQ(bills[0].state(), v1::PAID);
  EXPECT_EQ(bills[1].state(), v1::PARTIALLY_PAID);
  EXPECT_EQ(bills[2].state(), v1::PAID);
  // A fully paid bill cannot be named.
  EXPECT_EQ(Pay(site, "9-901", 100, &p, {bills[0].name()}).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
  ExpectBooksBalance(site);
}

TEST_F(PaymentsTest, OverpaymentBecomesCreditThatTheNextBillConsumes) {
  const std::string site = BilledSite();
  v1::Payment p;
  ASSERT_TRUE(Pay(site, "9-901", 70000, &p).ok());
  EXPECT_EQ(p.to_credit_minor(), 10000);
  v1::Account a = GetAccount(site, "9-901");
  EXPECT_EQ(a.balance_minor(), -10000);
  EXPECT_EQ(a.credit_minor(), 10000);
  ExpectBooksBalance(site);
  // April's 20000 takes the 10000 of credit at once.
  Bill(site, "2026-04-01");
  a = GetAccount(site, "9-901");
  EXPECT_EQ(a.credit_minor(), 0);
  EXPECT_EQ(a.balance_minor(), 10000);
  const std::vector<v1::Bill> bills = Bills(site, "9-901");
  ASSERT_EQ(bills.size(), 4u);
  EXPECT_EQ(bills[3].paid_minor(), 10000);
  EXPECT_EQ(bills[3].state(), v1::PARTIALLY_PAID);
  ExpectBooksBalance(site);
}

TEST_F(PaymentsTest, AReversalReopensWhatThePaymentPaidAndTakesBackItsCredit) {
  const std::string site = BilledSite();
  v1::Payment p;
  ASSERT_TRUE(Pay(site, "9-901", 70000, &p).ok());  // 60000 to lines, 10000 credit
  Bill(site, "2026-04-01");                           // consumes the credit
  v1::ReversePaymentRequest req;
  req.set_name(p.name());
  req.set_reason("bounced: the bank card provided has expired");
  req.set_request_id(NewRequestId());
  v1::Payment reversed;
  ASSERT_TRUE(stub().ReversePayment(Context().get(), req, &reversed).ok());
  EXPECT_TRUE(reversed.reversed());
  const v1::Account a = GetAccount(site, "9-901");
  EXPECT_EQ(a.balance_minor(), 80000);  // four months owed again
  EXPECT_EQ(a.credit_minor(), 0);
  for (const v1::Bill& b : Bills(site, "9-901")) {
    EXPECT_EQ(b.state(), v1::OPEN) << b.name();
    EXPECT_EQ(b.paid_minor(), 0) << b.name();
  }
  // Once is enough: a second reversal is refused, its retry is not.
  v1::Payment again;
  EXPECT_TRUE(stub().ReversePayment(Context().get(), req, &again).ok());
  req.set_request_id(NewRequestId());
  EXPECT_EQ(stub().ReversePayment(Context().get(), req, &again).error_code(),
            grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(sql().Scalar("SELECT COUNT(*) FROM ledger WHERE site = ? AND kind = ?",
                         {site, static_cast<int>(v1::PAYMENT_REVERSAL)}),
            1);
  ExpectBooksBalance(site);
}

TEST_F(PaymentsTest, HeldLinesAreSkippedByAutomaticAllocationUntilReleased) {
  const std::string site = BilledSite();
  std::vector<v1::Bill> bills = Bills(site, "9-901");
  v1::HoldBillLineRequest hold;
  hold.set_name(bills[0].lines(0).name());
  hold.set_reason_code("compensation-claim");
  hold.set_ticket("sites/" + site + "/tickets/17");
  hold.set_request_id(NewRequestId());
  v1::BillLine line;
  ASSERT_TRUE(stub().HoldBillLine(Context().get(), hold, &line).ok());
  EXPECT_EQ(line.state(), v1::DISPUTED);
  EXPECT_EQ(line.hold_ticket(), "sites/" + site + "/tickets/17");
  hold.set_request_id(NewRequestId());
  EXPECT_EQ(stub().HoldBillLine(Context().get(), hold, &line).error_code(),
            grpc::StatusCode::FAILED_PRECONDITION);
  v1::Payment p;
  ASSERT_TRUE(Pay(site, "9-901", 20000, &p).ok());
  ASSERT_EQ(p.allocations_size(), 1);
  EXPECT_EQ(p.allocations(0).line(), bills[1].lines(0).name());  // February, not January
  v1::ReleaseBillLineRequest release;
  release.set_name(bills[0].lines(0).name());
  release.set_request_id(NewRequestId());
  ASSERT_TRUE(stub().ReleaseBillLine(Context().get(), release, &line).ok());
  EXPECT_EQ(line.state(), v1::OPEN);
  ASSERT_TRUE(Pay(site, "9-901", 20000, &p).ok());
  EXPECT_EQ(p.allocations(0).line(), bills[0].lines(0).name());
  ExpectBooksBalance(site);
}

TEST_F(PaymentsTest, AWriteOffIsALedgerEntryWithWhoAndWhy) {
  const std::string site = BilledSite();
  const std::vector<v1::Bill> bills = Bills(site, "9-901");
  v1::Payment p;
  ASSERT_TRUE(Pay(site, "9-901", 5000, &p).ok());
  v1::WriteOffBillLineRequest req;
  req.set_name(bills[0].lines(0).name());
  req.set_reason("owner deceased; estate settled");
  req.set_request_id(NewRequestId());
  v1::BillLine line;
  ASSERT_TRUE(stub().WriteOffBillLine(Context().get(), req, &line).ok());
  EXPECT_EQ(line.written_off_minor(), 15000);
  EXPECT_EQ(line.state(), v1::WRITTEN_OFF);
  v1::ListLedgerEntriesRequest lr;
  lr.set_parent("sites/" + site + "/accounts/9-901");
  v1::ListLedgerEntriesResponse entries;
  ASSERT_TRUE(stub().ListLedgerEntries(Context().get(), lr, &entries).ok());
  const v1::LedgerEntry& last = *entries.entries().rbegin();
  EXPECT_EQ(last.kind(), v1::WRITE_OFF);
  EXPECT_EQ(last.amount_minor(), -15000);
  EXPECT_EQ(last.actor(), "user:test");
  EXPECT_EQ(last.reason(), "owner deceased; estate settled");
  EXPECT_EQ(GetAccount(site, "9-901").balance_minor(), 60000 - 5000 - 15000);
  req.set_request_id(NewRequestId());
  EXPECT_EQ(stub().WriteOffBillLine(Context().get(), req, &line).error_code(),
            grpc::StatusCode::FAILED_PRECONDITION);
  ExpectBooksBalance(site);
}

TEST_F(PaymentsTest, ACreditNoteCorrectsPartOfALineWithoutEditingIt) {
  const std::string site = BilledSite();
  const std::vector<v1::Bill> bills = Bills(site, "9-901");
  v1::WriteOffBillLineRequest req;
  req.set_name(bills[1].lines(0).name());
  req.set_reason("area billed as 100 m², the deed says 75 m²");
  req.set_amount_minor(5000);
  req.set_credit_note(true);
  req.set_request_id(NewRequestId());
  v1::BillLine line;
  ASSERT_TRUE(stub().WriteOffBillLine(Context().get(), req, &line).ok());
  EXPECT_EQ(line.amount_minor(), 20000) << "the issued amount stays as issued";
  EXPECT_EQ(line.written_off_minor(), 5000);
  EXPECT_EQ(line.state(), v1::OPEN);
  EXPECT_EQ(GetAccount(site, "9-901").balance_minor(), 55000);
  EXPECT_EQ(sql().Scalar("SELECT COUNT(*) FROM ledger WHERE site = ? AND kind = ?",
                         {site, static_cast<int>(v1::CREDIT_NOTE)}),
            1);
  // More than is left, or a negative amount, is refused and changes nothing.
  req.set_amount_minor(15001);
  req.set_request_id(NewRequestId());
  EXPECT_EQ(stub().WriteOffBillLine(Context().get(), req, &line).error_code(),
            grpc::StatusCode::FAILED_PRECONDITION);
  req.set_amount_minor(-1);
  req.set_request_id(NewRequestId());
  const grpc::Status bad = stub().WriteOffBillLine(Context().get(), req, &line);
  EXPECT_EQ(bad.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(bad.error_message().rfind("amount_minor", 0), 0u);
  EXPECT_EQ(GetAccount(site, "9-901").balance_minor(), 55000);
  // Paying the rest settles it.
  v1::Payment p;
  ASSERT_TRUE(Pay(site, "9-901", 20000 + 15000, &p).ok());
  const v1::Bill settled = Bills(site, "9-901")[1];
  EXPECT_EQ(settled.paid_minor(), 15000);
  EXPECT_EQ(settled.paid_minor() + settled.written_off_minor(), settled.amount_minor());
  EXPECT_EQ(GetAccount(site, "9-901").balance_minor(), 20000);  // March is left
  ExpectBooksBalance(site);
}

}  // namespace
}  // namespace billing

namespace billing {
namespace {

// Payments sent together share transactions (RecordPayment's group commit):
// each still gets its own answer, the one stored, and a payment the batch
// cannot post gets its own error while the others go through.
TEST_F(PaymentsTest, PaymentsSentTogetherGetTheirOwnAnswersAndErrors) {
  const std::string site = NewSite();
  const v1::ChargeItem fee = PerAreaItem(site, "property-fee", "2");
  const std::vector<std::string> units = {"1-101", "1-102", "1-103"};
  for (const std::string& u : units) OpenAccount(site, u, "1", "100", {fee});
  for (const char* day : {"2026-01-01", "2026-02-01"}) Bill(site, day);
  const std::string other_bill = Bills(site, "1-102").front().name();

  struct Call {
    std::string unit;
    int64_t amount;
    std::string currency = "CNY";
    std::vector<std::string> bills;
    grpc::StatusCode want = grpc::StatusCode::OK;
    std::string field;  // named by the error
    grpc::Status status;
    v1::Payment out;
  };
  std::vector<Call> calls;
  for (int i = 0; i < 9; ++i) calls.push_back({units[i % 3], 7000 + 1000 * i});
  calls.push_back(
      {"1-101", 5000, "USD", {}, grpc::StatusCode::INVALID_ARGUMENT, "payment.currency_code"});
  calls.push_back(
      {"1-101", 5000, "CNY", {other_bill}, grpc::StatusCode::INVALID_ARGUMENT, "payment.bills[0]"});
  calls.push_back({"9-999", 5000, "CNY", {}, grpc::StatusCode::NOT_FOUND, ""});
  absl::Barrier* start = new absl::Barrier(static_cast<int>(calls.size()));
  std::vector<std::thread> threads;
  for (Call& call : calls) {
    threads.emplace_back([&, start] {
      if (start->Block()) delete start;
      call.status = Pay(site, call.unit, call.amount, &call.out, call.bills, "", call.currency);
    });
  }
  for (std::thread& t : threads) t.join();

  for (const Call& call : calls) {
    ASSERT_EQ(call.status.error_code(), call.want)
        << call.unit << " " << call.amount << ": " << call.status.error_message();
    if (!call.field.empty()) {
      EXPECT_NE(call.status.error_message().find(call.field), std::string::npos)
          << call.status.error_message();
    }
    if (!call.status.ok()) continue;
    EXPECT_EQ(call.out.amount_minor(), call.amount);
    EXPECT_EQ(call.out.account(), absl::StrCat("sites/", site, "/accounts/", call.unit));
    // The answer, made without reading the payment back, is what is stored.
    v1::GetPaymentRequest get;
    get.set_name(call.out.name());
    v1::Payment stored;
    ASSERT_TRUE(stub().GetPayment(Context().get(), get, &stored).ok());
    EXPECT_TRUE(MessageDifferencer::Equals(call.out, stored))
        << call.out.DebugString() << " vs stored " << stored.DebugString();
  }
  EXPECT_EQ(Payments(site), 9);
  // Each account owed 40000 and paid three of the amounts.
  for (int u = 0; u < 3; ++u) {
    int64_t paid = 0;
    for (int i = u; i < 9; i += 3) paid += 7000 + 1000 * i;
    EXPECT_EQ(GetAccount(site, units[u]).balance_minor(), 40000 - paid) << units[u];
  }
  ExpectBooksBalance(site);
}

}  // namespace
}  // namespace billing
