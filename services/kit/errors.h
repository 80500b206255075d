#ifndef ESTATE_SERVICES_KIT_ERRORS_H_
#define ESTATE_SERVICES_KIT_ERRORS_H_

#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "grpcpp/support/status.h"

namespace kit {

// INVALID_ARGUMENT whose message starts with the offending field, as clients
// (and the gateway's JSON errors) show it: "title: must not be empty".
absl::Status FieldError(absl::string_view field, absl::string_view problem);

// absl::Status -> grpc::Status. Codes map one to one; messages pass through
// because every layer below only ever puts client-safe text in them.
grpc::Status ToGrpc(const absl::Status& status);

}  // namespace kit

#endif  // ESTATE_SERVICES_KIT_ERRORS_H_
