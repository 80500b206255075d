#include "services/kit/flags.h"

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/reflection.h"
#include "absl/flags/usage.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "spdlog/spdlog.h"

extern char** environ;

ABSL_FLAG(std::string, grpc_addr, "", "host:port for gRPC (default: the service's own).");
ABSL_FLAG(std::string, metrics_addr, "", "host:port for /metrics (default: the service's own).");
ABSL_FLAG(std::string, db_host, "127.0.0.1", "MySQL/MariaDB host.");
ABSL_FLAG(int, db_port, 3306, "MySQL/MariaDB port.");
ABSL_FLAG(std::string, db_user, "", "Database user (default: estate_<service>).");
ABSL_FLAG(std::string, db_password, "", "Database password.");
ABSL_FLAG(std::string, db_password_file, "",
          "File holding the database password (a mounted secret); wins over --db_password.");
ABSL_FLAG(std::string, db_name, "", "Schema (default: estate_<service>).");
ABSL_FLAG(int, db_pool_size, 16,
          "Most database connections this process opens (mind max_connections across "
          "services and replicas).");
ABSL_FLAG(absl::Duration, shutdown_grace, absl::Seconds(10),
          "How long in-flight calls may finish after SIGTERM.");
ABSL_FLAG(absl::Duration, shutdown_drain, absl::Seconds(5),
          "After SIGTERM, how long health reads NOT_SERVING before new calls are refused.");
ABSL_FLAG(absl::Duration, startup_db_wait, absl::Seconds(120),
          "How long start-up waits for the database before giving up.");
ABSL_FLAG(std::string, log_level, "info", "trace, debug, info, warn, error.");

namespace kit {

void ParseFlagsWithEnv(int argc, char** argv, const char* usage) {
  absl::SetProgramUsageMessage(usage);
  for (char** env = environ; *env != nullptr; ++env) {
    absl::string_view entry(*env);
    if (!absl::ConsumePrefix(&entry, "ESTATE_")) continue;
    const size_t eq = entry.find('=');
    if (eq == absl::string_view::npos) continue;
    const std::string name = absl::AsciiStrToLower(entry.substr(0, eq));
    absl::CommandLineFlag* flag = absl::FindCommandLineFlag(name);
    if (flag == nullptr) continue;
    std::string error;
    if (!flag->ParseFrom(entry.substr(eq + 1), &error)) {
      fprintf(stderr, "ESTATE_%s: %s\n", absl::AsciiStrToUpper(name).c_str(), error.c_str());
      std::exit(2);
    }
  }
  absl::ParseCommandLine(argc, argv);
  spdlog::set_level(spdlog::level::from_str(absl::GetFlag(FLAGS_log_level)));
}

absl::StatusOr<HostOptions> HostOptionsFromFlags(const ServiceDefaults& defaults) {
  HostOptions o;
  o.name = defaults.name;
  o.server.grpc_addr = absl::GetFlag(FLAGS_grpc_addr);
  if (o.server.grpc_addr.empty()) o.server.grpc_addr = defaults.grpc_addr;
  o.server.metrics_addr = absl::GetFlag(FLAGS_metrics_addr);
  if (o.server.metrics_addr.empty()) o.server.metrics_addr = defaults.metrics_addr;
  o.server.shutdown_grace = absl::GetFlag(FLAGS_shutdown_grace);
  o.server.drain_delay = absl::GetFlag(FLAGS_shutdown_drain);
  o.db.host = absl::GetFlag(FLAGS_db_host);
  o.db.port = absl::GetFlag(FLAGS_db_port);
  o.db.user = absl::GetFlag(FLAGS_db_user);
  if (o.db.user.empty()) o.db.user = absl::StrCat("estate_", defaults.name);
  o.db.schema = absl::GetFlag(FLAGS_db_name);
  if (o.db.schema.empty()) o.db.schema = absl::StrCat("estate_", defaults.name);
  o.db.password = absl::GetFlag(FLAGS_db_password);
  if (const std::string file = absl::GetFlag(FLAGS_db_password_file); !file.empty()) {
    std::ifstream in(file);
    if (!in) {
      return absl::FailedPreconditionError(
          absl::StrCat("--db_password_file ", file, " cannot be read"));
    }
    std::stringstream ss;
    ss << in.rdbuf();
    o.db.password = std::string(absl::StripTrailingAsciiWhitespace(ss.str()));
  }
  o.db.pool_size = absl::GetFlag(FLAGS_db_pool_size);
  o.startup_db_wait = absl::GetFlag(FLAGS_startup_db_wait);
  return o;
}

}  // namespace kit
