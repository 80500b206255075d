#ifndef ESTATE_SERVICES_BILLING_REFUND_H_
#define ESTATE_SERVICES_BILLING_REFUND_H_

// How a one-off charge is given back: pure rules, no database.

#include <cstdint>

#include "absl/status/statusor.h"

namespace billing {

// A one-off charge as its line stands when it is refunded.
struct ChargedLine {
  int64_t amount_minor = 0;
  int64_t paid_minor = 0;
  int64_t written_off_minor = 0;
};

// refunded = charged - kept = cancelled + credited; all of it is a credit
// note on the line, after which the line is paid exactly what is kept (or
// less, and owes the rest).
struct RefundSplit {
  int64_t charged_minor = 0;  // the line net of what was written off before
  int64_t kept_minor = 0;
  int64_t cancelled_minor = 0;  // unpaid: no longer owed
  int64_t credited_minor = 0;   // paid beyond what is kept: off the line, the account's credit
};

// Keeping `keep_minor` of the line: the payer ends up having paid exactly
// that much for it. What is unpaid is cancelled first (a payer who never
// paid a deposit gets nothing back, and owes only what is kept); only money
// actually paid beyond what is kept becomes credit. FAILED_PRECONDITION if
// `keep_minor` is more than the line still charges; INVALID_ARGUMENT if
// negative.
absl::StatusOr<RefundSplit> SplitRefund(const ChargedLine& line, int64_t keep_minor);

}  // namespace billing

#endif  // ESTATE_SERVICES_BILLING_REFUND_H_
