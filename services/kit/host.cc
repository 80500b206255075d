#include "services/kit/host.h"

#include <signal.h>

#include <filesystem>

#include "absl/strings/str_cat.h"
#include "grpcpp/ext/proto_server_reflection_plugin.h"
#include "grpcpp/health_check_service_interface.h"
#include "grpcpp/security/server_credentials.h"
#include "grpcpp/server_builder.h"
#include "prometheus/gauge.h"
#include "services/kit/idempotency.h"
#include "spdlog/spdlog.h"

namespace kit {

void BlockTerminationSignals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
}

int WaitForTerminationSignal() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  int sig = 0;
  sigwait(&set, &sig);
  return sig;
}

ServiceHost::ServiceHost(HostOptions options)
    : options_(std::move(options)), registry_(std::make_shared<prometheus::Registry>()) {
  // Debian's Abseil is built with mutex deadlock detection on; it costs a
  // graph update on every lock, and our lock order is flat.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
}

absl::StatusOr<std::unique_ptr<ServiceHost>> ServiceHost::Create(
    HostOptions options, const std::vector<Migration>& migrations) {
  std::unique_ptr<ServiceHost> host(new ServiceHost(std::move(options)));
  if (absl::Status s = host->LoadIdentity(); !s.ok()) return s;
  host->db_ = std::make_unique<Db>(host->options_.db, host->registry_.get());
  host->grpc_metrics_ = std::make_unique<GrpcServerMetrics>(*host->registry_);
  host->up_gauge_ = &prometheus::BuildGauge()
                         .Name("estate_db_up")
                         .Help("1 while the service's database answers its health check.")
                         .Register(*host->registry_)
                         .Add({});

  // Kubernetes may start us before the database; wait rather than crash-loop.
  const absl::Time give_up = absl::Now() + host->options_.startup_db_wait;
  absl::Status ping;
  for (int attempt = 0;; ++attempt) {
    ping = host->db_->Ping(absl::Now() + absl::Seconds(5));
    if (ping.ok() || absl::Now() >= give_up) break;
    if (attempt % 10 == 0) spdlog::warn("waiting for the database: {}", std::string(ping.message()));
    absl::SleepFor(absl::Milliseconds(500));
  }
  if (!ping.ok()) return ping;
  const absl::Time deadline = absl::Now() + absl::Minutes(5);
  if (absl::Status s = Migrate(*host->db_, "kit", KitMigrations(), deadline); !s.ok()) return s;
  if (absl::Status s = Migrate(*host->db_, host->options_.name, migrations, deadline); !s.ok()) {
    return s;
  }
  // request_ids are kept a day at least; then they are only weight.
  Db* db = host->db_.get();
  host->AddJob("idempotency-purge", absl::Minutes(10), [db] {
    return PurgeIdempotencyKeys(*db, absl::Now() - absl::Hours(25), absl::Now() + absl::Minutes(1))
        .status();
  });
  return host;
}

ServiceHost::~ServiceHost() { Shutdown(); }

absl::Status ServiceHost::LoadIdentity() {
  const std::string& dir = options_.server.identity_keys_dir;
  if (dir.empty()) {
    return absl::FailedPreconditionError(
        "--identity_keys_dir is required: without it anyone who reaches the port could call "
        "as anyone (tools/up makes dev keys; k8s mounts them from a Secret)");
  }
  absl::StatusOr<std::string> own = ReadIdentityKey(dir, options_.name);
  if (!own.ok()) return own.status();
  absl::StatusOr<std::unique_ptr<IdentityVerifier>> verifier =
      IdentityVerifier::Create(options_.name, *std::move(own));
  if (!verifier.ok()) return verifier.status();
  verifier_ = *std::move(verifier);
  // Every other key mounted here is a service this one may call.
  std::vector<std::string> audiences;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
    if (entry.path().extension() == ".key") audiences.push_back(entry.path().stem().string());
  }
  absl::StatusOr<std::unique_ptr<IdentitySigner>> signer =
      IdentitySigner::FromDir(options_.name, dir, audiences);
  if (!signer.ok()) return signer.status();
  signer_ = *std::move(signer);
  return absl::OkStatus();
}

void ServiceHost::AddService(std::unique_ptr<grpc::Service> service,
                             const google::protobuf::ServiceDescriptor* descriptor) {
  grpc_metrics_->AddService(*descriptor);
  service_names_.push_back(descriptor->full_name());
  services_.push_back(std::move(service));
}

void ServiceHost::AddJob(std::string name, absl::Duration every,
                         std::function<absl::Status()> fn) {
  jobs_.push_back({std::move(name), every, std::move(fn), absl::Now()});
}

