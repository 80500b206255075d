#ifndef ESTATE_TOOLS_BENCH_BENCH_UTIL_H_
#define ESTATE_TOOLS_BENCH_BENCH_UTIL_H_

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "services/kit/db.h"
#include "grpcpp/client_context.h"
#include "services/kit/host.h"
#include "services/kit/migrations.h"

namespace bench {

struct Result {
  double ops_per_s = 0;
  absl::Duration p50, p99;
  int64_t errors = 0;
};

// Runs `op(thread)` in a closed loop from `threads` threads for `seconds`
// (after a 300 ms warm-up) and reports throughput and latency percentiles
// over all calls.
Result Measure(int threads, double seconds, const std::function<bool(int)>& op);

// A new schema and user on the tools/db MariaDB at `port` (estate_admin).
kit::DbOptions FreshSchema(int port, const std::string& prefix);

// What every benchmark takes: --db_port (a tools/db MariaDB), --seconds per
// cell, --concurrency levels (default_levels unless given).
struct Args {
  int db_port = 0;
  double seconds = 3;
  std::vector<int> levels;
  int max_threads = 1;
};
// Parses the command line; exits with a usage line if --db_port is missing.
Args ParseArgs(int argc, char** argv, const char* runner, const char* default_levels);

std::string Ms(absl::Duration d);

// A service in this process on `db` (migrated), on a free port, with `add`
// registering it; exits the benchmark if it cannot start.
std::unique_ptr<kit::ServiceHost> StartService(
    const std::string& name, const kit::DbOptions& db, const std::vector<kit::Migration>& migrations,
    const std::function<void(kit::ServiceHost&)>& add);

// The tickets service in this process on `db` (migrated, jobs idle), on a
// free port; exits the benchmark if it cannot start.
std::unique_ptr<kit::ServiceHost> StartTickets(const kit::DbOptions& db);

// Identity keys for every service (and the "testing" backend), fresh for
// this run; StartService's hosts verify with them.
const std::string& KeysDir();
// Adds an identity token for `caller` to a call to `audience` ("tickets").
void Sign(grpc::ClientContext& ctx, const std::string& audience,
          const std::string& caller = "user:bench");

}  // namespace bench

#endif  // ESTATE_TOOLS_BENCH_BENCH_UTIL_H_
