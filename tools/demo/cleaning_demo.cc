// estate-cleaning-demo: last month of the demo site's cleaning and
// warehouse, played through the cleaning service's own API.
//
//   ESTATE_DB_PORT=13306 ESTATE_DB_PASSWORD_FILE=var/secrets/cleaning.db-password
//   estate-cleaning-demo --site=demo   (both on one line; tools/up runs it)
//
// A month cannot be lived through in a second, and the service stamps work
// with its clock; so this runs the service in-process on the cleaning
// schema (the same code and rules as estate-cleaning) with a clock that
// walks day by day through last month: tasks generated each morning and done
// on time, late or not at all; weekday inspections of every zone (the failed
// ones leave rectification tickets in the outbox, which the running cleaning
// service delivers to tickets); supplies received, issued on signed slips
// twice a week, returned; month-end stocktakes of the store and the model
// room; and last month closed. A site that has inspections is left as it is.

#include <iostream>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "estate/cleaning/v1/cleaning.grpc.pb.h"
#include "grpcpp/create_channel.h"
#include "services/cleaning/cleaning_service.h"
#include "services/kit/clock.h"
#include "services/kit/flags.h"
#include "services/kit/host.h"
#include "services/kit/process_flags.h"
#include "tools/demo/demo_identity.h"
#include "tools/demo/step_ids.h"

ABSL_FLAG(std::string, site, "demo", "Site id to load, as in sites/{site}.");

std::vector<kit::Migration> estate_cleaning_migrations();

namespace {

namespace v1 = ::estate::cleaning::v1;
using Stub = v1::CleaningService::Stub;

class Demo {
 public:
  Demo(Stub& stub, cleaning::CleaningService& service, kit::FakeClock& clock, std::string site,
       absl::TimeZone tz)
      : stub_(stub),
        service_(service),
        clock_(clock),
        site_(std::move(site)),
        parent_("sites/" + site_),
        tz_(tz) {}

  int Run(absl::CivilMonth month);

