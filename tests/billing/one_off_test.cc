// One-off charges made one at a time (ChargeAccount) and their refunds
// (RefundCharge), against the real database: a renovation permit's deposit
// charged, paid and given back less what the closing inspection kept.
#include <algorithm>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "tests/billing/billing_fixture.h"

namespace billing {
namespace {

class OneOffTest : public BillingTest {
 protected:
  // A site billing 100 m² x 2 yuan a month from January (20000 fen a
  // month, due on the 15th; January to March issued, unpaid), with the
  // renovation deposit (2,000 yuan, due in 7 days) and the garbage fee
  // (300 yuan) as ONE_OFF items.
  struct Site {
    std::string id;
    v1::ChargeItem deposit;
    v1::ChargeItem garbage;
    v1::ChargeItem fee;
  };
  Site NewBilledSite(const std::string& unit = "B-2-0801") {
    Site s;
    s.id = NewSite();
    s.fee = PerAreaItem(s.id, "property-fee", "2");
    OpenAccount(s.id, unit, "B2", "100", {s.fee});
    for (const char* day : {"2026-01-01", "2026-02-01", "2026-03-01"}) Bill(s.id, day);
    EXPECT_TRUE(
        CreateItem(s.id, Spec("renovation-deposit", v1::ONE_OFF, "2000", v1::ONCE, 7), &s.deposit)
            .ok());
    EXPECT_TRUE(
        CreateItem(s.id, Spec("decoration-garbage", v1::ONE_OFF, "300", v1::ONCE, 7), &s.garbage)
            .ok());
    return s;
  }

