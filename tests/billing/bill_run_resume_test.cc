// A bill run interrupted between batches (the process gone, its last batch
// committed) resumes in the next process where it stopped: every line once.
#include "absl/strings/str_cat.h"
#include "estate/billing/v1/billing.grpc.pb.h"
#include "gtest/gtest.h"
#include "services/billing/billing_service.h"
#include "tests/support/in_process.h"
#include "tests/support/recount.h"
#include "tests/support/test_db.h"

std::vector<kit::Migration> estate_billing_migrations();

namespace billing {
namespace {

namespace v1 = ::estate::billing::v1;
using testing_support::Context;
using testing_support::NewRequestId;

TEST(BillRunResume, ARunStoppedBetweenBatchesFinishesInTheNextProcessWithEveryLineOnce) {
  const kit::DbOptions db = testing_support::TestDatabase::Shared().FreshSchema("billing_resume");
  BillingService* first = nullptr;
  BillingOptions manual;
  manual.commit_batch = 10;
  manual.run_committer = false;  // this process only does what the test says
  auto one = testing_support::InProcessService::Start(
      "billing", db, estate_billing_migrations(),
      [&](kit::ServiceHost& host) { first = RegisterBilling(host, kit::RealClock(), manual); });
  ASSERT_NE(one, nullptr);
  auto stub = v1::BillingService::NewStub(one->channel());

  v1::CreateChargeItemRequest item;
  item.set_parent("sites/harbour");
  item.set_request_id(NewRequestId());
  item.mutable_charge_item()->set_code("property-fee");
  item.mutable_charge_item()->set_display_name("Property fee");
  item.mutable_charge_item()->set_kind(v1::PER_AREA);
  item.mutable_charge_item()->set_cycle(v1::MONTHLY);
  item.mutable_charge_item()->set_rate("2.6");
  item.mutable_charge_item()->set_effective_from("2026-01-01");
  v1::ChargeItem fee;
  ASSERT_TRUE(stub->CreateChargeItem(Context().get(), item, &fee).ok());
  constexpr int kAccounts = 95;
  for (int i = 0; i < kAccounts; ++i) {
    v1::CreateAccountRequest a;
    a.set_parent("sites/harbour");
    a.set_account_id(absl::StrCat("5-", 100 + i));
    a.set_request_id(NewRequestId());
    a.mutable_account()->set_payer_name("Owner");
    a.mutable_account()->set_payer_kind(v1::OWNER);
    a.mutable_account()->set_billable_area(absl::StrCat(60 + i, ".5"));
    a.mutable_account()->set_fee_start("2026-01-01");
    a.mutable_account()->add_charge_items(fee.name());
    v1::Account out;
    ASSERT_TRUE(stub->CreateAccount(Context().get(), a, &out).ok());
  }
  v1::CreateBillRunRequest create;
  create.set_parent("sites/harbour");
  create.set_request_id(NewRequestId());
  create.mutable_bill_run()->set_cycle(v1::MONTHLY);
  create.mutable_bill_run()->set_period_date("2026-03-01");
  v1::BillRun draft;
  ASSERT_TRUE(stub->CreateBillRun(Context().get(), create, &draft).ok());
  v1::CommitBillRunRequest commit;
  commit.set_name(draft.name());
  commit.set_request_id(NewRequestId());
  v1::BillRun run;
  ASSERT_TRUE(stub->CommitBillRun(Context().get(), commit, &run).ok());
  // Three batches, then the process goes away.
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(first->CommitStep().value());
  v1::GetBillRunRequest get;
  get.set_name(draft.name());
  ASSERT_TRUE(stub->GetBillRun(Context().get(), get, &run).ok());
  EXPECT_EQ(run.state(), v1::COMMITTING);
  EXPECT_EQ(run.accounts_done(), 30);
  stub.reset();
  one.reset();

  // The next process picks the run up where it stopped.
  auto two = testing_support::InProcessService::Start(
      "billing", db, estate_billing_migrations(),
      [&](kit::ServiceHost& host) { RegisterBilling(host, kit::RealClock()); });
  ASSERT_NE(two, nullptr);
  stub = v1::BillingService::NewStub(two->channel());
  for (int i = 0; i < 500 && run.state() != v1::COMMITTED; ++i) {
    absl::SleepFor(absl::Milliseconds(20));
    ASSERT_TRUE(stub->GetBillRun(Context().get(), get, &run).ok());
  }
  ASSERT_EQ(run.state(), v1::COMMITTED);
  EXPECT_EQ(run.accounts_done(), kAccounts);
  EXPECT_EQ(run.lines_issued(), kAccounts);
  EXPECT_EQ(run.issued_minor(), draft.total_minor());
  testing_support::Recount sql(db);
  EXPECT_EQ(sql.Scalar("SELECT COUNT(*) FROM bill_lines"), kAccounts);
  EXPECT_EQ(sql.Scalar("SELECT COUNT(DISTINCT account_id) FROM bill_lines"), kAccounts);
  EXPECT_EQ(sql.Scalar("SELECT COUNT(*) FROM bills"), kAccounts);
  EXPECT_EQ(sql.Scalar("SELECT SUM(amount_minor) FROM ledger"), draft.total_minor());
}

}  // namespace
}  // namespace billing
