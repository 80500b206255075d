#include "services/kit/db.h"

#include <mysql_driver.h>
#include <cppconn/connection.h>
#include <cppconn/exception.h>
#include <cppconn/prepared_statement.h>
#include <cppconn/resultset.h>
#include <cppconn/resultset_metadata.h>

#include <algorithm>
#include <list>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "prometheus/counter.h"
#include "prometheus/gauge.h"
#include "prometheus/histogram.h"
#include "services/kit/grpc_metrics.h"
#include "services/kit/log_context.h"
#include "services/kit/unique_keys.h"
#include "spdlog/spdlog.h"

// Which Connector/C++ 1.1 calls report a failure, checked against a
// connection that a proxy has cut (tests/kit/driver_failures_test.cc pins each
// one, so a driver upgrade that changes them fails there first):
//  - Connection::commit(), rollback() and setAutoCommit() call the C API and
//    drop its result: on a dead connection they return as if they had worked.
//    The kit does not call them; START TRANSACTION, COMMIT and ROLLBACK are
//    prepared statements like any other (Db::Transact).
//  - prepareStatement(), PreparedStatement::executeQuery() and
//    executeUpdate() throw SQLException with the server's or the client
//    library's error number: every statement's failure is seen.
//  - isValid() returns false (mysql_ping's result): Acquire drops the
//    connection.
//  - setTransactionIsolation() runs SET SESSION TRANSACTION as a statement and
//    throws; connect() throws.
namespace kit {

struct PooledConnection {
  std::unique_ptr<sql::Connection> conn;
  // The statement cache: `recent` holds the SQL texts, most recently used
  // first; each entry knows its place there.
  struct Cached {
    std::unique_ptr<sql::PreparedStatement> statement;
    std::list<std::string>::iterator place;
  };
  absl::flat_hash_map<std::string, Cached> statements;
  std::list<std::string> recent;
  absl::Time last_used = absl::InfinitePast();
  bool broken = false;
};

namespace {

constexpr int kMaxTransactAttempts = 4;
// A connection idle for longer than this is pinged before it is handed out.
constexpr absl::Duration kValidateAfterIdle = absl::Seconds(1);

bool IsConnectionLoss(int code) {
  switch (code) {
    case 2002:  // can't connect through socket
    case 2003:  // can't connect to server
    case 2006:  // server has gone away
    case 2013:  // lost connection during query
    case 2055:  // lost connection (system error)
    case 1053:  // server shutdown in progress
    case 1927:  // connection was killed
    case 4031:  // disconnected by server after inactivity
      return true;
    default:
      return false;
  }
}

bool IsRetryableConflict(int code) { return code == 1213 || code == 1205; }

absl::Status Unavailable() { return absl::UnavailableError("database unavailable"); }

}  // namespace

int64_t Row::Int(int i) const {
  int64_t v = 0;
  if (cols_[i].has_value()) (void)absl::SimpleAtoi(*cols_[i], &v);
  return v;
}

const std::string& Row::Str(int i) const {
  static const std::string* empty = new std::string();
  return cols_[i].has_value() ? *cols_[i] : *empty;
}

absl::Time Row::Time(int i) const {
  std::optional<absl::Time> t = OptTime(i);
  return t.has_value() ? *t : absl::InfinitePast();
}

namespace {

// Reads the fixed form MariaDB sends for DATETIME(6) in UTC,
// "YYYY-MM-DD HH:MM:SS[.ffffff]". absl::ParseTime does this too, at several
// times the cost, and a row carries up to a dozen times.
std::optional<absl::Time> ParseSqlTime(absl::string_view s) {
  const auto num = [&](size_t pos, size_t len, int64_t* out) {
    if (pos + len > s.size()) return false;
    int64_t v = 0;
    for (size_t k = pos; k < pos + len; ++k) {
      if (s[k] < '0' || s[k] > '9') return false;
      v = v * 10 + (s[k] - '0');
    }
    *out = v;
    return true;
  };
  int64_t y, mo, d, h, mi, sec, frac = 0;
  if (s.size() < 19 || s[4] != '-' || s[7] != '-' || s[10] != ' ' || s[13] != ':' ||
      s[16] != ':' || !num(0, 4, &y) || !num(5, 2, &mo) || !num(8, 2, &d) ||
      !num(11, 2, &h) || !num(14, 2, &mi) || !num(17, 2, &sec)) {
    return std::nullopt;
  }
  if (s.size() > 19) {
    const size_t digits = s.size() - 20;
    if (s[19] != '.' || digits == 0 || digits > 6 || !num(20, digits, &frac)) return std::nullopt;
    for (size_t k = digits; k < 6; ++k) frac *= 10;
  }
  return absl::FromCivil(absl::CivilSecond(y, mo, d, h, mi, sec), absl::UTCTimeZone()) +
         absl::Microseconds(frac);
}

}  // namespace

std::optional<absl::Time> Row::OptTime(int i) const {
  if (!cols_[i].has_value()) return std::nullopt;
  return ParseSqlTime(*cols_[i]);
}

std::string SqlTime(absl::Time t) {
  return absl::FormatTime("%Y-%m-%d %H:%M:%E6S", t, absl::UTCTimeZone());
}

absl::Status Conn::Fail(absl::string_view what, int code, const char* sqlstate,
                        const char* message) {
  last_error_ = code;
  NoteCause(absl::StrCat("database error ", code, " during ", what, ": ", message));
  if (IsConnectionLoss(code)) {
    pc_->broken = true;
    spdlog::warn("db connection lost during {}: {} ({})", std::string(what), message, code);
    return Unavailable();
  }
  if (IsRetryableConflict(code)) return absl::AbortedError("concurrent update; try again");
  if (code == 1062) return DuplicateKeyError(KeyNameFromDuplicateMessage(message));
  if (code == 4025 || code == 3819) {
    return absl::FailedPreconditionError("the change would break a rule of the data");
  }
  spdlog::error("db error during {}: {} (code {}, state {})", std::string(what), message, code, sqlstate);
  // A statement that failed for an unknown reason may have left the session in
  // a state we cannot reason about; do not reuse it.
  pc_->broken = true;
  return absl::InternalError("internal database error");
}

absl::StatusOr<sql::PreparedStatement*> Conn::Prepare(absl::string_view sql_text) {
  std::string key(sql_text);
  auto it = pc_->statements.find(key);
  if (it != pc_->statements.end()) {
    pc_->recent.splice(pc_->recent.begin(), pc_->recent, it->second.place);
    return it->second.statement.get();
  }
  try {
    std::unique_ptr<sql::PreparedStatement> stmt(pc_->conn->prepareStatement(key));
    sql::PreparedStatement* raw = stmt.get();
    if (static_cast<int>(pc_->statements.size()) >= std::max(1, db_->options_.statement_cache_size)) {
      // Closing sends COM_STMT_CLOSE: the server's count goes down too.
      pc_->statements.erase(pc_->recent.back());
      pc_->recent.pop_back();
    }
    pc_->recent.push_front(key);
    pc_->statements.emplace(std::move(key), PooledConnection::Cached{std::move(stmt),
                                                                     pc_->recent.begin()});
    return raw;
  } catch (const sql::SQLException& e) {
    return Fail("prepare", e.getErrorCode(), e.getSQLStateCStr(), e.what());
  }
}

namespace {

void Bind(sql::PreparedStatement* stmt, const std::vector<SqlParam>& params) {
  for (size_t i = 0; i < params.size(); ++i) {
    const int pos = static_cast<int>(i) + 1;
    const auto& v = params[i].value();
    if (std::holds_alternative<std::nullptr_t>(v)) {
      stmt->setNull(pos, 0);
    } else if (const int64_t* n = std::get_if<int64_t>(&v)) {
      stmt->setInt64(pos, *n);
    } else if (const std::string* s = std::get_if<std::string>(&v)) {
      stmt->setString(pos, sql::SQLString(*s));
    } else {
      stmt->setString(pos, sql::SQLString(SqlTime(std::get<absl::Time>(v))));
    }
  }
}

}  // namespace

absl::Status Conn::CheckDeadline(absl::string_view sql_text) const {
  if (db_->clock_.Now() < deadline_) return absl::OkStatus();
  spdlog::debug("db statement not started, the caller's deadline has passed: {}",
                std::string(sql_text.substr(0, 60)));
  return absl::DeadlineExceededError("deadline exceeded before the database work finished");
}

absl::StatusOr<std::vector<Row>> Conn::Query(absl::string_view sql_text,
                                             const std::vector<SqlParam>& params) {
  if (absl::Status s = CheckDeadline(sql_text); !s.ok()) return s;
  absl::StatusOr<sql::PreparedStatement*> stmt = Prepare(sql_text);
  if (!stmt.ok()) return stmt.status();
  const absl::Time start = absl::Now();
  try {
    Bind(*stmt, params);
    std::unique_ptr<sql::ResultSet> rs((*stmt)->executeQuery());
    const int ncols = static_cast<int>(rs->getMetaData()->getColumnCount());
    std::vector<Row> rows;
    rows.reserve(rs->rowsCount());
    while (rs->next()) {
      std::vector<std::optional<std::string>> cols(ncols);
      for (int c = 0; c < ncols; ++c) {
        if (!rs->isNull(c + 1)) cols[c] = std::string(rs->getString(c + 1).asStdString());
      }
      rows.emplace_back(std::move(cols));
    }
    db_->ObserveQuery(absl::Now() - start);
    return rows;
  } catch (const sql::SQLException& e) {
    db_->ObserveQuery(absl::Now() - start);
    return Fail("query", e.getErrorCode(), e.getSQLStateCStr(), e.what());
  }
}

absl::StatusOr<Row> Conn::QueryOne(absl::string_view sql_text,
                                   const std::vector<SqlParam>& params,
                                   absl::string_view not_found_message) {
  absl::StatusOr<std::vector<Row>> rows = Query(sql_text, params);
  if (!rows.ok()) return rows.status();
  if (rows->empty()) return absl::NotFoundError(not_found_message);
  return std::move(rows->front());
}

absl::StatusOr<int64_t> Conn::InsertReturningId(absl::string_view sql_text,
                                                const std::vector<SqlParam>& params) {
  absl::StatusOr<std::vector<Row>> rows = Query(sql_text, params);
  if (!rows.ok()) return rows.status();
  if (rows->empty() || rows->front().IsNull(0)) {
    return absl::InternalError("insert returned no id");
  }
  return rows->front().Int(0);
}

absl::StatusOr<ExecResult> Conn::Exec(absl::string_view sql_text,
                                      const std::vector<SqlParam>& params) {
  if (absl::Status s = CheckDeadline(sql_text); !s.ok()) return s;
  return ExecNow(sql_text, params);
}

absl::StatusOr<ExecResult> Conn::ExecNow(absl::string_view sql_text,
                                         const std::vector<SqlParam>& params) {
  absl::StatusOr<sql::PreparedStatement*> stmt = Prepare(sql_text);
  if (!stmt.ok()) return stmt.status();
  const absl::Time start = absl::Now();
  ExecResult result;
  try {
    Bind(*stmt, params);
    result.affected_rows = (*stmt)->executeUpdate();
  } catch (const sql::SQLException& e) {
    db_->ObserveQuery(absl::Now() - start);
    return Fail("exec", e.getErrorCode(), e.getSQLStateCStr(), e.what());
  }
  db_->ObserveQuery(absl::Now() - start);
  return result;
}

Db::Db(DbOptions options, prometheus::Registry* registry, const Clock& clock)
    : options_(std::move(options)), clock_(clock) {
  // The driver singleton is not safe to create from two threads at once.
  (void)sql::mysql::get_mysql_driver_instance();
  if (registry != nullptr) {
    auto& pool = prometheus::BuildGauge()
                     .Name("estate_db_pool_connections")
                     .Help("Connections of the MySQL pool by state.")
                     .Register(*registry);
    in_use_gauge_ = &pool.Add({{"state", "in_use"}});
    idle_gauge_ = &pool.Add({{"state", "idle"}});
    waiters_gauge_ = &prometheus::BuildGauge()
                          .Name("estate_db_pool_waiters")
                          .Help("Callers waiting for a pooled connection.")
                          .Register(*registry)
                          .Add({});
    query_seconds_ = &prometheus::BuildHistogram()
                          .Name("estate_db_query_duration_seconds")
                          .Help("Time of one SQL statement, network included.")
                          .Register(*registry)
                          .Add({}, LatencyBuckets());
    tx_retries_ = &prometheus::BuildCounter()
                       .Name("estate_db_transaction_retries_total")
                       .Help("Transactions retried after a deadlock, lock wait timeout "
                             "or a connection lost before commit.")
                       .Register(*registry)
                       .Add({});
    connect_errors_ = &prometheus::BuildCounter()
                           .Name("estate_db_connect_errors_total")
                           .Help("Failed attempts to open a database connection.")
                           .Register(*registry)
                           .Add({});
  }
}

Db::~Db() {
  absl::MutexLock lock(&mu_);
  idle_.clear();
}

void Db::ObserveQuery(absl::Duration d) {
  if (query_seconds_ != nullptr) query_seconds_->Observe(absl::ToDoubleSeconds(d));
}

void Db::UpdateGauges() {
  if (in_use_gauge_ == nullptr) return;
  in_use_gauge_->Set(open_ - static_cast<int>(idle_.size()));
  idle_gauge_->Set(static_cast<double>(idle_.size()));
  waiters_gauge_->Set(waiters_);
}

bool Db::AwaitWaiters(int n, absl::Time deadline) {
  absl::MutexLock lock(&mu_);
  const auto enough = [this, n]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return waiters_ >= n; };
  return mu_.AwaitWithDeadline(absl::Condition(&enough), deadline);
}

