#include "services/kit/log_context.h"

#include <memory>

#include "absl/strings/str_cat.h"
#include "spdlog/pattern_formatter.h"
#include "spdlog/spdlog.h"

namespace kit {

namespace {

thread_local CallLog current_call;
thread_local bool has_call = false;

void AppendJsonString(absl::string_view s, spdlog::memory_buf_t& dest) {
  dest.push_back('"');
  for (unsigned char c : s) {
    switch (c) {
      case '"': dest.append(absl::string_view("\\\"")); break;
      case '\\': dest.append(absl::string_view("\\\\")); break;
      case '\n': dest.append(absl::string_view("\\n")); break;
      case '\t': dest.append(absl::string_view("\\t")); break;
      case '\r': dest.append(absl::string_view("\\r")); break;
      default:
        if (c < 0x20) {
          const std::string esc = absl::StrCat("\\u00", c < 0x10 ? "0" : "", absl::Hex(c));
          dest.append(absl::string_view(esc));
        } else {
          dest.push_back(static_cast<char>(c));
        }
    }
  }
  dest.push_back('"');
}

// %Q: " request_id=... method=... caller=..." while serving a call.
class TextCallFlag final : public spdlog::custom_flag_formatter {
 public:
  void format(const spdlog::details::log_msg&, const std::tm&, spdlog::memory_buf_t& dest) override {
    const CallLog* c = CurrentCall();
    if (c == nullptr) return;
    const std::string text = absl::StrCat(" request_id=", c->request_id.empty() ? "-" : c->request_id,
                                          " method=", c->method, " caller=", c->caller);
    dest.append(absl::string_view(text));
  }
  std::unique_ptr<custom_flag_formatter> clone() const override {
    return std::make_unique<TextCallFlag>();
  }
};

// %J: "msg":"...", and the call's fields, as JSON members.
class JsonFieldsFlag final : public spdlog::custom_flag_formatter {
 public:
  void format(const spdlog::details::log_msg& msg, const std::tm&,
              spdlog::memory_buf_t& dest) override {
    dest.append(absl::string_view("\"msg\":"));
    AppendJsonString(absl::string_view(msg.payload.data(), msg.payload.size()), dest);
    if (const CallLog* c = CurrentCall()) {
      for (const auto& [key, value] : {std::pair<const char*, const std::string*>{"request_id", &c->request_id},
                                       {"method", &c->method},
                                       {"caller", &c->caller}}) {
        dest.append(absl::string_view(absl::StrCat(",\"", key, "\":")));
        AppendJsonString(*value, dest);
      }
    }
  }
  std::unique_ptr<custom_flag_formatter> clone() const override {
    return std::make_unique<JsonFieldsFlag>();
  }
};

}  // namespace

CallLog* CurrentCall() { return has_call ? &current_call : nullptr; }

SavedCall EnterCall(CallLog call) {
  SavedCall saved{std::move(current_call), has_call};
  current_call = std::move(call);
  has_call = true;
  return saved;
}

void LeaveCall(SavedCall saved) {
  current_call = std::move(saved.call);
  has_call = saved.set;
}

void NoteCause(absl::string_view cause) {
  if (has_call) current_call.cause = std::string(cause.substr(0, 300));
}

std::string PrintableMetadata(absl::string_view value) {
  std::string out;
  for (char c : value) {
    if (out.size() == 128) break;
    out.push_back(c >= 0x21 && c <= 0x7E ? c : '_');
  }
  return out;
}

absl::Status SetLogFormat(absl::string_view format) {
  auto formatter = std::make_unique<spdlog::pattern_formatter>(spdlog::pattern_time_type::utc);
  if (format == "text") {
    formatter->add_flag<TextCallFlag>('Q').set_pattern("%Y-%m-%dT%H:%M:%S.%fZ %l %n: %v%Q");
  } else if (format == "json") {
    formatter->add_flag<JsonFieldsFlag>('J').set_pattern(
        "{\"time\":\"%Y-%m-%dT%H:%M:%S.%fZ\",\"level\":\"%l\",%J}");
  } else {
    return absl::InvalidArgumentError("--log_format: text or json");
  }
  spdlog::set_formatter(std::move(formatter));
  return absl::OkStatus();
}

}  // namespace kit
