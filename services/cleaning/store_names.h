#ifndef ESTATE_SERVICES_CLEANING_STORE_NAMES_H_
#define ESTATE_SERVICES_CLEANING_STORE_NAMES_H_

// What both cleaning stores need to turn rows into API names and back.

#include <cstdint>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/time/civil_time.h"
#include "services/kit/db.h"

namespace cleaning::store {

inline std::string Name(const std::string& site, const char* collection, int64_t id) {
  return absl::StrCat("sites/", site, "/", collection, "/", id);
}
inline std::string Day(absl::CivilDay d) { return absl::FormatCivilTime(d); }
// An optional reference (0: none) as a nullable column.
inline kit::SqlParam IdOrNull(int64_t id) {
  return id == 0 ? kit::SqlParam(nullptr) : kit::SqlParam(id);
}

}  // namespace cleaning::store

#endif  // ESTATE_SERVICES_CLEANING_STORE_NAMES_H_
