#ifndef ESTATE_SERVICES_KIT_RPC_CONTEXT_H_
#define ESTATE_SERVICES_KIT_RPC_CONTEXT_H_

#include <string>

#include "absl/time/time.h"

#include "grpcpp/server_context.h"

namespace kit {

// gRPC metadata that carries who is calling. The gateway authenticates the
// client, strips any copy the client sent itself, and sets this to the
// principal ("user:alice", "apikey:finance-app"). Services record it on every
// change. A call that reaches a service directly without it is recorded as
// kAnonymousCaller.
inline constexpr char kCallerMetadataKey[] = "x-estate-caller";
inline constexpr char kAnonymousCaller[] = "anonymous";

// The caller of the current RPC, cut to 128 bytes of printable ASCII.
std::string CallerOf(const grpc::ServerContext& context);

// gRPC metadata with the caller's roles as the gateway authenticated them,
// comma-separated ("staff,finance"). The gateway never forwards a client's
// own copy. Without it (a direct call) the caller has no roles.
inline constexpr char kRolesMetadataKey[] = "x-estate-roles";

// The caller's roles, cut like CallerOf; "" when none were passed.
std::string RolesOf(const grpc::ServerContext& context);

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
