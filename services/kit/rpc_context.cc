#include "services/kit/rpc_context.h"

#include <algorithm>

#include "absl/time/clock.h"
#include "services/kit/log_context.h"

namespace kit {

namespace {

// A metadata value cut to 128 bytes of printable ASCII; "" if absent.
std::string MetadataText(const grpc::ServerContext& context, const char* key) {
  const auto& md = context.client_metadata();
  auto it = md.find(key);
  if (it == md.end()) return "";
  return PrintableMetadata(absl::string_view(it->second.data(), it->second.size()));
}

}  // namespace

std::string CallerOf(const grpc::ServerContext& context) {
  std::string caller = MetadataText(context, kCallerMetadataKey);
  return caller.empty() ? kAnonymousCaller : caller;
}

std::string RolesOf(const grpc::ServerContext& context) {
  return MetadataText(context, kRolesMetadataKey);
}

absl::Time DeadlineOf(const grpc::ServerContext& context) {
  const absl::Time fallback = absl::Now() + absl::Seconds(30);
  const absl::Time client = absl::FromChrono(context.deadline());
  return std::min(client, fallback);
}

}  // namespace kit
