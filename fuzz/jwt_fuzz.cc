// Bearer tokens from any caller: Verify refuses every token it was not given
// by SignHs256 with its secret (UNAUTHENTICATED), and accepts what was.
#include "absl/time/clock.h"
#include "fuzz/fuzz_util.h"
#include "services/kit/jwt.h"

namespace {
constexpr char kSecret[] = "fuzz-secret-of-thirty-two-bytes-or-more";

const kit::JwtVerifier& Verifier() {
  static const auto* v = kit::JwtVerifier::Create(kSecret, "", {"estate", "estate-api"})
                             .value()
                             .release();
  return *v;
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const absl::string_view text = fuzz::Text(data, size);
  const absl::Time now = absl::FromUnixSeconds(1800000000);
  auto claims = Verifier().Verify(text, now);
  if (!claims.ok()) {
    FUZZ_CHECK(claims.status().code() == absl::StatusCode::kUnauthenticated, "refusal code");
  }
  // The input as a claim value: signed, it verifies and reads back.
  const std::string sub(text);
  const nlohmann::json signed_claims = {{"iss", "estate"}, {"aud", "estate-api"}, {"sub", sub},
                                        {"exp", 1800000600}, {"iat", 1800000000}};
  std::string token;
  try {
    token = kit::SignHs256(signed_claims, kSecret);
  } catch (const nlohmann::json::exception&) {
    return 0;  // not UTF-8: no JSON string can hold it, so no token carries it
  }
  auto verified = Verifier().Verify(token, now);
  FUZZ_CHECK(verified.ok() && (*verified)["sub"] == sub, "a token it signed verifies");
  return 0;
}
