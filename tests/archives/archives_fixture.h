#ifndef ESTATE_TESTS_ARCHIVES_ARCHIVES_FIXTURE_H_
#define ESTATE_TESTS_ARCHIVES_ARCHIVES_FIXTURE_H_

#include <memory>
#include <string>
#include <vector>

#include "estate/archives/v1/archives.grpc.pb.h"
#include "gtest/gtest.h"
#include "services/archives/archives_service.h"
#include "services/kit/clock.h"
#include "tests/support/in_process.h"
#include "tests/support/recount.h"
#include "tests/support/test_db.h"

std::vector<kit::Migration> estate_archives_migrations();

namespace archives {

using testing_support::NewRequestId;

// 2026-{month}-{day} {hour}:00 UTC.
absl::Time At(int month, int day, int hour);

// One archives service per test suite on a fresh schema of the private test
// MariaDB, with a fake clock that every test starts at 2026-03-02 09:00 UTC.
class ArchivesTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite();
  static void TearDownTestSuite();
  void TearDown() override { clock_->Set(At(3, 2, 9)); }

  // A site no other test of the binary uses.
  static std::string NewSite();
  // A call as the gateway would forward it for `caller` with `roles`.
  static std::unique_ptr<grpc::ClientContext> As(const std::string& roles,
                                                 const std::string& caller = "user:clerk");
  static std::unique_ptr<grpc::ClientContext> Context() { return As("staff"); }

  static kit::FakeClock* clock_;
  static kit::DbOptions* db_;
  static testing_support::InProcessService* server_;
  static v1::ArchivesService::Stub* stub_;
  static ArchivesService* service_;
  static testing_support::Recount* sql_;
};

}  // namespace archives

#endif  // ESTATE_TESTS_ARCHIVES_ARCHIVES_FIXTURE_H_
