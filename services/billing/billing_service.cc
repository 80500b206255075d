// The gRPC layer for settings, charge items, accounts and meter readings;
// bill runs, bills and payments, and reports live in billing_service_*.cc.
#include "services/billing/billing_service.h"

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/strip.h"
#include "services/billing/billing_internal.h"
#include "services/billing/billing_validation.h"
#include "services/billing/billing_views.h"
#include "services/kit/errors.h"
#include "services/kit/etag.h"
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

BillingService::BillingService(kit::Db& db, const kit::Clock& clock, prometheus::Registry& registry,
                               BillingOptions options)
    : db_(db),
      clock_(clock),
      options_(options),
      collected_(prometheus::BuildCounter()
                     .Name("estate_billing_collected_minor_total")
                     .Help("Money allocated to bill lines by payments, in minor units, by site "
                           "and charge item (net of reversals counted in "
                           "estate_billing_reversed_minor_total).")
                     .Register(registry)),
      reversed_(prometheus::BuildCounter()
                    .Name("estate_billing_reversed_minor_total")
                    .Help("Payments reversed (bounced debits, refunds), in minor units, by site "
                          "and method.")
                    .Register(registry)),
      debit_failures_(prometheus::BuildCounter()
                          .Name("estate_billing_payment_failures_total")
                          .Help("Direct debits the bank refused, by site and reason.")
                          .Register(registry)),
      ratio_(prometheus::BuildGauge()
                 .Name("estate_billing_collection_ratio")
                 .Help("Collected / billed over the bills of periods starting this calendar "
                       "year, by site; read from the database, so every replica reports the "
                       "same value (use max).")
                 .Register(registry)),
      arrears_(prometheus::BuildGauge()
                   .Name("estate_billing_arrears_minor")
                   .Help("What the bills of periods that have ended still owe, in minor units, "
                         "by site (disputed lines apart; GetArrearsAging has it by age).")
                   .Register(registry)),
      committing_(prometheus::BuildGauge()
                      .Name("estate_billing_bill_runs_committing")
                      .Help("Bill runs committed and not yet complete, by site.")
                      .Register(registry)),
      commit_age_(prometheus::BuildGauge()
                      .Name("estate_billing_bill_run_commit_age_seconds")
                      .Help("How long the oldest bill run still committing has been at it, by "
                            "site (0 when none is): a run stuck or starved shows here.")
                      .Register(registry)),
      run_seconds_(prometheus::BuildHistogram()
                       .Name("estate_billing_bill_run_commit_seconds")
                       .Help("Time from a bill run's commit to its last batch.")
                       .Register(registry)
                       .Add({}, prometheus::Histogram::BucketBoundaries{0.1, 0.5, 1, 2, 5, 10, 30,
                                                                        60, 120, 300, 600, 1800})),
      lines_issued_(prometheus::BuildCounter()
                        .Name("estate_billing_bill_lines_issued_total")
                        .Help("Bill lines issued by bill runs.")
                        .Register(registry)
                        .Add({})),
      payment_batch_(prometheus::BuildHistogram()
                         .Name("estate_billing_payment_batch_size")
                         .Help("Payments posted per transaction by RecordPayment's group "
                               "commit (1 when calls do not overlap).")
                         .Register(registry)
                         .Add({}, prometheus::Histogram::BucketBoundaries{1, 2, 4, 8, 16, 32, 64})),
      // Two flushes at a time: one's round trips overlap the other's.
      payments_(
          64, 2, [](const PaymentJob& j) { return j.site; },
          [this](const std::vector<PaymentJob*>& jobs) { FlushPayments(jobs); }) {
  if (options_.run_committer) committer_ = std::thread([this] { CommitLoop(); });
}

BillingService::~BillingService() {
  {
    absl::MutexLock lock(&wake_mu_);
    stopping_ = true;
  }
  if (committer_.joinable()) committer_.join();
}

// --- settings ---------------------------------------------------------------

