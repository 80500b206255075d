#ifndef ESTATE_SERVICES_BILLING_BILLING_SERVICE_H_
#define ESTATE_SERVICES_BILLING_BILLING_SERVICE_H_

#include <functional>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "estate/billing/v1/billing.grpc.pb.h"
#include "prometheus/counter.h"
#include "prometheus/gauge.h"
#include "prometheus/histogram.h"
#include "prometheus/registry.h"
#include "services/billing/billing_store.h"
#include "services/kit/clock.h"
#include "services/kit/db.h"
#include "services/kit/group_commit.h"
#include "services/kit/host.h"

namespace billing {

namespace v1 = ::estate::billing::v1;

struct BillingOptions {
  // Accounts per commit transaction of a bill run.
  int commit_batch = 500;
  // How long a replica owns a committing run between batches before another
  // may take it over (a crashed replica's run resumes after this).
  absl::Duration commit_lease = absl::Seconds(30);
  absl::Duration job_interval = absl::Seconds(30);
  // Whether this process commits bill runs on its own thread; a test that
  // drives CommitStep() itself turns it off.
  bool run_committer = true;
};

// gRPC layer of estate.billing.v1: validates requests, runs the money rules
// inside store transactions, maps outcomes to status codes. Owns the thread
// that commits bill runs in batches.
class BillingService final : public v1::BillingService::Service {
 public:
  BillingService(kit::Db& db, const kit::Clock& clock, prometheus::Registry& registry,
                 BillingOptions options);
  ~BillingService() override;

