#ifndef ESTATE_SERVICES_KIT_UPDATE_MASK_H_
#define ESTATE_SERVICES_KIT_UPDATE_MASK_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "google/protobuf/field_mask.pb.h"
#include "google/protobuf/message.h"

namespace kit {

// An AIP update: copies the top-level fields named in `mask` from `source`
// into `target` (a named message field is replaced whole) and returns the
// names of those whose value changed. An empty mask, or a path not in
// `allowed`, is INVALID_ARGUMENT naming update_mask, and `target` is left as
// it was.
absl::StatusOr<std::vector<std::string>> ApplyUpdateMask(
    const google::protobuf::Message& source, const google::protobuf::FieldMask& mask,
    const std::vector<std::string>& allowed, google::protobuf::Message* target);

}  // namespace kit

#endif  // ESTATE_SERVICES_KIT_UPDATE_MASK_H_
