#include "services/handover/permit_store.h"

#include <algorithm>
#include <optional>
#include <utility>

#include "absl/strings/str_cat.h"
#include "services/kit/etag.h"
#include "services/kit/proto_time.h"
#include "services/kit/status_macros.h"
#include "services/kit/unique_keys.h"

namespace handover::store {

using kit::Conn;
using kit::Row;
using kit::SqlParam;

namespace {

constexpr kit::UniqueKeys kPermitKeys{{
    {"one_live_permit_per_unit", absl::StatusCode::kFailedPrecondition,
     "permit.unit: the unit has a permit applied for, approved or suspended"},
}};

constexpr char kPermitColumns[] = "id, site, state, body, version, created_at";

absl::StatusOr<PermitRow> PermitOf(const Row& r) {
  PermitRow row;
  row.id = r.Int(0);
  row.site = r.Str(1);
  ASSIGN_OR_RETURN(row.body, kit::ParseStored<v1::RenovationPermit>(r.Str(3)));
  row.body.set_state(static_cast<v1::PermitState>(r.Int(2)));
  row.version = r.Int(4);
  row.body.set_name(absl::StrCat("sites/", row.site, "/renovationPermits/", row.id));
  row.body.set_etag(kit::Etag(row.version));
  kit::SetTimestamp(row.body.mutable_create_time(), r.Time(5));
  return row;
}

// The body as stored: what the columns, the name and the effects say is
// left out.
std::string StoredPermit(v1::RenovationPermit body) {
  body.clear_name();
  body.clear_etag();
  body.clear_create_time();
  body.clear_tickets();
  body.clear_effects_pending();
  body.clear_needs_attention();
  return body.SerializeAsString();
}

constexpr char kPassColumns[] = "id, site, permit_id, state, body, ended_at";

absl::StatusOr<PassRow> PassOf(const Row& r) {
  PassRow row;
  row.id = r.Int(0);
  row.permit_id = r.Int(2);
  ASSIGN_OR_RETURN(row.body, kit::ParseStored<v1::WorkerPass>(r.Str(4)));
  row.body.set_state(static_cast<v1::PassState>(r.Int(3)));
  row.body.set_name(absl::StrCat("sites/", r.Str(1), "/renovationPermits/", row.permit_id,
                                 "/workerPasses/", row.id));
  kit::SetTimestamp(row.body.mutable_end_time(), r.OptTime(5));
  return row;
}

std::string StoredPass(v1::WorkerPass body) {
  body.clear_name();
  body.clear_state();
  body.clear_end_time();
  return body.SerializeAsString();
}

}  // namespace

absl::StatusOr<int64_t> CreatePermit(Conn& c, const std::string& site,
                                     const v1::RenovationPermit& body, const std::string& actor,
                                     absl::Time now) {
  ASSIGN_OR_RETURN(
      int64_t id,
      kPermitKeys.Map(c.InsertReturningId(
          "INSERT INTO renovation_permits (site, unit, state, time_zone, body, created_at, "
          "updated_at) VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id",
          {site, body.unit(), static_cast<int>(body.state()), body.time_zone(),
           StoredPermit(body), now, now})));
  RETURN_IF_ERROR(AddPermitEvent(c, site, id, "created", v1::PERMIT_STATE_UNSPECIFIED,
                                 body.state(), actor,
                                 absl::StrCat(body.unit(), ", ", body.planned_start(), " to ",
                                              body.planned_end()),
                                 now));
  return id;
}

absl::StatusOr<PermitRow> ReadPermit(Conn& c, const std::string& site, int64_t id,
                                     bool for_update) {
  ASSIGN_OR_RETURN(Row r,
                   c.QueryOne(absl::StrCat("SELECT ", kPermitColumns,
                                           " FROM renovation_permits WHERE site = ? AND id = ?",
                                           for_update ? " FOR UPDATE" : ""),
                              {site, id}, "renovation permit not found"));
  return PermitOf(r);
}

absl::Status SavePermit(Conn& c, PermitRow& row, absl::Time now) {
  ASSIGN_OR_RETURN(
      kit::ExecResult res,
      kPermitKeys.Map(c.Exec("UPDATE renovation_permits SET state = ?, body = ?, "
                             "version = version + 1, updated_at = ? WHERE id = ? AND version = ?",
                             {static_cast<int>(row.body.state()), StoredPermit(row.body), now,
                              row.id, row.version})));
  // The caller holds the row lock, so the version cannot have moved.
  if (res.affected_rows != 1) return absl::AbortedError("the permit changed meanwhile; try again");
  row.version += 1;
  row.body.set_etag(kit::Etag(row.version));
  return absl::OkStatus();
}

absl::StatusOr<std::vector<PermitRow>> ListPermits(Conn& c, const PermitFilter& f, int64_t after,
                                                   int limit) {
  std::string sql = absl::StrCat("SELECT ", kPermitColumns,
                                 " FROM renovation_permits WHERE site = ? AND id > ?");
  std::vector<SqlParam> params = {f.site, after};
  if (!f.unit.empty()) {
    sql += " AND unit = ?";
    params.emplace_back(f.unit);
  }
  if (f.state != v1::PERMIT_STATE_UNSPECIFIED) {
    sql += " AND state = ?";
    params.emplace_back(static_cast<int>(f.state));
  }
  sql += " ORDER BY id LIMIT ?";
  params.emplace_back(limit);
  ASSIGN_OR_RETURN(std::vector<Row> rows, c.Query(sql, params));
  std::vector<PermitRow> out;
  out.reserve(rows.size());
  for (const Row& r : rows) {
    ASSIGN_OR_RETURN(PermitRow row, PermitOf(r));
    out.push_back(std::move(row));
  }
  return out;
}

absl::Status AddPermitEvent(Conn& c, const std::string& site, int64_t permit_id,
                            const std::string& type, v1::PermitState from, v1::PermitState to,
                            const std::string& actor, const std::string& detail, absl::Time now) {
  return AddTimelineLine(c, kPermitTimeline, site, permit_id, type, from, to, actor, detail, now);
}

absl::StatusOr<std::vector<v1::PermitEvent>> ListPermitEvents(Conn& c, int64_t permit_id,
                                                              int64_t after, int limit) {
  ASSIGN_OR_RETURN(std::vector<Row> rows,
                   TimelineRows(c, kPermitTimeline, permit_id, after, limit));
  return TimelineEvents<v1::PermitEvent>(rows);
}

absl::StatusOr<std::vector<PermitMove>> PermitMovesAround(Conn& c, const std::string& site,
                                                          const HalfYear& h) {
  const std::vector<std::string>& types = CountedMoveTypes();
  std::string in_list = "?";
  std::vector<SqlParam> params = {site, SpanStart(h), SpanEnd(h)};
  for (size_t i = 0; i < types.size(); ++i) {
    if (i > 0) in_list += ", ?";
    params.emplace_back(types[i]);
  }
  ASSIGN_OR_RETURN(
      std::vector<Row> rows,
      c.Query(absl::StrCat("SELECT e.type, p.unit, p.time_zone, e.created_at "
                           "FROM permit_events e JOIN renovation_permits p ON p.id = e.permit_id "
                           "WHERE e.site = ? AND e.created_at >= ? AND e.created_at < ? "
                           "AND e.type IN (",
                           in_list, ")"),
              params));
  std::vector<PermitMove> out;
  out.reserve(rows.size());
  for (const Row& r : rows) out.push_back({r.Str(0), r.Str(1), r.Str(2), r.Time(3)});
  return out;
}

absl::StatusOr<int64_t> InsertPass(Conn& c, const std::string& site, int64_t permit_id,
                                   const v1::WorkerPass& body, absl::Time now) {
  return c.InsertReturningId(
      "INSERT INTO permit_passes (site, permit_id, state, body, created_at) "
      "VALUES (?, ?, ?, ?, ?) RETURNING id",
      {site, permit_id, static_cast<int>(body.state()), StoredPass(body), now});
}

absl::StatusOr<PassRow> ReadPass(Conn& c, const std::string& site, int64_t permit_id, int64_t id,
                                 bool for_update) {
  ASSIGN_OR_RETURN(Row r, c.QueryOne(absl::StrCat("SELECT ", kPassColumns,
                                                  " FROM permit_passes WHERE site = ? AND "
                                                  "permit_id = ? AND id = ?",
                                                  for_update ? " FOR UPDATE" : ""),
                                     {site, permit_id, id}, "worker pass not found"));
  return PassOf(r);
}

absl::Status SavePass(Conn& c, const std::string& site, const PassRow& row) {
  std::optional<absl::Time> ended;
  if (row.body.has_end_time()) ended = kit::FromTimestamp(row.body.end_time());
  return c
      .Exec("UPDATE permit_passes SET state = ?, body = ?, ended_at = ? "
            "WHERE site = ? AND id = ?",
            {static_cast<int>(row.body.state()), StoredPass(row.body), ended, site, row.id})
      .status();
}

absl::StatusOr<int> CountActivePasses(Conn& c, int64_t permit_id) {
  ASSIGN_OR_RETURN(Row r, c.QueryOne("SELECT COUNT(*) FROM permit_passes "
                                     "WHERE permit_id = ? AND state = ?",
                                     {permit_id, static_cast<int>(v1::PASS_ACTIVE)}, ""));
  return static_cast<int>(r.Int(0));
}

absl::StatusOr<int64_t> EndPasses(Conn& c, int64_t permit_id, absl::Time now) {
  ASSIGN_OR_RETURN(kit::ExecResult res,
                   c.Exec("UPDATE permit_passes SET state = ?, ended_at = ? "
                          "WHERE permit_id = ? AND state = ?",
                          {static_cast<int>(v1::PASS_ENDED), now, permit_id,
                           static_cast<int>(v1::PASS_ACTIVE)}));
  return res.affected_rows;
}

absl::StatusOr<std::vector<PassRow>> ListPasses(Conn& c, const std::string& site,
                                                int64_t permit_id, int64_t after, int limit) {
  ASSIGN_OR_RETURN(std::vector<Row> rows,
                   c.Query(absl::StrCat("SELECT ", kPassColumns,
                                        " FROM permit_passes WHERE site = ? AND permit_id = ? "
                                        "AND id > ? ORDER BY id LIMIT ?"),
                           {site, permit_id, after, limit}));
  std::vector<PassRow> out;
  out.reserve(rows.size());
  for (const Row& r : rows) {
    ASSIGN_OR_RETURN(PassRow row, PassOf(r));
    out.push_back(std::move(row));
  }
  return out;
}

}  // namespace handover::store
