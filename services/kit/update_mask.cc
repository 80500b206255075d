#include "services/kit/update_mask.h"

#include <algorithm>
#include <memory>

#include "absl/strings/str_cat.h"
#include "google/protobuf/util/field_mask_util.h"
#include "services/kit/field_error.h"

namespace kit {

using google::protobuf::FieldMask;
using google::protobuf::Message;
using google::protobuf::util::FieldMaskUtil;

absl::StatusOr<std::vector<std::string>> ApplyUpdateMask(const Message& source,
                                                         const FieldMask& mask,
                                                         const std::vector<std::string>& allowed,
                                                         Message* target) {
  if (mask.paths_size() == 0) return FieldError("update_mask", "required: name the fields to change");
  for (const std::string& path : mask.paths()) {
    if (std::find(allowed.begin(), allowed.end(), path) == allowed.end()) {
      return FieldError("update_mask", absl::StrCat("'", path, "' cannot be updated"));
    }
  }
  FieldMaskUtil::MergeOptions options;
  options.set_replace_message_fields(true);
  options.set_replace_repeated_fields(true);
  std::vector<std::string> changed;
  for (const std::string& path : mask.paths()) {
    FieldMask one;
    one.add_paths(path);
    std::unique_ptr<Message> before(target->New());
    std::unique_ptr<Message> after(target->New());
    FieldMaskUtil::MergeMessageTo(*target, one, options, before.get());
    FieldMaskUtil::MergeMessageTo(source, one, options, after.get());
    if (before->SerializeAsString() != after->SerializeAsString() &&
        std::find(changed.begin(), changed.end(), path) == changed.end()) {
      changed.push_back(path);
    }
  }
  FieldMaskUtil::MergeMessageTo(source, mask, options, target);
  return changed;
}

}  // namespace kit
