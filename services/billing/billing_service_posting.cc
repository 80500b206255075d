// Posting payments: many at once in a few statements (PostPayments), the
// group commit of RecordPayment (FlushPayments), credit spent on new lines
// (SpendCredit), and the collected-money metrics.
#include <algorithm>
#include <map>
#include <set>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "services/billing/billing_internal.h"
#include "services/billing/billing_service.h"
#include "services/billing/billing_views.h"
#include "services/billing/posting.h"
#include "services/kit/errors.h"
#include "services/kit/idempotency.h"
#include "services/kit/status_macros.h"
#include "spdlog/spdlog.h"

namespace billing {

using kit::FieldError;

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
    planned.push_back({out.size(), *std::move(plan)});
    out.push_back(std::move(p));
  }
  if (planned.empty()) return out;

  std::vector<store::PaymentRow*> rows;
  for (const Planned& x : planned) rows.push_back(&*out[x.index]);
  RETURN_IF_ERROR(store::InsertPayments(c, rows));
  // Allocations are dated by their payment's day: one ApplyPostings per day
  // (payments sent together may name different days).
  std::map<absl::CivilDay, std::vector<store::Posting>> postings;
  std::vector<store::LedgerRow> entries;
  for (const Planned& x : planned) {
    const store::PaymentRow& p = *out[x.index];
    for (const Allocation& al : x.plan.from_payment) {
      postings[p.received_on].push_back({al.line_id, p.id, al.amount_minor});
      (*collected_by_item)[read.at(al.line_id).item_id] += al.amount_minor;
    }
    for (const Allocation& al : x.plan.from_credit) {
      postings[p.received_on].push_back({al.line_id, 0, al.amount_minor});
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

}  // namespace billing