PoolStats Db::Stats() {
  absl::MutexLock lock(&mu_);
  return {open_ - static_cast<int>(idle_.size()), static_cast<int>(idle_.size()), waiters_};
}

absl::StatusOr<std::unique_ptr<PooledConnection>> Db::Connect(absl::Time deadline) {
  const absl::Duration left = deadline - absl::Now();
  if (left <= absl::ZeroDuration()) return Unavailable();
  const int connect_seconds = static_cast<int>(std::max<int64_t>(
      1, absl::ToInt64Seconds(std::min(left, options_.connect_timeout))));
  const int io_seconds =
      static_cast<int>(std::max<int64_t>(1, absl::ToInt64Seconds(options_.io_timeout)));
  sql::ConnectOptionsMap opts;
  opts["hostName"] = sql::SQLString(absl::StrCat("tcp://", options_.host, ":", options_.port));
  opts["userName"] = sql::SQLString(options_.user);
  opts["password"] = sql::SQLString(options_.password);
  if (!options_.schema.empty()) opts["schema"] = sql::SQLString(options_.schema);
  if (!options_.tls_ca.empty()) {
    opts["sslCA"] = sql::SQLString(options_.tls_ca);
    if (!options_.tls_cert.empty()) opts["sslCert"] = sql::SQLString(options_.tls_cert);
    if (!options_.tls_key.empty()) opts["sslKey"] = sql::SQLString(options_.tls_key);
    // Refuse a server that cannot prove it is the one the CA vouches for.
    opts["sslVerify"] = true;
    opts["sslEnforce"] = true;
  }
  opts["OPT_CONNECT_TIMEOUT"] = connect_seconds;
  opts["OPT_READ_TIMEOUT"] = io_seconds;
  opts["OPT_WRITE_TIMEOUT"] = io_seconds;
  opts["OPT_RECONNECT"] = false;
  opts["OPT_CHARSET_NAME"] = sql::SQLString("utf8mb4");
  opts["characterSetResults"] = sql::SQLString("utf8mb4");
  opts["preInit"] = sql::SQLString(
      "SET time_zone = '+00:00', sql_mode = 'STRICT_ALL_TABLES,NO_ZERO_DATE,"
      "NO_ZERO_IN_DATE,ERROR_FOR_DIVISION_BY_ZERO,NO_ENGINE_SUBSTITUTION',"
      // A row lock that is not free within seconds will not be free before the
      // caller's deadline either; fail (ABORTED, retried) instead of holding
      // a pooled connection for the server's default 50 s.
      " innodb_lock_wait_timeout = 5");
  auto pc = std::make_unique<PooledConnection>();
  try {
    pc->conn.reset(sql::mysql::get_mysql_driver_instance()->connect(opts));
    // READ COMMITTED: every read sees the latest committed rows, and a
    // locking read locks only the rows it returns. Services serialize on row
    // locks (FOR UPDATE), never on a snapshot taken before they got them.
    pc->conn->setTransactionIsolation(sql::TRANSACTION_READ_COMMITTED);
  } catch (const sql::SQLException& e) {
    if (connect_errors_ != nullptr) connect_errors_->Increment();
    // Debug level: while the database is down this repeats every health check;
    // the health transition is what gets logged as a warning.
    spdlog::debug("db connect to {}:{} failed: {} ({})", options_.host, options_.port,
                  e.what(), e.getErrorCode());
    if (IsConnectionLoss(e.getErrorCode())) return Unavailable();
    // Wrong credentials or a missing schema: not retryable, but do not leak it.
    return absl::UnavailableError("database unavailable: cannot log in");
  }
  return pc;
}

