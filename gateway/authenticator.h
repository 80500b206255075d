#ifndef ESTATE_GATEWAY_AUTHENTICATOR_H_
#define ESTATE_GATEWAY_AUTHENTICATOR_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "services/kit/jwt.h"
#include "gateway/principal.h"
#include "services/kit/clock.h"

namespace gateway {

// A service account's key as stored in config: only its SHA-256.
struct ApiKey {
  std::string name;        // becomes the principal "apikey:<name>"
  std::string sha256_hex;  // of the key itself
  Principal grants;        // roles and sites; id is filled in
};

// Reads {"api_keys": [{"name", "sha256", "roles": [...], "sites": [...]}]};
// "sites": ["*"] means every site.
absl::StatusOr<std::vector<ApiKey>> ParseApiKeys(absl::string_view json);

// Turns the credentials of a request into a Principal:
//   Authorization: Bearer <JWT>  (claims: sub, roles, sites, exp, nbf, iss, aud)
//   X-Api-Key: <key>             (or Authorization: ApiKey <key>)
// UNAUTHENTICATED when they are missing or do not check out.
class Authenticator {
 public:
  Authenticator(std::unique_ptr<kit::JwtVerifier> jwt, std::vector<ApiKey> keys,
                const kit::Clock* clock);

  absl::StatusOr<Principal> Authenticate(absl::string_view authorization,
                                         absl::string_view api_key) const;

 private:
  absl::StatusOr<Principal> FromToken(absl::string_view token) const;
  absl::StatusOr<Principal> FromApiKey(absl::string_view key) const;

  std::unique_ptr<kit::JwtVerifier> jwt_;
  absl::flat_hash_map<std::string, Principal> keys_by_hash_;
  const kit::Clock* clock_;

  // Tokens already verified, so a client reusing its token (they all do)
  // costs a lookup rather than a signature check and two JSON parses. Each
  // entry keeps the window in which the token is valid; outside it the token
  // is verified again (and refused).
  struct Verified {
    Principal principal;
    absl::Time valid_from;
    absl::Time valid_until;
  };
  mutable absl::Mutex cache_mu_;
  mutable absl::flat_hash_map<std::string, Verified> verified_ ABSL_GUARDED_BY(cache_mu_);
};

}  // namespace gateway

#endif  // ESTATE_GATEWAY_AUTHENTICATOR_H_
