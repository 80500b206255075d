// Payments (recorded, listed, reversed) and the ledger.
#include <map>
#include <set>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
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
#include "spdlog/spdlog.h"

namespace billing {

using kit::FieldError;
using kit::ToGrpc;

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

absl::StatusOr<std::vector<absl::StatusOr<store::PaymentRow>>> BillingService::PostPayments(
    kit::Conn& c, std::vector<store::LockedAccount*> accounts, const std::vector<PaymentInput>& ins,
    std::map<int64_t, int64_t>* collected_by_item) {
  std::map<int64_t, store::LockedAccount*> account_of;
  for (store::LockedAccount* a : accounts) account_of[(*a)->id] = a;
  ASSIGN_OR_RETURN(auto open, store::LockUnsettledLines(c, accounts));
  // The lines as read (what the postings move from), and as the payments
  // planned so far leave them: a second payment of an account is planned on
  // what the first left open.
  std::map<int64_t, store::LineRow> read, left;
  for (const auto& [account, lines] : open) {
    for (const store::LineRow& l : lines) read.emplace(l.id, l);
  }
  left = read;
  const absl::Time now = absl::FromUnixMicros(absl::ToUnixMicros(clock_.Now()));  // as stored
  struct Planned {
    size_t index;  // in `out`
    PaymentPlan plan;
    absl::CivilDay day;
  };
  std::vector<Planned> planned;
  std::vector<absl::StatusOr<store::PaymentRow>> out;
  out.reserve(ins.size());
  for (const PaymentInput& in : ins) {
    auto account = account_of.find(in.account_id);
    if (account == account_of.end()) {
      return absl::InternalError("lock order: a payment to an account not locked");
    }
    store::LockedAccount& a = *account->second;
    std::vector<store::LineRow> lines;
    for (const store::LineRow& l : open[a->id]) {
      const store::LineRow& now_l = left.at(l.id);
      if (now_l.paid_minor + now_l.written_off_minor < now_l.amount_minor) lines.push_back(now_l);
    }
    absl::Status refused;
    std::vector<int64_t> named_lines;
    for (size_t i = 0; i < in.named_bills.size() && refused.ok(); ++i) {
      size_t found = 0;
      for (const store::LineRow& l : lines) {
        if (l.bill_id != in.named_bills[i]) continue;
        named_lines.push_back(l.id);
        ++found;
      }
      if (found == 0) {
        refused = FieldError(absl::StrCat("payment.bills[", i, "]"),
                             "not a bill of this account with anything left to pay");
      }
    }
    absl::StatusOr<PaymentPlan> plan =
        refused.ok() ? PlanPayment(OpenLinesOf(lines), in.amount_minor, named_lines,
                                   a->credit_minor)
                     : absl::StatusOr<PaymentPlan>(refused);
    if (!plan.ok()) {
      if (!absl::IsInvalidArgument(plan.status())) return plan.status();
      out.push_back(plan.status());
      continue;
    }
    for (const auto* part : {&plan->from_payment, &plan->from_credit}) {
      for (const Allocation& al : *part) left.at(al.line_id).paid_minor += al.amount_minor;
    }
    a->credit_minor = plan->credit_after_minor;  // written with the ledger (PostLedger)
    store::PaymentRow p;
    p.site = a->site;
    p.account_id = a->id;
    p.unit = a->unit;
    p.method = in.method;
    p.reference = in.reference;
    p.amount_minor = in.amount_minor;
    p.currency = in.currency;
    p.received_on = in.received_on;
    p.named_bills = absl::StrJoin(in.named_bills, ",");
    p.to_credit_minor = plan->to_credit_minor;
    p.recorded_by = in.actor;
    p.created_at = now;
    for (const Allocation& al : plan->from_payment) {
      p.allocations.emplace_back(al.line_id, al.amount_minor);
      p.allocation_bills.push_back(read.at(al.line_id).bill_id);
    }
    planned.push_back({out.size(), *std::move(plan), in.received_on});
    out.push_back(std::move(p));
  }
  if (planned.empty()) return out;

  std::vector<store::PaymentRow*> rows;
  for (const Planned& x : planned) rows.push_back(&*out[x.index]);
  RETURN_IF_ERROR(store::InsertPayments(c, rows));
  // Allocations are dated by their payment's day: one ApplyPostings per day
  // (a batch has one).
  std::map<absl::CivilDay, std::vector<store::Posting>> postings;
  std::vector<store::LedgerRow> entries;
  for (const Planned& x : planned) {
    const store::PaymentRow& p = *out[x.index];
    for (const Allocation& al : x.plan.from_payment) {
      postings[x.day].push_back({al.line_id, p.id, al.amount_minor});
      (*collected_by_item)[read.at(al.line_id).item_id] += al.amount_minor;
    }
    for (const Allocation& al : x.plan.from_credit) {
      postings[x.day].push_back({al.line_id, 0, al.amount_minor});
    }
    store::LedgerRow e;
    e.account_id = p.account_id;
    e.kind = v1::PAYMENT;
    e.amount_minor = -p.amount_minor;
    e.payment_id = p.id;
    e.actor = p.recorded_by;
    e.reason = v1::PaymentMethod_Name(p.method);
    e.created_at = p.created_at;
    entries.push_back(std::move(e));
  }
  const std::vector<const store::LockedAccount*> owners(accounts.begin(), accounts.end());
  store::Totals totals;
  for (const auto& [day, part] : postings) {
    RETURN_IF_ERROR(store::ApplyPostings(c, owners, part, day, read, &totals));
  }
  const std::string site = (*accounts.front())->site;
  RETURN_IF_ERROR(store::PostLedger(c, std::move(accounts), entries));
  // Last: totals rows are what concurrent payments of a site share.
  RETURN_IF_ERROR(store::AddTotals(c, site, totals));
  return out;
}

void BillingService::FlushPayments(const std::vector<PaymentJob*>& jobs) {
  // A request_id twice in one batch: the later ones run alone (and wait for
  // the first to be claimed).
  std::vector<PaymentJob*> batch;
  std::set<std::string> request_ids;
  absl::Time deadline = absl::InfinitePast();
  for (PaymentJob* j : jobs) {
    j->posted = false;
    if (!request_ids.insert(j->request_id).second) continue;
    batch.push_back(j);
    deadline = std::max(deadline, j->deadline);
  }
  const std::string& site = batch.front()->site;
  std::string currency;
  {
    absl::MutexLock lock(&codes_mu_);
    auto fixed = fixed_currency_.find(site);
    if (fixed != fixed_currency_.end()) currency = fixed->second;
  }
  std::map<int64_t, int64_t> collected;
  std::vector<PaymentJob*> posted;
  absl::Status s = db_.Transact(deadline, [&](kit::Conn& c) -> absl::Status {
    collected.clear();
    posted.clear();
    if (currency.empty()) {
      ASSIGN_OR_RETURN(store::Settings settings, store::ReadSettings(c, site, false));
      currency = settings.currency;
    }
    std::vector<store::LockedAccount> accounts;
    if (batch.size() == 1) {
      absl::StatusOr<store::LockedAccount> a = store::LockAccount(c, site, batch.front()->unit);
      if (absl::IsNotFound(a.status())) return absl::OkStatus();  // said alone
      if (!a.ok()) return a.status();
      accounts.push_back(*std::move(a));
    } else {
      // By id, not by unit: a lock taken through the unit index would follow
      // the units' order, not the id order every batch locks in.
      std::vector<std::string> units;
      for (const PaymentJob* j : batch) units.push_back(j->unit);
      ASSIGN_OR_RETURN(auto id_of, store::AccountIdsOfUnits(c, site, units));
      std::vector<int64_t> ids;
      for (const auto& [unit, id] : id_of) ids.push_back(id);
      ASSIGN_OR_RETURN(accounts, store::LockAccounts(c, site, ids));
    }
    std::map<std::string, int64_t> id_of;
    for (const store::LockedAccount& a : accounts) id_of[a->unit] = a->id;
    std::vector<PaymentInput> inputs;
    std::vector<PaymentJob*> owner;  // of each input
    for (PaymentJob* j : batch) {
      auto id = id_of.find(j->unit);
      if (id == id_of.end() || j->input.currency != currency) continue;
      inputs.push_back(j->input);
      inputs.back().account_id = id->second;
      owner.push_back(j);
    }
    if (inputs.empty()) return absl::OkStatus();
    std::vector<store::LockedAccount*> locked;
    for (store::LockedAccount& a : accounts) locked.push_back(&a);
    ASSIGN_OR_RETURN(auto results, PostPayments(c, locked, inputs, &collected));
    std::vector<kit::Claim> claims;
    for (size_t i = 0; i < results.size(); ++i) {
      if (!results[i].ok()) continue;
      owner[i]->response = PaymentView(*results[i]);
      claims.push_back(
          {owner[i]->request_id, owner[i]->fingerprint, owner[i]->response.SerializeAsString()});
      posted.push_back(owner[i]);
    }
    if (claims.empty()) return absl::OkStatus();
    return kit::ClaimAll(c, "RecordPayment", claims);
  });
  if (!s.ok()) {
    // Each runs alone: a retry is answered there, an error given there.
    if (!absl::IsAlreadyExists(s)) spdlog::warn("payment batch not posted: {}", s.ToString());
    return;
  }
  for (PaymentJob* j : posted) j->posted = true;
  if (!posted.empty()) {
    payment_batch_.Observe(static_cast<double>(posted.size()));
    absl::MutexLock lock(&codes_mu_);
    fixed_currency_[site] = currency;
  }
  CountCollected(site, collected);
}

void BillingService::CountCollected(const std::string& site,
                                    const std::map<int64_t, int64_t>& by_item) {
  if (by_item.empty()) return;
  std::map<int64_t, std::string> codes;
  std::vector<int64_t> missing;
  {
    absl::MutexLock lock(&codes_mu_);
    for (const auto& [item, amount] : by_item) {
      auto it = item_codes_.find(item);
      if (it == item_codes_.end()) {
        missing.push_back(item);
      } else {
        codes[item] = it->second;
      }
    }
  }
  if (!missing.empty()) {
    // A code never changes: read once per item and process.
    absl::StatusOr<std::map<int64_t, std::string>> read;
    absl::Status s = db_.Run(absl::Now() + absl::Seconds(5), [&](kit::Conn& c) {
      read = store::ChargeItemCodes(c, missing);
      return read.status();
    });
    if (!s.ok()) {
      spdlog::warn("collected metrics: charge item codes unread: {}", s.ToString());
      return;
    }
    absl::MutexLock lock(&codes_mu_);
    for (const auto& [item, code] : *read) {
      item_codes_[item] = code;
      codes[item] = code;
    }
  }
  for (const auto& [item, amount] : by_item) {
    auto code = codes.find(item);
    if (code == codes.end()) continue;
    collected_.Add({{"site", site}, {"charge_item", code->second}})
        .Increment(static_cast<double>(amount));
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
