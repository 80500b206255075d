#ifndef ESTATE_TESTS_SUPPORT_IN_PROCESS_H_
#define ESTATE_TESTS_SUPPORT_IN_PROCESS_H_

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "grpcpp/channel.h"
#include "grpcpp/client_context.h"
#include "services/kit/host.h"
#include "services/kit/migrations.h"

namespace testing_support {

// A service running in this process exactly as main() runs it (same host,
// migrations and registration), on ports 0, with a real channel to it.
class InProcessService {
 public:
  using Register = std::function<void(kit::ServiceHost&)>;
  // Fails the test (fatally) if the service cannot start.
  static std::unique_ptr<InProcessService> Start(
      const std::string& name, const kit::DbOptions& db,
      const std::vector<kit::Migration>& migrations, const Register& add,
      absl::Duration health_interval = absl::Seconds(1),
      const std::string& grpc_addr = "127.0.0.1:0");
  ~InProcessService();

  kit::ServiceHost& host() { return *host_; }
  std::shared_ptr<grpc::Channel> channel() { return channel_; }
  std::string address() const;
  int metrics_port() const { return host_->metrics_port(); }
  void Shutdown();

 private:
  std::unique_ptr<kit::ServiceHost> host_;
  std::shared_ptr<grpc::Channel> channel_;
};

// A client context with a deadline and an identity token for `caller` with
// `roles`, as the gateway sends it (signed with the test key, addressed to
// every service). An empty caller sends no token.
std::unique_ptr<grpc::ClientContext> Context(
    const std::string& caller = "user:test",
    absl::Duration timeout = absl::Seconds(10), const std::string& roles = "");

// The identity keys tests run with: a directory holding <name>.key for every
// service of the suite and the test backends ("testing"), one secret for all
// (made once per test process). Pass it as --identity_keys_dir.
const std::string& TestIdentityKeysDir();
// A token for `caller` with `roles`, addressed to every service, valid from
// `now` for kit::kIdentityTokenLifetime, signed with the test key.
std::string TestIdentityToken(const std::string& caller, const std::string& roles,
                              absl::Time now);

// grpc.health.v1.Health/Check: 1 SERVING, 2 NOT_SERVING, or -code on error.
int HealthStatus(grpc::Channel& channel, const std::string& service = "");

// A plain HTTP/1.1 GET to 127.0.0.1:port; the body, or "" on failure.
std::string HttpGet(int port, const std::string& path);

// Runs `promtool check metrics` on `text`; returns its output ("" when clean)
// and sets *exit_code.
std::string PromtoolCheck(const std::string& text, int* exit_code);

// A random version-4 UUID.
std::string NewRequestId();

}  // namespace testing_support

#endif  // ESTATE_TESTS_SUPPORT_IN_PROCESS_H_
