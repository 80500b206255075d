#include "gateway/upstream_call.h"

#include <algorithm>
#include <random>

#include "absl/time/clock.h"
#include "services/kit/rpc_context.h"

namespace gateway {

std::optional<absl::Duration> RetryBackoff(grpc::StatusCode code, bool retry_safe, int attempts,
                                           absl::Duration time_left, double jitter) {
  if (code != grpc::StatusCode::UNAVAILABLE || !retry_safe || attempts >= kMaxAttempts) {
    return std::nullopt;
  }
  // 50 ms, then 100 ms, each between half and all of that.
  const absl::Duration ceiling = absl::Milliseconds(50) * (1 << (std::max(attempts, 1) - 1));
  const absl::Duration backoff = ceiling * (0.5 + 0.5 * jitter);
  if (backoff >= time_left) return std::nullopt;
  return backoff;
}

void UpstreamCall::Cancel() {
  absl::MutexLock lock(&mu_);
  cancelled_ = true;
  if (!contexts_.empty()) contexts_.back()->TryCancel();
  if (backoff_ != nullptr) backoff_->Cancel();
}

bool UpstreamCall::cancelled() const {
  absl::MutexLock lock(&mu_);
  return cancelled_;
}

bool UpstreamCall::AnsweredByService() const {
  absl::MutexLock lock(&mu_);
  return !contexts_.empty() &&
         contexts_.back()->GetServerTrailingMetadata().count(kit::kAnsweredByServiceKey) > 0;
}

grpc::ClientContext* UpstreamCall::NewAttempt() {
  auto context = std::make_unique<grpc::ClientContext>();
  context->set_deadline(absl::ToChronoTime(deadline_));
  for (const auto& [key, value] : metadata_) context->AddMetadata(key, value);
  ++attempts_;
  absl::MutexLock lock(&mu_);
  // Cancelled before it starts: gRPC cancels it the moment it does.
  if (cancelled_) context->TryCancel();
  contexts_.push_back(std::move(context));
  return contexts_.back().get();
}

std::optional<absl::Duration> UpstreamCall::Backoff(const grpc::Status& status,
                                                    bool retry_safe) const {
  if (status.error_code() != grpc::StatusCode::UNAVAILABLE || cancelled()) return std::nullopt;
  thread_local std::minstd_rand jitter_source(std::random_device{}());
  const double jitter = std::uniform_real_distribution<double>(0.0, 1.0)(jitter_source);
  return RetryBackoff(status.error_code(), retry_safe, attempts_, deadline_ - absl::Now(), jitter);
}

void UpstreamCall::StartBackoff(absl::Time when, grpc::CompletionQueue* queue, void* tag) {
  // Under the lock, so Cancel() never meets a timer being set; a queue
  // timer never runs anything inline, so holding the lock is safe.
  absl::MutexLock lock(&mu_);
  backoff_ = std::make_unique<grpc::Alarm>();
  backoff_->Set(queue, absl::ToChronoTime(when), tag);
  if (cancelled_) backoff_->Cancel();
}

}  // namespace gateway
