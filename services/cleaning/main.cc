// The cleaning service: the cleaning plan and the supplies warehouse. Wiring only.
#include "absl/flags/flag.h"
#include "absl/time/time.h"
#include "grpcpp/create_channel.h"
#include "services/cleaning/cleaning_service.h"
#include "services/kit/clock.h"
#include "services/kit/service_main.h"

ABSL_FLAG(std::string, tickets_addr, "127.0.0.1:50052",
          "host:port of the tickets service, where failed inspections open rectification "
          "tickets (through the outbox).");

ABSL_FLAG(absl::Duration, job_interval, absl::Minutes(1),
          "How often the periodic jobs run: today's and tomorrow's tasks, missed tasks, and the "
          "stock and issue-slip gauges (read from the database).");

std::vector<kit::Migration> estate_cleaning_migrations();

int main(int argc, char** argv) {
  return kit::RunService(argc, argv, {"cleaning", "127.0.0.1:50055", "127.0.0.1:9105"},
                         estate_cleaning_migrations(), [](kit::ServiceHost& host) {
                           cleaning::CleaningOptions options;
                           options.job_interval = absl::GetFlag(FLAGS_job_interval);
                           if (options.job_interval <= absl::ZeroDuration()) {
                             return absl::InvalidArgumentError("--job_interval must be > 0");
                           }
                           grpc::ChannelArguments args;
                           // See tickets back within a second of its return,
                           // not after gRPC's reconnect backoff (up to 2 min).
                           args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 1000);
                           absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>>
                               credentials = kit::ServiceChannelCredentials(host.tls());
                           if (!credentials.ok()) return credentials.status();
                           options.tickets = grpc::CreateCustomChannel(
                               absl::GetFlag(FLAGS_tickets_addr), *credentials, args);
                           cleaning::RegisterCleaning(host, kit::RealClock(), options);
                           return absl::OkStatus();
                         });
}
