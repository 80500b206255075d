#include "gateway/authenticator.h"

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "services/kit/hash.h"
#include "services/kit/validate.h"

namespace gateway {
namespace {

constexpr size_t kMaxCachedTokens = 20000;

// Principal ids travel as gRPC metadata, which takes printable ASCII only.
bool IsPrintableAscii(absl::string_view s) {
  if (s.empty() || s.size() > 128) return false;
  for (char c : s) {
    if (c < 0x21 || c > 0x7e) return false;
  }
  return true;
}

// Roles and sites as claims or config carry them: {"roles": [...], "sites": [...]}.
absl::Status ReadGrants(const nlohmann::json& from, absl::string_view what, Principal* out) {
  auto roles = from.find("roles");
  if (roles == from.end() || !roles->is_array()) {
    return absl::InvalidArgumentError(absl::StrCat(what, ": roles must be a list"));
  }
  for (const auto& r : *roles) {
    auto role = r.is_string() ? ParseRole(r.get<std::string>()) : std::nullopt;
    if (!role) return absl::InvalidArgumentError(absl::StrCat(what, ": unknown role ", r.dump()));
    out->roles |= static_cast<uint32_t>(*role);
  }
  auto sites = from.find("sites");
  if (sites == from.end() || !sites->is_array()) {
    return absl::InvalidArgumentError(absl::StrCat(what, ": sites must be a list"));
  }
  for (const auto& s : *sites) {
    if (!s.is_string()) return absl::InvalidArgumentError(absl::StrCat(what, ": bad site"));
    std::string site = s.get<std::string>();
    if (site == "*") {
      out->all_sites = true;
    } else if (kit::IsValidSiteId(site)) {
      out->sites.push_back(std::move(site));
    } else {
      return absl::InvalidArgumentError(absl::StrCat(what, ": bad site ", s.dump()));
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::vector<ApiKey>> ParseApiKeys(absl::string_view json) {
  nlohmann::json doc = nlohmann::json::parse(json, nullptr, false);
  if (doc.is_discarded() || !doc.is_object() || !doc.contains("api_keys") ||
      !doc["api_keys"].is_array()) {
    return absl::InvalidArgumentError("api keys: expected {\"api_keys\": [...]}");
  }
  std::vector<ApiKey> keys;
  for (const auto& entry : doc["api_keys"]) {
    ApiKey key;
    if (!entry.is_object() || !entry.contains("name") || !entry["name"].is_string() ||
        !entry.contains("sha256") || !entry["sha256"].is_string()) {
      return absl::InvalidArgumentError("api keys: each entry needs name and sha256");
    }
    key.name = entry["name"].get<std::string>();
    if (!IsPrintableAscii(key.name)) {
      return absl::InvalidArgumentError("api keys: a name must be printable ASCII without spaces");
    }
    key.sha256_hex = absl::AsciiStrToLower(entry["sha256"].get<std::string>());
    if (key.sha256_hex.size() != 64) {
      return absl::InvalidArgumentError(absl::StrCat("api key ", key.name, ": sha256 must be 64 hex digits"));
    }
    key.grants.id = absl::StrCat("apikey:", key.name);
    if (auto s = ReadGrants(entry, absl::StrCat("api key ", key.name), &key.grants); !s.ok()) {
      return s;
    }
    keys.push_back(std::move(key));
  }
  return keys;
}

Authenticator::Authenticator(std::unique_ptr<kit::JwtVerifier> jwt, std::vector<ApiKey> keys,
                             const kit::Clock* clock)
    : jwt_(std::move(jwt)), clock_(clock) {
  for (ApiKey& k : keys) keys_by_hash_[k.sha256_hex] = std::move(k.grants);
}

absl::StatusOr<Principal> Authenticator::Authenticate(absl::string_view authorization,
                                                      absl::string_view api_key) const {
  if (!api_key.empty()) return FromApiKey(api_key);
  if (authorization.empty()) {
    return absl::UnauthenticatedError(
        "credentials: missing (send Authorization: Bearer <token> or X-Api-Key)");
  }
  absl::string_view value = absl::StripAsciiWhitespace(authorization);
  if (absl::StartsWithIgnoreCase(value, "Bearer ")) {
    return FromToken(absl::StripLeadingAsciiWhitespace(value.substr(7)));
  }
  if (absl::StartsWithIgnoreCase(value, "ApiKey ")) {
    return FromApiKey(absl::StripLeadingAsciiWhitespace(value.substr(7)));
  }
  return absl::UnauthenticatedError("credentials: unsupported Authorization scheme");
}

absl::StatusOr<Principal> Authenticator::FromToken(absl::string_view token) const {
  if (jwt_ == nullptr) return absl::UnauthenticatedError("token: tokens are not accepted here");
  const absl::Time now = clock_->Now();
  {
    absl::ReaderMutexLock lock(&cache_mu_);
    auto it = verified_.find(token);
    if (it != verified_.end() && now >= it->second.valid_from && now < it->second.valid_until) {
      return it->second.principal;
    }
  }
  auto claims = jwt_->Verify(token, now);
  if (!claims.ok()) return claims.status();
  Principal p;
  auto sub = claims->find("sub");
  if (sub == claims->end() || !sub->is_string() || !IsPrintableAscii(sub->get<std::string>())) {
    return absl::UnauthenticatedError(
        "token: sub must be 1..128 printable ASCII characters without spaces");
  }
  p.id = absl::StrCat("user:", sub->get<std::string>());
  if (auto s = ReadGrants(*claims, "token", &p); !s.ok()) {
    return absl::UnauthenticatedError(s.message());
  }
  // Verify() checked exp (required) and nbf (optional) are numbers.
  const absl::Duration leeway = jwt_->leeway();
  Verified v{p, absl::InfinitePast(),
             absl::FromUnixSeconds(static_cast<int64_t>((*claims)["exp"].get<double>())) + leeway};
  if (claims->contains("nbf")) {
    v.valid_from = absl::FromUnixSeconds(static_cast<int64_t>((*claims)["nbf"].get<double>())) - leeway;
  }
  absl::MutexLock lock(&cache_mu_);
  if (verified_.size() >= kMaxCachedTokens) verified_.clear();
  verified_.emplace(std::string(token), std::move(v));
  return p;
}

absl::StatusOr<Principal> Authenticator::FromApiKey(absl::string_view key) const {
  auto it = keys_by_hash_.find(kit::Sha256Hex(key));
  if (it == keys_by_hash_.end()) return absl::UnauthenticatedError("api key: not recognised");
  return it->second;
}

}  // namespace gateway