namespace {

absl::StatusOr<std::string> SettingsSite(absl::string_view field, absl::string_view name) {
  if (!absl::EndsWith(name, "/billingSettings")) {
    return FieldError(field, "must be sites/{site}/billingSettings");
  }
  name.remove_suffix(std::string("/billingSettings").size());
  return kit::ParseSiteParent(field, name);
}

bool SameSeason(const HeatingSeason& a, const HeatingSeason& b) {
  return a.start_month == b.start_month && a.start_day == b.start_day &&
         a.end_month == b.end_month && a.end_day == b.end_day;
}

v1::BillingSettings SettingsView(const std::string& site, const store::Settings& s) {
  v1::BillingSettings out;
  out.set_name(absl::StrCat("sites/", site, "/billingSettings"));
  out.set_currency_code(s.currency);
  out.set_heating_start(absl::StrFormat("%02d-%02d", s.season.start_month, s.season.start_day));
  out.set_heating_end(absl::StrFormat("%02d-%02d", s.season.end_month, s.season.end_day));
  out.set_etag(kit::Etag(s.version));
  return out;
}

}  // namespace

grpc::Status BillingService::GetBillingSettings(grpc::ServerContext* ctx,
                                                const v1::GetBillingSettingsRequest* req,
                                                v1::BillingSettings* resp) {
  absl::StatusOr<std::string> site = SettingsSite("name", req->name());
  if (!site.ok()) return ToGrpc(site.status());
  return ToGrpc(db_.Run(kit::DeadlineOf(*ctx), [&](kit::Conn& c) -> absl::Status {
    ASSIGN_OR_RETURN(store::Settings s, store::ReadSettings(c, *site, false));
    *resp = SettingsView(*site, s);
    return absl::OkStatus();
  }));
}

grpc::Status BillingService::UpdateBillingSettings(grpc::ServerContext* ctx,
                                                   const v1::UpdateBillingSettingsRequest* req,
                                                   v1::BillingSettings* resp) {
  const v1::BillingSettings& in = req->settings();
  absl::StatusOr<std::string> site = SettingsSite("settings.name", in.name());
  if (!site.ok()) return ToGrpc(site.status());
  RETURN_GRPC_IF_ERROR(kit::CheckRequestId(req->request_id()));
  if (!IsCurrencyCode(in.currency_code())) {
    return ToGrpc(FieldError("settings.currency_code", "an ISO 4217 code such as CNY"));
  }
  store::Settings wanted;
  wanted.currency = in.currency_code();
  RETURN_GRPC_IF_ERROR(ParseMonthDay("settings.heating_start", in.heating_start(),
                                     &wanted.season.start_month, &wanted.season.start_day));
  RETURN_GRPC_IF_ERROR(ParseMonthDay("settings.heating_end", in.heating_end(),
                                     &wanted.season.end_month, &wanted.season.end_day));
  if (in.etag().empty()) return ToGrpc(FieldError("settings.etag", "required (from the last read)"));
  const std::string actor = kit::CallerOf(*ctx);
  return ToGrpc(kit::IdempotentWrite(
      db_, kit::DeadlineOf(*ctx), "UpdateBillingSettings", req->request_id(), *req, resp,
      [&](kit::Conn& c) -> absl::Status {
        ASSIGN_OR_RETURN(store::Settings s, store::ReadSettings(c, *site, true));
        RETURN_IF_ERROR(kit::CheckEtag("settings.etag", in.etag(), s.version, "settings"));
        if (s.currency != wanted.currency || !SameSeason(s.season, wanted.season)) {
          // Bills keep their currency and heating periods keep their labels
          // (what makes a run idempotent): both are fixed once billing began.
          ASSIGN_OR_RETURN(bool billed, store::AnythingBilled(c, *site));
          if (billed) {
            return absl::FailedPreconditionError(
                "the currency and heating season cannot change once the site has bill runs "
                "or payments");
          }
        }
        wanted.version = s.version;
        RETURN_IF_ERROR(store::SaveSettings(c, *site, wanted, actor, clock_.Now()));
        *resp = SettingsView(*site, wanted);
        return absl::OkStatus();
      }));
}

