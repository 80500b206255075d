#include "services/handover/handover_store.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "services/kit/etag.h"
#include "services/kit/in_list.h"
#include "services/kit/proto_time.h"
#include "services/kit/status_macros.h"
#include "services/kit/unique_keys.h"

namespace handover::store {

using kit::Conn;
using kit::Row;
using kit::SqlParam;

namespace {

constexpr kit::UniqueKeys kCaseKeys{{
    {"one_case_per_unit", absl::StatusCode::kAlreadyExists,
     "handover_case.unit: the unit already has a handover case"},
}};
constexpr kit::UniqueKeys kSlotKeys{{
    {"inspector_slot", absl::StatusCode::kFailedPrecondition,
     "appointment: the inspector is booked for that slot; choose another"},
}};

constexpr char kBatchColumns[] = "id, site, spec, version, created_at";

absl::StatusOr<BatchRow> BatchOf(const Row& r) {
  BatchRow b;
  b.id = r.Int(0);
  b.site = r.Str(1);
  ASSIGN_OR_RETURN(b.spec, kit::ParseStored<v1::HandoverBatch>(r.Str(2)));
  b.version = r.Int(3);
  b.spec.set_name(absl::StrCat("sites/", b.site, "/handoverBatches/", b.id));
  b.spec.set_etag(kit::Etag(b.version));
  kit::SetTimestamp(b.spec.mutable_create_time(), r.Time(4));
  return b;
}

constexpr char kCaseColumns[] = "id, site, batch_id, state, body, version, created_at";

absl::StatusOr<CaseRow> CaseOf(const Row& r) {
  CaseRow row;
  row.id = r.Int(0);
  row.site = r.Str(1);
  row.batch_id = r.Int(2);
  ASSIGN_OR_RETURN(row.body, kit::ParseStored<v1::HandoverCase>(r.Str(4)));
  row.body.set_state(static_cast<v1::CaseState>(r.Int(3)));
  row.version = r.Int(5);
  row.body.set_name(absl::StrCat("sites/", row.site, "/handoverCases/", row.id));
  row.body.set_batch(absl::StrCat("sites/", row.site, "/handoverBatches/", row.batch_id));
  row.body.set_etag(kit::Etag(row.version));
  kit::SetTimestamp(row.body.mutable_create_time(), r.Time(6));
  return row;
}

// The body as stored: what the columns and the name already say is left out.
std::string StoredBody(v1::HandoverCase body) {
  body.clear_name();
  body.clear_batch();
  body.clear_etag();
  body.clear_create_time();
  body.clear_effects_pending();
  body.clear_needs_attention();
  return body.SerializeAsString();
}

}  // namespace

absl::StatusOr<int64_t> InsertBatch(Conn& c, const std::string& site, const v1::HandoverBatch& spec,
                                    const std::string& actor, absl::Time now) {
  v1::HandoverBatch stored = spec;
  stored.clear_name();
  stored.clear_etag();
  stored.clear_create_time();
  return c.InsertReturningId(
      "INSERT INTO handover_batches (site, spec, created_at, created_by) VALUES (?, ?, ?, ?) "
      "RETURNING id",
      {site, stored.SerializeAsString(), now, actor});
}

absl::StatusOr<BatchRow> ReadBatch(Conn& c, const std::string& site, int64_t id) {
  ASSIGN_OR_RETURN(Row r, c.QueryOne(absl::StrCat("SELECT ", kBatchColumns,
                                                  " FROM handover_batches WHERE site = ? AND id = ?"),
                                     {site, id}, "handover batch not found"));
  return BatchOf(r);
}

absl::StatusOr<std::vector<BatchRow>> ListBatches(Conn& c, const std::string& site, int64_t after,
                                                  int limit) {
  ASSIGN_OR_RETURN(std::vector<Row> rows,
                   c.Query(absl::StrCat("SELECT ", kBatchColumns,
                                        " FROM handover_batches WHERE site = ? AND id > ? "
                                        "ORDER BY id LIMIT ?"),
                           {site, after, limit}));
  std::vector<BatchRow> out;
  for (const Row& r : rows) {
    ASSIGN_OR_RETURN(BatchRow b, BatchOf(r));
    out.push_back(std::move(b));
  }
  return out;
}

absl::StatusOr<int64_t> InsertCase(Conn& c, const std::string& site, int64_t batch_id,
                                   const v1::HandoverCase& body, absl::Time now) {
  return kCaseKeys.Map(c.InsertReturningId(
      "INSERT INTO handover_cases (site, batch_id, unit, state, body, created_at, updated_at) "
      "VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id",
      {site, batch_id, body.unit(), static_cast<int>(body.state()), StoredBody(body), now, now}));
}

absl::StatusOr<int64_t> CreateCase(Conn& c, const std::string& site, int64_t batch_id,
                                   const v1::HandoverCase& body, const std::string& actor,
                                   const std::string& detail, absl::Time now) {
  ASSIGN_OR_RETURN(int64_t id, InsertCase(c, site, batch_id, body, now));
  RETURN_IF_ERROR(AddEvent(c, site, id, "created", v1::CASE_STATE_UNSPECIFIED, body.state(), actor,
                           detail, now));
  return id;
}

absl::StatusOr<std::map<std::string, int64_t>> CaseBatchByUnit(Conn& c, const std::string& site) {
  ASSIGN_OR_RETURN(std::vector<Row> rows,
                   c.Query("SELECT unit, batch_id FROM handover_cases WHERE site = ?", {site}));
  std::map<std::string, int64_t> out;
  for (const Row& r : rows) out.emplace(r.Str(0), r.Int(1));
  return out;
}

absl::StatusOr<CaseRow> ReadCase(Conn& c, const std::string& site, int64_t id, bool for_update) {
  ASSIGN_OR_RETURN(Row r, c.QueryOne(absl::StrCat("SELECT ", kCaseColumns,
                                                  " FROM handover_cases WHERE site = ? AND id = ?",
                                                  for_update ? " FOR UPDATE" : ""),
                                     {site, id}, "handover case not found"));
  return CaseOf(r);
}

absl::Status SaveCase(Conn& c, CaseRow& row, absl::Time now) {
  ASSIGN_OR_RETURN(kit::ExecResult res,
                   c.Exec("UPDATE handover_cases SET state = ?, body = ?, version = version + 1, "
                          "updated_at = ? WHERE id = ? AND version = ?",
                          {static_cast<int>(row.body.state()), StoredBody(row.body), now, row.id,
                           row.version}));
  // The caller holds the row lock, so the version cannot have moved.
  if (res.affected_rows != 1) return absl::AbortedError("the case changed meanwhile; try again");
  row.version += 1;
  row.body.set_etag(kit::Etag(row.version));
  return absl::OkStatus();
}

absl::StatusOr<std::vector<CaseRow>> ListCases(Conn& c, const CaseFilter& f, int64_t after,
                                               int limit) {
  std::string sql =
      absl::StrCat("SELECT ", kCaseColumns, " FROM handover_cases WHERE site = ? AND id > ?");
  std::vector<SqlParam> params = {f.site, after};
  if (f.batch_id != 0) {
    sql += " AND batch_id = ?";
    params.emplace_back(f.batch_id);
  }
  if (f.state != v1::CASE_STATE_UNSPECIFIED) {
    sql += " AND state = ?";
    params.emplace_back(static_cast<int>(f.state));
  }
  sql += " ORDER BY id LIMIT ?";
  params.emplace_back(limit);
  ASSIGN_OR_RETURN(std::vector<Row> rows, c.Query(sql, params));
  std::vector<CaseRow> out;
  for (const Row& r : rows) {
    ASSIGN_OR_RETURN(CaseRow row, CaseOf(r));
    out.push_back(std::move(row));
  }
  return out;
}

absl::Status BookSlot(Conn& c, const std::string& site, int64_t case_id,
                      const std::string& inspector, absl::Time slot_start) {
  RETURN_IF_ERROR(FreeSlot(c, case_id));
  return kSlotKeys.Map(c.Exec("INSERT INTO handover_appointments (case_id, site, inspector, "
                              "slot_start) VALUES (?, ?, ?, ?)",
                              {case_id, site, inspector, slot_start})
                           .status());
}

absl::Status FreeSlot(Conn& c, int64_t case_id) {
  return c.Exec("DELETE FROM handover_appointments WHERE case_id = ?", {case_id}).status();
}

// Table and column names come from the two TimelineTable constants, never
// from a request; the values are bound.
absl::Status AddTimelineLine(Conn& c, const TimelineTable& t, const std::string& site,
                             int64_t owner_id, const std::string& type, int from, int to,
                             const std::string& actor, const std::string& detail, absl::Time now) {
  return c
      .Exec(absl::StrCat("INSERT INTO ", t.table, " (site, ", t.owner,
                         ", type, from_state, to_state, actor, detail, created_at) "
                         "VALUES (?, ?, ?, ?, ?, ?, ?, ?)"),
            {site, owner_id, type, from, to, actor, detail.substr(0, 1000), now})
      .status();
}

absl::StatusOr<std::vector<Row>> TimelineRows(Conn& c, const TimelineTable& t, int64_t owner_id,
                                              int64_t after, int limit) {
  return c.Query(absl::StrCat("SELECT id, type, from_state, to_state, actor, detail, created_at "
                              "FROM ", t.table, " WHERE ", t.owner, " = ? AND id > ? "
                              "ORDER BY id LIMIT ?"),
                 {owner_id, after, limit});
}

absl::Status AddEvent(Conn& c, const std::string& site, int64_t case_id, const std::string& type,
                      v1::CaseState from, v1::CaseState to, const std::string& actor,
                      const std::string& detail, absl::Time now) {
  return AddTimelineLine(c, kCaseTimeline, site, case_id, type, from, to, actor, detail, now);
}

absl::StatusOr<std::vector<v1::CaseEvent>> ListEvents(Conn& c, int64_t case_id, int64_t after,
                                                      int limit) {
  ASSIGN_OR_RETURN(std::vector<Row> rows, TimelineRows(c, kCaseTimeline, case_id, after, limit));
  return TimelineEvents<v1::CaseEvent>(rows);
}

absl::StatusOr<std::vector<BatchEvent>> EventsOfBatch(Conn& c, const std::string& site,
                                                      int64_t batch_id,
                                                      const std::vector<std::string>& types) {
  if (types.empty()) return std::vector<BatchEvent>();
  std::string in_list = "?";
  std::vector<SqlParam> params = {site, batch_id};
  for (size_t i = 0; i < types.size(); ++i) {
    if (i > 0) in_list += ", ?";
    params.emplace_back(types[i]);
  }
  ASSIGN_OR_RETURN(std::vector<Row> rows,
                   c.Query(absl::StrCat("SELECT e.case_id, e.type, e.created_at "
                                        "FROM handover_cases k "
                                        "JOIN handover_case_events e ON e.case_id = k.id "
                                        "WHERE k.site = ? AND k.batch_id = ? AND e.type IN (",
                                        in_list, ") ORDER BY e.id"),
                           params));
  std::vector<BatchEvent> out;
  out.reserve(rows.size());
  for (const Row& r : rows) out.push_back({r.Int(0), r.Str(1), r.Time(2)});
  return out;
}

// Table and column names below come from the two EffectTable constants,
// never from a request; the values are bound.
absl::Status AddEffect(Conn& c, const EffectTable& t, int64_t owner_id, int64_t outbox_id,
                       const std::string& what, const std::string& subject) {
  return c
      .Exec(absl::StrCat("INSERT INTO ", t.table, " (", t.owner,
                         ", outbox_id, what, subject) VALUES (?, ?, ?, ?)"),
            {owner_id, outbox_id, what.substr(0, 200), subject.substr(0, 200)})
      .status();
}

absl::Status SetEffectResult(Conn& c, const EffectTable& t, int64_t outbox_id,
                             const std::string& result) {
  return c
      .Exec(absl::StrCat("UPDATE ", t.table, " SET result = ? WHERE outbox_id = ?"),
            {result.substr(0, 200), outbox_id})
      .status();
}

absl::StatusOr<std::vector<EffectState>> EffectsOf(Conn& c, int64_t case_id) {
  ASSIGN_OR_RETURN(EffectsByCase by_case, EffectsOfOwners(c, kCaseEffects, {case_id}));
  auto it = by_case.find(case_id);
  if (it == by_case.end()) return std::vector<EffectState>();
  return std::move(it->second);
}

absl::StatusOr<EffectsByCase> EffectsOfOwners(Conn& c, const EffectTable& t,
                                              const std::vector<int64_t>& owner_ids) {
  EffectsByCase out;
  for (size_t begin = 0; begin < owner_ids.size(); begin += kit::kMaxInList) {
    const size_t n = std::min(kit::kMaxInList, owner_ids.size() - begin);
    std::vector<SqlParam> params;
    const std::string in_list =
        kit::PaddedInList(absl::MakeConstSpan(owner_ids).subspan(begin, n), &params);
    // Delivered outbox rows are purged after their retention: a row that is
    // gone was delivered.
    ASSIGN_OR_RETURN(
        std::vector<Row> rows,
        c.Query(absl::StrCat("SELECT e.", t.owner, ", e.what, "
                             "o.id IS NULL OR o.delivered_at IS NOT NULL, "
                             "COALESCE(o.dead, FALSE), COALESCE(o.last_error, ''), e.subject, "
                             "e.result FROM ", t.table, " e "
                             "LEFT JOIN outbox o ON o.id = e.outbox_id "
                             "WHERE e.", t.owner, " IN (",
                             in_list, ") ORDER BY e.", t.owner, ", e.outbox_id"),
                params));
    for (const Row& r : rows) {
      out[r.Int(0)].push_back(
          {r.Str(1), r.Int(2) != 0, r.Int(3) != 0, r.Str(4), r.Str(5), r.Str(6)});
    }
  }
  return out;
}

}  // namespace handover::store
