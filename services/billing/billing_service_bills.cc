// Bills and their lines: read, held, released, written off.
#include <map>
#include <set>

#include "absl/strings/match.h"
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

namespace billing {

using kit::FieldError;
using kit::ToGrpc;

absl::StatusOr<LineRef> ParseLineName(absl::string_view field, absl::string_view name) {
  absl::StatusOr<std::vector<std::string>> ids =
      kit::ParseName(field, name, {"sites", "bills", "lines"});
  if (!ids.ok()) return ids.status();
  return LineRef{(*ids)[0], kit::IdOf((*ids)[1]), kit::IdOf((*ids)[2])};
}


// --- bills ------------------------------------------------------------------

grpc::Status BillingService::GetBill(grpc::ServerContext* ctx, const v1::GetBillRequest* req,
                                     v1::Bill* resp) {
  return ToGrpc(kit::GetOne(
      db_, kit::DeadlineOf(*ctx), req->name(), "bills",
      [&](kit::Conn& c, const kit::SiteId& ref) { return store::ReadBill(c, ref.site, ref.id); },
      [&](const store::BillRow& b) { *resp = BillView(b); }));
}

grpc::Status BillingService::ListBills(grpc::ServerContext* ctx, const v1::ListBillsRequest* req,
                                       v1::ListBillsResponse* resp) {
  // The site is parsed here, not by kit::ListPage: the account filter is checked against it.
  absl::StatusOr<std::string> site = kit::ParseSiteParent("parent", req->parent());
  if (!site.ok()) return ToGrpc(site.status());
  std::optional<std::pair<std::string, std::string>> account;
  if (!req->account().empty()) {
    absl::StatusOr<std::pair<std::string, std::string>> ref =
        ParseAccountName("account", req->account());
    if (!ref.ok()) return ToGrpc(ref.status());
    if (ref->first != *site) return ToGrpc(FieldError("account", "must be of the parent site"));
    account = *ref;
  }
  // Heating labels depend on the site's season: any well-formed one is taken.
  if (!req->period().empty() && !PeriodOfLabel(req->period()).has_value() &&
      !absl::StartsWith(req->period(), "heating-")) {
    return ToGrpc(FieldError("period", "a period label such as 2026-03, 2026-Q1, 2026"));
  }
  return ToGrpc(kit::ListRows(
      db_, kit::DeadlineOf(*ctx), *req, resp->mutable_next_page_token(),
      [&](kit::Conn& c, const kit::Page& page) -> absl::StatusOr<std::vector<store::BillRow>> {
        store::BillFilter f;
        f.site = *site;
        f.period_label = req->period();
        f.unpaid_only = req->unpaid_only();
        if (account.has_value()) {
          absl::StatusOr<store::AccountRow> a = store::ReadAccount(c, *site, account->second);
          // No account, no bills.
          if (absl::IsNotFound(a.status())) return std::vector<store::BillRow>();
          if (!a.ok()) return a.status();
          f.account_id = a->id;
        }
        return store::ListBills(c, f, page.after, page.size + 1);
      },
      [](const auto& r) { return r.id; },
      [&](const store::BillRow& b) { *resp->add_bills() = BillView(b); }));
}

// --- lines ------------------------------------------------------------------

absl::Status BillingService::ChangeLine(
    grpc::ServerContext* ctx, const std::string& method, const google::protobuf::Message& req,
    const std::string& name, const std::string& request_id, v1::BillLine* resp,
    const std::function<absl::Status(kit::Conn&, store::LineRow&, store::LockedAccount&)>&
        change) {
  absl::StatusOr<LineRef> ref = ParseLineName("name", name);
  if (!ref.ok()) return ref.status();
  RETURN_IF_ERROR(kit::CheckRequestId(request_id));
  return kit::IdempotentWrite(
      db_, kit::DeadlineOf(*ctx), method, request_id, req, resp,
      [&](kit::Conn& c) -> absl::Status {
        // Account first, then the line: the lock order of payments.
        ASSIGN_OR_RETURN(store::LineRow peek,
                         store::ReadLine(c, ref->site, ref->bill_id, ref->line_id));
        ASSIGN_OR_RETURN(store::LockedAccount a, store::LockAccountById(c, peek.account_id));
        ASSIGN_OR_RETURN(store::LineRow line, store::LockLine(c, a, ref->bill_id, ref->line_id));
        RETURN_IF_ERROR(change(c, line, a));
        ASSIGN_OR_RETURN(line, store::ReadLine(c, ref->site, ref->bill_id, ref->line_id));
        *resp = LineView(ref->site, line);  // read committed: this write's own values
        return absl::OkStatus();
      });
}

grpc::Status BillingService::HoldBillLine(grpc::ServerContext* ctx,
                                          const v1::HoldBillLineRequest* req,
                                          v1::BillLine* resp) {
  if (req->reason_code().empty() || req->reason_code().size() > 64 ||
      !kit::IsValidSiteId(req->reason_code())) {
    return ToGrpc(FieldError("reason_code",
                             "required: lowercase letters, digits, '-' (e.g. compensation-claim)"));
  }
  if (!req->ticket().empty()) {
    absl::StatusOr<std::vector<std::string>> t =
        kit::ParseName("ticket", req->ticket(), {"sites", "tickets"});
    if (!t.ok()) return ToGrpc(t.status());
    if (!absl::StartsWith(req->name(), absl::StrCat("sites/", (*t)[0], "/"))) {
      return ToGrpc(FieldError("ticket", "must be a ticket of the line's site"));
    }
  }
  return ToGrpc(ChangeLine(
      ctx, "HoldBillLine", *req, req->name(), req->request_id(), resp,
      [&](kit::Conn& c, store::LineRow& line, store::LockedAccount& a) -> absl::Status {
        if (line.held) return absl::FailedPreconditionError("the line is already on hold");
        if (line.paid_minor + line.written_off_minor >= line.amount_minor) {
          return absl::FailedPreconditionError("the line is settled; nothing to dispute");
        }
        return store::SetHold(c, a, line, true, req->reason_code(), req->ticket(),
                              DayOfTime(clock_.Now()));
      }));
}

grpc::Status BillingService::ReleaseBillLine(grpc::ServerContext* ctx,
                                             const v1::ReleaseBillLineRequest* req,
                                             v1::BillLine* resp) {
  return ToGrpc(ChangeLine(
      ctx, "ReleaseBillLine", *req, req->name(), req->request_id(), resp,
      [&](kit::Conn& c, store::LineRow& line, store::LockedAccount& a) -> absl::Status {
        if (!line.held) return absl::FailedPreconditionError("the line is not on hold");
        return store::SetHold(c, a, line, false, "", "", DayOfTime(clock_.Now()));
      }));
}

grpc::Status BillingService::WriteOffBillLine(grpc::ServerContext* ctx,
                                              const v1::WriteOffBillLineRequest* req,
                                              v1::BillLine* resp) {
  RETURN_GRPC_IF_ERROR(kit::CheckText("reason", req->reason(), 500, true));
  if (req->amount_minor() < 0 || req->amount_minor() > kMaxAmountMinor) {
    return ToGrpc(FieldError("amount_minor", "0 (all that is left) or a positive amount"));
  }
  const std::string actor = kit::CallerOf(*ctx);
  return ToGrpc(ChangeLine(
      ctx, "WriteOffBillLine", *req, req->name(), req->request_id(), resp,
      [&](kit::Conn& c, store::LineRow& line, store::LockedAccount& a) -> absl::Status {
        const int64_t rest = line.amount_minor - line.paid_minor - line.written_off_minor;
        if (rest <= 0)
          return absl::FailedPreconditionError("the line is settled; nothing to write off");
        const int64_t amount = req->amount_minor() == 0 ? rest : req->amount_minor();
        if (amount > rest) {
          return absl::FailedPreconditionError(
              absl::StrCat("amount_minor: only ", rest, " is left on the line"));
        }
        RETURN_IF_ERROR(store::WriteOffLine(c, a, line, amount));
        store::LedgerRow e;
        e.account_id = a->id;
        e.kind = req->credit_note() ? v1::CREDIT_NOTE : v1::WRITE_OFF;
        e.amount_minor = -amount;
        e.line_id = line.id;
        e.actor = actor;
        e.reason = req->reason();
        e.created_at = clock_.Now();
        return store::PostLedger(c, a, {e});
      }));
}

}  // namespace billing
