#ifndef ESTATE_SERVICES_KIT_FILE_TEXT_H_
#define ESTATE_SERVICES_KIT_FILE_TEXT_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace kit {

// The whole of a file a flag names (a password, a key, a certificate).
// FAILED_PRECONDITION "<what> <path> cannot be read" otherwise, so the
// operator sees which flag to fix.
absl::StatusOr<std::string> ReadFileText(const std::string& path, absl::string_view what);

}  // namespace kit

#endif  // ESTATE_SERVICES_KIT_FILE_TEXT_H_
