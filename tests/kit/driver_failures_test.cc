// What Debian's Connector/C++ reports when the connection under it is dead.
// The kit's Db relies on these answers (services/kit/db.cc, top of file): a
// call that swallows the failure must never decide whether a write is
// acknowledged. Each case opens a connection through a proxy, cuts it, and
// makes one call.
#include <mysql_driver.h>
#include <cppconn/connection.h>
#include <cppconn/exception.h>
#include <cppconn/prepared_statement.h>
#include <cppconn/resultset.h>

#include <memory>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "tests/support/mysql_proxy.h"
#include "tests/support/test_db.h"

namespace {

using testing_support::MysqlProxy;
using testing_support::TestDatabase;

class DriverFailuresTest : public ::testing::Test {
 protected:
  void SetUp() override {
    options_ = TestDatabase::Shared().FreshSchema("driver");
    proxy_ = std::make_unique<MysqlProxy>(options_.port);
  }
  // A connection through the proxy, in a transaction with one write, and
  // then cut; `prepared` is a statement prepared before the cut.
  std::unique_ptr<sql::Connection> CutConnection(
      std::unique_ptr<sql::PreparedStatement>* prepared = nullptr) {
    sql::ConnectOptionsMap opts;
    opts["hostName"] = sql::SQLString(absl::StrCat("tcp://127.0.0.1:", proxy_->port()));
    opts["userName"] = sql::SQLString(options_.user);
    opts["password"] = sql::SQLString(options_.password);
    opts["schema"] = sql::SQLString(options_.schema);
    opts["OPT_RECONNECT"] = false;
    std::unique_ptr<sql::Connection> c(sql::mysql::get_mysql_driver_instance()->connect(opts));
    std::unique_ptr<sql::PreparedStatement> create(
        c->prepareStatement("CREATE TABLE IF NOT EXISTS t (id INT PRIMARY KEY)"));
    create->executeUpdate();
    c->setAutoCommit(false);
    std::unique_ptr<sql::PreparedStatement> insert(c->prepareStatement("INSERT INTO t VALUES (1)"));
    insert->executeUpdate();
    if (prepared != nullptr) prepared->reset(c->prepareStatement("SELECT COUNT(*) FROM t"));
    proxy_->CutAll();
    return c;
  }

  kit::DbOptions options_;
  std::unique_ptr<MysqlProxy> proxy_;
};

// The defect behind lost writes: commit() on a dead connection returns as
// if it had committed. The kit issues COMMIT as a statement instead.
TEST_F(DriverFailuresTest, CommitSwallowsALostConnection) {
  std::unique_ptr<sql::Connection> c = CutConnection();
  EXPECT_NO_THROW(c->commit());
  EXPECT_EQ(testing_support::AdminScalar(TestDatabase::Shared(),
                                         "SELECT COUNT(*) FROM `" + options_.schema + "`.t"),
            0)
      << "and yet nothing was committed";
}

TEST_F(DriverFailuresTest, RollbackSwallowsALostConnection) {
  std::unique_ptr<sql::Connection> c = CutConnection();
  EXPECT_NO_THROW(c->rollback());
}

TEST_F(DriverFailuresTest, SetAutoCommitSwallowsALostConnection) {
  std::unique_ptr<sql::Connection> c = CutConnection();
  EXPECT_NO_THROW(c->setAutoCommit(true));
}

TEST_F(DriverFailuresTest, PreparedStatementsThrow) {
  std::unique_ptr<sql::PreparedStatement> prepared;
  std::unique_ptr<sql::Connection> c = CutConnection(&prepared);
  EXPECT_THROW(std::unique_ptr<sql::ResultSet>(prepared->executeQuery()), sql::SQLException);
  EXPECT_THROW(prepared->executeUpdate(), sql::SQLException);
}

TEST_F(DriverFailuresTest, PrepareThrows) {
  std::unique_ptr<sql::Connection> c = CutConnection();
  EXPECT_THROW(std::unique_ptr<sql::PreparedStatement>(c->prepareStatement("COMMIT")),
               sql::SQLException);
}

TEST_F(DriverFailuresTest, CommitAsAPreparedStatementThrows) {
  std::unique_ptr<sql::PreparedStatement> commit;
  std::unique_ptr<sql::Connection> c;
  {
    // Prepared before the cut, as the kit's statement cache holds it.
    sql::ConnectOptionsMap opts;
    opts["hostName"] = sql::SQLString(absl::StrCat("tcp://127.0.0.1:", proxy_->port()));
    opts["userName"] = sql::SQLString(options_.user);
    opts["password"] = sql::SQLString(options_.password);
    opts["schema"] = sql::SQLString(options_.schema);
    c.reset(sql::mysql::get_mysql_driver_instance()->connect(opts));
    commit.reset(c->prepareStatement("COMMIT"));
  }
  proxy_->CutAll();
  EXPECT_THROW(commit->executeUpdate(), sql::SQLException);
}

TEST_F(DriverFailuresTest, IsValidSaysFalse) {
  std::unique_ptr<sql::Connection> c = CutConnection();
  EXPECT_FALSE(c->isValid());
}

TEST_F(DriverFailuresTest, SetTransactionIsolationThrows) {
  std::unique_ptr<sql::Connection> c = CutConnection();
  EXPECT_THROW(c->setTransactionIsolation(sql::TRANSACTION_READ_COMMITTED), sql::SQLException);
}

}  // namespace
