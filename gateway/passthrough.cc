#include "gateway/passthrough.h"

#include <atomic>
#include <optional>

#include <grpc/support/time.h>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "estate/api/v1/health_view.pb.h"
#include "gateway/reflection.h"
#include "google/protobuf/arena.h"
#include "grpcpp/impl/codegen/proto_utils.h"
#include "spdlog/spdlog.h"

namespace gateway {
namespace {

constexpr char kHealthCheckMethod[] = "/grpc.health.v1.Health/Check";

// Calls waiting to be accepted on each queue, so a burst is taken at once.
constexpr int kListenersPerQueue = 8;

std::string Metadata(const grpc::GenericServerContext& ctx, const char* key) {
  auto it = ctx.client_metadata().find(key);
  return it == ctx.client_metadata().end() ? "" : std::string(it->second.data(), it->second.size());
}

// Client metadata worth passing on: not gRPC's own, not credentials, and not
// the identity headers only the gateway may set.
void CopyClientMetadata(const grpc::GenericServerContext& ctx, UpstreamCall* call) {
  for (const auto& [k, v] : ctx.client_metadata()) {
    absl::string_view key(k.data(), k.size());
    if (absl::StartsWith(key, ":") || absl::StartsWith(key, "grpc-") ||
        absl::StartsWith(key, "x-estate-") || key == "authorization" || key == "x-api-key" ||
        key == kRequestIdKey || key == "te" || key == "content-type" || key == "user-agent" ||
        key == "host" || key == "accept-encoding") {
      continue;
    }
    call->AddMetadata(std::string(key), std::string(v.data(), v.size()));
  }
}

grpc::Status ToGrpc(const absl::Status& s) {
  return grpc::Status(static_cast<grpc::StatusCode>(s.code()), std::string(s.message()));
}

// One incoming call, from being accepted to its last write. It deletes
// itself when the queue reports its final operation.
class IncomingCall final : public QueueTag {
 public:
  IncomingCall(Passthrough* owner, Pipeline* pipeline, kit::GrpcServerMetrics* metrics,
               grpc::AsyncGenericService* service, grpc::ServerCompletionQueue* queue,
               std::atomic<int>* live)
      : owner_(owner),
        pipeline_(pipeline),
        metrics_(metrics),
        service_(service),
        queue_(queue),
        live_(live) {
    live_->fetch_add(1);
    ctx_.AsyncNotifyWhenDone(&done_);
    service_->RequestCall(&ctx_, &stream_, queue_, queue_, this);
  }
  ~IncomingCall() override { live_->fetch_sub(1); }

  void Proceed(bool ok) override {
    switch (state_) {
      case State::kWaiting: return Accepted(ok);
      case State::kReading: return Read(ok);
      case State::kHealth: return AnswerHealth(ok);
      case State::kUpstream: return Answered(ok);
      case State::kReflecting: return Reflect(ok);
      case State::kReflectWrote: return ok ? ReadReflection() : Finish(grpc::Status::CANCELLED);
      case State::kFinishing:
        if (answered_ok_) Count(ok ? grpc::Status::OK : grpc::Status::CANCELLED);
        return Release();
    }
  }

 private:
  // Delivered once the call is over on the client's side, cancelled or not
  // (never if the call was not accepted). A client that gives up also
  // cancels the call it caused at the backend.
  struct DoneTag final : QueueTag {
    explicit DoneTag(IncomingCall* call) : call(call) {}
    void Proceed(bool) override {
      if (call->ctx_.IsCancelled() && call->state_ == State::kUpstream) {
        call->call_->Cancel();
      }
      call->Release();
    }
    IncomingCall* call;
  };

  // The final operation and the done tag each hold the call.
  void Release() {
    if (--holds_ == 0) delete this;
  }

 public:

 private:
  enum class State {
    kWaiting, kReading, kHealth, kUpstream, kReflecting, kReflectWrote, kFinishing
  };

  void Accepted(bool ok) {
    if (!ok) {  // the server is shutting down; the done tag never comes
      delete this;
      return;
    }
    holds_ = 2;
    new IncomingCall(owner_, pipeline_, metrics_, service_, queue_, live_);
    start_ = absl::Now();
    if (ctx_.method() == kReflectionMethod) {
      reflection_.emplace(&pipeline_->catalog());
      return ReadReflection();
    }
    if (ctx_.method() == kHealthCheckMethod) {
      state_ = State::kHealth;
      stream_.Read(&request_, this);
      return;
    }
    method_ = pipeline_->catalog().FindMethod(ctx_.method());
    series_ = &metrics_->Find(method_ ? ctx_.method().c_str() : "");
    series_->started->Increment();
    if (method_ == nullptr || method_->streaming) {
      pipeline_->Reject("not_found");
      return Finish(grpc::Status(grpc::StatusCode::UNIMPLEMENTED,
                                 absl::StrCat("method ", ctx_.method(), " is not served here")));
    }
    state_ = State::kReading;
    stream_.Read(&request_, this);
  }

