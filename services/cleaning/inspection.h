#ifndef ESTATE_SERVICES_CLEANING_INSPECTION_H_
#define ESTATE_SERVICES_CLEANING_INSPECTION_H_

// How an inspection is scored against a zone's standard, and the report's
// rates, without I/O.

#include <cstdint>

#include "absl/status/statusor.h"
#include "estate/cleaning/v1/work.pb.h"

namespace cleaning {

namespace v1 = ::estate::cleaning::v1;

// A standard's items (unique codes, weights 1..100) and pass score (0..100);
// errors name `prefix`.field.
absl::Status CheckStandard(absl::string_view prefix, const v1::Standard& standard);

struct Scored {
  int32_t score_centi = 0;  // weighted average, 1/100 points, half up
  bool passed = false;
};
// Every item of the standard scored once (0..100), nothing else; errors name
// inspection.scores.
absl::StatusOr<Scored> ScoreInspection(
    const v1::Standard& standard,
    const google::protobuf::RepeatedPtrField<v1::ItemScore>& scores);

// part / whole in basis points, half up; 0 when whole is 0.
int32_t RateBp(int64_t part, int64_t whole);

}  // namespace cleaning

#endif  // ESTATE_SERVICES_CLEANING_INSPECTION_H_
