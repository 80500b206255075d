#ifndef ESTATE_SERVICES_KIT_HASH_H_
#define ESTATE_SERVICES_KIT_HASH_H_

#include <string>

#include "absl/strings/string_view.h"

namespace kit {

// Raw 32-byte SHA-256 digest.
std::string Sha256(absl::string_view data);
std::string Sha256Hex(absl::string_view data);
// Raw 32-byte HMAC-SHA-256.
std::string HmacSha256(absl::string_view key, absl::string_view data);

}  // namespace kit

#endif  // ESTATE_SERVICES_KIT_HASH_H_