  void Read(bool ok) {
    // A unary client always sends its message; no message means the call was
    // cancelled, expired or too large, and gRPC has told the client which.
    if (!ok) return Finish(grpc::Status(grpc::StatusCode::CANCELLED, "request: not received"));
    absl::Duration retry_after;
    auto who = pipeline_->Admit(Metadata(ctx_, "authorization"), Metadata(ctx_, "x-api-key"),
                                &retry_after);
    if (!who.ok()) return Finish(ToGrpc(who.status()));
    google::protobuf::Message* message = method_->request_prototype->New(&arena_);
    grpc::ByteBuffer copy(request_);  // shares the slices; parsing consumes its input
    if (!grpc::SerializationTraits<google::protobuf::Message>::Deserialize(&copy, message).ok()) {
      pipeline_->Reject("bad_request");
      return Finish(grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                                 "request: cannot be parsed as " +
                                     method_->descriptor->input_type()->full_name()));
    }
    call_ = std::make_unique<UpstreamCall>();
    std::optional<absl::Time> deadline;
    const gpr_timespec raw = ctx_.raw_deadline();
    if (gpr_time_cmp(raw, gpr_inf_future(raw.clock_type)) != 0) {
      // Not ctx_.deadline(): its chrono conversion overflows for far-future
      // deadlines; absl saturates.
      const gpr_timespec real = gpr_convert_clock_type(raw, GPR_CLOCK_REALTIME);
      deadline = absl::FromUnixSeconds(real.tv_sec) + absl::Nanoseconds(real.tv_nsec);
    }
    const std::string request_id = AcceptOrMakeRequestId(Metadata(ctx_, "x-request-id"));
    if (absl::Status s = pipeline_->Prepare(*method_, *who, *message, request_id, deadline,
                                            call_.get());
        !s.ok()) {
      return Finish(ToGrpc(s));
    }
    CopyClientMetadata(ctx_, call_.get());
    ctx_.AddInitialMetadata(kRequestIdKey, request_id);
    call_->request = request_;
    state_ = State::kUpstream;
    if (absl::Status s = pipeline_->ForwardOnQueue(*method_, *message, call_.get(), queue_, this,
                                                   &upstream_status_);
        !s.ok()) {
      // No backend: nothing was started, so answer now.
      state_ = State::kReading;
      return Finish(ToGrpc(s));
    }
  }

  // Load balancers and probes ask without credentials, as with the
  // services' own health.
  void AnswerHealth(bool ok) {
    if (!ok) return Finish(grpc::Status(grpc::StatusCode::CANCELLED, "request: not received"));
    estate::api::v1::HealthCheckRequest req;
    grpc::ByteBuffer copy(request_);
    if (!grpc::SerializationTraits<estate::api::v1::HealthCheckRequest>::Deserialize(&copy, &req)
             .ok()) {
      return Finish(grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "request: cannot be parsed"));
    }
    if (!req.service().empty() && req.service() != "gateway") {
      return Finish(grpc::Status(grpc::StatusCode::NOT_FOUND, "unknown service " + req.service()));
    }
    estate::api::v1::HealthCheckResponse answer;
    answer.set_status(owner_->serving() ? 1 : 2);  // SERVING, NOT_SERVING
    bool own;
    grpc::SerializationTraits<estate::api::v1::HealthCheckResponse>::Serialize(answer, &response_,
                                                                               &own);
    state_ = State::kFinishing;
    stream_.WriteAndFinish(response_, grpc::WriteOptions(), grpc::Status::OK, this);
  }

  void Answered(bool ok) {
    if (!pipeline_->ForwardOnQueueEvent(*method_, call_.get(), ok, queue_, this, &upstream_status_)) {
      return;  // retrying
    }
    if (!upstream_status_.ok()) return Finish(upstream_status_);
    answered_ok_ = true;  // counted when the write is known to have gone
    state_ = State::kFinishing;
    stream_.WriteAndFinish(call_->response, grpc::WriteOptions(), grpc::Status::OK, this);
  }

