#ifndef ESTATE_SERVICES_BILLING_ALLOCATION_H_
#define ESTATE_SERVICES_BILLING_ALLOCATION_H_

// Where a payment's money goes: pure rules, no database (issue 4).

#include <cstdint>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/civil_time.h"

namespace billing {

// A bill line that may still take money.
struct OpenLine {
  int64_t id = 0;
  absl::CivilDay due;
  int64_t amount_minor = 0;
  int64_t paid_minor = 0;
  bool held = false;  // disputed: on hold until the dispute is settled

  int64_t outstanding() const { return amount_minor - paid_minor; }
};

struct Allocation {
  int64_t line_id = 0;
  int64_t amount_minor = 0;  // negative in a reversal
};

struct AllocationResult {
  std::vector<Allocation> allocations;
  int64_t to_credit_minor = 0;  // overpayment, kept as the account's credit
};

// Allocates `amount_minor` (> 0) of a payment, or of the account's credit:
//  - to the lines the payer named, in the order named, if any (held lines
//    included: naming a disputed line is how a payer settles it);
//  - otherwise to the oldest open lines first (by due date, then id),
//    skipping held lines;
// and whatever is left becomes credit. INVALID_ARGUMENT for a non-positive
// amount, a named line that is not open, or a line named twice.
absl::StatusOr<AllocationResult> Allocate(const std::vector<OpenLine>& lines, int64_t amount_minor,
                                          const std::vector<int64_t>& named = {});

// What undoes a payment (a bounced debit, a refund): the same allocations
// negated, so each line it paid reopens by exactly that much.
std::vector<Allocation> Reverse(const std::vector<Allocation>& allocations);

enum class LineState { kOpen, kPartiallyPaid, kPaid };
LineState StateOf(int64_t amount_minor, int64_t paid_minor);

}  // namespace billing

#endif  // ESTATE_SERVICES_BILLING_ALLOCATION_H_
