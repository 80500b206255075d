#include "tests/support/race.h"

#include <atomic>
#include <thread>
#include <vector>

#include "absl/synchronization/barrier.h"

namespace testing_support {

RaceOutcome Race(int n, const std::function<grpc::Status(int)>& attempt) {
  std::atomic<int> ok{0}, refused{0}, other{0};
  absl::Barrier* start = new absl::Barrier(n);
  std::vector<std::thread> threads;
  for (int i = 0; i < n; ++i) {
    threads.emplace_back([&, i] {
      if (start->Block()) delete start;
      const grpc::Status s = attempt(i);
      if (s.ok()) {
        ++ok;
      } else if (s.error_code() == grpc::StatusCode::FAILED_PRECONDITION) {
        ++refused;
      } else {
        ++other;
      }
    });
  }
  for (std::thread& t : threads) t.join();
  return {ok.load(), refused.load(), other.load()};
}

}  // namespace testing_support
