// A write is answered OK only when the server confirmed its COMMIT. A proxy
// between the pool and the test MariaDB cuts the connection at COMMIT, before
// the server gets it (it rolls back) or after it answered (it committed): the
// call answers UNAVAILABLE either way, and a retry with the same request_id
// leaves exactly one copy of the write.
#include <tuple>

#include "google/protobuf/wrappers.pb.h"
#include "absl/strings/str_replace.h"
#include "gtest/gtest.h"
#include "services/kit/clock.h"
#include "services/kit/db.h"
#include "services/kit/idempotency.h"
#include "services/kit/migrations.h"
#include "tests/support/in_process.h"
#include "tests/support/mysql_proxy.h"
#include "tests/support/test_db.h"

namespace kit {
namespace {

using testing_support::AdminScalar;
using testing_support::MysqlProxy;
using testing_support::TestDatabase;

absl::Time Soon() { return absl::Now() + absl::Seconds(30); }

class CommitCutTest : public ::testing::Test {
 protected:
  void SetUp() override {
    options_ = TestDatabase::Shared().FreshSchema("commitcut");
    proxy_ = std::make_unique<MysqlProxy>(options_.port);
    DbOptions through_proxy = options_;
    through_proxy.port = proxy_->port();
    through_proxy.pool_size = 4;
    db_ = std::make_unique<Db>(through_proxy, nullptr);
    ASSERT_TRUE(Migrate(*db_, "kit", KitMigrations(), Soon()).ok());
    ASSERT_TRUE(db_->Run(Soon(), [](Conn& c) -> absl::Status {
                      absl::Status s = c.Exec("CREATE TABLE payments (id BIGINT AUTO_INCREMENT"
                                              " PRIMARY KEY, ref VARCHAR(64), amount BIGINT)")
                                           .status();
                      if (!s.ok()) return s;
                      s = c.Exec("CREATE TABLE balances (account VARCHAR(16) PRIMARY KEY,"
                                 " paid BIGINT NOT NULL)")
                              .status();
                      if (!s.ok()) return s;
                      return c.Exec("INSERT INTO balances VALUES ('4-1-302', 0)").status();
                    }).ok());
  }

  // A create of one row: the request_id claim, the INSERT, the stored answer.
  absl::Status CreatePayment(const std::string& request_id, const std::string& ref,
                             google::protobuf::Int64Value* out) {
    google::protobuf::StringValue req;
    req.set_value(ref);
    return IdempotentWrite(*db_, Soon(), "CreatePayment", request_id, req, out,
                           [&](Conn& c) -> absl::Status {
                             absl::StatusOr<int64_t> id = c.InsertReturningId(
                                 "INSERT INTO payments (ref, amount) VALUES (?, 100) RETURNING id",
                                 {ref});
                             if (!id.ok()) return id.status();
                             out->set_value(*id);
                             return absl::OkStatus();
                           });
  }

  // A payment that also moves a balance: a locked read, an insert, an update.
  absl::Status PostPayment(const std::string& request_id, const std::string& ref,
                           google::protobuf::Int64Value* out) {
    google::protobuf::StringValue req;
    req.set_value(ref);
    return IdempotentWrite(
        *db_, Soon(), "PostPayment", request_id, req, out, [&](Conn& c) -> absl::Status {
          absl::StatusOr<Row> bal = c.QueryOne(
              "SELECT paid FROM balances WHERE account = '4-1-302' FOR UPDATE", {}, "no account");
          if (!bal.ok()) return bal.status();
          absl::StatusOr<int64_t> id = c.InsertReturningId(
              "INSERT INTO payments (ref, amount) VALUES (?, 250) RETURNING id", {ref});
          if (!id.ok()) return id.status();
          absl::Status s = c.Exec("UPDATE balances SET paid = ? WHERE account = '4-1-302'",
                                  {bal->Int(0) + 250})
                               .status();
          if (!s.ok()) return s;
          out->set_value(*id);
          return absl::OkStatus();
        });
  }

