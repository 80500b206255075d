// Billing as production runs it: two replicas on one database, and
// concurrent calls on one of them. Money must come out as if one cashier did
// everything in turn.
#include <thread>

#include "absl/strings/str_cat.h"
#include "tests/billing/billing_fixture.h"

namespace billing {
namespace {

class BillingReplicasTest : public BillingTest {
 protected:
  static void SetUpTestSuite() {
    BillingTest::SetUpTestSuite();
    BillingService* first = service_;
    BillingOptions options;
    options.commit_batch = 7;
    options.job_interval = absl::Hours(1000);
    replica_ = testing_support::InProcessService::Start(
                   "billing", *db_options_, estate_billing_migrations(),
                   [options](kit::ServiceHost& host) { RegisterBilling(host, *clock_, options); })
                   .release();
    service_ = first;
    ASSERT_NE(replica_, nullptr);
    replica_stub_ = v1::BillingService::NewStub(replica_->channel()).release();
  }
  static void TearDownTestSuite() {
    delete replica_stub_;
    delete replica_;
    BillingTest::TearDownTestSuite();
  }
  // Calls alternate: even ones to the first replica, odd ones to the second.
  v1::BillingService::Stub& On(int i) { return i % 2 == 0 ? stub() : *replica_stub_; }

  // `units` accounts billed 20000 each for March, due on the 15th, each with
  // a valid mandate.
  std::string SiteWithDebtors(int units) {
    const std::string site = NewSite();
    const v1::ChargeItem fee = PerAreaItem(site, "property-fee", "2");
    for (int i = 0; i < units; ++i) {
      const std::string unit = absl::StrCat("u", i);
      OpenAccount(site, unit, "1", "100", {fee});
      GiveMandate(site, unit, "2029-12-31");
    }
    Bill(site, "2026-03-01");
    return site;
  }

  // Every item of `batch`, over as many pages as it takes.
  std::vector<v1::DebitItem> AllItems(const std::string& batch) {
    std::vector<v1::DebitItem> out;
    v1::ListDebitItemsRequest req;
    req.set_parent(batch);
    req.set_page_size(500);
    for (;;) {
      v1::ListDebitItemsResponse page;
      const grpc::Status s = stub().ListDebitItems(Context().get(), req, &page);
      EXPECT_TRUE(s.ok()) << s.error_message();
      out.insert(out.end(), page.items().begin(), page.items().end());
      if (!s.ok() || page.next_page_token().empty()) return out;
      req.set_page_token(page.next_page_token());
    }
  }

