#include "tools/bench/bench_util.h"

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <fstream>
#include <random>
#include <thread>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "services/kit/clock.h"
#include "services/kit/service_identity.h"
#include "services/tickets/tickets_service.h"
#include "spdlog/spdlog.h"

std::vector<kit::Migration> estate_tickets_migrations();

ABSL_FLAG(int, db_port, 0, "Port of a MariaDB with the estate_admin account (tools/db).");
ABSL_FLAG(double, seconds, 3, "Measured seconds per cell (after a short warm-up).");
ABSL_FLAG(std::string, concurrency, "", "Client concurrency levels, e.g. 1,8,32 (default: the benchmark's own).");

namespace bench {

Result Measure(int threads, double seconds, const std::function<bool(int)>& op) {
  const absl::Duration warmup = absl::Milliseconds(300);
  const absl::Duration run = absl::Seconds(seconds);
  std::vector<std::vector<absl::Duration>> lat(threads);
  std::atomic<int64_t> errors{0};
  const absl::Time begin = absl::Now() + warmup;
  const absl::Time end = begin + run;
  std::vector<std::thread> ts;
  for (int t = 0; t < threads; ++t) {
    ts.emplace_back([&, t] {
      lat[t].reserve(100000);
      for (;;) {
        const absl::Time s = absl::Now();
        if (s >= end) break;
        const bool ok = op(t);
        const absl::Time e = absl::Now();
        if (s >= begin) {
          if (ok) lat[t].push_back(e - s); else ++errors;
        }
      }
    });
  }
  for (auto& t : ts) t.join();
  std::vector<absl::Duration> all;
  for (auto& l : lat) all.insert(all.end(), l.begin(), l.end());
  std::sort(all.begin(), all.end());
  Result r;
  r.errors = errors;
  if (all.empty()) return r;
  r.ops_per_s = static_cast<double>(all.size()) / absl::ToDoubleSeconds(run);
  r.p50 = all[(all.size() - 1) * 50 / 100];
  r.p99 = all[(all.size() - 1) * 99 / 100];
  return r;
}

kit::DbOptions FreshSchema(int port, const std::string& prefix) {
  kit::DbOptions admin;
  admin.port = port;
  admin.user = "estate_admin";
  admin.password = "estate-admin";
  kit::Db db(admin, nullptr);
  kit::DbOptions o = admin;
  o.schema = absl::StrCat(prefix, "_", absl::ToUnixSeconds(absl::Now()));
  o.user = o.schema;
  o.password = "bench";
  o.pool_size = 64;
  const absl::Status s = db.Run(absl::Now() + absl::Seconds(30), [&](kit::Conn& c) {
    for (const std::string& stmt :
         {absl::StrCat("CREATE DATABASE `", o.schema, "`"),
          absl::StrCat("CREATE USER '", o.user, "'@'127.0.0.1' IDENTIFIED BY 'bench'"),
          absl::StrCat("GRANT ALL ON `", o.schema, "`.* TO '", o.user, "'@'127.0.0.1'")}) {
      if (absl::Status st = c.Exec(stmt).status(); !st.ok()) return st;
    }
    return absl::OkStatus();
  });
  if (!s.ok()) {
    fprintf(stderr, "cannot create the bench schema: %s\n", s.ToString().c_str());
    std::exit(1);
  }
  return o;
}

Args ParseArgs(int argc, char** argv, const char* runner, const char* default_levels) {
  absl::ParseCommandLine(argc, argv);
  spdlog::set_level(spdlog::level::warn);
  Args a;
  a.db_port = absl::GetFlag(FLAGS_db_port);
  if (a.db_port == 0) {
    fprintf(stderr, "--db_port is required (run %s)\n", runner);
    std::exit(2);
  }
  a.seconds = absl::GetFlag(FLAGS_seconds);
  std::string csv = absl::GetFlag(FLAGS_concurrency);
  if (csv.empty()) csv = default_levels;
  for (absl::string_view c : absl::StrSplit(csv, ',')) {
    int n = 0;
    if (absl::SimpleAtoi(c, &n) && n > 0) a.levels.push_back(n);
  }
  if (a.levels.empty()) a.levels.push_back(1);
  a.max_threads = *std::max_element(a.levels.begin(), a.levels.end());
  return a;
}

std::unique_ptr<kit::ServiceHost> StartService(
    const std::string& name, const kit::DbOptions& db, const std::vector<kit::Migration>& migrations,
    const std::function<void(kit::ServiceHost&)>& add) {
  kit::HostOptions ho;
  ho.name = name;
  ho.db = db;
  ho.server.identity_keys_dir = KeysDir();
  auto host = kit::ServiceHost::Create(ho, migrations);
  if (!host.ok()) {
    fprintf(stderr, "%s did not start: %s\n", name.c_str(), host.status().ToString().c_str());
    std::exit(1);
  }
  add(**host);
  if (absl::Status s = (*host)->Start(); !s.ok()) {
    fprintf(stderr, "%s did not start: %s\n", name.c_str(), s.ToString().c_str());
    std::exit(1);
  }
  return *std::move(host);
}

std::unique_ptr<kit::ServiceHost> StartTickets(const kit::DbOptions& db) {
  return StartService("tickets", db, estate_tickets_migrations(), [](kit::ServiceHost& host) {
    tickets::RegisterTickets(host, kit::RealClock(), absl::Hours(1000));
  });
}

const std::string& KeysDir() {
  static const std::string* dir = [] {
    char tmpl[] = "/tmp/estate-bench-identity-XXXXXX";
    auto* out = new std::string(mkdtemp(tmpl));
    std::mt19937_64 rng(std::random_device{}());
    for (const char* name : {"tickets", "billing", "archives", "cleaning", "handover", "testing"}) {
      std::ofstream(absl::StrCat(*out, "/", name, ".key")) << absl::StrFormat("%016x%016x%016x", rng(), rng(), rng()) << "\n";
    }
    return out;
  }();
  return *dir;
}

void Sign(grpc::ClientContext& ctx, const std::string& audience, const std::string& caller) {
  static const kit::IdentitySigner* signer = [] {
    auto made = kit::IdentitySigner::FromDir(
        "bench", KeysDir(), {"tickets", "billing", "archives", "cleaning", "handover"});
    if (!made.ok()) {
      fprintf(stderr, "bench keys: %s\n", made.status().ToString().c_str());
      std::exit(1);
    }
    return made->release();
  }();
  (void)signer->Attach(ctx, audience, caller);
}

std::string Ms(absl::Duration d) { return absl::StrFormat("%.2f", absl::ToDoubleMilliseconds(d)); }

}  // namespace bench
