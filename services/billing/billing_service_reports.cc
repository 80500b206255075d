// Collection reports, arrears aging, and the business gauges.
#include <algorithm>
#include <map>

#include "absl/strings/str_cat.h"
#include "services/billing/billing_internal.h"
#include "services/billing/billing_service.h"
#include "services/billing/billing_validation.h"
#include "services/billing/billing_views.h"
#include "services/billing/collection.h"
#include "services/kit/errors.h"
#include "services/kit/paging.h"
#include "services/kit/rpc_context.h"
#include "services/kit/status_macros.h"
#include "services/kit/validate.h"

namespace billing {

using kit::FieldError;
using kit::ToGrpc;

grpc::Status BillingService::GetCollectionReport(grpc::ServerContext* ctx,
                                                 const v1::GetCollectionReportRequest* req,
                                                 v1::CollectionReport* resp) {
  absl::StatusOr<std::string> site = kit::ParseSiteParent("parent", req->parent());
  if (!site.ok()) return ToGrpc(site.status());
  if (req->period().empty()) return ToGrpc(FieldError("period", "required, e.g. 2026-03"));
  return ToGrpc(db_.Run(kit::DeadlineOf(*ctx), [&](kit::Conn& c) -> absl::Status {
    ASSIGN_OR_RETURN(store::Settings settings, store::ReadSettings(c, *site, false));
    std::optional<LabeledPeriod> period = PeriodOfLabel(req->period(), settings.season);
    if (!period.has_value()) {
      return FieldError("period", "a period label such as 2026-03, 2026-Q1, 2026 or heating-2026/27");
    }
    ASSIGN_OR_RETURN(std::vector<LineSums> sums, store::CollectionRows(c, *site, req->period()));
    *resp = BuildCollectionReport(sums);
    resp->set_period(req->period());
    resp->set_currency_code(settings.currency);
    ASSIGN_OR_RETURN(int64_t recovered,
                     store::ArrearsRecovered(c, *site, period->period.start, period->period.end));
    resp->set_arrears_recovered_minor(recovered);
    return absl::OkStatus();
  }));
}

grpc::Status BillingService::GetPortfolioReport(grpc::ServerContext* ctx,
                                                const v1::GetPortfolioReportRequest* req,
                                                v1::PortfolioReport* resp) {
  if (req->sites().empty()) return ToGrpc(FieldError("sites", "name at least one site"));
  if (req->sites_size() > 200) return ToGrpc(FieldError("sites", "at most 200"));
  std::vector<std::string> sites;
  for (int i = 0; i < req->sites_size(); ++i) {
    absl::StatusOr<std::string> site =
        kit::ParseSiteParent(absl::StrCat("sites[", i, "]"), req->sites(i));
    if (!site.ok()) return ToGrpc(site.status());
    if (std::find(sites.begin(), sites.end(), *site) != sites.end()) {
      return ToGrpc(FieldError(absl::StrCat("sites[", i, "]"), "named twice"));
    }
    sites.push_back(*site);
  }
  if (req->period().empty()) return ToGrpc(FieldError("period", "required, e.g. 2026-03"));
  return ToGrpc(db_.Run(kit::DeadlineOf(*ctx), [&](kit::Conn& c) -> absl::Status {
    resp->set_period(req->period());
    std::map<std::string, std::vector<LineSums>> by_currency;
    for (const std::string& site : sites) {
      ASSIGN_OR_RETURN(store::Settings settings, store::ReadSettings(c, site, false));
      // Each site's own season decides what a heating label spans.
      std::optional<LabeledPeriod> period = PeriodOfLabel(req->period(), settings.season);
      if (!period.has_value()) {
        return FieldError("period", "a period label such as 2026-03, 2026-Q1, 2026 or heating-2026/27");
      }
      ASSIGN_OR_RETURN(std::vector<LineSums> sums, store::CollectionRows(c, site, req->period()));
      const v1::CollectionReport one = BuildCollectionReport(sums);
      v1::SiteCollection* out = resp->add_sites();
      out->set_site("sites/" + site);
      out->set_currency_code(settings.currency);
      *out->mutable_all_lines() = one.all_lines().total();
      *out->mutable_excluding_disputed() = one.excluding_disputed().total();
      ASSIGN_OR_RETURN(int64_t recovered,
                       store::ArrearsRecovered(c, site, period->period.start, period->period.end));
      out->set_arrears_recovered_minor(recovered);
      std::vector<LineSums>& pool = by_currency[settings.currency];
      pool.insert(pool.end(), sums.begin(), sums.end());
    }
    // Sums across sites, never across currencies.
    for (const auto& [currency, sums] : by_currency) {
      const v1::CollectionReport all = BuildCollectionReport(sums);
      *resp->add_totals() = all.all_lines().total();
      resp->mutable_totals()->rbegin()->set_key(currency);
      *resp->add_totals_excluding_disputed() = all.excluding_disputed().total();
      resp->mutable_totals_excluding_disputed()->rbegin()->set_key(currency);
    }
    return absl::OkStatus();
  }));
}

grpc::Status BillingService::GetArrearsAging(grpc::ServerContext* ctx,
                                             const v1::GetArrearsAgingRequest* req,
                                             v1::ArrearsAging* resp) {
  absl::StatusOr<std::string> site = kit::ParseSiteParent("parent", req->parent());
  if (!site.ok()) return ToGrpc(site.status());
  absl::CivilDay as_of = DayOfTime(clock_.Now());
  if (!req->as_of().empty()) {
    absl::StatusOr<absl::CivilDay> d = ParseDay("as_of", req->as_of());
    if (!d.ok()) return ToGrpc(d.status());
    as_of = *d;
  }
  absl::StatusOr<kit::Page> page = kit::PageOf(*req);
  if (!page.ok()) return ToGrpc(page.status());
  return ToGrpc(db_.Run(kit::DeadlineOf(*ctx), [&](kit::Conn& c) -> absl::Status {
    ASSIGN_OR_RETURN(store::Settings settings, store::ReadSettings(c, *site, false));
    resp->set_as_of(store::DayText(as_of));
    resp->set_currency_code(settings.currency);
    ASSIGN_OR_RETURN(auto all, store::AgingRows(c, *site, as_of, kAgingBounds, 0, 0));
    for (const store::AgingRow& r : all) AddToAging(resp->mutable_total(), r.bucket, r.amount);
    ASSIGN_OR_RETURN(auto rows, store::AgingRows(c, *site, as_of, kAgingBounds, page->after,
                                                 page->size + 1));
    int64_t last = 0;
    for (const store::AgingRow& r : rows) {
      if (r.account_id != last) {
        if (resp->accounts_size() == page->size) {
          resp->set_next_page_token(kit::NextPageToken(*req, last));
          break;
        }
        last = r.account_id;
        resp->add_accounts()->set_account(AccountName(*site, r.unit));
      }
      AddToAging(resp->mutable_accounts()->rbegin()->mutable_aging(), r.bucket, r.amount);
    }
    return absl::OkStatus();
  }));
}

absl::Status BillingService::RefreshGauges() {
  const absl::Time now = clock_.Now();
  const absl::CivilDay today = DayOfTime(now);
  // From the running totals (a few rows a site), not the lines: this runs
  // every 30 s on every replica whatever the size of the sites.
  return db_.Run(absl::Now() + absl::Seconds(30), [&](kit::Conn& c) -> absl::Status {
    ASSIGN_OR_RETURN(std::vector<std::string> sites, store::BilledSites(c));
    ASSIGN_OR_RETURN(auto committing, store::CommittingRuns(c));
    for (const std::string& site : sites) {
      ASSIGN_OR_RETURN(store::Settings settings, store::ReadSettings(c, site, false));
      ASSIGN_OR_RETURN(std::vector<store::PeriodSums> sums, store::SiteTotals(c, site));
      int64_t year_billed = 0, year_collected = 0, arrears = 0;
      for (const store::PeriodSums& p : sums) {
        std::optional<LabeledPeriod> period = PeriodOfLabel(p.period, settings.season);
        if (!period.has_value()) continue;
        if (period->period.start.year() == today.year()) {
          year_billed += p.billed;
          year_collected += p.collected;
        }
        // Arrears: what periods that have ended still owe, disputes apart.
        if (!p.held && period->period.end <= today) {
          arrears += p.billed - p.collected - p.written_off;
        }
      }
      arrears_.Add({{"site", site}}).Set(static_cast<double>(arrears));
      ratio_.Add({{"site", site}})
          .Set(year_billed > 0
                   ? static_cast<double>(year_collected) / static_cast<double>(year_billed)
                   : 0.0);
      auto run = committing.find(site);
      committing_.Add({{"site", site}})
          .Set(run == committing.end() ? 0.0 : static_cast<double>(run->second.first));
      commit_age_.Add({{"site", site}})
          .Set(run == committing.end() ? 0.0 : absl::ToDoubleSeconds(now - run->second.second));
    }
    return absl::OkStatus();
  });
}

}  // namespace billing
