#include "gateway/passthrough.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "gateway/reflection.h"
#include "google/protobuf/arena.h"
#include "spdlog/spdlog.h"
#include "grpcpp/impl/codegen/proto_utils.h"

namespace gateway {
namespace {

std::string Metadata(const grpc::GenericCallbackServerContext& ctx, const char* key) {
  auto it = ctx.client_metadata().find(key);
  return it == ctx.client_metadata().end() ? "" : std::string(it->second.data(), it->second.size());
}

// Client metadata worth passing on: not gRPC's own, not credentials, and not
// the identity headers only the gateway may set.
void CopyClientMetadata(const grpc::GenericCallbackServerContext& ctx, UpstreamCall* call) {
  for (const auto& [k, v] : ctx.client_metadata()) {
    absl::string_view key(k.data(), k.size());
    if (absl::StartsWith(key, ":") || absl::StartsWith(key, "grpc-") ||
        absl::StartsWith(key, "x-estate-") || key == "authorization" || key == "x-api-key" ||
        key == kRequestIdKey || key == "te" || key == "content-type" || key == "user-agent" ||
        key == "host" || key == "accept-encoding") {
      continue;
    }
    call->context.AddMetadata(std::string(key), std::string(v.data(), v.size()));
  }
}

grpc::Status ToGrpc(const absl::Status& s) {
  return grpc::Status(static_cast<grpc::StatusCode>(s.code()), std::string(s.message()));
}

class ForwardReactor final : public grpc::ServerGenericBidiReactor {
 public:
  ForwardReactor(Pipeline* pipeline, kit::GrpcServerMetrics* metrics,
                 grpc::GenericCallbackServerContext* ctx)
      : pipeline_(pipeline), ctx_(ctx), start_(absl::Now()) {
    method_ = pipeline_->catalog().FindMethod(ctx->method());
    series_ = &metrics->Find(method_ ? ctx->method().c_str() : "");
    series_->started->Increment();
    if (method_ == nullptr || method_->streaming) {
      pipeline_->Reject("not_found");
      Finish(grpc::Status(grpc::StatusCode::UNIMPLEMENTED,
                          absl::StrCat("method ", ctx->method(), " is not served here")));
      return;
    }
    StartRead(&request_);
  }

  void OnReadDone(bool ok) override {
    if (!ok) return Finish(grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "request: no message sent"));
    absl::Duration retry_after;
    auto who = pipeline_->Admit(Metadata(*ctx_, "authorization"), Metadata(*ctx_, "x-api-key"),
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
    auto call = std::make_shared<UpstreamCall>();
    std::optional<absl::Time> deadline;
    if (ctx_->deadline() != std::chrono::system_clock::time_point::max()) {
      deadline = absl::FromChrono(ctx_->deadline());
    }
    const std::string request_id = AcceptOrMakeRequestId(Metadata(*ctx_, "x-request-id"));
    if (absl::Status s = pipeline_->Prepare(*method_, *who, *message, request_id, deadline,
                                            call.get());
        !s.ok()) {
      return Finish(ToGrpc(s));
    }
    CopyClientMetadata(*ctx_, call.get());
    ctx_->AddInitialMetadata(kRequestIdKey, request_id);
    call->request = request_;
    {
      absl::MutexLock lock(&mu_);
      if (cancelled_) return Finish(grpc::Status::CANCELLED);
      upstream_ = call.get();
    }
    UpstreamCall* raw = call.get();
    pipeline_->Forward(*method_, *message, std::move(call), [this, raw](const grpc::Status& s) {
      {
        absl::MutexLock lock(&mu_);
        upstream_ = nullptr;
      }
      if (!s.ok()) return Finish(s);
      response_ = std::move(raw->response);
      Count(grpc::Status::OK);
      StartWriteAndFinish(&response_, grpc::WriteOptions(), grpc::Status::OK);
    });
  }

  void Finish(const grpc::Status& s) {
    Count(s);
    grpc::ServerGenericBidiReactor::Finish(s);
  }

  void OnCancel() override {
    absl::MutexLock lock(&mu_);
    cancelled_ = true;
    if (upstream_ != nullptr) upstream_->context.TryCancel();
  }

  void OnDone() override { delete this; }

 private:
  void Count(const grpc::Status& s) {
    const int code = static_cast<int>(s.error_code());
    series_->handled[code >= 0 && code < 17 ? code : 2]->Increment();
    series_->seconds->Observe(absl::ToDoubleSeconds(absl::Now() - start_));
    if (code == grpc::StatusCode::INTERNAL || code == grpc::StatusCode::UNKNOWN ||
        code == grpc::StatusCode::DATA_LOSS) {
      spdlog::warn("passthrough {} failed: {} {}", ctx_->method(), code, s.error_message());
    }
  }

  Pipeline* pipeline_;
  grpc::GenericCallbackServerContext* ctx_;
  const absl::Time start_;
  kit::GrpcServerMetrics::Method* series_;
  const MethodInfo* method_ = nullptr;
  grpc::ByteBuffer request_;
  grpc::ByteBuffer response_;
  google::protobuf::Arena arena_;
  absl::Mutex mu_;
  bool cancelled_ ABSL_GUARDED_BY(mu_) = false;
  UpstreamCall* upstream_ ABSL_GUARDED_BY(mu_) = nullptr;
};

}  // namespace

grpc::ServerGenericBidiReactor* PassthroughService::CreateReactor(
    grpc::GenericCallbackServerContext* context) {
  if (context->method() == kReflectionMethod) return NewReflectionReactor(&pipeline_->catalog());
  return new ForwardReactor(pipeline_, metrics_, context);
}

}  // namespace gateway
