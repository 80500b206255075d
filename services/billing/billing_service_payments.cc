// Bills, their lines (hold, release, write-off), payments and the ledger.
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
    const std::function<absl::Status(kit::Conn&, store::LineRow&, const store::LockedAccount&)>&
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
      [&](kit::Conn& c, store::LineRow& line, const store::LockedAccount& a) -> absl::Status {
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
      [&](kit::Conn& c, store::LineRow& line, const store::LockedAccount& a) -> absl::Status {
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
      [&](kit::Conn& c, store::LineRow& line, const store::LockedAccount& a) -> absl::Status {
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
        return store::AddLedger(c, a->site, e);
      }));
}

// --- late fees --------------------------------------------------------------

grpc::Status BillingService::AssessLateFees(grpc::ServerContext* ctx,
                                            const v1::AssessLateFeesRequest* req,
                                            v1::LateFeeAssessment* resp) {
  absl::StatusOr<std::string> site = kit::ParseSiteParent("parent", req->parent());
  if (!site.ok()) return ToGrpc(site.status());
  RETURN_GRPC_IF_ERROR(kit::CheckRequestId(req->request_id()));
  const absl::CivilDay today = DayOfTime(clock_.Now());
  absl::CivilDay as_of = today;
  if (!req->as_of().empty()) {
    absl::StatusOr<absl::CivilDay> d = ParseDay("as_of", req->as_of());
    if (!d.ok()) return ToGrpc(d.status());
    if (*d > LatestDayOfTime(clock_.Now())) {
      return ToGrpc(FieldError("as_of", "must not be in the future"));
    }
    as_of = *d;
  }
  const absl::Time deadline = kit::DeadlineOf(*ctx);
  // A retry of an assessment that finished is answered from its record and
  // charges nothing (not even what accrued since, were as_of "today").
  absl::StatusOr<bool> done =
      kit::StoredResponse(db_, deadline, "AssessLateFees", req->request_id(), *req, resp);
  if (!done.ok()) return ToGrpc(done.status());
  if (*done) return grpc::Status::OK;
  const std::string actor = kit::CallerOf(*ctx);
  std::string currency;
  std::map<int64_t, ChargeRule> rules;
  RETURN_GRPC_IF_ERROR(db_.Run(deadline, [&](kit::Conn& c) -> absl::Status {
    ASSIGN_OR_RETURN(store::Settings settings, store::ReadSettings(c, *site, false));
    currency = settings.currency;
    ASSIGN_OR_RETURN(rules, store::ReadRules(c, *site));
    return absl::OkStatus();
  }));
  // A batch of accounts at a time, each in its own transaction, accounts
  // locked (in id order) before their lines, as a payment locks them: the
  // site's payments wait for one batch at most, never for the whole
  // assessment, and never deadlock with it. What accrued is charged less
  // what was charged before, so a batch run twice (a retry after a crash)
  // charges nothing more.
  int batch_size;
  std::function<void(const std::vector<int64_t>&)> hook;
  {
    absl::MutexLock lock(&late_fee_mu_);
    batch_size = late_fee_batch_;
    hook = late_fee_hook_;
  }
  v1::LateFeeAssessment total;
  int64_t after = 0;
  for (;;) {
    std::vector<int64_t> ids;
    RETURN_GRPC_IF_ERROR(db_.Run(deadline, [&](kit::Conn& c) -> absl::Status {
      ASSIGN_OR_RETURN(ids, store::OverdueAccounts(c, *site, as_of, after, batch_size));
      return absl::OkStatus();
    }));
    if (ids.empty()) break;
    v1::LateFeeAssessment batch;
    RETURN_GRPC_IF_ERROR(db_.Transact(deadline, [&](kit::Conn& c) -> absl::Status {
      batch.Clear();
      ASSIGN_OR_RETURN(std::vector<store::LockedAccount> accounts,
                       store::LockAccounts(c, *site, ids));
      ASSIGN_OR_RETURN(std::vector<store::LateFeeCandidate> lines,
                       store::LateFeeCandidates(c, accounts, as_of));
      if (hook) hook(ids);
      for (store::LateFeeCandidate& l : lines) {
        auto rule = rules.find(l.item_id);
        if (rule == rules.end() || !rule->second.late_fee.has_value()) continue;
        const LateFeePolicy& policy = *rule->second.late_fee;
        // Days on hold move the due date on: a dispute accrues nothing.
        const absl::CivilDay due = l.due + l.held_days;
        if (as_of - due <= policy.grace_days) continue;
        batch.set_overdue_lines(batch.overdue_lines() + 1);
        // A disputed line accrues nothing while it is on hold.
        if (l.held) {
          batch.set_held_lines_skipped(batch.held_lines_skipped() + 1);
          continue;
        }
        ASSIGN_OR_RETURN(int64_t accrued, LateFeeMinor(policy, l.unpaid_minor, due, as_of));
        l.charge_minor = accrued - l.charged_minor;
        if (l.charge_minor <= 0) continue;
        batch.set_lines_charged(batch.lines_charged() + 1);
        batch.set_total_minor(batch.total_minor() + l.charge_minor);
      }
      return store::IssueLateFees(c, accounts, currency, as_of, lines, actor, clock_.Now());
    }));
    total.set_overdue_lines(total.overdue_lines() + batch.overdue_lines());
    total.set_held_lines_skipped(total.held_lines_skipped() + batch.held_lines_skipped());
    total.set_lines_charged(total.lines_charged() + batch.lines_charged());
    total.set_total_minor(total.total_minor() + batch.total_minor());
    after = ids.back();
  }
  total.set_as_of(store::DayText(as_of));
  total.set_currency_code(currency);
  // Recorded last: a concurrent duplicate that finished first answers with
  // its figures (its batches charged what this one's found already charged).
  return ToGrpc(kit::IdempotentWrite(db_, deadline, "AssessLateFees", req->request_id(), *req, resp,
                                     [&](kit::Conn&) -> absl::Status {
                                       *resp = total;
                                       return absl::OkStatus();
                                     }));
}

