#include "services/kit/migrations.h"

#include <thread>

#include "gtest/gtest.h"
#include "tests/support/test_db.h"

namespace kit {
namespace {

using testing_support::TestDatabase;

absl::Time Soon() { return absl::Now() + absl::Seconds(30); }

int64_t Scalar(Db& db, const std::string& sql) {
  int64_t out = -1;
  EXPECT_TRUE(db.Run(Soon(), [&](Conn& c) -> absl::Status {
                  absl::StatusOr<Row> r = c.QueryOne(sql, {}, "");
                  if (r.ok()) out = r->Int(0);
                  return r.status();
                }).ok());
  return out;
}

const std::vector<Migration> kTwo = {
    {1, "001_a", "CREATE TABLE a (x INT);\nINSERT INTO a VALUES (1);\n"},
    {2, "002_b", "-- b comes later\nCREATE TABLE b (y INT);\n"},
};

TEST(Migrate, AppliesOnceAndRecordsChecksums) {
  Db db(TestDatabase::Shared().FreshSchema("mig"), nullptr);
  ASSERT_TRUE(Migrate(db, "svc", {kTwo[0]}, Soon()).ok());
  ASSERT_TRUE(Migrate(db, "svc", kTwo, Soon()).ok());
  ASSERT_TRUE(Migrate(db, "svc", kTwo, Soon()).ok());
  EXPECT_EQ(Scalar(db, "SELECT COUNT(*) FROM a"), 1);  // the INSERT ran once
  EXPECT_EQ(Scalar(db, "SELECT COUNT(*) FROM schema_migrations WHERE component = 'svc'"), 2);
  EXPECT_EQ(Scalar(db, "SELECT LENGTH(checksum) FROM schema_migrations WHERE version = 2"), 64);
}

TEST(Migrate, AChangedAppliedFileStopsStartUpNamingIt) {
  Db db(TestDatabase::Shared().FreshSchema("mig"), nullptr);
  ASSERT_TRUE(Migrate(db, "svc", kTwo, Soon()).ok());
  std::vector<Migration> edited = kTwo;
  edited[0].sql = "CREATE TABLE a (x BIGINT);\nINSERT INTO a VALUES (1);\n";
  const absl::Status s = Migrate(db, "svc", edited, Soon());
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(s.message().find("svc/001_a.sql was changed"), absl::string_view::npos) << s;
}

TEST(Migrate, ReplicasStartingTogetherMigrateOnce) {
  const DbOptions o = TestDatabase::Shared().FreshSchema("mig");
  std::vector<std::thread> replicas;
  std::vector<absl::Status> results(4);
  for (int i = 0; i < 4; ++i) {
    replicas.emplace_back([&, i] {
      Db db(o, nullptr);
      results[i] = Migrate(db, "svc", kTwo, Soon());
    });
  }
  for (auto& t : replicas) t.join();
  for (const absl::Status& s : results) EXPECT_TRUE(s.ok()) << s;
  Db db(o, nullptr);
  EXPECT_EQ(Scalar(db, "SELECT COUNT(*) FROM a"), 1);
}

TEST(Migrate, AFailingStatementIsReportedWithTheFile) {
  Db db(TestDatabase::Shared().FreshSchema("mig"), nullptr);
  const absl::Status s =
      Migrate(db, "svc", {{1, "001_broken", "CREATE TABLE (oops;\n"}}, Soon());
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find("001_broken"), absl::string_view::npos) << s;
}

}  // namespace
}  // namespace kit
