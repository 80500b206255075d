#ifndef ESTATE_SERVICES_KIT_FIELD_ERROR_H_
#define ESTATE_SERVICES_KIT_FIELD_ERROR_H_

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace kit {

// INVALID_ARGUMENT whose message starts with the offending field, as clients
// (and the gateway's JSON errors) show it: "title: must not be empty". Pure:
// domain code uses it without linking gRPC.
absl::Status FieldError(absl::string_view field, absl::string_view problem);

}  // namespace kit

#endif  // ESTATE_SERVICES_KIT_FIELD_ERROR_H_
