// The billing service: charge items, bill runs, payments, arrears and
// collection reports. Wiring only.
#include "absl/flags/flag.h"
#include "absl/time/time.h"
#include "services/billing/billing_service.h"
#include "services/kit/clock.h"
#include "services/kit/service_main.h"

ABSL_FLAG(int, bill_run_batch, 500, "Accounts issued per transaction when a bill run commits.");
ABSL_FLAG(absl::Duration, bill_run_lease, absl::Seconds(30),
          "How long a replica owns a committing bill run between batches: a run whose replica "
          "died resumes on another (or on the restarted one) after this.");

ABSL_FLAG(absl::Duration, job_interval, absl::Seconds(30),
          "How often the gauges read from the database (collection ratio, arrears, bill runs "
          "committing) are refreshed.");

std::vector<kit::Migration> estate_billing_migrations();

int main(int argc, char** argv) {
  return kit::RunService(argc, argv, {"billing", "127.0.0.1:50051", "127.0.0.1:9101"},
                         estate_billing_migrations(), [](kit::ServiceHost& host) {
                           billing::BillingOptions options;
                           options.commit_batch = absl::GetFlag(FLAGS_bill_run_batch);
                           options.commit_lease = absl::GetFlag(FLAGS_bill_run_lease);
                           options.job_interval = absl::GetFlag(FLAGS_job_interval);
                           if (options.commit_batch < 1) {
                             return absl::InvalidArgumentError("--bill_run_batch must be >= 1");
                           }
                           if (options.commit_lease < absl::Seconds(1)) {
                             return absl::InvalidArgumentError("--bill_run_lease must be >= 1s");
                           }
                           if (options.job_interval <= absl::ZeroDuration()) {
                             return absl::InvalidArgumentError("--job_interval must be > 0");
                           }
                           billing::RegisterBilling(host, kit::RealClock(), options);
                           return absl::OkStatus();
                         });
}
