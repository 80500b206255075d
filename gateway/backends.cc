#include "gateway/backends.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "estate/api/v1/health_view.pb.h"
#include "grpcpp/impl/codegen/proto_utils.h"
#include "services/kit/grpc_metrics.h"
#include "spdlog/spdlog.h"

namespace gateway {
namespace {

constexpr char kRoundRobin[] = R"({"loadBalancingConfig": [{"round_robin": {}}]})";
// `grpc_retries`: gRPC's own retry machinery, here only its transparent
// retry of calls that never left the gateway; calls safe to repeat go on
// connections without it, as the gateway retries them itself.
std::shared_ptr<grpc::Channel> NewChannel(const std::string& target,
                                          const std::shared_ptr<grpc::ChannelCredentials>& creds,
                                          bool grpc_retries, int salt) {
  grpc::ChannelArguments args;
  args.SetServiceConfigJSON(kRoundRobin);
  args.SetInt(GRPC_ARG_ENABLE_RETRIES, grpc_retries ? 1 : 0);
  // A backend that comes back is found within a second, not after minutes of backoff.
  args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 100);
  args.SetInt(GRPC_ARG_MIN_RECONNECT_BACKOFF_MS, 100);
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 1000);
  args.SetInt(GRPC_ARG_KEEPALIVE_TIME_MS, 30000);
  args.SetInt(GRPC_ARG_KEEPALIVE_TIMEOUT_MS, 10000);
  args.SetMaxReceiveMessageSize(16 << 20);
  // Distinct channels get distinct connections.
  args.SetInt("estate.channel", salt);
  return grpc::CreateCustomChannel(target, creds, args);
}

}  // namespace

void InFlight::Add(UpstreamCall* call) {
  absl::MutexLock lock(&mu_);
  calls_.insert(call);
  if (cancelling_) call->Cancel();
}

void InFlight::Remove(UpstreamCall* call) {
  absl::MutexLock lock(&mu_);
  calls_.erase(call);
}

void InFlight::WaitThenCancel(absl::Time deadline) {
  absl::MutexLock lock(&mu_);
  auto empty = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return calls_.empty(); };
  if (deadline > absl::Now() && mu_.AwaitWithDeadline(absl::Condition(&empty), deadline)) return;
  cancelling_ = true;
  for (UpstreamCall* c : calls_) c->Cancel();
  mu_.AwaitWithTimeout(absl::Condition(&empty), absl::Seconds(5));
}

namespace {
// A target as gRPC takes it: "dns:///h:p", "ipv4:1.2.3.4:5", "unix:/path"
// stay as they are; a bare "host:port" is resolved through DNS.
std::string Target(const std::string& address) {
  for (const char* scheme : {"dns:", "ipv4:", "ipv6:", "unix:", "unix-abstract:"}) {
    if (absl::StartsWith(address, scheme)) return address;
  }
  return absl::StrCat("dns:///", address);
}
}  // namespace

Backend::Backend(std::string name, std::string target, int channels,
                 const std::shared_ptr<grpc::ChannelCredentials>& credentials,
                 prometheus::Registry& registry, InFlight* in_flight)
    : name_(std::move(name)),
      target_(Target(target)),
      calls_(prometheus::BuildCounter()
                 .Name("estate_gateway_upstream_requests_total")
                 .Help("Calls the gateway made to each backend, by gRPC code (each retry counts)")
                 .Register(registry)),
      seconds_(prometheus::BuildHistogram()
                   .Name("estate_gateway_upstream_duration_seconds")
                   .Help("Time from sending a call to a backend to its answer (each retry on its own)")
                   .Register(registry)
                   .Add({{"backend", name_}}, kit::LatencyBuckets())),
      up_(prometheus::BuildGauge()
              .Name("estate_gateway_backend_up")
              .Help("1 while the backend's health check says SERVING")
              .Register(registry)
              .Add({{"backend", name_}})),
      in_flight_(in_flight) {
  for (int i = 0; i < kit::kGrpcCodeCount; ++i) {
    by_code_[i] = &calls_.Add({{"backend", name_}, {"grpc_code", kit::GrpcCodeName(i)}});
  }
  for (int i = 0; i < std::max(1, channels); ++i) {
    channels_.push_back(NewChannel(target_, credentials, false, 2 * i));
    retry_safe_.push_back(std::make_unique<grpc::GenericStub>(channels_.back()));
    channels_.push_back(NewChannel(target_, credentials, true, 2 * i + 1));
    plain_.push_back(std::make_unique<grpc::GenericStub>(channels_.back()));
  }
}

