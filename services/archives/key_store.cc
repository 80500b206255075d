#include "services/archives/key_store.h"

#include "absl/strings/str_cat.h"
#include "services/kit/status_macros.h"
#include "services/kit/unique_keys.h"

namespace archives::store {

using kit::Conn;
using kit::Row;
using kit::SqlParam;

namespace {

constexpr char kKeyColumns[] =
    "k.id, k.site, k.kind, k.tag, k.unit, k.key_set, k.master, k.cabinet_slot, k.state, "
    "k.version, k.created_at, c.id, c.holder, c.purpose, c.reference, c.from_at, c.due_back, "
    "c.recorded_by";
constexpr char kKeyFrom[] =
    " FROM key_register k LEFT JOIN key_custody c ON c.open_key = k.id";

std::string Blob(const google::protobuf::Message& m) {
  std::string out;
  m.SerializeToString(&out);
  return out;
}

KeyRow KeyOf(const Row& r) {
  KeyRow k;
  k.id = r.Int(0);
  k.site = r.Str(1);
  k.kind = static_cast<v1::KeyKind>(r.Int(2));
  k.tag = r.Str(3);
  k.unit = r.Str(4);
  k.key_set = r.Str(5);
  k.master = r.Int(6) != 0;
  k.cabinet_slot = r.Str(7);
  k.state = static_cast<v1::KeyState>(r.Int(8));
  k.version = r.Int(9);
  k.created_at = r.Time(10);
  if (!r.IsNull(11)) {
    CustodyRow c;
    c.id = r.Int(11);
    c.key_id = k.id;
    c.holder.ParseFromString(r.Str(12));
    c.purpose = static_cast<v1::Purpose>(r.Int(13));
    c.reference = r.Str(14);
    c.from = r.Time(15);
    c.due_back = r.OptTime(16);
    c.recorded_by = r.Str(17);
    k.open = std::move(c);
  }
  return k;
}

constexpr char kCustodyColumns[] =
    "c.id, c.key_id, c.holder, c.purpose, c.reference, c.from_at, c.due_back, c.to_at, "
    "c.recorded_by, c.returned_condition, c.lost";

CustodyRow CustodyOf(const Row& r, int at = 0) {
  CustodyRow c;
  c.id = r.Int(at + 0);
  c.key_id = r.Int(at + 1);
  c.holder.ParseFromString(r.Str(at + 2));
  c.purpose = static_cast<v1::Purpose>(r.Int(at + 3));
  c.reference = r.Str(at + 4);
  c.from = r.Time(at + 5);
  c.due_back = r.OptTime(at + 6);
  c.to = r.OptTime(at + 7);
  c.recorded_by = r.Str(at + 8);
  c.returned_condition = r.Str(at + 9);
  c.lost = r.Int(at + 10) != 0;
  return c;
}


// What a duplicate on each unique key of key_register means.
constexpr kit::UniqueKeys kRegisterKeys{{
    {"by_tag", absl::StatusCode::kAlreadyExists, "key.tag: already on another key of the site"},
}};

}  // namespace

absl::StatusOr<int64_t> InsertKey(Conn& c, KeyRow& k, const std::string& actor, absl::Time now) {
  k.version = 1;
  k.created_at = now;
  k.state = v1::IN_CABINET;
  return kRegisterKeys.Map(c.InsertReturningId(
      "INSERT INTO key_register (site, kind, tag, unit, key_set, master, cabinet_slot, state, "
      "version, created_at, created_by) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 1, ?, ?) RETURNING id",
      {k.site, static_cast<int>(k.kind), k.tag, k.unit, k.key_set, k.master, k.cabinet_slot,
       static_cast<int>(k.state), now, actor}));
}

absl::StatusOr<KeyRow> ReadKey(Conn& c, const std::string& site, int64_t id, bool for_update) {
  if (for_update) {
    RETURN_IF_ERROR(c.QueryOne("SELECT id FROM key_register WHERE site = ? AND id = ? FOR UPDATE",
                               {site, id}, "key not found")
                        .status());
  }
  ASSIGN_OR_RETURN(Row r, c.QueryOne(absl::StrCat("SELECT ", kKeyColumns, kKeyFrom,
                                                  " WHERE k.site = ? AND k.id = ?"),
                                     {site, id}, "key not found"));
  return KeyOf(r);
}

absl::StatusOr<std::vector<KeyRow>> ListKeys(Conn& c, const KeyFilter& f, absl::Time now,
                                             int64_t after, int limit) {
  std::string sql = absl::StrCat("SELECT ", kKeyColumns, kKeyFrom, " WHERE k.site = ? AND k.id > ?");
  std::vector<SqlParam> params = {f.site, after};
  if (!f.unit.empty()) {
    sql += " AND k.unit = ?";
    params.emplace_back(f.unit);
  }
  if (f.state != v1::KEY_STATE_UNSPECIFIED) {
    sql += " AND k.state = ?";
    params.emplace_back(static_cast<int>(f.state));
  }
  if (f.kind != v1::KEY_KIND_UNSPECIFIED) {
    sql += " AND k.kind = ?";
    params.emplace_back(static_cast<int>(f.kind));
  }
  if (f.overdue_only) {
    sql += " AND k.state = ? AND c.due_back < ?";
    params.emplace_back(static_cast<int>(v1::CHECKED_OUT));
    params.emplace_back(now);
  }
  sql += " ORDER BY k.id LIMIT ?";
  params.emplace_back(limit);
  ASSIGN_OR_RETURN(std::vector<Row> rows, c.Query(sql, params));
  std::vector<KeyRow> out;
  for (const Row& r : rows) out.push_back(KeyOf(r));
  return out;
}

absl::Status SetState(Conn& c, KeyRow& k, v1::KeyState state, absl::Time now) {
  k.state = state;
  k.version += 1;
  if (state == v1::LOST) {
    return c
        .Exec("UPDATE key_register SET state = ?, version = ?, lost_at = ? WHERE id = ?",
              {static_cast<int>(state), k.version, now, k.id})
        .status();
  }
  return c
      .Exec("UPDATE key_register SET state = ?, version = ? WHERE id = ?",
            {static_cast<int>(state), k.version, k.id})
      .status();
}

absl::Status OpenCustody(Conn& c, const KeyRow& k, const CustodyRow& row) {
  return c
      .Exec(
          "INSERT INTO key_custody (site, key_id, holder, purpose, reference, from_at, due_back, "
          "recorded_by) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
          {k.site, k.id, Blob(row.holder), static_cast<int>(row.purpose), row.reference, row.from,
           row.due_back, row.recorded_by})
      .status();
}

absl::Status CloseCustody(Conn& c, int64_t key_id, absl::Time to, const std::string& condition,
                          bool lost) {
  return c
      .Exec("UPDATE key_custody SET to_at = ?, returned_condition = ?, lost = ? "
            "WHERE open_key = ?",
            {to, condition, lost, key_id})
      .status();
}

absl::StatusOr<std::vector<CustodyRow>> ListCustody(Conn& c, int64_t key_id, int64_t after,
                                                    int limit) {
  ASSIGN_OR_RETURN(std::vector<Row> rows,
                   c.Query(absl::StrCat("SELECT ", kCustodyColumns,
                                        " FROM key_custody c WHERE c.key_id = ? AND c.id > ? "
                                        "ORDER BY c.id LIMIT ?"),
                           {key_id, after, limit}));
  std::vector<CustodyRow> out;
  for (const Row& r : rows) out.push_back(CustodyOf(r));
  return out;
}

absl::StatusOr<std::vector<UnitCustody>> UnitAccess(Conn& c, const std::string& site,
                                                   const std::string& unit, absl::Time start,
                                                   absl::Time end) {
  ASSIGN_OR_RETURN(
      std::vector<Row> rows,
      c.Query(absl::StrCat("SELECT k.id, k.tag, ", kCustodyColumns,
                           " FROM key_register k JOIN key_custody c ON c.key_id = k.id "
                           "WHERE k.site = ? AND k.unit = ? AND c.from_at < ? AND "
                           "(c.to_at IS NULL OR c.to_at > ?) ORDER BY c.from_at, c.id"),
              {site, unit, end, start}));
  std::vector<UnitCustody> out;
  for (const Row& r : rows) out.push_back({r.Int(0), r.Str(1), CustodyOf(r, 2)});
  return out;
}

absl::StatusOr<std::vector<std::pair<int64_t, std::string>>> LostKeys(Conn& c,
                                                                     const std::string& site,
                                                                     const std::string& unit,
                                                                     absl::Time end) {
  ASSIGN_OR_RETURN(std::vector<Row> rows,
                   c.Query("SELECT id, tag FROM key_register WHERE site = ? AND unit = ? AND "
                           "state = ? AND lost_at < ? ORDER BY id",
                           {site, unit, static_cast<int>(v1::LOST), end}));
  std::vector<std::pair<int64_t, std::string>> out;
  for (const Row& r : rows) out.emplace_back(r.Int(0), r.Str(1));
  return out;
}

absl::StatusOr<std::vector<KindStateCount>> CountKeys(Conn& c, const std::string& site,
                                                      absl::Time now) {
  ASSIGN_OR_RETURN(std::vector<Row> rows,
                   c.Query("SELECT k.kind, k.state, COUNT(*), "
                           "SUM(k.state = ? AND c.due_back IS NOT NULL AND c.due_back < ?) "
                           "FROM key_register k LEFT JOIN key_custody c ON c.open_key = k.id "
                           "WHERE k.site = ? GROUP BY k.kind, k.state",
                           {static_cast<int>(v1::CHECKED_OUT), now, site}));
  std::vector<KindStateCount> out;
  for (const Row& r : rows) {
    out.push_back({static_cast<v1::KeyKind>(r.Int(0)), static_cast<v1::KeyState>(r.Int(1)),
                   r.Int(2), r.IsNull(3) ? 0 : r.Int(3)});
  }
  return out;
}

}  // namespace archives::store
