#include "services/kit/rpc_context.h"

#include <algorithm>
#include <optional>

#include "absl/time/clock.h"
#include "services/kit/log_context.h"
#include "services/kit/service_identity.h"

namespace kit {

namespace {

// The caller in the call's identity token, which the port's credentials
// checked before the call got in (server_credentials.h); none without one.
std::optional<VerifiedCaller> IdentityOf(const grpc::ServerContextBase& context) {
  const auto& md = context.client_metadata();
  auto it = md.find(kIdentityMetadataKey);
  if (it == md.end()) return std::nullopt;
  absl::StatusOr<VerifiedCaller> who =
      CallerInCheckedToken(absl::string_view(it->second.data(), it->second.size()));
  if (!who.ok()) return std::nullopt;
  return *std::move(who);
}

}  // namespace

std::string CallerOf(const grpc::ServerContextBase& context) {
  std::optional<VerifiedCaller> who = IdentityOf(context);
  return who ? who->caller : kAnonymousCaller;
}

std::string RolesOf(const grpc::ServerContextBase& context) {
  std::optional<VerifiedCaller> who = IdentityOf(context);
  return who ? who->roles : "";
}

absl::Time DeadlineOf(const grpc::ServerContext& context) {
  const absl::Time fallback = absl::Now() + absl::Seconds(30);
  const absl::Time client = absl::FromChrono(context.deadline());
  return std::min(client, fallback);
}

}  // namespace kit