absl::StatusOr<std::unique_ptr<PooledConnection>> Db::Acquire(absl::Time deadline) {
  std::unique_ptr<PooledConnection> pc;
  {
    absl::MutexLock lock(&mu_);
    const auto can_take = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
      return !idle_.empty() || open_ < options_.pool_size;
    };
    if (!can_take()) {
      ++waiters_;
      UpdateGauges();
      const bool got = mu_.AwaitWithDeadline(absl::Condition(&can_take), deadline);
      --waiters_;
      if (!got) {
        UpdateGauges();
        return absl::UnavailableError("database busy: no connection free before the deadline");
      }
    }
    if (!idle_.empty()) {
      pc = std::move(idle_.back());
      idle_.pop_back();
    } else {
      ++open_;
    }
    UpdateGauges();
  }
  if (pc != nullptr && clock_.Now() - pc->last_used > kValidateAfterIdle) {
    bool valid = false;
    try {
      valid = pc->conn->isValid();
    } catch (const sql::SQLException&) {
    }
    if (!valid) pc.reset();  // keeps its slot in open_; replaced below
  }
  if (pc == nullptr) {
    absl::StatusOr<std::unique_ptr<PooledConnection>> fresh = Connect(deadline);
    if (!fresh.ok()) {
      absl::MutexLock lock(&mu_);
      --open_;
      UpdateGauges();
      return fresh.status();
    }
    pc = std::move(*fresh);
  }
  return pc;
}

