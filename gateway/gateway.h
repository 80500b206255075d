#ifndef ESTATE_GATEWAY_GATEWAY_H_
#define ESTATE_GATEWAY_GATEWAY_H_

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "gateway/authenticator.h"
#include "gateway/backends.h"
#include "gateway/http_server.h"
#include "services/kit/jwt.h"
#include "services/kit/clock.h"
#include "services/kit/server_credentials.h"

namespace gateway {

struct GatewayOptions {
  std::string http_addr = "127.0.0.1:8080";
  std::string grpc_addr = "127.0.0.1:9090";
  // Backend name ("tickets") -> address; every service in the linked protos needs one.
  std::map<std::string, std::string> backends;
  // TLS to the backends (kit::TlsFiles); plaintext when empty.
  kit::TlsFiles backend_tls;
  // Holds <backend>.key for every backend: each call carries the caller in a
  // token signed for the service it goes to. Required.
  std::string identity_keys_dir;

  std::string jwt_hs256_secret;
  std::string jwt_rs256_public_key_pem;
  kit::JwtPolicy jwt_policy;
  std::vector<ApiKey> api_keys;

  double rate_per_second = 100;  // per principal; 0 turns limiting off
  double rate_burst = 200;
  HttpLimits http;
  int http_threads = 2;
  // Completion-queue threads carrying every gRPC call in and out of the
  // gateway (pass-through and HTTP's backend calls); 0: one per two cores.
  int grpc_threads = 0;
  int channels_per_backend = 2;
  absl::Duration default_deadline = absl::Seconds(10);
  absl::Duration health_interval = absl::Seconds(1);
  // On shutdown: /healthz and gRPC health say draining for `shutdown_drain`
  // while load balancers stop sending, then calls in flight get up to
  // `shutdown_grace` to finish.
  absl::Duration shutdown_drain = absl::ZeroDuration();
  absl::Duration shutdown_grace = absl::Seconds(5);
  // Packages under "estate." that are not services of the suite.
  std::vector<std::string> excluded_packages = {"estate.testing"};
  // If set, only these packages are served (a test of one service behind
  // the gateway names it here rather than excluding every other).
  std::vector<std::string> only_packages;
};

// The front door: HTTP/JSON (+ /healthz, /readyz, /metrics, /openapi.json)
// and gRPC pass-through, both over the same authentication, site scoping,
// rate limits and backends.
class Gateway {
 public:
  static absl::StatusOr<std::unique_ptr<Gateway>> Start(GatewayOptions options,
                                                        const kit::Clock* clock);
  ~Gateway();

  int http_port() const { return http_port_; }
  int grpc_port() const { return grpc_port_; }
  // Drains (see GatewayOptions), lets calls in flight finish, then stops.
  void Shutdown();

 private:
  struct Parts;
  explicit Gateway(std::unique_ptr<Parts> parts);
  std::unique_ptr<Parts> parts_;
  int http_port_ = 0;
  int grpc_port_ = 0;
};

}  // namespace gateway

#endif  // ESTATE_GATEWAY_GATEWAY_H_
