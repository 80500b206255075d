// Request paths against the gateway's route templates, and templates
// themselves: Parse refuses or yields a template; Match never captures a
// segment a resource name cannot hold (".", "..", empty, ':', control
// characters).
#include <vector>

#include "absl/strings/str_split.h"
#include "fuzz/fuzz_util.h"
#include "gateway/path_template.h"

namespace {
const std::vector<gateway::PathTemplate>& Routes() {
  static const auto* routes = [] {
    auto* v = new std::vector<gateway::PathTemplate>;
    for (const char* t : {"/v1/{name=sites/*/tickets/*}:close", "/v1/{parent=sites/*}/tickets",
                          "/v1/{name=sites/*/keys/*}", "/v1/{name=sites/*/billRuns/*}/lines",
                          "/v1/{parent=sites/*}/stockMoves:receive", "/v1/{name=**}"}) {
      v->push_back(gateway::PathTemplate::Parse(t).value());
    }
    return v;
  }();
  return *routes;
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const absl::string_view text = fuzz::Text(data, size);
  for (const gateway::PathTemplate& route : Routes()) {
    gateway::PathTemplate::Bindings bindings;
    if (!route.Match(text, &bindings)) continue;
    for (const auto& [field, value] : bindings) {
      if (route.text() == "/v1/{name=**}") continue;  // ** may span segments
      for (absl::string_view segment : absl::StrSplit(value, '/')) {
        FUZZ_CHECK(segment != ".." && segment != "." && !segment.empty(),
                   "no traversal or empty segment in a capture");
      }
      for (char c : value) {
        FUZZ_CHECK(static_cast<unsigned char>(c) >= 0x20 && c != 0x7f, "no control character");
        FUZZ_CHECK(c != ':', "no verb separator in a capture");
      }
    }
  }
  auto parsed = gateway::PathTemplate::Parse(text);
  if (parsed.ok()) {
    gateway::PathTemplate::Bindings bindings;
    (void)parsed->Match(text, &bindings);
    std::vector<std::string> params;
    (void)parsed->OpenApiPath(&params);
  }
  std::string decoded;
  (void)gateway::PercentDecode(text, true, &decoded);
  return 0;
}
