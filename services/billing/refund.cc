#include "services/billing/refund.h"

#include <algorithm>

#include "absl/strings/str_cat.h"

namespace billing {

absl::StatusOr<RefundSplit> SplitRefund(const ChargedLine& line, int64_t keep_minor) {
  if (keep_minor < 0) return absl::InvalidArgumentError("keep_minor: must not be negative");
  RefundSplit out;
  out.charged_minor = line.amount_minor - line.written_off_minor;
  if (keep_minor > out.charged_minor) {
    return absl::FailedPreconditionError(
        absl::StrCat("keep_minor: more than the ", out.charged_minor, " the charge stands at"));
  }
  out.kept_minor = keep_minor;
  const int64_t refunded = out.charged_minor - keep_minor;
  const int64_t unpaid = out.charged_minor - line.paid_minor;
  out.cancelled_minor = std::min(unpaid, refunded);
  out.credited_minor = refunded - out.cancelled_minor;
  return out;
}

}  // namespace billing
