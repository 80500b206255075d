// Payments (recorded, listed, reversed) and the ledger; posting itself is in
// billing_service_posting.cc.
#include <map>

#include "absl/strings/str_cat.h"
#include "services/billing/billing_internal.h"
#include "services/billing/billing_service.h"
#include "services/billing/billing_validation.h"
#include "services/billing/billing_views.h"
#include "services/billing/posting.h"
#include "services/kit/errors.h"
#include "services/kit/idempotency.h"
#include "services/kit/list.h"
#include "services/kit/paging.h"
#include "services/kit/rpc_context.h"
#include "services/kit/status_macros.h"
#include "services/kit/validate.h"

namespace billing {

using kit::FieldError;
using kit::ToGrpc;

// --- payments ---------------------------------------------------------------

grpc::Status BillingService::RecordPayment(grpc::ServerContext* ctx,
                                           const v1::RecordPaymentRequest* req,
                                           v1::Payment* resp) {
  absl::StatusOr<std::string> site = kit::ParseSiteParent("parent", req->parent());
  if (!site.ok()) return ToGrpc(site.status());
  RETURN_GRPC_IF_ERROR(kit::CheckRequestId(req->request_id()));
  const v1::Payment& in = req->payment();
  absl::StatusOr<std::pair<std::string, std::string>> account =
      ParseAccountName("payment.account", in.account());
  if (!account.ok()) return ToGrpc(account.status());
  if (account->first != *site) {
    return ToGrpc(FieldError("payment.account", "must be an account of the parent site"));
  }
  if (in.method() < v1::CASH || in.method() > v1::ALIPAY) {
    return ToGrpc(FieldError("payment.method",
                             "required: CASH, BANK_TRANSFER, DIRECT_DEBIT, CARD, WECHAT or ALIPAY"));
  }
  if (in.amount_minor() <= 0) return ToGrpc(FieldError("payment.amount_minor", "must be positive"));
  if (in.amount_minor() > kMaxAmountMinor) {
    return ToGrpc(FieldError("payment.amount_minor", "above the largest single payment (10^12)"));
  }
  if (!IsCurrencyCode(in.currency_code())) {
    return ToGrpc(FieldError("payment.currency_code", "required: an ISO 4217 code such as CNY"));
  }
  RETURN_GRPC_IF_ERROR(kit::CheckText("payment.reference", in.reference(), 128, false));
  absl::CivilDay received = DayOfTime(clock_.Now());
  if (!in.received_on().empty()) {
    absl::StatusOr<absl::CivilDay> d = ParseDay("payment.received_on", in.received_on());
    if (!d.ok()) return ToGrpc(d.status());
    if (*d > LatestDayOfTime(clock_.Now())) {
      return ToGrpc(FieldError("payment.received_on", "must not be in the future"));
    }
    received = *d;
  }
  if (in.bills_size() > 50) return ToGrpc(FieldError("payment.bills", "at most 50"));
  std::vector<int64_t> named_bills;
  for (int i = 0; i < in.bills_size(); ++i) {
    const std::string f = absl::StrCat("payment.bills[", i, "]");
    absl::StatusOr<kit::SiteId> bill = kit::ParseSiteId(f, in.bills(i), "bills");
    if (!bill.ok()) return ToGrpc(bill.status());
    if (bill->site != *site) return ToGrpc(FieldError(f, "must be a bill of the parent site"));
    const int64_t id = bill->id;
    if (std::find(named_bills.begin(), named_bills.end(), id) != named_bills.end()) {
      return ToGrpc(FieldError(f, "named twice"));
    }
    named_bills.push_back(id);
  }
  const std::string actor = kit::CallerOf(*ctx);
  PaymentJob job{*site,
                 account->second,
                 {0, in.method(), in.reference(), in.amount_minor(), in.currency_code(), received,
                  named_bills, actor},
                 req->request_id(),
                 kit::RequestFingerprint("RecordPayment", *req),
                 kit::DeadlineOf(*ctx)};
  payments_.Run(&job);
  if (job.posted) {
    *resp = std::move(job.response);
    return grpc::Status::OK;
  }
  std::map<int64_t, int64_t> collected_by_item;
  grpc::Status s = ToGrpc(kit::IdempotentWrite(
      db_, kit::DeadlineOf(*ctx), "RecordPayment", req->request_id(), *req, resp,
      [&](kit::Conn& c) -> absl::Status {
        collected_by_item.clear();
        ASSIGN_OR_RETURN(store::Settings settings, store::ReadSettings(c, *site, false));
        if (in.currency_code() != settings.currency) {
          return FieldError("payment.currency_code",
                            absl::StrCat("the site bills in ", settings.currency));
        }
        ASSIGN_OR_RETURN(store::LockedAccount a, store::LockAccount(c, *site, account->second));
        PaymentInput pin{a->id,   in.method(), in.reference(), in.amount_minor(),
                         in.currency_code(), received, named_bills, actor};
        ASSIGN_OR_RETURN(auto posted, PostPayments(c, {&a}, {pin}, &collected_by_item));
        if (!posted.front().ok()) return posted.front().status();
        // The answer is the row as written (no read-back).
        *resp = PaymentView(*posted.front());
        return absl::OkStatus();
      }));
  // Only the call that posted counts (a replayed retry runs nothing).
  if (s.ok()) CountCollected(*site, collected_by_item);
  return s;
}

grpc::Status BillingService::GetPayment(grpc::ServerContext* ctx,
                                        const v1::GetPaymentRequest* req, v1::Payment* resp) {
  return ToGrpc(kit::GetOne(
      db_, kit::DeadlineOf(*ctx), req->name(), "payments",
      [&](kit::Conn& c, const kit::SiteId& ref) {
        return store::ReadPayment(c, ref.site, ref.id, false);
      },
      [&](const store::PaymentRow& p) { *resp = PaymentView(p); }));
}

grpc::Status BillingService::ListPayments(grpc::ServerContext* ctx,
                                          const v1::ListPaymentsRequest* req,
                                          v1::ListPaymentsResponse* resp) {
  // The site is parsed here, not by kit::ListPage: the account filter is checked against it.
  absl::StatusOr<std::string> site = kit::ParseSiteParent("parent", req->parent());
  if (!site.ok()) return ToGrpc(site.status());
  std::string unit;
  if (!req->account().empty()) {
    absl::StatusOr<std::pair<std::string, std::string>> ref =
        ParseAccountName("account", req->account());
    if (!ref.ok()) return ToGrpc(ref.status());
    if (ref->first != *site) return ToGrpc(FieldError("account", "must be of the parent site"));
    unit = ref->second;
  }
  return ToGrpc(kit::ListRows(
      db_, kit::DeadlineOf(*ctx), *req, resp->mutable_next_page_token(),
      [&](kit::Conn& c, const kit::Page& page) -> absl::StatusOr<std::vector<store::PaymentRow>> {
        int64_t account_id = 0;
        if (!unit.empty()) {
          absl::StatusOr<store::AccountRow> a = store::ReadAccount(c, *site, unit);
          // No account, no payments.
          if (absl::IsNotFound(a.status())) return std::vector<store::PaymentRow>();
          if (!a.ok()) return a.status();
          account_id = a->id;
        }
        return store::ListPayments(c, *site, account_id, page.after, page.size + 1);
      },
      [](const auto& r) { return r.id; },
      [&](const store::PaymentRow& p) { *resp->add_payments() = PaymentView(p); }));
}

grpc::Status BillingService::ReversePayment(grpc::ServerContext* ctx,
                                            const v1::ReversePaymentRequest* req,
                                            v1::Payment* resp) {
  absl::StatusOr<kit::SiteId> ref = kit::ParseSiteId("name", req->name(), "payments");
  if (!ref.ok()) return ToGrpc(ref.status());
  RETURN_GRPC_IF_ERROR(kit::CheckRequestId(req->request_id()));
  RETURN_GRPC_IF_ERROR(kit::CheckText("reason", req->reason(), 500, true));
  const std::string& site = ref->site;
  const int64_t id = ref->id;
  const std::string actor = kit::CallerOf(*ctx);
  int64_t reversed_amount = 0;
  v1::PaymentMethod method = v1::PAYMENT_METHOD_UNSPECIFIED;
  grpc::Status s = ToGrpc(kit::IdempotentWrite(
      db_, kit::DeadlineOf(*ctx), "ReversePayment", req->request_id(), *req, resp,
      [&](kit::Conn& c) -> absl::Status {
        reversed_amount = 0;
        ASSIGN_OR_RETURN(store::PaymentRow peek, store::ReadPayment(c, site, id, false));
        ASSIGN_OR_RETURN(store::LockedAccount a, store::LockAccountById(c, peek.account_id));
        ASSIGN_OR_RETURN(store::PaymentRow p, store::ReadPayment(c, site, id, true));
        if (p.reversed) return absl::FailedPreconditionError("the payment is already reversed");
        const absl::Time now = clock_.Now();
        const absl::CivilDay today = DayOfTime(now);
        // Every line it paid reopens by what it paid; the credit it left
        // comes back out, from the lines that credit paid since if spent.
        std::vector<Allocation> made;
        for (const auto& [line, amount] : p.allocations) made.push_back({line, amount});
        std::vector<Allocation> spent;
        if (p.to_credit_minor > a->credit_minor) {
          ASSIGN_OR_RETURN(spent, store::CreditAllocationsNewestFirst(c, a->id));
        }
        ASSIGN_OR_RETURN(ReversalPlan plan,
                         PlanReversal(made, p.to_credit_minor, a->credit_minor, spent));
        std::vector<int64_t> ids;
        for (const Allocation& x : plan.undo) ids.push_back(x.line_id);
        for (const Allocation& x : plan.take_back) ids.push_back(x.line_id);
        ASSIGN_OR_RETURN(auto lines, store::LockLines(c, a, ids));
        store::Totals totals;
        RETURN_IF_ERROR(store::ApplyAllocations(c, a, p.id, plan.undo, today, lines, &totals));
        RETURN_IF_ERROR(store::ApplyAllocations(c, a, 0, plan.take_back, today, lines, &totals));
        RETURN_IF_ERROR(store::AddTotals(c, site, totals));
        a->credit_minor = plan.credit_after_minor;  // written with the ledger entry
        store::LedgerRow e;
        e.account_id = a->id;
        e.kind = v1::PAYMENT_REVERSAL;
        e.amount_minor = p.amount_minor;
        e.payment_id = p.id;
        e.actor = actor;
        e.reason = req->reason();
        e.created_at = now;
        RETURN_IF_ERROR(store::PostLedger(c, a, {e}));
        RETURN_IF_ERROR(store::MarkReversed(c, p.id, req->reason()));
        p.reversed = true;
        p.reversal_reason = req->reason();
        *resp = PaymentView(p);
        reversed_amount = p.amount_minor;
        method = p.method;
        return absl::OkStatus();
      }));
  if (s.ok() && reversed_amount > 0) {
    reversed_.Add({{"site", site}, {"method", v1::PaymentMethod_Name(method)}})
        .Increment(static_cast<double>(reversed_amount));
  }
  return s;
}

grpc::Status BillingService::ListLedgerEntries(grpc::ServerContext* ctx,
                                               const v1::ListLedgerEntriesRequest* req,
                                               v1::ListLedgerEntriesResponse* resp) {
  absl::StatusOr<std::pair<std::string, std::string>> ref =
      ParseAccountName("parent", req->parent());
  if (!ref.ok()) return ToGrpc(ref.status());
  return ToGrpc(kit::ListRows(
      db_, kit::DeadlineOf(*ctx), *req, resp->mutable_next_page_token(),
      [&](kit::Conn& c, const kit::Page& page) -> absl::StatusOr<std::vector<store::LedgerRow>> {
        ASSIGN_OR_RETURN(store::AccountRow a, store::ReadAccount(c, ref->first, ref->second));
        return store::ListLedger(c, a.id, page.after, page.size + 1);
      },
      [](const auto& r) { return r.id; },
      [&](const store::LedgerRow& e) { *resp->add_entries() = LedgerView(ref->first, e); }));
}

}  // namespace billing
