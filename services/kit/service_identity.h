#ifndef ESTATE_SERVICES_KIT_SERVICE_IDENTITY_H_
#define ESTATE_SERVICES_KIT_SERVICE_IDENTITY_H_

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "grpcpp/client_context.h"
#include "grpcpp/support/string_ref.h"
#include "services/kit/jwt.h"

namespace kit {

// Who is calling a service, proven. A service's port is reachable from more
// than the gateway (any pod, anything on the host), so the caller and roles
// travel in a short-lived token (a JWT, HS256) signed with the key of the
// service called: only a holder of that key — the gateway, and the outbox
// relays of the services that call it — can speak for a user there. The kit
// verifies it before any handler runs (server_credentials.h); plain
// x-estate-caller / x-estate-roles metadata is never believed.
inline constexpr char kIdentityMetadataKey[] = "x-estate-identity";

// Long enough for a retried call and clock skew between pods, short enough
// that a token read off the wire is soon worthless.
inline constexpr absl::Duration kIdentityTokenLifetime = absl::Seconds(60);

// The key file of `service` in `dir`: DIR/<service>.key, whitespace trimmed,
// at least 32 bytes. FAILED_PRECONDITION naming the file otherwise.
absl::StatusOr<std::string> ReadIdentityKey(absl::string_view dir, absl::string_view service);

// The caller a valid token names.
struct VerifiedCaller {
  std::string caller;  // "user:alice", "apikey:finance-app", "service:handover"
  std::string roles;   // "staff,finance"; "" for none
  std::string issuer;  // who signed: "gateway", "handover"
};

// Signs tokens for the services whose keys it holds.
class IdentitySigner {
 public:
  // `issuer` names the signer in the token ("gateway", "handover");
  // `keys` maps a service name (the audience) to its key.
  IdentitySigner(std::string issuer, absl::flat_hash_map<std::string, std::string> keys);

  // Reads DIR/<audience>.key for each audience.
  static absl::StatusOr<std::unique_ptr<IdentitySigner>> FromDir(
      std::string issuer, absl::string_view dir, const std::vector<std::string>& audiences);

  // A token for `audience`, valid from `now` for kIdentityTokenLifetime.
  // FAILED_PRECONDITION if this signer holds no key for it.
  absl::StatusOr<std::string> Token(absl::string_view audience, absl::string_view caller,
                                    absl::string_view roles, absl::Time now) const;

  // Adds a fresh token to a call to `audience`.
  absl::Status Attach(grpc::ClientContext& call, absl::string_view audience,
                      absl::string_view caller, absl::string_view roles = "") const;

 private:
  const std::string issuer_;
  const absl::flat_hash_map<std::string, std::string> keys_;
};

// Checks tokens addressed to one service.
class IdentityVerifier {
 public:
  // INVALID_ARGUMENT if the key is shorter than 32 bytes.
  static absl::StatusOr<std::unique_ptr<IdentityVerifier>> Create(std::string audience,
                                                                  std::string key);

  // UNAUTHENTICATED saying what is wrong (signature, audience, expiry,
  // missing caller) — never a partial identity.
  absl::StatusOr<VerifiedCaller> Verify(absl::string_view token, absl::Time now) const;

  const std::string& audience() const { return audience_; }

 private:
  IdentityVerifier(std::string audience, std::unique_ptr<JwtVerifier> jwt);
  std::string audience_;
  std::unique_ptr<JwtVerifier> jwt_;
};

// The caller a token names, read without checking it: for CallerOf on a
// port whose credentials (ServiceServerCredentials) checked this very token
// before the call got in. UNAUTHENTICATED if it cannot be read.
absl::StatusOr<VerifiedCaller> CallerInCheckedToken(absl::string_view token);
// The same for a call's client metadata; none without a readable token.
std::optional<VerifiedCaller> CallerInMetadata(
    const std::multimap<grpc::string_ref, grpc::string_ref>& metadata);

}  // namespace kit

#endif  // ESTATE_SERVICES_KIT_SERVICE_IDENTITY_H_
