// Bill runs: the dry run, its lines, and the batched commit.
#include <algorithm>
#include <limits>
#include <map>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "services/billing/billing_internal.h"
#include "services/billing/billing_service.h"
#include "services/billing/billing_validation.h"
#include "services/billing/billing_views.h"
#include "services/kit/errors.h"
#include "services/kit/idempotency.h"
#include "services/kit/list.h"
#include "services/kit/paging.h"
#include "services/kit/rpc_context.h"
#include "services/kit/status_macros.h"
#include "services/kit/validate.h"
#include "spdlog/spdlog.h"

namespace billing {

using kit::FieldError;
using kit::ToGrpc;

absl::CivilDay DayOfTime(absl::Time t) { return absl::ToCivilDay(t, absl::UTCTimeZone()); }
absl::CivilDay LatestDayOfTime(absl::Time t) {
  return absl::ToCivilDay(t, absl::FixedTimeZone(14 * 60 * 60));
}

namespace {

// The lines a run would issue for a page of accounts (ids in (after, last]):
// those not issued yet for the period (by this run or any other), and how
// many already were.
// Items the run could not price, by code: why, and the accounts each
// would have billed.
struct Unpriced {
  std::string reason;
  std::vector<std::string> units;
};
using UnpricedItems = std::map<std::string, Unpriced>;

// "charge item water cannot be priced (tiers[1].up_to: ...) for 3
// account(s): 1-1-0101, ...; correct it with UpdateChargeItem or retire it".
std::string UnpricedMessage(const UnpricedItems& items) {
  constexpr size_t kListed = 20;
  std::vector<std::string> parts;
  for (const auto& [code, u] : items) {
    std::vector<std::string> shown(u.units.begin(),
                                   u.units.begin() + std::min(kListed, u.units.size()));
    parts.push_back(absl::StrCat(
        "charge item ", code, " cannot be priced (", u.reason, ") for ", u.units.size(),
        " account(s): ", absl::StrJoin(shown, ", "),
        u.units.size() > kListed ? absl::StrCat(" and ", u.units.size() - kListed, " more") : ""));
  }
  return absl::StrCat(absl::StrJoin(parts, "; "),
                      "; correct the item (UpdateChargeItem) or retire it (effective_to)");
}

void Merge(const UnpricedItems& from, UnpricedItems* into) {
  for (const auto& [code, u] : from) {
    Unpriced& to = (*into)[code];
    if (to.reason.empty()) to.reason = u.reason;
    to.units.insert(to.units.end(), u.units.begin(), u.units.end());
  }
}

struct PlannedPage {
  std::vector<store::RunAccount> accounts;
  std::vector<ChargeLine> lines;  // in account order
  int64_t skipped = 0;
  UnpricedItems unpriced;
};

absl::StatusOr<PlannedPage> PlanPage(kit::Conn& c, const std::string& site,
                                     const std::map<int64_t, ChargeRule>& rules, Cycle cycle,
                                     const Period& period, int64_t after, int64_t last,
                                     int limit) {
  PlannedPage out;
  ASSIGN_OR_RETURN(out.accounts,
                   store::ReadRunAccounts(c, site, after, last, limit, period.start, period.end));
  if (out.accounts.empty()) return out;
  ASSIGN_OR_RETURN(auto issued,
                   store::IssuedLines(c, out.accounts.front().facts.id,
                                      out.accounts.back().facts.id, {period.label, kOnceLabel}));
  for (const store::RunAccount& a : out.accounts) {
    std::vector<PricingFailure> failures;
    ASSIGN_OR_RETURN(std::vector<ChargeLine> lines,
                     LinesFor(a.facts, rules, cycle, period, &failures));
    for (const PricingFailure& f : failures) {
      Unpriced& u = out.unpriced[f.code];
      if (u.reason.empty()) u.reason = f.reason;
      u.units.push_back(a.unit);
    }
    for (ChargeLine& l : lines) {
      if (issued.count({l.account_id, l.item_id, l.period_label})) {
        ++out.skipped;
      } else {
        out.lines.push_back(std::move(l));
      }
    }
  }
  return out;
}

// The period a run covers, as its draft recorded it.
Period PeriodOf(const v1::BillRun& draft) {
  return Period{store::DayOf(draft.period_start()), store::DayOf(draft.period_end()),
                draft.period()};
}

void AddAmount(std::map<std::string, v1::Amount>& m, const std::string& key, int64_t amount) {
  v1::Amount& a = m[key];
  a.set_key(key);
  a.set_lines(a.lines() + 1);
  a.set_amount_minor(a.amount_minor() + amount);
}


constexpr int kPlanPage = 2000;
// Line positions in a draft's page token: account id x this + line index.
constexpr int64_t kLinesPerAccountSlot = 1024;

}  // namespace

grpc::Status BillingService::CreateBillRun(grpc::ServerContext* ctx,
                                           const v1::CreateBillRunRequest* req,
                                           v1::BillRun* resp) {
  absl::StatusOr<std::string> site = kit::ParseSiteParent("parent", req->parent());
  if (!site.ok()) return ToGrpc(site.status());
  RETURN_GRPC_IF_ERROR(kit::CheckRequestId(req->request_id()));
  const v1::BillRun& in = req->bill_run();
  if (in.cycle() < v1::MONTHLY || in.cycle() > v1::HEATING_SEASON) {
    return ToGrpc(
        FieldError("bill_run.cycle", "required: MONTHLY, QUARTERLY, YEARLY or HEATING_SEASON"));
  }
  absl::StatusOr<absl::CivilDay> day = ParseDay("bill_run.period_date", in.period_date());
  if (!day.ok()) return ToGrpc(day.status());
  const Cycle cycle = CycleOf(in.cycle());
  const std::string actor = kit::CallerOf(*ctx);
  return ToGrpc(kit::IdempotentWrite(
      db_, kit::DeadlineOf(*ctx), "CreateBillRun", req->request_id(), *req, resp,
      [&](kit::Conn& c) -> absl::Status {
        ASSIGN_OR_RETURN(store::Settings settings, store::ReadSettings(c, *site, false));
        std::optional<Period> period = PeriodContaining(cycle, *day, settings.season);
        if (!period.has_value()) {
          return FieldError("bill_run.period_date", "outside the site's heating season");
        }
        ASSIGN_OR_RETURN(auto rules, store::ReadRules(c, *site));
        store::RunRow run;
        run.site = *site;
        run.created_by = actor;
        v1::BillRun& d = run.draft;
        d.set_cycle(in.cycle());
        d.set_period_date(store::DayText(*day));
        d.set_period(period->label);
        d.set_period_start(store::DayText(period->start));
        d.set_period_end(store::DayText(period->end));
        d.set_currency_code(settings.currency);
        std::map<std::string, v1::Amount> by_item, by_building;
        UnpricedItems unpriced;
        int64_t after = 0;
        for (;;) {
          ASSIGN_OR_RETURN(PlannedPage page,
                           PlanPage(c, *site, rules, cycle, *period, after,
                                    std::numeric_limits<int64_t>::max(), kPlanPage));
          if (page.accounts.empty()) break;
          Merge(page.unpriced, &unpriced);
          std::map<int64_t, const std::string*> building;
          for (const store::RunAccount& a : page.accounts) building[a.facts.id] = &a.building;
          d.set_accounts(d.accounts() + page.accounts.size());
          for (const ChargeLine& l : page.lines) {
            d.set_lines(d.lines() + 1);
            d.set_total_minor(d.total_minor() + l.amount_minor);
            AddAmount(by_item, rules.at(l.item_id).code, l.amount_minor);
            AddAmount(by_building, *building[l.account_id], l.amount_minor);
          }
          d.set_lines_skipped(d.lines_skipped() + page.skipped);
          after = page.accounts.back().facts.id;
        }
        // Every item it cannot price, with every account: one look shows
        // all there is to fix.
        if (!unpriced.empty()) return absl::FailedPreconditionError(UnpricedMessage(unpriced));
        // The commit bills these accounts and no later one: an account
        // opened after the dry run is billed by the next run of the period,
        // whose draft shows it.
        run.last_account = after;
        for (auto& [k, a] : by_item) *d.add_by_charge_item() = a;
        for (auto& [k, a] : by_building) *d.add_by_building() = a;
        ASSIGN_OR_RETURN(run.id, store::InsertRun(c, run, clock_.Now()));
        // A draft reports what it would skip; a commit counts its own.
        run.lines_skipped = d.lines_skipped();
        run.draft.clear_lines_skipped();
        *resp = RunView(run);
        resp->set_lines_skipped(run.lines_skipped);
        return absl::OkStatus();
      }));
}

grpc::Status BillingService::GetBillRun(grpc::ServerContext* ctx,
                                        const v1::GetBillRunRequest* req, v1::BillRun* resp) {
  return ToGrpc(kit::GetOne(
      db_, kit::DeadlineOf(*ctx), req->name(), "billRuns",
      [&](kit::Conn& c, const kit::SiteId& ref) {
        return store::ReadRun(c, ref.site, ref.id, false);
      },
      [&](const store::RunRow& r) { *resp = RunView(r); }));
}

grpc::Status BillingService::ListBillRuns(grpc::ServerContext* ctx,
                                          const v1::ListBillRunsRequest* req,
                                          v1::ListBillRunsResponse* resp) {
  return ToGrpc(kit::ListPage(
      db_, kit::DeadlineOf(*ctx), *req, resp->mutable_next_page_token(),
      [&](kit::Conn& c, const std::string& site, const kit::Page& page) {
        return store::ListRuns(c, site, page.after, page.size + 1);
      },
      [](const auto& r) { return r.id; },
      [&](const store::RunRow& r) { *resp->add_bill_runs() = RunView(r); }));
}

grpc::Status BillingService::ListBillRunLines(grpc::ServerContext* ctx,
                                              const v1::ListBillRunLinesRequest* req,
                                              v1::ListBillRunLinesResponse* resp) {
  absl::StatusOr<kit::SiteId> ref = kit::ParseSiteId("name", req->name(), "billRuns");
  if (!ref.ok()) return ToGrpc(ref.status());
  absl::StatusOr<kit::Page> page = kit::PageOf(*req);
  if (!page.ok()) return ToGrpc(page.status());
  const std::string& site = ref->site;
  return ToGrpc(db_.Run(kit::DeadlineOf(*ctx), [&](kit::Conn& c) -> absl::Status {
    ASSIGN_OR_RETURN(store::RunRow run, store::ReadRun(c, site, ref->id, false));
    if (run.state != v1::DRAFT) {
      // What the run issued, in line order.
      ASSIGN_OR_RETURN(auto rows, store::RunLines(c, run.id, page->after, page->size + 1));
      const std::string next =
          kit::TrimPage(rows, *page, *req, [](const auto& r) { return r.first.id; });
      for (const auto& [l, unit] : rows) {
        v1::RunLine* out = resp->add_lines();
        out->set_account(AccountName(site, unit));
        out->set_building(l.building);
        out->set_charge_item(absl::StrCat("sites/", site, "/chargeItems/", l.item_id));
        out->set_code(l.code);
        out->set_quantity(l.quantity);
        out->set_amount_minor(l.amount_minor);
        out->set_due_date(store::DayText(l.due));
      }
      resp->set_next_page_token(next);
      return absl::OkStatus();
    }
    // A draft's lines are computed again, account by account; the position
    // is an account id and how many of its lines were already listed.
    ASSIGN_OR_RETURN(auto rules, store::ReadRules(c, site));
    const Period period = PeriodOf(run.draft);
    const Cycle cycle = CycleOf(run.draft.cycle());
    int64_t account = page->after / kLinesPerAccountSlot;
    int64_t skip = page->after % kLinesPerAccountSlot;
    int64_t after = account > 0 ? account - 1 : 0;
    int64_t last_pos = 0;
    for (;;) {
      ASSIGN_OR_RETURN(PlannedPage planned,
                       PlanPage(c, site, rules, cycle, period, after, run.last_account, 200));
      if (planned.accounts.empty()) return absl::OkStatus();
      std::map<int64_t, const store::RunAccount*> by_id;
      for (const store::RunAccount& a : planned.accounts) by_id[a.facts.id] = &a;
      int64_t index = 0, current = 0;
      for (const ChargeLine& l : planned.lines) {
        if (l.account_id != current) {
          current = l.account_id;
          index = 0;
        }
        ++index;
        if (current == account && index <= skip) continue;
        if (resp->lines_size() == page->size) {
          resp->set_next_page_token(kit::NextPageToken(*req, last_pos));
          return absl::OkStatus();
        }
        const store::RunAccount& a = *by_id[l.account_id];
        v1::RunLine* out = resp->add_lines();
        out->set_account(AccountName(site, a.unit));
        out->set_building(a.building);
        out->set_charge_item(absl::StrCat("sites/", site, "/chargeItems/", l.item_id));
        out->set_code(rules.at(l.item_id).code);
        out->set_quantity(l.quantity.ToString());
        out->set_amount_minor(l.amount_minor);
        out->set_due_date(store::DayText(l.due));
        last_pos = current * kLinesPerAccountSlot + index;
      }
      after = planned.accounts.back().facts.id;
    }
  }));
}

grpc::Status BillingService::CommitBillRun(grpc::ServerContext* ctx,
                                           const v1::CommitBillRunRequest* req,
                                           v1::BillRun* resp) {
  absl::StatusOr<kit::SiteId> ref = kit::ParseSiteId("name", req->name(), "billRuns");
  if (!ref.ok()) return ToGrpc(ref.status());
  RETURN_GRPC_IF_ERROR(kit::CheckRequestId(req->request_id()));
  grpc::Status s = ToGrpc(kit::IdempotentWrite(
      db_, kit::DeadlineOf(*ctx), "CommitBillRun", req->request_id(), *req, resp,
      [&](kit::Conn& c) -> absl::Status {
        ASSIGN_OR_RETURN(store::RunRow run, store::ReadRun(c, ref->site, ref->id, true));
        if (run.state != v1::DRAFT) {
          return absl::FailedPreconditionError("the bill run is already committed");
        }
        const absl::Time now = clock_.Now();
        RETURN_IF_ERROR(store::MarkCommitting(c, run.id, now));
        run.state = v1::COMMITTING;
        run.committed_at = now;
        *resp = RunView(run);
        return absl::OkStatus();
      }));
  if (s.ok()) WakeCommitter();
  return s;
}

// --- the commit, a batch at a time ------------------------------------------

absl::StatusOr<bool> BillingService::CommitStep() {
  bool worked = false;
  int64_t issued = 0;
  int64_t run_id = 0;
  std::optional<absl::Duration> finished_after;
  absl::Status s = db_.Transact(absl::Now() + absl::Minutes(5), [&](kit::Conn& c) -> absl::Status {
    worked = false;
    issued = 0;
    run_id = 0;
    finished_after.reset();
    ASSIGN_OR_RETURN(std::optional<store::RunRow> locked, store::LockCommittingRun(c));
    if (!locked.has_value()) return absl::OkStatus();
    worked = true;
    run_id = locked->id;
    store::RunRow& run = *locked;
    const absl::Time now = clock_.Now();
    const Period period = PeriodOf(run.draft);
    ASSIGN_OR_RETURN(auto rules, store::ReadRules(c, run.site));
    ASSIGN_OR_RETURN(PlannedPage page,
                     PlanPage(c, run.site, rules, CycleOf(run.draft.cycle()), period,
                              run.cursor_account, run.last_account, options_.commit_batch));
    // An item that broke after the dry run stops the run with its accounts
    // (of this batch) named; the run behind it goes on.
    if (!page.unpriced.empty()) {
      return absl::FailedPreconditionError(UnpricedMessage(page.unpriced));
    }
    if (page.accounts.empty()) {
      RETURN_IF_ERROR(store::CompleteRun(c, run.id, now));
      if (run.committed_at) finished_after = now - *run.committed_at;
      return absl::OkStatus();
    }
    const int64_t hi = page.accounts.back().facts.id;
    // The batch's accounts are locked (in id order) before any line is
    // inserted, keeping the lock order of payments (account, then lines):
    // their balances move, and their credit pays the new lines.
    std::vector<int64_t> ids;
    ids.reserve(page.accounts.size());
    for (const store::RunAccount& a : page.accounts) ids.push_back(a.facts.id);
    ASSIGN_OR_RETURN(std::vector<store::LockedAccount> accounts,
                     store::LockAccounts(c, run.site, ids));

    std::vector<store::NewBill> bills;
    std::map<int64_t, const std::string*> building;
    for (const store::RunAccount& a : page.accounts) building[a.facts.id] = &a.building;
    for (const ChargeLine& l : page.lines) {
      if (bills.empty() || bills.back().account_id != l.account_id) {
        bills.push_back({l.account_id, *building[l.account_id], l.due, {}});
      }
      bills.back().due = std::min(bills.back().due, l.due);
      bills.back().lines.push_back(&l);
      run.issued_minor += l.amount_minor;
    }
    // The batch's share of the report totals is written once, last.
    store::Totals totals;
    RETURN_IF_ERROR(store::IssueBills(c, run.site, run.id, period, run.draft.currency_code(),
                                      DayOfTime(now), bills, accounts, run.created_by, now,
                                      &totals)
                        .status());
    for (store::LockedAccount& a : accounts) {
      if (a->credit_minor <= 0) continue;
      ASSIGN_OR_RETURN(std::vector<store::LineRow> open, store::LockUnsettledLines(c, a));
      std::map<int64_t, store::LineRow> by_id;
      const int64_t credit = a->credit_minor;
      ASSIGN_OR_RETURN(int64_t left, SpendCredit(c, a, credit, OpenLinesOf(open, &by_id), by_id,
                                                 DayOfTime(now), &totals));
      if (left != credit) RETURN_IF_ERROR(store::SetCredit(c, a, left));
    }
    RETURN_IF_ERROR(store::AddTotals(c, run.site, totals));
    run.cursor_account = hi;
    run.accounts_done += page.accounts.size();
    run.lines_issued += page.lines.size();
    run.lines_skipped += page.skipped;
    issued = page.lines.size();
    return store::SaveRunProgress(c, run);
  });
  if (!s.ok() && run_id != 0 && !absl::IsUnavailable(s) && !absl::IsAborted(s) &&
      !absl::IsDeadlineExceeded(s)) {
    // Retrying cannot fix this batch (a line beyond the ceiling, say): stop
    // the run so that the runs queued behind it go on.
    spdlog::error("bill run {} failed: {}", run_id, s.ToString());
    absl::Status failed = db_.Transact(absl::Now() + absl::Seconds(30), [&](kit::Conn& c) {
      return store::FailRun(c, run_id, std::string(s.message()), clock_.Now());
    });
    if (failed.ok()) return true;
  }
  if (!s.ok()) return s;
  if (issued > 0) lines_issued_.Increment(static_cast<double>(issued));
  if (finished_after) run_seconds_.Observe(absl::ToDoubleSeconds(*finished_after));
  return worked;
}

void BillingService::WakeCommitter() {
  absl::MutexLock lock(&wake_mu_);
  wake_ = true;
}

void BillingService::CommitLoop() {
  for (;;) {
    {
      absl::MutexLock lock(&wake_mu_);
      if (stopping_) return;
    }
    absl::StatusOr<bool> worked = CommitStep();
    if (!worked.ok()) {
      spdlog::warn("bill run commit step failed (will retry): {}", worked.status().ToString());
    }
    if (worked.ok() && *worked) continue;
    // Idle (or failing): look again when woken, or every second for runs
    // another replica committed or a crash left behind.
    absl::MutexLock lock(&wake_mu_);
    wake_mu_.AwaitWithTimeout(absl::Condition(this, &BillingService::WokenOrStopping),
                              absl::Seconds(1));
    wake_ = false;
  }
}

}  // namespace billing
