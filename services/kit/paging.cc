#include "services/kit/paging.h"

#include <openssl/crypto.h>

#include <cstring>
#include <memory>

#include "absl/flags/flag.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "services/kit/errors.h"
#include "services/kit/hash.h"

ABSL_FLAG(std::string, page_token_secret, "estate-development-page-token-secret",
          "Key that signs list page tokens; the same on every replica of a service.");

namespace kit {
namespace {
constexpr size_t kMacBytes = 16;
}  // namespace

absl::StatusOr<int> NormalizePageSize(int32_t page_size) {
  if (page_size < 0) return FieldError("page_size", "must not be negative");
  if (page_size == 0) return kDefaultPageSize;
  return page_size > kMaxPageSize ? kMaxPageSize : page_size;
}

std::string PageTokens::Encode(absl::string_view query_fingerprint, int64_t after) const {
  char pos[8];
  for (int i = 0; i < 8; ++i) pos[i] = static_cast<char>((after >> (8 * (7 - i))) & 0xFF);
  const std::string payload(pos, 8);
  const std::string mac =
      HmacSha256(secret_, absl::StrCat(query_fingerprint, "\n", payload)).substr(0, kMacBytes);
  return absl::WebSafeBase64Escape(payload + mac);
}

absl::StatusOr<int64_t> PageTokens::Decode(absl::string_view query_fingerprint,
                                           absl::string_view token) const {
  if (token.empty()) return 0;
  std::string raw;
  if (token.size() > 64 || !absl::WebSafeBase64Unescape(token, &raw) ||
      raw.size() != 8 + kMacBytes) {
    return FieldError("page_token", "not a token this list issued");
  }
  const std::string payload = raw.substr(0, 8);
  const std::string mac =
      HmacSha256(secret_, absl::StrCat(query_fingerprint, "\n", payload)).substr(0, kMacBytes);
  if (CRYPTO_memcmp(mac.data(), raw.data() + 8, kMacBytes) != 0) {
    return FieldError("page_token", "not valid for this query (filters changed or forged)");
  }
  int64_t after = 0;
  for (int i = 0; i < 8; ++i) after = (after << 8) | static_cast<unsigned char>(payload[i]);
  return after;
}

const PageTokens& DefaultPageTokens() {
  static const PageTokens* tokens = new PageTokens(absl::GetFlag(FLAGS_page_token_secret));
  return *tokens;
}

std::string ListFingerprint(const google::protobuf::Message& request) {
  std::unique_ptr<google::protobuf::Message> copy(request.New());
  copy->CopyFrom(request);
  const auto* d = copy->GetDescriptor();
  for (const char* paging : {"page_token", "page_size"}) {
    if (const auto* f = d->FindFieldByName(paging)) copy->GetReflection()->ClearField(copy.get(), f);
  }
  std::string out;
  copy->SerializeToString(&out);
  return absl::StrCat(d->full_name(), ":", out);
}

absl::StatusOr<Page> PageOf(const google::protobuf::Message& request) {
  const auto* d = request.GetDescriptor();
  const auto* r = request.GetReflection();
  const auto* size_field = d->FindFieldByName("page_size");
  const auto* token_field = d->FindFieldByName("page_token");
  absl::StatusOr<int> size = NormalizePageSize(size_field ? r->GetInt32(request, size_field) : 0);
  if (!size.ok()) return size.status();
  absl::StatusOr<int64_t> after = DefaultPageTokens().Decode(
      ListFingerprint(request), token_field ? r->GetString(request, token_field) : "");
  if (!after.ok()) return after.status();
  return Page{*size, *after};
}

std::string NextPageToken(const google::protobuf::Message& request, int64_t last) {
  return DefaultPageTokens().Encode(ListFingerprint(request), last);
}

}  // namespace kit