void Db::Release(std::unique_ptr<PooledConnection> pc) {
  pc->last_used = clock_.Now();
  absl::MutexLock lock(&mu_);
  if (pc->broken) {
    --open_;
    mu_.Unlock();
    pc.reset();  // closing a socket can block briefly; not under the lock
    mu_.Lock();
  } else {
    idle_.push_back(std::move(pc));
  }
  UpdateGauges();
}

absl::Status Db::RunOn(PooledConnection* pc, absl::Time deadline,
                       absl::FunctionRef<absl::Status(Conn&)> fn) {
  Conn conn(this, pc, deadline);
  try {
    return fn(conn);
  } catch (const std::exception& e) {
    pc->broken = true;
    spdlog::error("unexpected exception on a database call: {}", e.what());
    return absl::InternalError("internal error");
  }
}

absl::Status Db::Run(absl::Time deadline, absl::FunctionRef<absl::Status(Conn&)> fn) {
  absl::StatusOr<std::unique_ptr<PooledConnection>> pc = Acquire(deadline);
  if (!pc.ok()) return pc.status();
  absl::Status status = RunOn(pc->get(), deadline, fn);
  Release(std::move(*pc));
  return status;
}

absl::Status Db::Ping(absl::Time deadline) {
  absl::MutexLock lock(&ping_mu_);
  absl::Status s;
  // Twice: a connection the server dropped while idle (wait_timeout, a proxy)
  // is not a database that is down.
  for (int attempt = 0; attempt < 2; ++attempt) {
    if (ping_conn_ == nullptr || ping_conn_->broken) {
      ping_conn_.reset();
      absl::StatusOr<std::unique_ptr<PooledConnection>> pc = Connect(deadline);
      if (!pc.ok()) return pc.status();
      ping_conn_ = std::move(*pc);
    }
    s = RunOn(ping_conn_.get(), deadline,
              [](Conn& c) { return c.Query("SELECT 1").status(); });
    if (s.ok()) return s;
    ping_conn_->broken = true;
  }
  return s;
}

