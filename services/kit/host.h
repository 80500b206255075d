#ifndef ESTATE_SERVICES_KIT_HOST_H_
#define ESTATE_SERVICES_KIT_HOST_H_

#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "google/protobuf/descriptor.h"
#include "grpcpp/server.h"
#include "grpcpp/impl/service_type.h"
#include "prometheus/exposer.h"
#include "prometheus/registry.h"
#include "services/kit/db.h"
#include "services/kit/grpc_metrics.h"
#include "services/kit/migrations.h"
#include "services/kit/server_credentials.h"
#include "services/kit/service_identity.h"

namespace kit {

struct ServerOptions {
  std::string grpc_addr = "127.0.0.1:0";
  std::string metrics_addr = "127.0.0.1:0";
  absl::Duration shutdown_grace = absl::Seconds(10);
  // After health turns NOT_SERVING and before the server stops accepting:
  // time for load balancers (readiness probes) to stop sending.
  absl::Duration drain_delay = absl::ZeroDuration();
  // How often health re-checks the database.
  absl::Duration health_interval = absl::Seconds(1);
  // TLS on the gRPC port (and for the calls this process makes); off when empty.
  TlsFiles tls;
  // Holds <name>.key, which verifies the identity tokens of calls to this
  // service, and the keys of the services it calls (IdentitySigner). Required.
  std::string identity_keys_dir;
};

struct HostOptions {
  std::string name;  // "tickets": component name for migrations and logs
  ServerOptions server;
  DbOptions db;
  absl::Duration startup_db_wait = absl::Seconds(120);
};

// Everything one service process runs besides its own logic: the database pool
// and its migrations, the gRPC server with health (NOT_SERVING while the
// database is unreachable), reflection, keepalive and metrics, the /metrics
// endpoint, periodic jobs, and graceful shutdown.
class ServiceHost {
 public:
  // Waits for the database (up to startup_db_wait) and applies the kit's and
  // the service's migrations.
  static absl::StatusOr<std::unique_ptr<ServiceHost>> Create(
      HostOptions options, const std::vector<Migration>& migrations);
  ~ServiceHost();

  Db& db() { return *db_; }
  prometheus::Registry& registry() { return *registry_; }
  // Signs this service's calls to others (outbox relays, direct reads) with
  // every key in identity_keys_dir; the issuer is the service's name.
  std::shared_ptr<const IdentitySigner> identity_signer() const { return signer_; }
  // For channels to other estate processes.
  const TlsFiles& tls() const { return options_.server.tls; }

  // Before Start(). The host keeps the service alive.
  void AddService(std::unique_ptr<grpc::Service> service,
                  const google::protobuf::ServiceDescriptor* descriptor);
  // Before Start(): fn runs every `every` on a background thread until
  // shutdown; a failure is logged and retried next time.
  void AddJob(std::string name, absl::Duration every,
              std::function<absl::Status()> fn);

  // Binds both ports; fails (with the address) if one is taken.
  absl::Status Start();
  int grpc_port() const { return grpc_port_; }
  int metrics_port() const { return metrics_port_; }

  // Health turns NOT_SERVING, new calls are refused, in-flight calls get up to
  // shutdown_grace to finish. Idempotent.
  void Shutdown();

 private:
  ServiceHost(HostOptions options);
  void HealthLoop();
  void JobLoop();
  void SetServing(bool serving);
  absl::Status LoadIdentity();

  const HostOptions options_;
  std::shared_ptr<prometheus::Registry> registry_;
  std::unique_ptr<Db> db_;
  std::unique_ptr<GrpcServerMetrics> grpc_metrics_;
  std::shared_ptr<const IdentityVerifier> verifier_;
  std::shared_ptr<const IdentitySigner> signer_;
  std::vector<std::unique_ptr<grpc::Service>> services_;
  std::vector<std::string> service_names_;
  struct Job {
    std::string name;
    absl::Duration every;
    std::function<absl::Status()> fn;
    absl::Time next;
  };
  std::vector<Job> jobs_;

  std::unique_ptr<grpc::Server> server_;
  std::unique_ptr<prometheus::Exposer> exposer_;
  int grpc_port_ = 0;
  int metrics_port_ = 0;
  absl::Notification stopping_;
  std::thread health_thread_;
  std::thread job_thread_;
  absl::Mutex mu_;
  bool serving_ ABSL_GUARDED_BY(mu_) = false;
  bool shut_down_ ABSL_GUARDED_BY(mu_) = false;
  prometheus::Gauge* up_gauge_ = nullptr;
};

// For main(): blocks SIGTERM/SIGINT in this thread (and so in every thread
// started after it); call first thing.
void BlockTerminationSignals();
// Waits for SIGTERM or SIGINT; returns the signal.
int WaitForTerminationSignal();

}  // namespace kit

#endif  // ESTATE_SERVICES_KIT_HOST_H_
