#include "services/kit/service_identity.h"

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "nlohmann/json.hpp"
#include "services/kit/file_text.h"
#include "services/kit/log_context.h"

namespace kit {

namespace {

// Issuers sign with the receiver's key, so the clocks of two pods meet here:
// a little skew is forgiven, not a minute.
constexpr absl::Duration kLeeway = absl::Seconds(5);

absl::StatusOr<VerifiedCaller> CallerIn(const nlohmann::json& claims) {
  auto text = [&](const char* name) -> std::string {
    auto it = claims.find(name);
    if (it == claims.end() || !it->is_string()) return "";
    return PrintableMetadata(it->get<std::string>());
  };
  VerifiedCaller who;
  who.caller = text("sub");
  who.roles = text("roles");
  who.issuer = text("iss");
  if (who.caller.empty()) return absl::UnauthenticatedError("token: no caller (sub)");
  return who;
}

}  // namespace

absl::StatusOr<std::string> ReadIdentityKey(absl::string_view dir, absl::string_view service) {
  if (dir.empty()) {
    return absl::FailedPreconditionError(
        "no identity keys: set --identity_keys_dir (or ESTATE_IDENTITY_KEYS_DIR)");
  }
  const std::string path = absl::StrCat(dir, "/", service, ".key");
  absl::StatusOr<std::string> text = ReadFileText(path, "identity key (--identity_keys_dir)");
  if (!text.ok()) return text.status();
  std::string key(absl::StripAsciiWhitespace(*text));
  if (key.size() < 32) {
    return absl::FailedPreconditionError(
        absl::StrCat("identity key ", path, " is shorter than 32 bytes"));
  }
  return key;
}

IdentitySigner::IdentitySigner(std::string issuer,
                               absl::flat_hash_map<std::string, std::string> keys)
    : issuer_(std::move(issuer)), keys_(std::move(keys)) {}

absl::StatusOr<std::unique_ptr<IdentitySigner>> IdentitySigner::FromDir(
    std::string issuer, absl::string_view dir, const std::vector<std::string>& audiences) {
  absl::flat_hash_map<std::string, std::string> keys;
  for (const std::string& audience : audiences) {
    absl::StatusOr<std::string> key = ReadIdentityKey(dir, audience);
    if (!key.ok()) return key.status();
    keys[audience] = *std::move(key);
  }
  return std::make_unique<IdentitySigner>(std::move(issuer), std::move(keys));
}

absl::StatusOr<std::string> IdentitySigner::Token(absl::string_view audience,
                                                  absl::string_view caller,
                                                  absl::string_view roles,
                                                  absl::Time now) const {
  auto key = keys_.find(audience);
  if (key == keys_.end()) {
    return absl::FailedPreconditionError(
        absl::StrCat(issuer_, " holds no identity key for ", audience));
  }
  const int64_t iat = absl::ToUnixSeconds(now);
  const nlohmann::json claims = {
      {"iss", issuer_},
      {"aud", std::string(audience)},
      {"sub", std::string(caller)},
      {"roles", std::string(roles)},
      {"iat", iat},
      {"exp", iat + absl::ToInt64Seconds(kIdentityTokenLifetime)},
  };
  return SignHs256(claims, key->second);
}

absl::Status IdentitySigner::Attach(grpc::ClientContext& call, absl::string_view audience,
                                    absl::string_view caller, absl::string_view roles) const {
  absl::StatusOr<std::string> token = Token(audience, caller, roles, absl::Now());
  if (!token.ok()) return token.status();
  call.AddMetadata(kIdentityMetadataKey, *token);
  return absl::OkStatus();
}

IdentityVerifier::IdentityVerifier(std::string audience, std::unique_ptr<JwtVerifier> jwt)
    : audience_(std::move(audience)), jwt_(std::move(jwt)) {}

absl::StatusOr<std::unique_ptr<IdentityVerifier>> IdentityVerifier::Create(std::string audience,
                                                                           std::string key) {
  JwtPolicy policy;
  policy.audience = audience;
  policy.leeway = kLeeway;
  absl::StatusOr<std::unique_ptr<JwtVerifier>> jwt =
      JwtVerifier::Create(std::move(key), "", std::move(policy));
  if (!jwt.ok()) return jwt.status();
  return std::unique_ptr<IdentityVerifier>(
      new IdentityVerifier(std::move(audience), *std::move(jwt)));
}

absl::StatusOr<VerifiedCaller> IdentityVerifier::Verify(absl::string_view token,
                                                        absl::Time now) const {
  absl::StatusOr<nlohmann::json> claims = jwt_->Verify(token, now);
  if (!claims.ok()) return claims.status();
  // The gateway's user tokens expire in hours; a service token that claims
  // more than its lifetime was not made by an estate signer.
  auto iat = claims->find("iat");
  auto exp = claims->find("exp");
  if (iat == claims->end() || !iat->is_number() ||
      exp->get<double>() - iat->get<double>() > absl::ToDoubleSeconds(kIdentityTokenLifetime)) {
    return absl::UnauthenticatedError("token: lifetime longer than a service token's");
  }
  return CallerIn(*claims);
}

absl::StatusOr<VerifiedCaller> CallerInCheckedToken(absl::string_view token) {
  const std::vector<absl::string_view> parts = absl::StrSplit(token, '.');
  std::string raw;
  if (parts.size() != 3 || !absl::WebSafeBase64Unescape(parts[1], &raw)) {
    return absl::UnauthenticatedError("token: malformed");
  }
  const nlohmann::json claims = nlohmann::json::parse(raw, nullptr, /*allow_exceptions=*/false);
  if (claims.is_discarded() || !claims.is_object()) {
    return absl::UnauthenticatedError("token: malformed");
  }
  return CallerIn(claims);
}

std::optional<VerifiedCaller> CallerInMetadata(
    const std::multimap<grpc::string_ref, grpc::string_ref>& metadata) {
  auto it = metadata.find(kIdentityMetadataKey);
  if (it == metadata.end()) return std::nullopt;
  absl::StatusOr<VerifiedCaller> who =
      CallerInCheckedToken(absl::string_view(it->second.data(), it->second.size()));
  if (!who.ok()) return std::nullopt;
  return *std::move(who);
}

}  // namespace kit