 private:
  template <typename Req, typename Resp>
  Resp Call(grpc::Status (Stub::*rpc)(grpc::ClientContext*, const Req&, Resp*), const Req& req,
            const std::string& what, const std::string& caller = "user:demo-monitor",
            const std::string& roles = "staff") {
    grpc::ClientContext ctx;
    ctx.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(30)));
    demo::Sign(ctx, req, caller, roles);
    Resp resp;
    const grpc::Status s = (stub_.*rpc)(&ctx, req, &resp);
    if (!s.ok()) {
      std::cerr << what << " failed: " << s.error_message() << "\n";
      std::exit(1);
    }
    return resp;
  }
  std::string Id(const std::string& step) {
    return demo::StepRequestId(site_, absl::StrCat("cleaning/", step));
  }
  void At(absl::CivilDay day, int hour, int minute = 0) {
    clock_.Set(absl::FromCivil(absl::CivilMinute(day.year(), day.month(), day.day(), hour, minute), tz_));
  }
  // Deterministic "random" 0..99 for a step.
  static int Roll(uint64_t a, uint64_t b) {
    uint64_t x = a * 0x9E3779B97F4A7C15ULL + b * 0xC2B2AE3D27D4EB4FULL + 0x165667B19E3779F9ULL;
    x ^= x >> 29;
    x *= 0xBF58476D1CE4E5B9ULL;
    x ^= x >> 32;
    return static_cast<int>(x % 100);
  }

  v1::Team Team(const std::string& name, const std::string& monitor) {
    v1::CreateTeamRequest req;
    req.set_parent(parent_);
    req.set_request_id(Id("team/" + name));
    req.mutable_team()->set_display_name(name);
    req.mutable_team()->set_monitor(monitor);
    req.mutable_team()->add_members("Li Hua");
    req.mutable_team()->add_members("Chen Fang");
    return Call(&Stub::CreateTeam, req, "CreateTeam");
  }
  v1::Shift Shift(const std::string& name, const std::string& start, const std::string& end) {
    v1::CreateShiftRequest req;
    req.set_parent(parent_);
    req.set_request_id(Id("shift/" + name));
    req.mutable_shift()->set_display_name(name);
    req.mutable_shift()->set_start(start);
    req.mutable_shift()->set_end(end);
    return Call(&Stub::CreateShift, req, "CreateShift");
  }
  v1::Zone Zone(const std::string& name, const std::string& building, const v1::Team& team,
                int pass, std::vector<std::pair<std::string, int>> items) {
    v1::CreateZoneRequest req;
    req.set_parent(parent_);
    req.set_request_id(Id("zone/" + name));
    req.mutable_zone()->set_display_name(name);
    req.mutable_zone()->set_building(building);
    req.mutable_zone()->set_team(team.name());
    req.mutable_zone()->mutable_standard()->set_pass_score(pass);
    for (const auto& [code, weight] : items) {
      v1::StandardItem* i = req.mutable_zone()->mutable_standard()->add_items();
      i->set_code(code);
      i->set_weight(weight);
    }
    return Call(&Stub::CreateZone, req, "CreateZone", "user:demo-manager", "manager");
  }
  void Template(const v1::Zone& zone, const v1::Shift& shift, const std::string& title,
                v1::Schedule schedule) {
    v1::CreateTaskTemplateRequest req;
    req.set_parent(parent_);
    req.set_request_id(Id("template/" + title));
    req.mutable_template_()->set_zone(zone.name());
    req.mutable_template_()->set_shift(shift.name());
    req.mutable_template_()->set_title(title);
    *req.mutable_template_()->mutable_schedule() = schedule;
    Call(&Stub::CreateTaskTemplate, req, "CreateTaskTemplate");
  }
  v1::Item Item(const std::string& sku, const std::string& name, const std::string& uom,
                int64_t reorder) {
    v1::CreateItemRequest req;
    req.set_parent(parent_);
    req.set_request_id(Id("item/" + sku));
    req.mutable_item()->set_sku(sku);
    req.mutable_item()->set_display_name(name);
    req.mutable_item()->set_unit_of_measure(uom);
    req.mutable_item()->set_reorder_point(reorder);
    return Call(&Stub::CreateItem, req, "CreateItem");
  }
  v1::Warehouse Warehouse(const std::string& name, v1::WarehouseKind kind) {
    v1::CreateWarehouseRequest req;
    req.set_parent(parent_);
    req.set_request_id(Id("warehouse/" + name));
    req.mutable_warehouse()->set_display_name(name);
    req.mutable_warehouse()->set_kind(kind);
    return Call(&Stub::CreateWarehouse, req, "CreateWarehouse");
  }
  void Receive(const v1::Warehouse& w, const v1::Item& item, int64_t quantity, int64_t cost,
               const std::string& step) {
    v1::ReceiveStockRequest req;
    req.set_parent(parent_);
    req.set_warehouse(w.name());
    req.set_item(item.name());
    req.set_quantity(quantity);
    req.set_unit_cost_minor(cost);
    req.set_supplier(cost > 10000 ? "Model room furnisher" : "Harbin Cleaning Supplies Co.");
    req.set_request_id(Id("receive/" + step));
    Call(&Stub::ReceiveStock, req, "ReceiveStock", "user:demo-storekeeper");
  }
  void Slip(const v1::Warehouse& w, const v1::Team& team, const v1::Zone& zone,
            std::vector<std::pair<const v1::Item*, int64_t>> lines, const std::string& step) {
    v1::CreateIssueSlipRequest req;
    req.set_parent(parent_);
    req.set_request_id(Id("slip/" + step));
    req.mutable_slip()->set_warehouse(w.name());
    req.mutable_slip()->set_team(team.name());
    req.mutable_slip()->set_zone(zone.name());
    req.mutable_slip()->set_purpose("supplies for the week's rounds");
    for (const auto& [item, quantity] : lines) {
      v1::SlipLine* l = req.mutable_slip()->add_lines();
      l->set_item(item->name());
      l->set_quantity(quantity);
    }
    v1::IssueSlip slip = Call(&Stub::CreateIssueSlip, req, "CreateIssueSlip", "user:demo-storekeeper");
    const std::vector<std::tuple<v1::SignatureRole, std::string, std::string>> signers = {
        {v1::RECIPIENT, "user:cleaner-li", "staff"},
        {v1::MONITOR, team.monitor() == "Monitor Wu" ? "user:monitor-wu" : "user:monitor-sun",
         "staff"},
        {v1::MANAGER, "user:manager-zhao", "manager"}};
    for (const auto& [role, who, roles] : signers) {
      v1::SignIssueSlipRequest sign;
      sign.set_name(slip.name());
      sign.set_role(role);
      sign.set_request_id(Id(absl::StrCat("slip/", step, "/sign/", role)));
      slip = Call(&Stub::SignIssueSlip, sign, "SignIssueSlip", who, roles);
    }
    v1::PostIssueSlipRequest post;
    post.set_name(slip.name());
    post.set_request_id(Id("slip/" + step + "/post"));
    Call(&Stub::PostIssueSlip, post, "PostIssueSlip", "user:demo-storekeeper");
  }
  void Stocktake(const v1::Warehouse& w, const std::vector<std::pair<const v1::Item*, int64_t>>& off,
                 const std::string& reason, const std::string& step);

  Stub& stub_;
  cleaning::CleaningService& service_;
  kit::FakeClock& clock_;
  const std::string site_;
  const std::string parent_;
  const absl::TimeZone tz_;
};

