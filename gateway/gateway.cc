#include "gateway/gateway.h"

#include <algorithm>
#include <limits>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "grpcpp/ext/health_check_service_server_builder_option.h"
#include "gateway/catalog.h"
#include "gateway/http_api.h"
#include "gateway/openapi.h"
#include "gateway/passthrough.h"
#include "gateway/pipeline.h"
#include "gateway/rate_limiter.h"
#include "gateway/reflection.h"
#include "grpcpp/grpcpp.h"
#include "grpcpp/impl/server_builder_option.h"
#include "grpcpp/impl/server_builder_plugin.h"
#include "grpcpp/health_check_service_interface.h"
#include "services/kit/grpc_metrics.h"

namespace gateway {
namespace {

// libgrpc++_reflection registers its plugin in every ServerBuilder. Its
// service would list only services registered on this server (none: the
// gateway forwards generically) and would shadow the suite-wide one.
class WithoutStockReflection final : public grpc::ServerBuilderOption {
 public:
  void UpdateArguments(grpc::ChannelArguments*) override {}
  void UpdatePlugins(std::vector<std::unique_ptr<grpc::ServerBuilderPlugin>>* plugins) override {
    plugins->erase(std::remove_if(plugins->begin(), plugins->end(),
                                  [](const auto& p) { return p->name() == "proto_server_reflection"; }),
                   plugins->end());
  }
};

}  // namespace

struct Gateway::Parts {
  GatewayOptions options;
  std::shared_ptr<prometheus::Registry> registry = std::make_shared<prometheus::Registry>();
  std::unique_ptr<Catalog> catalog;
  std::unique_ptr<kit::IdentitySigner> signer;
  std::unique_ptr<Backends> backends;
  std::unique_ptr<Authenticator> auth;
  std::unique_ptr<RateLimiter> limiter;
  std::unique_ptr<Pipeline> pipeline;
  std::unique_ptr<HttpApi> http_api;
  std::unique_ptr<HttpServer> http;
  std::unique_ptr<kit::GrpcServerMetrics> grpc_metrics;
  std::unique_ptr<Passthrough> passthrough;
  std::unique_ptr<grpc::Server> grpc;
  bool stopped = false;
};

Gateway::Gateway(std::unique_ptr<Parts> parts) : parts_(std::move(parts)) {}
Gateway::~Gateway() { Shutdown(); }

absl::StatusOr<std::unique_ptr<Gateway>> Gateway::Start(GatewayOptions options,
                                                        const kit::Clock* clock) {
  // Debian's Abseil checks lock order on every lock (gRPC's included);
  // the gateway's own lock order is flat.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  auto p = std::make_unique<Parts>();
  p->options = std::move(options);
  const GatewayOptions& o = p->options;

  auto catalog = Catalog::FromLinkedProtos("estate.", o.excluded_packages, o.only_packages);
  if (!catalog.ok()) return catalog.status();
  p->catalog = *std::move(catalog);
  if (o.identity_keys_dir.empty()) {
    return absl::InvalidArgumentError(
        "--identity_keys_dir is required: the services refuse calls without a signed identity");
  }
  auto signer = kit::IdentitySigner::FromDir("gateway", o.identity_keys_dir,
                                             p->catalog->backends());
  if (!signer.ok()) return signer.status();
  p->signer = *std::move(signer);
  auto credentials = kit::ServiceChannelCredentials(o.backend_tls);
  if (!credentials.ok()) return credentials.status();
  auto backends = Backends::Create(o.backends, p->catalog->backends(), o.channels_per_backend,
                                   *credentials, *p->registry);
  if (!backends.ok()) return backends.status();
  p->backends = *std::move(backends);

  std::unique_ptr<kit::JwtVerifier> jwt;
  if (!o.jwt_hs256_secret.empty() || !o.jwt_rs256_public_key_pem.empty()) {
    auto v = kit::JwtVerifier::Create(o.jwt_hs256_secret, o.jwt_rs256_public_key_pem, o.jwt_policy);
    if (!v.ok()) return v.status();
    jwt = *std::move(v);
  }
  if (jwt == nullptr && o.api_keys.empty()) {
    return absl::InvalidArgumentError(
        "auth: no JWT key and no API keys configured; nobody could call the gateway");
  }
  p->auth = std::make_unique<Authenticator>(std::move(jwt), o.api_keys, clock);
  p->limiter = std::make_unique<RateLimiter>(o.rate_per_second, o.rate_burst, clock);
  p->pipeline = std::make_unique<Pipeline>(p->catalog.get(), p->backends.get(), p->auth.get(),
                                           p->limiter.get(), p->signer.get(), o.default_deadline,
                                           *p->registry);

  // gRPC pass-through.
  p->grpc_metrics = std::make_unique<kit::GrpcServerMetrics>(*p->registry);
  for (const auto* s : p->catalog->services()) p->grpc_metrics->AddService(*s);
  p->passthrough = std::make_unique<Passthrough>(p->pipeline.get(), p->grpc_metrics.get());
  grpc::ServerBuilder builder;
  int grpc_port = 0;
  builder.AddListeningPort(o.grpc_addr, grpc::InsecureServerCredentials(), &grpc_port);
  builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_TIME_MS, 60000);
  builder.AddChannelArgument(GRPC_ARG_HTTP2_MIN_RECV_PING_INTERVAL_WITHOUT_DATA_MS, 10000);
  builder.SetMaxReceiveMessageSize(
      static_cast<int>(std::min<size_t>(o.http.max_body_bytes, std::numeric_limits<int>::max())));
  builder.SetOption(std::make_unique<WithoutStockReflection>());
  // Health is answered on the pass-through's queues (gRPC's default service
  // would bring the callback API's polling threads), even where a process
  // turned the default on for its own servers.
  builder.SetOption(std::make_unique<grpc::HealthCheckServiceServerBuilderOption>(nullptr));
  p->passthrough->Register(builder, o.grpc_threads);
  p->pipeline->UseQueues(p->passthrough->queues());
  p->grpc = builder.BuildAndStart();
  if (p->grpc == nullptr || grpc_port == 0) {
    return absl::UnavailableError(absl::StrCat("grpc: cannot listen on ", o.grpc_addr));
  }
  p->passthrough->Start();