  grpc::Status GetBillingSettings(grpc::ServerContext* ctx,
                                  const v1::GetBillingSettingsRequest* req,
                                  v1::BillingSettings* resp) override;
  grpc::Status UpdateBillingSettings(grpc::ServerContext* ctx,
                                     const v1::UpdateBillingSettingsRequest* req,
                                     v1::BillingSettings* resp) override;
  grpc::Status CreateChargeItem(grpc::ServerContext* ctx, const v1::CreateChargeItemRequest* req,
                                v1::ChargeItem* resp) override;
  grpc::Status UpdateChargeItem(grpc::ServerContext* ctx, const v1::UpdateChargeItemRequest* req,
                                v1::ChargeItem* resp) override;
  grpc::Status GetChargeItem(grpc::ServerContext* ctx, const v1::GetChargeItemRequest* req,
                             v1::ChargeItem* resp) override;
  grpc::Status ListChargeItems(grpc::ServerContext* ctx, const v1::ListChargeItemsRequest* req,
                               v1::ListChargeItemsResponse* resp) override;
  grpc::Status CreateAccount(grpc::ServerContext* ctx, const v1::CreateAccountRequest* req,
                             v1::Account* resp) override;
  grpc::Status GetAccount(grpc::ServerContext* ctx, const v1::GetAccountRequest* req,
                          v1::Account* resp) override;
  grpc::Status ListAccounts(grpc::ServerContext* ctx, const v1::ListAccountsRequest* req,
                            v1::ListAccountsResponse* resp) override;
  grpc::Status UpdateAccount(grpc::ServerContext* ctx, const v1::UpdateAccountRequest* req,
                             v1::Account* resp) override;
  grpc::Status ChargeAccount(grpc::ServerContext* ctx, const v1::ChargeAccountRequest* req,
                             v1::Bill* resp) override;
  grpc::Status RefundCharge(grpc::ServerContext* ctx, const v1::RefundChargeRequest* req,
                            v1::ChargeRefund* resp) override;
  grpc::Status RecordMeterReading(grpc::ServerContext* ctx,
                                  const v1::RecordMeterReadingRequest* req,
                                  v1::MeterReading* resp) override;
  grpc::Status ListMeterReadings(grpc::ServerContext* ctx,
                                 const v1::ListMeterReadingsRequest* req,
                                 v1::ListMeterReadingsResponse* resp) override;
  grpc::Status CreateBillRun(grpc::ServerContext* ctx, const v1::CreateBillRunRequest* req,
                             v1::BillRun* resp) override;
  grpc::Status GetBillRun(grpc::ServerContext* ctx, const v1::GetBillRunRequest* req,
                          v1::BillRun* resp) override;
  grpc::Status ListBillRuns(grpc::ServerContext* ctx, const v1::ListBillRunsRequest* req,
                            v1::ListBillRunsResponse* resp) override;
  grpc::Status ListBillRunLines(grpc::ServerContext* ctx, const v1::ListBillRunLinesRequest* req,
                                v1::ListBillRunLinesResponse* resp) override;
  grpc::Status CommitBillRun(grpc::ServerContext* ctx, const v1::CommitBillRunRequest* req,
                             v1::BillRun* resp) override;
  grpc::Status GetBill(grpc::ServerContext* ctx, const v1::GetBillRequest* req,
                       v1::Bill* resp) override;
  grpc::Status ListBills(grpc::ServerContext* ctx, const v1::ListBillsRequest* req,
                         v1::ListBillsResponse* resp) override;
  grpc::Status HoldBillLine(grpc::ServerContext* ctx, const v1::HoldBillLineRequest* req,
                            v1::BillLine* resp) override;
  grpc::Status ReleaseBillLine(grpc::ServerContext* ctx, const v1::ReleaseBillLineRequest* req,
                               v1::BillLine* resp) override;
  grpc::Status WriteOffBillLine(grpc::ServerContext* ctx,
                                const v1::WriteOffBillLineRequest* req,
                                v1::BillLine* resp) override;
  grpc::Status AssessLateFees(grpc::ServerContext* ctx, const v1::AssessLateFeesRequest* req,
                              v1::LateFeeAssessment* resp) override;
  grpc::Status RecordPayment(grpc::ServerContext* ctx, const v1::RecordPaymentRequest* req,
                             v1::Payment* resp) override;
  grpc::Status GetPayment(grpc::ServerContext* ctx, const v1::GetPaymentRequest* req,
                          v1::Payment* resp) override;
  grpc::Status ListPayments(grpc::ServerContext* ctx, const v1::ListPaymentsRequest* req,
                            v1::ListPaymentsResponse* resp) override;
  grpc::Status ReversePayment(grpc::ServerContext* ctx, const v1::ReversePaymentRequest* req,
                              v1::Payment* resp) override;
  grpc::Status CreateDebitBatch(grpc::ServerContext* ctx, const v1::CreateDebitBatchRequest* req,
                                v1::DebitBatch* resp) override;
  grpc::Status GetDebitBatch(grpc::ServerContext* ctx, const v1::GetDebitBatchRequest* req,
                             v1::DebitBatch* resp) override;
  grpc::Status ListDebitItems(grpc::ServerContext* ctx, const v1::ListDebitItemsRequest* req,
                              v1::ListDebitItemsResponse* resp) override;
  grpc::Status ImportDebitResults(grpc::ServerContext* ctx,
                                  const v1::ImportDebitResultsRequest* req,
                                  v1::DebitBatch* resp) override;
  grpc::Status ListLedgerEntries(grpc::ServerContext* ctx,
                                 const v1::ListLedgerEntriesRequest* req,
                                 v1::ListLedgerEntriesResponse* resp) override;
  grpc::Status GetCollectionReport(grpc::ServerContext* ctx,
                                   const v1::GetCollectionReportRequest* req,
                                   v1::CollectionReport* resp) override;
  grpc::Status GetPortfolioReport(grpc::ServerContext* ctx,
                                  const v1::GetPortfolioReportRequest* req,
                                  v1::PortfolioReport* resp) override;
  grpc::Status GetArrearsAging(grpc::ServerContext* ctx, const v1::GetArrearsAgingRequest* req,
                               v1::ArrearsAging* resp) override;

  // Tests only: late-fee assessment takes `batch` accounts per transaction
  // and calls `hook` inside each, once the batch's accounts and lines are
  // locked, with their ids.
  void SetLateFeeBatchForTest(int batch, std::function<void(const std::vector<int64_t>&)> hook);

  // One batch of some committing bill run, if any is due; false when there
  // was nothing to do. The commit thread calls it; tests may too.
  absl::StatusOr<bool> CommitStep();
  // Refreshes the per-site collection ratio and arrears gauges.
  absl::Status RefreshGauges();