void Demo::Stocktake(const v1::Warehouse& w,
                     const std::vector<std::pair<const v1::Item*, int64_t>>& off,
                     const std::string& reason, const std::string& step) {
  v1::OpenStocktakeRequest open;
  open.set_parent(parent_);
  open.set_warehouse(w.name());
  open.set_request_id(Id("stocktake/" + step));
  v1::Stocktake take = Call(&Stub::OpenStocktake, open, "OpenStocktake", "user:demo-storekeeper");
  // What the counter finds: the book (read from the ledger, which the
  // counter does not see) less what is off.
  v1::ListStockRequest stock_req;
  stock_req.set_parent(parent_);
  stock_req.set_warehouse(w.name());
  const v1::ListStockResponse stock = Call(&Stub::ListStock, stock_req, "ListStock");
  for (const v1::StockLevel& l : stock.levels()) {
    int64_t counted = l.on_hand();
    for (const auto& [item, delta] : off) {
      if (item->name() == l.item()) counted += delta;
    }
    v1::RecordCountRequest count;
    count.set_name(take.name());
    count.set_item(l.item());
    count.set_counted_quantity(counted);
    count.set_request_id(Id(absl::StrCat("stocktake/", step, "/", l.sku())));
    Call(&Stub::RecordCount, count, "RecordCount", "user:counter-ma");
  }
  v1::CloseStocktakeRequest close;
  close.set_name(take.name());
  close.set_reason(reason);
  close.set_approver("Manager Zhao");
  close.set_request_id(Id("stocktake/" + step + "/close"));
  Call(&Stub::CloseStocktake, close, "CloseStocktake", "user:demo-manager", "manager");
}

