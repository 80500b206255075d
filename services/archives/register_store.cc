#include "services/archives/register_store.h"

#include <limits>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "services/kit/etag.h"
#include "services/kit/proto_time.h"
#include "services/kit/status_macros.h"
#include "services/kit/unique_keys.h"

namespace archives::store {

using kit::Conn;
using kit::Row;
using kit::SqlParam;

namespace {

constexpr char kUnitColumns[] =
    "id, site, unit_id, building, floor, number, area_centi_m2, layout, occupancy, version, "
    "created_at, updated_at";

UnitRow UnitOf(const Row& r) {
  UnitRow row;
  row.id = r.Int(0);
  row.version = r.Int(9);
  v1::Unit& u = row.unit;
  u.set_name(absl::StrCat("sites/", r.Str(1), "/units/", r.Str(2)));
  u.set_building(r.Str(3));
  u.set_floor(static_cast<int32_t>(r.Int(4)));
  u.set_number(r.Str(5));
  u.set_area_centi_m2(r.Int(6));
  u.set_layout(r.Str(7));
  u.set_occupancy(static_cast<v1::Occupancy>(r.Int(8)));
  u.set_etag(kit::Etag(row.version));
  kit::SetTimestamp(u.mutable_create_time(), r.Time(10));
  kit::SetTimestamp(u.mutable_update_time(), r.Time(11));
  return row;
}

constexpr char kPartyColumns[] =
    "id, site, unit_id, role, display_name, phone, id_number, email, organization, note, "
    "start_date, end_date, version, created_at, updated_at";

PartyRow PartyOf(const Row& r) {
  PartyRow row;
  row.id = r.Int(0);
  row.version = r.Int(12);
  v1::Party& p = row.party;
  p.set_name(absl::StrCat("sites/", r.Str(1), "/parties/", row.id));
  if (!r.Str(2).empty()) p.set_unit(absl::StrCat("sites/", r.Str(1), "/units/", r.Str(2)));
  p.set_role(static_cast<v1::PartyRole>(r.Int(3)));
  p.set_display_name(r.Str(4));
  p.set_phone(r.Str(5));
  p.set_id_number(r.Str(6));
  p.set_email(r.Str(7));
  p.set_organization(r.Str(8));
  p.set_note(r.Str(9));
  p.set_start_date(r.Str(10));
  p.set_end_date(r.Str(11));
  p.set_etag(kit::Etag(row.version));
  kit::SetTimestamp(p.mutable_create_time(), r.Time(13));
  kit::SetTimestamp(p.mutable_update_time(), r.Time(14));
  return row;
}

// The {unit} of a party's unit name ("" for none).
std::string UnitIdOfName(const std::string& name) {
  const size_t slash = name.rfind('/');
  return slash == std::string::npos ? "" : name.substr(slash + 1);
}

SqlParam DateOrNull(const std::string& date) {
  if (date.empty()) return SqlParam(nullptr);
  return SqlParam(date);
}

std::vector<SqlParam> PartyValues(const v1::Party& p) {
  return {UnitIdOfName(p.unit()), static_cast<int>(p.role()), p.display_name(), p.phone(),
          p.id_number(), p.email(), p.organization(), p.note(), DateOrNull(p.start_date()),
          DateOrNull(p.end_date())};
}


// What a duplicate on each unique key of units means.
constexpr kit::UniqueKeys kUnitKeys{{
    {"by_name", absl::StatusCode::kAlreadyExists, "unit_id: already registered on the site"},
}};

}  // namespace

absl::Status InsertUnit(Conn& c, const std::string& site, const std::string& unit_id,
                        v1::Unit& u, const std::string& actor, absl::Time now) {
  ASSIGN_OR_RETURN(
      int64_t id,
      kUnitKeys.Map(c.InsertReturningId(
          "INSERT INTO units (site, unit_id, building, floor, number, area_centi_m2, layout, "
          "occupancy, version, created_at, created_by, updated_at) "
          "VALUES (?, ?, ?, ?, ?, ?, ?, ?, 1, ?, ?, ?) RETURNING id",
          {site, unit_id, u.building(), u.floor(), u.number(), u.area_centi_m2(), u.layout(),
           static_cast<int>(u.occupancy()), now, actor, now})));
  (void)id;
  u.set_name(absl::StrCat("sites/", site, "/units/", unit_id));
  u.set_etag(kit::Etag(1));
  kit::SetTimestamp(u.mutable_create_time(), now);
  kit::SetTimestamp(u.mutable_update_time(), now);
  return absl::OkStatus();
}

absl::StatusOr<UnitRow> ReadUnit(Conn& c, const std::string& site, const std::string& unit_id,
                                 bool for_update) {
  ASSIGN_OR_RETURN(Row r, c.QueryOne(absl::StrCat("SELECT ", kUnitColumns,
                                                  " FROM units WHERE site = ? AND unit_id = ?",
                                                  for_update ? " FOR UPDATE" : ""),
                                     {site, unit_id}, "unit not found"));
  return UnitOf(r);
}

absl::Status UpdateUnit(Conn& c, const std::string& site, UnitRow& row, absl::Time now) {
  row.version += 1;
  const v1::Unit& u = row.unit;
  RETURN_IF_ERROR(c.Exec("UPDATE units SET building = ?, floor = ?, number = ?, "
                         "area_centi_m2 = ?, layout = ?, occupancy = ?, version = ?, "
                         "updated_at = ? WHERE site = ? AND id = ?",
                         {u.building(), u.floor(), u.number(), u.area_centi_m2(), u.layout(),
                          static_cast<int>(u.occupancy()), row.version, now, site, row.id})
                      .status());
  row.unit.set_etag(kit::Etag(row.version));
  kit::SetTimestamp(row.unit.mutable_update_time(), now);
  return absl::OkStatus();
}

absl::StatusOr<std::vector<UnitRow>> ListUnits(Conn& c, const std::string& site,
                                               const std::string& building,
                                               v1::Occupancy occupancy, int64_t after,
                                               int limit) {
  std::string sql = absl::StrCat("SELECT ", kUnitColumns, " FROM units WHERE site = ? AND id > ?");
  std::vector<SqlParam> params = {site, after};
  if (!building.empty()) {
    sql += " AND building = ?";
    params.emplace_back(building);
  }
  if (occupancy != v1::OCCUPANCY_UNSPECIFIED) {
    sql += " AND occupancy = ?";
    params.emplace_back(static_cast<int>(occupancy));
  }
  sql += " ORDER BY id LIMIT ?";
  params.emplace_back(limit);
  ASSIGN_OR_RETURN(std::vector<Row> rows, c.Query(sql, params));
  std::vector<UnitRow> out;
  out.reserve(rows.size());
  for (const Row& r : rows) out.push_back(UnitOf(r));
  return out;
}

absl::StatusOr<std::set<std::string>> ExistingUnitIds(Conn& c, const std::string& site) {
  ASSIGN_OR_RETURN(std::vector<Row> rows,
                   c.Query("SELECT unit_id FROM units WHERE site = ?", {site}));
  std::set<std::string> out;
  for (const Row& r : rows) out.insert(r.Str(0));
  return out;
}

absl::StatusOr<int64_t> InsertParty(Conn& c, const std::string& site, v1::Party& p,
                                    const std::string& actor, absl::Time now) {
  std::vector<SqlParam> params = {site};
  for (SqlParam& v : PartyValues(p)) params.push_back(std::move(v));
  params.emplace_back(now);
  params.emplace_back(actor);
  params.emplace_back(now);
  ASSIGN_OR_RETURN(
      int64_t id,
      c.InsertReturningId(
          "INSERT INTO parties (site, unit_id, role, display_name, phone, id_number, email, "
          "organization, note, start_date, end_date, version, created_at, created_by, "
          "updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1, ?, ?, ?) RETURNING id",
          params));
  p.set_name(absl::StrCat("sites/", site, "/parties/", id));
  p.set_etag(kit::Etag(1));
  kit::SetTimestamp(p.mutable_create_time(), now);
  kit::SetTimestamp(p.mutable_update_time(), now);
  return id;
}

absl::StatusOr<PartyRow> ReadParty(Conn& c, const std::string& site, int64_t id,
                                   bool for_update) {
  ASSIGN_OR_RETURN(Row r, c.QueryOne(absl::StrCat("SELECT ", kPartyColumns,
                                                  " FROM parties WHERE site = ? AND id = ?",
                                                  for_update ? " FOR UPDATE" : ""),
                                     {site, id}, "party not found"));
  return PartyOf(r);
}

absl::Status UpdateParty(Conn& c, const std::string& site, PartyRow& row, absl::Time now) {
  row.version += 1;
  std::vector<SqlParam> params = PartyValues(row.party);
  params.emplace_back(row.version);
  params.emplace_back(now);
  params.emplace_back(site);
  params.emplace_back(row.id);
  RETURN_IF_ERROR(c.Exec("UPDATE parties SET unit_id = ?, role = ?, display_name = ?, "
                         "phone = ?, id_number = ?, email = ?, organization = ?, note = ?, "
                         "start_date = ?, end_date = ?, version = ?, updated_at = ? "
                         "WHERE site = ? AND id = ?",
                         params)
                      .status());
  row.party.set_etag(kit::Etag(row.version));
  kit::SetTimestamp(row.party.mutable_update_time(), now);
  return absl::OkStatus();
}

absl::StatusOr<std::vector<PartyRow>> ListParties(Conn& c, const PartyFilter& f, int64_t after,
                                                  int limit) {
  std::string sql =
      absl::StrCat("SELECT ", kPartyColumns, " FROM parties WHERE site = ? AND id > ?");
  std::vector<SqlParam> params = {f.site, after};
  if (!f.unit.empty()) {
    sql += " AND unit_id = ?";
    params.emplace_back(UnitIdOfName(f.unit));
  }
  if (f.role != v1::PARTY_ROLE_UNSPECIFIED) {
    sql += " AND role = ?";
    params.emplace_back(static_cast<int>(f.role));
  }
  if (!f.include_former) sql += " AND end_date IS NULL";
  sql += " ORDER BY id LIMIT ?";
  params.emplace_back(limit);
  ASSIGN_OR_RETURN(std::vector<Row> rows, c.Query(sql, params));
  std::vector<PartyRow> out;
  out.reserve(rows.size());
  for (const Row& r : rows) out.push_back(PartyOf(r));
  return out;
}

absl::Status AddHistory(Conn& c, const std::string& site, const std::string& subject,
                        const std::string& actor, const std::string& action,
                        const std::vector<std::string>& changed_fields,
                        const google::protobuf::Message& snapshot, absl::Time now,
                        const std::string& reference) {
  return c
      .Exec("INSERT INTO register_history (site, subject, changed_at, actor, action, "
            "changed_fields, snapshot, reference) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            {site, subject, now, actor, action, absl::StrJoin(changed_fields, ","),
             snapshot.SerializeAsString(), reference})
      .status();
}

