#ifndef ESTATE_SERVICES_KIT_ETAG_H_
#define ESTATE_SERVICES_KIT_ETAG_H_

#include <cstdint>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"

namespace kit {

// Etags are the row version in quotes, as HTTP writes them: "7".
inline std::string Etag(int64_t version) { return absl::StrCat("\"", version, "\""); }
inline bool EtagMatches(absl::string_view etag, int64_t version) {
  return etag == Etag(version);
}

}  // namespace kit

#endif  // ESTATE_SERVICES_KIT_ETAG_H_