grpc::GenericStub& Backend::Stub(bool retry_safe) {
  const uint32_t pick = next_.fetch_add(1, std::memory_order_relaxed) % plain_.size();
  return retry_safe ? *retry_safe_[pick] : *plain_[pick];
}

void Backend::StartOnQueue(const std::string& method, bool retry_safe, UpstreamCall* call,
                           grpc::CompletionQueue* queue, void* tag, grpc::Status* status) {
  call->method_ = &method;
  call->retry_safe_ = retry_safe;
  in_flight_->Add(call);
  AttemptOnQueue(call, queue, tag, status);
}

void Backend::AttemptOnQueue(UpstreamCall* call, grpc::CompletionQueue* queue, void* tag,
                             grpc::Status* status) {
  call->start_ = absl::Now();
  call->reader_ = Stub(call->retry_safe_)
                      .PrepareUnaryCall(call->NewAttempt(), *call->method_, call->request, queue);
  call->reader_->StartCall();
  call->reader_->Finish(&call->response, status, tag);
}

bool Backend::OnQueue(UpstreamCall* call, bool ok, grpc::CompletionQueue* queue, void* tag,
                      grpc::Status* status) {
  if (call->backing_off_) {  // the backoff timer, not an attempt
    call->backing_off_ = false;
    if (ok && !call->cancelled()) {
      AttemptOnQueue(call, queue, tag, status);
      return false;
    }
    *status = grpc::Status(grpc::StatusCode::CANCELLED, "cancelled before a retry");
  } else {
    Record(call->start_, *status);
    if (auto backoff = call->Backoff(*status, call->retry_safe_)) {
      call->backing_off_ = true;
      call->StartBackoff(absl::Now() + *backoff, queue, tag);
      return false;
    }
  }
  in_flight_->Remove(call);
  if (!status->ok() && !call->AnsweredByService()) *status = PlainTransportError(*status);
  return true;
}

grpc::Status Backend::PlainTransportError(const grpc::Status& status) const {
  // gRPC's own messages name addresses and resolver details: the log's, not
  // the client's.
  spdlog::warn("backend {} call failed in transport: code={} {}", name_,
               kit::GrpcCodeName(static_cast<int>(status.error_code())), status.error_message());
  switch (status.error_code()) {
    case grpc::StatusCode::UNAVAILABLE:
      return grpc::Status(status.error_code(),
                          absl::StrCat("the ", name_, " service is unavailable; try again later"));
    case grpc::StatusCode::DEADLINE_EXCEEDED:
      return grpc::Status(status.error_code(),
                          "deadline exceeded before the service answered: a write's outcome "
                          "is unknown; retrying it with the same request_id is safe");
    case grpc::StatusCode::CANCELLED:
      return grpc::Status(status.error_code(), "cancelled");
    default:
      return grpc::Status(status.error_code(),
                          absl::StrCat("the call to the ", name_, " service failed"));
  }
}

namespace {
// A callback call on a completion queue: `done` runs when the last attempt
// has ended, on the queue's thread.
class CallbackCall final : public QueueTag {
 public:
  CallbackCall(Backend* backend, std::shared_ptr<UpstreamCall> call, grpc::CompletionQueue* queue,
               std::function<void(const grpc::Status&)> done)
      : backend_(backend), call_(std::move(call)), queue_(queue), done_(std::move(done)) {}
  void Start(const std::string& method, bool retry_safe) {
    backend_->StartOnQueue(method, retry_safe, call_.get(), queue_, this, &status_);
  }
  void Proceed(bool ok) override {
    if (!backend_->OnQueue(call_.get(), ok, queue_, this, &status_)) return;
    done_(status_);
    delete this;
  }

 private:
  Backend* backend_;
  std::shared_ptr<UpstreamCall> call_;
  grpc::CompletionQueue* queue_;
  std::function<void(const grpc::Status&)> done_;
  grpc::Status status_;
};
}  // namespace