absl::StatusOr<std::vector<std::pair<int64_t, v1::RecordChange>>> ListHistory(
    Conn& c, const std::string& subject, int64_t after, int limit) {
  ASSIGN_OR_RETURN(std::vector<Row> rows,
                   c.Query("SELECT id, changed_at, actor, action, changed_fields, snapshot, "
                           "reference FROM register_history WHERE subject = ? AND id > ? "
                           "ORDER BY id LIMIT ?",
                           {subject, after, limit}));
  const bool is_unit = subject.find("/units/") != std::string::npos;
  std::vector<std::pair<int64_t, v1::RecordChange>> out;
  for (const Row& r : rows) {
    v1::RecordChange ch;
    kit::SetTimestamp(ch.mutable_time(), r.Time(1));
    ch.set_actor(r.Str(2));
    ch.set_action(r.Str(3));
    ch.set_reference(r.Str(6));
    for (absl::string_view f : absl::StrSplit(r.Str(4), ',', absl::SkipEmpty())) {
      ch.add_changed_fields(std::string(f));
    }
    if (is_unit) {
      ch.mutable_unit()->ParseFromString(r.Str(5));
    } else {
      ch.mutable_party()->ParseFromString(r.Str(5));
    }
    out.emplace_back(r.Int(0), std::move(ch));
  }
  return out;
}

