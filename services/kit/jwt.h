#ifndef ESTATE_SERVICES_KIT_JWT_H_
#define ESTATE_SERVICES_KIT_JWT_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "nlohmann/json.hpp"

namespace kit {

// What a token must satisfy besides its signature.
struct JwtPolicy {
  std::string issuer;    // empty: not checked
  std::string audience;  // empty: not checked
  absl::Duration leeway = absl::Seconds(30);  // for clock skew on exp/nbf
};

// Verifies compact JWS tokens signed HS256 (shared secret) or RS256 (public
// key), with OpenSSL. Only the algorithms for which a key is configured are
// accepted: "none" and algorithm confusion are refused.
class JwtVerifier {
 public:
  // Either key may be empty, not both. `rs256_public_key_pem` is a PEM
  // "PUBLIC KEY".
  static absl::StatusOr<std::unique_ptr<JwtVerifier>> Create(std::string hs256_secret,
                                                             absl::string_view rs256_public_key_pem,
                                                             JwtPolicy policy);
  ~JwtVerifier();

  // The claims of a valid token; UNAUTHENTICATED saying what is wrong.
  absl::StatusOr<nlohmann::json> Verify(absl::string_view token, absl::Time now) const;

  absl::Duration leeway() const { return policy_.leeway; }

 private:
  struct Keys;
  JwtVerifier(std::unique_ptr<Keys> keys, JwtPolicy policy);
  std::unique_ptr<Keys> keys_;
  JwtPolicy policy_;
};

// An HS256 token for the given claims (dev tokens, tests).
std::string SignHs256(const nlohmann::json& claims, absl::string_view secret);

}  // namespace kit

#endif  // ESTATE_SERVICES_KIT_JWT_H_
