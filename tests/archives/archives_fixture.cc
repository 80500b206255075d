#include "tests/archives/archives_fixture.h"

#include "absl/strings/str_cat.h"
#include "services/kit/rpc_context.h"

namespace archives {

absl::Time At(int month, int day, int hour) {
  return absl::FromCivil(absl::CivilSecond(2026, month, day, hour, 0, 0), absl::UTCTimeZone());
}

kit::FakeClock* ArchivesTest::clock_;
kit::DbOptions* ArchivesTest::db_;
testing_support::InProcessService* ArchivesTest::server_;
v1::ArchivesService::Stub* ArchivesTest::stub_;
ArchivesService* ArchivesTest::service_;
testing_support::Recount* ArchivesTest::sql_;

void ArchivesTest::SetUpTestSuite() {
  clock_ = new kit::FakeClock(At(3, 2, 9));
  db_ = new kit::DbOptions(testing_support::TestDatabase::Shared().FreshSchema("archives"));
  server_ = testing_support::InProcessService::Start(
                "archives", *db_, estate_archives_migrations(),
                [](kit::ServiceHost& host) {
                  service_ = RegisterArchives(host, *clock_, absl::Hours(1000));
                })
                .release();
  ASSERT_NE(server_, nullptr);
  stub_ = v1::ArchivesService::NewStub(server_->channel()).release();
  sql_ = new testing_support::Recount(*db_);
}

void ArchivesTest::TearDownTestSuite() {
  delete sql_;
  delete stub_;
  delete server_;
  delete db_;
  delete clock_;
  sql_ = nullptr;
  stub_ = nullptr;
  server_ = nullptr;
  db_ = nullptr;
  clock_ = nullptr;
}

std::string ArchivesTest::NewSite() {
  static int n = 0;
  return absl::StrCat("estate-", ++n);
}

std::unique_ptr<grpc::ClientContext> ArchivesTest::As(const std::string& roles,
                                                      const std::string& caller) {
  return testing_support::Context(caller, absl::Seconds(10), roles);
}

}  // namespace archives
