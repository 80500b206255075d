// Direct debit against the real database: who goes into a batch, expired
// mandates reported up front, and bank results imported exactly once.
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "tests/billing/billing_fixture.h"

namespace billing {
namespace {

class DebitTest : public BillingTest {
 protected:
  // Bills due on 15 March; the bank is sent a batch on the 25th.
  void SetUp() override { Today(absl::CivilDay(2026, 3, 25)); }
};

TEST_F(DebitTest, ABatchTakesValidMandatesAndReportsExpiredOnesBeforeSending) {
  const std::string site = NewSite();
  const v1::ChargeItem fee = PerAreaItem(site, "property-fee", "2");
  for (const char* unit : {"valid", "expired", "desk-payer", "paid-up"}) {
    OpenAccount(site, unit, "1", "100", {fee});
  }
  GiveMandate(site, "valid", "2029-12-31");
  GiveMandate(site, "expired", "2026-02-28");  // "the bank card provided has expired"
  GiveMandate(site, "paid-up", "2029-12-31");
  Bill(site, "2026-03-01");  // 20000 each, due 15 March
  v1::Payment p;
  ASSERT_TRUE(Pay(site, "paid-up", 20000, &p).ok());

  const v1::DebitBatch batch = NewBatch(site, "2026-03-20");
  EXPECT_EQ(batch.items(), 1);
  EXPECT_EQ(batch.total_minor(), 20000);
  EXPECT_EQ(batch.expired_mandates(), 1);
  EXPECT_EQ(batch.pending(), 1);
  const std::vector<v1::DebitItem> items = Items(batch);
  ASSERT_EQ(items.size(), 2u);
  std::map<std::string, v1::DebitItem> by_account;
  for (const v1::DebitItem& i : items) by_account[i.account()] = i;
  const std::string prefix = "sites/" + site + "/accounts/";
  EXPECT_EQ(by_account[prefix + "valid"].status(), v1::DEBIT_PENDING);
  EXPECT_EQ(by_account[prefix + "valid"].amount_minor(), 20000);
  EXPECT_EQ(by_account[prefix + "expired"].status(), v1::MANDATE_EXPIRED);
  EXPECT_EQ(by_account[prefix + "expired"].mandate_expiry(), "2026-02-28");
  EXPECT_FALSE(by_account.count(prefix + "desk-payer"));
  EXPECT_FALSE(by_account.count(prefix + "paid-up"));
  // Nothing is due before the 15th: an earlier batch is empty.
  EXPECT_EQ(NewBatch(site, "2026-03-10").items(), 0);

  // The expired item was never sent, so it cannot come back paid.
  v1::DebitBatch out;
  EXPECT_EQ(Import(batch, {Result(by_account[prefix + "expired"], v1::DEBIT_PAID)}, &out).error_code(),
            grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(sql().Scalar("SELECT COUNT(*) FROM payments WHERE site = ?", {site}), 1);
}

TEST_F(DebitTest, PaidResultsPostOncePerItemAndFailuresKeepTheirReason) {
  const std::string site = NewSite();
  const v1::ChargeItem fee = PerAreaItem(site, "property-fee", "2");
  OpenAccount(site, "a", "1", "100", {fee});
  OpenAccount(site, "b", "1", "150", {fee});
  GiveMandate(site, "a", "2029-12-31");
  GiveMandate(site, "b", "2029-12-31");
  Bill(site, "2026-03-01");
  const v1::DebitBatch batch = NewBatch(site, "2026-03-20");
  const std::vector<v1::DebitItem> items = Items(batch);
  ASSERT_EQ(items.size(), 2u);
  const v1::DebitItem& a = absl::EndsWith(items[0].account(), "/a") ? items[0] : items[1];
  const v1::DebitItem& b = absl::EndsWith(items[0].account(), "/b") ? items[0] : items[1];

  v1::DebitBatch out;
  ASSERT_TRUE(Import(batch,
                     {Result(a, v1::DEBIT_PAID), Result(b, v1::DEBIT_FAILED, v1::INSUFFICIENT_FUNDS)},
                     &out)
                  .ok());
  EXPECT_EQ(out.paid(), 1);
  EXPECT_EQ(out.paid_minor(), 20000);
  EXPECT_EQ(out.failed(), 1);
  EXPECT_EQ(GetAccount(site, "a").balance_minor(), 0);
  EXPECT_EQ(GetAccount(site, "b").balance_minor(), 30000);
  // The same bank file imported again (a new request) posts nothing new.
  ASSERT_TRUE(Import(batch, {Result(a, v1::DEBIT_PAID)}, &out).ok());
  EXPECT_EQ(sql().Scalar("SELECT COUNT(*) FROM payments WHERE site = ? AND method = ?",
                         {site, static_cast<int>(v1::DIRECT_DEBIT)}),
            1);
  // The bank retries b and it goes through.
  ASSERT_TRUE(Import(batch, {Result(b, v1::DEBIT_PAID)}, &out).ok());
  EXPECT_EQ(out.paid(), 2);
  EXPECT_EQ(out.failed(), 0);
  EXPECT_EQ(GetAccount(site, "b").balance_minor(), 0);
  const std::vector<v1::DebitItem> after = Items(batch);
  for (const v1::DebitItem& i : after) {
    EXPECT_EQ(i.status(), v1::DEBIT_PAID);
    EXPECT_FALSE(i.payment().empty());
  }
  ExpectBooksBalance(site);

  const std::string metrics = testing_support::HttpGet(metrics_port(), "/metrics");
  EXPECT_NE(metrics.find(absl::StrCat("estate_billing_payment_failures_total{reason=\"INSUFFICIENT_FUNDS\",site=\"",
                                      site, "\"} 1")),
            std::string::npos);
}

TEST_F(DebitTest, ADebitOfWhatIsDueLessCreditSettlesTheAccountWithTheCredit) {
  const std::string site = NewSite();
  const v1::ChargeItem fee = PerAreaItem(site, "property-fee", "2");
  OpenAccount(site, "a", "1", "100", {fee});
  GiveMandate(site, "a", "2029-12-31");
  Bill(site, "2026-01-01");
  Bill(site, "2026-02-01");
  // January paid with 5000 to spare, by naming it: the spare becomes credit
  // while February is still open.
  v1::Payment p;
  ASSERT_TRUE(Pay(site, "a", 25000, &p, {Bills(site, "a")[0].name()}).ok());
  ASSERT_EQ(GetAccount(site, "a").credit_minor(), 5000);
  const v1::DebitBatch batch = NewBatch(site, "2026-03-01");
  ASSERT_EQ(batch.total_minor(), 15000);
  v1::DebitBatch out;
  ASSERT_TRUE(Import(batch, {Result(Items(batch).at(0), v1::DEBIT_PAID)}, &out).ok());
  const v1::Account a = GetAccount(site, "a");
  EXPECT_EQ(a.balance_minor(), 0);
  EXPECT_EQ(a.credit_minor(), 0);
  for (const v1::Bill& b : Bills(site, "a")) EXPECT_EQ(b.state(), v1::PAID) << b.name();
  ExpectBooksBalance(site);
  // A batch dated after today is refused.
  v1::CreateDebitBatchRequest req;
  req.set_parent("sites/" + site);
  req.mutable_debit_batch()->set_as_of("2026-04-01");
  req.set_request_id(NewRequestId());
  EXPECT_EQ(stub().CreateDebitBatch(Context().get(), req, &out).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
}

TEST_F(DebitTest, AFailureIsCountedOnceHoweverOftenTheBankFileIsImported) {
  const std::string site = NewSite();
  const v1::ChargeItem fee = PerAreaItem(site, "property-fee", "2");
  for (const char* unit : {"a", "b", "c"}) {
    OpenAccount(site, unit, "1", "100", {fee});
    GiveMandate(site, unit, "2029-12-31");
  }
  Bill(site, "2026-03-01");
  const v1::DebitBatch batch = NewBatch(site, "2026-03-20");
  std::vector<v1::DebitResult> file;
  for (const v1::DebitItem& i : Items(batch)) {
    file.push_back(Result(i, v1::DEBIT_FAILED, v1::ACCOUNT_CLOSED));
  }
  ASSERT_EQ(file.size(), 3u);
  // The same file, imported four times (each a new request, as a clerk
  // uploading it again would make).
  for (int i = 0; i < 4; ++i) {
    v1::DebitBatch out;
    ASSERT_TRUE(Import(batch, file, &out).ok());
    EXPECT_EQ(out.failed(), 3);
  }
  const std::string metrics = testing_support::HttpGet(metrics_port(), "/metrics");
  const std::string series = absl::StrCat(
      "estate_billing_payment_failures_total{reason=\"ACCOUNT_CLOSED\",site=\"", site, "\"} ");
  const size_t at = metrics.find(series);
  ASSERT_NE(at, std::string::npos) << metrics;
  EXPECT_EQ(metrics.substr(at + series.size(), metrics.find('\n', at) - at - series.size()), "3");
}

TEST_F(DebitTest, BadResultsAreRefusedNamingTheFieldAndChangeNothing) {
  const std::string site = NewSite();
  const v1::ChargeItem fee = PerAreaItem(site, "property-fee", "2");
  OpenAccount(site, "a", "1", "100", {fee});
  GiveMandate(site, "a", "2029-12-31");
  Bill(site, "2026-03-01");
  const v1::DebitBatch batch = NewBatch(site, "2026-03-20");
  const v1::DebitItem item = Items(batch).at(0);
  struct Case {
    v1::DebitResult result;
    std::string field;
  };
  v1::DebitResult no_reason = Result(item, v1::DEBIT_FAILED);
  v1::DebitResult paid_with_reason = Result(item, v1::DEBIT_PAID, v1::CARD_EXPIRED);
  v1::DebitResult other_batch = Result(item, v1::DEBIT_PAID);
  other_batch.set_item("sites/" + site + "/debitBatches/999999/items/1");
  v1::DebitResult bad_status = Result(item, v1::MANDATE_EXPIRED);
  for (const Case& c : std::vector<Case>{{no_reason, "results[0].failure"},
                                         {paid_with_reason, "results[0].failure"},
                                         {other_batch, "results[0].item"},
                                         {bad_status, "results[0].status"}}) {
    v1::DebitBatch out;
    const grpc::Status s = Import(batch, {c.result}, &out);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << c.field;
    EXPECT_EQ(s.error_message().rfind(c.field, 0), 0u) << s.error_message();
  }
  EXPECT_EQ(sql().Scalar("SELECT COUNT(*) FROM payments WHERE site = ?", {site}), 0);
  EXPECT_EQ(Items(batch).at(0).status(), v1::DEBIT_PENDING);
}

}  // namespace
}  // namespace billing
