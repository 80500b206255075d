#include "services/billing/posting.h"

#include <algorithm>

namespace billing {

absl::StatusOr<PaymentPlan> PlanPayment(const std::vector<OpenLine>& open, int64_t amount_minor,
                                        const std::vector<int64_t>& named_lines,
                                        int64_t credit_minor) {
  absl::StatusOr<AllocationResult> paid = Allocate(open, amount_minor, named_lines);
  if (!paid.ok()) return paid.status();
  PaymentPlan plan;
  plan.from_payment = std::move(paid->allocations);
  plan.to_credit_minor = paid->to_credit_minor;
  int64_t credit = credit_minor;
  if (credit > 0) {
    std::vector<OpenLine> left = open;
    for (const Allocation& a : plan.from_payment) {
      for (OpenLine& l : left) {
        if (l.id == a.line_id) l.paid_minor += a.amount_minor;
      }
    }
    absl::StatusOr<AllocationResult> spent = Allocate(left, credit);
    if (!spent.ok()) return spent.status();
    plan.from_credit = std::move(spent->allocations);
    credit = spent->to_credit_minor;
  }
  plan.credit_after_minor = credit + plan.to_credit_minor;
  return plan;
}

absl::StatusOr<ReversalPlan> PlanReversal(
    const std::vector<Allocation>& allocations, int64_t to_credit_minor, int64_t credit_minor,
    const std::vector<Allocation>& credit_spent_newest_first) {
  ReversalPlan plan;
  plan.undo = Reverse(allocations);
  int64_t take = to_credit_minor;
  const int64_t from_credit = std::min(take, credit_minor);
  take -= from_credit;
  for (const Allocation& a : credit_spent_newest_first) {
    if (take == 0) break;
    const int64_t x = std::min(take, a.amount_minor);
    plan.take_back.push_back({a.line_id, -x});
    take -= x;
  }
  if (take > 0) return absl::InternalError("credit ledger does not add up");
  plan.credit_after_minor = credit_minor - from_credit;
  return plan;
}

}  // namespace billing
