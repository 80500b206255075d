#include "services/kit/flags.h"

#include <algorithm>
#include <cstdlib>

#include "absl/flags/declare.h"
#include "absl/flags/flag.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "services/kit/file_text.h"

ABSL_FLAG(std::string, metrics_addr, "", "host:port for /metrics (default: the service's own).");
ABSL_FLAG(std::string, db_host, "127.0.0.1", "MySQL/MariaDB host.");
ABSL_FLAG(int, db_port, 3306, "MySQL/MariaDB port.");
ABSL_FLAG(std::string, db_user, "", "Database user (default: estate_<service>).");
ABSL_FLAG(std::string, db_password, "", "Database password.");
ABSL_FLAG(std::string, db_password_file, "",
          "File holding the database password (a mounted secret); wins over --db_password.");
ABSL_FLAG(std::string, db_tls_ca, "",
          "PEM CA of the database server's certificate: the connection is TLS and the server "
          "is verified against it (an external MySQL/MariaDB).");
ABSL_FLAG(std::string, db_tls_cert, "", "PEM client certificate, if the server requires one.");
ABSL_FLAG(std::string, db_tls_key, "", "PEM private key for --db_tls_cert.");
ABSL_FLAG(std::string, db_name, "", "Schema (default: estate_<service>).");
ABSL_FLAG(int, db_pool_size, 16,
          "Most database connections this process opens (mind max_connections across "
          "services and replicas).");
ABSL_FLAG(int, db_statement_cache, 64,
          "Prepared statements kept per connection (least recently used dropped first); "
          "services x replicas x pool x this must stay below the server's "
          "max_prepared_stmt_count (16382 by default).");
ABSL_FLAG(absl::Duration, startup_db_wait, absl::Seconds(120),
          "How long start-up waits for the database before giving up.");

ABSL_DECLARE_FLAG(std::string, grpc_addr);
ABSL_DECLARE_FLAG(absl::Duration, shutdown_grace);
ABSL_DECLARE_FLAG(absl::Duration, shutdown_drain);

namespace kit {

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
    absl::StatusOr<std::string> password = ReadFileText(file, "--db_password_file");
    if (!password.ok()) return password.status();
    o.db.password = std::string(absl::StripTrailingAsciiWhitespace(*password));
  }
  o.db.tls_ca = absl::GetFlag(FLAGS_db_tls_ca);
  o.db.tls_cert = absl::GetFlag(FLAGS_db_tls_cert);
  o.db.tls_key = absl::GetFlag(FLAGS_db_tls_key);
  if (o.db.tls_ca.empty() && !(o.db.tls_cert.empty() && o.db.tls_key.empty())) {
    return absl::InvalidArgumentError("--db_tls_cert and --db_tls_key need --db_tls_ca");
  }
  o.server.tls = TlsFilesFromFlags();
  o.server.identity_keys_dir = IdentityKeysDirFromFlags();
  o.db.pool_size = absl::GetFlag(FLAGS_db_pool_size);
  o.db.statement_cache_size = std::max(1, absl::GetFlag(FLAGS_db_statement_cache));
  o.startup_db_wait = absl::GetFlag(FLAGS_startup_db_wait);
  return o;
}

}  // namespace kit
