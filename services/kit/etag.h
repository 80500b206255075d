#ifndef ESTATE_SERVICES_KIT_ETAG_H_
#define ESTATE_SERVICES_KIT_ETAG_H_

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"

namespace kit {

// Etags are the row version in quotes, as HTTP writes them: "7".
inline std::string Etag(int64_t version) { return absl::StrCat("\"", version, "\""); }
inline bool EtagMatches(absl::string_view etag, int64_t version) {
  return etag == Etag(version);
}

// The guard of every read-modify-write (AIP-154): OK when `etag` is the
// current version's, else ABORTED, which tells the caller to read again and
// redo its change (README, "Errors"). `field` is where the request carries
// the etag ("account.etag"); `what` names the resource ("account").
inline absl::Status CheckEtag(absl::string_view field, absl::string_view etag, int64_t version,
                              absl::string_view what) {
  if (EtagMatches(etag, version)) return absl::OkStatus();
  return absl::AbortedError(
      absl::StrCat(field, ": the ", what, " changed since it was read; read it again"));
}

}  // namespace kit

#endif  // ESTATE_SERVICES_KIT_ETAG_H_
