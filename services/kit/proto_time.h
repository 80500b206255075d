#ifndef ESTATE_SERVICES_KIT_PROTO_TIME_H_
#define ESTATE_SERVICES_KIT_PROTO_TIME_H_

#include <optional>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "google/protobuf/duration.pb.h"
#include "google/protobuf/timestamp.pb.h"

namespace kit {

void SetTimestamp(google::protobuf::Timestamp* out, absl::Time t);
void SetTimestamp(google::protobuf::Timestamp* out, const std::optional<absl::Time>& t);
absl::Time FromTimestamp(const google::protobuf::Timestamp& ts);
// A Timestamp from a client: in range (years 1..9999) and nanos valid.
absl::StatusOr<absl::Time> CheckTimestamp(absl::string_view field,
                                          const google::protobuf::Timestamp& ts);

void SetDuration(google::protobuf::Duration* out, absl::Duration d);
absl::Duration FromDuration(const google::protobuf::Duration& d);

}  // namespace kit

#endif  // ESTATE_SERVICES_KIT_PROTO_TIME_H_