  static testing_support::InProcessService* replica_;
  static v1::BillingService::Stub* replica_stub_;
};

testing_support::InProcessService* BillingReplicasTest::replica_ = nullptr;
v1::BillingService::Stub* BillingReplicasTest::replica_stub_ = nullptr;

TEST_F(BillingReplicasTest, ConcurrentDebitBatchesNeverSendAnAccountTwice) {
  Today(absl::CivilDay(2026, 3, 25));
  constexpr int kUnits = 60;
  constexpr int kCallers = 4;  // two on each replica, all at once
  const std::string site = SiteWithDebtors(kUnits);

  std::vector<v1::DebitBatch> batches(kCallers);
  std::vector<grpc::Status> status(kCallers);
  std::vector<std::thread> callers;
  for (int i = 0; i < kCallers; ++i) {
    callers.emplace_back([&, i] {
      v1::CreateDebitBatchRequest req;
      req.set_parent("sites/" + site);
      req.mutable_debit_batch()->set_as_of("2026-03-20");
      req.set_request_id(NewRequestId());
      status[i] = On(i).CreateDebitBatch(Context().get(), req, &batches[i]);
    });
  }
  for (std::thread& t : callers) t.join();

  // The bank is sent every batch and debits every item in it.
  std::map<std::string, int> batches_per_account;
  int64_t items = 0;
  for (int i = 0; i < kCallers; ++i) {
    ASSERT_TRUE(status[i].ok()) << status[i].error_message();
    const std::vector<v1::DebitItem> sent = AllItems(batches[i].name());
    if (sent.empty()) continue;
    std::vector<v1::DebitResult> results;
    for (const v1::DebitItem& item : sent) {
      ++batches_per_account[item.account()];
      results.push_back(Result(item, v1::DEBIT_PAID));
    }
    items += sent.size();
    v1::DebitBatch out;
    const grpc::Status s = Import(batches[i], results, &out);
    ASSERT_TRUE(s.ok()) << s.error_message();
  }
  EXPECT_EQ(items, kUnits) << "every account in exactly one batch";
  EXPECT_EQ(batches_per_account.size(), static_cast<size_t>(kUnits));
  EXPECT_EQ(sql().Scalar("SELECT COUNT(*) FROM payments WHERE site = ? AND method = ?",
                         {site, static_cast<int>(v1::DIRECT_DEBIT)}),
            kUnits);
  for (int i = 0; i < kUnits; ++i) {
    const v1::Account a = GetAccount(site, absl::StrCat("u", i));
    EXPECT_EQ(a.balance_minor(), 0) << a.name();
    EXPECT_EQ(a.credit_minor(), 0) << a.name() << " was debited twice";
  }
  ExpectBooksBalance(site);
}

TEST_F(BillingReplicasTest, RunsOfOnePeriodCommitOneAfterTheOtherWhicheverReplicaHoldsThem) {
  const std::string site = NewSite();
  const v1::ChargeItem fee = PerAreaItem(site, "property-fee", "2");
  const v1::ChargeItem garden = FixedItem(site, "garden", "50");
  constexpr int kUnits = 40;  // six batches of seven per run
  for (int i = 0; i < kUnits; ++i) {
    OpenAccount(site, absl::StrCat("u", i), "1", "100", {fee, garden});
  }
  // Two clerks draft March; each commits theirs, on different replicas.
  const v1::BillRun first = Draft(site, "2026-03-01");
  const v1::BillRun second = Draft(site, "2026-03-01");
  ASSERT_EQ(first.lines(), 2 * kUnits);
  ASSERT_EQ(second.lines(), 2 * kUnits);
  std::vector<std::thread> clerks;
  std::vector<grpc::Status> status(2);
  const v1::BillRun* drafts[] = {&second, &first};  // the later draft is committed first
  for (int i = 0; i < 2; ++i) {
    clerks.emplace_back([&, i] {
      v1::CommitBillRunRequest req;
      req.set_name(drafts[i]->name());
      req.set_request_id(NewRequestId());
      v1::BillRun out;
      status[i] = On(i).CommitBillRun(Context().get(), req, &out);
    });
  }
  for (std::thread& t : clerks) t.join();
  ASSERT_TRUE(status[0].ok()) << status[0].error_message();
  ASSERT_TRUE(status[1].ok()) << status[1].error_message();

  const v1::BillRun a = AwaitRun(first.name());
  const v1::BillRun b = AwaitRun(second.name());
  EXPECT_EQ(a.state(), v1::COMMITTED) << a.failure();
  EXPECT_EQ(b.state(), v1::COMMITTED) << b.failure();
  // Every line issued once, by one run or the other; the other skipped it.
  EXPECT_EQ(a.lines_issued() + b.lines_issued(), 2 * kUnits);
  EXPECT_EQ(a.lines_skipped() + b.lines_skipped(), 2 * kUnits);
  EXPECT_EQ(sql().Scalar("SELECT COUNT(*) FROM bill_lines WHERE site = ?", {site}), 2 * kUnits);
  ExpectBooksBalance(site);
}

TEST_F(BillingReplicasTest, ACommitIssuesWhatItsDryRunShowedAndNotAccountsOpenedSince) {
  const std::string site = NewSite();
  const v1::ChargeItem fee = PerAreaItem(site, "property-fee", "2");
  for (int i = 0; i < 10; ++i) OpenAccount(site, absl::StrCat("u", i), "1", "100", {fee});
  const v1::BillRun draft = Draft(site, "2026-03-01");
  // A unit handed over between the dry run and its approval.
  OpenAccount(site, "new", "1", "120", {fee});
  const v1::BillRun run = Commit(draft);
  EXPECT_EQ(run.lines_issued(), draft.lines());
  EXPECT_EQ(run.issued_minor(), draft.total_minor());
  EXPECT_TRUE(Bills(site, "new").empty()) << "not on the approved draft";
  // The next run of the period shows it, and bills only it.
  const v1::BillRun rest = Draft(site, "2026-03-01");
  EXPECT_EQ(rest.lines(), 1);
  EXPECT_EQ(rest.total_minor(), 24000);
  const v1::BillRun done = Commit(rest);
  EXPECT_EQ(done.lines_issued(), 1);
  EXPECT_EQ(Bills(site, "new").size(), 1u);
}

}  // namespace
}  // namespace billing