absl::Status Db::Transact(absl::Time deadline, absl::FunctionRef<absl::Status(Conn&)> fn) {
  absl::Status status;
  for (int attempt = 1; attempt <= kMaxTransactAttempts; ++attempt) {
    if (attempt > 1) {
      if (tx_retries_ != nullptr) tx_retries_->Increment();
      // Contention clears quickly; a short, growing pause lets it.
      absl::SleepFor(absl::Milliseconds(2 << attempt));
      if (clock_.Now() >= deadline) break;
    }
    absl::StatusOr<std::unique_ptr<PooledConnection>> pc = Acquire(deadline);
    if (!pc.ok()) return pc.status();
    PooledConnection* raw = pc->get();
    bool commit_sent = false;
    int code = 0;
    status = RunOn(raw, deadline, [&](Conn& conn) -> absl::Status {
      // Transaction control runs as statements, never through the driver's
      // commit()/rollback()/setAutoCommit(): those drop the server's answer
      // (see the top of this file), and a COMMIT that died with the
      // connection would read as committed.
      absl::Status s = conn.Exec("START TRANSACTION").status();
      if (s.ok()) s = fn(conn);
      // The deadline rule: a client that has gone gets no commit it cannot
      // hear about; rolling back also frees the rows and the connection.
      if (s.ok()) s = conn.CheckDeadline("COMMIT");
      if (!s.ok()) {
        code = conn.last_error();
        if (!raw->broken && !conn.ExecNow("ROLLBACK", {}).ok()) raw->broken = true;
        return s;
      }
      commit_sent = true;
      absl::StatusOr<ExecResult> commit = conn.ExecNow("COMMIT", {});
      if (commit.ok()) return absl::OkStatus();
      code = conn.last_error();
      // The session is in doubt after a failed COMMIT; it is not reused.
      raw->broken = true;
      // A deadlock reported by COMMIT means the server rolled back.
      if (IsRetryableConflict(code)) return commit.status();
      spdlog::warn("commit failed (error {}): outcome unknown", code);
      return absl::UnavailableError(kCommitOutcomeUnknown);
    });
    Release(std::move(*pc));
    if (status.ok()) return status;
    if (IsRetryableConflict(code) && status.code() == absl::StatusCode::kAborted) continue;
    // Before COMMIT nothing can have been applied, so a fresh connection may
    // try again; a loss during COMMIT leaves the outcome unknown.
    if (IsConnectionLoss(code) && !commit_sent) continue;
    return status;
  }
  return status;
}

}  // namespace kit