 private:
  // Posts payments to locked accounts (PlanPayment: named bills first, else
  // oldest lines; then credit; the ledger), in a constant number of
  // statements however many payments and lines: one locking read of the
  // accounts' open lines, then multi-row writes. Several payments of one
  // account are posted in order. A payment whose plan is refused (a named
  // bill with nothing left to pay) gets its error and the others are
  // posted; an error of the database fails them all. Adds what was
  // collected by charge item id.
  struct PaymentInput {
    int64_t account_id = 0;  // one of the locked accounts
    v1::PaymentMethod method = v1::CASH;
    std::string reference;
    int64_t amount_minor = 0;
    std::string currency;
    absl::CivilDay received_on;
    std::vector<int64_t> named_bills;
    std::string actor;
  };
  absl::StatusOr<std::vector<absl::StatusOr<store::PaymentRow>>> PostPayments(
      kit::Conn& c, std::vector<store::LockedAccount*> accounts,
      const std::vector<PaymentInput>& ins, std::map<int64_t, int64_t>* collected_by_item);
  // RecordPayment's write, group-committed: concurrent payments of a site
  // share one transaction (PostPayments) and one durable commit, their
  // claims recorded last with their answers (kit::ClaimAll). A payment the
  // batch cannot post as asked (a currency or account that does not match,
  // a named bill with nothing to pay, a request_id claimed before, any
  // database error) is not posted there and runs alone, through
  // IdempotentWrite, which gives its error or its earlier answer.
  struct PaymentJob {
    std::string site;
    std::string unit;
    PaymentInput input;  // account_id found by the batch
    std::string request_id;
    std::string fingerprint;
    absl::Time deadline;
    bool posted = false;
    v1::Payment response;
  };
  void FlushPayments(const std::vector<PaymentJob*>& jobs);
  // Counts money collected (by charge item id) in the metrics, by item code.
  void CountCollected(const std::string& site, const std::map<int64_t, int64_t>& by_item);
  void CommitLoop();
  void WakeCommitter();
  bool WokenOrStopping() ABSL_EXCLUSIVE_LOCKS_REQUIRED(wake_mu_) { return wake_ || stopping_; }
  absl::Status ChangeLine(grpc::ServerContext* ctx, const std::string& method,
                          const google::protobuf::Message& req, const std::string& name,
                          const std::string& request_id, v1::BillLine* resp,
                          const std::function<absl::Status(kit::Conn&, store::LineRow&,
                                                           store::LockedAccount&)>& change);

  kit::Db& db_;
  const kit::Clock& clock_;
  const BillingOptions options_;
  prometheus::Family<prometheus::Counter>& collected_;
  prometheus::Family<prometheus::Counter>& reversed_;
  prometheus::Family<prometheus::Counter>& debit_failures_;
  prometheus::Family<prometheus::Gauge>& ratio_;
  prometheus::Family<prometheus::Gauge>& arrears_;
  prometheus::Family<prometheus::Gauge>& committing_;
  prometheus::Family<prometheus::Gauge>& commit_age_;
  prometheus::Histogram& run_seconds_;
  prometheus::Counter& lines_issued_;
  prometheus::Histogram& payment_batch_;

  absl::Mutex codes_mu_;
  std::map<int64_t, std::string> item_codes_ ABSL_GUARDED_BY(codes_mu_);
  // Sites' currencies once a payment of theirs committed: from then on the
  // setting cannot change (UpdateSettings refuses), so no batch reads it.
  std::map<std::string, std::string> fixed_currency_ ABSL_GUARDED_BY(codes_mu_);
  absl::Mutex late_fee_mu_;
  int late_fee_batch_ ABSL_GUARDED_BY(late_fee_mu_) = 200;
  std::function<void(const std::vector<int64_t>&)> late_fee_hook_ ABSL_GUARDED_BY(late_fee_mu_);

  absl::Mutex wake_mu_;
  bool wake_ ABSL_GUARDED_BY(wake_mu_) = false;
  bool stopping_ ABSL_GUARDED_BY(wake_mu_) = false;
  kit::GroupCommit<PaymentJob> payments_;
  std::thread committer_;
};

// Registers the service and its jobs on a host (main() and the tests share
// it). Returns the service (owned by the host).
BillingService* RegisterBilling(kit::ServiceHost& host, const kit::Clock& clock,
                                BillingOptions options = {});

}  // namespace billing

#endif  // ESTATE_SERVICES_BILLING_BILLING_SERVICE_H_
