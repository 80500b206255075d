#ifndef ESTATE_GATEWAY_GRPC_TIMEOUT_H_
#define ESTATE_GATEWAY_GRPC_TIMEOUT_H_

#include <optional>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace gateway {

// A Grpc-Timeout header value ("500m", "2S": 1 to 8 digits and a unit of
// H, M, S, m, u, n), or nullopt if it is not one.
std::optional<absl::Duration> ParseGrpcTimeout(absl::string_view value);

}  // namespace gateway

#endif  // ESTATE_GATEWAY_GRPC_TIMEOUT_H_