// --- charge items -----------------------------------------------------------

grpc::Status BillingService::CreateChargeItem(grpc::ServerContext* ctx,
                                              const v1::CreateChargeItemRequest* req,
                                              v1::ChargeItem* resp) {
  absl::StatusOr<std::string> site = kit::ParseSiteParent("parent", req->parent());
  if (!site.ok()) return ToGrpc(site.status());
  RETURN_GRPC_IF_ERROR(kit::CheckRequestId(req->request_id()));
  if (!req->has_charge_item()) return ToGrpc(FieldError("charge_item", "required"));
  absl::StatusOr<ChargeRule> rule = RuleOf(req->charge_item(), "charge_item.");
  if (!rule.ok()) return ToGrpc(rule.status());
  // Only what a client may set is stored.
  v1::ChargeItem def = req->charge_item();
  def.clear_name();
  def.clear_create_time();
  def.clear_etag();
  if (def.kind() == v1::ONE_OFF) def.set_cycle(v1::ONCE);
  const std::string actor = kit::CallerOf(*ctx);
  return ToGrpc(kit::IdempotentWrite(
      db_, kit::DeadlineOf(*ctx), "CreateChargeItem", req->request_id(), *req, resp,
      [&](kit::Conn& c) -> absl::Status {
        absl::StatusOr<int64_t> id = store::InsertChargeItem(c, *site, def, actor, clock_.Now());
        if (!id.ok()) return id.status();
        ASSIGN_OR_RETURN(*resp, store::ReadChargeItem(c, *site, *id));
        return absl::OkStatus();
      }));
}

grpc::Status BillingService::UpdateChargeItem(grpc::ServerContext* ctx,
                                              const v1::UpdateChargeItemRequest* req,
                                              v1::ChargeItem* resp) {
  const v1::ChargeItem& in = req->charge_item();
  absl::StatusOr<kit::SiteId> ref = kit::ParseSiteId("charge_item.name", in.name(), "chargeItems");
  if (!ref.ok()) return ToGrpc(ref.status());
  RETURN_GRPC_IF_ERROR(kit::CheckRequestId(req->request_id()));
  if (in.etag().empty()) {
    return ToGrpc(FieldError("charge_item.etag", "required (from the last read)"));
  }
  v1::ChargeItem def = in;
  def.clear_name();
  def.clear_create_time();
  def.clear_etag();
  if (def.kind() == v1::ONE_OFF) def.set_cycle(v1::ONCE);
  absl::StatusOr<ChargeRule> rule = RuleOf(def, "charge_item.");
  if (!rule.ok()) return ToGrpc(rule.status());
  const std::string actor = kit::CallerOf(*ctx);
  return ToGrpc(kit::IdempotentWrite(
      db_, kit::DeadlineOf(*ctx), "UpdateChargeItem", req->request_id(), *req, resp,
      [&](kit::Conn& c) -> absl::Status {
        int64_t version = 0;
        ASSIGN_OR_RETURN(v1::ChargeItem current,
                         store::ReadChargeItem(c, ref->site, ref->id,
                                               /*for_update=*/true, &version));
        RETURN_IF_ERROR(kit::CheckEtag("charge_item.etag", in.etag(), version, "charge item"));
        // What the item is stays: bills already issued under it say so.
        const auto fixed = [&](const char* field, bool same) -> absl::Status {
          if (same) return absl::OkStatus();
          return FieldError(absl::StrCat("charge_item.", field),
                            "cannot change: retire the item (effective_to) and create another");
        };
        RETURN_IF_ERROR(fixed("code", def.code() == current.code()));
        RETURN_IF_ERROR(fixed("kind", def.kind() == current.kind()));
        RETURN_IF_ERROR(fixed("cycle", def.cycle() == current.cycle()));
        RETURN_IF_ERROR(fixed("effective_from", def.effective_from() == current.effective_from()));
        RETURN_IF_ERROR(
            store::ReplaceChargeItem(c, ref->site, ref->id, def, version, actor, clock_.Now()));
        ASSIGN_OR_RETURN(*resp, store::ReadChargeItem(c, ref->site, ref->id));
        return absl::OkStatus();
      }));
}

