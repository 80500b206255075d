#ifndef ESTATE_SERVICES_BILLING_COLLECTION_H_
#define ESTATE_SERVICES_BILLING_COLLECTION_H_

// Report arithmetic: collection rates and arrears aging. Pure.

#include <cstdint>
#include <string>
#include <vector>

#include "estate/billing/v1/billing.pb.h"

namespace billing {

namespace v1 = ::estate::billing::v1;

// collected / billed in basis points (9955 = 99.55%), rounded half-up; 0 when
// nothing was billed.
int32_t RateBasisPoints(int64_t collected, int64_t billed);

// One group of a period's lines as the store sums them.
struct LineSums {
  std::string building;
  std::string code;  // charge item
  bool held = false;
  int64_t lines = 0;
  int64_t billed = 0;
  int64_t collected = 0;
  int64_t written_off = 0;
};

// The report over a period's line sums: all lines, lines not on hold, and the
// held ones apart. Groups come out sorted by key.
v1::CollectionReport BuildCollectionReport(const std::vector<LineSums>& sums);

// Aging buckets by days past due: 1-30, 31-90, 91-180, over 180.
inline constexpr int kAgingBounds[3] = {30, 90, 180};
inline constexpr int kHeldBucket = 4;
// Adds `amount` past due in `bucket` (0..3, or kHeldBucket) to `aging`.
void AddToAging(v1::Aging* aging, int bucket, int64_t amount);

}  // namespace billing

#endif  // ESTATE_SERVICES_BILLING_COLLECTION_H_
