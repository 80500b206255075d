#include "gateway/http_request.h"

#include "absl/strings/ascii.h"
#include "boost/beast/http/error.hpp"

namespace gateway {

namespace http = boost::beast::http;

absl::string_view HttpRequest::Header(absl::string_view name) const {
  for (const auto& [k, v] : headers) {
    if (k == name) return v;
  }
  return {};
}

void ApplyLimits(const HttpLimits& limits, RequestParser& parser) {
  parser.body_limit(limits.max_body_bytes);
  parser.header_limit(static_cast<std::uint32_t>(limits.max_header_bytes));
}

int TransportErrorStatus(const boost::beast::error_code& ec) {
  if (ec == http::error::body_limit) return 413;
  if (ec == http::error::header_limit) return 431;
  if (ec != http::error::end_of_stream && ec != http::error::partial_message &&
      ec.category() == boost::beast::error_code(http::error::bad_target).category()) {
    return 400;
  }
  return 0;
}

HttpRequest ToHttpRequest(http::request<http::string_body> req) {
  HttpRequest out;
  out.method = std::string(req.method_string());
  out.target = std::string(req.target());
  out.body = std::move(req.body());
  for (const auto& h : req) {
    out.headers.emplace_back(absl::AsciiStrToLower(std::string(h.name_string())),
                             std::string(h.value()));
  }
  return out;
}

}  // namespace gateway
