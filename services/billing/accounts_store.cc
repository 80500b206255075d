// The SQL of settings, charge items, accounts and meter readings.
#include "services/billing/accounts_store.h"

#include <algorithm>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "services/billing/billing_store.h"
#include "services/billing/billing_validation.h"
#include "services/billing/store_rows.h"
#include "services/kit/bulk_insert.h"
#include "services/kit/etag.h"
#include "services/kit/in_list.h"
#include "services/kit/serial_lock.h"
#include "services/kit/status_macros.h"
#include "services/kit/unique_keys.h"

namespace billing::store {

using kit::Conn;
using kit::Row;
using kit::SqlParam;

namespace {
constexpr kit::UniqueKeys kChargeItemKeys{{
    {"by_code", absl::StatusCode::kAlreadyExists,
     "charge_item.code: already used by another charge item of the site"},
}};
constexpr kit::UniqueKeys kAccountKeys{{
    {"by_unit", absl::StatusCode::kAlreadyExists, "the unit already has a billing account"},
}};
}  // namespace

// --- charge items -----------------------------------------------------------

absl::StatusOr<int64_t> InsertChargeItem(Conn& c, const std::string& site,
                                         const v1::ChargeItem& def, const std::string& actor,
                                         absl::Time now) {
  return kChargeItemKeys.Map(c.InsertReturningId(
      "INSERT INTO charge_items (site, code, kind, cycle, definition, created_at, created_by) "
      "VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id",
      {site, def.code(), static_cast<int>(def.kind()), static_cast<int>(def.cycle()),
       ToBlob(def), now, actor}));
}

namespace {
constexpr char kItemColumns[] = "id, site, definition, created_at, version";

absl::StatusOr<v1::ChargeItem> ItemOf(const Row& r) {
  ASSIGN_OR_RETURN(v1::ChargeItem item, kit::ParseStored<v1::ChargeItem>(r.Str(2)));
  item.set_name(absl::StrCat("sites/", r.Str(1), "/chargeItems/", r.Int(0)));
  const int64_t micros = absl::ToUnixMicros(r.Time(3));
  item.mutable_create_time()->set_seconds(micros / 1000000);
  item.mutable_create_time()->set_nanos(static_cast<int32_t>(micros % 1000000) * 1000);
  item.set_etag(kit::Etag(r.Int(4)));
  return item;
}
}  // namespace

absl::StatusOr<v1::ChargeItem> ReadChargeItem(Conn& c, const std::string& site, int64_t id,
                                              bool for_update, int64_t* version) {
  ASSIGN_OR_RETURN(Row r, c.QueryOne(absl::StrCat("SELECT ", kItemColumns,
                                                  " FROM charge_items WHERE site = ? AND id = ?",
                                                  for_update ? " FOR UPDATE" : ""),
                                     {site, id}, "charge item not found"));
  if (version != nullptr) *version = r.Int(4);
  return ItemOf(r);
}

absl::Status ReplaceChargeItem(Conn& c, const std::string& site, int64_t id,
                               const v1::ChargeItem& def, int64_t version, const std::string& actor,
                               absl::Time now) {
  RETURN_IF_ERROR(c.Exec("INSERT INTO charge_item_versions (item_id, version, definition, "
                         "replaced_at, replaced_by) SELECT id, version, definition, ?, ? "
                         "FROM charge_items WHERE site = ? AND id = ? AND version = ?",
                         {now, actor, site, id, version})
                      .status());
  return c
      .Exec(
          "UPDATE charge_items SET definition = ?, version = version + 1 "
          "WHERE site = ? AND id = ? AND version = ?",
          {ToBlob(def), site, id, version})
      .status();
}

absl::StatusOr<std::vector<std::pair<int64_t, v1::ChargeItem>>> ListChargeItems(
    Conn& c, const std::string& site, int64_t after, int limit) {
  ASSIGN_OR_RETURN(std::vector<Row> rows,
                   c.Query(absl::StrCat("SELECT ", kItemColumns,
                                        " FROM charge_items WHERE site = ? AND id > ? "
                                        "ORDER BY id LIMIT ?"),
                           {site, after, limit}));
  std::vector<std::pair<int64_t, v1::ChargeItem>> out;
  for (const Row& r : rows) {
    ASSIGN_OR_RETURN(v1::ChargeItem item, ItemOf(r));
    out.emplace_back(r.Int(0), std::move(item));
  }
  return out;
}

absl::StatusOr<std::set<int64_t>> ChargeItemIds(Conn& c, const std::string& site) {
  ASSIGN_OR_RETURN(std::vector<Row> rows,
                   c.Query("SELECT id FROM charge_items WHERE site = ?", {site}));
  std::set<int64_t> out;
  for (const Row& r : rows) out.insert(r.Int(0));
  return out;
}

absl::StatusOr<std::map<int64_t, std::string>> ChargeItemCodes(Conn& c,
                                                               const std::vector<int64_t>& ids) {
  std::map<int64_t, std::string> out;
  for (size_t begin = 0; begin < ids.size(); begin += kit::kMaxInList) {
    std::vector<SqlParam> params;
    const std::string in_list = kit::PaddedInList(
        absl::MakeConstSpan(ids).subspan(begin, std::min(kit::kMaxInList, ids.size() - begin)),
        &params);
    ASSIGN_OR_RETURN(std::vector<Row> rows,
                     c.Query(absl::StrCat("SELECT id, code FROM charge_items WHERE id IN (",
                                          in_list, ")"),
                             params));
    for (const Row& r : rows) out[r.Int(0)] = r.Str(1);
  }
  return out;
}

// --- accounts ---------------------------------------------------------------

namespace {
constexpr char kAccountColumns[] =
    "id, site, unit, building, status, area, fee_start, items, profile, credit_minor, version, "
    "created_at, balance_minor";

absl::StatusOr<AccountRow> AccountOf(const Row& r) {
  AccountRow a;
  a.id = r.Int(0);
  a.site = r.Str(1);
  a.unit = r.Str(2);
  a.building = r.Str(3);
  a.status = static_cast<v1::AccountStatus>(r.Int(4));
  a.area = r.Str(5);
  a.fee_start = DayOf(r.Str(6));
  a.items = IdList(r.Str(7));
  ASSIGN_OR_RETURN(a.profile, kit::ParseStored<v1::Account>(r.Str(8)));
  a.credit_minor = r.Int(9);
  a.version = r.Int(10);
  a.created_at = r.Time(11);
  a.balance_minor = r.Int(12);
  return a;
}
}  // namespace

absl::StatusOr<int64_t> InsertAccount(Conn& c, AccountRow& a, const std::string& actor,
                                      absl::Time now) {
  a.version = 1;
  a.created_at = now;
  return kAccountKeys.Map(c.InsertReturningId(
      "INSERT INTO accounts (site, unit, building, status, area, fee_start, items, profile, "
      "credit_minor, version, created_at, created_by) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 0, 1, ?, ?) "
      "RETURNING id",
      {a.site, a.unit, a.building, static_cast<int>(a.status), a.area, DayText(a.fee_start),
       absl::StrJoin(a.items, ","), ToBlob(a.profile), now, actor}));
}

absl::StatusOr<AccountRow> ReadAccount(Conn& c, const std::string& site, const std::string& unit) {
  ASSIGN_OR_RETURN(Row r, c.QueryOne(absl::StrCat("SELECT ", kAccountColumns,
                                                  " FROM accounts a WHERE site = ? AND unit = ?"),
                                     {site, unit}, "account not found"));
  return AccountOf(r);
}

absl::StatusOr<AccountRow> ReadAccountById(Conn& c, int64_t id) {
  ASSIGN_OR_RETURN(
      Row r, c.QueryOne(absl::StrCat("SELECT ", kAccountColumns, " FROM accounts a WHERE id = ?"),
                        {id}, "account not found"));
  return AccountOf(r);
}

absl::Status LockedAccount::Owns(int64_t line_account, int64_t line_id) const {
  if (line_account == row_.id) return absl::OkStatus();
  return absl::InternalError(absl::StrCat("lock order: line ", line_id, " of account ",
                                          line_account, " changed under account ", row_.id));
}

absl::StatusOr<std::map<std::string, int64_t>> AccountIdsOfUnits(
    Conn& c, const std::string& site, const std::vector<std::string>& units) {
  std::map<std::string, int64_t> out;
  for (size_t begin = 0; begin < units.size(); begin += kit::kMaxInList) {
    std::vector<SqlParam> params = {site};
    const std::string in_list = kit::PaddedInList(
        absl::MakeConstSpan(units).subspan(begin, std::min(kit::kMaxInList, units.size() - begin)),
        &params);
    ASSIGN_OR_RETURN(std::vector<Row> rows,
                     c.Query(absl::StrCat("SELECT unit, id FROM accounts WHERE site = ? AND "
                                          "unit IN (",
                                          in_list, ")"),
                             params));
    for (const Row& r : rows) out[r.Str(0)] = r.Int(1);
  }
  return out;
}

absl::StatusOr<LockedAccount> LockAccount(Conn& c, const std::string& site,
                                          const std::string& unit) {
  ASSIGN_OR_RETURN(Row r, c.QueryOne(absl::StrCat("SELECT ", kAccountColumns,
                                                  " FROM accounts a WHERE site = ? AND unit = ? "
                                                  "FOR UPDATE"),
                                     {site, unit}, "account not found"));
  ASSIGN_OR_RETURN(AccountRow a, AccountOf(r));
  return LockedAccount(std::move(a));
}

absl::StatusOr<LockedAccount> LockAccountById(Conn& c, int64_t id) {
  ASSIGN_OR_RETURN(Row r, c.QueryOne(absl::StrCat("SELECT ", kAccountColumns,
                                                  " FROM accounts a WHERE id = ? FOR UPDATE"),
                                     {id}, "account not found"));
  ASSIGN_OR_RETURN(AccountRow a, AccountOf(r));
  return LockedAccount(std::move(a));
}

absl::StatusOr<std::vector<LockedAccount>> LockAccounts(Conn& c, const std::string& site,
                                                        const std::vector<int64_t>& ids) {
  std::vector<LockedAccount> out;
  for (size_t begin = 0; begin < ids.size(); begin += kit::kMaxInList) {
    std::vector<SqlParam> params = {site};
    const std::string in_list = kit::PaddedInList(
        absl::MakeConstSpan(ids).subspan(begin, std::min(kit::kMaxInList, ids.size() - begin)),
        &params);
    ASSIGN_OR_RETURN(
        std::vector<Row> rows,
        c.Query(absl::StrCat("SELECT ", kAccountColumns, " FROM accounts a WHERE site = ? AND id IN (",
                             in_list, ") ORDER BY id FOR UPDATE"),
                params));
    for (const Row& r : rows) {
      ASSIGN_OR_RETURN(AccountRow a, AccountOf(r));
      out.push_back(LockedAccount(std::move(a)));
    }
  }
  std::sort(out.begin(), out.end(),
            [](const LockedAccount& x, const LockedAccount& y) { return x->id < y->id; });
  return out;
}

absl::Status SaveAccount(Conn& c, LockedAccount& locked) {
  AccountRow& a = locked.row();
  a.version += 1;
  return c
      .Exec(
          "UPDATE accounts SET building = ?, status = ?, area = ?, fee_start = ?, items = ?, "
          "profile = ?, credit_minor = ?, version = ? WHERE id = ?",
          {a.building, static_cast<int>(a.status), a.area, DayText(a.fee_start),
           absl::StrJoin(a.items, ","), ToBlob(a.profile), a.credit_minor, a.version, a.id})
      .status();
}

absl::Status SetCredit(Conn& c, LockedAccount& a, int64_t credit_minor) {
  RETURN_IF_ERROR(
      c.Exec("UPDATE accounts SET credit_minor = ? WHERE id = ?", {credit_minor, a->id}).status());
  a->credit_minor = credit_minor;
  return absl::OkStatus();
}

absl::StatusOr<std::vector<AccountRow>> ListAccounts(Conn& c, const AccountFilter& f,
                                                     int64_t after, int limit) {
  std::string sql = absl::StrCat("SELECT ", kAccountColumns,
                                 " FROM accounts a WHERE site = ? AND id > ?");
  std::vector<SqlParam> params = {f.site, after};
  if (!f.building.empty()) {
    sql += " AND building = ?";
    params.emplace_back(f.building);
  }
  if (f.in_arrears_only) {
    sql += " AND balance_minor > 0";
  }
  sql += " ORDER BY id LIMIT ?";
  params.emplace_back(limit);
  ASSIGN_OR_RETURN(std::vector<Row> rows, c.Query(sql, params));
  std::vector<AccountRow> out;
  for (const Row& r : rows) {
    ASSIGN_OR_RETURN(AccountRow a, AccountOf(r));
    out.push_back(std::move(a));
  }
  return out;
}

// --- meter readings ---------------------------------------------------------

namespace {
constexpr char kReadingColumns[] =
    "id, meter, value_milli, consumption_milli, read_on, replacement, created_at";
ReadingRow ReadingOf(const Row& r) {
  return ReadingRow{r.Int(0),         r.Str(1),           r.Int(2), r.Int(3),
                    DayOf(r.Str(4)), r.Int(5) != 0, r.Time(6)};
}
}  // namespace

absl::StatusOr<std::optional<ReadingRow>> LastReading(Conn& c, int64_t account_id,
                                                      const std::string& meter) {
  ASSIGN_OR_RETURN(std::vector<Row> rows,
                   c.Query(absl::StrCat("SELECT ", kReadingColumns,
                                        " FROM meter_readings WHERE account_id = ? AND meter = ? "
                                        "ORDER BY id DESC LIMIT 1"),
                           {account_id, meter}));
  if (rows.empty()) return std::optional<ReadingRow>();
  return std::optional<ReadingRow>(ReadingOf(rows[0]));
}

absl::StatusOr<int64_t> InsertReading(Conn& c, const std::string& site, int64_t account_id,
                                      const ReadingRow& r, const std::string& actor,
                                      absl::Time now) {
  return c.InsertReturningId(
      "INSERT INTO meter_readings (site, account_id, meter, value_milli, consumption_milli, "
      "read_on, replacement, created_at, created_by) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) "
      "RETURNING id",
      {site, account_id, r.meter, r.value_milli, r.consumption_milli, DayText(r.read_on),
       r.replacement, now, actor});
}

absl::StatusOr<std::vector<ReadingRow>> ListReadings(Conn& c, int64_t account_id,
                                                     const std::string& meter, int64_t after,
                                                     int limit) {
  std::string sql = absl::StrCat("SELECT ", kReadingColumns,
                                 " FROM meter_readings WHERE account_id = ? AND id > ?");
  std::vector<SqlParam> params = {account_id, after};
  if (!meter.empty()) {
    sql += " AND meter = ?";
    params.emplace_back(meter);
  }
  sql += " ORDER BY id LIMIT ?";
  params.emplace_back(limit);
  ASSIGN_OR_RETURN(std::vector<Row> rows, c.Query(sql, params));
  std::vector<ReadingRow> out;
  for (const Row& r : rows) out.push_back(ReadingOf(r));
  return out;
}

}  // namespace billing::store
