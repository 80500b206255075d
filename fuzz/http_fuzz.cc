// Raw bytes on the gateway's HTTP port, through the parser the server uses
// with its limits (gateway/http_request.h): a request is read, or refused
// with 400, 413 or 431, or left incomplete (no answer); what is read becomes
// the request the API layer takes, with lower-cased header names, and its
// headers go through the gateway's own readers.
#include "absl/strings/ascii.h"
#include "boost/asio/buffer.hpp"
#include "boost/beast/http/error.hpp"
#include "fuzz/fuzz_util.h"
#include "gateway/grpc_timeout.h"
#include "gateway/http_request.h"
#include "gateway/path_template.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  gateway::HttpLimits limits;
  limits.max_body_bytes = 1 << 10;  // small, so the fuzzer reaches the limits
  limits.max_header_bytes = 1 << 10;
  gateway::RequestParser parser;
  gateway::ApplyLimits(limits, parser);
  parser.eager(true);
  boost::beast::error_code ec;
  size_t used = 0;
  while (used < size && !parser.is_done()) {
    used += parser.put(boost::asio::buffer(data + used, size - used), ec);
    // Beast wants more bytes than the client sent: Beast's contract is to
    // call put() again only with more, so this is where the client stops.
    if (ec == boost::beast::http::error::need_more) {
      ec = {};
      break;
    }
    if (ec) break;
  }
  // The client closes: what it sent so far is all there is.
  if (!ec && !parser.is_done() && parser.got_some()) parser.put_eof(ec);
  if (ec) {
    const int status = gateway::TransportErrorStatus(ec);
    FUZZ_CHECK(status == 0 || status == 400 || status == 413 || status == 431,
               "a refused request gets 400, 413, 431 or no answer");
    return 0;
  }
  if (!parser.is_done()) return 0;
  const gateway::HttpRequest req = gateway::ToHttpRequest(parser.release());
  FUZZ_CHECK(req.body.size() <= limits.max_body_bytes, "the body limit holds");
  for (const auto& [name, value] : req.headers) {
    FUZZ_CHECK(name == absl::AsciiStrToLower(name), "header names are lower-cased");
  }
  (void)gateway::ParseGrpcTimeout(req.Header("grpc-timeout"));
  std::string decoded;
  (void)gateway::PercentDecode(req.target, false, &decoded);
  return 0;
}
