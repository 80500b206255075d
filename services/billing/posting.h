#ifndef ESTATE_SERVICES_BILLING_POSTING_H_
#define ESTATE_SERVICES_BILLING_POSTING_H_

// What posting and reversing a payment do to an account's lines and credit:
// pure rules, no database. The handlers read the locked lines, call these,
// and write what they return.

#include <cstdint>
#include <vector>

#include "absl/status/statusor.h"
#include "services/billing/allocation.h"

namespace billing {

struct PaymentPlan {
  std::vector<Allocation> from_payment;  // the payment's money onto lines
  std::vector<Allocation> from_credit;   // the account's earlier credit onto lines
  int64_t to_credit_minor = 0;           // what the payment leaves over
  int64_t credit_after_minor = 0;        // the account's credit once posted
};

// A payment of `amount_minor` to an account whose open lines are `open` and
// whose credit is `credit_minor`: the money goes to `named_lines` if any
// (in that order), else to the oldest open lines (held ones skipped); what
// is left over becomes credit. The credit the account already had then pays
// what is still open, oldest first (a direct debit collects what is due
// less the credit, so the two together settle the account).
// INVALID_ARGUMENT as Allocate.
absl::StatusOr<PaymentPlan> PlanPayment(const std::vector<OpenLine>& open, int64_t amount_minor,
                                        const std::vector<int64_t>& named_lines,
                                        int64_t credit_minor);

struct ReversalPlan {
  std::vector<Allocation> undo;       // every line the payment paid reopens by that much
  std::vector<Allocation> take_back;  // credit it left, taken back from the lines it paid since
  int64_t credit_after_minor = 0;
};

// Reversing a payment that made `allocations` and left `to_credit_minor` as
// credit, on an account whose credit is now `credit_minor` and whose credit
// has since paid `credit_spent_newest_first` (net per line, newest first):
// its allocations are undone; its credit comes back out of what is left of
// the account's credit first, then out of the lines that credit paid,
// newest first. INTERNAL if the credit it left cannot be found (the ledger
// does not add up).
absl::StatusOr<ReversalPlan> PlanReversal(const std::vector<Allocation>& allocations,
                                          int64_t to_credit_minor, int64_t credit_minor,
                                          const std::vector<Allocation>& credit_spent_newest_first);

}  // namespace billing

#endif  // ESTATE_SERVICES_BILLING_POSTING_H_
