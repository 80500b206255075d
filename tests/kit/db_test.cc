// The MySQL pool and transaction helper against the real test MariaDB.
#include "services/kit/db.h"
#include "services/kit/unique_keys.h"

#include <atomic>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "gtest/gtest.h"
#include "tests/support/test_db.h"

namespace kit {
namespace {

using testing_support::TestDatabase;

class DbTest : public ::testing::Test {
 protected:
  void SetUp() override {
    options_ = TestDatabase::Shared().FreshSchema("kitdb");
    options_.pool_size = 4;
    db_ = std::make_unique<Db>(options_, &registry_);
    ASSERT_TRUE(db_->Run(Soon(), [](Conn& c) {
                      return c.Exec("CREATE TABLE t (id INT PRIMARY KEY, v VARCHAR(100),"
                                    " b LONGBLOB, at DATETIME(6))")
                          .status();
                    }).ok());
  }
  static absl::Time Soon() { return absl::Now() + absl::Seconds(10); }

  prometheus::Registry registry_;
  DbOptions options_;
  std::unique_ptr<Db> db_;
};

TEST_F(DbTest, ParametersRoundTripIncludingBinaryUnicodeAndTimes) {
  const std::string binary("\x00\x01\xFF\x27\x22\\", 6);
  const absl::Time at = absl::FromUnixMicros(1767225600123456);
  ASSERT_TRUE(db_->Run(Soon(), [&](Conn& c) {
                    return c.Exec("INSERT INTO t VALUES (?, ?, ?, ?)",
                                  {1, "5号楼 'quoted' \"double\" ; --", binary, at})
                        .status();
                  }).ok());
  ASSERT_TRUE(db_->Run(Soon(), [&](Conn& c) -> absl::Status {
                    absl::StatusOr<Row> r =
                        c.QueryOne("SELECT v, b, at FROM t WHERE id = ?", {1}, "missing");
                    if (!r.ok()) return r.status();
                    EXPECT_EQ(r->Str(0), "5号楼 'quoted' \"double\" ; --");
                    EXPECT_EQ(r->Str(1), binary);
                    EXPECT_EQ(r->Time(2), at);
                    return absl::OkStatus();
                  }).ok());
}

TEST_F(DbTest, ErrorsMapToCodesWithoutSqlInTheMessage) {
  absl::Status dup;
  ASSERT_TRUE(db_->Run(Soon(), [&](Conn& c) {
                    EXPECT_TRUE(c.Exec("INSERT INTO t (id) VALUES (?)", {7}).ok());
                    dup = c.Exec("INSERT INTO t (id) VALUES (?)", {7}).status();
                    return absl::OkStatus();
                  }).ok());
  EXPECT_EQ(dup.code(), absl::StatusCode::kAlreadyExists);
  const absl::Status bad = db_->Run(Soon(), [](Conn& c) {
    return c.Query("SELECT no_such_column FROM t").status();
  });
  EXPECT_EQ(bad.code(), absl::StatusCode::kInternal);
  EXPECT_EQ(bad.message(), "internal database error");
}

TEST_F(DbTest, ADuplicateNamesItsKeyAndAStoreDeclaresWhatItMeans) {
  ASSERT_TRUE(db_->Run(Soon(), [](Conn& c) {
                    return c.Exec("CREATE TABLE tags (id INT PRIMARY KEY, tag VARCHAR(20),"
                                  " UNIQUE KEY by_tag (tag))")
                        .status();
                  }).ok());
  constexpr UniqueKeys keys{{{"by_tag", absl::StatusCode::kAlreadyExists, "tag: already taken"},
                             {"PRIMARY", absl::StatusCode::kAborted, "raced; read again"}}};
  absl::Status by_tag, by_id;
  ASSERT_TRUE(db_->Run(Soon(), [&](Conn& c) {
                    EXPECT_TRUE(c.Exec("INSERT INTO tags VALUES (1, 'T-1')").ok());
                    by_tag = c.Exec("INSERT INTO tags VALUES (2, 'T-1')").status();
                    by_id = c.Exec("INSERT INTO tags VALUES (1, 'T-2')").status();
                    return absl::OkStatus();
                  }).ok());
  EXPECT_EQ(DuplicateKeyOf(by_tag), "by_tag");
  EXPECT_EQ(DuplicateKeyOf(by_id), "PRIMARY");
  EXPECT_EQ(keys.Map(by_tag), absl::AlreadyExistsError("tag: already taken"));
  EXPECT_EQ(keys.Map(by_id), absl::AbortedError("raced; read again"));
  EXPECT_EQ(UniqueKeys{}.Map(by_tag), absl::AlreadyExistsError("already exists"))
      << "an undeclared key stays ALREADY_EXISTS";
  EXPECT_EQ(keys.Map(absl::NotFoundError("x")), absl::NotFoundError("x"));
  EXPECT_EQ(KeyNameFromDuplicateMessage("Duplicate entry 'a' for key 'keys.by_tag'"), "by_tag")
      << "MySQL 8 names the table too";
}

TEST_F(DbTest, TheStatementCacheIsBoundedAndClosesWhatItDrops) {
  DbOptions small = options_;
  small.pool_size = 1;
  small.statement_cache_size = 4;
  Db db(small, nullptr);
  int64_t closed = -1;
  ASSERT_TRUE(db.Run(Soon(), [&](Conn& c) -> absl::Status {
                  // 20 shapes (as a List with optional filters makes), and the
                  // first again: it was dropped, so it is prepared anew.
                  for (int i = 0; i <= 20; ++i) {
                    const absl::Status s =
                        c.Query(absl::StrCat("SELECT ", i % 20, " FROM t")).status();
                    if (!s.ok()) return s;
                  }
                  absl::StatusOr<Row> r = c.QueryOne(
                      "SELECT VARIABLE_VALUE FROM information_schema.SESSION_STATUS"
                      " WHERE VARIABLE_NAME = 'COM_STMT_CLOSE'",
                      {}, "no such status");
                  if (r.ok()) closed = r->Int(0);
                  return r.status();
                }).ok());
  // 22 statements prepared on this connection, at most 4 open at a time.
  EXPECT_EQ(closed, 22 - 4);
}

TEST_F(DbTest, TransactionRollsBackOnError) {
  const absl::Status s = db_->Transact(Soon(), [](Conn& c) -> absl::Status {
    if (absl::Status st = c.Exec("INSERT INTO t (id) VALUES (100)").status(); !st.ok()) return st;
    return absl::FailedPreconditionError("changed my mind");
  });
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
  int64_t n = -1;
  ASSERT_TRUE(db_->Run(Soon(), [&](Conn& c) -> absl::Status {
                    absl::StatusOr<Row> r = c.QueryOne("SELECT COUNT(*) FROM t WHERE id = 100", {}, "");
                    if (r.ok()) n = r->Int(0);
                    return r.status();
                  }).ok());
  EXPECT_EQ(n, 0);
}

TEST_F(DbTest, ConcurrentReadModifyWriteLosesNoUpdate) {
  ASSERT_TRUE(db_->Run(Soon(), [](Conn& c) {
                    return c.Exec("INSERT INTO t (id, v) VALUES (1, '0')").status();
                  }).ok());
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([&] {
      for (int k = 0; k < 10; ++k) {
        const absl::Status s = db_->Transact(Soon(), [](Conn& c) -> absl::Status {
          absl::StatusOr<Row> r = c.QueryOne("SELECT v FROM t WHERE id = 1 FOR UPDATE", {}, "");
          if (!r.ok()) return r.status();
          const int v = std::stoi(r->Str(0));
          return c.Exec("UPDATE t SET v = ? WHERE id = 1", {std::to_string(v + 1)}).status();
        });
        if (!s.ok()) ++failures;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(failures.load(), 0);
  std::string v;
  ASSERT_TRUE(db_->Run(Soon(), [&](Conn& c) -> absl::Status {
                    absl::StatusOr<Row> r = c.QueryOne("SELECT v FROM t WHERE id = 1", {}, "");
                    if (r.ok()) v = r->Str(0);
                    return r.status();
                  }).ok());
  EXPECT_EQ(v, "80");
}

TEST_F(DbTest, DeadlocksAreRetried) {
  ASSERT_TRUE(db_->Run(Soon(), [](Conn& c) {
                    return c.Exec("INSERT INTO t (id, v) VALUES (1, 'a'), (2, 'b')").status();
                  }).ok());
  // Two transactions lock 1 then 2, and 2 then 1: InnoDB kills one; the helper
  // retries it, so both succeed.
  std::atomic<int> attempts{0};
  // Each first attempt holds its first row until the other holds its own:
  // then both reach for the other's row, and InnoDB must break the cycle.
  absl::Mutex mu;
  int holding = 0;
  auto worker = [&](int first, int second) {
    bool first_attempt = true;
    return db_->Transact(Soon(), [&, first, second](Conn& c) -> absl::Status {
      ++attempts;
      absl::Status s = c.Exec("UPDATE t SET v = CONCAT(v, 'x') WHERE id = ?", {first}).status();
      if (!s.ok()) return s;
      if (first_attempt) {
        first_attempt = false;
        absl::MutexLock lock(&mu);
        ++holding;
        mu.Await(absl::Condition(+[](int* h) { return *h >= 2; }, &holding));
      }
      return c.Exec("UPDATE t SET v = CONCAT(v, 'y') WHERE id = ?", {second}).status();
    });
  };
  absl::Status a, b;
  std::thread ta([&] { a = worker(1, 2); });
  std::thread tb([&] { b = worker(2, 1); });
  ta.join();
  tb.join();
  EXPECT_TRUE(a.ok()) << a;
  EXPECT_TRUE(b.ok()) << b;
  EXPECT_GE(attempts.load(), 3);  // one of them ran twice
}

TEST_F(DbTest, AnExhaustedPoolWaitsUntilTheDeadlineThenSaysUnavailable) {
  absl::Notification release;
  std::vector<std::thread> holders;
  for (int i = 0; i < options_.pool_size; ++i) {
    holders.emplace_back([&] {
      (void)db_->Run(Soon(), [&](Conn&) {
        release.WaitForNotification();
        return absl::OkStatus();
      });
    });
  }
  while (db_->Stats().in_use < options_.pool_size) absl::SleepFor(absl::Milliseconds(5));
  const absl::Time start = absl::Now();
  const absl::Status s = db_->Run(absl::Now() + absl::Milliseconds(300),
                                  [](Conn&) { return absl::OkStatus(); });
  const absl::Duration waited = absl::Now() - start;
  EXPECT_EQ(s.code(), absl::StatusCode::kUnavailable);
  EXPECT_GE(waited, absl::Milliseconds(250));
  EXPECT_LT(waited, absl::Seconds(2));
  // A busy pool is not a database that is down: health keeps answering.
  EXPECT_TRUE(db_->Ping(absl::Now() + absl::Seconds(1)).ok());
  // A waiter is served as soon as a connection comes back.
  std::thread waiter([&] {
    EXPECT_TRUE(db_->Run(Soon(), [](Conn& c) { return c.Query("SELECT 1").status(); }).ok());
  });
  ASSERT_TRUE(db_->AwaitWaiters(1, absl::Now() + absl::Seconds(10)));
  EXPECT_EQ(db_->Stats().waiters, 1);
  release.Notify();
  waiter.join();
  for (auto& t : holders) t.join();
  EXPECT_EQ(db_->Stats().in_use, 0);
}

TEST_F(DbTest, AKilledConnectionIsReplaced) {
  FakeClock clock(absl::Now());
  Db db(options_, nullptr, clock);
  int64_t victim = 0;
  ASSERT_TRUE(db.Run(Soon(), [&](Conn& c) -> absl::Status {
                    absl::StatusOr<Row> r = c.QueryOne("SELECT CONNECTION_ID()", {}, "");
                    if (r.ok()) victim = r->Int(0);
                    return r.status();
                  }).ok());
  ASSERT_TRUE(TestDatabase::Shared().admin().Run(Soon(), [&](Conn& c) {
                    return c.Exec("KILL ?", {victim}).status();
                  }).ok());
  clock.Advance(absl::Seconds(2));  // past the idle time that triggers a ping
  const absl::Status s = db.Run(Soon(), [](Conn& c) { return c.Query("SELECT 1").status(); });
  EXPECT_TRUE(s.ok()) << s;
}

}  // namespace
}  // namespace kit
