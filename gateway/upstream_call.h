#ifndef ESTATE_GATEWAY_UPSTREAM_CALL_H_
#define ESTATE_GATEWAY_UPSTREAM_CALL_H_

#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "grpcpp/alarm.h"
#include "grpcpp/generic/generic_stub.h"
#include "grpcpp/grpcpp.h"

namespace gateway {

inline constexpr int kMaxAttempts = 3;

// What the gateway's completion queues carry: every tag is one of these.
struct QueueTag {
  virtual ~QueueTag() = default;
  virtual void Proceed(bool ok) = 0;
};

// The wait before another attempt at a call whose last attempt ended with
// `code`, or nullopt when it must not go again: only UNAVAILABLE (the
// backend refused the call or never saw it), only on calls safe to repeat,
// at most kMaxAttempts in all, and never past the call's deadline. `jitter`
// in [0, 1) spreads the retries of many calls after one backend blip.
std::optional<absl::Duration> RetryBackoff(grpc::StatusCode code, bool retry_safe, int attempts,
                                           absl::Duration time_left, double jitter);

// One call to a backend, over every attempt its retry rule allows. The
// caller sets metadata, deadline and request; Backend makes the attempts.
//
// The gateway retries UNAVAILABLE itself rather than through a gRPC retry
// policy: gRPC's retry machinery costs about a fifth of the gateway's CPU
// on every call, retried or not (measured with tools/bench-gateway).
class UpstreamCall {
 public:
  void AddMetadata(std::string key, std::string value) {
    metadata_.emplace_back(std::move(key), std::move(value));
  }
  void set_deadline(absl::Time deadline) { deadline_ = deadline; }

  // Cancels the attempt in flight, a pending backoff and any later attempt.
  // Safe from any thread.
  void Cancel();
  bool cancelled() const;

  grpc::ByteBuffer request;
  grpc::ByteBuffer response;

 private:
  friend class Backend;

  // A fresh context for the next attempt (a gRPC context serves one call);
  // earlier ones live on until the call is destroyed, as gRPC may still
  // hold them while their completion runs.
  grpc::ClientContext* NewAttempt();
  // True if the last attempt's answer came from an estate service (the kit's
  // kAnsweredByServiceKey trailer), not from gRPC's transport.
  bool AnsweredByService() const;
  // RetryBackoff for this call's last attempt.
  std::optional<absl::Duration> Backoff(const grpc::Status& status, bool retry_safe) const;
  // Arms a fresh backoff timer: `tag` comes out of `queue` at `when`, or
  // early (not ok) if the call is or gets cancelled.
  void StartBackoff(absl::Time when, grpc::CompletionQueue* queue, void* tag);

  std::vector<std::pair<std::string, std::string>> metadata_;
  absl::Time deadline_ = absl::InfiniteFuture();
  // Set by Backend when the first attempt starts.
  const std::string* method_ = nullptr;
  bool retry_safe_ = false;
  int attempts_ = 0;

  mutable absl::Mutex mu_;
  std::vector<std::unique_ptr<grpc::ClientContext>> contexts_ ABSL_GUARDED_BY(mu_);
  std::unique_ptr<grpc::Alarm> backoff_ ABSL_GUARDED_BY(mu_);
  bool cancelled_ ABSL_GUARDED_BY(mu_) = false;

  // The attempt's reader, and whether the tag that comes out next is the
  // backoff timer rather than an attempt's end.
  std::unique_ptr<grpc::GenericClientAsyncResponseReader> reader_;
  bool backing_off_ = false;
  absl::Time start_;
};

}  // namespace gateway

#endif  // ESTATE_GATEWAY_UPSTREAM_CALL_H_