void BillingService::SetLateFeeBatchForTest(int batch,
                                            std::function<void(const std::vector<int64_t>&)> hook) {
  absl::MutexLock lock(&late_fee_mu_);
  late_fee_batch_ = batch;
  late_fee_hook_ = std::move(hook);
}

// --- payments ---------------------------------------------------------------

absl::StatusOr<int64_t> SpendCredit(kit::Conn& c, const store::LockedAccount& a, int64_t credit,
                                    const std::vector<OpenLine>& open,
                                    const std::map<int64_t, store::LineRow>& lines,
                                    absl::CivilDay day, store::Totals* totals) {
  if (credit <= 0) return credit;
  ASSIGN_OR_RETURN(AllocationResult spent, Allocate(open, credit));
  if (!spent.allocations.empty()) {
    RETURN_IF_ERROR(store::ApplyAllocations(c, a, 0, spent.allocations, day, lines, totals));
  }
  return spent.to_credit_minor;
}

absl::StatusOr<store::PaymentRow> BillingService::PostPayment(
    kit::Conn& c, store::LockedAccount& locked, const PaymentInput& in,
    std::map<std::string, int64_t>* collected_by_code) {
  const store::AccountRow& a = locked.row();
  ASSIGN_OR_RETURN(std::vector<store::LineRow> lines, store::LockUnsettledLines(c, locked));
  std::vector<int64_t> named_lines;
  for (size_t i = 0; i < in.named_bills.size(); ++i) {
    size_t found = 0;
    for (const store::LineRow& l : lines) {
      if (l.bill_id != in.named_bills[i]) continue;
      named_lines.push_back(l.id);
      ++found;
    }
    if (found == 0) {
      return FieldError(absl::StrCat("payment.bills[", i, "]"),
                        "not a bill of this account with anything left to pay");
    }
  }
  std::map<int64_t, store::LineRow> by_id;
  ASSIGN_OR_RETURN(AllocationResult res,
                   Allocate(OpenLinesOf(lines, &by_id), in.amount_minor, named_lines));
  store::PaymentRow p;
  p.site = a.site;
  p.account_id = a.id;
  p.unit = a.unit;
  p.method = in.method;
  p.reference = in.reference;
  p.amount_minor = in.amount_minor;
  p.currency = in.currency;
  p.received_on = in.received_on;
  p.named_bills = absl::StrJoin(in.named_bills, ",");
  p.to_credit_minor = res.to_credit_minor;
  p.recorded_by = in.actor;
  p.created_at = clock_.Now();
  ASSIGN_OR_RETURN(p.id, store::InsertPayment(c, p));
  store::Totals totals;
  RETURN_IF_ERROR(
      store::ApplyAllocations(c, locked, p.id, res.allocations, in.received_on, by_id, &totals));
  for (const Allocation& al : res.allocations) {
    (*collected_by_code)[by_id.at(al.line_id).code] += al.amount_minor;
  }
  // Credit the account already had goes to what this payment left open
  // (a direct debit collects what is due less the credit, for one).
  int64_t credit = a.credit_minor;
  if (credit > 0) {
    std::vector<OpenLine> left = OpenLinesOf(lines);
    for (const Allocation& al : res.allocations) {
      for (OpenLine& l : left) {
        if (l.id == al.line_id) l.paid_minor += al.amount_minor;
      }
    }
    ASSIGN_OR_RETURN(credit, SpendCredit(c, locked, credit, left, by_id, in.received_on, &totals));
  }
  RETURN_IF_ERROR(store::AddTotals(c, a.site, totals));
  if (credit + res.to_credit_minor != a.credit_minor) {
    RETURN_IF_ERROR(store::SetCredit(c, locked, credit + res.to_credit_minor));
  }
  store::LedgerRow e;
  e.account_id = a.id;
  e.kind = v1::PAYMENT;
  e.amount_minor = -p.amount_minor;
  e.payment_id = p.id;
  e.actor = in.actor;
  e.reason = v1::PaymentMethod_Name(p.method);
  e.created_at = p.created_at;
  RETURN_IF_ERROR(store::AddLedger(c, a.site, e));
  return p;
}

