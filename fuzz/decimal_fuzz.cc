// Decimal amounts from requests (rates, areas, readings, late-fee rates):
// refused, or parsed into a value whose canonical text parses to the same
// value.
#include "fuzz/fuzz_util.h"
#include "services/billing/money.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto d = billing::Decimal::Parse(fuzz::Text(data, size), "rate");
  if (!d.ok()) {
    FUZZ_CHECK(d.status().code() == absl::StatusCode::kInvalidArgument, "refusal code");
    return 0;
  }
  FUZZ_CHECK(d->units() >= 0 && d->scale() >= 0 && d->scale() <= billing::Decimal::kMaxScale,
             "in range");
  auto again = billing::Decimal::Parse(d->ToString(), "rate");
  FUZZ_CHECK(again.ok() && *again == *d, "canonical text parses to the same value");
  // A line amount of any parsed rate and quantity is computed or refused,
  // never overflows silently.
  (void)billing::LineAmountMinor(*d, *d, billing::Fraction{});
  return 0;
}
