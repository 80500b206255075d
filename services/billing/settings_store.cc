// The SQL of a site's billing settings.
#include "services/billing/settings_store.h"

#include "absl/strings/numbers.h"
#include "absl/strings/str_format.h"
#include "services/kit/status_macros.h"

namespace billing::store {

using kit::Conn;
using kit::Row;

namespace {
bool ParseMonthDay(const std::string& text, int* month, int* day) {
  return text.size() == 5 && absl::SimpleAtoi(text.substr(0, 2), month) &&
         absl::SimpleAtoi(text.substr(3, 2), day);
}

std::string MonthDay(int month, int day) { return absl::StrFormat("%02d-%02d", month, day); }
}  // namespace

absl::StatusOr<Settings> ReadSettings(Conn& c, const std::string& site, bool for_update) {
  ASSIGN_OR_RETURN(std::vector<Row> rows,
                   c.Query(for_update ? "SELECT currency, heating_start, heating_end, version "
                                        "FROM billing_settings WHERE site = ? FOR UPDATE"
                                      : "SELECT currency, heating_start, heating_end, version "
                                        "FROM billing_settings WHERE site = ?",
                           {site}));
  Settings s;
  if (rows.empty()) return s;
  s.currency = rows[0].Str(0);
  ParseMonthDay(rows[0].Str(1), &s.season.start_month, &s.season.start_day);
  ParseMonthDay(rows[0].Str(2), &s.season.end_month, &s.season.end_day);
  s.version = rows[0].Int(3);
  return s;
}

absl::Status SaveSettings(Conn& c, const std::string& site, Settings& s, const std::string& actor,
                          absl::Time now) {
  s.version += 1;
  return c
      .Exec(
          "INSERT INTO billing_settings (site, currency, heating_start, heating_end, version, "
          "updated_at, updated_by) VALUES (?, ?, ?, ?, ?, ?, ?) ON DUPLICATE KEY UPDATE "
          "currency = VALUES(currency), heating_start = VALUES(heating_start), "
          "heating_end = VALUES(heating_end), version = VALUES(version), "
          "updated_at = VALUES(updated_at), updated_by = VALUES(updated_by)",
          {site, s.currency, MonthDay(s.season.start_month, s.season.start_day),
           MonthDay(s.season.end_month, s.season.end_day), s.version, now, actor})
      .status();
}

absl::StatusOr<bool> AnythingBilled(Conn& c, const std::string& site) {
  ASSIGN_OR_RETURN(std::vector<Row> rows,
                   c.Query("SELECT 1 FROM bill_runs WHERE site = ? LIMIT 1", {site}));
  if (!rows.empty()) return true;
  ASSIGN_OR_RETURN(rows, c.Query("SELECT 1 FROM bills WHERE site = ? LIMIT 1", {site}));
  if (!rows.empty()) return true;
  ASSIGN_OR_RETURN(rows, c.Query("SELECT 1 FROM payments WHERE site = ? LIMIT 1", {site}));
  return !rows.empty();
}

}  // namespace billing::store
