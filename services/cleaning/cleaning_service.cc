#include "services/cleaning/cleaning_service.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "estate/cleaning/v1/cleaning.pb.h"
#include "services/cleaning/schedule.h"
#include "services/cleaning/work_store.h"
#include "services/kit/errors.h"
#include "services/kit/rpc_context.h"
#include "services/kit/status_macros.h"

namespace cleaning {

// cleaning.proto declares no message, so nothing else makes the linker keep
// it (and its registration in the generated pool, where RegisterCleaning
// finds the service): this names its table, with external linkage so the
// reference survives optimisation.
extern const void* const kCleaningProtoTable;
const void* const kCleaningProtoTable = &descriptor_table_estate_2fcleaning_2fv1_2fcleaning_2eproto;

namespace {

const char* StageName(v1::SlipState s) {
  switch (s) {
    case v1::DRAFT: return "recipient";
    case v1::RECIPIENT_SIGNED: return "monitor";
    case v1::MONITOR_SIGNED: return "manager";
    case v1::MANAGER_SIGNED: return "posting";
    default: return "other";
  }
}

}  // namespace

CleaningService::CleaningService(kit::Db& db, const kit::Clock& clock,
                                 prometheus::Registry& registry)
    : db_(db),
      clock_(clock),
      scores_(prometheus::BuildHistogram()
                  .Name("estate_cleaning_inspection_score")
                  .Help("Inspection scores (0..100, weighted against the zone's standard).")
                  .Register(registry)
                  .Add({}, prometheus::Histogram::BucketBoundaries{50, 60, 70, 80, 85, 90, 95,
                                                                    100})),
      below_reorder_(prometheus::BuildGauge()
                         .Name("estate_cleaning_items_below_reorder")
                         .Help("Items whose stock across the site's warehouses is at or below "
                               "their reorder point, by site (read from the database).")
                         .Register(registry)),
      stock_value_(prometheus::BuildGauge()
                       .Name("estate_cleaning_stock_value_minor")
                       .Help("Value at cost of the stock held, by site, in minor units of "
                             "the site's currency.")
                       .Register(registry)),
      slips_waiting_(prometheus::BuildGauge()
                         .Name("estate_cleaning_issue_slips_waiting")
                         .Help("Issue slips not yet posted, by site and the stage they wait "
                               "for (recipient, monitor, manager, posting).")
                         .Register(registry)),
      tasks_missed_(prometheus::BuildCounter()
                        .Name("estate_cleaning_tasks_missed_total")
                        .Help("Cleaning tasks not done by the end of their day.")
                        .Register(registry)),
      outbox_(db, clock, "cleaningOutbox") {}

grpc::Status CleaningService::ListOutboxEntries(grpc::ServerContext* ctx,
                                                const estate::api::v1::ListOutboxEntriesRequest* req,
                                                estate::api::v1::ListOutboxEntriesResponse* resp) {
  return kit::ToGrpc(outbox_.List(*req, kit::DeadlineOf(*ctx), resp));
}

grpc::Status CleaningService::RetryOutboxEntry(grpc::ServerContext* ctx,
                                               const estate::api::v1::RetryOutboxEntryRequest* req,
                                               estate::api::v1::OutboxEntry* resp) {
  return kit::ToGrpc(outbox_.Retry(*req, kit::DeadlineOf(*ctx), kit::CallerOf(*ctx), resp));
}

absl::StatusOr<absl::TimeZone> CleaningService::TimeZoneOf(kit::Conn& c, const std::string& site) {
  ASSIGN_OR_RETURN(store::Settings s, store::ReadSettings(c, site, false));
  absl::TimeZone tz;
  if (!absl::LoadTimeZone(s.time_zone, &tz)) {
    return absl::InternalError(absl::StrCat("time zone ", s.time_zone, " is not installed"));
  }
  return tz;
}

absl::StatusOr<absl::CivilDay> CleaningService::TodayAt(kit::Conn& c, const std::string& site) {
  ASSIGN_OR_RETURN(absl::TimeZone tz, TimeZoneOf(c, site));
  return absl::ToCivilDay(clock_.Now(), tz);
}

absl::Status CleaningService::CheckOpenPeriod(kit::Conn& c, const std::string& site,
                                              absl::CivilDay day, absl::string_view field) {
  // Shared with other writers, exclusive with a period close: a close cannot
  // slip in between this check and the write's commit.
  RETURN_IF_ERROR(store::LockSettings(c, site, false));
  ASSIGN_OR_RETURN(std::optional<absl::CivilMonth> closed, store::ClosedThrough(c, site));
  if (closed && absl::CivilMonth(day) <= *closed) {
    return absl::FailedPreconditionError(
        absl::StrCat(field, ": ", absl::FormatCivilTime(*closed),
                     " is closed; nothing may be dated in or before it"));
  }
  return absl::OkStatus();
}

absl::StatusOr<int64_t> CleaningService::Generate(kit::Conn& c, const std::string& site,
                                                  absl::CivilDay from, absl::CivilDay to) {
  ASSIGN_OR_RETURN(absl::TimeZone tz, TimeZoneOf(c, site));
  std::map<int64_t, store::ShiftRow> shifts;
  std::map<int64_t, int64_t> team_of_zone;
  int64_t created = 0;
  for (int64_t after = 0;;) {
    ASSIGN_OR_RETURN(std::vector<store::TemplateRow> templates,
                     store::ListTemplates(c, site, after, 500));
    std::vector<store::NewTask> tasks;
    for (const store::TemplateRow& t : templates) {
      after = t.id;
      if (!shifts.count(t.shift_id)) {
        ASSIGN_OR_RETURN(shifts[t.shift_id], store::ReadShift(c, site, t.shift_id));
      }
      if (!team_of_zone.count(t.zone_id)) {
        ASSIGN_OR_RETURN(store::ZoneRow z, store::ReadZone(c, site, t.zone_id, false));
        team_of_zone[t.zone_id] = z.team_id;
      }
      const store::ShiftRow& shift = shifts[t.shift_id];
      // Nothing before the template existed.
      const absl::CivilDay created =
          absl::ToCivilDay(absl::FromUnixSeconds(t.tmpl.create_time().seconds()), tz);
      for (absl::CivilDay day : DueDays(t.tmpl.schedule(), std::max(from, created), to)) {
        const TaskTimes times = TimesOn(day, t.tmpl.schedule(), shift.start, shift.end, tz);
        tasks.push_back({t.id, t.zone_id, team_of_zone[t.zone_id], t.shift_id, t.tmpl.title(),
                         day, times.due, times.miss});
      }
    }
    ASSIGN_OR_RETURN(int64_t n, store::InsertTasks(c, site, tasks));
    created += n;
    if (templates.size() < 500) break;
  }
  return created;
}

absl::StatusOr<CleaningService::DisplayNames> CleaningService::NamesOf(kit::Conn& c,
                                                                      const std::string& site) {
  DisplayNames out;
  for (int64_t after = 0;;) {
    ASSIGN_OR_RETURN(std::vector<store::ZoneRow> zones, store::ListZones(c, site, after, 500));
    for (const store::ZoneRow& z : zones) out.zones[after = z.id] = z.zone.display_name();
    if (zones.size() < 500) break;
  }
  for (int64_t after = 0;;) {
    ASSIGN_OR_RETURN(auto teams, store::ListTeams(c, site, after, 500));
    for (const auto& [id, t] : teams) out.teams[after = id] = t.display_name();
    if (teams.size() < 500) break;
  }
  return out;
}

absl::StatusOr<v1::StockMove> CleaningService::Post(kit::Conn& c, store::MoveRow& m) {
  RETURN_IF_ERROR(CheckOpenPeriod(c, m.site, m.effective, "effective_date"));
  ASSIGN_OR_RETURN(Position now, store::ReadPosition(c, m.warehouse_id, m.item_id));
  if (now.quantity + m.quantity < 0) {
    return absl::FailedPreconditionError(
        absl::StrCat("only ", now.quantity, " on hand, ", -m.quantity, " asked for"));
  }
  m.after = {now.quantity + m.quantity, now.value + m.value};
  return store::InsertMove(c, m);
}

absl::StatusOr<v1::StockMove> CleaningService::PostAtAverage(kit::Conn& c, store::MoveRow& m) {
  ASSIGN_OR_RETURN(Position p, store::ReadPosition(c, m.warehouse_id, m.item_id));
  ASSIGN_OR_RETURN(int64_t last_cost, store::LastAverageCost(c, m.warehouse_id, m.item_id));
  ASSIGN_OR_RETURN(m.value, DeltaValue(p, m.quantity, last_cost));
  return Post(c, m);
}

absl::Status CleaningService::RunTaskJobs() {
  const absl::Time deadline = absl::Now() + absl::Seconds(60);
  std::vector<std::string> sites;
  RETURN_IF_ERROR(db_.Run(deadline, [&](kit::Conn& c) -> absl::Status {
    ASSIGN_OR_RETURN(sites, store::Sites(c));
    return absl::OkStatus();
  }));
  for (const std::string& site : sites) {
    RETURN_IF_ERROR(db_.Transact(deadline, [&](kit::Conn& c) -> absl::Status {
      ASSIGN_OR_RETURN(absl::CivilDay today, TodayAt(c, site));
      return Generate(c, site, today, today + 1).status();
    }));
  }
  int64_t missed = 0;
  RETURN_IF_ERROR(db_.Transact(deadline, [&](kit::Conn& c) -> absl::Status {
    ASSIGN_OR_RETURN(missed, store::MarkMissed(c, clock_.Now()));
    return absl::OkStatus();
  }));
  // Counted once committed: a retried transaction would count them again.
  tasks_missed_.Add({}).Increment(static_cast<double>(missed));
  return absl::OkStatus();
}

absl::Status CleaningService::RefreshGauges() {
  return db_.Run(absl::Now() + absl::Seconds(30), [&](kit::Conn& c) -> absl::Status {
    ASSIGN_OR_RETURN(std::vector<store::SiteStock> stock, store::StockBySite(c));
    for (const store::SiteStock& s : stock) {
      below_reorder_.Add({{"site", s.site}}).Set(static_cast<double>(s.items_below_reorder));
      stock_value_.Add({{"site", s.site}}).Set(static_cast<double>(s.value));
    }
    ASSIGN_OR_RETURN(std::vector<store::SlipsWaiting> slips, store::CountWaitingSlips(c));
    std::map<std::pair<std::string, std::string>, double> counts;
    for (const store::SiteStock& s : stock) {
      for (v1::SlipState st : {v1::DRAFT, v1::RECIPIENT_SIGNED, v1::MONITOR_SIGNED,
                               v1::MANAGER_SIGNED}) {
        counts[{s.site, StageName(st)}] = 0;
      }
    }
    for (const store::SlipsWaiting& w : slips) counts[{w.site, StageName(w.state)}] = w.count;
    for (const auto& [key, n] : counts) {
      slips_waiting_.Add({{"site", key.first}, {"stage", key.second}}).Set(n);
    }
    return absl::OkStatus();
  });
}

CleaningService* RegisterCleaning(kit::ServiceHost& host, const kit::Clock& clock,
                                  CleaningOptions options) {
  auto service = std::make_unique<CleaningService>(host.db(), clock, host.registry());
  CleaningService* raw = service.get();
  std::map<std::string, std::shared_ptr<grpc::Channel>> targets;
  if (options.tickets) targets["tickets"] = options.tickets;
  kit::OutboxOptions relay;
  relay.poll_interval = options.relay_interval;
  relay.probe_interval = options.relay_interval;
  relay.identity = host.identity_signer();
  raw->relay_ = std::make_unique<kit::OutboxRelay>(host.db(), clock, std::move(targets),
                                                   &host.registry(), relay);
  raw->relay_->set_caller("service:cleaning");
  host.AddService(std::move(service),
                  google::protobuf::DescriptorPool::generated_pool()->FindServiceByName(
                      v1::CleaningService::service_full_name()));
  host.AddJob("cleaning-tasks", options.job_interval, [raw] { return raw->RunTaskJobs(); });
  host.AddJob("cleaning-gauges", options.job_interval, [raw] { return raw->RefreshGauges(); });
  if (options.tickets) {
    // The relay delivers on threads of its own; the job starts them once the
    // schema is migrated (the first run is at start-up), then purges and
    // refreshes the gauges.
    host.AddJob("outbox", absl::Seconds(15), [raw] {
      raw->relay_->Start();
      return raw->relay_->Housekeep();
    });
  }
  return raw;
}

}  // namespace cleaning
