#ifndef ESTATE_SERVICES_KIT_DB_H_
#define ESTATE_SERVICES_KIT_DB_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "prometheus/registry.h"
#include "services/kit/clock.h"

namespace sql {
class Connection;
class PreparedStatement;
}  // namespace sql

namespace prometheus {
class Gauge;
class Histogram;
class Counter;
}  // namespace prometheus

namespace kit {

struct DbOptions {
  std::string host = "127.0.0.1";
  int port = 3306;
  std::string user;
  std::string password;
  std::string schema;
  int pool_size = 16;
  // TLS to the server when tls_ca is set (PEM files): the server's
  // certificate is verified against it; cert/key if it wants a client's.
  std::string tls_ca;
  std::string tls_cert;
  std::string tls_key;
  // Prepared statements kept per connection, least recently used dropped
  // first. MariaDB's max_prepared_stmt_count (16382 by default) is for the
  // whole server: services x replicas x pool_size x this must stay below it
  // (5 x 3 x 16 x 64 = 15360).
  int statement_cache_size = 64;
  absl::Duration connect_timeout = absl::Seconds(2);
  // Bounds a single statement's network wait; a dead server is noticed by then.
  absl::Duration io_timeout = absl::Seconds(30);
};

// A value bound to a '?' placeholder. Times are sent as UTC DATETIME(6) text.
class SqlParam {
 public:
  SqlParam(std::nullptr_t) : v_(nullptr) {}
  SqlParam(int v) : v_(static_cast<int64_t>(v)) {}
  SqlParam(int64_t v) : v_(v) {}
  SqlParam(bool v) : v_(static_cast<int64_t>(v)) {}
  SqlParam(std::string v) : v_(std::move(v)) {}
  SqlParam(absl::string_view v) : v_(std::string(v)) {}
  SqlParam(const char* v) : v_(std::string(v)) {}
  SqlParam(absl::Time v) : v_(v) {}
  template <typename T>
  SqlParam(const std::optional<T>& v) : v_(nullptr) {
    if (v.has_value()) *this = SqlParam(*v);
  }
  const std::variant<std::nullptr_t, int64_t, std::string, absl::Time>& value() const {
    return v_;
  }

 private:
  std::variant<std::nullptr_t, int64_t, std::string, absl::Time> v_;
};

// One fetched row, materialised so that no driver object outlives the call.
class Row {
 public:
  explicit Row(std::vector<std::optional<std::string>> cols) : cols_(std::move(cols)) {}
  bool IsNull(int i) const { return !cols_[i].has_value(); }
  int64_t Int(int i) const;
  const std::string& Str(int i) const;  // "" for NULL
  absl::Time Time(int i) const;         // InfinitePast for NULL
  std::optional<absl::Time> OptTime(int i) const;
  size_t size() const { return cols_.size(); }

 private:
  std::vector<std::optional<std::string>> cols_;
};

// A protobuf message stored in a blob column, or INTERNAL if the blob does not
// parse (a corrupt row).
template <typename T>
absl::StatusOr<T> ParseStored(const std::string& blob) {
  T out;
  if (!out.ParseFromString(blob)) return absl::InternalError("stored record does not parse");
  return out;
}

struct ExecResult {
  int64_t affected_rows = 0;
};

struct PooledConnection;
class Db;

// A borrowed connection. Every statement is prepared (and cached per
// connection); driver exceptions never leave this class: they become Status.
// A statement is not started once the caller's deadline has passed
// (DEADLINE_EXCEEDED): the client has gone, and a pooled connection is better
// spent on one that has not.
//  - lost connection / server gone       -> UNAVAILABLE
//  - deadlock / lock wait timeout        -> ABORTED (Db::Transact retries these)
//  - duplicate key                       -> ALREADY_EXISTS naming the key
//                                           (DuplicateKeyOf; stores map it
//                                           with their UniqueKeys)
//  - check constraint failed             -> FAILED_PRECONDITION
//  - anything else                       -> INTERNAL (details only in the log)
class Conn {
 public:
  absl::StatusOr<std::vector<Row>> Query(absl::string_view sql,
                                         const std::vector<SqlParam>& params = {});
  // One row or NOT_FOUND.
  absl::StatusOr<Row> QueryOne(absl::string_view sql, const std::vector<SqlParam>& params,
                               absl::string_view not_found_message);
  absl::StatusOr<ExecResult> Exec(absl::string_view sql,
                                  const std::vector<SqlParam>& params = {});
  // An INSERT ... RETURNING id (MariaDB): the new id in the same round trip.
  absl::StatusOr<int64_t> InsertReturningId(absl::string_view sql,
                                            const std::vector<SqlParam>& params);
  // The MySQL error number of the last failed statement (0 if none).
  int last_error() const { return last_error_; }

