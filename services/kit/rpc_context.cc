#include "services/kit/rpc_context.h"

#include <algorithm>

#include "absl/time/clock.h"

namespace kit {

std::string CallerOf(const grpc::ServerContext& context) {
  const auto& md = context.client_metadata();
  auto it = md.find(kCallerMetadataKey);
  if (it == md.end() || it->second.empty()) return kAnonymousCaller;
  std::string caller;
  for (char c : it->second) {
    if (caller.size() == 128) break;
    caller.push_back(c >= 0x21 && c <= 0x7E ? c : '_');
  }
  return caller;
}

absl::Time DeadlineOf(const grpc::ServerContext& context) {
  const absl::Time fallback = absl::Now() + absl::Seconds(30);
  const absl::Time client = absl::FromChrono(context.deadline());
  return std::min(client, fallback);
}

}  // namespace kit
