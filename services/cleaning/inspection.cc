#include "services/cleaning/inspection.h"

#include <limits>
#include <map>
#include <set>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "services/kit/field_error.h"
#include "services/kit/status_macros.h"
#include "services/kit/validate.h"

namespace cleaning {

using kit::FieldError;

namespace {

bool IsCode(absl::string_view s) {
  if (s.empty() || s.size() > 32) return false;
  for (char c : s) {
    if (!absl::ascii_islower(c) && !absl::ascii_isdigit(c) && c != '_' && c != '-') return false;
  }
  return true;
}

// a / b rounded half up, for non-negative a and positive b.
int64_t DivideHalfUp(int64_t a, int64_t b) { return (2 * a + b) / (2 * b); }

}  // namespace

absl::Status CheckStandard(absl::string_view prefix, const v1::Standard& s) {
  const std::string items = absl::StrCat(prefix, ".items");
  if (s.items().empty() || s.items_size() > 50) return FieldError(items, "1 to 50 items");
  std::set<std::string> codes;
  for (const v1::StandardItem& item : s.items()) {
    if (!IsCode(item.code())) return FieldError(items, "codes are 1 to 32 of a-z 0-9 _ -");
    if (!codes.insert(item.code()).second) {
      return FieldError(items, absl::StrCat("code '", item.code(), "' twice"));
    }
    RETURN_IF_ERROR(kit::CheckText(items, item.description(), 200, false));
    if (item.weight() < 1 || item.weight() > 100) return FieldError(items, "weights are 1 to 100");
  }
  if (s.pass_score() < 0 || s.pass_score() > 100) {
    return FieldError(absl::StrCat(prefix, ".pass_score"), "0 to 100");
  }
  return absl::OkStatus();
}

absl::StatusOr<Scored> ScoreInspection(
    const v1::Standard& standard, const google::protobuf::RepeatedPtrField<v1::ItemScore>& scores) {
  std::map<std::string, int> weight_of;
  for (const v1::StandardItem& item : standard.items()) weight_of[item.code()] = item.weight();
  std::set<std::string> seen;
  int64_t weighted = 0, weights = 0;
  for (const v1::ItemScore& s : scores) {
    auto it = weight_of.find(s.code());
    if (it == weight_of.end()) {
      return FieldError("inspection.scores", absl::StrCat("'", s.code(), "' is not in the zone's standard"));
    }
    if (!seen.insert(s.code()).second) {
      return FieldError("inspection.scores", absl::StrCat("'", s.code(), "' scored twice"));
    }
    if (s.score() < 0 || s.score() > 100) return FieldError("inspection.scores", "scores are 0 to 100");
    RETURN_IF_ERROR(kit::CheckText("inspection.scores", s.note(), 500, false));
    weighted += int64_t{it->second} * s.score() * 100;
    weights += it->second;
  }
  if (seen.size() != weight_of.size()) {
    for (const auto& [code, w] : weight_of) {
      if (!seen.count(code)) return FieldError("inspection.scores", absl::StrCat("'", code, "' not scored"));
    }
  }
  Scored out;
  out.score_centi = static_cast<int32_t>(DivideHalfUp(weighted, weights));
  out.passed = out.score_centi >= standard.pass_score() * 100;
  return out;
}

int32_t RateBp(int64_t part, int64_t whole) {
  if (whole <= 0) return 0;
  const __int128 bp = (static_cast<__int128>(part) * 20000 + whole) / (2 * whole);
  if (bp > std::numeric_limits<int32_t>::max()) return std::numeric_limits<int32_t>::max();
  if (bp < std::numeric_limits<int32_t>::min()) return std::numeric_limits<int32_t>::min();
  return static_cast<int32_t>(bp);
}

}  // namespace cleaning
