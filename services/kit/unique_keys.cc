#include "services/kit/unique_keys.h"

#include "absl/strings/cord.h"
#include "spdlog/spdlog.h"

namespace kit {

namespace {
constexpr char kDuplicateKeyPayload[] = "type.estate.dev/duplicate-key";
}  // namespace

absl::Status DuplicateKeyError(absl::string_view key) {
  absl::Status s = absl::AlreadyExistsError("already exists");
  s.SetPayload(kDuplicateKeyPayload, absl::Cord(key));
  return s;
}

std::string DuplicateKeyOf(const absl::Status& s) {
  if (s.code() != absl::StatusCode::kAlreadyExists) return "";
  auto key = s.GetPayload(kDuplicateKeyPayload);
  return key.has_value() ? std::string(*key) : "";
}

std::string KeyNameFromDuplicateMessage(absl::string_view message) {
  constexpr absl::string_view kMarker = "for key '";
  const size_t at = message.rfind(kMarker);
  if (at == absl::string_view::npos) return "";
  absl::string_view key = message.substr(at + kMarker.size());
  const size_t end = key.find('\'');
  if (end == absl::string_view::npos) return "";
  key = key.substr(0, end);
  // MySQL 8 says "table.key"; MariaDB just "key".
  if (const size_t dot = key.rfind('.'); dot != absl::string_view::npos) key = key.substr(dot + 1);
  return std::string(key);
}

absl::Status UniqueKeys::Map(absl::Status s) const {
  if (s.code() != absl::StatusCode::kAlreadyExists) return s;
  const std::string key = DuplicateKeyOf(s);
  if (key.empty()) return s;  // already mapped, or not from the database
  for (const UniqueKeyRule& r : rules) {
    if (r.key != nullptr && key == r.key) return absl::Status(r.code, r.message);
  }
  spdlog::error("duplicate on unique key '{}', which its store does not declare", key);
  return absl::AlreadyExistsError("already exists");
}

}  // namespace kit