grpc::Status BillingService::GetChargeItem(grpc::ServerContext* ctx,
                                           const v1::GetChargeItemRequest* req,
                                           v1::ChargeItem* resp) {
  return ToGrpc(kit::GetOne(
      db_, kit::DeadlineOf(*ctx), req->name(), "chargeItems",
      [&](kit::Conn& c, const kit::SiteId& ref) {
        return store::ReadChargeItem(c, ref.site, ref.id);
      },
      [&](v1::ChargeItem& item) { *resp = std::move(item); }));
}

grpc::Status BillingService::ListChargeItems(grpc::ServerContext* ctx,
                                             const v1::ListChargeItemsRequest* req,
                                             v1::ListChargeItemsResponse* resp) {
  return ToGrpc(kit::ListPage(
      db_, kit::DeadlineOf(*ctx), *req, resp->mutable_next_page_token(),
      [&](kit::Conn& c, const std::string& site, const kit::Page& page) {
        return store::ListChargeItems(c, site, page.after, page.size + 1);
      },
      [](const auto& r) { return r.first; },
      [&](auto& row) {
        auto& [id, item] = row;
        *resp->add_charge_items() = std::move(item);
      }));
}

// --- accounts ---------------------------------------------------------------

namespace {

// Every subscribed item must exist on the site.
absl::Status CheckItemsExist(kit::Conn& c, const std::string& site,
                             const std::vector<int64_t>& items) {
  if (items.empty()) return absl::OkStatus();
  ASSIGN_OR_RETURN(std::set<int64_t> known, store::ChargeItemIds(c, site));
  for (size_t i = 0; i < items.size(); ++i) {
    if (!known.count(items[i])) {
      return FieldError(absl::StrCat("account.charge_items[", i, "]"), "no such charge item");
    }
  }
  return absl::OkStatus();
}

}  // namespace

grpc::Status BillingService::CreateAccount(grpc::ServerContext* ctx,
                                           const v1::CreateAccountRequest* req,
                                           v1::Account* resp) {
  absl::StatusOr<std::string> site = kit::ParseSiteParent("parent", req->parent());
  if (!site.ok()) return ToGrpc(site.status());
  if (!kit::IsValidUnitId(req->account_id())) {
    return ToGrpc(FieldError("account_id", "the unit id: 1-64 of letters, digits, '-', '_', '.'"));
  }
  RETURN_GRPC_IF_ERROR(kit::CheckRequestId(req->request_id()));
  absl::StatusOr<AccountInput> in = CheckAccount(req->account(), *site);
  if (!in.ok()) return ToGrpc(in.status());
  const std::string actor = kit::CallerOf(*ctx);
  return ToGrpc(kit::IdempotentWrite(
      db_, kit::DeadlineOf(*ctx), "CreateAccount", req->request_id(), *req, resp,
      [&](kit::Conn& c) -> absl::Status {
        RETURN_IF_ERROR(CheckItemsExist(c, *site, in->items));
        store::AccountRow a;
        a.site = *site;
        a.unit = req->account_id();
        ApplyAccountInput(*in, a);
        absl::StatusOr<int64_t> id = store::InsertAccount(c, a, actor, clock_.Now());
        if (!id.ok()) return id.status();
        ASSIGN_OR_RETURN(store::AccountRow stored, store::ReadAccountById(c, *id));
        ASSIGN_OR_RETURN(store::Settings s, store::ReadSettings(c, *site, false));
        *resp = AccountView(stored, s.currency);
        return absl::OkStatus();
      }));
}

