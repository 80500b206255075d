// The archives service: the register, the archive room and the key cabinet. Wiring only.
#include "absl/flags/flag.h"
#include "absl/time/time.h"
#include "services/archives/archives_service.h"
#include "services/kit/clock.h"
#include "services/kit/service_main.h"

ABSL_FLAG(absl::Duration, job_interval, absl::Seconds(30),
          "How often the key and archive-file gauges are read from the database.");

std::vector<kit::Migration> estate_archives_migrations();

int main(int argc, char** argv) {
  return kit::RunService(argc, argv, {"archives", "127.0.0.1:50053", "127.0.0.1:9103"},
                         estate_archives_migrations(), [](kit::ServiceHost& host) {
                           const absl::Duration every = absl::GetFlag(FLAGS_job_interval);
                           if (every <= absl::ZeroDuration()) {
                             return absl::InvalidArgumentError("--job_interval must be > 0");
                           }
                           archives::RegisterArchives(host, kit::RealClock(), every);
                           return absl::OkStatus();
                         });
}
