#ifndef ESTATE_TESTS_SUPPORT_TEST_DB_H_
#define ESTATE_TESTS_SUPPORT_TEST_DB_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "services/kit/db.h"

namespace testing_support {

// The private test MariaDB that tools/test starts (ESTATE_TEST_DB_PORT), or
// one a test starts itself with tools/db. The admin account creates one fresh
// schema and one user per suite, with grants on that schema only, as in
// production.
class TestDatabase {
 public:
  // The tools/test server. Aborts the test binary with a clear message when
  // ESTATE_TEST_DB_PORT is not set: a test that needs a database never passes
  // without one.
  static TestDatabase& Shared();
  explicit TestDatabase(int port);

  int port() const { return port_; }
  // A new empty schema "<prefix>_<unique>" and its own user.
  kit::DbOptions FreshSchema(const std::string& prefix);
  // Admin access for checks that read behind the service's back.
  kit::Db& admin() { return *admin_; }

 private:
  int port_;
  std::unique_ptr<kit::Db> admin_;
};

// tools/db commands for tests that stop and start their own server.
std::string ToolsDir();
int RunTool(const std::string& command_line);
int FreePort();

// Runs `sql` (with ? params) as admin and returns the first column of the first
// row as an integer; fails the test on error.
int64_t AdminScalar(TestDatabase& db, const std::string& sql,
                    const std::vector<kit::SqlParam>& params = {});

}  // namespace testing_support

#endif  // ESTATE_TESTS_SUPPORT_TEST_DB_H_