void Backend::Call(const std::string& method, bool retry_safe, std::shared_ptr<UpstreamCall> call,
                   grpc::CompletionQueue* queue, std::function<void(const grpc::Status&)> done) {
  (new CallbackCall(this, std::move(call), queue, std::move(done)))->Start(method, retry_safe);
}

void Backend::Record(absl::Time start, const grpc::Status& status) {
  seconds_.Observe(absl::ToDoubleSeconds(absl::Now() - start));
  by_code_[kit::GrpcCodeIndex(static_cast<int>(status.error_code()))]->Increment();
}

void Backend::CheckHealth(absl::Duration timeout) {
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + timeout));
  grpc::ByteBuffer request, response;
  bool own;
  grpc::SerializationTraits<estate::api::v1::HealthCheckRequest>::Serialize(
      estate::api::v1::HealthCheckRequest(), &request, &own);
  // A queue of its own, drained here: gRPC's callback API would start
  // threads that poll alongside the gateway's queues and hand every event
  // over to them.
  grpc::CompletionQueue queue;
  grpc::Status status;
  auto reader = plain_[0]->PrepareUnaryCall(&context, "/grpc.health.v1.Health/Check", request, &queue);
  reader->StartCall();
  reader->Finish(&response, &status, this);
  void* tag;
  bool ok;
  queue.Next(&tag, &ok);
  queue.Shutdown();
  while (queue.Next(&tag, &ok)) {
  }
  estate::api::v1::HealthCheckResponse answer;
  const bool serving =
      status.ok() &&
      grpc::SerializationTraits<estate::api::v1::HealthCheckResponse>::Deserialize(&response, &answer)
          .ok() &&
      answer.status() == 1 && ConnectAll(absl::Now() + timeout);
  serving_.store(serving, std::memory_order_relaxed);
  up_.Set(serving ? 1 : 0);
}

bool Backend::ConnectAll(absl::Time deadline) {
  bool all = true;
  for (const auto& channel : channels_) {
    grpc_connectivity_state state = channel->GetState(/*try_to_connect=*/true);
    if (state == GRPC_CHANNEL_READY) continue;
    // The backend answered on another connection, so this one need not
    // wait out the rest of its backoff (up to a second).
    if (state == GRPC_CHANNEL_TRANSIENT_FAILURE) {
      grpc::experimental::ChannelResetConnectionBackoff(channel.get());
    }
    while (state != GRPC_CHANNEL_READY &&
           channel->WaitForStateChange(state, absl::ToChronoTime(deadline))) {
      state = channel->GetState(/*try_to_connect=*/true);
    }
    all = all && state == GRPC_CHANNEL_READY;
  }
  return all;
}

absl::StatusOr<std::unique_ptr<Backends>> Backends::Create(
    const std::map<std::string, std::string>& targets, const std::vector<std::string>& needed,
    int channels_per_backend, const std::shared_ptr<grpc::ChannelCredentials>& credentials,
    prometheus::Registry& registry) {
  auto out = std::make_unique<Backends>();
  for (const std::string& name : needed) {
    auto it = targets.find(name);
    if (it == targets.end() || it->second.empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat("backend ", name, ": no address (set --backends ", name, "=host:port)"));
    }
    out->backends_.push_back(
        std::make_unique<Backend>(name, it->second, channels_per_backend, credentials,
                                 registry, &out->in_flight_));
  }
  return out;
}

Backends::~Backends() { Stop(); }

Backend* Backends::Find(absl::string_view name) const {
  for (const auto& b : backends_) {
    if (b->name() == name) return b.get();
  }
  return nullptr;
}

bool Backends::AllServing() const {
  for (const auto& b : backends_) {
    if (!b->serving()) return false;
  }
  return true;
}

void Backends::StartHealthChecks(absl::Duration interval) {
  for (const auto& b : backends_) b->CheckHealth(absl::Seconds(1));
  health_thread_ = std::thread([this, interval] {
    while (!stop_.WaitForNotificationWithTimeout(interval)) {
      for (const auto& b : backends_) b->CheckHealth(std::min(interval, absl::Seconds(1)));
    }
  });
}

void Backends::Stop(absl::Time deadline) {
  if (!stop_.HasBeenNotified()) stop_.Notify();
  if (health_thread_.joinable()) health_thread_.join();
  in_flight_.WaitThenCancel(deadline);
}

}  // namespace gateway
