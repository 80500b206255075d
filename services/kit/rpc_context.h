#ifndef ESTATE_SERVICES_KIT_RPC_CONTEXT_H_
#define ESTATE_SERVICES_KIT_RPC_CONTEXT_H_

#include <string>

#include "absl/time/time.h"

#include "grpcpp/server_context.h"

namespace kit {

// Who is calling, as the service identity token proved it (see
// service_identity.h): the principal the gateway authenticated ("user:alice",
// "apikey:finance-app") or the service whose outbox calls ("service:handover").
// A call without a valid token never reaches a handler; kAnonymousCaller is
// what a server without an identity verifier (a test double) reports.
inline constexpr char kAnonymousCaller[] = "anonymous";

// The caller of the current RPC, cut to 128 bytes of printable ASCII.
std::string CallerOf(const grpc::ServerContextBase& context);

// The caller's roles, comma-separated ("staff,finance"); "" when none.
std::string RolesOf(const grpc::ServerContextBase& context);

// Trailing metadata the kit adds to every failed call a service answers. Its
// message is the service's own and safe to show (no SQL, no addresses); a
// failure without it was made by gRPC's transport ("failed to connect to all
// addresses; last error: ... ipv4:10.0.3.7:50051 ..."), and the gateway
// replaces that message with a plain one before a client sees it.
inline constexpr char kAnsweredByServiceKey[] = "x-estate-answered";

// The client's deadline, or now + 30 s if it set none: every wait a call
// makes (a pooled connection, a lock) ends by then.
absl::Time DeadlineOf(const grpc::ServerContext& context);

}  // namespace kit

#endif  // ESTATE_SERVICES_KIT_RPC_CONTEXT_H_
