#include "services/kit/jwt.h"

#include <optional>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "services/kit/hash.h"

namespace kit {
namespace {

absl::Status Unauthenticated(absl::string_view why) {
  return absl::UnauthenticatedError(absl::StrCat("token: ", why));
}

std::optional<nlohmann::json> DecodeJsonPart(absl::string_view part) {
  std::string raw;
  if (!absl::WebSafeBase64Unescape(part, &raw)) return std::nullopt;
  nlohmann::json j = nlohmann::json::parse(raw, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) return std::nullopt;
  return j;
}

bool AudienceMatches(const nlohmann::json& aud, const std::string& want) {
  if (aud.is_string()) return aud.get<std::string>() == want;
  if (aud.is_array()) {
    for (const auto& a : aud) {
      if (a.is_string() && a.get<std::string>() == want) return true;
    }
  }
  return false;
}

}  // namespace

struct JwtVerifier::Keys {
  std::string hs256_secret;
  EVP_PKEY* rs256 = nullptr;
  ~Keys() { EVP_PKEY_free(rs256); }
};

JwtVerifier::JwtVerifier(std::unique_ptr<Keys> keys, JwtPolicy policy)
    : keys_(std::move(keys)), policy_(std::move(policy)) {}
JwtVerifier::~JwtVerifier() = default;

absl::StatusOr<std::unique_ptr<JwtVerifier>> JwtVerifier::Create(
    std::string hs256_secret, absl::string_view rs256_public_key_pem, JwtPolicy policy) {
  auto keys = std::make_unique<Keys>();
  keys->hs256_secret = std::move(hs256_secret);
  if (!rs256_public_key_pem.empty()) {
    BIO* bio = BIO_new_mem_buf(rs256_public_key_pem.data(),
                               static_cast<int>(rs256_public_key_pem.size()));
    keys->rs256 = PEM_read_bio_PUBKEY(bio, nullptr, nullptr, nullptr);
    BIO_free(bio);
    if (keys->rs256 == nullptr || EVP_PKEY_get_base_id(keys->rs256) != EVP_PKEY_RSA) {
      return absl::InvalidArgumentError("jwt: the RS256 key is not a PEM RSA public key");
    }
  }
  if (keys->hs256_secret.empty() && keys->rs256 == nullptr) {
    return absl::InvalidArgumentError("jwt: neither an HS256 secret nor an RS256 key");
  }
  if (!keys->hs256_secret.empty() && keys->hs256_secret.size() < 32) {
    return absl::InvalidArgumentError("jwt: the HS256 secret must be at least 32 bytes");
  }
  return std::unique_ptr<JwtVerifier>(new JwtVerifier(std::move(keys), std::move(policy)));
}

absl::StatusOr<nlohmann::json> JwtVerifier::Verify(absl::string_view token,
                                                   absl::Time now) const {
  std::vector<absl::string_view> parts = absl::StrSplit(token, '.');
  if (parts.size() != 3 || parts[0].empty() || parts[1].empty() || parts[2].empty()) {
    return Unauthenticated("malformed");
  }
  auto header = DecodeJsonPart(parts[0]);
  auto claims = DecodeJsonPart(parts[1]);
  std::string signature;
  if (!header || !claims || !absl::WebSafeBase64Unescape(parts[2], &signature)) {
    return Unauthenticated("malformed");
  }
  const auto alg = header->find("alg");
  if (alg == header->end() || !alg->is_string()) return Unauthenticated("malformed");
  const absl::string_view signed_part(token.data(), parts[0].size() + 1 + parts[1].size());
  const std::string algorithm = alg->get<std::string>();
  if (algorithm == "HS256" && !keys_->hs256_secret.empty()) {
    const std::string mac = HmacSha256(keys_->hs256_secret, signed_part);
    if (signature.size() != mac.size() ||
        CRYPTO_memcmp(signature.data(), mac.data(), mac.size()) != 0) {
      return Unauthenticated("bad signature");
    }
  } else if (algorithm == "RS256" && keys_->rs256 != nullptr) {
    EVP_MD_CTX* ctx = EVP_MD_CTX_new();
    bool ok = EVP_DigestVerifyInit(ctx, nullptr, EVP_sha256(), nullptr, keys_->rs256) == 1 &&
              EVP_DigestVerify(ctx, reinterpret_cast<const unsigned char*>(signature.data()),
                               signature.size(),
                               reinterpret_cast<const unsigned char*>(signed_part.data()),
                               signed_part.size()) == 1;
    EVP_MD_CTX_free(ctx);
    if (!ok) return Unauthenticated("bad signature");
  } else {
    return Unauthenticated(absl::StrCat("algorithm ", algorithm, " is not accepted"));
  }

  const int64_t now_s = absl::ToUnixSeconds(now);
  const int64_t leeway = absl::ToInt64Seconds(policy_.leeway);
  auto exp = claims->find("exp");
  if (exp == claims->end() || !exp->is_number()) return Unauthenticated("no expiry (exp)");
  if (exp->get<double>() + leeway <= now_s) return Unauthenticated("expired");
  auto nbf = claims->find("nbf");
  if (nbf != claims->end()) {
    if (!nbf->is_number()) return Unauthenticated("malformed nbf");
    if (nbf->get<double>() - leeway > now_s) return Unauthenticated("not valid yet (nbf)");
  }
  if (!policy_.issuer.empty()) {
    auto iss = claims->find("iss");
    if (iss == claims->end() || !iss->is_string() || iss->get<std::string>() != policy_.issuer) {
      return Unauthenticated("wrong issuer");
    }
  }
  if (!policy_.audience.empty()) {
    auto aud = claims->find("aud");
    if (aud == claims->end() || !AudienceMatches(*aud, policy_.audience)) {
      return Unauthenticated("wrong audience");
    }
  }
  return *std::move(claims);
}

std::string SignHs256(const nlohmann::json& claims, absl::string_view secret) {
  const nlohmann::json header = {{"alg", "HS256"}, {"typ", "JWT"}};
  std::string out = absl::StrCat(absl::WebSafeBase64Escape(header.dump()), ".",
                                 absl::WebSafeBase64Escape(claims.dump()));
  absl::StrAppend(&out, ".", absl::WebSafeBase64Escape(HmacSha256(secret, out)));
  return out;
}

}  // namespace kit
