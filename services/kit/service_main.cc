#include "services/kit/service_main.h"

#include "absl/strings/str_cat.h"
#include "spdlog/spdlog.h"

namespace kit {

int RunService(int argc, char** argv, const ServiceDefaults& defaults,
               const std::vector<Migration>& migrations, const RegisterFn& add) {
  BlockTerminationSignals();
  ParseFlagsWithEnv(argc, argv,
                    absl::StrCat("estate ", defaults.name, " service").c_str());
  absl::StatusOr<HostOptions> parsed = HostOptionsFromFlags(defaults);
  if (!parsed.ok()) {
    spdlog::critical("{} cannot start: {}", defaults.name, parsed.status().ToString());
    return 2;
  }
  const HostOptions& options = *parsed;
  absl::StatusOr<std::unique_ptr<ServiceHost>> host = ServiceHost::Create(options, migrations);
  if (!host.ok()) {
    spdlog::critical("{} cannot start: {}", defaults.name, host.status().ToString());
    return 1;
  }
  if (absl::Status s = add(**host); !s.ok()) {
    spdlog::critical("{} cannot start: {}", defaults.name, s.ToString());
    return 1;
  }
  if (absl::Status s = (*host)->Start(); !s.ok()) {
    spdlog::critical("{} cannot start: {}", defaults.name, s.ToString());
    return 1;
  }
  spdlog::info("{} serving gRPC on {} (port {}), metrics on {} (port {})", defaults.name,
               options.server.grpc_addr, (*host)->grpc_port(), options.server.metrics_addr,
               (*host)->metrics_port());
  const int sig = WaitForTerminationSignal();
  spdlog::info("{} received signal {}; draining", defaults.name, sig);
  (*host)->Shutdown();
  spdlog::info("{} stopped", defaults.name);
  return 0;
}

}  // namespace kit