  // HTTP.
  p->http_api = std::make_unique<HttpApi>(p->pipeline.get(), p->registry,
                                          OpenApiJson(*p->catalog));
  HttpApi* api = p->http_api.get();
  p->http = std::make_unique<HttpServer>(
      [api](HttpRequest req, HttpReply reply) { api->Handle(std::move(req), std::move(reply)); },
      o.http);
  auto http_port = p->http->Listen(o.http_addr);
  if (!http_port.ok()) {
    p->grpc->Shutdown();
    return http_port.status();
  }
  p->backends->StartHealthChecks(o.health_interval);
  p->http->Start(o.http_threads);

  std::unique_ptr<Gateway> g(new Gateway(std::move(p)));
  g->http_port_ = *http_port;
  g->grpc_port_ = grpc_port;
  return g;
}

void Gateway::Shutdown() {
  if (parts_ == nullptr || parts_->stopped) return;
  parts_->stopped = true;
  const GatewayOptions& o = parts_->options;
  parts_->passthrough->SetServing(false);
  parts_->http_api->SetDraining();
  absl::SleepFor(o.shutdown_drain);
  const absl::Time deadline = absl::Now() + o.shutdown_grace;
  std::thread grpc_stop([&] { parts_->grpc->Shutdown(absl::ToChronoTime(deadline)); });
  parts_->http->Stop(deadline - absl::Now());
  // Calls still at a backend by the deadline are cancelled; their
  // completions run (on the pass-through's queues too) before anything goes.
  parts_->backends->Stop(deadline);
  grpc_stop.join();
  // Calls accepted just before the server stopped may have reached a backend
  // after the first sweep: cancel those too, then let the queues drain.
  parts_->backends->Stop(absl::InfinitePast());
  parts_->passthrough->Stop();
}

}  // namespace gateway
