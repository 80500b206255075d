#include "services/kit/group_commit.h"

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "gtest/gtest.h"

namespace kit {
namespace {

struct Job {
  std::string key;
  int batch = -1;  // which flush took it
  size_t batch_size = 0;
};

// Records the batches it is given; the first flush waits until `hold` is
// notified, so that the test can queue jobs behind it.
struct Recorder {
  absl::Mutex mu;
  std::vector<std::vector<std::string>> batches ABSL_GUARDED_BY(mu);
  absl::Notification first_started, hold;

  void Flush(const std::vector<Job*>& jobs) {
    int index;
    {
      absl::MutexLock lock(&mu);
      index = static_cast<int>(batches.size());
      batches.emplace_back();
      for (const Job* j : jobs) batches.back().push_back(j->key);
    }
    if (index == 0) {
      first_started.Notify();
      hold.WaitForNotification();
    }
    for (Job* j : jobs) {
      j->batch = index;
      j->batch_size = jobs.size();
    }
  }
};

// Runs a job of key "a" whose flush is held until every one of `later` is
// queued behind it, then lets them all through.
void RunBehindAHeldFlush(GroupCommit<Job>& gc, Recorder& r, std::vector<Job>& later) {
  Job first{"a"};
  std::thread leader([&] { gc.Run(&first); });
  r.first_started.WaitForNotification();
  std::vector<std::thread> callers;
  for (Job& j : later) callers.emplace_back([&gc, &j] { gc.Run(&j); });
  while (gc.queued() < later.size()) std::this_thread::yield();
  r.hold.Notify();
  leader.join();
  for (std::thread& t : callers) t.join();
}

TEST(GroupCommit, AJobAloneIsFlushedAtOnceAsABatchOfOne) {
  Recorder r;
  r.hold.Notify();
  GroupCommit<Job> gc(64, 1, [](const Job& j) { return j.key; },
                      [&](const std::vector<Job*>& jobs) { r.Flush(jobs); });
  Job a{"site-a"};
  gc.Run(&a);
  EXPECT_EQ(a.batch, 0);
  EXPECT_EQ(a.batch_size, 1u);
}

TEST(GroupCommit, JobsQueuedBehindAFlushShareTheNextOneAndKeysStayApart) {
  Recorder r;
  GroupCommit<Job> gc(
      64, 1, [](const Job& j) { return j.key; },
      [&](const std::vector<Job*>& jobs) { r.Flush(jobs); });
  // Five jobs of site a and two of site b arrive while the first flushes.
  std::vector<Job> later = {{"a"}, {"b"}, {"a"}, {"a"}, {"b"}, {"a"}, {"a"}};
  RunBehindAHeldFlush(gc, r, later);

  absl::MutexLock lock(&r.mu);
  ASSERT_EQ(r.batches.size(), 3u);  // the first, then one per key
  EXPECT_EQ(r.batches[0], std::vector<std::string>{"a"});
  // Which key goes next is the key of whichever caller queued first (the
  // threads race to the queue); each key is one batch either way.
  const int a_batch = r.batches[1].front() == "a" ? 1 : 2;
  EXPECT_EQ(r.batches[a_batch], std::vector<std::string>(5, "a"));
  EXPECT_EQ(r.batches[3 - a_batch], std::vector<std::string>(2, "b"));
  for (const Job& j : later) {
    EXPECT_EQ(j.batch, j.key == "a" ? a_batch : 3 - a_batch);
    EXPECT_EQ(j.batch_size, j.key == "a" ? 5u : 2u);
  }
}

TEST(GroupCommit, AtMostMaxBatchJobsGoTogether) {
  Recorder r;
  GroupCommit<Job> gc(
      2, 1, [](const Job& j) { return j.key; },
      [&](const std::vector<Job*>& jobs) { r.Flush(jobs); });
  std::vector<Job> later(5, Job{"a"});
  RunBehindAHeldFlush(gc, r, later);
  absl::MutexLock lock(&r.mu);
  ASSERT_EQ(r.batches.size(), 4u);  // 1, then 2, 2, 1
  EXPECT_EQ(r.batches[1].size(), 2u);
  EXPECT_EQ(r.batches[2].size(), 2u);
  EXPECT_EQ(r.batches[3].size(), 1u);
}

TEST(GroupCommit, TwoFlushesMayRunAtOnce) {
  // The first flush returns only once a second one has started: with one
  // flush at a time this would never finish.
  absl::Notification second_started;
  std::atomic<int> flushes{0};
  GroupCommit<Job> gc(64, 2, [](const Job& j) { return j.key; },
                      [&](const std::vector<Job*>& jobs) {
                        if (flushes.fetch_add(1) == 0) {
                          second_started.WaitForNotification();
                        } else {
                          second_started.Notify();
                        }
                        for (Job* j : jobs) j->batch = 0;
                      });
  Job a{"a"}, b{"a"};
  std::thread t1([&] { gc.Run(&a); });
  while (flushes.load() == 0) std::this_thread::yield();
  std::thread t2([&] { gc.Run(&b); });
  t1.join();
  t2.join();
  EXPECT_EQ(flushes.load(), 2);
  EXPECT_EQ(a.batch, 0);
  EXPECT_EQ(b.batch, 0);
}

}  // namespace
}  // namespace kit
