#include "services/kit/file_text.h"

#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"

namespace kit {

absl::StatusOr<std::string> ReadFileText(const std::string& path, absl::string_view what) {
  std::ifstream in(path, std::ios::binary);
  if (path.empty() || !in) {
    return absl::FailedPreconditionError(absl::StrCat(what, " ", path, " cannot be read"));
  }
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace kit
