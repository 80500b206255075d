#include "services/billing/billing_store.h"

#include <algorithm>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "services/billing/billing_validation.h"
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

absl::CivilDay DayOf(const std::string& text) {
  absl::CivilDay d;
  if (!absl::ParseCivilTime(text.substr(0, 10), &d)) return absl::CivilDay(1970, 1, 1);
  return d;
}

namespace {

std::vector<int64_t> IdList(const std::string& text) {
  std::vector<int64_t> out;
  for (absl::string_view part : absl::StrSplit(text, ',', absl::SkipEmpty())) {
    int64_t id = 0;
    if (absl::SimpleAtoi(part, &id)) out.push_back(id);
  }
  return out;
}

bool ParseMonthDay(const std::string& text, int* month, int* day) {
  return text.size() == 5 && absl::SimpleAtoi(text.substr(0, 2), month) &&
         absl::SimpleAtoi(text.substr(3, 2), day);
}

std::string MonthDay(int month, int day) { return absl::StrFormat("%02d-%02d", month, day); }

std::string ToBlob(const google::protobuf::Message& m) {
  std::string out;
  m.SerializeToString(&out);
  return out;
}

}  // namespace

// --- settings ---------------------------------------------------------------

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

// What a duplicate on each unique key means, per table.
namespace {
constexpr kit::UniqueKeys kChargeItemKeys{{
    {"by_code", absl::StatusCode::kAlreadyExists,
     "charge_item.code: already used by another charge item of the site"},
}};
// Both guard money against a race that the writers' locks already prevent
// (a site's run batches and debit batches are serialized); should one slip
// through, the loser plans again from a fresh read instead of failing.
constexpr kit::UniqueKeys kBillLineKeys{{
    {"once_per_period", absl::StatusCode::kAborted,
     "another run issued a line of this period meanwhile; try again"},
}};
constexpr kit::UniqueKeys kDebitItemKeys{{
    {"one_pending_per_account", absl::StatusCode::kAborted,
     "an account was put in another debit batch meanwhile; try again"},
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
                                              bool for_update) {
  ASSIGN_OR_RETURN(Row r, c.QueryOne(absl::StrCat("SELECT ", kItemColumns,
                                                  " FROM charge_items WHERE site = ? AND id = ?",
                                                  for_update ? " FOR UPDATE" : ""),
                                     {site, id}, "charge item not found"));
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

// --- accounts ---------------------------------------------------------------

namespace {
constexpr char kAccountColumns[] =
    "id, site, unit, building, status, area, fee_start, items, profile, credit_minor, version, "
    "created_at, (SELECT COALESCE(SUM(l.amount_minor), 0) FROM ledger l WHERE l.account_id = a.id)";

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
    ASSIGN_OR_RETURN(std::vector<Row> rows,
                     c.Query(absl::StrCat("SELECT ", kAccountColumns,
                                          " FROM accounts a WHERE site = ? AND id IN (", in_list,
                                          ") ORDER BY id FOR UPDATE"),
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

absl::StatusOr<std::vector<LockedAccount>> LockAccountsWithCredit(Conn& c, const std::string& site,
                                                                  int64_t lo, int64_t hi) {
  ASSIGN_OR_RETURN(std::vector<Row> rows,
                   c.Query(absl::StrCat("SELECT ", kAccountColumns,
                                        " FROM accounts a WHERE site = ? AND id BETWEEN ? AND ? "
                                        "AND credit_minor > 0 ORDER BY id FOR UPDATE"),
                           {site, lo, hi}));
  std::vector<LockedAccount> out;
  out.reserve(rows.size());
  for (const Row& r : rows) {
    ASSIGN_OR_RETURN(AccountRow a, AccountOf(r));
    out.push_back(LockedAccount(std::move(a)));
  }
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

absl::StatusOr<int64_t> Balance(Conn& c, int64_t account_id) {
  ASSIGN_OR_RETURN(std::vector<Row> rows,
                   c.Query("SELECT COALESCE(SUM(amount_minor), 0) FROM ledger WHERE account_id = ?",
                           {account_id}));
  return rows.empty() ? 0 : rows[0].Int(0);
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
    sql += " AND (SELECT COALESCE(SUM(amount_minor), 0) FROM ledger l WHERE l.account_id = a.id) > 0";
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

// --- bills and lines --------------------------------------------------------

namespace {
constexpr char kLineColumns[] =
    "l.id, l.bill_id, l.account_id, l.item_id, l.building, l.period_label, l.quantity, "
    "l.amount_minor, l.paid_minor, l.written_off_minor, l.due_date, l.held, l.hold_reason, "
    "l.hold_ticket, i.code, i.definition, l.report_period, l.period_start, "
    "COALESCE(l.late_fee_of, 0), "
    "COALESCE((SELECT o.bill_id FROM bill_lines o WHERE o.id = l.late_fee_of), 0), "
    "COALESCE(l.charge_reference, '')";

absl::StatusOr<LineRow> LineOf(const Row& r) {
  LineRow l;
  l.id = r.Int(0);
  l.bill_id = r.Int(1);
  l.account_id = r.Int(2);
  l.item_id = r.Int(3);
  l.building = r.Str(4);
  l.period_label = r.Str(5);
  l.quantity = r.Str(6);
  l.amount_minor = r.Int(7);
  l.paid_minor = r.Int(8);
  l.written_off_minor = r.Int(9);
  l.due = DayOf(r.Str(10));
  l.held = r.Int(11) != 0;
  l.hold_reason = r.Str(12);
  l.hold_ticket = r.Str(13);
  l.code = r.Str(14);
  ASSIGN_OR_RETURN(v1::ChargeItem def, kit::ParseStored<v1::ChargeItem>(r.Str(15)));
  l.description = def.display_name();
  l.report_period = r.Str(16);
  l.period_start = DayOf(r.Str(17));
  l.late_fee_of = r.Int(18);
  l.late_fee_of_bill = r.Int(19);
  l.reference = r.Str(20);
  if (l.late_fee_of != 0) l.description = absl::StrCat("Late fee: ", l.description);
  return l;
}
}  // namespace

// --- bill runs: inputs ------------------------------------------------------

absl::StatusOr<std::vector<RunAccount>> ReadRunAccounts(Conn& c, const std::string& site,
                                                        int64_t after, int64_t last, int limit,
                                                        absl::CivilDay start, absl::CivilDay end) {
  ASSIGN_OR_RETURN(std::vector<Row> rows,
                   c.Query("SELECT id, unit, building, status, area, fee_start, items "
                           "FROM accounts WHERE site = ? AND id > ? AND id <= ? ORDER BY id "
                           "LIMIT ?",
                           {site, after, last, limit}));
  std::vector<RunAccount> out;
  out.reserve(rows.size());
  for (const Row& r : rows) {
    RunAccount a;
    a.facts.id = r.Int(0);
    a.unit = r.Str(1);
    a.building = r.Str(2);
    switch (static_cast<v1::AccountStatus>(r.Int(3))) {
      case v1::VACANT:
        a.facts.state = AccountState::kVacant;
        break;
      case v1::SUSPENDED:
        a.facts.state = AccountState::kSuspended;
        break;
      default:
        a.facts.state = AccountState::kActive;
    }
    absl::StatusOr<Decimal> area = Decimal::Parse(r.Str(4), "billable_area");
    if (!area.ok()) return absl::InternalError("stored billable area does not parse");
    a.facts.area = *area;
    a.facts.fee_start = DayOf(r.Str(5));
    a.facts.items = IdList(r.Str(6));
    out.push_back(std::move(a));
  }
  if (out.empty()) return out;
  ASSIGN_OR_RETURN(
      std::vector<Row> used,
      c.Query("SELECT account_id, meter, SUM(consumption_milli) FROM meter_readings "
              "WHERE site = ? AND read_on >= ? AND read_on < ? AND account_id BETWEEN ? AND ? "
              "GROUP BY account_id, meter",
              {site, DayText(start), DayText(end), out.front().facts.id, out.back().facts.id}));
  for (const Row& r : used) {
    auto it = std::lower_bound(out.begin(), out.end(), r.Int(0),
                               [](const RunAccount& a, int64_t id) { return a.facts.id < id; });
    if (it == out.end() || it->facts.id != r.Int(0)) continue;
    it->facts.consumption[r.Str(1)] = Decimal::FromUnits(std::max<int64_t>(r.Int(2), 0), 3);
  }
  return out;
}

absl::StatusOr<std::map<int64_t, ChargeRule>> ReadRules(Conn& c, const std::string& site) {
  ASSIGN_OR_RETURN(std::vector<Row> rows,
                   c.Query("SELECT id, definition FROM charge_items WHERE site = ?", {site}));
  std::map<int64_t, ChargeRule> out;
  for (const Row& r : rows) {
    ASSIGN_OR_RETURN(v1::ChargeItem def, kit::ParseStored<v1::ChargeItem>(r.Str(1)));
    absl::StatusOr<ChargeRule> rule = RuleOf(def, "");
    if (!rule.ok()) {
      // Stored before a check it fails existed: it prices nothing, and runs
      // name it with the accounts it would bill, until it is corrected.
      ChargeRule unusable = UnusableRuleOf(def, rule.status());
      unusable.id = r.Int(0);
      out.emplace(unusable.id, std::move(unusable));
      continue;
    }
    rule->id = r.Int(0);
    out.emplace(rule->id, std::move(*rule));
  }
  return out;
}

// --- bill runs --------------------------------------------------------------

namespace {
constexpr char kRunColumns[] =
    "id, site, draft, state, accounts_done, lines_issued, lines_skipped, issued_minor, "
    "cursor_account, created_by, created_at, committed_at, completed_at, "
    "COALESCE(last_account, 9223372036854775807)";

absl::StatusOr<RunRow> RunOf(const Row& r) {
  RunRow run;
  run.id = r.Int(0);
  run.site = r.Str(1);
  ASSIGN_OR_RETURN(run.draft, kit::ParseStored<v1::BillRun>(r.Str(2)));
  run.state = static_cast<v1::BillRunState>(r.Int(3));
  run.accounts_done = r.Int(4);
  run.lines_issued = r.Int(5);
  run.lines_skipped = r.Int(6);
  run.issued_minor = r.Int(7);
  run.cursor_account = r.Int(8);
  run.created_by = r.Str(9);
  run.created_at = r.Time(10);
  run.committed_at = r.OptTime(11);
  run.completed_at = r.OptTime(12);
  run.last_account = r.Int(13);
  return run;
}
}  // namespace

absl::StatusOr<int64_t> InsertRun(Conn& c, RunRow& r, absl::Time now) {
  r.created_at = now;
  r.state = v1::DRAFT;
  return c.InsertReturningId(
      "INSERT INTO bill_runs (site, cycle, period_label, period_date, state, draft, created_at, "
      "created_by, last_account) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
      {r.site, static_cast<int>(r.draft.cycle()), r.draft.period(), r.draft.period_date(),
       static_cast<int>(v1::DRAFT), ToBlob(r.draft), now, r.created_by, r.last_account});
}

absl::StatusOr<RunRow> ReadRun(Conn& c, const std::string& site, int64_t id, bool for_update) {
  ASSIGN_OR_RETURN(Row r, c.QueryOne(absl::StrCat("SELECT ", kRunColumns,
                                                  " FROM bill_runs WHERE site = ? AND id = ?",
                                                  for_update ? " FOR UPDATE" : ""),
                                     {site, id}, "bill run not found"));
  return RunOf(r);
}

absl::StatusOr<std::vector<RunRow>> ListRuns(Conn& c, const std::string& site, int64_t after,
                                             int limit) {
  ASSIGN_OR_RETURN(std::vector<Row> rows,
                   c.Query(absl::StrCat("SELECT ", kRunColumns,
                                        " FROM bill_runs WHERE site = ? AND id > ? "
                                        "ORDER BY id LIMIT ?"),
                           {site, after, limit}));
  std::vector<RunRow> out;
  for (const Row& r : rows) {
    ASSIGN_OR_RETURN(RunRow run, RunOf(r));
    out.push_back(std::move(run));
  }
  return out;
}

absl::Status MarkCommitting(Conn& c, int64_t run_id, absl::Time now) {
  return c.Exec("UPDATE bill_runs SET state = ?, committed_at = ? WHERE id = ?",
                {static_cast<int>(v1::COMMITTING), now, run_id})
      .status();
}

absl::StatusOr<std::optional<RunRow>> LockCommittingRun(Conn& c) {
  // The oldest committing run of each site, read without locks (a locking
  // read with SKIP LOCKED would skip a site's head that another replica
  // holds and take the run queued behind it).
  ASSIGN_OR_RETURN(std::vector<Row> heads,
                   c.Query("SELECT MIN(id) FROM bill_runs WHERE state = ? GROUP BY site "
                           "ORDER BY 1",
                           {static_cast<int>(v1::COMMITTING)}));
  for (const Row& head : heads) {
    ASSIGN_OR_RETURN(std::vector<Row> rows,
                     c.Query(absl::StrCat("SELECT ", kRunColumns,
                                          " FROM bill_runs WHERE id = ? AND state = ? "
                                          "FOR UPDATE SKIP LOCKED"),
                             {head.Int(0), static_cast<int>(v1::COMMITTING)}));
    if (rows.empty()) continue;  // another replica is committing it
    ASSIGN_OR_RETURN(RunRow run, RunOf(rows[0]));
    // An older draft committed later becomes its site's head while a newer
    // run is half done; the site's lock keeps their batches apart.
    RETURN_IF_ERROR(kit::SerializeOn(c, absl::StrCat("bill-run-commit/", run.site)));
    return std::optional<RunRow>(std::move(run));
  }
  return std::optional<RunRow>();
}

absl::Status SaveRunProgress(Conn& c, const RunRow& r) {
  return c
      .Exec(
          "UPDATE bill_runs SET accounts_done = ?, lines_issued = ?, lines_skipped = ?, "
          "issued_minor = ?, cursor_account = ? WHERE id = ?",
          {r.accounts_done, r.lines_issued, r.lines_skipped, r.issued_minor, r.cursor_account,
           r.id})
      .status();
}

absl::Status FailRun(Conn& c, int64_t run_id, const std::string& why, absl::Time now) {
  ASSIGN_OR_RETURN(Row r, c.QueryOne("SELECT draft FROM bill_runs WHERE id = ? FOR UPDATE",
                                     {run_id}, "bill run not found"));
  ASSIGN_OR_RETURN(v1::BillRun draft, kit::ParseStored<v1::BillRun>(r.Str(0)));
  draft.set_failure(why.substr(0, 500));
  return c.Exec("UPDATE bill_runs SET state = ?, draft = ?, completed_at = ? WHERE id = ? AND "
                "state = ?",
                {static_cast<int>(v1::FAILED), ToBlob(draft), now, run_id,
                 static_cast<int>(v1::COMMITTING)})
      .status();
}

absl::Status CompleteRun(Conn& c, int64_t run_id, absl::Time now) {
  return c.Exec("UPDATE bill_runs SET state = ?, completed_at = ? WHERE id = ?",
                {static_cast<int>(v1::COMMITTED), now, run_id})
      .status();
}

absl::StatusOr<std::vector<std::pair<LineRow, std::string>>> RunLines(Conn& c, int64_t run_id,
                                                                      int64_t after, int limit) {
  ASSIGN_OR_RETURN(
      std::vector<Row> rows,
      c.Query(absl::StrCat("SELECT ", kLineColumns,
                           ", a.unit FROM bills b JOIN bill_lines l ON l.bill_id = b.id "
                           "JOIN charge_items i ON i.id = l.item_id "
                           "JOIN accounts a ON a.id = b.account_id "
                           "WHERE b.run_id = ? AND l.id > ? ORDER BY l.id LIMIT ?"),
              {run_id, after, limit}));
  std::vector<std::pair<LineRow, std::string>> out;
  for (const Row& r : rows) {
    ASSIGN_OR_RETURN(LineRow l, LineOf(r));
    out.emplace_back(std::move(l), r.Str(20));
  }
  return out;
}

// --- running totals ---------------------------------------------------------

absl::Status AddTotals(Conn& c, const std::string& site, const Totals& totals) {
  // One multi-row upsert in key order: concurrent writers lock totals rows in
  // the same order and so do not deadlock on them.
  std::vector<SqlParam> params;
  for (const auto& [k, d] : totals) {
    if (d.lines == 0 && d.billed == 0 && d.collected == 0 && d.written_off == 0) continue;
    for (SqlParam p :
         {SqlParam(site), SqlParam(k.period), SqlParam(k.building), SqlParam(k.item_id),
          SqlParam(k.late_fee), SqlParam(k.held), SqlParam(d.lines), SqlParam(d.billed),
          SqlParam(d.collected), SqlParam(d.written_off)}) {
      params.push_back(std::move(p));
    }
  }
  if (params.empty()) return absl::OkStatus();
  return kit::InsertRows(
             c,
             "INSERT INTO collection_totals (site, period_label, building, item_id, late_fee, "
             "held, line_count, billed_minor, collected_minor, written_off_minor) VALUES",
             10, params,
             "ON DUPLICATE KEY UPDATE line_count = line_count + VALUES(line_count), "
             "billed_minor = billed_minor + VALUES(billed_minor), "
             "collected_minor = collected_minor + VALUES(collected_minor), "
             "written_off_minor = written_off_minor + VALUES(written_off_minor)")
      .status();
}

namespace {
// Late fees are reported apart from the charge they are on.
TotalsKey KeyOf(const LineRow& l) {
  return {l.report_period, l.building, l.item_id, l.late_fee_of != 0, l.held};
}
}  // namespace

// --- issuing ----------------------------------------------------------------

absl::StatusOr<std::set<std::tuple<int64_t, int64_t, std::string>>> IssuedLines(
    Conn& c, int64_t lo, int64_t hi, const std::vector<std::string>& labels) {
  std::set<std::tuple<int64_t, int64_t, std::string>> out;
  // The run's label and the one-off label: two at a time, one round trip.
  for (size_t i = 0; i < labels.size(); i += 2) {
    const std::string& second = i + 1 < labels.size() ? labels[i + 1] : labels[i];
    ASSIGN_OR_RETURN(std::vector<Row> rows,
                     c.Query("SELECT account_id, item_id, period_label FROM bill_lines "
                             "WHERE account_id BETWEEN ? AND ? AND period_label IN (?, ?)",
                             {lo, hi, labels[i], second}));
    for (const Row& r : rows) out.emplace(r.Int(0), r.Int(1), r.Str(2));
  }
  return out;
}

absl::StatusOr<std::map<std::pair<int64_t, int64_t>, int64_t>> IssueBills(
    Conn& c, const std::string& site, int64_t run_id, const Period& period,
    const std::string& currency, absl::CivilDay issue_date, const std::vector<NewBill>& bills,
    int64_t lo, int64_t hi, const std::string& actor, absl::Time now,
    Totals* totals) {
  std::map<std::pair<int64_t, int64_t>, int64_t> line_ids;
  if (bills.empty()) return line_ids;
  std::vector<SqlParam> params;
  params.reserve(bills.size() * 8);
  const std::string issue = DayText(issue_date);
  for (const NewBill& b : bills) {
    for (SqlParam p : {SqlParam(site), SqlParam(run_id), SqlParam(b.account_id),
                       SqlParam(period.label), SqlParam(issue), SqlParam(DayText(b.due)),
                       SqlParam(currency)}) {
      params.push_back(std::move(p));
    }
  }
  RETURN_IF_ERROR(kit::InsertRows(c,
                                  "INSERT INTO bills (site, run_id, account_id, period_label, "
                                  "issue_date, due_date, currency) VALUES",
                                  7, params)
                      .status());
  ASSIGN_OR_RETURN(std::vector<Row> ids,
                   c.Query("SELECT account_id, id FROM bills WHERE run_id = ? AND account_id "
                           "BETWEEN ? AND ?",
                           {run_id, lo, hi}));
  std::map<int64_t, int64_t> bill_of;
  for (const Row& r : ids) bill_of[r.Int(0)] = r.Int(1);

  params.clear();
  const std::string start = DayText(period.start);
  for (const NewBill& b : bills) {
    for (const ChargeLine* l : b.lines) {
      for (SqlParam p :
           {SqlParam(site), SqlParam(bill_of[b.account_id]), SqlParam(b.account_id),
            SqlParam(l->item_id), SqlParam(b.building), SqlParam(l->period_label),
            SqlParam(period.label), SqlParam(start), SqlParam(l->quantity.ToString()),
            SqlParam(l->amount_minor), SqlParam(DayText(l->due))}) {
        params.push_back(std::move(p));
      }
      TotalsDelta& d = (*totals)[{period.label, b.building, l->item_id, false, false}];
      d.lines += 1;
      d.billed += l->amount_minor;
    }
  }
  RETURN_IF_ERROR(kBillLineKeys.Map(
      kit::InsertRows(c,
                      "INSERT INTO bill_lines (site, bill_id, account_id, item_id, "
                      "building, period_label, report_period, period_start, quantity, "
                      "amount_minor, due_date) VALUES",
                      11, params)
          .status()));
  ASSIGN_OR_RETURN(std::vector<Row> lines,
                   c.Query("SELECT l.account_id, l.item_id, l.id, l.amount_minor FROM bills b "
                           "JOIN bill_lines l ON l.bill_id = b.id "
                           "WHERE b.run_id = ? AND b.account_id BETWEEN ? AND ?",
                           {run_id, lo, hi}));
  params.clear();
  for (const Row& r : lines) {
    line_ids[{r.Int(0), r.Int(1)}] = r.Int(2);
    for (SqlParam p : {SqlParam(site), SqlParam(r.Int(0)), SqlParam(static_cast<int>(v1::CHARGE)),
                       SqlParam(r.Int(3)), SqlParam(r.Int(2)), SqlParam(actor),
                       SqlParam(period.label), SqlParam(now)}) {
      params.push_back(std::move(p));
    }
  }
  RETURN_IF_ERROR(kit::InsertRows(c,
                                  "INSERT INTO ledger (site, account_id, kind, amount_minor, "
                                  "line_id, actor, reason, created_at) VALUES",
                                  8, params)
                      .status());
  return line_ids;
}

namespace {
absl::Status AttachLines(Conn& c, std::vector<BillRow>& bills, int64_t account_id = 0) {
  if (bills.empty()) return absl::OkStatus();
  int64_t lo = bills.front().id, hi = bills.front().id;
  for (const BillRow& b : bills) {
    lo = std::min(lo, b.id);
    hi = std::max(hi, b.id);
  }
  ASSIGN_OR_RETURN(std::vector<Row> rows,
                   account_id != 0
                       // One account's bills are far apart: read its lines only.
                       ? c.Query(absl::StrCat("SELECT ", kLineColumns,
                                              " FROM bill_lines l JOIN charge_items i ON i.id = "
                                              "l.item_id WHERE l.account_id = ? AND l.bill_id "
                                              "BETWEEN ? AND ? ORDER BY l.bill_id, l.id"),
                                 {account_id, lo, hi})
                       : c.Query(absl::StrCat("SELECT ", kLineColumns,
                                              " FROM bill_lines l JOIN charge_items i ON i.id = "
                                              "l.item_id WHERE l.site = ? AND l.bill_id BETWEEN ? "
                                              "AND ? ORDER BY l.bill_id, l.id"),
                                 {bills.front().site, lo, hi}));
  std::map<int64_t, BillRow*> by_id;
  for (BillRow& b : bills) by_id[b.id] = &b;
  for (const Row& r : rows) {
    auto it = by_id.find(r.Int(1));
    if (it == by_id.end()) continue;
    ASSIGN_OR_RETURN(LineRow l, LineOf(r));
    it->second->lines.push_back(std::move(l));
  }
  return absl::OkStatus();
}

constexpr char kBillColumns[] =
    "b.id, b.site, b.run_id, b.account_id, a.unit, b.period_label, b.issue_date, b.due_date, "
    "b.currency";

BillRow BillOf(const Row& r) {
  BillRow b;
  b.id = r.Int(0);
  b.site = r.Str(1);
  b.run_id = r.Int(2);
  b.account_id = r.Int(3);
  b.unit = r.Str(4);
  b.period_label = r.Str(5);
  b.issue_date = DayOf(r.Str(6));
  b.due = DayOf(r.Str(7));
  b.currency = r.Str(8);
  return b;
}
}  // namespace

absl::StatusOr<BillRow> ReadBill(Conn& c, const std::string& site, int64_t id) {
  ASSIGN_OR_RETURN(Row r, c.QueryOne(absl::StrCat("SELECT ", kBillColumns,
                                                  " FROM bills b JOIN accounts a ON a.id = "
                                                  "b.account_id WHERE b.site = ? AND b.id = ?"),
                                     {site, id}, "bill not found"));
  std::vector<BillRow> one = {BillOf(r)};
  RETURN_IF_ERROR(AttachLines(c, one));
  return std::move(one[0]);
}

absl::StatusOr<std::vector<BillRow>> ListBills(Conn& c, const BillFilter& f, int64_t after,
                                               int limit) {
  std::string sql = absl::StrCat("SELECT ", kBillColumns,
                                 " FROM bills b JOIN accounts a ON a.id = b.account_id "
                                 "WHERE b.site = ? AND b.id > ?");
  std::vector<SqlParam> params = {f.site, after};
  if (f.account_id != 0) {
    sql += " AND b.account_id = ?";
    params.emplace_back(f.account_id);
  }
  if (!f.period_label.empty()) {
    sql += " AND b.period_label = ?";
    params.emplace_back(f.period_label);
  }
  if (f.run_id != 0) {
    sql += " AND b.run_id = ?";
    params.emplace_back(f.run_id);
  }
  if (f.unpaid_only) {
    sql +=
        " AND EXISTS (SELECT 1 FROM bill_lines l WHERE l.bill_id = b.id AND "
        "l.paid_minor + l.written_off_minor < l.amount_minor)";
  }
  sql += " ORDER BY b.id LIMIT ?";
  params.emplace_back(limit);
  ASSIGN_OR_RETURN(std::vector<Row> rows, c.Query(sql, params));
  std::vector<BillRow> out;
  for (const Row& r : rows) out.push_back(BillOf(r));
  RETURN_IF_ERROR(AttachLines(c, out, f.account_id));
  return out;
}

absl::StatusOr<LineRow> ReadLine(Conn& c, const std::string& site, int64_t bill_id,
                                 int64_t line_id) {
  ASSIGN_OR_RETURN(
      Row r, c.QueryOne(absl::StrCat("SELECT ", kLineColumns,
                                     " FROM bill_lines l JOIN charge_items i ON i.id = l.item_id "
                                     "WHERE l.site = ? AND l.bill_id = ? AND l.id = ?"),
                        {site, bill_id, line_id}, "bill line not found"));
  return LineOf(r);
}

namespace {
// Reads the lines `where` selects (with `params`), `ORDER BY` added. A
// locking read of lines locks only bill_lines rows: the charge items they
// join are shared by the whole site and must not serialize its payments, so
// the lock is a statement of its own.
absl::StatusOr<std::vector<LineRow>> LockedLines(Conn& c, const std::string& where,
                                                 const std::vector<SqlParam>& params,
                                                 const char* order_by) {
  RETURN_IF_ERROR(
      c.Query(absl::StrCat("SELECT l.id FROM bill_lines l WHERE ", where, " FOR UPDATE"), params)
          .status());
  ASSIGN_OR_RETURN(std::vector<Row> rows,
                   c.Query(absl::StrCat("SELECT ", kLineColumns,
                                        " FROM bill_lines l JOIN charge_items i ON i.id = "
                                        "l.item_id WHERE ",
                                        where, " ORDER BY ", order_by),
                           params));
  std::vector<LineRow> out;
  out.reserve(rows.size());
  for (const Row& r : rows) {
    ASSIGN_OR_RETURN(LineRow l, LineOf(r));
    out.push_back(std::move(l));
  }
  return out;
}
}  // namespace

absl::StatusOr<LineRow> LockLine(Conn& c, const LockedAccount& a, int64_t bill_id,
                                 int64_t line_id) {
  ASSIGN_OR_RETURN(std::vector<LineRow> lines,
                   LockedLines(c, "l.account_id = ? AND l.bill_id = ? AND l.id = ?",
                               {a->id, bill_id, line_id}, "l.id"));
  if (lines.empty()) return absl::NotFoundError("bill line not found");
  return std::move(lines.front());
}

absl::StatusOr<std::vector<LineRow>> LockUnsettledLines(Conn& c, const LockedAccount& a) {
  return LockedLines(c, "l.account_id = ? AND l.paid_minor + l.written_off_minor < l.amount_minor",
                     {a->id}, "l.due_date, l.id");
}

absl::StatusOr<std::map<int64_t, LineRow>> LockLines(Conn& c, const LockedAccount& a,
                                                     const std::vector<int64_t>& ids) {
  std::map<int64_t, LineRow> out;
  for (size_t begin = 0; begin < ids.size(); begin += kit::kMaxInList) {
    std::vector<SqlParam> params = {a->id};
    const std::string in_list = kit::PaddedInList(
        absl::MakeConstSpan(ids).subspan(begin, std::min(kit::kMaxInList, ids.size() - begin)),
        &params);
    ASSIGN_OR_RETURN(std::vector<LineRow> lines,
                     LockedLines(c, absl::StrCat("l.account_id = ? AND l.id IN (", in_list, ")"),
                                 params, "l.id"));
    for (LineRow& l : lines) out.emplace(l.id, std::move(l));
  }
  for (int64_t id : ids) {
    if (!out.count(id)) return absl::NotFoundError("bill line not found");
  }
  return out;
}

absl::Status SetHold(Conn& c, const LockedAccount& a, const LineRow& line, bool held,
                     const std::string& reason, const std::string& ticket, absl::CivilDay today) {
  RETURN_IF_ERROR(a.Owns(line.account_id, line.id));
  const std::string& site = a->site;
  // Releasing adds the days on hold, which late fees leave out.
  RETURN_IF_ERROR(
      c.Exec(held ? "UPDATE bill_lines SET held = TRUE, hold_reason = ?, hold_ticket = ?, "
                    "held_since = ? WHERE id = ?"
                  : "UPDATE bill_lines SET held = FALSE, hold_reason = ?, hold_ticket = ?, "
                    "held_days = held_days + GREATEST(0, DATEDIFF(?, held_since)), "
                    "held_since = NULL WHERE id = ?",
             {reason, ticket, DayText(today), line.id})
          .status());
  if (held == line.held) return absl::OkStatus();
  // The line's sums move from one side of the dispute split to the other.
  Totals moved;
  LineRow after = line;
  after.held = held;
  moved[KeyOf(line)] = {-1, -line.amount_minor, -line.paid_minor, -line.written_off_minor};
  moved[KeyOf(after)] = {1, line.amount_minor, line.paid_minor, line.written_off_minor};
  return AddTotals(c, site, moved);
}

absl::Status WriteOffLine(Conn& c, const LockedAccount& a, const LineRow& line, int64_t amount,
                          Totals* totals) {
  RETURN_IF_ERROR(a.Owns(line.account_id, line.id));
  RETURN_IF_ERROR(c.Exec("UPDATE bill_lines SET written_off_minor = written_off_minor + ? "
                         "WHERE id = ?",
                         {amount, line.id})
                      .status());
  if (totals != nullptr) {
    (*totals)[KeyOf(line)].written_off += amount;
    return absl::OkStatus();
  }
  Totals t;
  t[KeyOf(line)].written_off = amount;
  return AddTotals(c, a->site, t);
}

// --- payments ---------------------------------------------------------------

namespace {
constexpr char kPaymentColumns[] =
    "p.id, p.site, p.account_id, a.unit, p.method, p.reference, p.amount_minor, p.currency, "
    "p.received_on, p.named_bills, p.to_credit_minor, p.reversed, p.reversal_reason, "
    "p.recorded_by, p.created_at";

PaymentRow PaymentOf(const Row& r) {
  PaymentRow p;
  p.id = r.Int(0);
  p.site = r.Str(1);
  p.account_id = r.Int(2);
  p.unit = r.Str(3);
  p.method = static_cast<v1::PaymentMethod>(r.Int(4));
  p.reference = r.Str(5);
  p.amount_minor = r.Int(6);
  p.currency = r.Str(7);
  p.received_on = DayOf(r.Str(8));
  p.named_bills = r.Str(9);
  p.to_credit_minor = r.Int(10);
  p.reversed = r.Int(11) != 0;
  p.reversal_reason = r.Str(12);
  p.recorded_by = r.Str(13);
  p.created_at = r.Time(14);
  return p;
}

absl::Status AttachAllocations(Conn& c, PaymentRow& p) {
  // The allocations as made (positive rows); a reversal's rows are not listed.
  ASSIGN_OR_RETURN(std::vector<Row> rows,
                   c.Query("SELECT a.line_id, a.amount_minor, l.bill_id FROM allocations a "
                           "JOIN bill_lines l ON l.id = a.line_id "
                           "WHERE a.payment_id = ? AND a.amount_minor > 0 ORDER BY a.id",
                           {p.id}));
  for (const Row& r : rows) {
    p.allocations.emplace_back(r.Int(0), r.Int(1));
    p.allocation_bills.push_back(r.Int(2));
  }
  return absl::OkStatus();
}
}  // namespace

absl::StatusOr<int64_t> InsertPayment(Conn& c, PaymentRow& p) {
  return c.InsertReturningId(
      "INSERT INTO payments (site, account_id, method, reference, amount_minor, currency, "
      "received_on, named_bills, to_credit_minor, recorded_by, created_at) "
      "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
      {p.site, p.account_id, static_cast<int>(p.method), p.reference, p.amount_minor, p.currency,
       DayText(p.received_on), p.named_bills, p.to_credit_minor, p.recorded_by, p.created_at});
}

absl::StatusOr<PaymentRow> ReadPayment(Conn& c, const std::string& site, int64_t id,
                                       bool for_update) {
  ASSIGN_OR_RETURN(Row r, c.QueryOne(absl::StrCat("SELECT ", kPaymentColumns,
                                                  " FROM payments p JOIN accounts a ON a.id = "
                                                  "p.account_id WHERE p.site = ? AND p.id = ?",
                                                  for_update ? " FOR UPDATE" : ""),
                                     {site, id}, "payment not found"));
  PaymentRow p = PaymentOf(r);
  RETURN_IF_ERROR(AttachAllocations(c, p));
  return p;
}

absl::StatusOr<std::vector<PaymentRow>> ListPayments(Conn& c, const std::string& site,
                                                     int64_t account_id, int64_t after,
                                                     int limit) {
  std::string sql = absl::StrCat("SELECT ", kPaymentColumns,
                                 " FROM payments p JOIN accounts a ON a.id = p.account_id "
                                 "WHERE p.site = ? AND p.id > ?");
  std::vector<SqlParam> params = {site, after};
  if (account_id != 0) {
    sql += " AND p.account_id = ?";
    params.emplace_back(account_id);
  }
  sql += " ORDER BY p.id LIMIT ?";
  params.emplace_back(limit);
  ASSIGN_OR_RETURN(std::vector<Row> rows, c.Query(sql, params));
  std::vector<PaymentRow> out;
  for (const Row& r : rows) {
    out.push_back(PaymentOf(r));
    RETURN_IF_ERROR(AttachAllocations(c, out.back()));
  }
  return out;
}

absl::Status MarkReversed(Conn& c, int64_t payment_id, const std::string& reason) {
  return c
      .Exec("UPDATE payments SET reversed = TRUE, reversal_reason = ? WHERE id = ?",
            {reason, payment_id})
      .status();
}

absl::Status ApplyAllocations(Conn& c, const LockedAccount& account, int64_t payment_id,
                              const std::vector<Allocation>& allocations, absl::CivilDay applied_on,
                              const std::map<int64_t, LineRow>& lines, Totals* totals) {
  if (allocations.empty()) return absl::OkStatus();
  std::vector<SqlParam> params;
  const std::string day = DayText(applied_on);
  for (const Allocation& a : allocations) {
    auto line = lines.find(a.line_id);
    if (line == lines.end()) return absl::InternalError("allocation to a line not read");
    RETURN_IF_ERROR(account.Owns(line->second.account_id, a.line_id));
    for (SqlParam p :
         {SqlParam(account->site), SqlParam(account->id), SqlParam(a.line_id),
          payment_id == 0 ? SqlParam(nullptr) : SqlParam(payment_id), SqlParam(a.amount_minor),
          SqlParam(day), SqlParam(DayText(line->second.period_start))}) {
      params.push_back(std::move(p));
    }
    RETURN_IF_ERROR(c.Exec("UPDATE bill_lines SET paid_minor = paid_minor + ? WHERE id = ?",
                           {a.amount_minor, a.line_id})
                        .status());
    (*totals)[KeyOf(line->second)].collected += a.amount_minor;
  }
  return kit::InsertRows(c,
                                  "INSERT INTO allocations (site, account_id, line_id, payment_id, "
                                  "amount_minor, applied_on, line_period_start) VALUES",
                                  7, params)
      .status();
}

absl::StatusOr<std::vector<Allocation>> CreditAllocationsNewestFirst(Conn& c,
                                                                     int64_t account_id) {
  ASSIGN_OR_RETURN(std::vector<Row> rows,
                   c.Query("SELECT line_id, SUM(amount_minor) AS net, MAX(id) AS last "
                           "FROM allocations WHERE account_id = ? AND payment_id IS NULL "
                           "GROUP BY line_id HAVING net > 0 ORDER BY last DESC",
                           {account_id}));
  std::vector<Allocation> out;
  for (const Row& r : rows) out.push_back({r.Int(0), r.Int(1)});
  return out;
}

// --- late fees --------------------------------------------------------------

absl::StatusOr<std::vector<int64_t>> OverdueAccounts(Conn& c, const std::string& site,
                                                     absl::CivilDay as_of, int64_t after,
                                                     int limit) {
  ASSIGN_OR_RETURN(std::vector<Row> rows,
                   c.Query("SELECT DISTINCT account_id FROM bill_lines WHERE site = ? AND "
                           "account_id > ? AND late_fee_of IS NULL AND due_date < ? AND "
                           "paid_minor + written_off_minor < amount_minor "
                           "ORDER BY account_id LIMIT ?",
                           {site, after, DayText(as_of), limit}));
  std::vector<int64_t> out;
  out.reserve(rows.size());
  for (const Row& r : rows) out.push_back(r.Int(0));
  return out;
}

absl::StatusOr<std::vector<LateFeeCandidate>> LateFeeCandidates(
    Conn& c, const std::vector<LockedAccount>& accounts, absl::CivilDay as_of) {
  std::vector<LateFeeCandidate> out;
  std::vector<int64_t> ids;
  ids.reserve(accounts.size());
  for (const LockedAccount& a : accounts) ids.push_back(a->id);
  for (size_t begin = 0; begin < ids.size(); begin += kit::kMaxInList) {
    std::vector<SqlParam> params;
    const std::string in_list = kit::PaddedInList(
        absl::MakeConstSpan(ids).subspan(begin, std::min(kit::kMaxInList, ids.size() - begin)),
        &params);
    params.emplace_back(DayText(as_of));
    const std::string where = absl::StrCat("l.account_id IN (", in_list,
                                           ") AND l.late_fee_of IS NULL AND l.due_date < ? AND "
                                           "l.paid_minor + l.written_off_minor < l.amount_minor");
    // Locked (their accounts are), so that two assessments, or one and a
    // payment, never both charge what accrued on a line.
    RETURN_IF_ERROR(
        c.Query(absl::StrCat("SELECT l.id FROM bill_lines l WHERE ", where, " FOR UPDATE"), params)
            .status());
    ASSIGN_OR_RETURN(
        std::vector<Row> rows,
        c.Query(absl::StrCat("SELECT l.id, l.account_id, l.item_id, l.building, l.held, "
                             "l.amount_minor - l.paid_minor - l.written_off_minor, l.due_date, "
                             "(SELECT COALESCE(SUM(f.amount_minor), 0) FROM bill_lines f "
                             " WHERE f.late_fee_of = l.id), "
                             "(SELECT COUNT(*) FROM bill_lines f WHERE f.late_fee_of = l.id), "
                             "l.held_days FROM bill_lines l WHERE ",
                             where, " ORDER BY l.account_id, l.id"),
                params));
    for (const Row& r : rows) {
      LateFeeCandidate f;
      f.line_id = r.Int(0);
      f.account_id = r.Int(1);
      f.item_id = r.Int(2);
      f.building = r.Str(3);
      f.held = r.Int(4) != 0;
      f.unpaid_minor = r.Int(5);
      f.due = DayOf(r.Str(6));
      f.charged_minor = r.Int(7);
      f.fees_charged = r.Int(8);
      f.held_days = static_cast<int>(r.Int(9));
      out.push_back(f);
    }
  }
  return out;
}

absl::Status IssueLateFees(Conn& c, const std::vector<LockedAccount>& accounts,
                           const std::string& currency, absl::CivilDay as_of,
                           const std::vector<LateFeeCandidate>& fees, const std::string& actor,
                           absl::Time now) {
  if (accounts.empty()) return absl::OkStatus();
  const std::string& site = accounts.front()->site;
  const auto locked = [&](int64_t account_id) {
    return std::any_of(accounts.begin(), accounts.end(),
                       [&](const LockedAccount& a) { return a->id == account_id; });
  };
  const absl::CivilMonth month(as_of);
  const std::string report_period = absl::StrFormat("%04d-%02d", month.year(), month.month());
  const std::string day = DayText(as_of);
  Totals totals;
  int64_t bill_id = 0, bill_account = 0;
  for (const LateFeeCandidate& f : fees) {
    if (f.charge_minor <= 0) continue;
    if (!locked(f.account_id)) {
      return absl::InternalError(
          absl::StrCat("lock order: a late fee on account ", f.account_id, " not locked"));
    }
    if (f.account_id != bill_account) {
      // One bill per account and assessment.
      ASSIGN_OR_RETURN(bill_id, c.InsertReturningId(
                                    "INSERT INTO bills (site, run_id, account_id, period_label, "
                                    "issue_date, due_date, currency) VALUES (?, NULL, ?, ?, ?, ?, ?) "
                                    "RETURNING id",
                                    {site, f.account_id, report_period, day, day, currency}));
      bill_account = f.account_id;
    }
    ASSIGN_OR_RETURN(
        int64_t line_id,
        c.InsertReturningId(
            "INSERT INTO bill_lines (site, bill_id, account_id, item_id, building, period_label, "
            "report_period, period_start, quantity, amount_minor, due_date, late_fee_of) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
            {site, bill_id, f.account_id, f.item_id, f.building,
             absl::StrCat("late:", f.line_id, ":", f.fees_charged + 1), report_period,
             DayText(absl::CivilDay(month)), absl::StrCat(as_of - f.due), f.charge_minor, day,
             f.line_id}));
    RETURN_IF_ERROR(c.Exec("INSERT INTO ledger (site, account_id, kind, amount_minor, line_id, "
                           "actor, reason, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                           {site, f.account_id, static_cast<int>(v1::LATE_FEE), f.charge_minor,
                            line_id, actor, absl::StrCat("late fee as of ", day), now})
                        .status());
    TotalsDelta& d = totals[{report_period, f.building, f.item_id, true, false}];
    d.lines += 1;
    d.billed += f.charge_minor;
  }
  return AddTotals(c, site, totals);
}

// --- direct debit -----------------------------------------------------------

absl::StatusOr<std::vector<DebitCandidate>> DebitCandidates(Conn& c, const std::string& site,
                                                            absl::CivilDay as_of) {
  ASSIGN_OR_RETURN(
      std::vector<Row> rows,
      c.Query("SELECT a.id, a.unit, a.profile, a.credit_minor, "
              "SUM(l.amount_minor - l.paid_minor - l.written_off_minor) FROM accounts a "
              "JOIN bill_lines l ON l.account_id = a.id WHERE a.site = ? AND a.status <> ? AND "
              "l.due_date <= ? AND NOT l.held AND "
              "l.paid_minor + l.written_off_minor < l.amount_minor AND NOT EXISTS "
              "(SELECT 1 FROM debit_items d WHERE d.account_id = a.id AND d.status = ?) "
              "GROUP BY a.id, a.unit, a.profile, a.credit_minor ORDER BY a.id",
              {site, static_cast<int>(v1::SUSPENDED), DayText(as_of),
               static_cast<int>(v1::DEBIT_PENDING)}));
  std::vector<DebitCandidate> out;
  for (const Row& r : rows) {
    DebitCandidate d;
    d.account_id = r.Int(0);
    d.unit = r.Str(1);
    ASSIGN_OR_RETURN(d.profile, kit::ParseStored<v1::Account>(r.Str(2)));
    d.credit_minor = r.Int(3);
    d.due_minor = r.Int(4);
    out.push_back(std::move(d));
  }
  return out;
}

absl::StatusOr<int64_t> InsertDebitBatch(Conn& c, const DebitBatchRow& b,
                                         const std::vector<DebitItemRow>& items) {
  ASSIGN_OR_RETURN(int64_t id,
                   c.InsertReturningId("INSERT INTO debit_batches (site, as_of, currency, "
                                       "created_at, created_by) VALUES (?, ?, ?, ?, ?) RETURNING id",
                                       {b.site, DayText(b.as_of), b.currency, b.created_at,
                                        b.created_by}));
  std::vector<SqlParam> params;
  for (const DebitItemRow& i : items) {
    for (SqlParam p : {SqlParam(id), SqlParam(b.site), SqlParam(i.account_id),
                       SqlParam(i.amount_minor), SqlParam(i.bank), SqlParam(i.account_masked),
                       SqlParam(DayText(i.mandate_expiry)), SqlParam(static_cast<int>(i.status))}) {
      params.push_back(std::move(p));
    }
  }
  RETURN_IF_ERROR(kDebitItemKeys.Map(
      kit::InsertRows(c,
                      "INSERT INTO debit_items (batch_id, site, account_id, "
                      "amount_minor, bank, account_masked, mandate_expiry, status) VALUES",
                      8, params)
          .status()));
  return id;
}

absl::StatusOr<DebitBatchRow> ReadDebitBatch(Conn& c, const std::string& site, int64_t id) {
  ASSIGN_OR_RETURN(Row r, c.QueryOne("SELECT id, site, as_of, currency, created_by, created_at "
                                     "FROM debit_batches WHERE site = ? AND id = ?",
                                     {site, id}, "debit batch not found"));
  DebitBatchRow b;
  b.id = r.Int(0);
  b.site = r.Str(1);
  b.as_of = DayOf(r.Str(2));
  b.currency = r.Str(3);
  b.created_by = r.Str(4);
  b.created_at = r.Time(5);
  ASSIGN_OR_RETURN(std::vector<Row> counts,
                   c.Query("SELECT status, COUNT(*), SUM(amount_minor) FROM debit_items "
                           "WHERE batch_id = ? GROUP BY status",
                           {id}));
  for (const Row& n : counts) b.by_status[static_cast<int>(n.Int(0))] = {n.Int(1), n.Int(2)};
  return b;
}

namespace {
constexpr char kDebitItemColumns[] =
    "d.id, d.batch_id, d.account_id, a.unit, d.amount_minor, d.bank, d.account_masked, "
    "d.mandate_expiry, d.status, d.failure, d.bank_reference, COALESCE(d.payment_id, 0)";
DebitItemRow DebitItemOf(const Row& r) {
  DebitItemRow i;
  i.id = r.Int(0);
  i.batch_id = r.Int(1);
  i.account_id = r.Int(2);
  i.unit = r.Str(3);
  i.amount_minor = r.Int(4);
  i.bank = r.Str(5);
  i.account_masked = r.Str(6);
  i.mandate_expiry = DayOf(r.Str(7));
  i.status = static_cast<v1::DebitStatus>(r.Int(8));
  i.failure = static_cast<v1::DebitFailure>(r.Int(9));
  i.bank_reference = r.Str(10);
  i.payment_id = r.Int(11);
  return i;
}
}  // namespace

absl::StatusOr<std::vector<DebitItemRow>> ListDebitItems(Conn& c, int64_t batch_id,
                                                         v1::DebitStatus status, int64_t after,
                                                         int limit) {
  std::string sql = absl::StrCat("SELECT ", kDebitItemColumns,
                                 " FROM debit_items d JOIN accounts a ON a.id = d.account_id "
                                 "WHERE d.batch_id = ? AND d.id > ?");
  std::vector<SqlParam> params = {batch_id, after};
  if (status != v1::DEBIT_STATUS_UNSPECIFIED) {
    sql += " AND d.status = ?";
    params.emplace_back(static_cast<int>(status));
  }
  sql += " ORDER BY d.id LIMIT ?";
  params.emplace_back(limit);
  ASSIGN_OR_RETURN(std::vector<Row> rows, c.Query(sql, params));
  std::vector<DebitItemRow> out;
  for (const Row& r : rows) out.push_back(DebitItemOf(r));
  return out;
}

absl::StatusOr<DebitItemRow> ReadDebitItem(Conn& c, int64_t batch_id, int64_t item_id,
                                           bool for_update) {
  ASSIGN_OR_RETURN(Row r, c.QueryOne(absl::StrCat("SELECT ", kDebitItemColumns,
                                                  " FROM debit_items d JOIN accounts a ON a.id = "
                                                  "d.account_id WHERE d.batch_id = ? AND d.id = ?",
                                                  for_update ? " FOR UPDATE" : ""),
                                     {batch_id, item_id}, "debit item not found"));
  return DebitItemOf(r);
}

absl::Status SetDebitResult(Conn& c, const DebitItemRow& i) {
  return c
      .Exec("UPDATE debit_items SET status = ?, failure = ?, bank_reference = ?, payment_id = ? "
            "WHERE id = ?",
            {static_cast<int>(i.status), static_cast<int>(i.failure), i.bank_reference,
             i.payment_id == 0 ? SqlParam(nullptr) : SqlParam(i.payment_id), i.id})
      .status();
}

// --- ledger -----------------------------------------------------------------

absl::Status AddLedger(Conn& c, const std::string& site, const LedgerRow& e) {
  return c
      .Exec(
          "INSERT INTO ledger (site, account_id, kind, amount_minor, line_id, payment_id, actor, "
          "reason, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
          {site, e.account_id, static_cast<int>(e.kind), e.amount_minor,
           e.line_id == 0 ? SqlParam(nullptr) : SqlParam(e.line_id),
           e.payment_id == 0 ? SqlParam(nullptr) : SqlParam(e.payment_id), e.actor, e.reason,
           e.created_at})
      .status();
}

absl::StatusOr<std::vector<LedgerRow>> ListLedger(Conn& c, int64_t account_id, int64_t after,
                                                  int limit) {
  ASSIGN_OR_RETURN(
      std::vector<Row> rows,
      c.Query("SELECT e.id, e.account_id, e.kind, e.amount_minor, COALESCE(e.line_id, 0), "
              "COALESCE(l.bill_id, 0), COALESCE(e.payment_id, 0), e.actor, e.reason, "
              "e.created_at FROM ledger e LEFT JOIN bill_lines l ON l.id = e.line_id "
              "WHERE e.account_id = ? AND e.id > ? ORDER BY e.id LIMIT ?",
              {account_id, after, limit}));
  std::vector<LedgerRow> out;
  for (const Row& r : rows) {
    out.push_back(LedgerRow{r.Int(0), r.Int(1), static_cast<v1::LedgerKind>(r.Int(2)), r.Int(3),
                            r.Int(4), r.Int(5), r.Int(6), r.Str(7), r.Str(8), r.Time(9)});
  }
  return out;
}

// --- reports ----------------------------------------------------------------

absl::StatusOr<std::vector<LineSums>> CollectionRows(Conn& c, const std::string& site,
                                                     const std::string& label) {
  ASSIGN_OR_RETURN(std::vector<Row> rows,
                   c.Query("SELECT t.building, CONCAT(i.code, IF(t.late_fee, ':late-fee', '')), "
                           "t.held, t.line_count, t.billed_minor, "
                           "t.collected_minor, t.written_off_minor FROM collection_totals t "
                           "JOIN charge_items i ON i.id = t.item_id "
                           "WHERE t.site = ? AND t.period_label = ? AND t.line_count > 0",
                           {site, label}));
  std::vector<LineSums> out;
  for (const Row& r : rows) {
    out.push_back(
        LineSums{r.Str(0), r.Str(1), r.Int(2) != 0, r.Int(3), r.Int(4), r.Int(5), r.Int(6)});
  }
  return out;
}

absl::StatusOr<int64_t> ArrearsRecovered(Conn& c, const std::string& site, absl::CivilDay start,
                                         absl::CivilDay end) {
  ASSIGN_OR_RETURN(std::vector<Row> rows,
                   c.Query("SELECT COALESCE(SUM(amount_minor), 0) FROM allocations "
                           "WHERE site = ? AND applied_on >= ? AND applied_on < ? AND "
                           "line_period_start < ?",
                           {site, DayText(start), DayText(end), DayText(start)}));
  return rows.empty() ? 0 : rows[0].Int(0);
}

absl::StatusOr<std::vector<AgingRow>> AgingRows(Conn& c, const std::string& site,
                                                absl::CivilDay as_of, const int bounds[3],
                                                int64_t after, int account_limit) {
  const std::string day = DayText(as_of);
  std::string sql =
      "SELECT l.account_id, a.unit, CASE WHEN l.held THEN 4 "
      "WHEN DATEDIFF(?, l.due_date) <= ? THEN 0 WHEN DATEDIFF(?, l.due_date) <= ? THEN 1 "
      "WHEN DATEDIFF(?, l.due_date) <= ? THEN 2 ELSE 3 END AS bucket, "
      "SUM(l.amount_minor - l.paid_minor - l.written_off_minor) FROM bill_lines l "
      "JOIN accounts a ON a.id = l.account_id "
      "WHERE l.site = ? AND l.due_date < ? AND "
      "l.paid_minor + l.written_off_minor < l.amount_minor";
  std::vector<SqlParam> params = {day, bounds[0], day, bounds[1], day, bounds[2], site, day};
  if (account_limit > 0) {
    // The page's accounts: the first `account_limit` past-due accounts after `after`.
    sql +=
        " AND l.account_id IN (SELECT * FROM (SELECT DISTINCT account_id FROM bill_lines "
        "WHERE site = ? AND due_date < ? AND paid_minor + written_off_minor < amount_minor "
        "AND account_id > ? ORDER BY account_id LIMIT ?) page)";
    for (SqlParam p : {SqlParam(site), SqlParam(day), SqlParam(after), SqlParam(account_limit)}) {
      params.push_back(std::move(p));
    }
  }
  sql += " GROUP BY l.account_id, a.unit, bucket ORDER BY l.account_id, bucket";
  ASSIGN_OR_RETURN(std::vector<Row> rows, c.Query(sql, params));
  std::vector<AgingRow> out;
  for (const Row& r : rows) {
    out.push_back(AgingRow{r.Int(0), r.Str(1), static_cast<int>(r.Int(2)), r.Int(3)});
  }
  return out;
}

absl::StatusOr<std::vector<PeriodSums>> SiteTotals(Conn& c, const std::string& site) {
  ASSIGN_OR_RETURN(std::vector<Row> rows,
                   c.Query("SELECT period_label, held, SUM(billed_minor), SUM(collected_minor), "
                           "SUM(written_off_minor) FROM collection_totals WHERE site = ? "
                           "GROUP BY period_label, held",
                           {site}));
  std::vector<PeriodSums> out;
  for (const Row& r : rows) {
    out.push_back(PeriodSums{r.Str(0), r.Int(1) != 0, r.Int(2), r.Int(3), r.Int(4)});
  }
  return out;
}

absl::StatusOr<std::map<std::string, std::pair<int64_t, absl::Time>>> CommittingRuns(Conn& c) {
  ASSIGN_OR_RETURN(std::vector<Row> rows,
                   c.Query("SELECT site, COUNT(*), MIN(committed_at) FROM bill_runs "
                           "WHERE state = ? GROUP BY site",
                           {static_cast<int>(v1::COMMITTING)}));
  std::map<std::string, std::pair<int64_t, absl::Time>> out;
  for (const Row& r : rows) out[r.Str(0)] = {r.Int(1), r.Time(2)};
  return out;
}

absl::StatusOr<std::vector<std::string>> BilledSites(Conn& c) {
  ASSIGN_OR_RETURN(std::vector<Row> rows, c.Query("SELECT DISTINCT site FROM bill_runs"));
  std::vector<std::string> out;
  for (const Row& r : rows) out.push_back(r.Str(0));
  return out;
}

}  // namespace billing::store
