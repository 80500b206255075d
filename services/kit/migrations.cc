#include "services/kit/migrations.h"

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "services/kit/hash.h"
#include "spdlog/spdlog.h"

std::vector<kit::Migration> estate_kit_migrations();

namespace kit {

std::vector<Migration> KitMigrations() { return estate_kit_migrations(); }

std::vector<std::string> SplitStatements(const std::string& sql) {
  std::vector<std::string> out;
  std::string current;
  for (absl::string_view line : absl::StrSplit(sql, '\n')) {
    absl::string_view trimmed = absl::StripAsciiWhitespace(line);
    if (absl::StartsWith(trimmed, "--")) continue;
    absl::StrAppend(&current, line, "\n");
    if (absl::EndsWith(trimmed, ";")) {
      std::string stmt(absl::StripAsciiWhitespace(current));
      stmt.pop_back();
      if (!stmt.empty()) out.push_back(std::move(stmt));
      current.clear();
    }
  }
  std::string rest(absl::StripAsciiWhitespace(current));
  if (!rest.empty()) out.push_back(std::move(rest));
  return out;
}

namespace {

absl::Status ApplyPending(Conn& c, const std::string& component,
                          std::vector<Migration> migrations) {
  absl::Status s = c.Exec(
                        "CREATE TABLE IF NOT EXISTS schema_migrations ("
                        " component VARCHAR(64) NOT NULL,"
                        " version INT NOT NULL,"
                        " name VARCHAR(255) NOT NULL,"
                        " checksum CHAR(64) NOT NULL,"
                        " applied_at DATETIME(6) NOT NULL,"
                        " PRIMARY KEY (component, version))")
                       .status();
  if (!s.ok()) return s;
  absl::StatusOr<std::vector<Row>> applied = c.Query(
      "SELECT version, name, checksum FROM schema_migrations WHERE component = ?",
      {component});
  if (!applied.ok()) return applied.status();
  std::sort(migrations.begin(), migrations.end(),
            [](const Migration& a, const Migration& b) { return a.version < b.version; });
  for (const Migration& m : migrations) {
    const std::string checksum = Sha256Hex(m.sql);
    auto done = std::find_if(applied->begin(), applied->end(),
                             [&](const Row& r) { return r.Int(0) == m.version; });
    if (done != applied->end()) {
      if (done->Str(2) != checksum) {
        return absl::FailedPreconditionError(absl::StrCat(
            "migration ", component, "/", m.name,
            ".sql was changed after it was applied; restore it and add a new migration"));
      }
      continue;
    }
    spdlog::info("applying migration {}/{}", component, m.name);
    for (const std::string& stmt : SplitStatements(m.sql)) {
      s = c.Exec(stmt).status();
      if (!s.ok()) {
        return absl::InternalError(
            absl::StrCat("migration ", component, "/", m.name, " failed: ", s.message()));
      }
    }
    s = c.Exec(
             "INSERT INTO schema_migrations (component, version, name, checksum, applied_at)"
             " VALUES (?, ?, ?, ?, UTC_TIMESTAMP(6))",
             {component, m.version, m.name, checksum})
            .status();
    if (!s.ok()) return s;
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status Migrate(Db& db, const std::string& component,
                     const std::vector<Migration>& migrations, absl::Time deadline) {
  return db.Run(deadline, [&](Conn& c) -> absl::Status {
    const std::string lock = absl::StrCat("estate_migrate.", db.options().schema);
    absl::StatusOr<std::vector<Row>> got = c.Query("SELECT GET_LOCK(?, 60)", {lock});
    if (!got.ok()) return got.status();
    if (got->empty() || got->front().Int(0) != 1) {
      return absl::UnavailableError("another replica is migrating; gave up waiting");
    }
    absl::Status s = ApplyPending(c, component, migrations);
    absl::Status released = c.Query("SELECT RELEASE_LOCK(?)", {lock}).status();
    return s.ok() ? released : s;
  });
}

}  // namespace kit
