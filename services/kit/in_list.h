#ifndef ESTATE_SERVICES_KIT_IN_LIST_H_
#define ESTATE_SERVICES_KIT_IN_LIST_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "services/kit/db.h"

namespace kit {

// The most ids one IN list holds; callers with more take them in chunks.
inline constexpr size_t kMaxInList = 512;

// The placeholders of an IN list of `ids` ("?, ?, ..."), their values
// appended to `params`. The list is padded with the last id to 8, 32, 128 or
// 512 places, so that lists of any length prepare one of four statements
// (each distinct SQL text is a prepared statement on every connection).
// `ids` must hold 1 to kMaxInList ids.
std::string PaddedInList(absl::Span<const int64_t> ids, std::vector<SqlParam>* params);

// The same for text values (e.g. unit names).
std::string PaddedInList(absl::Span<const std::string> values, std::vector<SqlParam>* params);

// "CASE `column` WHEN ? THEN ? ... ELSE `otherwise` END": `values[i]` for
// `ids[i]`, padded as PaddedInList pads (the last pair repeated; a CASE
// takes the first WHEN that matches, so repeats change nothing). For one
// UPDATE that sets each row of an IN list to its own value.
std::string PaddedCase(absl::string_view column, absl::Span<const int64_t> ids,
                       absl::Span<const int64_t> values, absl::string_view otherwise,
                       std::vector<SqlParam>* params);

}  // namespace kit

#endif  // ESTATE_SERVICES_KIT_IN_LIST_H_
