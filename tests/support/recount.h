#ifndef ESTATE_TESTS_SUPPORT_RECOUNT_H_
#define ESTATE_TESTS_SUPPORT_RECOUNT_H_

#include <string>
#include <vector>

#include "services/kit/db.h"

namespace testing_support {

// Reads (and, for fault injection, writes) a service's schema behind its
// back, so tests can recount what the API reports. Failures fail the test.
class Recount {
 public:
  explicit Recount(const kit::DbOptions& options) : db_(options, nullptr) {}
  // First column of the first row; -1 if there is no row.
  int64_t Scalar(const std::string& sql, const std::vector<kit::SqlParam>& params = {});
  std::vector<kit::Row> Rows(const std::string& sql, const std::vector<kit::SqlParam>& params = {});
  void Exec(const std::string& sql, const std::vector<kit::SqlParam>& params = {});

 private:
  kit::Db db_;
};

}  // namespace testing_support

#endif  // ESTATE_TESTS_SUPPORT_RECOUNT_H_
