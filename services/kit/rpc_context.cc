#include "services/kit/rpc_context.h"

#include <algorithm>
#include <optional>

#include "absl/time/clock.h"
#include "services/kit/service_identity.h"

namespace kit {

std::string CallerOf(const grpc::ServerContextBase& context) {
  // The port's credentials checked this token before the call got in.
  std::optional<VerifiedCaller> who = CallerInMetadata(context.client_metadata());
  return who ? who->caller : kAnonymousCaller;
}

std::string RolesOf(const grpc::ServerContextBase& context) {
  std::optional<VerifiedCaller> who = CallerInMetadata(context.client_metadata());
  return who ? who->roles : "";
}

absl::Time DeadlineOf(const grpc::ServerContext& context) {
  const absl::Time fallback = absl::Now() + absl::Seconds(30);
  const absl::Time client = absl::FromChrono(context.deadline());
  return std::min(client, fallback);
}

}  // namespace kit
