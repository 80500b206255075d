// HTTP/JSON calls on every route of the suite: the input is
// "<method byte><path>?<query>\n<body>"; a path that matches a route is
// transcoded into its request message, which is built or refused with
// INVALID_ARGUMENT (HTTP 400), never anything else; what is built prints as
// protobuf JSON.
#include <memory>

#include "absl/strings/str_cat.h"
#include "fuzz/fuzz_util.h"
#include "google/protobuf/stubs/logging.h"
#include "gateway/catalog.h"
#include "gateway/transcode.h"
#include "google/protobuf/util/json_util.h"

namespace {
const gateway::Catalog& Suite() {
  static const auto* catalog = gateway::Catalog::FromLinkedProtos("estate.", {}).value().release();
  return *catalog;
}
}  // namespace

// protobuf logs every string field with bad UTF-8 it parses; the inputs are
// full of them.
extern "C" int LLVMFuzzerInitialize(int*, char***) {
  google::protobuf::SetLogHandler(nullptr);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  static const char* const kMethods[] = {"GET", "POST", "PATCH", "DELETE", "PUT"};
  const char* http_method = kMethods[data[0] % 5];
  const absl::string_view rest = fuzz::Text(data + 1, size - 1);
  const size_t nl = rest.find('\n');
  const absl::string_view target = rest.substr(0, nl);
  const absl::string_view body = nl == absl::string_view::npos ? "" : rest.substr(nl + 1);
  const size_t q = target.find('?');
  const absl::string_view path = target.substr(0, q);
  const absl::string_view query = q == absl::string_view::npos ? "" : target.substr(q + 1);

  const gateway::Route* route = nullptr;
  gateway::PathTemplate::Bindings bindings;
  if (Suite().MatchRoute(http_method, path, &route, &bindings) !=
      gateway::Catalog::MatchResult::kMatched) {
    return 0;
  }
  std::unique_ptr<google::protobuf::Message> request(route->method->request_prototype->New());
  const absl::Status s = gateway::BuildRequest(*route, bindings, query, body, request.get());
  FUZZ_CHECK(s.ok() || s.code() == absl::StatusCode::kInvalidArgument, "refusal code");
  FUZZ_CHECK(gateway::HttpStatusFor(static_cast<int>(s.code())) == (s.ok() ? 200 : 400),
             "HTTP status of the outcome");
  if (s.ok()) {
    std::string json;
    FUZZ_CHECK(google::protobuf::util::MessageToJsonString(*request, &json).ok(),
               "a built request prints as JSON");
  }
  return 0;
}
