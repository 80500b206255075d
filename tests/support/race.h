#ifndef ESTATE_TESTS_SUPPORT_RACE_H_
#define ESTATE_TESTS_SUPPORT_RACE_H_

#include <functional>

#include "grpcpp/support/status.h"

namespace testing_support {

// How a race of callers ended: answered OK, refused with FAILED_PRECONDITION
// (the state no longer allowed it), or anything else.
struct RaceOutcome {
  int ok = 0;
  int refused = 0;
  int other = 0;
};

// Runs attempt(0..n-1) on n threads released at the same moment.
RaceOutcome Race(int n, const std::function<grpc::Status(int)>& attempt);

}  // namespace testing_support

#endif  // ESTATE_TESTS_SUPPORT_RACE_H_
