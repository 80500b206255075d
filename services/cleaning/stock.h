#ifndef ESTATE_SERVICES_CLEANING_STOCK_H_
#define ESTATE_SERVICES_CLEANING_STOCK_H_

// The warehouse's rules, without I/O: moving-average cost, what a move does
// to a position, stocktake variances, and the order of an issue slip's
// signatures.

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "estate/cleaning/v1/stock.pb.h"

namespace cleaning {

namespace v1 = ::estate::cleaning::v1;

// A warehouse's holding of one item: quantity and value at cost.
struct Position {
  int64_t quantity = 0;
  int64_t value = 0;
};

// value / quantity, half up; 0 when nothing is held.
int64_t AverageCost(Position p);
// The value that leaves with `quantity` (> 0): its share at average cost,
// or the whole value when it empties the position (so no cost is stranded).
// FAILED_PRECONDITION if more than is held.
absl::StatusOr<int64_t> OutValue(Position p, int64_t quantity);
// quantity × unit cost; INVALID_ARGUMENT naming `field` if it overflows.
absl::StatusOr<int64_t> InValue(absl::string_view field, int64_t quantity, int64_t unit_cost);
// The value of a signed change of `delta` units: out at average cost, in at
// average cost (or `fallback_unit_cost` when nothing is held).
absl::StatusOr<int64_t> DeltaValue(Position p, int64_t delta, int64_t fallback_unit_cost);

// The signature a slip in `state` waits for (UNSPECIFIED: none).
v1::SignatureRole NextSignature(v1::SlipState state);
v1::SlipState StateAfter(v1::SignatureRole signed_role);
// May `signer` add the `role` signature to a slip in `state` that `earlier`
// signers have signed? Out of order is FAILED_PRECONDITION; a signer who
// already signed is FAILED_PRECONDITION; a manager signature by a caller
// without the manager role is PERMISSION_DENIED.
absl::Status CheckSignature(v1::SlipState state, v1::SignatureRole role,
                            const std::vector<std::string>& earlier, const std::string& signer,
                            bool signer_is_manager);

}  // namespace cleaning

#endif  // ESTATE_SERVICES_CLEANING_STOCK_H_
