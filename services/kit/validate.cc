#include "services/kit/validate.h"

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/civil_time.h"
#include "services/kit/field_error.h"

namespace kit {
namespace {

// Length of the UTF-8 sequence starting at s[i], or 0 if it is malformed
// (overlong forms, surrogates and code points above U+10FFFF included).
size_t Utf8SequenceLength(absl::string_view s, size_t i) {
  const auto b = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
  const unsigned char c = b(i);
  if (c < 0x80) return 1;
  size_t n;
  uint32_t cp;
  if ((c & 0xE0) == 0xC0) {
    n = 2;
    cp = c & 0x1F;
  } else if ((c & 0xF0) == 0xE0) {
    n = 3;
    cp = c & 0x0F;
  } else if ((c & 0xF8) == 0xF0) {
    n = 4;
    cp = c & 0x07;
  } else {
    return 0;
  }
  if (i + n > s.size()) return 0;
  for (size_t k = 1; k < n; ++k) {
    if ((b(i + k) & 0xC0) != 0x80) return 0;
    cp = (cp << 6) | (b(i + k) & 0x3F);
  }
  static constexpr uint32_t kMin[] = {0, 0, 0x80, 0x800, 0x10000};
  if (cp < kMin[n] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
  return n;
}

}  // namespace

absl::Status CheckText(absl::string_view field, absl::string_view value,
                       size_t max_bytes, bool required) {
  if (value.size() > max_bytes) {
    return FieldError(field, absl::StrCat("longer than ", max_bytes, " bytes"));
  }
  for (size_t i = 0; i < value.size();) {
    const size_t n = Utf8SequenceLength(value, i);
    if (n == 0) return FieldError(field, "not valid UTF-8");
    if (n == 1) {
      const unsigned char c = value[i];
      if ((c < 0x20 && c != '\n' && c != '\t' && c != '\r') || c == 0x7F) {
        return FieldError(field, "contains a control character");
      }
    }
    i += n;
  }
  if (required && absl::StripAsciiWhitespace(value).empty()) {
    return FieldError(field, "required");
  }
  return absl::OkStatus();
}

bool IsValidSiteId(absl::string_view id) {
  if (id.empty() || id.size() > 63) return false;
  for (char c : id) {
    if (!(absl::ascii_islower(c) || absl::ascii_isdigit(c) || c == '-')) return false;
  }
  return id.front() != '-' && id.back() != '-';
}

absl::StatusOr<std::vector<std::string>> ParseName(
    absl::string_view field, absl::string_view name,
    const std::vector<absl::string_view>& collections) {
  std::vector<absl::string_view> parts = absl::StrSplit(name, '/');
  std::string shape;
  for (absl::string_view c : collections) {
    absl::StrAppend(&shape, shape.empty() ? "" : "/", c, "/{", c.substr(0, c.size() - 1), "}");
  }
  const auto bad = [&] { return FieldError(field, absl::StrCat("must look like ", shape)); };
  if (parts.size() != 2 * collections.size()) return bad();
  std::vector<std::string> ids;
  for (size_t i = 0; i < collections.size(); ++i) {
    if (parts[2 * i] != collections[i]) return bad();
    absl::string_view id = parts[2 * i + 1];
    if (i == 0) {
      if (!IsValidSiteId(id)) return bad();
    } else {
      // Digits only: SimpleAtoi alone also takes "+7" and " 7", second
      // names for resource 7 (found by fuzz/names_fuzz).
      int64_t n;
      if (id.empty() || id.size() > 18 || id[0] == '0' ||
          !std::all_of(id.begin(), id.end(), absl::ascii_isdigit) || !absl::SimpleAtoi(id, &n) ||
          n <= 0) {
        return bad();
      }
    }
    ids.emplace_back(id);
  }
  return ids;
}

int64_t IdOf(const std::string& id) {
  int64_t n = 0;
  (void)absl::SimpleAtoi(id, &n);
  return n;
}

absl::StatusOr<std::string> ParseSiteParent(absl::string_view field,
                                            absl::string_view parent) {
  absl::StatusOr<std::vector<std::string>> ids = ParseName(field, parent, {"sites"});
  if (!ids.ok()) return ids.status();
  return (*ids)[0];
}

bool IsUuid(absl::string_view s) {
  if (s.size() != 36) return false;
  for (size_t i = 0; i < s.size(); ++i) {
    if (i == 8 || i == 13 || i == 18 || i == 23) {
      if (s[i] != '-') return false;
    } else if (!absl::ascii_isxdigit(s[i])) {
      return false;
    }
  }
  return true;
}

bool IsDate(absl::string_view s) {
  absl::CivilDay day;
  return s.size() == 10 && absl::ParseCivilTime(s, &day) &&
         absl::FormatCivilTime(day) == s;
}

bool IsValidUnitId(absl::string_view id) {
  if (id.empty() || id.size() > 64 || id == "." || id == "..") return false;
  for (char ch : id) {
    if (!absl::ascii_isalnum(ch) && ch != '-' && ch != '_' && ch != '.') return false;
  }
  return true;
}

absl::Status CheckUnitId(absl::string_view field, absl::string_view unit) {
  if (unit.empty() || unit.size() > 64) return FieldError(field, "required, at most 64 characters");
  for (char c : unit) {
    if (!absl::ascii_isalnum(c) && c != '-' && c != '.') {
      return FieldError(field, "letters, digits, '-' and '.' (as the register writes it)");
    }
  }
  // A path step, not a unit: the register and billing refuse it too.
  if (unit == "." || unit == "..") return FieldError(field, "must not be '.' or '..'");
  return absl::OkStatus();
}

absl::Status CheckPhone(absl::string_view field, absl::string_view phone, bool required) {
  if (required && phone.empty()) return FieldError(field, "required");
  if (phone.size() > 32) return FieldError(field, "longer than 32 bytes");
  for (char c : phone) {
    if (!absl::ascii_isdigit(c) && c != '+' && c != '-' && c != ' ' && c != '(' && c != ')') {
      return FieldError(field, "may hold only digits, spaces and + - ( )");
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<SiteId> ParseSiteId(absl::string_view field, absl::string_view name,
                                   absl::string_view collection) {
  absl::StatusOr<std::vector<std::string>> ids = ParseName(field, name, {"sites", collection});
  if (!ids.ok()) return ids.status();
  return SiteId{(*ids)[0], IdOf((*ids)[1])};
}

}  // namespace kit
