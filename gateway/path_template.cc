#include "gateway/path_template.h"

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "services/kit/validate.h"

namespace gateway {
namespace {

absl::Status Bad(absl::string_view text, absl::string_view why) {
  return absl::InvalidArgumentError(absl::StrCat("path template \"", text, "\": ", why));
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// What a single captured segment may be once decoded.
bool IsSafeSegment(absl::string_view s) {
  if (s.empty() || s == "." || s == "..") return false;
  for (unsigned char c : s) {
    if (c < 0x20 || c == 0x7f || c == '/' || c == ':' || c == '\\') return false;
  }
  return kit::CheckText("segment", s, s.size(), false).ok();
}

}  // namespace

bool PercentDecode(absl::string_view in, bool plus_is_space, std::string* out) {
  out->clear();
  out->reserve(in.size());
  for (size_t i = 0; i < in.size(); ++i) {
    char c = in[i];
    if (c == '%') {
      if (i + 2 >= in.size()) return false;
      int hi = HexValue(in[i + 1]), lo = HexValue(in[i + 2]);
      if (hi < 0 || lo < 0) return false;
      out->push_back(static_cast<char>(hi * 16 + lo));
      i += 2;
    } else if (c == '+' && plus_is_space) {
      out->push_back(' ');
    } else {
      out->push_back(c);
    }
  }
  return true;
}

absl::StatusOr<PathTemplate> PathTemplate::Parse(absl::string_view text) {
  PathTemplate t;
  t.text_ = std::string(text);
  if (!absl::StartsWith(text, "/")) return Bad(text, "must start with '/'");
  absl::string_view rest = text.substr(1);
  // The verb follows the last ':' that is outside a variable.
  size_t depth = 0, verb_at = absl::string_view::npos;
  for (size_t i = 0; i < rest.size(); ++i) {
    if (rest[i] == '{') ++depth;
    if (rest[i] == '}') --depth;
    if (rest[i] == ':' && depth == 0) verb_at = i;
  }
  if (verb_at != absl::string_view::npos) {
    t.verb_ = std::string(rest.substr(verb_at + 1));
    rest = rest.substr(0, verb_at);
    if (t.verb_.empty()) return Bad(text, "empty verb");
  }
  size_t i = 0;
  auto add_segments = [&](absl::string_view part) -> absl::Status {
    for (absl::string_view seg : absl::StrSplit(part, '/')) {
      if (seg.empty()) return Bad(text, "empty segment");
      if (seg == "*") {
        t.segments_.push_back({Kind::kStar, ""});
      } else if (seg == "**") {
        t.segments_.push_back({Kind::kDoubleStar, ""});
      } else {
        t.segments_.push_back({Kind::kLiteral, std::string(seg)});
      }
    }
    return absl::OkStatus();
  };
  while (i < rest.size()) {
    size_t end;
    if (rest[i] == '{') {
      end = rest.find('}', i);
      if (end == absl::string_view::npos) return Bad(text, "unclosed variable");
      absl::string_view inner = rest.substr(i + 1, end - i - 1);
      Variable v;
      size_t eq = inner.find('=');
      v.field_path = std::string(inner.substr(0, eq));
      v.pattern = eq == absl::string_view::npos ? "*" : std::string(inner.substr(eq + 1));
      if (v.field_path.empty()) return Bad(text, "variable without a field");
      v.begin = t.segments_.size();
      if (auto s = add_segments(v.pattern); !s.ok()) return s;
      v.end = t.segments_.size();
      t.variables_.push_back(std::move(v));
      ++end;
    } else {
      end = rest.find('/', i);
      if (end == absl::string_view::npos) end = rest.size();
      if (auto s = add_segments(rest.substr(i, end - i)); !s.ok()) return s;
    }
    if (end < rest.size()) {
      if (rest[end] != '/') return Bad(text, "expected '/' after a variable");
      ++end;
      if (end == rest.size()) return Bad(text, "trailing '/'");
    }
    i = end;
  }
  for (size_t k = 0; k + 1 < t.segments_.size(); ++k) {
    if (t.segments_[k].kind == Kind::kDoubleStar) return Bad(text, "'**' must be last");
  }
  return t;
}

bool PathTemplate::Match(absl::string_view path, Bindings* bindings) const {
  if (!absl::ConsumePrefix(&path, "/")) return false;
  if (!verb_.empty()) {
    if (path.size() <= verb_.size() + 1 || path[path.size() - verb_.size() - 1] != ':' ||
        !absl::EndsWith(path, verb_)) {
      return false;
    }
    path.remove_suffix(verb_.size() + 1);
  }
  std::vector<absl::string_view> raw = absl::StrSplit(path, '/');
  const bool tail = !segments_.empty() && segments_.back().kind == Kind::kDoubleStar;
  if (tail ? raw.size() < segments_.size() : raw.size() != segments_.size()) return false;
  std::vector<std::string> decoded(raw.size());
  for (size_t k = 0; k < raw.size(); ++k) {
    const Kind kind = k < segments_.size() ? segments_[k].kind : Kind::kDoubleStar;
    if (kind == Kind::kLiteral) {
      if (raw[k] != segments_[k].literal) return false;
      decoded[k] = std::string(raw[k]);
      continue;
    }
    if (!PercentDecode(raw[k], false, &decoded[k]) || !IsSafeSegment(decoded[k])) return false;
  }
  bindings->clear();
  for (const Variable& v : variables_) {
    size_t end = (tail && v.end == segments_.size()) ? raw.size() : v.end;
    std::vector<absl::string_view> parts;
    for (size_t k = v.begin; k < end; ++k) parts.push_back(decoded[k]);
    bindings->emplace_back(v.field_path, absl::StrJoin(parts, "/"));
  }
  return true;
}

std::string PathTemplate::OpenApiPath(std::vector<std::string>* params) const {
  // "/v1/{name=sites/*/tickets/*}" becomes "/v1/sites/{siteId}/tickets/{ticketId}":
  // AIP names spelled out, so GetTicket and GetSurvey do not share "/v1/{name}".
  std::string out;
  std::string previous = "path";
  for (const Segment& seg : segments_) {
    out += "/";
    if (seg.kind == Kind::kLiteral) {
      out += seg.literal;
      previous = seg.literal;
      continue;
    }
    std::string param = previous;
    if (param.size() > 1 && param.back() == 's') param.pop_back();
    param += seg.kind == Kind::kDoubleStar ? "Path" : "Id";
    const std::string base = param;
    for (int n = 2; std::find(params->begin(), params->end(), param) != params->end(); ++n) {
      param = absl::StrCat(base, n);
    }
    params->push_back(param);
    absl::StrAppend(&out, "{", param, "}");
  }
  if (!verb_.empty()) absl::StrAppend(&out, ":", verb_);
  return out;
}

}  // namespace gateway
