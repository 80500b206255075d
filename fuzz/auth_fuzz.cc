// Credentials from any caller (the Authorization and X-Api-Key headers, and
// the API key file): refused with UNAUTHENTICATED unless they are the one key
// configured or a token signed with the secret; the key gets its grants.
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "fuzz/fuzz_util.h"
#include "gateway/authenticator.h"
#include "services/kit/hash.h"

namespace {
constexpr char kSecret[] = "fuzz-secret-of-thirty-two-bytes-or-more";
constexpr char kKey[] = "estate-fuzz-api-key-0123456789";

const gateway::Authenticator& Auth() {
  static kit::FakeClock clock(absl::FromUnixSeconds(1800000000));
  static const auto* auth = [] {
    auto keys = gateway::ParseApiKeys(absl::StrCat(R"({"api_keys": [{"name": "fuzz", "sha256": ")",
                                                   kit::Sha256Hex(kKey),
                                                   R"(", "roles": ["finance"], "sites": ["demo"]}]})"));
    return new gateway::Authenticator(
        kit::JwtVerifier::Create(kSecret, "", {"estate", "estate-api"}).value(),
        std::move(keys).value(), &clock);
  }();
  return *auth;
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // Authorization up to the first newline, the API key after it.
  const absl::string_view text = fuzz::Text(data, size);
  const size_t nl = text.find('\n');
  const absl::string_view authorization = text.substr(0, nl);
  const absl::string_view api_key =
      nl == absl::string_view::npos ? absl::string_view() : text.substr(nl + 1);
  auto principal = Auth().Authenticate(authorization, api_key);
  if (principal.ok()) {
    // X-Api-Key wins when present; else the Authorization scheme, in any
    // case (RFC 7235), with spaces around its value allowed.
    const absl::string_view value = absl::StripAsciiWhitespace(authorization);
    const bool key_in_authorization =
        absl::StartsWithIgnoreCase(value, "ApiKey ") &&
        absl::StripLeadingAsciiWhitespace(value.substr(7)) == kKey;
    const bool bearer = absl::StartsWithIgnoreCase(value, "Bearer ");
    FUZZ_CHECK(!api_key.empty() ? api_key == kKey : (key_in_authorization || bearer),
               "accepted only with the key or a bearer token");
  } else {
    FUZZ_CHECK(principal.status().code() == absl::StatusCode::kUnauthenticated, "refusal code");
  }
  // Any key file: parsed or refused, never a crash.
  (void)gateway::ParseApiKeys(text);
  auto key = Auth().Authenticate("", kKey);
  FUZZ_CHECK(key.ok() && key->Has(gateway::Role::kFinance) && key->MaySee("demo") &&
                 !key->MaySee("other"),
             "the configured key gets its grants");
  return 0;
}
