// The cleaning plan's RPCs: settings, zones, teams, shifts, task templates,
// tasks, inspections and the cleaning report.
#include <algorithm>
#include <map>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "estate/tickets/v1/tickets.pb.h"
#include "services/cleaning/cleaning_internal.h"
#include "services/cleaning/cleaning_service.h"
#include "services/cleaning/inspection.h"
#include "services/cleaning/schedule.h"
#include "services/cleaning/work_store.h"
#include "services/kit/errors.h"
#include "services/kit/etag.h"
#include "services/kit/idempotency.h"
#include "services/kit/list.h"
#include "services/kit/outbox.h"
#include "services/kit/paging.h"
#include "services/kit/proto_time.h"
#include "services/kit/rpc_context.h"
#include "services/kit/status_macros.h"
#include "services/kit/update_mask.h"
#include "services/kit/validate.h"

namespace cleaning {

using kit::FieldError;
using kit::ToGrpc;

namespace {

constexpr char kCreateTicket[] = "/estate.tickets.v1.TicketService/CreateTicket";
constexpr int kMaxGenerateDays = 62;

absl::Status CheckZone(const v1::Zone& z) {
  RETURN_IF_ERROR(kit::CheckText("zone.display_name", z.display_name(), 200, true));
  RETURN_IF_ERROR(kit::CheckText("zone.building", z.building(), 64, false));
  return CheckStandard("zone.standard", z.standard());
}

// What the tickets service is asked for when an inspection fails.
estate::tickets::v1::CreateTicketRequest RectificationTicket(const std::string& site,
                                                             const v1::Zone& zone,
                                                             const v1::Inspection& in) {
  estate::tickets::v1::CreateTicketRequest req;
  req.set_parent("sites/" + site);
  auto* t = req.mutable_ticket();
  t->set_kind(estate::tickets::v1::RECTIFICATION);
  t->set_channel(estate::tickets::v1::INSPECTION);
  t->set_title(absl::StrFormat("Rectify %s: scored %d.%02d, pass is %d", zone.display_name(),
                               in.score_centi() / 100, in.score_centi() % 100, in.pass_score()));
  std::string description = absl::StrCat("Inspected by ", in.inspector(), ".");
  for (const v1::ItemScore& s : in.scores()) {
    absl::StrAppend(&description, "\n", s.code(), ": ", s.score(),
                    s.note().empty() ? "" : absl::StrCat(" (", s.note(), ")"));
  }
  if (!in.note().empty()) absl::StrAppend(&description, "\n", in.note());
  for (const std::string& uri : in.photo_uris()) absl::StrAppend(&description, "\nphoto: ", uri);
  // Cut on a character boundary: a split UTF-8 sequence would make the
  // request one tickets refuses for good, and the ticket would never come.
  size_t cut = std::min<size_t>(description.size(), 8000);
  while (cut > 0 && cut < description.size() && (description[cut] & 0xC0) == 0x80) --cut;
  t->set_description(description.substr(0, cut));
  t->set_department("cleaning");
  t->add_links(in.name());
  t->add_links(zone.name());
  return req;
}

}  // namespace

grpc::Status CleaningService::GetCleaningSettings(grpc::ServerContext* ctx,
                                                  const v1::GetCleaningSettingsRequest* req,
                                                  v1::CleaningSettings* resp) {
  absl::StatusOr<std::pair<std::string, std::string>> ref =
      SiteAndKey("name", req->name(), "cleaningSettings", false);
  if (!ref.ok()) return ToGrpc(ref.status());
  const std::string site = ref->first;
  return ToGrpc(db_.Run(kit::DeadlineOf(*ctx), [&](kit::Conn& c) -> absl::Status {
    ASSIGN_OR_RETURN(store::Settings s, store::ReadSettings(c, site, false));
    resp->set_name(req->name());
    resp->set_time_zone(s.time_zone);
    resp->set_currency(s.currency);
    resp->set_etag(kit::Etag(s.version));
    return absl::OkStatus();
  }));
}

grpc::Status CleaningService::UpdateCleaningSettings(grpc::ServerContext* ctx,
                                                     const v1::UpdateCleaningSettingsRequest* req,
                                                     v1::CleaningSettings* resp) {
  absl::StatusOr<std::pair<std::string, std::string>> ref =
      SiteAndKey("settings.name", req->settings().name(), "cleaningSettings", false);
  if (!ref.ok()) return ToGrpc(ref.status());
  const std::string site = ref->first;
  RETURN_GRPC_IF_ERROR(kit::CheckRequestId(req->request_id()));
  return ToGrpc(kit::IdempotentWrite(
      db_, kit::DeadlineOf(*ctx), "UpdateCleaningSettings", req->request_id(), *req, resp,
      [&](kit::Conn& c) -> absl::Status {
        RETURN_IF_ERROR(store::LockSettings(c, site, true));
        ASSIGN_OR_RETURN(store::Settings s, store::ReadSettings(c, site, false));
        RETURN_IF_ERROR(
            kit::CheckEtag("settings.etag", req->settings().etag(), s.version, "settings"));
        v1::CleaningSettings now;
        now.set_time_zone(s.time_zone);
        now.set_currency(s.currency);
        ASSIGN_OR_RETURN(std::vector<std::string> changed,
                         kit::ApplyUpdateMask(req->settings(), req->update_mask(),
                                              {"time_zone", "currency"}, &now));
        absl::TimeZone tz;
        if (!absl::LoadTimeZone(now.time_zone(), &tz) || now.time_zone().empty()) {
          return FieldError("settings.time_zone", "an IANA time zone such as Asia/Shanghai");
        }
        if (now.currency().size() != 3 || !absl::ascii_isupper(now.currency()[0]) ||
            !absl::ascii_isupper(now.currency()[1]) || !absl::ascii_isupper(now.currency()[2])) {
          return FieldError("settings.currency", "an ISO 4217 code such as CNY");
        }
        if (now.currency() != s.currency) {
          ASSIGN_OR_RETURN(std::vector<kit::Row> moves,
                           c.Query("SELECT id FROM stock_moves WHERE site = ? LIMIT 1", {site}));
          if (!moves.empty()) {
            return absl::FailedPreconditionError(
                "settings.currency: the ledger already holds values in the old currency");
          }
        }
        s.time_zone = now.time_zone();
        s.currency = now.currency();
        if (!changed.empty()) RETURN_IF_ERROR(store::WriteSettings(c, site, s));
        resp->set_name(req->settings().name());
        resp->set_time_zone(s.time_zone);
        resp->set_currency(s.currency);
        resp->set_etag(kit::Etag(s.version));
        return absl::OkStatus();
      }));
}

grpc::Status CleaningService::CreateZone(grpc::ServerContext* ctx, const v1::CreateZoneRequest* req,
                                         v1::Zone* resp) {
  absl::StatusOr<std::string> site = kit::ParseSiteParent("parent", req->parent());
  if (!site.ok()) return ToGrpc(site.status());
  RETURN_GRPC_IF_ERROR(kit::CheckRequestId(req->request_id()));
  RETURN_GRPC_IF_ERROR(CheckZone(req->zone()));
  absl::StatusOr<int64_t> team = OptionalIdIn("zone.team", req->zone().team(), "teams", *site);
  if (!team.ok()) return ToGrpc(team.status());
  const std::string actor = kit::CallerOf(*ctx);
  return ToGrpc(kit::IdempotentWrite(
      db_, kit::DeadlineOf(*ctx), "CreateZone", req->request_id(), *req, resp,
      [&](kit::Conn& c) -> absl::Status {
        if (*team != 0) RETURN_IF_ERROR(store::CheckTeam(c, *site, *team));
        v1::Zone z = req->zone();
        RETURN_IF_ERROR(store::InsertZone(c, *site, z, *team, actor, clock_.Now()).status());
        *resp = z;
        return absl::OkStatus();
      }));
}

grpc::Status CleaningService::GetZone(grpc::ServerContext* ctx, const v1::GetZoneRequest* req,
                                      v1::Zone* resp) {
  return ToGrpc(kit::GetOne(
      db_, kit::DeadlineOf(*ctx), req->name(), "zones",
      [&](kit::Conn& c, const kit::SiteId& ref) {
        return store::ReadZone(c, ref.site, ref.id, false);
      },
      [&](const store::ZoneRow& z) { *resp = z.zone; }));
}

grpc::Status CleaningService::ListZones(grpc::ServerContext* ctx, const v1::ListZonesRequest* req,
                                        v1::ListZonesResponse* resp) {
  return ToGrpc(kit::ListPage(
      db_, kit::DeadlineOf(*ctx), *req, resp->mutable_next_page_token(),
      [&](kit::Conn& c, const std::string& site, const kit::Page& page) {
        return store::ListZones(c, site, page.after, page.size + 1);
      },
      [](const auto& r) { return r.id; },
      [&](const store::ZoneRow& z) { *resp->add_zones() = z.zone; }));
}

grpc::Status CleaningService::UpdateZone(grpc::ServerContext* ctx, const v1::UpdateZoneRequest* req,
                                         v1::Zone* resp) {
  absl::StatusOr<kit::SiteId> ref = kit::ParseSiteId("zone.name", req->zone().name(), "zones");
  if (!ref.ok()) return ToGrpc(ref.status());
  RETURN_GRPC_IF_ERROR(kit::CheckRequestId(req->request_id()));
  return ToGrpc(kit::IdempotentWrite(
      db_, kit::DeadlineOf(*ctx), "UpdateZone", req->request_id(), *req, resp,
      [&](kit::Conn& c) -> absl::Status {
        ASSIGN_OR_RETURN(store::ZoneRow row, store::ReadZone(c, ref->site, ref->id, true));
        RETURN_IF_ERROR(kit::CheckEtag("zone.etag", req->zone().etag(), row.version, "zone"));
        ASSIGN_OR_RETURN(std::vector<std::string> changed,
                         kit::ApplyUpdateMask(req->zone(), req->update_mask(),
                                              {"display_name", "building", "team", "standard"},
                                              &row.zone));
        RETURN_IF_ERROR(CheckZone(row.zone));
        ASSIGN_OR_RETURN(row.team_id, OptionalIdIn("zone.team", row.zone.team(), "teams", ref->site));
        if (row.team_id != 0) RETURN_IF_ERROR(store::CheckTeam(c, ref->site, row.team_id));
        if (!changed.empty()) RETURN_IF_ERROR(store::UpdateZone(c, row));
        *resp = row.zone;
        return absl::OkStatus();
      }));
}

grpc::Status CleaningService::CreateTeam(grpc::ServerContext* ctx, const v1::CreateTeamRequest* req,
                                         v1::Team* resp) {
  absl::StatusOr<std::string> site = kit::ParseSiteParent("parent", req->parent());
  if (!site.ok()) return ToGrpc(site.status());
  RETURN_GRPC_IF_ERROR(kit::CheckRequestId(req->request_id()));
  RETURN_GRPC_IF_ERROR(kit::CheckText("team.display_name", req->team().display_name(), 200, true));
  RETURN_GRPC_IF_ERROR(kit::CheckText("team.monitor", req->team().monitor(), 200, false));
  if (req->team().members_size() > 200) return ToGrpc(FieldError("team.members", "at most 200"));
  for (const std::string& m : req->team().members()) {
    RETURN_GRPC_IF_ERROR(kit::CheckText("team.members", m, 200, true));
    if (m.find('\n') != std::string::npos) return ToGrpc(FieldError("team.members", "one line each"));
  }
  const std::string actor = kit::CallerOf(*ctx);
  return ToGrpc(kit::IdempotentWrite(
      db_, kit::DeadlineOf(*ctx), "CreateTeam", req->request_id(), *req, resp,
      [&](kit::Conn& c) -> absl::Status {
        v1::Team t = req->team();
        RETURN_IF_ERROR(store::InsertTeam(c, *site, t, actor, clock_.Now()).status());
        *resp = t;
        return absl::OkStatus();
      }));
}

grpc::Status CleaningService::ListTeams(grpc::ServerContext* ctx, const v1::ListTeamsRequest* req,
                                        v1::ListTeamsResponse* resp) {
  return ToGrpc(kit::ListPage(
      db_, kit::DeadlineOf(*ctx), *req, resp->mutable_next_page_token(),
      [&](kit::Conn& c, const std::string& site, const kit::Page& page) {
        return store::ListTeams(c, site, page.after, page.size + 1);
      },
      [](const auto& r) { return r.first; },
      [&](auto& row) { auto& [id, t] = row; *resp->add_teams() = std::move(t); }));
}

grpc::Status CleaningService::CreateShift(grpc::ServerContext* ctx,
                                          const v1::CreateShiftRequest* req, v1::Shift* resp) {
  absl::StatusOr<std::string> site = kit::ParseSiteParent("parent", req->parent());
  if (!site.ok()) return ToGrpc(site.status());
  RETURN_GRPC_IF_ERROR(kit::CheckRequestId(req->request_id()));
  RETURN_GRPC_IF_ERROR(kit::CheckText("shift.display_name", req->shift().display_name(), 100, true));
  const std::optional<int> start = ParseClock(req->shift().start());
  if (!start) return ToGrpc(FieldError("shift.start", "HH:MM, like 06:00"));
  const std::optional<int> end = ParseClock(req->shift().end());
  if (!end) return ToGrpc(FieldError("shift.end", "HH:MM, like 14:00"));
  if (*end == *start) return ToGrpc(FieldError("shift.end", "must differ from start"));
  return ToGrpc(kit::IdempotentWrite(
      db_, kit::DeadlineOf(*ctx), "CreateShift", req->request_id(), *req, resp,
      [&](kit::Conn& c) -> absl::Status {
        v1::Shift s = req->shift();
        RETURN_IF_ERROR(store::InsertShift(c, *site, s, *start, *end, clock_.Now()).status());
        *resp = s;
        return absl::OkStatus();
      }));
}

grpc::Status CleaningService::ListShifts(grpc::ServerContext* ctx, const v1::ListShiftsRequest* req,
                                         v1::ListShiftsResponse* resp) {
  return ToGrpc(kit::ListPage(
      db_, kit::DeadlineOf(*ctx), *req, resp->mutable_next_page_token(),
      [&](kit::Conn& c, const std::string& site, const kit::Page& page) {
        return store::ListShifts(c, site, page.after, page.size + 1);
      },
      [](const auto& r) { return r.id; },
      [&](const store::ShiftRow& s) { *resp->add_shifts() = s.shift; }));
}

grpc::Status CleaningService::CreateTaskTemplate(grpc::ServerContext* ctx,
                                                 const v1::CreateTaskTemplateRequest* req,
                                                 v1::TaskTemplate* resp) {
  absl::StatusOr<std::string> site = kit::ParseSiteParent("parent", req->parent());
  if (!site.ok()) return ToGrpc(site.status());
  RETURN_GRPC_IF_ERROR(kit::CheckRequestId(req->request_id()));
  const v1::TaskTemplate& in = req->template_();
  absl::StatusOr<int64_t> zone = IdIn("template.zone", in.zone(), "zones", *site);
  if (!zone.ok()) return ToGrpc(zone.status());
  absl::StatusOr<int64_t> shift = IdIn("template.shift", in.shift(), "shifts", *site);
  if (!shift.ok()) return ToGrpc(shift.status());
  RETURN_GRPC_IF_ERROR(kit::CheckText("template.title", in.title(), 300, true));
  RETURN_GRPC_IF_ERROR(CheckSchedule("template.schedule", in.schedule()));
  return ToGrpc(kit::IdempotentWrite(
      db_, kit::DeadlineOf(*ctx), "CreateTaskTemplate", req->request_id(), *req, resp,
      [&](kit::Conn& c) -> absl::Status {
        RETURN_IF_ERROR(store::ReadZone(c, *site, *zone, false).status());
        RETURN_IF_ERROR(store::ReadShift(c, *site, *shift).status());
        v1::TaskTemplate t = in;
        RETURN_IF_ERROR(store::InsertTemplate(c, *site, t, *zone, *shift, clock_.Now()).status());
        *resp = t;
        return absl::OkStatus();
      }));
}

grpc::Status CleaningService::ListTaskTemplates(grpc::ServerContext* ctx,
                                                const v1::ListTaskTemplatesRequest* req,
                                                v1::ListTaskTemplatesResponse* resp) {
  return ToGrpc(kit::ListPage(
      db_, kit::DeadlineOf(*ctx), *req, resp->mutable_next_page_token(),
      [&](kit::Conn& c, const std::string& site, const kit::Page& page) {
        return store::ListTemplates(c, site, page.after, page.size + 1);
      },
      [](const auto& r) { return r.id; },
      [&](const store::TemplateRow& t) { *resp->add_templates() = t.tmpl; }));
}

grpc::Status CleaningService::GenerateTasks(grpc::ServerContext* ctx,
                                            const v1::GenerateTasksRequest* req,
                                            v1::GenerateTasksResponse* resp) {
  absl::StatusOr<std::string> site = kit::ParseSiteParent("parent", req->parent());
  if (!site.ok()) return ToGrpc(site.status());
  const std::optional<absl::CivilDay> from = ParseDay(req->start_date());
  if (!from) return ToGrpc(FieldError("start_date", "YYYY-MM-DD"));
  const std::optional<absl::CivilDay> to = ParseDay(req->end_date());
  if (!to) return ToGrpc(FieldError("end_date", "YYYY-MM-DD"));
  if (*to < *from || *to - *from >= kMaxGenerateDays) {
    return ToGrpc(FieldError("end_date", "on or after start_date, at most 62 days in all"));
  }
  // Safe to repeat: a template's task of a day is created once.
  return ToGrpc(db_.Transact(kit::DeadlineOf(*ctx), [&](kit::Conn& c) -> absl::Status {
    ASSIGN_OR_RETURN(absl::CivilDay today, TodayAt(c, *site));
    ASSIGN_OR_RETURN(int64_t n, Generate(c, *site, std::max(*from, today), *to));
    resp->set_tasks_created(static_cast<int32_t>(n));
    return absl::OkStatus();
  }));
}

grpc::Status CleaningService::ListTasks(grpc::ServerContext* ctx, const v1::ListTasksRequest* req,
                                        v1::ListTasksResponse* resp) {
  absl::StatusOr<std::string> site = kit::ParseSiteParent("parent", req->parent());
  if (!site.ok()) return ToGrpc(site.status());
  store::TaskFilter f;
  f.site = *site;
  const std::optional<absl::CivilDay> from = ParseDay(req->start_date());
  if (!from) return ToGrpc(FieldError("start_date", "required: YYYY-MM-DD"));
  const std::optional<absl::CivilDay> to = ParseDay(req->end_date());
  if (!to || *to < *from) return ToGrpc(FieldError("end_date", "required: YYYY-MM-DD, not before start_date"));
  f.from = *from;
  f.to = *to;
  absl::StatusOr<int64_t> zone = OptionalIdIn("zone", req->zone(), "zones", *site);
  if (!zone.ok()) return ToGrpc(zone.status());
  absl::StatusOr<int64_t> team = OptionalIdIn("team", req->team(), "teams", *site);
  if (!team.ok()) return ToGrpc(team.status());
  if (!v1::TaskState_IsValid(req->state())) return ToGrpc(FieldError("state", "unknown"));
  f.zone_id = *zone;
  f.team_id = *team;
  f.state = req->state();
  return ToGrpc(kit::ListRows(
      db_, kit::DeadlineOf(*ctx), *req, resp->mutable_next_page_token(),
      [&](kit::Conn& c, const kit::Page& page) {
        return store::ListTasks(c, f, page.after, page.size + 1);
      },
      [](const auto& r) { return r.first; },
      [&](auto& row) { auto& [id, t] = row; *resp->add_tasks() = std::move(t); }));
}

grpc::Status CleaningService::CompleteTask(grpc::ServerContext* ctx,
                                           const v1::CompleteTaskRequest* req, v1::Task* resp) {
  absl::StatusOr<kit::SiteId> ref = kit::ParseSiteId("name", req->name(), "tasks");
  if (!ref.ok()) return ToGrpc(ref.status());
  RETURN_GRPC_IF_ERROR(kit::CheckRequestId(req->request_id()));
  RETURN_GRPC_IF_ERROR(kit::CheckText("done_by", req->done_by(), 200, true));
  return ToGrpc(kit::IdempotentWrite(
      db_, kit::DeadlineOf(*ctx), "CompleteTask", req->request_id(), *req, resp,
      [&](kit::Conn& c) -> absl::Status {
        ASSIGN_OR_RETURN(v1::Task t, store::ReadTask(c, ref->site, ref->id, true));
        if (t.state() == v1::DONE) return absl::FailedPreconditionError("the task is done already");
        const absl::Time now = clock_.Now();
        if (t.state() == v1::MISSED || now >= kit::FromTimestamp(t.miss_time())) {
          return absl::FailedPreconditionError("the task was missed: its day is over");
        }
        RETURN_IF_ERROR(store::CompleteTask(c, ref->id, req->done_by(), now));
        ASSIGN_OR_RETURN(*resp, store::ReadTask(c, ref->site, ref->id, false));
        return absl::OkStatus();
      }));
}

grpc::Status CleaningService::CreateInspection(grpc::ServerContext* ctx,
                                               const v1::CreateInspectionRequest* req,
                                               v1::Inspection* resp) {
  absl::StatusOr<std::string> site = kit::ParseSiteParent("parent", req->parent());
  if (!site.ok()) return ToGrpc(site.status());
  RETURN_GRPC_IF_ERROR(kit::CheckRequestId(req->request_id()));
  const v1::Inspection& in = req->inspection();
  absl::StatusOr<int64_t> zone_id = IdIn("inspection.zone", in.zone(), "zones", *site);
  if (!zone_id.ok()) return ToGrpc(zone_id.status());
  RETURN_GRPC_IF_ERROR(kit::CheckText("inspection.inspector", in.inspector(), 200, true));
  RETURN_GRPC_IF_ERROR(kit::CheckText("inspection.note", in.note(), 1000, false));
  if (in.photo_uris_size() > 20) return ToGrpc(FieldError("inspection.photo_uris", "at most 20"));
  for (const std::string& uri : in.photo_uris()) {
    RETURN_GRPC_IF_ERROR(kit::CheckText("inspection.photo_uris", uri, 1000, true));
  }
  const std::string actor = kit::CallerOf(*ctx);
  std::optional<int32_t> scored;
  grpc::Status s = ToGrpc(kit::IdempotentWrite(
      db_, kit::DeadlineOf(*ctx), "CreateInspection", req->request_id(), *req, resp,
      [&](kit::Conn& c) -> absl::Status {
        scored.reset();
        ASSIGN_OR_RETURN(store::ZoneRow zone, store::ReadZone(c, *site, *zone_id, false));
        ASSIGN_OR_RETURN(Scored score, ScoreInspection(zone.zone.standard(), in.scores()));
        const absl::Time now = clock_.Now();
        v1::Inspection out = in;
        out.set_team(zone.zone.team());
        out.set_score_centi(score.score_centi);
        out.set_pass_score(zone.zone.standard().pass_score());
        out.set_passed(score.passed);
        out.set_rectification_required(!score.passed);
        RETURN_IF_ERROR(
            store::InsertInspection(c, *site, out, zone.id, zone.team_id, actor, now).status());
        if (!score.passed) {
          // Committed with the inspection or not at all; the relay delivers it,
          // and the outbox row's request_id makes a redelivery a no-op.
          estate::tickets::v1::CreateTicketRequest ticket =
              RectificationTicket(*site, zone.zone, out);
          RETURN_IF_ERROR(kit::EnqueueCall(c, *site, "tickets", kCreateTicket, ticket, now).status());
        }
        *resp = out;
        scored = score.score_centi;
        return absl::OkStatus();
      }));
  if (scored) scores_.Observe(*scored / 100.0);
  return s;
}

grpc::Status CleaningService::GetInspection(grpc::ServerContext* ctx,
                                            const v1::GetInspectionRequest* req,
                                            v1::Inspection* resp) {
  return ToGrpc(kit::GetOne(
      db_, kit::DeadlineOf(*ctx), req->name(), "inspections",
      [&](kit::Conn& c, const kit::SiteId& ref) {
        return store::ReadInspection(c, ref.site, ref.id);
      },
      [&](v1::Inspection& inspection) { *resp = std::move(inspection); }));
}

grpc::Status CleaningService::ListInspections(grpc::ServerContext* ctx,
                                              const v1::ListInspectionsRequest* req,
                                              v1::ListInspectionsResponse* resp) {
  absl::StatusOr<std::string> site = kit::ParseSiteParent("parent", req->parent());
  if (!site.ok()) return ToGrpc(site.status());
  absl::StatusOr<int64_t> zone = OptionalIdIn("zone", req->zone(), "zones", *site);
  if (!zone.ok()) return ToGrpc(zone.status());
  return ToGrpc(kit::ListRows(
      db_, kit::DeadlineOf(*ctx), *req, resp->mutable_next_page_token(),
      [&](kit::Conn& c, const kit::Page& page) {
        return store::ListInspections(c, *site, *zone, req->failed_only(), page.after,
                                      page.size + 1);
      },
      [](const auto& r) { return r.first; },
      [&](auto& row) { auto& [id, in] = row; *resp->add_inspections() = std::move(in); }));
}

grpc::Status CleaningService::GetCleaningReport(grpc::ServerContext* ctx,
                                                const v1::GetCleaningReportRequest* req,
                                                v1::CleaningReport* resp) {
  absl::StatusOr<std::string> site = kit::ParseSiteParent("parent", req->parent());
  if (!site.ok()) return ToGrpc(site.status());
  const std::optional<absl::CivilMonth> month = ParseMonth(req->month());
  if (!month) return ToGrpc(FieldError("month", "required: YYYY-MM"));
  return ToGrpc(db_.Run(kit::DeadlineOf(*ctx), [&](kit::Conn& c) -> absl::Status {
    ASSIGN_OR_RETURN(absl::TimeZone tz, TimeZoneOf(c, *site));
    const absl::CivilDay first(*month);
    const absl::CivilDay last = absl::CivilDay(*month + 1) - 1;
    ASSIGN_OR_RETURN(auto inspections,
                     store::SumInspections(c, *site, absl::FromCivil(first, tz),
                                           absl::FromCivil(last + 1, tz)));
    ASSIGN_OR_RETURN(auto tasks, store::SumTasks(c, *site, first, last));
    struct Sums {
      int64_t inspections = 0, passed = 0, score = 0, tasks = 0, done = 0, on_time = 0, missed = 0;
    };
    std::map<std::pair<int64_t, int64_t>, Sums> by;
    for (const auto& i : inspections) {
      Sums& s = by[{i.zone_id, i.team_id}];
      s.inspections += i.count;
      s.passed += i.passed;
      s.score += i.score_centi_sum;
    }
    for (const auto& t : tasks) {
      Sums& s = by[{t.zone_id, t.team_id}];
      s.tasks += t.count;
      s.done += t.done;
      s.on_time += t.on_time;
      s.missed += t.missed;
    }
    const auto fill = [](v1::CleaningReportRow* row, const Sums& s) {
      row->set_inspections(static_cast<int32_t>(s.inspections));
      row->set_passed(static_cast<int32_t>(s.passed));
      row->set_pass_rate_bp(RateBp(s.passed, s.inspections));
      row->set_average_score_centi(
          s.inspections == 0 ? 0 : static_cast<int32_t>((2 * s.score + s.inspections) /
                                                        (2 * s.inspections)));
      row->set_tasks(static_cast<int32_t>(s.tasks));
      row->set_tasks_done(static_cast<int32_t>(s.done));
      row->set_tasks_on_time(static_cast<int32_t>(s.on_time));
      row->set_tasks_missed(static_cast<int32_t>(s.missed));
      row->set_on_time_rate_bp(RateBp(s.on_time, s.tasks));
    };
    ASSIGN_OR_RETURN(DisplayNames names, NamesOf(c, *site));
    Sums total;
    resp->set_month(req->month());
    for (const auto& [key, s] : by) {
      v1::CleaningReportRow* row = resp->add_rows();
      row->set_zone(NameOf(*site, "zones", key.first));
      row->set_zone_display_name(names.zones[key.first]);
      if (key.second != 0) {
        row->set_team(NameOf(*site, "teams", key.second));
        row->set_team_display_name(names.teams[key.second]);
      }
      fill(row, s);
      total.inspections += s.inspections;
      total.passed += s.passed;
      total.score += s.score;
      total.tasks += s.tasks;
      total.done += s.done;
      total.on_time += s.on_time;
      total.missed += s.missed;
    }
    fill(resp->mutable_total(), total);
    return absl::OkStatus();
  }));
}

}  // namespace cleaning
