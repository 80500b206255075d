#include "services/kit/field_error.h"

#include "absl/strings/str_cat.h"

namespace kit {

absl::Status FieldError(absl::string_view field, absl::string_view problem) {
  return absl::InvalidArgumentError(absl::StrCat(field, ": ", problem));
}

}  // namespace kit
