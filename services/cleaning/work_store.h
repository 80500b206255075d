#ifndef ESTATE_SERVICES_CLEANING_WORK_STORE_H_
#define ESTATE_SERVICES_CLEANING_WORK_STORE_H_

// Every SQL statement of the cleaning plan: settings, teams, shifts, zones,
// task templates, tasks, inspections, and the report's sums. Functions run
// in the caller's transaction; rows come back as API messages, names set.

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "estate/cleaning/v1/work.pb.h"
#include "services/kit/db.h"

namespace cleaning::store {

namespace v1 = ::estate::cleaning::v1;

// The site's settings, or the defaults (UTC, CNY, version 0) if never set.
struct Settings {
  std::string time_zone = "UTC";
  std::string currency = "CNY";
  int64_t version = 0;
};
absl::StatusOr<Settings> ReadSettings(kit::Conn& c, const std::string& site, bool for_update);
absl::Status WriteSettings(kit::Conn& c, const std::string& site, Settings& s);
// Makes sure the site has its settings row (with the defaults), so that it
// can be locked: shared by every ledger write (which must not be dated into
// a closed period), exclusive by period closes and settings updates.
absl::Status LockSettings(kit::Conn& c, const std::string& site, bool exclusive);
// Every site that has cleaning settings or a task template.
absl::StatusOr<std::vector<std::string>> Sites(kit::Conn& c);

absl::StatusOr<int64_t> InsertTeam(kit::Conn& c, const std::string& site, v1::Team& team,
                                   const std::string& actor, absl::Time now);
absl::StatusOr<std::vector<std::pair<int64_t, v1::Team>>> ListTeams(kit::Conn& c,
                                                                    const std::string& site,
                                                                    int64_t after, int limit);
// NOT_FOUND naming `what` unless the site has the team / shift / zone.
absl::Status CheckTeam(kit::Conn& c, const std::string& site, int64_t id);

struct ShiftRow {
  int64_t id = 0;
  int start = 0;  // minute of day
  int end = 0;
  v1::Shift shift;
};
absl::StatusOr<int64_t> InsertShift(kit::Conn& c, const std::string& site, v1::Shift& shift,
                                    int start, int end, absl::Time now);
absl::StatusOr<ShiftRow> ReadShift(kit::Conn& c, const std::string& site, int64_t id);
absl::StatusOr<std::vector<ShiftRow>> ListShifts(kit::Conn& c, const std::string& site,
                                                 int64_t after, int limit);

struct ZoneRow {
  int64_t id = 0;
  int64_t team_id = 0;  // 0: none
  int64_t version = 0;
  v1::Zone zone;
};
absl::StatusOr<int64_t> InsertZone(kit::Conn& c, const std::string& site, v1::Zone& zone,
                                   int64_t team_id, const std::string& actor, absl::Time now);
absl::StatusOr<ZoneRow> ReadZone(kit::Conn& c, const std::string& site, int64_t id,
                                 bool for_update);
absl::Status UpdateZone(kit::Conn& c, ZoneRow& row);
absl::StatusOr<std::vector<ZoneRow>> ListZones(kit::Conn& c, const std::string& site,
                                               int64_t after, int limit);

struct TemplateRow {
  int64_t id = 0;
  int64_t zone_id = 0;
  int64_t shift_id = 0;
  v1::TaskTemplate tmpl;
};
absl::StatusOr<int64_t> InsertTemplate(kit::Conn& c, const std::string& site,
                                       v1::TaskTemplate& tmpl, int64_t zone_id, int64_t shift_id,
                                       absl::Time now);
absl::StatusOr<std::vector<TemplateRow>> ListTemplates(kit::Conn& c, const std::string& site,
                                                       int64_t after, int limit);

struct NewTask {
  int64_t template_id = 0;
  int64_t zone_id = 0;
  int64_t team_id = 0;
  int64_t shift_id = 0;
  std::string title;
  absl::CivilDay day;
  absl::Time due;
  absl::Time miss;
};
// Inserts the tasks a template and day does not have yet; returns how many.
absl::StatusOr<int64_t> InsertTasks(kit::Conn& c, const std::string& site,
                                    const std::vector<NewTask>& tasks);
struct TaskFilter {
  std::string site;
  absl::CivilDay from, to;
  int64_t zone_id = 0;
  int64_t team_id = 0;
  v1::TaskState state = v1::TASK_STATE_UNSPECIFIED;
};
absl::StatusOr<std::vector<std::pair<int64_t, v1::Task>>> ListTasks(kit::Conn& c,
                                                                    const TaskFilter& f,
                                                                    int64_t after, int limit);
absl::StatusOr<v1::Task> ReadTask(kit::Conn& c, const std::string& site, int64_t id,
                                  bool for_update);
absl::Status CompleteTask(kit::Conn& c, int64_t id, const std::string& done_by, absl::Time now);
// PENDING tasks whose miss time has passed become MISSED; returns how many.
absl::StatusOr<int64_t> MarkMissed(kit::Conn& c, absl::Time now);

absl::StatusOr<int64_t> InsertInspection(kit::Conn& c, const std::string& site,
                                         v1::Inspection& inspection, int64_t zone_id,
                                         int64_t team_id, const std::string& actor,
                                         absl::Time now);
absl::StatusOr<v1::Inspection> ReadInspection(kit::Conn& c, const std::string& site, int64_t id);
absl::StatusOr<std::vector<std::pair<int64_t, v1::Inspection>>> ListInspections(
    kit::Conn& c, const std::string& site, int64_t zone_id, bool failed_only, int64_t after,
    int limit);

// Sums for the report, keyed by (zone id, team id).
struct InspectionSums {
  int64_t zone_id = 0, team_id = 0;
  int64_t count = 0, passed = 0, score_centi_sum = 0;
};
absl::StatusOr<std::vector<InspectionSums>> SumInspections(kit::Conn& c, const std::string& site,
                                                           absl::Time from, absl::Time to);
struct TaskSums {
  int64_t zone_id = 0, team_id = 0;
  int64_t count = 0, done = 0, on_time = 0, missed = 0;
};
absl::StatusOr<std::vector<TaskSums>> SumTasks(kit::Conn& c, const std::string& site,
                                               absl::CivilDay from, absl::CivilDay to);

}  // namespace cleaning::store

#endif  // ESTATE_SERVICES_CLEANING_WORK_STORE_H_