grpc::Status BillingService::GetAccount(grpc::ServerContext* ctx,
                                        const v1::GetAccountRequest* req, v1::Account* resp) {
  absl::StatusOr<std::pair<std::string, std::string>> ref = ParseAccountName("name", req->name());
  if (!ref.ok()) return ToGrpc(ref.status());
  return ToGrpc(db_.Run(kit::DeadlineOf(*ctx), [&](kit::Conn& c) -> absl::Status {
    ASSIGN_OR_RETURN(store::AccountRow a, store::ReadAccount(c, ref->first, ref->second));
    ASSIGN_OR_RETURN(store::Settings s, store::ReadSettings(c, ref->first, false));
    *resp = AccountView(a, s.currency);
    return absl::OkStatus();
  }));
}

grpc::Status BillingService::ListAccounts(grpc::ServerContext* ctx,
                                          const v1::ListAccountsRequest* req,
                                          v1::ListAccountsResponse* resp) {
  RETURN_GRPC_IF_ERROR(kit::CheckText("building", req->building(), 64, false));
  std::string currency;  // the site's, read with the page; every account shows it
  return ToGrpc(kit::ListPage(
      db_, kit::DeadlineOf(*ctx), *req, resp->mutable_next_page_token(),
      [&](kit::Conn& c, const std::string& site,
          const kit::Page& page) -> absl::StatusOr<std::vector<store::AccountRow>> {
        ASSIGN_OR_RETURN(store::Settings s, store::ReadSettings(c, site, false));
        currency = std::move(s.currency);
        const store::AccountFilter f{site, req->building(), req->in_arrears_only()};
        return store::ListAccounts(c, f, page.after, page.size + 1);
      },
      [](const auto& r) { return r.id; },
      [&](const store::AccountRow& a) { *resp->add_accounts() = AccountView(a, currency); }));
}

grpc::Status BillingService::UpdateAccount(grpc::ServerContext* ctx,
                                           const v1::UpdateAccountRequest* req,
                                           v1::Account* resp) {
  absl::StatusOr<std::pair<std::string, std::string>> ref =
      ParseAccountName("account.name", req->account().name());
  if (!ref.ok()) return ToGrpc(ref.status());
  RETURN_GRPC_IF_ERROR(kit::CheckRequestId(req->request_id()));
  if (req->account().etag().empty()) {
    return ToGrpc(FieldError("account.etag", "required (from the last read)"));
  }
  absl::StatusOr<AccountInput> in = CheckAccount(req->account(), ref->first);
  if (!in.ok()) return ToGrpc(in.status());
  return ToGrpc(kit::IdempotentWrite(
      db_, kit::DeadlineOf(*ctx), "UpdateAccount", req->request_id(), *req, resp,
      [&](kit::Conn& c) -> absl::Status {
        ASSIGN_OR_RETURN(store::LockedAccount a, store::LockAccount(c, ref->first, ref->second));
        RETURN_IF_ERROR(
            kit::CheckEtag("account.etag", req->account().etag(), a->version, "account"));
        RETURN_IF_ERROR(CheckItemsExist(c, ref->first, in->items));
        ApplyAccountInput(*in, a.row());
        RETURN_IF_ERROR(store::SaveAccount(c, a));
        ASSIGN_OR_RETURN(store::AccountRow shown, store::ReadAccountById(c, a->id));
        ASSIGN_OR_RETURN(store::Settings s, store::ReadSettings(c, ref->first, false));
        *resp = AccountView(shown, s.currency);
        return absl::OkStatus();
      }));
}

// --- meter readings ---------------------------------------------------------

