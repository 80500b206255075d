#ifndef ESTATE_SERVICES_KIT_ERRORS_H_
#define ESTATE_SERVICES_KIT_ERRORS_H_

#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "grpcpp/support/status.h"
#include "services/kit/field_error.h"

namespace kit {

// absl::Status -> grpc::Status. Codes map one to one; messages pass through
// because every layer below only ever puts client-safe text in them.
grpc::Status ToGrpc(const absl::Status& status);

}  // namespace kit

#endif  // ESTATE_SERVICES_KIT_ERRORS_H_
