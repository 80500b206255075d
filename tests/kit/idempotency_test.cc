#include "services/kit/idempotency.h"

#include <atomic>
#include <thread>

#include "google/protobuf/timestamp.pb.h"
#include "google/protobuf/wrappers.pb.h"
#include "gtest/gtest.h"
#include "tests/support/in_process.h"
#include "tests/support/test_db.h"

namespace kit {
namespace {

using testing_support::TestDatabase;

class IdempotencyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    db_ = std::make_unique<Db>(TestDatabase::Shared().FreshSchema("idem"), nullptr);
    ASSERT_TRUE(Migrate(*db_, "kit", KitMigrations(), Soon()).ok());
    ASSERT_TRUE(db_->Run(Soon(), [](Conn& c) {
                      return c.Exec("CREATE TABLE things (id INT AUTO_INCREMENT PRIMARY KEY,"
                                    " v VARCHAR(100))")
                          .status();
                    }).ok());
  }
  static absl::Time Soon() { return absl::Now() + absl::Seconds(30); }

  // Inserts a row named by `v` and answers with its id, under request_id `id`.
  absl::Status Write(const std::string& id, const std::string& v,
                     google::protobuf::Int64Value* out) {
    google::protobuf::StringValue req;
    req.set_value(v);
    return IdempotentWrite(*db_, Soon(), "Write", id, req, out, [&](Conn& c) -> absl::Status {
      absl::StatusOr<int64_t> id = c.InsertReturningId("INSERT INTO things (v) VALUES (?) RETURNING id", {v});
      if (!id.ok()) return id.status();
      out->set_value(*id);
      return absl::OkStatus();
    });
  }
  int64_t Count() {
    return testing_support::AdminScalar(TestDatabase::Shared(),
                                        "SELECT COUNT(*) FROM `" + db_->options().schema +
                                            "`.things");
  }
  std::unique_ptr<Db> db_;
};

TEST_F(IdempotencyTest, ARetryReturnsTheFirstAnswerAndWritesNothing) {
  const std::string id = testing_support::NewRequestId();
  google::protobuf::Int64Value first, second;
  ASSERT_TRUE(Write(id, "a", &first).ok());
  ASSERT_TRUE(Write(id, "a", &second).ok());
  EXPECT_EQ(first.value(), second.value());
  EXPECT_EQ(Count(), 1);
}

TEST_F(IdempotencyTest, TheSameIdWithAnotherRequestIsRefused) {
  const std::string id = testing_support::NewRequestId();
  google::protobuf::Int64Value out;
  ASSERT_TRUE(Write(id, "a", &out).ok());
  const absl::Status s = Write(id, "b", &out);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(s.message(), "request_id: already used for a different request");
  EXPECT_EQ(Count(), 1);
}

TEST_F(IdempotencyTest, ConcurrentDuplicatesActOnce) {
  const std::string id = testing_support::NewRequestId();
  std::vector<std::thread> threads;
  std::vector<int64_t> answers(16, -1);
  std::atomic<int> errors{0};
  for (int i = 0; i < 16; ++i) {
    threads.emplace_back([&, i] {
      google::protobuf::Int64Value out;
      if (Write(id, "same", &out).ok()) answers[i] = out.value(); else ++errors;
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(errors.load(), 0);
  for (int64_t a : answers) EXPECT_EQ(a, answers[0]);
  EXPECT_EQ(Count(), 1);
}

TEST_F(IdempotencyTest, AFailedWriteLeavesNoClaimBehind) {
  const std::string id = testing_support::NewRequestId();
  google::protobuf::StringValue req;
  google::protobuf::Int64Value out;
  const absl::Status failed = IdempotentWrite(*db_, Soon(), "Write", id, req, &out,
                                              [](Conn&) { return absl::AbortedError("no"); });
  EXPECT_EQ(failed.code(), absl::StatusCode::kAborted);
  ASSERT_TRUE(Write(id, "later", &out).ok());
  EXPECT_EQ(Count(), 1);
}

TEST_F(IdempotencyTest, ClaimsArePurgedAfterTheRetention) {
  google::protobuf::Int64Value out;
  const std::string old_id = testing_support::NewRequestId();
  ASSERT_TRUE(Write(old_id, "old", &out).ok());
  ASSERT_TRUE(Write(testing_support::NewRequestId(), "new", &out).ok());
  // Age one claim by two days behind the service's back.
  ASSERT_TRUE(db_->Run(Soon(), [&](Conn& c) {
                    return c.Exec("UPDATE idempotency_keys SET created_at = created_at -"
                                  " INTERVAL 2 DAY WHERE request_id = ?", {old_id}).status();
                  }).ok());
  absl::StatusOr<int64_t> purged = PurgeIdempotencyKeys(*db_, absl::Now() - absl::Hours(25), Soon());
  ASSERT_TRUE(purged.ok());
  EXPECT_EQ(*purged, 1);
}

TEST(CheckRequestId, NamesTheField) {
  EXPECT_EQ(CheckRequestId("").message(), "request_id: required (a UUID)");
  EXPECT_EQ(CheckRequestId("12345").message(), "request_id: must be a UUID");
  EXPECT_TRUE(CheckRequestId("123e4567-e89b-42d3-a456-426614174000").ok());
}

}  // namespace
}  // namespace kit
