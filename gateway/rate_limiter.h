#ifndef ESTATE_GATEWAY_RATE_LIMITER_H_
#define ESTATE_GATEWAY_RATE_LIMITER_H_

#include <array>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "services/kit/clock.h"

namespace gateway {

// A token bucket per principal: `per_second` sustained, `burst` at once.
// Sharded so that concurrent callers rarely share a lock.
class RateLimiter {
 public:
  // per_second <= 0 turns limiting off.
  RateLimiter(double per_second, double burst, const kit::Clock* clock);

  // Zero if the call may go ahead (a token is taken); otherwise how long until
  // the next token, for Retry-After.
  absl::Duration Acquire(absl::string_view principal);

 private:
  struct Bucket {
    double tokens;
    absl::Time last;
  };
  struct Shard {
    absl::Mutex mu;
    absl::flat_hash_map<std::string, Bucket> buckets ABSL_GUARDED_BY(mu);
  };
  const double per_second_;
  const double burst_;
  const kit::Clock* clock_;
  std::array<Shard, 16> shards_;
};

}  // namespace gateway

#endif  // ESTATE_GATEWAY_RATE_LIMITER_H_
