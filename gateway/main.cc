// The gateway: HTTP/JSON and gRPC pass-through in front of every service.
// Wiring only: flags -> GatewayOptions.

#include "absl/flags/declare.h"
#include "absl/flags/flag.h"
#include "absl/strings/strip.h"
#include "absl/time/time.h"
#include "absl/strings/str_split.h"
#include "gateway/gateway.h"
#include "services/kit/file_text.h"
#include "services/kit/process_flags.h"
#include "services/kit/host.h"
#include "spdlog/spdlog.h"

ABSL_DECLARE_FLAG(std::string, grpc_addr);
ABSL_DECLARE_FLAG(absl::Duration, shutdown_grace);
ABSL_DECLARE_FLAG(absl::Duration, shutdown_drain);

ABSL_FLAG(std::string, http_addr, "127.0.0.1:8080", "host:port for HTTP/JSON, /metrics, /healthz, /readyz.");
ABSL_FLAG(std::string, backends,
          "billing=127.0.0.1:50051,tickets=127.0.0.1:50052,archives=127.0.0.1:50053,"
          "handover=127.0.0.1:50054,cleaning=127.0.0.1:50055",
          "name=address,... for each service (dns:///tickets:50052 in Kubernetes).");
ABSL_FLAG(std::string, jwt_hs256_secret_file, "", "File holding the HS256 secret (>= 32 bytes).");
ABSL_FLAG(std::string, jwt_rs256_public_key_file, "", "PEM public key for RS256 tokens.");
ABSL_FLAG(std::string, jwt_issuer, "estate", "Required iss claim (empty: not checked).");
ABSL_FLAG(std::string, jwt_audience, "estate-api", "Required aud claim (empty: not checked).");
ABSL_FLAG(std::string, api_keys_file, "",
          "JSON {\"api_keys\": [{name, sha256, roles, sites}]}: service accounts, keys stored hashed.");
ABSL_FLAG(double, rate_limit_per_second, 100, "Calls per second per principal (0: no limit).");
ABSL_FLAG(double, rate_limit_burst, 200, "Calls a principal may make at once.");
ABSL_FLAG(int64_t, max_body_bytes, 4 << 20, "Largest request body accepted (413 above).");
ABSL_FLAG(int, http_threads, 2, "Threads serving HTTP.");
ABSL_FLAG(int, grpc_threads, 0,
          "Completion-queue threads carrying the gateway's gRPC calls, in and out (0: one per two "
          "cores).");
ABSL_FLAG(int, backend_channels, 2, "Connections to each backend (round_robin over DNS within each).");
ABSL_FLAG(absl::Duration, upstream_deadline, absl::Seconds(10),
          "Deadline of a call to a backend unless the client asks for less.");
ABSL_FLAG(absl::Duration, health_interval, absl::Seconds(1), "How often backends' health is checked.");

namespace {

absl::StatusOr<gateway::GatewayOptions> OptionsFromFlags() {
  gateway::GatewayOptions o;
  o.http_addr = absl::GetFlag(FLAGS_http_addr);
  o.grpc_addr = absl::GetFlag(FLAGS_grpc_addr);
  if (o.grpc_addr.empty()) o.grpc_addr = "127.0.0.1:9090";
  for (absl::string_view entry : absl::StrSplit(absl::GetFlag(FLAGS_backends), ',', absl::SkipWhitespace())) {
    std::pair<std::string, std::string> kv = absl::StrSplit(entry, absl::MaxSplits('=', 1));
    if (kv.first.empty() || kv.second.empty()) {
      return absl::InvalidArgumentError("--backends: want name=address,...");
    }
    o.backends[kv.first] = kv.second;
  }
  if (auto f = absl::GetFlag(FLAGS_jwt_hs256_secret_file); !f.empty()) {
    auto secret = kit::ReadFileText(f, "--jwt_hs256_secret_file");
    if (!secret.ok()) return secret.status();
    o.jwt_hs256_secret = std::string(absl::StripTrailingAsciiWhitespace(*secret));
  }
  if (auto f = absl::GetFlag(FLAGS_jwt_rs256_public_key_file); !f.empty()) {
    auto pem = kit::ReadFileText(f, "--jwt_rs256_public_key_file");
    if (!pem.ok()) return pem.status();
    o.jwt_rs256_public_key_pem = *pem;
  }
  o.jwt_policy.issuer = absl::GetFlag(FLAGS_jwt_issuer);
  o.jwt_policy.audience = absl::GetFlag(FLAGS_jwt_audience);
  if (auto f = absl::GetFlag(FLAGS_api_keys_file); !f.empty()) {
    auto text = kit::ReadFileText(f, "--api_keys_file");
    if (!text.ok()) return text.status();
    auto keys = gateway::ParseApiKeys(*text);
    if (!keys.ok()) return keys.status();
    o.api_keys = *std::move(keys);
  }
  o.backend_tls = kit::TlsFilesFromFlags();
  o.identity_keys_dir = kit::IdentityKeysDirFromFlags();
  o.rate_per_second = absl::GetFlag(FLAGS_rate_limit_per_second);
  o.rate_burst = absl::GetFlag(FLAGS_rate_limit_burst);
  o.http.max_body_bytes = static_cast<size_t>(absl::GetFlag(FLAGS_max_body_bytes));
  o.http_threads = absl::GetFlag(FLAGS_http_threads);
  o.channels_per_backend = absl::GetFlag(FLAGS_backend_channels);
  o.grpc_threads = absl::GetFlag(FLAGS_grpc_threads);
  o.default_deadline = absl::GetFlag(FLAGS_upstream_deadline);
  o.health_interval = absl::GetFlag(FLAGS_health_interval);
  o.shutdown_grace = absl::GetFlag(FLAGS_shutdown_grace);
  o.shutdown_drain = absl::GetFlag(FLAGS_shutdown_drain);
  return o;
}

}  // namespace

int main(int argc, char** argv) {
  kit::BlockTerminationSignals();
  kit::ParseFlagsWithEnv(argc, argv, "estate gateway: HTTP/JSON and gRPC in front of the suite");
  auto options = OptionsFromFlags();
  if (!options.ok()) {
    spdlog::critical("gateway cannot start: {}", options.status().ToString());
    return 2;
  }
  auto gw = gateway::Gateway::Start(*options, &kit::RealClock());
  if (!gw.ok()) {
    spdlog::critical("gateway cannot start: {}", gw.status().ToString());
    return 1;
  }
  spdlog::info("gateway serving HTTP on {} (port {}), gRPC on {} (port {})", options->http_addr,
               (*gw)->http_port(), options->grpc_addr, (*gw)->grpc_port());
  const int sig = kit::WaitForTerminationSignal();
  spdlog::info("gateway received signal {}; draining", sig);
  (*gw)->Shutdown();
  spdlog::info("gateway stopped");
  return 0;
}
