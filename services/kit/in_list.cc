#include "services/kit/in_list.h"

#include <algorithm>

#include "absl/strings/str_cat.h"

namespace kit {

namespace {
size_t Slots(size_t n) {
  size_t slots = 8;
  while (slots < n) slots *= 4;
  return slots;
}
}  // namespace

std::string PaddedInList(absl::Span<const int64_t> ids, std::vector<SqlParam>* params) {
  const size_t slots = Slots(ids.size());
  std::string out;
  out.reserve(slots * 3);
  for (size_t i = 0; i < slots; ++i) {
    out += i == 0 ? "?" : ", ?";
    params->emplace_back(ids[std::min(i, ids.size() - 1)]);
  }
  return out;
}

std::string PaddedInList(absl::Span<const std::string> values, std::vector<SqlParam>* params) {
  const size_t slots = Slots(values.size());
  std::string out;
  out.reserve(slots * 3);
  for (size_t i = 0; i < slots; ++i) {
    out += i == 0 ? "?" : ", ?";
    params->emplace_back(values[std::min(i, values.size() - 1)]);
  }
  return out;
}

std::string PaddedCase(absl::string_view column, absl::Span<const int64_t> ids,
                       absl::Span<const int64_t> values, absl::string_view otherwise,
                       std::vector<SqlParam>* params) {
  const size_t slots = Slots(ids.size());
  std::string out = absl::StrCat("CASE ", column);
  out.reserve(out.size() + slots * 14 + otherwise.size() + 10);
  for (size_t i = 0; i < slots; ++i) {
    const size_t k = std::min(i, ids.size() - 1);
    out += " WHEN ? THEN ?";
    params->emplace_back(ids[k]);
    params->emplace_back(values[k]);
  }
  absl::StrAppend(&out, " ELSE ", otherwise, " END");
  return out;
}

}  // namespace kit