grpc::Status BillingService::RecordMeterReading(grpc::ServerContext* ctx,
                                                const v1::RecordMeterReadingRequest* req,
                                                v1::MeterReading* resp) {
  absl::StatusOr<std::pair<std::string, std::string>> ref =
      ParseAccountName("parent", req->parent());
  if (!ref.ok()) return ToGrpc(ref.status());
  RETURN_GRPC_IF_ERROR(kit::CheckRequestId(req->request_id()));
  const v1::MeterReading& in = req->reading();
  if (in.meter().empty() || in.meter().size() > 32 || !kit::IsValidSiteId(in.meter())) {
    return ToGrpc(FieldError("reading.meter", "required: lowercase letters, digits, '-'"));
  }
  store::ReadingRow r;
  r.meter = in.meter();
  absl::StatusOr<int64_t> value = ParseReadingMilli("reading.value", in.value());
  if (!value.ok()) return ToGrpc(value.status());
  r.value_milli = *value;
  absl::StatusOr<absl::CivilDay> day = ParseDay("reading.read_on", in.read_on());
  if (!day.ok()) return ToGrpc(day.status());
  if (*day > LatestDayOfTime(clock_.Now())) {
    return ToGrpc(FieldError("reading.read_on", "must not be in the future"));
  }
  r.read_on = *day;
  r.replacement = in.replacement();
  const std::string actor = kit::CallerOf(*ctx);
  return ToGrpc(kit::IdempotentWrite(
      db_, kit::DeadlineOf(*ctx), "RecordMeterReading", req->request_id(), *req, resp,
      [&](kit::Conn& c) -> absl::Status {
        ASSIGN_OR_RETURN(store::LockedAccount a, store::LockAccount(c, ref->first, ref->second));
        ASSIGN_OR_RETURN(std::optional<store::ReadingRow> last,
                         store::LastReading(c, a->id, r.meter));
        if (last.has_value() && r.read_on < last->read_on) {
          return absl::FailedPreconditionError(absl::StrCat(
              "reading.read_on: before the meter's last reading (", store::DayText(last->read_on),
              ")"));
        }
        // The first reading and a new meter's first reading are baselines.
        if (!last.has_value() || r.replacement) {
          r.consumption_milli = 0;
        } else if (r.value_milli < last->value_milli) {
          return absl::FailedPreconditionError(absl::StrCat(
              "reading.value: lower than the previous reading (", MilliText(last->value_milli),
              "); flag a meter replacement if the meter was changed"));
        } else {
          r.consumption_milli = r.value_milli - last->value_milli;
        }
        r.created_at = clock_.Now();
        ASSIGN_OR_RETURN(r.id, store::InsertReading(c, ref->first, a->id, r, actor, r.created_at));
        *resp = ReadingView(ref->first, ref->second, r);
        return absl::OkStatus();
      }));
}

grpc::Status BillingService::ListMeterReadings(grpc::ServerContext* ctx,
                                               const v1::ListMeterReadingsRequest* req,
                                               v1::ListMeterReadingsResponse* resp) {
  absl::StatusOr<std::pair<std::string, std::string>> ref =
      ParseAccountName("parent", req->parent());
  if (!ref.ok()) return ToGrpc(ref.status());
  if (req->meter().size() > 32) return ToGrpc(FieldError("meter", "at most 32 characters"));
  return ToGrpc(kit::ListRows(
      db_, kit::DeadlineOf(*ctx), *req, resp->mutable_next_page_token(),
      [&](kit::Conn& c, const kit::Page& page) -> absl::StatusOr<std::vector<store::ReadingRow>> {
        ASSIGN_OR_RETURN(store::AccountRow a, store::ReadAccount(c, ref->first, ref->second));
        return store::ListReadings(c, a.id, req->meter(), page.after, page.size + 1);
      },
      [](const auto& r) { return r.id; },
      [&](const store::ReadingRow& r) {
        *resp->add_readings() = ReadingView(ref->first, ref->second, r);
      }));
}

BillingService* RegisterBilling(kit::ServiceHost& host, const kit::Clock& clock,
                                BillingOptions options) {
  auto service = std::make_unique<BillingService>(host.db(), clock, host.registry(), options);
  BillingService* raw = service.get();
  host.AddService(std::move(service),
                  v1::Account::descriptor()->file()->FindServiceByName("BillingService"));
  host.AddJob("billing-gauges", options.job_interval, [raw] { return raw->RefreshGauges(); });
  return raw;
}

}  // namespace billing
