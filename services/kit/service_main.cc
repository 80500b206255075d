#include "services/kit/service_main.h"

#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "estate/api/v1/health_view.pb.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/impl/codegen/client_unary_call.h"
#include "grpcpp/impl/codegen/proto_utils.h"
#include "spdlog/spdlog.h"

ABSL_FLAG(bool, health_check, false,
          "Ask the process serving --grpc_addr for its gRPC health (over TLS with --tls_*) and "
          "exit 0 if SERVING: the readiness probe where the port speaks TLS, which kubelet's "
          "grpc probe cannot. The certificate must name localhost.");

namespace kit {

namespace {

int CheckOwnHealth(const HostOptions& options) {
  const std::string& addr = options.server.grpc_addr;
  const std::string target = absl::StrCat("127.0.0.1", addr.substr(addr.rfind(':')));
  absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> credentials =
      ServiceChannelCredentials(options.server.tls);
  if (!credentials.ok()) {
    fprintf(stderr, "%s\n", std::string(credentials.status().message()).c_str());
    return 2;
  }
  grpc::ChannelArguments args;
  if (options.server.tls.enabled()) args.SetSslTargetNameOverride("localhost");
  auto channel = grpc::CreateCustomChannel(target, *credentials, args);
  estate::api::v1::HealthCheckRequest req;
  estate::api::v1::HealthCheckResponse resp;
  grpc::ClientContext ctx;
  ctx.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(2)));
  const grpc::internal::RpcMethod method("/grpc.health.v1.Health/Check",
                                         grpc::internal::RpcMethod::NORMAL_RPC);
  const grpc::Status s = grpc::internal::BlockingUnaryCall(channel.get(), method, &ctx, req, &resp);
  if (!s.ok()) {
    fprintf(stderr, "health: %s\n", s.error_message().c_str());
    return 1;
  }
  fprintf(stderr, "health: %s\n", resp.status() == 1 ? "SERVING" : "NOT_SERVING");
  return resp.status() == 1 ? 0 : 1;
}

}  // namespace

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
  if (absl::GetFlag(FLAGS_health_check)) return CheckOwnHealth(options);
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
