#ifndef ESTATE_SERVICES_KIT_SERVER_CREDENTIALS_H_
#define ESTATE_SERVICES_KIT_SERVER_CREDENTIALS_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "grpcpp/security/credentials.h"
#include "grpcpp/security/server_credentials.h"
#include "prometheus/registry.h"
#include "services/kit/service_identity.h"

namespace kit {

// TLS between estate processes: one internal CA (cert-manager's, say) signs
// every workload's certificate. All three files or none.
struct TlsFiles {
  std::string cert;  // PEM certificate chain of this process
  std::string key;   // PEM private key
  std::string ca;    // PEM CA that signed the peers' certificates
  bool enabled() const { return !cert.empty() || !key.empty() || !ca.empty(); }
};

// Calls that need no identity: health (kubelet, load balancers, the outbox
// relays' probes) and reflection (schemas only, no data).
bool IdentityExempt(absl::string_view method_path);

// Credentials for a service's gRPC port. With TLS files, the port speaks TLS
// and requires a client certificate signed by the CA. With a verifier, every
// call other than IdentityExempt ones must carry a valid identity token for
// this service, or it is refused UNAUTHENTICATED before any handler runs;
// the handler reads the caller and roles from that token (CallerOf, RolesOf). Refusals are counted in estate_identity_refusals_total{reason}.
// FAILED_PRECONDITION if a TLS file cannot be read.
absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> ServiceServerCredentials(
    const TlsFiles& tls, std::shared_ptr<const IdentityVerifier> verifier,
    prometheus::Registry* registry);

// Credentials for calling another estate process: TLS with this process's
// certificate when TLS files are given, else plaintext.
absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> ServiceChannelCredentials(
    const TlsFiles& tls);

}  // namespace kit

#endif  // ESTATE_SERVICES_KIT_SERVER_CREDENTIALS_H_