absl::Status ServiceHost::Start() {
  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  grpc_metrics_->AddMethod("/grpc.health.v1.Health/Check", false, false);
  grpc_metrics_->AddMethod("/grpc.health.v1.Health/Watch", false, true);
  grpc_metrics_->AddMethod("/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo",
                           true, true);

  try {
    exposer_ = std::make_unique<prometheus::Exposer>(options_.server.metrics_addr);
  } catch (const std::exception& e) {
    return absl::FailedPreconditionError(
        absl::StrCat("cannot serve metrics on ", options_.server.metrics_addr, ": ", e.what()));
  }
  exposer_->RegisterCollectable(registry_);
  metrics_port_ = exposer_->GetListeningPorts().empty() ? 0 : exposer_->GetListeningPorts()[0];

  absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> credentials =
      ServiceServerCredentials(options_.server.tls, verifier_, registry_.get());
  if (!credentials.ok()) {
    exposer_.reset();
    return credentials.status();
  }
  grpc::ServerBuilder builder;
  builder.AddListeningPort(options_.server.grpc_addr, *credentials, &grpc_port_);
  // Without this two processes can bind the same port and split its traffic.
  builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_TIME_MS, 60 * 1000);
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_TIMEOUT_MS, 20 * 1000);
  builder.AddChannelArgument(GRPC_ARG_HTTP2_MIN_RECV_PING_INTERVAL_WITHOUT_DATA_MS, 10 * 1000);
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS, 1);
  builder.AddChannelArgument(GRPC_ARG_MAX_CONNECTION_AGE_MS, 30 * 60 * 1000);
  builder.AddChannelArgument(GRPC_ARG_MAX_CONNECTION_AGE_GRACE_MS, 60 * 1000);
  builder.SetMaxReceiveMessageSize(4 * 1024 * 1024);
  // Handlers block on the database, so several threads are busy at once. With
  // gRPC's default of at most two idle pollers, every burst creates threads and
  // every lull destroys them again (measured: thread churn was the largest
  // cost of a GetTicket). Keep enough of them around.
  builder.SetSyncServerOption(grpc::ServerBuilder::SyncServerOption::MIN_POLLERS, 4);
  builder.SetSyncServerOption(grpc::ServerBuilder::SyncServerOption::MAX_POLLERS, 256);
  for (auto& s : services_) builder.RegisterService(s.get());
  std::vector<std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>> icpt;
  icpt.push_back(std::make_unique<MetricsInterceptorFactory>(grpc_metrics_.get()));
  builder.experimental().SetInterceptorCreators(std::move(icpt));
  server_ = builder.BuildAndStart();
  if (server_ == nullptr || grpc_port_ == 0) {
    exposer_.reset();
    return absl::FailedPreconditionError(
        absl::StrCat("cannot serve gRPC on ", options_.server.grpc_addr, " (address in use?)"));
  }
  SetServing(db_->Ping(absl::Now() + absl::Seconds(1)).ok());
  health_thread_ = std::thread([this] { HealthLoop(); });
  job_thread_ = std::thread([this] { JobLoop(); });
  return absl::OkStatus();
}

void ServiceHost::SetServing(bool serving) {
  absl::MutexLock lock(&mu_);
  if (shut_down_ || server_ == nullptr) return;
  up_gauge_->Set(serving ? 1 : 0);
  grpc::HealthCheckServiceInterface* health = server_->GetHealthCheckService();
  health->SetServingStatus(serving);
  for (const std::string& name : service_names_) health->SetServingStatus(name, serving);
  if (serving != serving_) {
    spdlog::log(serving ? spdlog::level::info : spdlog::level::warn,
                "health: {} {}", options_.name, serving ? "SERVING" : "NOT_SERVING (database unreachable)");
  }
  serving_ = serving;
}

void ServiceHost::HealthLoop() {
  while (!stopping_.WaitForNotificationWithTimeout(options_.server.health_interval)) {
    SetServing(db_->Ping(absl::Now() + absl::Seconds(1)).ok());
  }
}

void ServiceHost::JobLoop() {
  while (!stopping_.WaitForNotificationWithTimeout(absl::Milliseconds(200))) {
    const absl::Time now = absl::Now();
    for (Job& job : jobs_) {
      if (now < job.next) continue;
      absl::Status s;
      try {
        s = job.fn();
      } catch (const std::exception& e) {
        s = absl::InternalError(e.what());
      }
      if (!s.ok()) spdlog::warn("job {} failed: {}", job.name, s.ToString());
      job.next = absl::Now() + job.every;
      if (stopping_.HasBeenNotified()) return;
    }
  }
}

void ServiceHost::Shutdown() {
  {
    absl::MutexLock lock(&mu_);
    if (shut_down_ || server_ == nullptr) {
      shut_down_ = true;
      return;
    }
    // Load balancers stop sending before we stop accepting.
    server_->GetHealthCheckService()->Shutdown();
    shut_down_ = true;
  }
  stopping_.Notify();
  absl::SleepFor(options_.server.drain_delay);
  server_->Shutdown(std::chrono::system_clock::now() +
                    absl::ToChronoSeconds(options_.server.shutdown_grace));
  server_->Wait();
  if (health_thread_.joinable()) health_thread_.join();
  if (job_thread_.joinable()) job_thread_.join();
  exposer_.reset();
}

}  // namespace kit
