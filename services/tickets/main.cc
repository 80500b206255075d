// The tickets service: the customer-service desk's tickets, return visits,
// surveys and SLA. Wiring only.
#include "absl/flags/flag.h"
#include "absl/time/time.h"
#include "services/kit/clock.h"
#include "services/kit/service_main.h"
#include "services/tickets/tickets_service.h"

ABSL_FLAG(absl::Duration, job_interval, absl::Seconds(15),
          "How often the periodic jobs run: the SLA breach scan and the open-ticket gauges "
          "(read from the database).");

std::vector<kit::Migration> estate_tickets_migrations();

int main(int argc, char** argv) {
  return kit::RunService(argc, argv, {"tickets", "127.0.0.1:50052", "127.0.0.1:9102"},
                         estate_tickets_migrations(), [](kit::ServiceHost& host) {
                           const absl::Duration every = absl::GetFlag(FLAGS_job_interval);
                           if (every <= absl::ZeroDuration()) {
                             return absl::InvalidArgumentError("--job_interval must be > 0");
                           }
                           tickets::RegisterTickets(host, kit::RealClock(), every);
                           return absl::OkStatus();
                         });
}
