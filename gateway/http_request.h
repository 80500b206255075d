#ifndef ESTATE_GATEWAY_HTTP_REQUEST_H_
#define ESTATE_GATEWAY_HTTP_REQUEST_H_

// What the HTTP server makes of the bytes a client sends, apart from the
// sockets: the parser's limits, the status of a request it refuses, and the
// request as the API layer takes it. fuzz/http_fuzz feeds it raw bytes.

#include <cstddef>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "boost/beast/core/error.hpp"
#include "boost/beast/http/parser.hpp"
#include "boost/beast/http/string_body.hpp"

namespace gateway {

struct HttpRequest {
  std::string method;  // "GET"
  std::string target;  // "/v1/sites/a/tickets?page_size=5"
  std::string body;
  // The headers the gateway reads, lower-cased names.
  std::vector<std::pair<std::string, std::string>> headers;
  // Set instead of the above when the request could not be read:
  // 400 malformed, 413 body too large, 431 headers too large.
  int transport_error = 0;

  absl::string_view Header(absl::string_view name) const;
};

struct HttpLimits {
  size_t max_connections = 10000;  // beyond it new connections are closed at once
  size_t max_body_bytes = 4 << 20;
  size_t max_header_bytes = 16 << 10;
  absl::Duration idle_timeout = absl::Seconds(60);  // between requests
  absl::Duration read_timeout = absl::Seconds(30);  // one request, headers and body
};

using RequestParser = boost::beast::http::request_parser<boost::beast::http::string_body>;

// Puts the limits on body and header size on a fresh parser.
void ApplyLimits(const HttpLimits& limits, RequestParser& parser);

// The answer to a request the parser refused: 413 body too large, 431
// headers too large, 400 for the rest of its complaints (method, target,
// field, chunk...); 0 when nobody is left to answer (closed, reset, timed
// out, or the message stopped part-way).
int TransportErrorStatus(const boost::beast::error_code& ec);

// A parsed request as the API layer takes it.
HttpRequest ToHttpRequest(boost::beast::http::request<boost::beast::http::string_body> req);

}  // namespace gateway

#endif  // ESTATE_GATEWAY_HTTP_REQUEST_H_
