// One-off charges made one at a time (ChargeAccount) and their refunds
// (RefundCharge): a renovation permit's deposit and garbage fee, charged on
// approval and the deposit given back at the closing inspection.
#include <map>
#include <vector>

#include "absl/strings/str_cat.h"
#include "services/billing/billing_internal.h"
#include "services/billing/billing_service.h"
#include "services/billing/billing_validation.h"
#include "services/billing/billing_views.h"
#include "services/billing/one_off_store.h"
#include "services/billing/refund.h"
#include "services/kit/errors.h"
#include "services/kit/idempotency.h"
#include "services/kit/proto_time.h"
#include "services/kit/rpc_context.h"
#include "services/kit/status_macros.h"
#include "services/kit/validate.h"

namespace billing {

using kit::FieldError;
using kit::ToGrpc;

grpc::Status BillingService::ChargeAccount(grpc::ServerContext* ctx,
                                           const v1::ChargeAccountRequest* req, v1::Bill* resp) {
  absl::StatusOr<std::pair<std::string, std::string>> account =
      ParseAccountName("account", req->account());
  if (!account.ok()) return ToGrpc(account.status());
  const std::string& site = account->first;
  absl::StatusOr<kit::SiteId> item =
      kit::ParseSiteId("charge_item", req->charge_item(), "chargeItems");
  if (!item.ok()) return ToGrpc(item.status());
  if (item->site != site) {
    return ToGrpc(FieldError("charge_item", "must be a charge item of the account's site"));
  }
  if (req->amount_minor() < 0 || req->amount_minor() > kMaxAmountMinor) {
    return ToGrpc(
        FieldError("amount_minor", "0 (the item's rate) or a positive amount up to 10^12"));
  }
  if (req->currency_code().empty() ? req->amount_minor() > 0
                                   : !IsCurrencyCode(req->currency_code())) {
    return ToGrpc(FieldError("currency_code",
                             "an ISO 4217 code such as CNY; required with "
                             "amount_minor"));
  }
  RETURN_GRPC_IF_ERROR(kit::CheckText("reference", req->reference(), 160, true));
  RETURN_GRPC_IF_ERROR(kit::CheckRequestId(req->request_id()));
  const std::string actor = kit::CallerOf(*ctx);
  return ToGrpc(kit::IdempotentWrite(
      db_, kit::DeadlineOf(*ctx), "ChargeAccount", req->request_id(), *req, resp,
      [&](kit::Conn& c) -> absl::Status {
        ASSIGN_OR_RETURN(store::Settings settings, store::ReadSettings(c, site, false));
        if (!req->currency_code().empty() && req->currency_code() != settings.currency) {
          return FieldError("currency_code", absl::StrCat("the site bills in ", settings.currency));
        }
        ASSIGN_OR_RETURN(auto rules, store::ReadRules(c, site));
        auto rule = rules.find(item->id);
        if (rule == rules.end()) return absl::NotFoundError("charge item not found");
        if (rule->second.kind != ChargeKind::kOneOff) {
          return absl::FailedPreconditionError(
              absl::StrCat("charge_item: ", rule->second.code,
                           " is not a ONE_OFF item; only those are charged "
                           "one at a time"));
        }
        const absl::Time now = clock_.Now();
        const absl::CivilDay today = DayOfTime(now);
        if (today < rule->second.effective_from ||
            (rule->second.effective_to.has_value() && today >= *rule->second.effective_to)) {
          return absl::FailedPreconditionError(absl::StrCat(
              "charge_item: ", rule->second.code, " is not in effect on ", store::DayText(today)));
        }
        int64_t amount = req->amount_minor();
        if (amount == 0) {
          ASSIGN_OR_RETURN(amount, LineAmountMinor(rule->second.rate, Decimal::FromUnits(1, 0)));
          if (amount <= 0) {
            return FieldError("amount_minor", "required: the item's rate is 0");
          }
        }
        ASSIGN_OR_RETURN(store::LockedAccount a, store::LockAccount(c, site, account->second));
        store::OneOffCharge charge;
        charge.item_id = item->id;
        charge.amount_minor = amount;
        charge.currency = settings.currency;
        charge.today = today;
        charge.due = today + rule->second.due_days;
        charge.reference = req->reference();
        charge.actor = actor;
        charge.now = now;
        store::Totals totals;
        ASSIGN_OR_RETURN(store::LineRow line, store::IssueOneOffCharge(c, a, charge, &totals));
        // Credit the account holds pays the new line first, as a bill run's
        // lines are paid from it.
        if (a->credit_minor > 0) {
          std::map<int64_t, store::LineRow> by_id;
          const std::vector<OpenLine> open = OpenLinesOf({line}, &by_id);
          ASSIGN_OR_RETURN(int64_t left,
                           SpendCredit(c, a, a->credit_minor, open, by_id, today, &totals));
          RETURN_IF_ERROR(store::SetCredit(c, a, left));
        }
        RETURN_IF_ERROR(store::AddTotals(c, site, totals));
        ASSIGN_OR_RETURN(store::BillRow bill, store::ReadBill(c, site, line.bill_id));
        *resp = BillView(bill);
        return absl::OkStatus();
      }));
}

grpc::Status BillingService::RefundCharge(grpc::ServerContext* ctx,
                                          const v1::RefundChargeRequest* req,
                                          v1::ChargeRefund* resp) {
  absl::StatusOr<std::pair<std::string, std::string>> account =
      ParseAccountName("account", req->account());
  if (!account.ok()) return ToGrpc(account.status());
  const std::string& site = account->first;
  RETURN_GRPC_IF_ERROR(kit::CheckText("reference", req->reference(), 160, true));
  if (req->keep_minor() < 0 || req->keep_minor() > kMaxAmountMinor) {
    return ToGrpc(FieldError("keep_minor", "0 (give all of it back) or a positive amount"));
  }
  RETURN_GRPC_IF_ERROR(kit::CheckText("reason", req->reason(), 500, true));
  RETURN_GRPC_IF_ERROR(kit::CheckRequestId(req->request_id()));
  const std::string actor = kit::CallerOf(*ctx);
  return ToGrpc(kit::IdempotentWrite(
      db_, kit::DeadlineOf(*ctx), "RefundCharge", req->request_id(), *req, resp,
      [&](kit::Conn& c) -> absl::Status {
        ASSIGN_OR_RETURN(store::Settings settings, store::ReadSettings(c, site, false));
        // Account, then its lines: the lock order of payments.
        ASSIGN_OR_RETURN(store::LockedAccount a, store::LockAccount(c, site, account->second));
        ASSIGN_OR_RETURN(auto ids, store::FindCharge(c, a->id, req->reference()));
        ASSIGN_OR_RETURN(store::LineRow line, store::LockLine(c, a, ids.first, ids.second));
        ASSIGN_OR_RETURN(std::optional<store::RefundRow> before, store::ReadRefund(c, line.id));
        if (before.has_value()) {
          return absl::FailedPreconditionError(
              absl::StrCat("the charge was refunded already (", before->reason, ")"));
        }
        ASSIGN_OR_RETURN(RefundSplit split,
                         SplitRefund({line.amount_minor, line.paid_minor, line.written_off_minor},
                                     req->keep_minor()));
        const absl::Time now = clock_.Now();
        const absl::CivilDay today = DayOfTime(now);
        // The line ends up paid exactly what is kept: what was paid beyond it
        // comes off the line into the account's credit, and all that is
        // given back is credit-noted on the line, which is then settled.
        store::Totals totals;
        if (split.credited_minor > 0) {
          RETURN_IF_ERROR(store::ApplyAllocations(c, a, 0, {{line.id, -split.credited_minor}},
                                                  today, {{line.id, line}}, &totals));
        }
        const int64_t refunded = split.cancelled_minor + split.credited_minor;
        if (refunded > 0) {
          RETURN_IF_ERROR(store::WriteOffLine(c, a, line, refunded, &totals));
          store::LedgerRow e;
          e.account_id = a->id;
          e.kind = v1::CREDIT_NOTE;
          e.amount_minor = -refunded;
          e.line_id = line.id;
          e.actor = actor;
          e.reason = req->reason();
          e.created_at = now;
          RETURN_IF_ERROR(store::PostLedger(c, a, {e}));
        }
        // Money given back is the account's credit: it pays what the account
        // owes now (the refunded line is settled by then) and the rest waits.
        int64_t credit = a->credit_minor;
        int64_t applied = 0;
        if (split.credited_minor > 0) {
          ASSIGN_OR_RETURN(std::vector<store::LineRow> open, store::LockUnsettledLines(c, a));
          std::map<int64_t, store::LineRow> by_id;
          const int64_t available = a->credit_minor + split.credited_minor;
          ASSIGN_OR_RETURN(credit, SpendCredit(c, a, available, OpenLinesOf(open, &by_id), by_id,
                                               today, &totals));
          applied = available - credit;
          RETURN_IF_ERROR(store::SetCredit(c, a, credit));
        }
        RETURN_IF_ERROR(store::AddTotals(c, site, totals));
        store::RefundRow r;
        r.line_id = line.id;
        r.site = site;
        r.account_id = a->id;
        r.charged_minor = split.charged_minor;
        r.kept_minor = split.kept_minor;
        r.cancelled_minor = split.cancelled_minor;
        r.credited_minor = split.credited_minor;
        r.applied_minor = applied;
        r.reason = req->reason();
        r.actor = actor;
        r.created_at = now;
        RETURN_IF_ERROR(store::InsertRefund(c, r));

        resp->Clear();
        resp->set_account(AccountName(site, a->unit));
        resp->set_reference(req->reference());
        resp->set_bill_line(LineName(site, line.bill_id, line.id));
        resp->set_charged_minor(split.charged_minor);
        resp->set_kept_minor(split.kept_minor);
        resp->set_refunded_minor(refunded);
        resp->set_cancelled_minor(split.cancelled_minor);
        resp->set_credited_minor(split.credited_minor);
        resp->set_applied_to_open_lines_minor(applied);
        resp->set_account_credit_minor(credit);
        resp->set_currency_code(settings.currency);
        resp->set_reason(req->reason());
        resp->set_actor(actor);
        kit::SetTimestamp(resp->mutable_time(), now);
        return absl::OkStatus();
      }));
}

}  // namespace billing
