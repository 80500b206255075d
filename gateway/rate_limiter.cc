#include "gateway/rate_limiter.h"

#include <algorithm>
#include <cmath>

#include "absl/hash/hash.h"

namespace gateway {
namespace {
// Idle principals are forgotten once a shard holds this many.
constexpr size_t kMaxBucketsPerShard = 4096;
}  // namespace

RateLimiter::RateLimiter(double per_second, double burst, const kit::Clock* clock)
    : per_second_(per_second), burst_(std::max(burst, 1.0)), clock_(clock) {}

absl::Duration RateLimiter::Acquire(absl::string_view principal) {
  if (per_second_ <= 0) return absl::ZeroDuration();
  const absl::Time now = clock_->Now();
  Shard& shard = shards_[absl::Hash<absl::string_view>{}(principal) % shards_.size()];
  absl::MutexLock lock(&shard.mu);
  auto it = shard.buckets.find(principal);
  if (it == shard.buckets.end()) {
    if (shard.buckets.size() >= kMaxBucketsPerShard) {
      // A full bucket holds no state worth keeping.
      absl::erase_if(shard.buckets, [&](const auto& kv) {
        return kv.second.tokens + absl::ToDoubleSeconds(now - kv.second.last) * per_second_ >=
               burst_;
      });
    }
    it = shard.buckets.emplace(std::string(principal), Bucket{burst_, now}).first;
  }
  Bucket& b = it->second;
  b.tokens = std::min(burst_, b.tokens + absl::ToDoubleSeconds(now - b.last) * per_second_);
  b.last = now;
  if (b.tokens >= 1.0) {
    b.tokens -= 1.0;
    return absl::ZeroDuration();
  }
  return absl::Seconds((1.0 - b.tokens) / per_second_);
}

}  // namespace gateway
