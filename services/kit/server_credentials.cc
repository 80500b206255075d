#include "services/kit/server_credentials.h"

#include <grpc/grpc_security.h>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "prometheus/counter.h"
#include "services/kit/file_text.h"

namespace kit {

namespace {

struct TlsPem {
  std::string cert, key, ca;
};

absl::StatusOr<TlsPem> ReadTls(const TlsFiles& files) {
  TlsPem pem;
  for (auto [path, flag, out] : {std::tuple{&files.cert, "--tls_cert", &pem.cert},
                                 std::tuple{&files.key, "--tls_key", &pem.key},
                                 std::tuple{&files.ca, "--tls_ca", &pem.ca}}) {
    // All three or none: a missing one is named.
    absl::StatusOr<std::string> text = ReadFileText(*path, flag);
    if (!text.ok()) return text.status();
    *out = *std::move(text);
  }
  return pem;
}

absl::string_view SliceText(const grpc_slice& s) {
  return absl::string_view(reinterpret_cast<const char*>(GRPC_SLICE_START_PTR(s)),
                           GRPC_SLICE_LENGTH(s));
}

// What the processor needs for every call; owned by the core credentials,
// which free it through Destroy.
struct IdentityCheck {
  std::shared_ptr<const IdentityVerifier> verifier;
  prometheus::Family<prometheus::Counter>* refusals = nullptr;

  void Refused(const char* reason) const {
    if (refusals != nullptr) refusals->Add({{"reason", reason}}).Increment();
  }
};

const char* RefusalReason(absl::string_view message) {
  if (absl::StrContains(message, "expired")) return "expired";
  if (absl::StrContains(message, "audience")) return "audience";
  if (absl::StrContains(message, "signature")) return "signature";
  return "invalid";
}

// Runs in gRPC's server auth filter, before the call reaches a handler. It
// must not block: verifying is an HMAC and a JSON parse.
void ProcessIdentity(void* state, grpc_auth_context* context, const grpc_metadata* md,
                     size_t num_md, grpc_process_auth_metadata_done_cb done, void* user_data) {
  const auto* check = static_cast<const IdentityCheck*>(state);
  absl::string_view path;
  const grpc_metadata* token = nullptr;
  int tokens = 0;
  for (size_t i = 0; i < num_md; ++i) {
    const absl::string_view key = SliceText(md[i].key);
    if (key == ":path") path = SliceText(md[i].value);
    if (key == kIdentityMetadataKey) {
      token = &md[i];
      ++tokens;
    }
  }
  if (IdentityExempt(path)) {
    done(user_data, nullptr, 0, nullptr, 0, GRPC_STATUS_OK, nullptr);
    return;
  }
  if (token == nullptr) {
    check->Refused("missing");
    const std::string why = absl::StrCat(
        "no service identity (", kIdentityMetadataKey,
        "): ", check->verifier->audience(), " answers calls from the gateway and the estate "
        "services only");
    done(user_data, nullptr, 0, nullptr, 0, GRPC_STATUS_UNAUTHENTICATED, why.c_str());
    return;
  }
  // The handler reads the caller from the one token checked here (CallerOf);
  // a second one beside it would be unchecked.
  if (tokens > 1) {
    check->Refused("invalid");
    done(user_data, nullptr, 0, nullptr, 0, GRPC_STATUS_UNAUTHENTICATED,
         "service identity refused: more than one token");
    return;
  }
  absl::StatusOr<VerifiedCaller> who = check->verifier->Verify(SliceText(token->value),
                                                               absl::Now());
  if (!who.ok()) {
    check->Refused(RefusalReason(who.status().message()));
    const std::string why = absl::StrCat("service identity refused: ", who.status().message());
    done(user_data, nullptr, 0, nullptr, 0, GRPC_STATUS_UNAUTHENTICATED, why.c_str());
    return;
  }
  // Not the auth context: gRPC hands the processor the connection's, shared
  // by every call on it, so a property set for one caller would be read by
  // the next (a test caught exactly that). The token stays in the metadata.
  (void)context;
  done(user_data, nullptr, 0, nullptr, 0, GRPC_STATUS_OK, nullptr);
}

void DestroyIdentityCheck(void* state) { delete static_cast<IdentityCheck*>(state); }

// ServerCredentials over gRPC core credentials. The C++ API offers an auth
// metadata processor only with TLS (InsecureServerCredentials asserts on
// it); core supports one on plaintext ports too, and the identity check
// must hold with or without TLS.
class CoreServerCredentials final : public grpc::ServerCredentials {
 public:
  explicit CoreServerCredentials(grpc_server_credentials* creds) : creds_(creds) {}
  ~CoreServerCredentials() override { grpc_server_credentials_release(creds_); }

  // The processor is set on the core credentials at creation.
  void SetAuthMetadataProcessor(const std::shared_ptr<grpc::AuthMetadataProcessor>&) override {}

 private:
  int AddPortToServer(const std::string& addr, grpc_server* server) override {
    return grpc_server_add_http2_port(server, addr.c_str(), creds_);
  }

  grpc_server_credentials* const creds_;
};

}  // namespace

bool IdentityExempt(absl::string_view method_path) {
  return absl::StartsWith(method_path, "/grpc.health.v1.Health/") ||
         absl::StartsWith(method_path, "/grpc.reflection.v1alpha.ServerReflection/");
}

absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> ServiceServerCredentials(
    const TlsFiles& tls, std::shared_ptr<const IdentityVerifier> verifier,
    prometheus::Registry* registry) {
  grpc_server_credentials* creds = nullptr;
  if (tls.enabled()) {
    absl::StatusOr<TlsPem> pem = ReadTls(tls);
    if (!pem.ok()) return pem.status();
    grpc_ssl_pem_key_cert_pair pair{pem->key.c_str(), pem->cert.c_str()};
    creds = grpc_ssl_server_credentials_create_ex(
        pem->ca.c_str(), &pair, 1, GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY,
        nullptr);
    if (creds == nullptr) {
      return absl::FailedPreconditionError("TLS: the certificate or key is not valid PEM");
    }
  } else {
    creds = grpc_insecure_server_credentials_create();
  }
  if (verifier != nullptr) {
    auto* check = new IdentityCheck{std::move(verifier)};
    if (registry != nullptr) {
      check->refusals = &prometheus::BuildCounter()
                             .Name("estate_identity_refusals_total")
                             .Help("Calls refused before any handler: no, or no valid, "
                                   "service identity token, by reason")
                             .Register(*registry);
      for (const char* reason : {"missing", "expired", "audience", "signature", "invalid"}) {
        check->refusals->Add({{"reason", reason}});
      }
    }
    grpc_server_credentials_set_auth_metadata_processor(
        creds, grpc_auth_metadata_processor{ProcessIdentity, DestroyIdentityCheck, check});
  }
  return std::make_shared<CoreServerCredentials>(creds);
}

absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> ServiceChannelCredentials(
    const TlsFiles& tls) {
  if (!tls.enabled()) return grpc::InsecureChannelCredentials();
  absl::StatusOr<TlsPem> pem = ReadTls(tls);
  if (!pem.ok()) return pem.status();
  grpc::SslCredentialsOptions options;
  options.pem_root_certs = pem->ca;
  options.pem_private_key = pem->key;
  options.pem_cert_chain = pem->cert;
  return grpc::SslCredentials(options);
}

}  // namespace kit