int Demo::Run(absl::CivilMonth month) {
  const absl::CivilDay first(month);
  const absl::CivilDay last = absl::CivilDay(month + 1) - 1;
  At(first, 7);
  v1::ListInspectionsRequest seen;
  seen.set_parent(parent_);
  seen.set_page_size(1);
  if (Call(&Stub::ListInspections, seen, "ListInspections").inspections_size() > 0) {
    std::cout << "demo cleaning already loaded: " << parent_ << " has inspections\n";
    return 0;
  }
  std::cout << "playing " << absl::FormatCivilTime(month) << " of " << parent_
            << "'s cleaning and warehouse" << std::endl;
  v1::UpdateCleaningSettingsRequest settings;
  settings.mutable_settings()->set_name(parent_ + "/cleaningSettings");
  settings.mutable_settings()->set_etag("\"0\"");
  settings.mutable_settings()->set_time_zone("Asia/Shanghai");
  settings.mutable_update_mask()->add_paths("time_zone");
  settings.set_request_id(Id("settings"));
  Call(&Stub::UpdateCleaningSettings, settings, "UpdateCleaningSettings", "user:demo-manager",
       "manager");

  const v1::Team a = Team("Team A (building 4)", "Monitor Wu");
  const v1::Team b = Team("Team B (outdoors)", "Monitor Sun");
  const v1::Shift early = Shift("early", "06:00", "14:00");
  const v1::Shift late = Shift("late", "14:00", "22:00");
  const v1::Zone lobby = Zone("Lobby, building 4", "4", a, 80,
                              {{"floor", 40}, {"glass", 20}, {"lift", 20}, {"bins", 20}});
  const v1::Zone corridors = Zone("Corridors, building 4", "4", a, 75,
                                  {{"floor", 50}, {"stairs", 30}, {"handrails", 20}});
  const v1::Zone garage = Zone("Garage", "", b, 70, {{"floor", 60}, {"drains", 40}});
  const v1::Zone street = Zone("Commercial street", "", b, 75,
                               {{"paving", 50}, {"bins", 30}, {"litter", 20}});
  const std::vector<v1::Zone> zones = {lobby, corridors, garage, street};
  v1::Schedule daily_by_8;
  daily_by_8.set_frequency(v1::DAILY);
  daily_by_8.set_due_by("08:00");
  Template(lobby, early, "Mop the lobby and wipe the lift doors before 8:00", daily_by_8);
  v1::Schedule daily;
  daily.set_frequency(v1::DAILY);
  Template(corridors, early, "Sweep corridors and stairs", daily);
  Template(street, late, "Sweep the street and empty its bins", daily);
  v1::Schedule twice_weekly;
  twice_weekly.set_frequency(v1::WEEKLY);
  twice_weekly.add_days_of_week(1);
  twice_weekly.add_days_of_week(4);
  Template(garage, late, "Hose the garage ramps and clear the drains", twice_weekly);
  v1::Schedule monthly;
  monthly.set_frequency(v1::MONTHLY);
  monthly.set_day_of_month(15);
  Template(lobby, early, "Deep-clean the lobby glass", monthly);

  const v1::Warehouse store = Warehouse("Main store", v1::STORE);
  const v1::Warehouse model = Warehouse("Model room, building 4", v1::MODEL_ROOM);
  const v1::Item mops = Item("MOP-HEAD", "Mop head", "piece", 10);
  const v1::Item gloves = Item("GLOVES-M", "Rubber gloves, M", "pair", 20);
  const v1::Item bleach = Item("BLEACH-5L", "Bleach, 5 L", "bottle", 4);
  const v1::Item bags = Item("TRASH-BAG-L", "Trash bags, large", "roll", 12);
  const v1::Item glass = Item("GLASS-CLEANER", "Glass cleaner, 500 ml", "bottle", 6);
  const v1::Item sofa = Item("SOFA-3S", "Three-seat sofa (model room)", "piece", 0);
  const v1::Item lamp = Item("TABLE-LAMP", "Table lamp (model room)", "piece", 0);
  Receive(store, mops, 40, 1250, "mops");
  Receive(store, gloves, 100, 350, "gloves");
  Receive(store, bleach, 20, 2800, "bleach");
  Receive(store, bags, 60, 900, "bags-1");
  Receive(store, glass, 24, 1500, "glass");
  Receive(model, sofa, 1, 420000, "sofa");
  Receive(model, lamp, 4, 18000, "lamp");

  v1::SetBudgetRequest budget;
  budget.mutable_budget()->set_name(absl::StrCat(parent_, "/budgets/", absl::FormatCivilTime(month)));
  budget.mutable_budget()->set_amount_minor(300000);
  v1::TeamBudget* ta = budget.mutable_budget()->add_teams();
  ta->set_team(a.name());
  ta->set_amount_minor(150000);
  v1::TeamBudget* tb = budget.mutable_budget()->add_teams();
  tb->set_team(b.name());
  tb->set_amount_minor(120000);
  budget.set_request_id(Id("budget"));
  Call(&Stub::SetBudget, budget, "SetBudget", "user:demo-manager", "manager");

  int tasks_done = 0, tasks_late = 0, inspections = 0, failed = 0, slips = 0;
  for (absl::CivilDay day = first; day <= last; ++day) {
    const int dom = day.day();
    At(day, 5, 30);
    v1::GenerateTasksRequest gen;
    gen.set_parent(parent_);
    gen.set_start_date(absl::FormatCivilTime(day));
    gen.set_end_date(absl::FormatCivilTime(day));
    Call(&Stub::GenerateTasks, gen, "GenerateTasks");
    v1::ListTasksRequest list;
    list.set_parent(parent_);
    list.set_start_date(absl::FormatCivilTime(day));
    list.set_end_date(absl::FormatCivilTime(day));
    list.set_page_size(100);
    const v1::ListTasksResponse tasks = Call(&Stub::ListTasks, list, "ListTasks");
    int n = 0;
    for (const v1::Task& t : tasks.tasks()) {
      const int roll = Roll(dom, ++n);
      if (t.state() != v1::PENDING || roll >= 95) continue;  // 5 % never done
      const absl::Time due = absl::FromUnixSeconds(t.due_time().seconds());
      clock_.Set(roll < 86 ? due - absl::Minutes(25 + roll % 30) : due + absl::Minutes(35));
      (roll < 86 ? tasks_done : tasks_late)++;
      v1::CompleteTaskRequest done;
      done.set_name(t.name());
      done.set_done_by(roll % 2 ? "Li Hua" : "Chen Fang");
      done.set_request_id(Id(absl::StrCat("task/", t.name())));
      Call(&Stub::CompleteTask, done, "CompleteTask");
    }
    const absl::Weekday wd = absl::GetWeekday(day);
    if (wd != absl::Weekday::saturday && wd != absl::Weekday::sunday) {
      At(day, 10);
      int z = 0;
      for (const v1::Zone& zone : zones) {
        v1::CreateInspectionRequest req;
        req.set_parent(parent_);
        req.set_request_id(Id(absl::StrCat("inspection/", dom, "/", z)));
        req.mutable_inspection()->set_zone(zone.name());
        req.mutable_inspection()->set_inspector("Supervisor Gao");
        int k = 0;
        for (const v1::StandardItem& item : zone.standard().items()) {
          // Mostly 78..97; now and then a bad day.
          const int r = Roll(dom * 10 + z, ++k);
          v1::ItemScore* s = req.mutable_inspection()->add_scores();
          s->set_code(item.code());
          s->set_score(r < 8 ? 55 + r : 78 + r % 20);
          if (r < 8) s->set_note("not up to standard");
        }
        if (Roll(dom, 100 + z) < 10) {
          req.mutable_inspection()->add_photo_uris(
              absl::StrCat("https://photos.example/", site_, "/", dom, "-", z, ".jpg"));
        }
        const v1::Inspection in = Call(&Stub::CreateInspection, req, "CreateInspection", "user:gao");
        ++inspections;
        if (!in.passed()) ++failed;
        ++z;
      }
    }
    if (wd == absl::Weekday::monday || wd == absl::Weekday::thursday) {
      At(day, 14, 30);
      Slip(store, a, lobby, {{&mops, 3}, {&gloves, 6}, {&bags, 4}, {&glass, 2}},
           absl::StrCat(dom, "/a"));
      Slip(store, b, street, {{&gloves, 4}, {&bags, 6}, {&bleach, 2}}, absl::StrCat(dom, "/b"));
      slips += 2;
    }
    if (dom == 12) {
      At(day, 11);
      Receive(store, bags, 40, 960, "bags-2");  // dearer: the average moves
    }
    if (dom == 20) {
      At(day, 16);
      v1::ReturnStockRequest ret;
      ret.set_parent(parent_);
      ret.set_warehouse(store.name());
      ret.set_item(gloves.name());
      ret.set_quantity(4);
      ret.set_team(b.name());
      ret.set_zone(street.name());
      ret.set_reason("unused after the rain week");
      ret.set_request_id(Id("return/gloves"));
      Call(&Stub::ReturnStock, ret, "ReturnStock", "user:demo-storekeeper");
    }
    At(day + 1, 0, 5);
    // What the service's own job does after midnight: the day's undone tasks
    // become missed.
    if (absl::Status s = service_.RunTaskJobs(); !s.ok()) {
      std::cerr << "task jobs failed: " << s << "\n";
      return 1;
    }
  }
  At(last, 17);
  Stocktake(store, {{&gloves, -2}, {&bags, 1}}, "month-end count: two pairs of gloves unaccounted for",
            "store");
  Stocktake(model, {{&lamp, -1}}, "monthly model room check: one table lamp damaged, reported",
            "model");
  At(last + 1, 9);
  v1::CloseInventoryPeriodRequest close;
  close.set_parent(parent_);
  close.set_month(absl::FormatCivilTime(month));
  close.set_request_id(Id("close-period"));
  Call(&Stub::CloseInventoryPeriod, close, "CloseInventoryPeriod", "user:demo-manager", "manager");
  std::cout << "cleaning: " << tasks_done << " tasks done on time, " << tasks_late << " late, "
            << inspections << " inspections (" << failed << " failed: rectification tickets), "
            << slips << " issue slips, two stocktakes, " << absl::FormatCivilTime(month)
            << " closed\n";
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  kit::ParseFlagsWithEnv(argc, argv,
                         "Plays last month of a demo site's cleaning and warehouse through the "
                         "cleaning service's API (in-process, on the cleaning schema).");
  absl::StatusOr<kit::HostOptions> options =
      kit::HostOptionsFromFlags({"cleaning", "127.0.0.1:0", "127.0.0.1:0"});
  if (!options.ok()) {
    std::cerr << options.status() << "\n";
    return 1;
  }
  options->server.grpc_addr = "127.0.0.1:0";
  options->server.metrics_addr = "127.0.0.1:0";
  absl::TimeZone tz;
  if (!absl::LoadTimeZone("Asia/Shanghai", &tz)) {
    std::cerr << "the Asia/Shanghai time zone is not installed (tzdata)\n";
    return 1;
  }
  const absl::CivilMonth last_month = absl::CivilMonth(absl::ToCivilDay(absl::Now(), tz)) - 1;
  kit::FakeClock clock(absl::FromCivil(absl::CivilDay(last_month), tz));
  absl::StatusOr<std::unique_ptr<kit::ServiceHost>> host =
      kit::ServiceHost::Create(*options, estate_cleaning_migrations());
  if (!host.ok()) {
    std::cerr << "cannot reach the cleaning schema: " << host.status() << "\n";
    return 1;
  }
  cleaning::CleaningOptions cleaning_options;
  cleaning_options.job_interval = absl::Hours(24 * 365);
  cleaning::CleaningService* service = cleaning::RegisterCleaning(**host, clock, cleaning_options);
  if (absl::Status s = (*host)->Start(); !s.ok()) {
    std::cerr << s << "\n";
    return 1;
  }
  auto stub = v1::CleaningService::NewStub(grpc::CreateChannel(
      absl::StrCat("127.0.0.1:", (*host)->grpc_port()), grpc::InsecureChannelCredentials()));
  Demo demo(*stub, *service, clock, absl::GetFlag(FLAGS_site), tz);
  const int rc = demo.Run(last_month);
  (*host)->Shutdown();
  return rc;
}
