#include "services/cleaning/work_store.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "services/cleaning/schedule.h"
#include "services/kit/bulk_insert.h"
#include "services/cleaning/store_names.h"
#include "services/kit/etag.h"
#include "services/kit/proto_time.h"
#include "services/kit/status_macros.h"

namespace cleaning::store {

using kit::Conn;
using kit::Row;
using kit::SqlParam;

namespace {

v1::Team TeamOf(const Row& r) {
  v1::Team t;
  t.set_name(Name(r.Str(1), "teams", r.Int(0)));
  t.set_display_name(r.Str(2));
  t.set_monitor(r.Str(3));
  for (absl::string_view m : absl::StrSplit(r.Str(4), '\n', absl::SkipEmpty())) {
    t.add_members(std::string(m));
  }
  kit::SetTimestamp(t.mutable_create_time(), r.Time(5));
  return t;
}

ShiftRow ShiftOf(const Row& r) {
  ShiftRow s;
  s.id = r.Int(0);
  s.start = static_cast<int>(r.Int(3));
  s.end = static_cast<int>(r.Int(4));
  s.shift.set_name(Name(r.Str(1), "shifts", s.id));
  s.shift.set_display_name(r.Str(2));
  s.shift.set_start(FormatClock(s.start));
  s.shift.set_end(FormatClock(s.end));
  kit::SetTimestamp(s.shift.mutable_create_time(), r.Time(5));
  return s;
}

constexpr char kZoneColumns[] =
    "id, site, display_name, building, team_id, standard, version, created_at";

ZoneRow ZoneOf(const Row& r) {
  ZoneRow z;
  z.id = r.Int(0);
  z.team_id = r.IsNull(4) ? 0 : r.Int(4);
  z.version = r.Int(6);
  z.zone.set_name(Name(r.Str(1), "zones", z.id));
  z.zone.set_display_name(r.Str(2));
  z.zone.set_building(r.Str(3));
  if (z.team_id != 0) z.zone.set_team(Name(r.Str(1), "teams", z.team_id));
  z.zone.mutable_standard()->ParseFromString(r.Str(5));
  z.zone.set_etag(kit::Etag(z.version));
  kit::SetTimestamp(z.zone.mutable_create_time(), r.Time(7));
  return z;
}

constexpr char kTaskColumns[] =
    "id, site, template_id, zone_id, team_id, shift_id, title, task_date, due_at, state, "
    "done_at, done_by, miss_at";

v1::Task TaskOf(const Row& r) {
  v1::Task t;
  const std::string site = r.Str(1);
  t.set_name(Name(site, "tasks", r.Int(0)));
  t.set_template_(Name(site, "taskTemplates", r.Int(2)));
  t.set_zone(Name(site, "zones", r.Int(3)));
  if (!r.IsNull(4)) t.set_team(Name(site, "teams", r.Int(4)));
  t.set_shift(Name(site, "shifts", r.Int(5)));
  t.set_title(r.Str(6));
  t.set_date(r.Str(7));
  kit::SetTimestamp(t.mutable_due_time(), r.Time(8));
  t.set_state(static_cast<v1::TaskState>(r.Int(9)));
  if (!r.IsNull(10)) {
    kit::SetTimestamp(t.mutable_done_time(), r.Time(10));
    t.set_on_time(r.Time(10) <= r.Time(8));
  }
  t.set_done_by(r.Str(11));
  kit::SetTimestamp(t.mutable_miss_time(), r.Time(12));
  return t;
}

}  // namespace

absl::StatusOr<Settings> ReadSettings(Conn& c, const std::string& site, bool for_update) {
  ASSIGN_OR_RETURN(std::vector<Row> rows,
                   c.Query(absl::StrCat("SELECT time_zone, currency, version FROM "
                                        "cleaning_settings WHERE site = ?",
                                        for_update ? " FOR UPDATE" : ""),
                           {site}));
  Settings s;
  if (!rows.empty()) {
    s.time_zone = rows[0].Str(0);
    s.currency = rows[0].Str(1);
    s.version = rows[0].Int(2);
  }
  return s;
}

absl::Status WriteSettings(Conn& c, const std::string& site, Settings& s) {
  s.version += 1;
  return c
      .Exec("INSERT INTO cleaning_settings (site, time_zone, currency, version) "
            "VALUES (?, ?, ?, ?) ON DUPLICATE KEY UPDATE time_zone = VALUES(time_zone), "
            "currency = VALUES(currency), version = VALUES(version)",
            {site, s.time_zone, s.currency, s.version})
      .status();
}

absl::Status LockSettings(Conn& c, const std::string& site, bool exclusive) {
  const std::string lock_sql = absl::StrCat("SELECT site FROM cleaning_settings WHERE site = ?",
                                            exclusive ? " FOR UPDATE" : " LOCK IN SHARE MODE");
  ASSIGN_OR_RETURN(std::vector<Row> rows, c.Query(lock_sql, {site}));
  if (!rows.empty()) return absl::OkStatus();
  // First use of the site: the row is made once (an upsert on every write
  // would lock it exclusively and put all of a site's writes in one line).
  const Settings defaults;
  RETURN_IF_ERROR(c.Exec("INSERT INTO cleaning_settings (site, time_zone, currency, version) "
                         "VALUES (?, ?, ?, 0) ON DUPLICATE KEY UPDATE site = site",
                         {site, defaults.time_zone, defaults.currency})
                      .status());
  return c.QueryOne(lock_sql, {site}, "settings not found").status();
}

absl::StatusOr<std::vector<std::string>> Sites(Conn& c) {
  ASSIGN_OR_RETURN(std::vector<Row> rows,
                   c.Query("SELECT site FROM cleaning_settings UNION SELECT DISTINCT site FROM "
                           "task_templates UNION SELECT DISTINCT site FROM items",
                           {}));
  std::vector<std::string> out;
  for (const Row& r : rows) out.push_back(r.Str(0));
  return out;
}

absl::StatusOr<int64_t> InsertTeam(Conn& c, const std::string& site, v1::Team& t,
                                   const std::string& actor, absl::Time now) {
  ASSIGN_OR_RETURN(int64_t id,
                   c.InsertReturningId("INSERT INTO teams (site, display_name, monitor, members, "
                                       "created_at, created_by) VALUES (?, ?, ?, ?, ?, ?) "
                                       "RETURNING id",
                                       {site, t.display_name(), t.monitor(),
                                        absl::StrJoin(t.members(), "\n"), now, actor}));
  t.set_name(Name(site, "teams", id));
  kit::SetTimestamp(t.mutable_create_time(), now);
  return id;
}

absl::StatusOr<std::vector<std::pair<int64_t, v1::Team>>> ListTeams(Conn& c,
                                                                    const std::string& site,
                                                                    int64_t after, int limit) {
  ASSIGN_OR_RETURN(std::vector<Row> rows,
                   c.Query("SELECT id, site, display_name, monitor, members, created_at FROM "
                           "teams WHERE site = ? AND id > ? ORDER BY id LIMIT ?",
                           {site, after, limit}));
  std::vector<std::pair<int64_t, v1::Team>> out;
  for (const Row& r : rows) out.emplace_back(r.Int(0), TeamOf(r));
  return out;
}

absl::Status CheckTeam(Conn& c, const std::string& site, int64_t id) {
  return c.QueryOne("SELECT id FROM teams WHERE site = ? AND id = ?", {site, id}, "team not found")
      .status();
}

absl::StatusOr<int64_t> InsertShift(Conn& c, const std::string& site, v1::Shift& s, int start,
                                    int end, absl::Time now) {
  ASSIGN_OR_RETURN(int64_t id,
                   c.InsertReturningId("INSERT INTO shifts (site, display_name, start_minute, "
                                       "end_minute, created_at) VALUES (?, ?, ?, ?, ?) "
                                       "RETURNING id",
                                       {site, s.display_name(), start, end, now}));
  s.set_name(Name(site, "shifts", id));
  s.set_start(FormatClock(start));
  s.set_end(FormatClock(end));
  kit::SetTimestamp(s.mutable_create_time(), now);
  return id;
}

absl::StatusOr<ShiftRow> ReadShift(Conn& c, const std::string& site, int64_t id) {
  ASSIGN_OR_RETURN(Row r, c.QueryOne("SELECT id, site, display_name, start_minute, end_minute, "
                                     "created_at FROM shifts WHERE site = ? AND id = ?",
                                     {site, id}, "shift not found"));
  return ShiftOf(r);
}

absl::StatusOr<std::vector<ShiftRow>> ListShifts(Conn& c, const std::string& site, int64_t after,
                                                 int limit) {
  ASSIGN_OR_RETURN(std::vector<Row> rows,
                   c.Query("SELECT id, site, display_name, start_minute, end_minute, created_at "
                           "FROM shifts WHERE site = ? AND id > ? ORDER BY id LIMIT ?",
                           {site, after, limit}));
  std::vector<ShiftRow> out;
  for (const Row& r : rows) out.push_back(ShiftOf(r));
  return out;
}

absl::StatusOr<int64_t> InsertZone(Conn& c, const std::string& site, v1::Zone& z, int64_t team_id,
                                   const std::string& actor, absl::Time now) {
  ASSIGN_OR_RETURN(int64_t id,
                   c.InsertReturningId("INSERT INTO zones (site, display_name, building, team_id, "
                                       "standard, version, created_at, created_by) "
                                       "VALUES (?, ?, ?, ?, ?, 1, ?, ?) RETURNING id",
                                       {site, z.display_name(), z.building(), IdOrNull(team_id),
                                        z.standard().SerializeAsString(), now, actor}));
  z.set_name(Name(site, "zones", id));
  z.set_etag(kit::Etag(1));
  kit::SetTimestamp(z.mutable_create_time(), now);
  return id;
}

absl::StatusOr<ZoneRow> ReadZone(Conn& c, const std::string& site, int64_t id, bool for_update) {
  ASSIGN_OR_RETURN(Row r, c.QueryOne(absl::StrCat("SELECT ", kZoneColumns,
                                                  " FROM zones WHERE site = ? AND id = ?",
                                                  for_update ? " FOR UPDATE" : ""),
                                     {site, id}, "zone not found"));
  return ZoneOf(r);
}

absl::Status UpdateZone(Conn& c, ZoneRow& row) {
  row.version += 1;
  RETURN_IF_ERROR(c.Exec("UPDATE zones SET display_name = ?, building = ?, team_id = ?, "
                         "standard = ?, version = ? WHERE id = ?",
                         {row.zone.display_name(), row.zone.building(), IdOrNull(row.team_id),
                          row.zone.standard().SerializeAsString(), row.version, row.id})
                      .status());
  row.zone.set_etag(kit::Etag(row.version));
  return absl::OkStatus();
}

absl::StatusOr<std::vector<ZoneRow>> ListZones(Conn& c, const std::string& site, int64_t after,
                                               int limit) {
  ASSIGN_OR_RETURN(std::vector<Row> rows,
                   c.Query(absl::StrCat("SELECT ", kZoneColumns, " FROM zones WHERE site = ? "
                                                                 "AND id > ? ORDER BY id LIMIT ?"),
                           {site, after, limit}));
  std::vector<ZoneRow> out;
  for (const Row& r : rows) out.push_back(ZoneOf(r));
  return out;
}

absl::StatusOr<int64_t> InsertTemplate(Conn& c, const std::string& site, v1::TaskTemplate& t,
                                       int64_t zone_id, int64_t shift_id, absl::Time now) {
  ASSIGN_OR_RETURN(int64_t id,
                   c.InsertReturningId("INSERT INTO task_templates (site, zone_id, shift_id, "
                                       "title, schedule, created_at) VALUES (?, ?, ?, ?, ?, ?) "
                                       "RETURNING id",
                                       {site, zone_id, shift_id, t.title(),
                                        t.schedule().SerializeAsString(), now}));
  t.set_name(Name(site, "taskTemplates", id));
  kit::SetTimestamp(t.mutable_create_time(), now);
  return id;
}

absl::StatusOr<std::vector<TemplateRow>> ListTemplates(Conn& c, const std::string& site,
                                                       int64_t after, int limit) {
  ASSIGN_OR_RETURN(std::vector<Row> rows,
                   c.Query("SELECT id, site, zone_id, shift_id, title, schedule, created_at "
                           "FROM task_templates WHERE site = ? AND id > ? ORDER BY id LIMIT ?",
                           {site, after, limit}));
  std::vector<TemplateRow> out;
  for (const Row& r : rows) {
    TemplateRow t;
    t.id = r.Int(0);
    t.zone_id = r.Int(2);
    t.shift_id = r.Int(3);
    t.tmpl.set_name(Name(site, "taskTemplates", t.id));
    t.tmpl.set_zone(Name(site, "zones", t.zone_id));
    t.tmpl.set_shift(Name(site, "shifts", t.shift_id));
    t.tmpl.set_title(r.Str(4));
    t.tmpl.mutable_schedule()->ParseFromString(r.Str(5));
    kit::SetTimestamp(t.tmpl.mutable_create_time(), r.Time(6));
    out.push_back(std::move(t));
  }
  return out;
}

absl::StatusOr<int64_t> InsertTasks(Conn& c, const std::string& site,
                                    const std::vector<NewTask>& tasks) {
  if (tasks.empty()) return 0;
  std::vector<SqlParam> params;
  params.reserve(tasks.size() * 10);
  for (const NewTask& t : tasks) {
    for (SqlParam p : {SqlParam(site), SqlParam(t.template_id), SqlParam(t.zone_id),
                       IdOrNull(t.team_id), SqlParam(t.shift_id), SqlParam(t.title),
                       SqlParam(Day(t.day)), SqlParam(t.due), SqlParam(t.miss),
                       SqlParam(static_cast<int>(v1::PENDING))}) {
      params.push_back(std::move(p));
    }
  }
  // A day's task that exists already stays as it is (id = id changes nothing,
  // so it is not counted as affected).
  return kit::InsertRows(c,
                         "INSERT INTO tasks (site, template_id, zone_id, team_id, shift_id, title, "
                         "task_date, due_at, miss_at, state) VALUES ",
                         10, params, " ON DUPLICATE KEY UPDATE id = id");
}

absl::StatusOr<std::vector<std::pair<int64_t, v1::Task>>> ListTasks(Conn& c, const TaskFilter& f,
                                                                    int64_t after, int limit) {
  std::string sql = absl::StrCat("SELECT ", kTaskColumns,
                                 " FROM tasks WHERE site = ? AND task_date BETWEEN ? AND ? "
                                 "AND id > ?");
  std::vector<SqlParam> params = {f.site, Day(f.from), Day(f.to), after};
  if (f.zone_id != 0) {
    sql += " AND zone_id = ?";
    params.emplace_back(f.zone_id);
  }
  if (f.team_id != 0) {
    sql += " AND team_id = ?";
    params.emplace_back(f.team_id);
  }
  if (f.state != v1::TASK_STATE_UNSPECIFIED) {
    sql += " AND state = ?";
    params.emplace_back(static_cast<int>(f.state));
  }
  sql += " ORDER BY id LIMIT ?";
  params.emplace_back(limit);
  ASSIGN_OR_RETURN(std::vector<Row> rows, c.Query(sql, params));
  std::vector<std::pair<int64_t, v1::Task>> out;
  for (const Row& r : rows) out.emplace_back(r.Int(0), TaskOf(r));
  return out;
}

absl::StatusOr<v1::Task> ReadTask(Conn& c, const std::string& site, int64_t id, bool for_update) {
  ASSIGN_OR_RETURN(Row r, c.QueryOne(absl::StrCat("SELECT ", kTaskColumns,
                                                  " FROM tasks WHERE site = ? AND id = ?",
                                                  for_update ? " FOR UPDATE" : ""),
                                     {site, id}, "task not found"));
  return TaskOf(r);
}

absl::Status CompleteTask(Conn& c, int64_t id, const std::string& done_by, absl::Time now) {
  return c
      .Exec("UPDATE tasks SET state = ?, done_at = ?, done_by = ? WHERE id = ?",
            {static_cast<int>(v1::DONE), now, done_by, id})
      .status();
}

absl::StatusOr<int64_t> MarkMissed(Conn& c, absl::Time now) {
  ASSIGN_OR_RETURN(kit::ExecResult r,
                   c.Exec("UPDATE tasks SET state = ? WHERE state = ? AND miss_at <= ?",
                          {static_cast<int>(v1::MISSED), static_cast<int>(v1::PENDING), now}));
  return r.affected_rows;
}

absl::StatusOr<int64_t> InsertInspection(Conn& c, const std::string& site, v1::Inspection& in,
                                         int64_t zone_id, int64_t team_id,
                                         const std::string& actor, absl::Time now) {
  kit::SetTimestamp(in.mutable_inspect_time(), now);
  ASSIGN_OR_RETURN(int64_t id,
                   c.InsertReturningId("INSERT INTO inspections (site, zone_id, team_id, body, "
                                       "score_centi, passed, inspected_at, created_by) "
                                       "VALUES (?, ?, ?, '', ?, ?, ?, ?) RETURNING id",
                                       {site, zone_id, IdOrNull(team_id), in.score_centi(),
                                        in.passed(), now, actor}));
  in.set_name(Name(site, "inspections", id));
  RETURN_IF_ERROR(c.Exec("UPDATE inspections SET body = ? WHERE id = ?",
                         {in.SerializeAsString(), id})
                      .status());
  return id;
}

absl::StatusOr<v1::Inspection> ReadInspection(Conn& c, const std::string& site, int64_t id) {
  ASSIGN_OR_RETURN(Row r, c.QueryOne("SELECT body FROM inspections WHERE site = ? AND id = ?",
                                     {site, id}, "inspection not found"));
  v1::Inspection out;
  out.ParseFromString(r.Str(0));
  return out;
}

absl::StatusOr<std::vector<std::pair<int64_t, v1::Inspection>>> ListInspections(
    Conn& c, const std::string& site, int64_t zone_id, bool failed_only, int64_t after,
    int limit) {
  std::string sql = "SELECT id, body FROM inspections WHERE site = ? AND id > ?";
  std::vector<SqlParam> params = {site, after};
  if (zone_id != 0) {
    sql += " AND zone_id = ?";
    params.emplace_back(zone_id);
  }
  if (failed_only) sql += " AND NOT passed";
  sql += " ORDER BY id LIMIT ?";
  params.emplace_back(limit);
  ASSIGN_OR_RETURN(std::vector<Row> rows, c.Query(sql, params));
  std::vector<std::pair<int64_t, v1::Inspection>> out;
  for (const Row& r : rows) {
    v1::Inspection in;
    in.ParseFromString(r.Str(1));
    out.emplace_back(r.Int(0), std::move(in));
  }
  return out;
}

absl::StatusOr<std::vector<InspectionSums>> SumInspections(Conn& c, const std::string& site,
                                                           absl::Time from, absl::Time to) {
  ASSIGN_OR_RETURN(std::vector<Row> rows,
                   c.Query("SELECT zone_id, COALESCE(team_id, 0), COUNT(*), SUM(passed), "
                           "SUM(score_centi) FROM inspections WHERE site = ? AND "
                           "inspected_at >= ? AND inspected_at < ? GROUP BY zone_id, team_id",
                           {site, from, to}));
  std::vector<InspectionSums> out;
  for (const Row& r : rows) out.push_back({r.Int(0), r.Int(1), r.Int(2), r.Int(3), r.Int(4)});
  return out;
}

absl::StatusOr<std::vector<TaskSums>> SumTasks(Conn& c, const std::string& site,
                                               absl::CivilDay from, absl::CivilDay to) {
  ASSIGN_OR_RETURN(std::vector<Row> rows,
                   c.Query("SELECT zone_id, COALESCE(team_id, 0), COUNT(*), SUM(state = ?), "
                           "SUM(state = ? AND done_at <= due_at), SUM(state = ?) FROM tasks "
                           "WHERE site = ? AND task_date BETWEEN ? AND ? GROUP BY zone_id, team_id",
                           {static_cast<int>(v1::DONE), static_cast<int>(v1::DONE),
                            static_cast<int>(v1::MISSED), site, Day(from), Day(to)}));
  std::vector<TaskSums> out;
  for (const Row& r : rows) {
    out.push_back({r.Int(0), r.Int(1), r.Int(2), r.Int(3), r.Int(4), r.Int(5)});
  }
  return out;
}

}  // namespace cleaning::store
