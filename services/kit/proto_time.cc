#include "services/kit/proto_time.h"

#include "services/kit/field_error.h"

namespace kit {

void SetTimestamp(google::protobuf::Timestamp* out, absl::Time t) {
  const int64_t ns = absl::ToUnixNanos(t);
  int64_t s = ns / 1000000000;
  int64_t n = ns % 1000000000;
  if (n < 0) {
    n += 1000000000;
    --s;
  }
  out->set_seconds(s);
  out->set_nanos(static_cast<int32_t>(n));
}

void SetTimestamp(google::protobuf::Timestamp* out, const std::optional<absl::Time>& t) {
  if (t.has_value()) SetTimestamp(out, *t);
}

absl::Time FromTimestamp(const google::protobuf::Timestamp& ts) {
  return absl::FromUnixSeconds(ts.seconds()) + absl::Nanoseconds(ts.nanos());
}

absl::StatusOr<absl::Time> CheckTimestamp(absl::string_view field,
                                          const google::protobuf::Timestamp& ts) {
  // 1000-01-01 .. 9999-12-31: the DATETIME range (Timestamp itself allows
  // year 1, which MariaDB would read as 2001).
  if (ts.seconds() < -30610224000LL || ts.seconds() > 253402300799LL || ts.nanos() < 0 ||
      ts.nanos() > 999999999) {
    return FieldError(field, "out of range");
  }
  return FromTimestamp(ts);
}

void SetDuration(google::protobuf::Duration* out, absl::Duration d) {
  const int64_t ns = absl::ToInt64Nanoseconds(d);
  out->set_seconds(ns / 1000000000);
  out->set_nanos(static_cast<int32_t>(ns % 1000000000));
}

absl::Duration FromDuration(const google::protobuf::Duration& d) {
  return absl::Seconds(d.seconds()) + absl::Nanoseconds(d.nanos());
}

}  // namespace kit
