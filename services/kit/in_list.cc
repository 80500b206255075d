#include "services/kit/in_list.h"

#include <algorithm>

namespace kit {

std::string PaddedInList(absl::Span<const int64_t> ids, std::vector<SqlParam>* params) {
  size_t slots = 8;
  while (slots < ids.size()) slots *= 4;
  std::string out;
  out.reserve(slots * 3);
  for (size_t i = 0; i < slots; ++i) {
    out += i == 0 ? "?" : ", ?";
    params->emplace_back(ids[std::min(i, ids.size() - 1)]);
  }
  return out;
}

}  // namespace kit
