#ifndef ESTATE_GATEWAY_TRANSCODE_H_
#define ESTATE_GATEWAY_TRANSCODE_H_

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "gateway/catalog.h"
#include "google/protobuf/message.h"

namespace gateway {

// Fills `request` from an HTTP call bound to `route`, as google.api.http
// says: the body (all of it or one field) as protobuf JSON, path variables
// into their fields, and the remaining fields from the query string
// (`?page_size=10&status=OPEN&update_mask=title,priority`). Unknown fields,
// wrong types, out-of-range numbers, bad UTF-8 and fields set twice are
// INVALID_ARGUMENT naming the field or "body".
absl::Status BuildRequest(const Route& route, const PathTemplate::Bindings& bindings,
                          absl::string_view query, absl::string_view body,
                          google::protobuf::Message* request);

// The response (or its response_body field) as protobuf JSON, lowerCamelCase.
absl::StatusOr<std::string> ResponseToJson(const Route& route,
                                           const google::protobuf::Message& response);

// gRPC code -> HTTP status, as grpc-gateway maps them.
int HttpStatusFor(int grpc_code);

// {"code": <gRPC code>, "message": "...", "details": []}
std::string ErrorJson(int grpc_code, absl::string_view message);

bool IsValidUtf8(absl::string_view s);

}  // namespace gateway

#endif  // ESTATE_GATEWAY_TRANSCODE_H_
