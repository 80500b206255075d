#include "gateway/pipeline.h"

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "services/kit/uuid.h"

namespace gateway {

std::string AcceptOrMakeRequestId(absl::string_view from_client) {
  bool ok = !from_client.empty() && from_client.size() <= 128;
  for (char c : from_client) {
    if (c < 0x21 || c > 0x7e) ok = false;
  }
  return ok ? std::string(from_client) : kit::NewUuid();
}

Pipeline::Pipeline(const Catalog* catalog, const Backends* backends, const Authenticator* auth,
                   RateLimiter* limiter, const kit::IdentitySigner* signer,
                   absl::Duration default_deadline, prometheus::Registry& registry)
    : catalog_(catalog),
      backends_(backends),
      auth_(auth),
      limiter_(limiter),
      signer_(signer),
      default_deadline_(default_deadline),
      rejections_(prometheus::BuildCounter()
                      .Name("estate_gateway_rejections_total")
                      .Help("Calls the gateway refused before any backend saw them, by reason")
                      .Register(registry)) {
  for (const char* reason : {"auth", "forbidden", "rate", "size", "bad_request", "not_found",
                             "method", "unavailable"}) {
    rejections_.Add({{"reason", reason}});
  }
}

const char* Pipeline::ReasonFor(absl::StatusCode code) {
  switch (code) {
    case absl::StatusCode::kUnauthenticated: return "auth";
    case absl::StatusCode::kPermissionDenied: return "forbidden";
    case absl::StatusCode::kResourceExhausted: return "rate";
    case absl::StatusCode::kNotFound: return "not_found";
    case absl::StatusCode::kUnimplemented: return "method";
    case absl::StatusCode::kUnavailable: return "unavailable";
    default: return "bad_request";
  }
}

void Pipeline::Reject(absl::string_view reason) {
  rejections_.Add({{"reason", std::string(reason)}}).Increment();
}

absl::StatusOr<Principal> Pipeline::Admit(absl::string_view authorization,
                                          absl::string_view api_key,
                                          absl::Duration* retry_after) {
  auto who = auth_->Authenticate(authorization, api_key);
  if (!who.ok()) {
    Reject("auth");
    return who.status();
  }
  *retry_after = limiter_->Acquire(who->id);
  if (*retry_after > absl::ZeroDuration()) {
    Reject("rate");
    return absl::ResourceExhaustedError(
        absl::StrCat("rate limit: too many calls from ", who->id));
  }
  return who;
}

absl::Status Pipeline::Prepare(const MethodInfo& method, const Principal& who,
                               const google::protobuf::Message& request,
                               const std::string& request_id,
                               std::optional<absl::Time> client_deadline, UpstreamCall* call) {
  if (absl::Status s = Authorize(who, method, request); !s.ok()) {
    Reject(ReasonFor(s.code()));
    return s;
  }
  absl::Time deadline = absl::Now() + default_deadline_;
  if (client_deadline && *client_deadline < deadline) deadline = *client_deadline;
  call->set_deadline(deadline);
  absl::StatusOr<std::string> token =
      signer_->Token(method.backend, who.id, who.RolesText(), absl::Now());
  if (!token.ok()) {
    Reject("unavailable");
    return absl::UnavailableError(absl::StrCat("gateway: ", token.status().message()));
  }
  call->AddMetadata(kit::kIdentityMetadataKey, *token);
  call->AddMetadata(kRequestIdKey, request_id);
  return absl::OkStatus();
}

void Pipeline::Forward(const MethodInfo& method, const google::protobuf::Message& request,
                       std::shared_ptr<UpstreamCall> call,
                       std::function<void(const grpc::Status&)> done) {
  Backend* backend = backends_->Find(method.backend);
  if (backend == nullptr) {
    done(grpc::Status(grpc::StatusCode::UNAVAILABLE,
                      absl::StrCat("no backend for ", method.backend)));
    return;
  }
  if (queues_.empty()) {
    done(grpc::Status(grpc::StatusCode::UNAVAILABLE, "gateway: not started"));
    return;
  }
  grpc::CompletionQueue* queue =
      queues_[next_queue_.fetch_add(1, std::memory_order_relaxed) % queues_.size()];
  backend->Call(method.path, RetrySafe(method, request), std::move(call), queue, std::move(done));
}

bool Pipeline::RetrySafe(const MethodInfo& method, const google::protobuf::Message& request) {
  if (method.access == estate::api::v1::READ) return true;
  if (method.request_id == nullptr) return false;
  std::string scratch;
  return !request.GetReflection()->GetStringReference(request, method.request_id, &scratch).empty();
}

absl::Status Pipeline::ForwardOnQueue(const MethodInfo& method,
                                      const google::protobuf::Message& request,
                                      UpstreamCall* call, grpc::CompletionQueue* queue,
                                      void* tag, grpc::Status* status) {
  Backend* backend = backends_->Find(method.backend);
  if (backend == nullptr) return absl::UnavailableError(absl::StrCat("no backend for ", method.backend));
  backend->StartOnQueue(method.path, RetrySafe(method, request), call, queue, tag, status);
  return absl::OkStatus();
}

bool Pipeline::ForwardOnQueueEvent(const MethodInfo& method, UpstreamCall* call, bool ok,
                                   grpc::CompletionQueue* queue, void* tag,
                                   grpc::Status* status) {
  return backends_->Find(method.backend)->OnQueue(call, ok, queue, tag, status);
}

}  // namespace gateway
