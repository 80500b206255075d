#ifndef ESTATE_GATEWAY_PIPELINE_H_
#define ESTATE_GATEWAY_PIPELINE_H_

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "gateway/authenticator.h"
#include "gateway/backends.h"
#include "gateway/catalog.h"
#include "gateway/rate_limiter.h"
#include "services/kit/service_identity.h"
#include "prometheus/counter.h"
#include "prometheus/registry.h"

namespace gateway {

// Metadata the gateway sets for services; a client's own copy is dropped
// (the caller and roles travel in kit::kIdentityMetadataKey's token).
inline constexpr char kRequestIdKey[] = "x-request-id";

// A request id from a client's X-Request-Id if it is sane (1..128 printable
// ASCII characters), else a fresh UUID.
std::string AcceptOrMakeRequestId(absl::string_view from_client);

// What every call goes through, whether it came as HTTP/JSON or gRPC:
// authenticate, rate-limit, authorize on the request's site, then forward to
// the backend with the caller's identity and a bounded deadline.
class Pipeline {
 public:
  Pipeline(const Catalog* catalog, const Backends* backends, const Authenticator* auth,
           RateLimiter* limiter, const kit::IdentitySigner* signer,
           absl::Duration default_deadline, prometheus::Registry& registry);

  // The principal, or UNAUTHENTICATED, or RESOURCE_EXHAUSTED with
  // *retry_after set. Counts the rejection.
  absl::StatusOr<Principal> Admit(absl::string_view authorization, absl::string_view api_key,
                                  absl::Duration* retry_after);

  // Authorizes `request` and prepares `call` for its backend: deadline (the
  // client's if sooner than the default), the caller and roles in an identity
  // token signed for the backend, and the request id. The serialized request is the caller's to set.
  absl::Status Prepare(const MethodInfo& method, const Principal& who,
                       const google::protobuf::Message& request, const std::string& request_id,
                       std::optional<absl::Time> client_deadline, UpstreamCall* call);

  // The completion queues (and their threads) that carry calls sent with
  // Forward; before the first.
  void UseQueues(std::vector<grpc::CompletionQueue*> queues) { queues_ = std::move(queues); }

  // Sends a prepared call; `done` runs on a queue's thread. Reads and
  // writes carrying a request_id are retried on UNAVAILABLE; other writes
  // are not.
  void Forward(const MethodInfo& method, const google::protobuf::Message& request,
               std::shared_ptr<UpstreamCall> call, std::function<void(const grpc::Status&)> done);

  // The same on a completion queue (gRPC pass-through): UNAVAILABLE if the
  // method has no backend, else `tag` comes out of `queue`; pass it to
  // ForwardOnQueueEvent, which says whether the call is over (*status set)
  // or `tag` will come out again (a retry).
  absl::Status ForwardOnQueue(const MethodInfo& method, const google::protobuf::Message& request,
                              UpstreamCall* call, grpc::CompletionQueue* queue, void* tag,
                              grpc::Status* status);
  bool ForwardOnQueueEvent(const MethodInfo& method, UpstreamCall* call, bool ok,
                           grpc::CompletionQueue* queue, void* tag, grpc::Status* status);

  // Counts a call refused before any backend saw it.
  void Reject(absl::string_view reason);
  // The rejection reason for a gateway-side status.
  static const char* ReasonFor(absl::StatusCode code);

  const Catalog& catalog() const { return *catalog_; }
  const Backends& backends() const { return *backends_; }

 private:
  static bool RetrySafe(const MethodInfo& method, const google::protobuf::Message& request);

  const Catalog* catalog_;
  const Backends* backends_;
  const Authenticator* auth_;
  RateLimiter* limiter_;
  const kit::IdentitySigner* signer_;
  const absl::Duration default_deadline_;
  std::vector<grpc::CompletionQueue*> queues_;
  std::atomic<uint32_t> next_queue_{0};
  prometheus::Family<prometheus::Counter>& rejections_;
};

}  // namespace gateway

#endif  // ESTATE_GATEWAY_PIPELINE_H_
