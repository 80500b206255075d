#include "services/cleaning/stock.h"

#include <algorithm>
#include <limits>

#include "absl/strings/str_cat.h"
#include "services/kit/field_error.h"

namespace cleaning {

namespace {

// a × b / c, half up, for non-negative a, b and positive c, exactly.
int64_t MulDivHalfUp(int64_t a, int64_t b, int64_t c) {
  const __int128 n = static_cast<__int128>(a) * b;
  return static_cast<int64_t>((2 * n + c) / (2 * static_cast<__int128>(c)));
}

}  // namespace

int64_t AverageCost(Position p) {
  if (p.quantity <= 0) return 0;
  return MulDivHalfUp(p.value, 1, p.quantity);
}

absl::StatusOr<int64_t> OutValue(Position p, int64_t quantity) {
  if (quantity > p.quantity) {
    return absl::FailedPreconditionError(
        absl::StrCat("only ", p.quantity, " on hand, ", quantity, " asked for"));
  }
  if (quantity == p.quantity) return p.value;
  return MulDivHalfUp(p.value, quantity, p.quantity);
}

absl::StatusOr<int64_t> InValue(absl::string_view field, int64_t quantity, int64_t unit_cost) {
  const __int128 v = static_cast<__int128>(quantity) * unit_cost;
  if (v > std::numeric_limits<int64_t>::max() / 4) return kit::FieldError(field, "too large");
  return static_cast<int64_t>(v);
}

absl::StatusOr<int64_t> DeltaValue(Position p, int64_t delta, int64_t fallback_unit_cost) {
  if (delta < 0) {
    absl::StatusOr<int64_t> out = OutValue(p, -delta);
    if (!out.ok()) return out.status();
    return -*out;
  }
  const int64_t unit = p.quantity > 0 ? AverageCost(p) : fallback_unit_cost;
  return InValue("quantity", delta, unit);
}

v1::SignatureRole NextSignature(v1::SlipState state) {
  switch (state) {
    case v1::DRAFT: return v1::RECIPIENT;
    case v1::RECIPIENT_SIGNED: return v1::MONITOR;
    case v1::MONITOR_SIGNED: return v1::MANAGER;
    default: return v1::SIGNATURE_ROLE_UNSPECIFIED;
  }
}

v1::SlipState StateAfter(v1::SignatureRole role) {
  switch (role) {
    case v1::RECIPIENT: return v1::RECIPIENT_SIGNED;
    case v1::MONITOR: return v1::MONITOR_SIGNED;
    case v1::MANAGER: return v1::MANAGER_SIGNED;
    default: return v1::SLIP_STATE_UNSPECIFIED;
  }
}

absl::Status CheckSignature(v1::SlipState state, v1::SignatureRole role,
                            const std::vector<std::string>& earlier, const std::string& signer,
                            bool signer_is_manager) {
  const v1::SignatureRole next = NextSignature(state);
  if (next == v1::SIGNATURE_ROLE_UNSPECIFIED) {
    return absl::FailedPreconditionError("the slip takes no more signatures");
  }
  if (role != next) {
    return absl::FailedPreconditionError(
        absl::StrCat("the slip waits for the ", v1::SignatureRole_Name(next), " signature"));
  }
  if (std::find(earlier.begin(), earlier.end(), signer) != earlier.end()) {
    return absl::FailedPreconditionError(
        "each signature must come from a different person; this one has signed already");
  }
  if (role == v1::MANAGER && !signer_is_manager) {
    return absl::PermissionDeniedError("the manager signature needs the manager role");
  }
  return absl::OkStatus();
}

}  // namespace cleaning
