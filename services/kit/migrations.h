#ifndef ESTATE_SERVICES_KIT_MIGRATIONS_H_
#define ESTATE_SERVICES_KIT_MIGRATIONS_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "services/kit/db.h"

namespace kit {

// One migrations/NNN_name.sql file, compiled into the binary
// (cmake/EstateMigrations.cmake). Statements are separated by a ';' that ends a
// line.
struct Migration {
  int version;
  std::string name;
  std::string sql;
};

// The kit's own tables (idempotency keys, outbox), applied before a service's.
std::vector<Migration> KitMigrations();

// Applies, in version order, every migration of `component` not yet recorded in
// schema_migrations, each recorded with the SHA-256 of its text. A recorded
// migration whose text has changed stops start-up with FAILED_PRECONDITION
// naming the file. A named lock serialises replicas that start together.
absl::Status Migrate(Db& db, const std::string& component,
                     const std::vector<Migration>& migrations, absl::Time deadline);

// Splits a migration into statements (exposed for tests).
std::vector<std::string> SplitStatements(const std::string& sql);

}  // namespace kit

#endif  // ESTATE_SERVICES_KIT_MIGRATIONS_H_
