#ifndef ESTATE_SERVICES_KIT_GROUP_COMMIT_H_
#define ESTATE_SERVICES_KIT_GROUP_COMMIT_H_

#include <cstddef>
#include <deque>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"

namespace kit {

// Group commit for small writes that each cost a transaction: a caller hands
// its job to Run, which returns once the job has been through `flush`. A
// caller that finds fewer than `max_flushing` flushes running leads one: it
// takes the queued jobs of the oldest job's key (at most `max_batch`, oldest
// first) and flushes them together; the others wait meanwhile and lead the
// next batches. Alone, a job is flushed at once as a batch of one; under
// load, N concurrent writes share a few transactions (and durable commits)
// instead of N, while a second flush overlaps the first's round trips.
// `flush` must settle every job it is given (each job says how).
template <typename Job>
class GroupCommit {
 public:
  using Key = std::function<std::string(const Job&)>;
  using Flush = std::function<void(const std::vector<Job*>&)>;

  GroupCommit(size_t max_batch, int max_flushing, Key key, Flush flush)
      : max_batch_(max_batch < 1 ? 1 : max_batch),
        max_flushing_(max_flushing < 1 ? 1 : max_flushing),
        key_(std::move(key)),
        flush_(std::move(flush)) {}

  // Jobs waiting to be taken into a batch.
  size_t queued() {
    absl::MutexLock lock(&mu_);
    return queue_.size();
  }

  void Run(Job* job) {
    Waiter self{job, key_(*job), this};
    absl::MutexLock lock(&mu_);
    queue_.push_back(&self);
    for (;;) {
      if (self.done) return;
      if (flushing_ >= max_flushing_ || !self.queued) {
        mu_.Await(absl::Condition(&Waiter::DoneOrFree, &self));
        continue;
      }
      ++flushing_;
      std::vector<Waiter*> batch = TakeBatch();
      std::vector<Job*> jobs;
      jobs.reserve(batch.size());
      for (Waiter* w : batch) jobs.push_back(w->job);
      mu_.Unlock();
      flush_(jobs);
      mu_.Lock();
      for (Waiter* w : batch) w->done = true;
      --flushing_;
    }
  }

 private:
  struct Waiter {
    Job* job;
    std::string key;
    GroupCommit* owner;
    bool queued = true;  // not yet taken into a batch
    bool done = false;
    // Evaluated with owner->mu_ held (absl::Mutex::Await): a waiter whose
    // job another flush holds only waits for it to be done.
    static bool DoneOrFree(Waiter* w) ABSL_NO_THREAD_SAFETY_ANALYSIS {
      return w->done || (w->queued && w->owner->flushing_ < w->owner->max_flushing_);
    }
  };

  std::vector<Waiter*> TakeBatch() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    std::vector<Waiter*> batch;
    const std::string key = queue_.front()->key;
    for (auto it = queue_.begin(); it != queue_.end() && batch.size() < max_batch_;) {
      if ((*it)->key == key) {
        (*it)->queued = false;
        batch.push_back(*it);
        it = queue_.erase(it);
      } else {
        ++it;
      }
    }
    return batch;
  }

  const size_t max_batch_;
  const int max_flushing_;
  const Key key_;
  const Flush flush_;
  absl::Mutex mu_;
  std::deque<Waiter*> queue_ ABSL_GUARDED_BY(mu_);
  int flushing_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace kit

#endif  // ESTATE_SERVICES_KIT_GROUP_COMMIT_H_