  void ReadReflection() {
    state_ = State::kReflecting;
    stream_.Read(&request_, this);
  }

  void Reflect(bool ok) {
    if (!ok) {  // the client half-closed: done
      state_ = State::kFinishing;
      stream_.Finish(grpc::Status::OK, this);
      return;
    }
    if (!reflection_->Answer(&request_, &response_)) {
      state_ = State::kFinishing;
      stream_.Finish(grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "request: cannot be parsed"), this);
      return;
    }
    state_ = State::kReflectWrote;
    stream_.Write(response_, this);
  }

  void Finish(const grpc::Status& s) {
    if (series_ != nullptr) Count(s);
    state_ = State::kFinishing;
    stream_.Finish(s, this);
  }

  void Count(const grpc::Status& s) {
    const int code = static_cast<int>(s.error_code());
    series_->handled[kit::GrpcCodeIndex(code)]->Increment();
    series_->seconds->Observe(absl::ToDoubleSeconds(absl::Now() - start_));
    if (code == grpc::StatusCode::INTERNAL || code == grpc::StatusCode::UNKNOWN ||
        code == grpc::StatusCode::DATA_LOSS) {
      spdlog::warn("passthrough {} failed: {} {}", ctx_.method(), code, s.error_message());
    }
  }

  Passthrough* owner_;
  Pipeline* pipeline_;
  kit::GrpcServerMetrics* metrics_;
  grpc::AsyncGenericService* service_;
  grpc::ServerCompletionQueue* queue_;
  std::atomic<int>* live_;
  DoneTag done_{this};
  int holds_ = 1;
  bool answered_ok_ = false;
  State state_ = State::kWaiting;
  grpc::GenericServerContext ctx_;
  grpc::GenericServerAsyncReaderWriter stream_{&ctx_};
  absl::Time start_;
  kit::GrpcServerMetrics::Method* series_ = nullptr;
  const MethodInfo* method_ = nullptr;
  grpc::ByteBuffer request_, response_;
  google::protobuf::Arena arena_;
  std::unique_ptr<UpstreamCall> call_;
  grpc::Status upstream_status_;
  std::optional<ReflectionAnswerer> reflection_;
};

}  // namespace

Passthrough::Passthrough(Pipeline* pipeline, kit::GrpcServerMetrics* metrics)
    : pipeline_(pipeline), metrics_(metrics) {}

Passthrough::~Passthrough() { Stop(); }

void Passthrough::Register(grpc::ServerBuilder& builder, int threads) {
  builder.RegisterAsyncGenericService(&service_);
  // Measured on 2 cores (tools/bench-gateway-cpu): one queue beat two and
  // four at 8 and 64 calls in flight; every further polling thread adds
  // hand-offs, and the backends behind want the other core.
  if (threads <= 0) threads = std::max(1, static_cast<int>(std::thread::hardware_concurrency()) / 2);
  for (int i = 0; i < threads; ++i) queues_.push_back(builder.AddCompletionQueue());
}

std::vector<grpc::CompletionQueue*> Passthrough::queues() const {
  std::vector<grpc::CompletionQueue*> out;
  for (const auto& q : queues_) out.push_back(q.get());
  return out;
}

void Passthrough::Start() {
  for (auto& q : queues_) {
    for (int i = 0; i < kListenersPerQueue; ++i) {
      new IncomingCall(this, pipeline_, metrics_, &service_, q.get(), &live_);
    }
    threads_.emplace_back([q = q.get()] {
      void* tag;
      bool ok;
      while (q->Next(&tag, &ok)) static_cast<QueueTag*>(tag)->Proceed(ok);
    });
  }
}

void Passthrough::Stop() {
  // A queue may only shut down once nothing can start an operation on it:
  // wait for every call (the server's shutdown ends the idle ones).
  const absl::Time give_up = absl::Now() + absl::Seconds(15);
  while (!threads_.empty() && live_.load() > 0 && absl::Now() < give_up) {
    absl::SleepFor(absl::Milliseconds(5));
  }
  for (auto& q : queues_) q->Shutdown();
  if (threads_.empty()) {  // never started: drain what the queues hold
    for (auto& q : queues_) {
      void* tag;
      bool ok;
      while (q->Next(&tag, &ok)) {
      }
    }
  }
  for (auto& t : threads_) t.join();
  threads_.clear();
}

}  // namespace gateway
