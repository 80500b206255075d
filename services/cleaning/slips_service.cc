// The warehouse's paperwork: issue slips and their signatures, stocktakes,
// closed periods, budgets and the consumption report.
#include <map>
#include <set>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "services/cleaning/cleaning_internal.h"
#include "services/cleaning/cleaning_service.h"
#include "services/cleaning/inspection.h"
#include "services/cleaning/schedule.h"
#include "services/cleaning/stock.h"
#include "services/cleaning/stock_store.h"
#include "services/cleaning/work_store.h"
#include "services/kit/errors.h"
#include "services/kit/idempotency.h"
#include "services/kit/list.h"
#include "services/kit/paging.h"
#include "services/kit/proto_time.h"
#include "services/kit/rpc_context.h"
#include "services/kit/status_macros.h"
#include "services/kit/validate.h"

namespace cleaning {

using kit::FieldError;
using kit::ToGrpc;

namespace {

bool IsManager(absl::string_view roles) {
  for (absl::string_view r : absl::StrSplit(roles, ',', absl::SkipEmpty())) {
    if (r == "manager" || r == "admin") return true;
  }
  return false;
}

// While counting, the counter sees what to count, not what the book says.
v1::Stocktake View(v1::Stocktake t) {
  if (t.state() == v1::COUNTING) {
    for (v1::StocktakeLine& l : *t.mutable_lines()) {
      l.clear_book_quantity();
      l.clear_moved_during_count();
      l.clear_variance();
      l.clear_variance_value_minor();
      l.clear_flagged();
    }
    t.clear_variance_value_minor();
  }
  return t;
}

}  // namespace

grpc::Status CleaningService::CreateIssueSlip(grpc::ServerContext* ctx,
                                              const v1::CreateIssueSlipRequest* req,
                                              v1::IssueSlip* resp) {
  absl::StatusOr<std::string> site = kit::ParseSiteParent("parent", req->parent());
  if (!site.ok()) return ToGrpc(site.status());
  RETURN_GRPC_IF_ERROR(kit::CheckRequestId(req->request_id()));
  const v1::IssueSlip& in = req->slip();
  store::SlipRow row;
  absl::StatusOr<int64_t> id = IdIn("slip.warehouse", in.warehouse(), "warehouses", *site);
  if (!id.ok()) return ToGrpc(id.status());
  row.warehouse_id = *id;
  id = IdIn("slip.team", in.team(), "teams", *site);
  if (!id.ok()) return ToGrpc(id.status());
  row.team_id = *id;
  id = OptionalIdIn("slip.zone", in.zone(), "zones", *site);
  if (!id.ok()) return ToGrpc(id.status());
  row.zone_id = *id;
  RETURN_GRPC_IF_ERROR(kit::CheckText("slip.purpose", in.purpose(), 500, false));
  if (in.lines().empty() || in.lines_size() > 50) return ToGrpc(FieldError("slip.lines", "1 to 50 lines"));
  std::vector<int64_t> items;
  for (const v1::SlipLine& l : in.lines()) {
    absl::StatusOr<int64_t> item = IdIn("slip.lines.item", l.item(), "items", *site);
    if (!item.ok()) return ToGrpc(item.status());
    if (l.quantity() <= 0 || l.quantity() > 1'000'000'000) {
      return ToGrpc(FieldError("slip.lines.quantity", "a positive whole number of units"));
    }
    items.push_back(*item);
  }
  if (std::set<int64_t>(items.begin(), items.end()).size() != items.size()) {
    return ToGrpc(FieldError("slip.lines", "one line per item"));
  }
  row.slip.set_purpose(in.purpose());
  *row.slip.mutable_lines() = in.lines();
  const std::string actor = kit::CallerOf(*ctx);
  return ToGrpc(kit::IdempotentWrite(
      db_, kit::DeadlineOf(*ctx), "CreateIssueSlip", req->request_id(), *req, resp,
      [&](kit::Conn& c) -> absl::Status {
        RETURN_IF_ERROR(store::ReadWarehouse(c, *site, row.warehouse_id).status());
        RETURN_IF_ERROR(store::CheckTeam(c, *site, row.team_id));
        if (row.zone_id != 0) RETURN_IF_ERROR(store::ReadZone(c, *site, row.zone_id, false).status());
        for (int64_t item : items) RETURN_IF_ERROR(store::ReadItem(c, *site, item).status());
        store::SlipRow created = row;
        RETURN_IF_ERROR(store::InsertSlip(c, *site, created, actor, clock_.Now()).status());
        *resp = created.slip;
        return absl::OkStatus();
      }));
}

grpc::Status CleaningService::GetIssueSlip(grpc::ServerContext* ctx,
                                           const v1::GetIssueSlipRequest* req,
                                           v1::IssueSlip* resp) {
  return ToGrpc(kit::GetOne(
      db_, kit::DeadlineOf(*ctx), req->name(), "issueSlips",
      [&](kit::Conn& c, const kit::SiteId& ref) {
        return store::ReadSlip(c, ref.site, ref.id, false);
      },
      [&](const store::SlipRow& s) { *resp = s.slip; }));
}

grpc::Status CleaningService::ListIssueSlips(grpc::ServerContext* ctx,
                                             const v1::ListIssueSlipsRequest* req,
                                             v1::ListIssueSlipsResponse* resp) {
  if (!v1::SlipState_IsValid(req->state())) return ToGrpc(FieldError("state", "unknown"));
  return ToGrpc(kit::ListPage(
      db_, kit::DeadlineOf(*ctx), *req, resp->mutable_next_page_token(),
      [&](kit::Conn& c, const std::string& site, const kit::Page& page) {
        return store::ListSlips(c, site, req->state(), page.after, page.size + 1);
      },
      [](const auto& r) { return r.id; },
      [&](const store::SlipRow& s) { *resp->add_slips() = s.slip; }));
}

grpc::Status CleaningService::SignIssueSlip(grpc::ServerContext* ctx,
                                            const v1::SignIssueSlipRequest* req,
                                            v1::IssueSlip* resp) {
  absl::StatusOr<kit::SiteId> ref = kit::ParseSiteId("name", req->name(), "issueSlips");
  if (!ref.ok()) return ToGrpc(ref.status());
  RETURN_GRPC_IF_ERROR(kit::CheckRequestId(req->request_id()));
  if (req->role() < v1::RECIPIENT || req->role() > v1::MANAGER) {
    return ToGrpc(FieldError("role", "required: RECIPIENT, MONITOR or MANAGER"));
  }
  const std::string signer = kit::CallerOf(*ctx);
  const bool manager = IsManager(kit::RolesOf(*ctx));
  return ToGrpc(kit::IdempotentWrite(
      db_, kit::DeadlineOf(*ctx), "SignIssueSlip", req->request_id(), *req, resp,
      [&](kit::Conn& c) -> absl::Status {
        ASSIGN_OR_RETURN(store::SlipRow s, store::ReadSlip(c, ref->site, ref->id, true));
        std::vector<std::string> earlier;
        for (const v1::Signature& sig : s.slip.signatures()) earlier.push_back(sig.signer());
        RETURN_IF_ERROR(CheckSignature(s.slip.state(), req->role(), earlier, signer, manager));
        RETURN_IF_ERROR(store::AddSignature(c, s.id, req->role(), signer, clock_.Now()));
        s.slip.set_state(StateAfter(req->role()));
        RETURN_IF_ERROR(store::UpdateSlip(c, s));
        ASSIGN_OR_RETURN(store::SlipRow after, store::ReadSlip(c, ref->site, ref->id, false));
        *resp = after.slip;
        return absl::OkStatus();
      }));
}

grpc::Status CleaningService::PostIssueSlip(grpc::ServerContext* ctx,
                                            const v1::PostIssueSlipRequest* req,
                                            v1::IssueSlip* resp) {
  absl::StatusOr<kit::SiteId> ref = kit::ParseSiteId("name", req->name(), "issueSlips");
  if (!ref.ok()) return ToGrpc(ref.status());
  RETURN_GRPC_IF_ERROR(kit::CheckRequestId(req->request_id()));
  const std::string actor = kit::CallerOf(*ctx);
  return ToGrpc(kit::IdempotentWrite(
      db_, kit::DeadlineOf(*ctx), "PostIssueSlip", req->request_id(), *req, resp,
      [&](kit::Conn& c) -> absl::Status {
        ASSIGN_OR_RETURN(store::SlipRow s, store::ReadSlip(c, ref->site, ref->id, true));
        if (s.slip.state() != v1::MANAGER_SIGNED) {
          return absl::FailedPreconditionError(
              s.slip.state() == v1::POSTED ? "the slip is posted already"
                                           : "a slip is posted once the recipient, the monitor "
                                             "and a manager have signed it");
        }
        std::vector<int64_t> items;
        for (const v1::SlipLine& l : s.slip.lines()) {
          ASSIGN_OR_RETURN(int64_t id, IdIn("lines.item", l.item(), "items", ref->site));
          items.push_back(id);
        }
        RETURN_IF_ERROR(store::LockItems(c, ref->site, items));
        ASSIGN_OR_RETURN(absl::CivilDay today, TodayAt(c, ref->site));
        const absl::Time now = clock_.Now();
        int64_t total = 0;
        for (size_t i = 0; i < items.size(); ++i) {
          const int64_t quantity = s.slip.lines(i).quantity();
          ASSIGN_OR_RETURN(Position p, store::ReadPosition(c, s.warehouse_id, items[i]));
          absl::StatusOr<int64_t> value = OutValue(p, quantity);
          if (!value.ok()) {
            return absl::FailedPreconditionError(absl::StrCat(
                s.slip.lines(i).item(), ": ", value.status().message(), "; nothing was issued"));
          }
          store::MoveRow m;
          m.site = ref->site;
          m.warehouse_id = s.warehouse_id;
          m.item_id = items[i];
          m.kind = v1::ISSUE;
          m.quantity = -quantity;
          m.value = -*value;
          m.effective = today;
          m.team_id = s.team_id;
          m.zone_id = s.zone_id;
          m.reference = s.slip.name();
          m.posted_by = actor;
          m.posted_at = now;
          RETURN_IF_ERROR(Post(c, m).status());
          total += *value;
        }
        s.slip.set_state(v1::POSTED);
        s.slip.set_value_minor(total);
        s.slip.set_posted_by(actor);
        kit::SetTimestamp(s.slip.mutable_post_time(), now);
        RETURN_IF_ERROR(store::UpdateSlip(c, s));
        *resp = s.slip;
        return absl::OkStatus();
      }));
}

grpc::Status CleaningService::CancelIssueSlip(grpc::ServerContext* ctx,
                                              const v1::CancelIssueSlipRequest* req,
                                              v1::IssueSlip* resp) {
  absl::StatusOr<kit::SiteId> ref = kit::ParseSiteId("name", req->name(), "issueSlips");
  if (!ref.ok()) return ToGrpc(ref.status());
  RETURN_GRPC_IF_ERROR(kit::CheckRequestId(req->request_id()));
  RETURN_GRPC_IF_ERROR(kit::CheckText("reason", req->reason(), 500, true));
  return ToGrpc(kit::IdempotentWrite(
      db_, kit::DeadlineOf(*ctx), "CancelIssueSlip", req->request_id(), *req, resp,
      [&](kit::Conn& c) -> absl::Status {
        ASSIGN_OR_RETURN(store::SlipRow s, store::ReadSlip(c, ref->site, ref->id, true));
        if (s.slip.state() == v1::POSTED || s.slip.state() == v1::CANCELLED) {
          return absl::FailedPreconditionError("a posted or cancelled slip cannot be cancelled");
        }
        s.slip.set_state(v1::CANCELLED);
        RETURN_IF_ERROR(store::UpdateSlip(c, s, req->reason()));
        *resp = s.slip;
        return absl::OkStatus();
      }));
}

grpc::Status CleaningService::OpenStocktake(grpc::ServerContext* ctx,
                                            const v1::OpenStocktakeRequest* req,
                                            v1::Stocktake* resp) {
  absl::StatusOr<std::string> site = kit::ParseSiteParent("parent", req->parent());
  if (!site.ok()) return ToGrpc(site.status());
  RETURN_GRPC_IF_ERROR(kit::CheckRequestId(req->request_id()));
  absl::StatusOr<int64_t> warehouse = IdIn("warehouse", req->warehouse(), "warehouses", *site);
  if (!warehouse.ok()) return ToGrpc(warehouse.status());
  const std::string actor = kit::CallerOf(*ctx);
  return ToGrpc(kit::IdempotentWrite(
      db_, kit::DeadlineOf(*ctx), "OpenStocktake", req->request_id(), *req, resp,
      [&](kit::Conn& c) -> absl::Status {
        RETURN_IF_ERROR(store::ReadWarehouse(c, *site, *warehouse).status());
        absl::StatusOr<int64_t> id = store::InsertStocktake(c, *site, *warehouse, actor, clock_.Now());
        RETURN_IF_ERROR(id.status());
        ASSIGN_OR_RETURN(store::StocktakeRow t, store::ReadStocktake(c, *site, *id, false));
        *resp = View(t.take);
        return absl::OkStatus();
      }));
}

grpc::Status CleaningService::GetStocktake(grpc::ServerContext* ctx,
                                           const v1::GetStocktakeRequest* req,
                                           v1::Stocktake* resp) {
  return ToGrpc(kit::GetOne(
      db_, kit::DeadlineOf(*ctx), req->name(), "stocktakes",
      [&](kit::Conn& c, const kit::SiteId& ref) {
        return store::ReadStocktake(c, ref.site, ref.id, false);
      },
      [&](const store::StocktakeRow& t) { *resp = View(t.take); }));
}

grpc::Status CleaningService::RecordCount(grpc::ServerContext* ctx,
                                          const v1::RecordCountRequest* req, v1::Stocktake* resp) {
  absl::StatusOr<kit::SiteId> ref = kit::ParseSiteId("name", req->name(), "stocktakes");
  if (!ref.ok()) return ToGrpc(ref.status());
  RETURN_GRPC_IF_ERROR(kit::CheckRequestId(req->request_id()));
  absl::StatusOr<int64_t> item = IdIn("item", req->item(), "items", ref->site);
  if (!item.ok()) return ToGrpc(item.status());
  if (req->counted_quantity() < 0 || req->counted_quantity() > 1'000'000'000) {
    return ToGrpc(FieldError("counted_quantity", "0 or more units"));
  }
  const std::string actor = kit::CallerOf(*ctx);
  return ToGrpc(kit::IdempotentWrite(
      db_, kit::DeadlineOf(*ctx), "RecordCount", req->request_id(), *req, resp,
      [&](kit::Conn& c) -> absl::Status {
        ASSIGN_OR_RETURN(store::StocktakeRow t, store::ReadStocktake(c, ref->site, ref->id, true));
        if (t.take.state() != v1::COUNTING) return absl::FailedPreconditionError("the count is closed");
        RETURN_IF_ERROR(store::ReadItem(c, ref->site, *item).status());
        RETURN_IF_ERROR(store::RecordCount(c, t.id, *item, req->counted_quantity(), actor));
        ASSIGN_OR_RETURN(t, store::ReadStocktake(c, ref->site, ref->id, false));
        *resp = View(t.take);
        return absl::OkStatus();
      }));
}

grpc::Status CleaningService::CloseStocktake(grpc::ServerContext* ctx,
                                             const v1::CloseStocktakeRequest* req,
                                             v1::Stocktake* resp) {
  absl::StatusOr<kit::SiteId> ref = kit::ParseSiteId("name", req->name(), "stocktakes");
  if (!ref.ok()) return ToGrpc(ref.status());
  RETURN_GRPC_IF_ERROR(kit::CheckRequestId(req->request_id()));
  RETURN_GRPC_IF_ERROR(kit::CheckText("reason", req->reason(), 500, true));
  RETURN_GRPC_IF_ERROR(kit::CheckText("approver", req->approver(), 200, true));
  const std::string actor = kit::CallerOf(*ctx);
  return ToGrpc(kit::IdempotentWrite(
      db_, kit::DeadlineOf(*ctx), "CloseStocktake", req->request_id(), *req, resp,
      [&](kit::Conn& c) -> absl::Status {
        ASSIGN_OR_RETURN(store::StocktakeRow t, store::ReadStocktake(c, ref->site, ref->id, true));
        if (t.take.state() != v1::COUNTING) return absl::FailedPreconditionError("the count is closed");
        std::vector<std::string> uncounted;
        for (const v1::StocktakeLine& l : t.take.lines()) {
          if (!l.counted()) uncounted.push_back(l.sku());
        }
        if (!uncounted.empty()) {
          return absl::FailedPreconditionError(
              absl::StrCat("not counted yet: ", absl::StrJoin(uncounted, ", ")));
        }
        RETURN_IF_ERROR(store::LockItems(c, ref->site, t.line_items));
        ASSIGN_OR_RETURN(absl::CivilDay today, TodayAt(c, ref->site));
        const absl::Time now = clock_.Now();
        std::vector<store::LineOutcome> outcomes;
        for (int i = 0; i < t.take.lines_size(); ++i) {
          const v1::StocktakeLine& l = t.take.lines(i);
          const int64_t item = t.line_items[i];
          ASSIGN_OR_RETURN(Position p, store::ReadPosition(c, t.warehouse_id, item));
          store::LineOutcome o;
          o.item_id = item;
          // The count is of the shelf as the count opened; what moved since
          // is in the ledger already (and flags the line).
          o.moved = p.quantity - l.book_quantity();
          o.variance = l.counted_quantity() - l.book_quantity();
          if (o.variance != 0) {
            store::MoveRow m;
            m.site = ref->site;
            m.warehouse_id = t.warehouse_id;
            m.item_id = item;
            m.kind = v1::ADJUSTMENT;
            m.quantity = o.variance;
            m.effective = today;
            m.reference = t.take.name();
            m.reason = req->reason();  // the reference names the stocktake
            m.approver = req->approver();
            m.posted_by = actor;
            m.posted_at = now;
            RETURN_IF_ERROR(PostAtAverage(c, m).status());
            o.variance_value = m.value;
          }
          outcomes.push_back(o);
        }
        RETURN_IF_ERROR(store::CloseStocktake(c, t.id, outcomes, actor, req->approver(),
                                              req->reason(), now));
        ASSIGN_OR_RETURN(t, store::ReadStocktake(c, ref->site, ref->id, false));
        *resp = View(t.take);
        return absl::OkStatus();
      }));
}

grpc::Status CleaningService::ListStocktakes(grpc::ServerContext* ctx,
                                             const v1::ListStocktakesRequest* req,
                                             v1::ListStocktakesResponse* resp) {
  absl::StatusOr<std::string> site = kit::ParseSiteParent("parent", req->parent());
  if (!site.ok()) return ToGrpc(site.status());
  absl::StatusOr<int64_t> warehouse = OptionalIdIn("warehouse", req->warehouse(), "warehouses", *site);
  if (!warehouse.ok()) return ToGrpc(warehouse.status());
  return ToGrpc(kit::ListRows(
      db_, kit::DeadlineOf(*ctx), *req, resp->mutable_next_page_token(),
      [&](kit::Conn& c, const kit::Page& page) {
        return store::ListStocktakes(c, *site, *warehouse, page.after, page.size + 1);
      },
      [](const auto& r) { return r.id; },
      [&](const store::StocktakeRow& t) { *resp->add_stocktakes() = View(t.take); }));
}

grpc::Status CleaningService::CloseInventoryPeriod(grpc::ServerContext* ctx,
                                                   const v1::CloseInventoryPeriodRequest* req,
                                                   v1::InventoryPeriod* resp) {
  absl::StatusOr<std::string> site = kit::ParseSiteParent("parent", req->parent());
  if (!site.ok()) return ToGrpc(site.status());
  RETURN_GRPC_IF_ERROR(kit::CheckRequestId(req->request_id()));
  const std::optional<absl::CivilMonth> month = ParseMonth(req->month());
  if (!month) return ToGrpc(FieldError("month", "required: YYYY-MM"));
  const std::string actor = kit::CallerOf(*ctx);
  return ToGrpc(kit::IdempotentWrite(
      db_, kit::DeadlineOf(*ctx), "CloseInventoryPeriod", req->request_id(), *req, resp,
      [&](kit::Conn& c) -> absl::Status {
        ASSIGN_OR_RETURN(absl::CivilDay today, TodayAt(c, *site));
        if (*month >= absl::CivilMonth(today)) {
          return FieldError("month", "only a month that has ended can be closed");
        }
        // Exclusive with every ledger write of the site (they hold it shared
        // from their period check to their commit).
        RETURN_IF_ERROR(store::LockSettings(c, *site, true));
        ASSIGN_OR_RETURN(std::optional<absl::CivilMonth> closed, store::ClosedThrough(c, *site));
        if (closed && *month <= *closed) {
          return absl::FailedPreconditionError(
              absl::StrCat("closed already: the site is closed through ",
                           absl::FormatCivilTime(*closed)));
        }
        const absl::Time now = clock_.Now();
        RETURN_IF_ERROR(store::ClosePeriod(c, *site, *month, actor, now));
        resp->set_name(absl::StrCat("sites/", *site, "/inventoryPeriods/", req->month()));
        resp->set_closed(true);
        resp->set_closed_by(actor);
        kit::SetTimestamp(resp->mutable_close_time(), now);
        return absl::OkStatus();
      }));
}

grpc::Status CleaningService::SetBudget(grpc::ServerContext* ctx, const v1::SetBudgetRequest* req,
                                        v1::Budget* resp) {
  absl::StatusOr<std::pair<std::string, std::string>> ref =
      SiteAndKey("budget.name", req->budget().name(), "budgets", true);
  if (!ref.ok()) return ToGrpc(ref.status());
  const std::string& site = ref->first;
  if (!ParseMonth(ref->second)) return ToGrpc(FieldError("budget.name", "the key is a month, YYYY-MM"));
  RETURN_GRPC_IF_ERROR(kit::CheckRequestId(req->request_id()));
  if (req->budget().amount_minor() < 0) {
    return ToGrpc(FieldError("budget.amount_minor", "0 or more minor units"));
  }
  std::vector<std::pair<int64_t, int64_t>> teams;
  for (const v1::TeamBudget& t : req->budget().teams()) {
    absl::StatusOr<int64_t> id = IdIn("budget.teams.team", t.team(), "teams", site);
    if (!id.ok()) return ToGrpc(id.status());
    if (t.amount_minor() < 0) return ToGrpc(FieldError("budget.teams.amount_minor", "0 or more"));
    for (const auto& [seen, amount] : teams) {
      if (seen == *id) return ToGrpc(FieldError("budget.teams", "one entry per team"));
    }
    teams.emplace_back(*id, t.amount_minor());
  }
  return ToGrpc(kit::IdempotentWrite(
      db_, kit::DeadlineOf(*ctx), "SetBudget", req->request_id(), *req, resp,
      [&](kit::Conn& c) -> absl::Status {
        RETURN_IF_ERROR(store::ClearBudget(c, site, ref->second));
        RETURN_IF_ERROR(store::WriteBudget(c, site, ref->second, 0, req->budget().amount_minor()));
        for (const auto& [team, amount] : teams) {
          RETURN_IF_ERROR(store::CheckTeam(c, site, team));
          RETURN_IF_ERROR(store::WriteBudget(c, site, ref->second, team, amount));
        }
        *resp = req->budget();
        return absl::OkStatus();
      }));
}

grpc::Status CleaningService::GetConsumptionReport(grpc::ServerContext* ctx,
                                                   const v1::GetConsumptionReportRequest* req,
                                                   v1::ConsumptionReport* resp) {
  absl::StatusOr<std::string> site = kit::ParseSiteParent("parent", req->parent());
  if (!site.ok()) return ToGrpc(site.status());
  const std::optional<absl::CivilMonth> month = ParseMonth(req->month());
  if (!month) return ToGrpc(FieldError("month", "required: YYYY-MM"));
  return ToGrpc(db_.Run(kit::DeadlineOf(*ctx), [&](kit::Conn& c) -> absl::Status {
    ASSIGN_OR_RETURN(store::Settings settings, store::ReadSettings(c, *site, false));
    const absl::CivilDay first(*month);
    ASSIGN_OR_RETURN(auto sums,
                     store::SumConsumption(c, *site, first, absl::CivilDay(*month + 1) - 1));
    ASSIGN_OR_RETURN(auto budgets, store::ReadBudgets(c, *site, req->month()));
    std::map<int64_t, int64_t> budget_of(budgets.begin(), budgets.end());
    ASSIGN_OR_RETURN(DisplayNames names, NamesOf(c, *site));
    std::map<int64_t, int64_t> consumed_by_team;
    int64_t consumed = 0;
    resp->set_month(req->month());
    resp->set_currency(settings.currency);
    for (const store::ConsumptionSums& s : sums) {
      v1::ConsumptionRow* row = resp->add_rows();
      if (s.team_id != 0) {
        row->set_team(NameOf(*site, "teams", s.team_id));
        row->set_team_display_name(names.teams[s.team_id]);
      }
      if (s.zone_id != 0) {
        row->set_zone(NameOf(*site, "zones", s.zone_id));
        row->set_zone_display_name(names.zones[s.zone_id]);
      }
      row->set_issued_minor(s.issued);
      row->set_returned_minor(s.returned);
      row->set_consumed_minor(s.issued - s.returned);
      consumed_by_team[s.team_id] += s.issued - s.returned;
      consumed += s.issued - s.returned;
    }
    for (const auto& [team, amount] : budget_of) {
      if (team != 0) consumed_by_team.emplace(team, 0);
    }
    for (const auto& [team, amount] : consumed_by_team) {
      v1::TeamConsumption* t = resp->add_teams();
      if (team != 0) {
        t->set_team(NameOf(*site, "teams", team));
        t->set_team_display_name(names.teams[team]);
      }
      t->set_consumed_minor(amount);
      const int64_t budget = team != 0 && budget_of.count(team) ? budget_of[team] : 0;
      t->set_budget_minor(budget);
      t->set_budget_used_bp(RateBp(amount, budget));
    }
    resp->set_consumed_minor(consumed);
    resp->set_budget_minor(budget_of.count(0) ? budget_of[0] : 0);
    resp->set_budget_used_bp(RateBp(consumed, resp->budget_minor()));
    return absl::OkStatus();
  }));
}

}  // namespace cleaning
