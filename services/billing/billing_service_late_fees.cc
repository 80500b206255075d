// Late fees, assessed an account batch at a time.
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

}  // namespace billing
