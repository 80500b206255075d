#include "tests/support/test_db.h"

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"

namespace testing_support {

TestDatabase& TestDatabase::Shared() {
  static TestDatabase* db = [] {
    const char* port = std::getenv("ESTATE_TEST_DB_PORT");
    int p = 0;
    if (port == nullptr || !absl::SimpleAtoi(port, &p)) {
      fprintf(stderr,
              "ESTATE_TEST_DB_PORT is not set: run the tests with tools/test, which starts "
              "a private MariaDB for them.\n");
      std::abort();
    }
    return new TestDatabase(p);
  }();
  return *db;
}

TestDatabase::TestDatabase(int port) : port_(port) {
  kit::DbOptions o;
  o.port = port;
  o.user = "estate_admin";
  o.password = "estate-admin";
  o.schema = "";
  o.pool_size = 4;
  admin_ = std::make_unique<kit::Db>(o, nullptr);
}

kit::DbOptions TestDatabase::FreshSchema(const std::string& prefix) {
  static std::atomic<int> counter{0};
  const std::string name =
      absl::StrCat(prefix, "_", getpid(), "_", counter.fetch_add(1), "_",
                   absl::ToUnixMicros(absl::Now()) % 1000000);
  kit::DbOptions o;
  o.port = port_;
  o.user = name.substr(0, 80);
  o.password = "pw-" + name;
  o.schema = name;
  o.pool_size = 40;
  const absl::Status s = admin_->Run(absl::Now() + absl::Seconds(30), [&](kit::Conn& c) {
    // DDL cannot take placeholders for names; `name` is ours, not input.
    for (const std::string& stmt :
         {absl::StrCat("CREATE DATABASE `", name, "`"),
          absl::StrCat("CREATE USER '", o.user, "'@'127.0.0.1' IDENTIFIED BY '", o.password, "'"),
          absl::StrCat("GRANT ALL PRIVILEGES ON `", name, "`.* TO '", o.user, "'@'127.0.0.1'")}) {
      if (absl::Status st = c.Exec(stmt).status(); !st.ok()) return st;
    }
    return absl::OkStatus();
  });
  if (!s.ok()) {
    fprintf(stderr, "cannot create test schema %s: %s\n", name.c_str(), s.ToString().c_str());
    std::abort();
  }
  return o;
}

std::string ToolsDir() { return ESTATE_SOURCE_DIR "/tools"; }

int RunTool(const std::string& command_line) {
  const int rc = std::system(command_line.c_str());
  return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

int FreePort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
  socklen_t len = sizeof(addr);
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  const int port = ntohs(addr.sin_port);
  close(fd);
  return port;
}

int64_t AdminScalar(TestDatabase& db, const std::string& sql,
                    const std::vector<kit::SqlParam>& params) {
  int64_t out = -1;
  const absl::Status s = db.admin().Run(absl::Now() + absl::Seconds(30), [&](kit::Conn& c) {
    absl::StatusOr<std::vector<kit::Row>> rows = c.Query(sql, params);
    if (!rows.ok()) return rows.status();
    if (!rows->empty() && rows->front().size() > 0) out = rows->front().Int(0);
    return absl::OkStatus();
  });
  EXPECT_TRUE(s.ok()) << s << " in " << sql;
  return out;
}

}  // namespace testing_support