 private:
  friend class Db;
  Conn(Db* db, PooledConnection* pc, absl::Time deadline)
      : db_(db), pc_(pc), deadline_(deadline) {}
  absl::Status CheckDeadline(absl::string_view sql) const;
  // Exec without the deadline check: transaction control (COMMIT, ROLLBACK)
  // decides about the deadline itself.
  absl::StatusOr<ExecResult> ExecNow(absl::string_view sql, const std::vector<SqlParam>& params);
  absl::StatusOr<sql::PreparedStatement*> Prepare(absl::string_view sql);
  absl::Status Fail(absl::string_view what, int code, const char* sqlstate,
                    const char* message);

  Db* db_;
  PooledConnection* pc_;
  absl::Time deadline_;
  int last_error_ = 0;
};

struct PoolStats {
  int in_use = 0;
  int idle = 0;
  int waiters = 0;
};

// A bounded pool of MySQL connections, each at READ COMMITTED (see Connect).
// Acquire waits up to the caller's deadline; broken connections are replaced;
// after a server restart the pool recovers on its own because dead
// connections are validated and dropped.
class Db {
 public:
  // Does not connect; the first use does. `registry` may be null. `clock`
  // is what deadlines and idle times are measured with (tests move it); it
  // must outlive Db. Waits (for a connection, a lock) are in real time.
  Db(DbOptions options, prometheus::Registry* registry, const Clock& clock = RealClock());
  ~Db();
  Db(const Db&) = delete;
  Db& operator=(const Db&) = delete;

  // Runs fn inside a transaction and commits if it returns OK. OK means the
  // server confirmed the COMMIT; nothing else does.
  //  - Deadlocks and lock-wait timeouts are retried (up to 4 attempts), as is
  //    a connection lost before COMMIT was sent.
  //  - If the deadline has passed when fn returns, the transaction is rolled
  //    back (DEADLINE_EXCEEDED): nobody is waiting for that answer.
  //  - A failure during COMMIT is UNAVAILABLE with kCommitOutcomeUnknown: the
  //    write may or may not have been applied; a retry with the same
  //    request_id is safe (IdempotentWrite answers it with the first result).
  absl::Status Transact(absl::Time deadline, absl::FunctionRef<absl::Status(Conn&)> fn);
  // Runs fn on an autocommit connection; for reads.
  absl::Status Run(absl::Time deadline, absl::FunctionRef<absl::Status(Conn&)> fn);
  // OK if the server answers now. Uses a connection of its own, so a busy
  // pool does not read as a database that is down.
  absl::Status Ping(absl::Time deadline);

  PoolStats Stats();
  // Waits until at least `n` callers wait for a connection, or `deadline`
  // (real time); true if they do. For tests that need a queued waiter.
  bool AwaitWaiters(int n, absl::Time deadline);
  const DbOptions& options() const { return options_; }

 private:
  friend class Conn;
  absl::StatusOr<std::unique_ptr<PooledConnection>> Acquire(absl::Time deadline);
  void Release(std::unique_ptr<PooledConnection> pc);
  absl::StatusOr<std::unique_ptr<PooledConnection>> Connect(absl::Time deadline);
  void UpdateGauges() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Runs fn on a borrowed connection; exceptions other than the driver's
  // (which Conn already turns into Status) become INTERNAL and drop the
  // connection, so no pool slot is ever lost.
  absl::Status RunOn(PooledConnection* pc, absl::Time deadline,
                     absl::FunctionRef<absl::Status(Conn&)> fn);
  void ObserveQuery(absl::Duration d);

  const DbOptions options_;
  const Clock& clock_;
  absl::Mutex mu_;
  std::vector<std::unique_ptr<PooledConnection>> idle_ ABSL_GUARDED_BY(mu_);
  int open_ ABSL_GUARDED_BY(mu_) = 0;
  int waiters_ ABSL_GUARDED_BY(mu_) = 0;
  absl::Mutex ping_mu_;
  std::unique_ptr<PooledConnection> ping_conn_ ABSL_GUARDED_BY(ping_mu_);

  prometheus::Gauge* in_use_gauge_ = nullptr;
  prometheus::Gauge* idle_gauge_ = nullptr;
  prometheus::Gauge* waiters_gauge_ = nullptr;
  prometheus::Histogram* query_seconds_ = nullptr;
  prometheus::Counter* tx_retries_ = nullptr;
  prometheus::Counter* connect_errors_ = nullptr;
};

// The message of a write whose COMMIT was cut off: the client must not assume
// either outcome.
inline constexpr char kCommitOutcomeUnknown[] =
    "database connection lost during commit: the outcome is unknown; "
    "retrying with the same request_id is safe";

// Formats a time as MySQL DATETIME(6) text in UTC.
std::string SqlTime(absl::Time t);

}  // namespace kit

#endif  // ESTATE_SERVICES_KIT_DB_H_