absl::Status AddReveal(Conn& c, const std::string& site, const std::string& subject,
                       const std::string& actor, const std::string& roles,
                       const std::string& reason, absl::Time now) {
  return c
      .Exec("INSERT INTO pii_reveals (site, subject, actor, roles, reason, revealed_at) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            {site, subject, actor, roles, reason, now})
      .status();
}

absl::StatusOr<std::vector<std::pair<int64_t, v1::PersonalDataReveal>>> ListReveals(
    Conn& c, const std::string& site, int64_t before, int limit) {
  if (before == 0) before = std::numeric_limits<int64_t>::max();
  ASSIGN_OR_RETURN(std::vector<Row> rows,
                   c.Query("SELECT id, subject, actor, roles, reason, revealed_at "
                           "FROM pii_reveals WHERE site = ? AND id < ? ORDER BY id DESC LIMIT ?",
                           {site, before, limit}));
  std::vector<std::pair<int64_t, v1::PersonalDataReveal>> out;
  for (const Row& r : rows) {
    v1::PersonalDataReveal v;
    v.set_subject(r.Str(1));
    v.set_actor(r.Str(2));
    v.set_roles(r.Str(3));
    v.set_reason(r.Str(4));
    kit::SetTimestamp(v.mutable_time(), r.Time(5));
    out.emplace_back(r.Int(0), std::move(v));
  }
  return out;
}

}  // namespace archives::store