void BillingService::CountCollected(const std::string& site,
                                    const std::map<std::string, int64_t>& by_code) {
  for (const auto& [code, amount] : by_code) {
    collected_.Add({{"site", site}, {"charge_item", code}}).Increment(static_cast<double>(amount));
  }
}

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
  std::map<std::string, int64_t> collected_by_code;
  grpc::Status s = ToGrpc(kit::IdempotentWrite(
      db_, kit::DeadlineOf(*ctx), "RecordPayment", req->request_id(), *req, resp,
      [&](kit::Conn& c) -> absl::Status {
        collected_by_code.clear();
        ASSIGN_OR_RETURN(store::Settings settings, store::ReadSettings(c, *site, false));
        if (in.currency_code() != settings.currency) {
          return FieldError("payment.currency_code",
                            absl::StrCat("the site bills in ", settings.currency));
        }
        ASSIGN_OR_RETURN(store::LockedAccount a, store::LockAccount(c, *site, account->second));
        PaymentInput pin{in.method(), in.reference(), in.amount_minor(), in.currency_code(),
                         received, named_bills, actor};
        ASSIGN_OR_RETURN(store::PaymentRow p, PostPayment(c, a, pin, &collected_by_code));
        ASSIGN_OR_RETURN(store::PaymentRow stored, store::ReadPayment(c, *site, p.id, false));
        *resp = PaymentView(stored);
        return absl::OkStatus();
      }));
  // Only the call that posted counts (a replayed retry runs nothing).
  if (s.ok()) CountCollected(*site, collected_by_code);
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
        // Every line it paid reopens by what it paid.
        std::vector<Allocation> undo;
        std::vector<int64_t> ids;
        for (const auto& [line, amount] : p.allocations) {
          undo.push_back({line, -amount});
          ids.push_back(line);
        }
        ASSIGN_OR_RETURN(auto undone, store::LockLines(c, a, ids));
        store::Totals totals;
        RETURN_IF_ERROR(store::ApplyAllocations(c, a, p.id, undo, today, undone, &totals));
        // Its credit comes back out; what later bills already consumed of it
        // is taken back from those lines, newest first.
        int64_t take = p.to_credit_minor;
        const int64_t from_credit = std::min(take, a->credit_minor);
        take -= from_credit;
        if (take > 0) {
          ASSIGN_OR_RETURN(std::vector<Allocation> consumed,
                           store::CreditAllocationsNewestFirst(c, a->id));
          std::vector<Allocation> back;
          for (const Allocation& al : consumed) {
            if (take == 0) break;
            const int64_t x = std::min(take, al.amount_minor);
            back.push_back({al.line_id, -x});
            take -= x;
          }
          if (take > 0) return absl::InternalError("credit ledger does not add up");
          std::vector<int64_t> back_ids;
          for (const Allocation& b : back) back_ids.push_back(b.line_id);
          ASSIGN_OR_RETURN(auto reopened, store::LockLines(c, a, back_ids));
          RETURN_IF_ERROR(store::ApplyAllocations(c, a, 0, back, today, reopened, &totals));
        }
        RETURN_IF_ERROR(store::AddTotals(c, site, totals));
        if (from_credit > 0) {
          RETURN_IF_ERROR(store::SetCredit(c, a, a->credit_minor - from_credit));
        }
        store::LedgerRow e;
        e.account_id = a->id;
        e.kind = v1::PAYMENT_REVERSAL;
        e.amount_minor = p.amount_minor;
        e.payment_id = p.id;
        e.actor = actor;
        e.reason = req->reason();
        e.created_at = now;
        RETURN_IF_ERROR(store::AddLedger(c, site, e));
        RETURN_IF_ERROR(store::MarkReversed(c, p.id, req->reason()));
        ASSIGN_OR_RETURN(store::PaymentRow stored, store::ReadPayment(c, site, p.id, false));
        *resp = PaymentView(stored);
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
