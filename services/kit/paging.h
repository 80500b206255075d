#ifndef ESTATE_SERVICES_KIT_PAGING_H_
#define ESTATE_SERVICES_KIT_PAGING_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "google/protobuf/message.h"

namespace kit {

inline constexpr int kDefaultPageSize = 50;
inline constexpr int kMaxPageSize = 500;

// AIP page_size: 0 means the default, above the maximum is lowered to it,
// negative is INVALID_ARGUMENT.
absl::StatusOr<int> NormalizePageSize(int32_t page_size);

// Opaque page tokens for keyset paging. A token carries the position after
// which the next page starts, bound to a fingerprint of the query's filters and
// signed, so a forged token or one reused with other filters is rejected.
class PageTokens {
 public:
  explicit PageTokens(std::string secret) : secret_(std::move(secret)) {}
  std::string Encode(absl::string_view query_fingerprint, int64_t after) const;
  // Empty token -> 0 (start). Anything not made by Encode for this same
  // fingerprint -> INVALID_ARGUMENT naming page_token.
  absl::StatusOr<int64_t> Decode(absl::string_view query_fingerprint,
                                 absl::string_view token) const;

 private:
  std::string secret_;
};

// The secret from --page_token_secret (shared by all replicas of a service).
const PageTokens& DefaultPageTokens();

// What binds a page token to its query: the list request without its
// page_token and page_size fields (every filter must match between pages).
std::string ListFingerprint(const google::protobuf::Message& request);

// A list request's page: its normalized size and the keyset position after
// which it starts (0 for the first page). Errors name page_size/page_token.
struct Page {
  int size = kDefaultPageSize;
  int64_t after = 0;
};
absl::StatusOr<Page> PageOf(const google::protobuf::Message& request);
// The token of the page after position `last` for this request.
std::string NextPageToken(const google::protobuf::Message& request, int64_t last);

// For a list fetched with limit page.size + 1: keeps the page's rows and
// returns the token of the next page ("" at the end), keyed by `key_of` of
// the last row kept.
template <typename T, typename KeyOf>
std::string TrimPage(std::vector<T>& rows, const Page& page,
                     const google::protobuf::Message& request, KeyOf key_of) {
  if (static_cast<int>(rows.size()) <= page.size) return "";
  rows.erase(rows.begin() + page.size, rows.end());
  return NextPageToken(request, key_of(rows.back()));
}

}  // namespace kit

#endif  // ESTATE_SERVICES_KIT_PAGING_H_