  grpc::Status Charge(const std::string& site, const std::string& unit, const v1::ChargeItem& item,
                      int64_t amount, const std::string& reference, v1::Bill* out,
                      const std::string& request_id = "") {
    v1::ChargeAccountRequest req;
    req.set_account(absl::StrCat("sites/", site, "/accounts/", unit));
    req.set_charge_item(item.name());
    req.set_amount_minor(amount);
    if (amount > 0) req.set_currency_code("CNY");
    req.set_reference(reference);
    req.set_request_id(request_id.empty() ? NewRequestId() : request_id);
    return stub().ChargeAccount(Context().get(), req, out);
  }
  grpc::Status Refund(const std::string& site, const std::string& unit,
                      const std::string& reference, int64_t keep, const std::string& reason,
                      v1::ChargeRefund* out) {
    v1::RefundChargeRequest req;
    req.set_account(absl::StrCat("sites/", site, "/accounts/", unit));
    req.set_reference(reference);
    req.set_keep_minor(keep);
    req.set_reason(reason);
    req.set_request_id(NewRequestId());
    return stub().RefundCharge(Context().get(), req, out);
  }
  int64_t BillCount(const std::string& site) {
    return sql().Scalar("SELECT COUNT(*) FROM bills WHERE site = ?", {site});
  }
};

TEST_F(OneOffTest, ADepositChargedNowIsABillOfOneLineDueAfterItsItemsDays) {
  const Site s = NewBilledSite();
  const std::string request_id = NewRequestId();
  v1::Bill bill;
  grpc::Status st =
      Charge(s.id, "B-2-0801", s.deposit, 0, "renovationPermits/7/deposit", &bill, request_id);
  ASSERT_TRUE(st.ok()) << st.error_message();
  EXPECT_EQ(bill.account(), absl::StrCat("sites/", s.id, "/accounts/B-2-0801"));
  EXPECT_TRUE(bill.bill_run().empty()) << "no bill run made it";
  EXPECT_EQ(bill.issue_date(), "2026-03-02");
  EXPECT_EQ(bill.due_date(), "2026-03-09") << "the item's 7 days";
  EXPECT_EQ(bill.amount_minor(), 200000) << "the item's rate: 2,000 yuan";
  EXPECT_EQ(bill.state(), v1::OPEN);
  ASSERT_EQ(bill.lines_size(), 1);
  EXPECT_EQ(bill.lines(0).code(), "renovation-deposit");
  EXPECT_EQ(bill.lines(0).reference(), "renovationPermits/7/deposit");
  EXPECT_EQ(bill.lines(0).charge_item(), s.deposit.name());

  // The garbage fee at an amount of its own.
  v1::Bill fee;
  st = Charge(s.id, "B-2-0801", s.garbage, 45000, "renovationPermits/7/garbage-fee", &fee);
  ASSERT_TRUE(st.ok()) << st.error_message();
  EXPECT_EQ(fee.amount_minor(), 45000);

  // The retry is answered as the first call was; the reference is taken.
  v1::Bill again;
  st = Charge(s.id, "B-2-0801", s.deposit, 0, "renovationPermits/7/deposit", &again, request_id);
  ASSERT_TRUE(st.ok()) << st.error_message();
  EXPECT_EQ(again.name(), bill.name());
  EXPECT_EQ(
      Charge(s.id, "B-2-0801", s.deposit, 0, "renovationPermits/7/deposit", &again).error_code(),
      grpc::StatusCode::ALREADY_EXISTS);
  EXPECT_EQ(BillCount(s.id), 3 + 2);
  EXPECT_EQ(GetAccount(s.id, "B-2-0801").balance_minor(), 60000 + 200000 + 45000);
  ExpectBooksBalance(s.id);

  // It is paid like any bill, by name.
  v1::Payment p;
  st = Pay(s.id, "B-2-0801", 200000, &p, {bill.name()});
  ASSERT_TRUE(st.ok()) << st.error_message();
  EXPECT_EQ(GetAccount(s.id, "B-2-0801").balance_minor(), 60000 + 45000);
  ExpectBooksBalance(s.id);
}

TEST_F(OneOffTest, APaidDepositComesBackLessWhatIsKeptAndPaysWhatTheAccountOwes) {
  const Site s = NewBilledSite();
  v1::Bill deposit;
  ASSERT_TRUE(Charge(s.id, "B-2-0801", s.deposit, 0, "renovationPermits/7/deposit", &deposit).ok());
  v1::Payment p;
  ASSERT_TRUE(Pay(s.id, "B-2-0801", 200000, &p, {deposit.name()}).ok());

  // 500 yuan kept for a scratched lift door: 1,500 back, of which the
  // 600 yuan of fees still owed are paid and 900 wait as credit.
  v1::ChargeRefund r;
  grpc::Status st = Refund(s.id, "B-2-0801", "renovationPermits/7/deposit", 50000,
                           "scratched lift door panel", &r);
  ASSERT_TRUE(st.ok()) << st.error_message();
  EXPECT_EQ(r.charged_minor(), 200000);
  EXPECT_EQ(r.kept_minor(), 50000);
  EXPECT_EQ(r.refunded_minor(), 150000);
  EXPECT_EQ(r.cancelled_minor(), 0) << "all of it was paid";
  EXPECT_EQ(r.credited_minor(), 150000);
  EXPECT_EQ(r.applied_to_open_lines_minor(), 60000);
  EXPECT_EQ(r.account_credit_minor(), 90000);
  EXPECT_EQ(r.bill_line(), deposit.lines(0).name());

  const v1::Account a = GetAccount(s.id, "B-2-0801");
  EXPECT_EQ(a.balance_minor(), -90000) << "in credit";
  EXPECT_EQ(a.credit_minor(), 90000);
  for (const v1::Bill& b : Bills(s.id, "B-2-0801")) {
    if (b.name() == deposit.name()) {
      // Paid what was kept; the rest credit-noted.
      EXPECT_EQ(b.paid_minor(), 50000);
      EXPECT_EQ(b.written_off_minor(), 150000);
    } else {
      EXPECT_EQ(b.state(), v1::PAID) << b.name() << " " << b.period();
    }
  }
  EXPECT_EQ(sql().Scalar("SELECT COUNT(*) FROM ledger WHERE site = ? AND kind = ? AND "
                         "amount_minor = -150000",
                         {s.id, static_cast<int>(v1::CREDIT_NOTE)}),
            1);
  ExpectBooksBalance(s.id);

  // Once per charge.
  v1::ChargeRefund twice;
  EXPECT_EQ(
      Refund(s.id, "B-2-0801", "renovationPermits/7/deposit", 0, "again", &twice).error_code(),
      grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(GetAccount(s.id, "B-2-0801").credit_minor(), 90000);
}

TEST_F(OneOffTest, AnUnpaidDepositIsCancelledNotPaidOut) {
  const Site s = NewBilledSite();
  v1::Bill deposit;
  ASSERT_TRUE(Charge(s.id, "B-2-0801", s.deposit, 0, "renovationPermits/8/deposit", &deposit).ok());
  v1::Payment p;
  ASSERT_TRUE(Pay(s.id, "B-2-0801", 50000, &p, {deposit.name()}).ok());

  // Paid 500 of 2,000, keeps 800: nothing comes back, 300 is still owed.
  v1::ChargeRefund r;
  ASSERT_TRUE(
      Refund(s.id, "B-2-0801", "renovationPermits/8/deposit", 80000, "broken window", &r).ok());
  EXPECT_EQ(r.cancelled_minor(), 120000);
  EXPECT_EQ(r.credited_minor(), 0);
  EXPECT_EQ(r.account_credit_minor(), 0);
  std::vector<v1::Bill> bills = Bills(s.id, "B-2-0801");
  const auto it = std::find_if(bills.begin(), bills.end(),
                               [&](const v1::Bill& b) { return b.name() == deposit.name(); });
  ASSERT_NE(it, bills.end());
  EXPECT_EQ(
      it->lines(0).amount_minor() - it->lines(0).paid_minor() - it->lines(0).written_off_minor(),
      30000);
  EXPECT_EQ(GetAccount(s.id, "B-2-0801").balance_minor(), 60000 + 30000);
  ExpectBooksBalance(s.id);
}

TEST_F(OneOffTest, CreditTheAccountHoldsPaysAOneOffCharge) {
  const Site s = NewBilledSite();
  v1::Payment p;
  ASSERT_TRUE(Pay(s.id, "B-2-0801", 70000, &p).ok());  // 10000 over what is owed
  ASSERT_EQ(GetAccount(s.id, "B-2-0801").credit_minor(), 10000);
  v1::Bill fee;
  ASSERT_TRUE(Charge(s.id, "B-2-0801", s.garbage, 0, "renovationPermits/9/garbage-fee", &fee).ok());
  EXPECT_EQ(fee.paid_minor(), 10000);
  EXPECT_EQ(fee.state(), v1::PARTIALLY_PAID);
  EXPECT_EQ(GetAccount(s.id, "B-2-0801").credit_minor(), 0);
  EXPECT_EQ(GetAccount(s.id, "B-2-0801").balance_minor(), 30000 - 10000);
  ExpectBooksBalance(s.id);
}

TEST_F(OneOffTest, BadChargesAndRefundsNameTheProblemAndWriteNothing) {
  const Site s = NewBilledSite();
  const Site other = NewBilledSite();
  const int64_t bills = BillCount(s.id);
  v1::Bill out;
  struct Case {
    std::string unit;
    v1::ChargeItem item;
    int64_t amount;
    std::string reference;
    grpc::StatusCode code;
    std::string starts;
  };
  const std::vector<Case> cases = {
      {"B-2-0801", s.fee, 0, "x", grpc::StatusCode::FAILED_PRECONDITION, "charge_item"},
      {"B-2-0801", other.deposit, 0, "x", grpc::StatusCode::INVALID_ARGUMENT, "charge_item"},
      {"B-2-0801", s.deposit, -1, "x", grpc::StatusCode::INVALID_ARGUMENT, "amount_minor"},
      {"B-2-0801", s.deposit, 0, "", grpc::StatusCode::INVALID_ARGUMENT, "reference"},
      {"B-2-0801", s.deposit, 0, std::string(161, 'r'), grpc::StatusCode::INVALID_ARGUMENT,
       "reference"},
      {"B 2/0801", s.deposit, 0, "x", grpc::StatusCode::INVALID_ARGUMENT, "account"},
      {"B-9-9999", s.deposit, 0, "x", grpc::StatusCode::NOT_FOUND, ""},
  };
  for (const Case& c : cases) {
    const grpc::Status st = Charge(s.id, c.unit, c.item, c.amount, c.reference, &out);
    EXPECT_EQ(st.error_code(), c.code) << c.starts << ": " << st.error_message();
    EXPECT_EQ(st.error_message().rfind(c.starts, 0), 0u) << st.error_message();
  }
  // Another currency than the site's.
  v1::ChargeAccountRequest usd;
  usd.set_account(absl::StrCat("sites/", s.id, "/accounts/B-2-0801"));
  usd.set_charge_item(s.deposit.name());
  usd.set_amount_minor(1000);
  usd.set_currency_code("USD");
  usd.set_reference("y");
  usd.set_request_id(NewRequestId());
  grpc::Status st = stub().ChargeAccount(Context().get(), usd, &out);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(st.error_message().rfind("currency_code", 0), 0u) << st.error_message();
  EXPECT_EQ(BillCount(s.id), bills);

  v1::ChargeRefund r;
  st = Refund(s.id, "B-2-0801", "renovationPermits/1/deposit", 0, "closing passed", &r);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::NOT_FOUND) << "no such charge";
  v1::Bill deposit;
  ASSERT_TRUE(Charge(s.id, "B-2-0801", s.deposit, 0, "renovationPermits/2/deposit", &deposit).ok());
  st = Refund(s.id, "B-2-0801", "renovationPermits/2/deposit", 200001, "all and more", &r);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::FAILED_PRECONDITION) << st.error_message();
  st = Refund(s.id, "B-2-0801", "renovationPermits/2/deposit", 0, "", &r);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(st.error_message().rfind("reason", 0), 0u) << st.error_message();
  st = Refund(s.id, "B-2-0801", "renovationPermits/2/deposit", -5, "x", &r);
  EXPECT_EQ(st.error_message().rfind("keep_minor", 0), 0u) << st.error_message();
  EXPECT_EQ(sql().Scalar("SELECT COUNT(*) FROM charge_refunds WHERE site = ?", {s.id}), 0);
  EXPECT_EQ(GetAccount(s.id, "B-2-0801").balance_minor(), 60000 + 200000);
  ExpectBooksBalance(s.id);
}

}  // namespace
}  // namespace billing
