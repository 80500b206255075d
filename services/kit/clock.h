#ifndef ESTATE_SERVICES_KIT_CLOCK_H_
#define ESTATE_SERVICES_KIT_CLOCK_H_

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace kit {

// Time is injected everywhere rules depend on it (SLA, retention), so tests can
// move it instead of sleeping.
class Clock {
 public:
  virtual ~Clock() = default;
  virtual absl::Time Now() const = 0;
};

// Whole microseconds: what DATETIME(6) stores, so a time handed to a client
// reads back the same from the database.
class SystemClock final : public Clock {
 public:
  absl::Time Now() const override {
    return absl::FromUnixMicros(absl::ToUnixMicros(absl::Now()));
  }
};

// Returns a process-wide system clock.
Clock& RealClock();

class FakeClock final : public Clock {
 public:
  explicit FakeClock(absl::Time start) : now_(start) {}
  absl::Time Now() const override {
    absl::MutexLock lock(&mu_);
    return now_;
  }
  void Advance(absl::Duration d) {
    absl::MutexLock lock(&mu_);
    now_ += d;
  }
  void Set(absl::Time t) {
    absl::MutexLock lock(&mu_);
    now_ = t;
  }

 private:
  mutable absl::Mutex mu_;
  absl::Time now_ ABSL_GUARDED_BY(mu_);
};

}  // namespace kit

#endif  // ESTATE_SERVICES_KIT_CLOCK_H_