  int64_t Scalar(const std::string& sql, const std::vector<SqlParam>& params = {}) {
    return AdminScalar(TestDatabase::Shared(),
                       absl::StrReplaceAll(sql, {{"$s", "`" + options_.schema + "`"}}), params);
  }
  int64_t Copies(const std::string& ref) {
    return Scalar("SELECT COUNT(*) FROM $s.payments WHERE ref = ?", {ref});
  }

  DbOptions options_;
  std::unique_ptr<MysqlProxy> proxy_;
  std::unique_ptr<Db> db_;
};

// Cut before/after forwarding × a single-statement create / a multi-statement
// transaction.
class CommitCutCase : public CommitCutTest,
                      public ::testing::WithParamInterface<std::tuple<MysqlProxy::Cut, bool>> {};

TEST_P(CommitCutCase, NeverOkWithoutTheRowAndARetryLeavesExactlyOne) {
  const auto [how, multi_statement] = GetParam();
  const std::string request_id = testing_support::NewRequestId();
  const std::string ref = "wx-" + request_id;
  const auto write = [&](google::protobuf::Int64Value* out) {
    return multi_statement ? PostPayment(request_id, ref, out) : CreatePayment(request_id, ref, out);
  };

  proxy_->CutNextCommit(how);
  google::protobuf::Int64Value first;
  const absl::Status cut = write(&first);
  ASSERT_EQ(proxy_->commits_cut(), 1) << "the proxy never saw the COMMIT";
  EXPECT_EQ(cut.code(), absl::StatusCode::kUnavailable) << cut;
  EXPECT_EQ(cut.message(), kCommitOutcomeUnknown);
  // What the server did is what the proxy let it do.
  const int64_t expected_after_cut = how == MysqlProxy::Cut::kAfterForwarding ? 1 : 0;
  EXPECT_EQ(Copies(ref), expected_after_cut);

  google::protobuf::Int64Value retried;
  const absl::Status again = write(&retried);
  ASSERT_TRUE(again.ok()) << again;
  EXPECT_EQ(Copies(ref), 1);
  EXPECT_EQ(Scalar("SELECT id FROM $s.payments WHERE ref = ?", {ref}), retried.value())
      << "the retry answers with the row that is there";
  if (multi_statement) {
    EXPECT_EQ(Scalar("SELECT paid FROM $s.balances"), 250) << "the balance moved once";
  }
  // And a third try changes nothing either.
  google::protobuf::Int64Value third;
  ASSERT_TRUE(write(&third).ok());
  EXPECT_EQ(third.value(), retried.value());
  EXPECT_EQ(Copies(ref), 1);
}

INSTANTIATE_TEST_SUITE_P(
    CutAtCommit, CommitCutCase,
    ::testing::Combine(::testing::Values(MysqlProxy::Cut::kBeforeForwarding,
                                         MysqlProxy::Cut::kAfterForwarding),
                       ::testing::Bool()),
    [](const ::testing::TestParamInfo<CommitCutCase::ParamType>& info) {
      return std::string(std::get<0>(info.param) == MysqlProxy::Cut::kBeforeForwarding
                             ? "BeforeForwarding"
                             : "AfterForwarding") +
             (std::get<1>(info.param) ? "_MultiStatement" : "_SingleInsert");
    });

TEST_F(CommitCutTest, ManyCutsInARowNeverAnswerOkForAMissingRow) {
  // The reproduction: ten commits cut in a row, each retried.
  for (int i = 0; i < 10; ++i) {
    const std::string request_id = testing_support::NewRequestId();
    const std::string ref = "rv-" + request_id;
    proxy_->CutNextCommit(i % 2 == 0 ? MysqlProxy::Cut::kBeforeForwarding
                                     : MysqlProxy::Cut::kAfterForwarding);
    google::protobuf::Int64Value out;
    const absl::Status s = CreatePayment(request_id, ref, &out);
    if (s.ok()) {
      EXPECT_EQ(Copies(ref), 1) << "answered OK for a write that is not there";
    }
    EXPECT_EQ(s.code(), absl::StatusCode::kUnavailable);
    ASSERT_TRUE(CreatePayment(request_id, ref, &out).ok());
    EXPECT_EQ(Copies(ref), 1);
  }
  EXPECT_EQ(proxy_->commits_cut(), 10);
  EXPECT_EQ(Scalar("SELECT COUNT(*) FROM $s.payments"), 10);
}

TEST_F(CommitCutTest, AConnectionLostBeforeCommitIsRetriedOnAFreshOne) {
  // Open a pooled connection, then lose it while it sits idle: the next
  // transaction's first statement fails, nothing was applied, and the kit
  // retries on a new connection without troubling the caller.
  google::protobuf::Int64Value out;
  ASSERT_TRUE(CreatePayment(testing_support::NewRequestId(), "first", &out).ok());
  proxy_->CutAll();
  const std::string request_id = testing_support::NewRequestId();
  ASSERT_TRUE(CreatePayment(request_id, "second", &out).ok());
  EXPECT_EQ(Copies("second"), 1);
}

// The deadline rule, with a clock the test moves.
class DeadlineTest : public ::testing::Test {
 protected:
  void SetUp() override {
    db_ = std::make_unique<Db>(TestDatabase::Shared().FreshSchema("deadline"), nullptr, clock_);
    ASSERT_TRUE(db_->Run(absl::InfiniteFuture(), [](Conn& c) {
                      return c.Exec("CREATE TABLE t (id INT PRIMARY KEY)").status();
                    }).ok());
  }
  int64_t Rows() {
    return AdminScalar(TestDatabase::Shared(),
                       "SELECT COUNT(*) FROM `" + db_->options().schema + "`.t");
  }
  FakeClock clock_{absl::FromUnixSeconds(1790000000)};
  std::unique_ptr<Db> db_;
};

TEST_F(DeadlineTest, ATransactionPastItsDeadlineBeforeCommitIsRolledBack) {
  const absl::Time deadline = clock_.Now() + absl::Seconds(2);
  const absl::Status s = db_->Transact(deadline, [&](Conn& c) -> absl::Status {
    absl::Status st = c.Exec("INSERT INTO t VALUES (1)").status();
    clock_.Advance(absl::Seconds(3));  // the statement was slow; the client gave up
    return st;
  });
  EXPECT_EQ(s.code(), absl::StatusCode::kDeadlineExceeded) << s;
  EXPECT_EQ(Rows(), 0);
  // The connection went back to the pool clean: the next write commits alone.
  ASSERT_TRUE(db_->Transact(clock_.Now() + absl::Seconds(2), [](Conn& c) {
                    return c.Exec("INSERT INTO t VALUES (2)").status();
                  }).ok());
  EXPECT_EQ(Rows(), 1);
}

TEST_F(DeadlineTest, NoStatementStartsAfterTheDeadline) {
  int statements_run = 0;
  const absl::Time deadline = clock_.Now() + absl::Seconds(1);
  const absl::Status s = db_->Transact(deadline, [&](Conn& c) -> absl::Status {
    for (int i = 10; i < 20; ++i) {
      absl::Status st = c.Exec("INSERT INTO t VALUES (?)", {i}).status();
      if (!st.ok()) return st;
      ++statements_run;
      clock_.Advance(absl::Milliseconds(400));  // each one slow
    }
    return absl::OkStatus();
  });
  EXPECT_EQ(s.code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_EQ(statements_run, 3);  // at 0, 400 and 800 ms; the one at 1200 ms never starts
  EXPECT_EQ(Rows(), 0);
}

TEST_F(DeadlineTest, AWriteWithinItsDeadlineCommits) {
  ASSERT_TRUE(db_->Transact(clock_.Now() + absl::Seconds(1), [&](Conn& c) {
                    clock_.Advance(absl::Milliseconds(999));
                    return c.Exec("INSERT INTO t VALUES (3)").status();
                  }).ok());
  EXPECT_EQ(Rows(), 1);
}

}  // namespace
}  // namespace kit
