#include "tests/gateway/http_client.h"

#include "absl/strings/ascii.h"
#include "boost/asio/ip/tcp.hpp"
#include "boost/beast/core.hpp"
#include "boost/beast/http.hpp"

namespace testing_support {
namespace {

namespace beast = boost::beast;
namespace http = boost::beast::http;
using tcp = boost::asio::ip::tcp;

bool Connect(beast::tcp_stream& stream, int port) {
  beast::error_code ec;
  stream.socket().connect(
      tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"), static_cast<unsigned short>(port)),
      ec);
  stream.expires_after(std::chrono::seconds(30));
  return !ec;
}

HttpResult Read(beast::tcp_stream& stream, beast::flat_buffer& buffer) {
  HttpResult out;
  http::response_parser<http::string_body> parser;
  parser.body_limit(64 << 20);
  beast::error_code ec;
  http::read(stream, buffer, parser, ec);
  if (ec) return out;
  auto& res = parser.get();
  out.status = res.result_int();
  out.body = res.body();
  for (const auto& h : res) {
    out.headers[absl::AsciiStrToLower(std::string(h.name_string()))] = std::string(h.value());
  }
  return out;
}

}  // namespace

HttpResult Http(int port, const std::string& method, const std::string& target,
                const std::string& body, const Headers& headers) {
  boost::asio::io_context ioc;
  beast::tcp_stream stream(ioc);
  if (!Connect(stream, port)) return {};
  http::request<http::string_body> req{http::string_to_verb(method), target, 11};
  if (req.method() == http::verb::unknown) req.method_string(method);
  req.set(http::field::host, "127.0.0.1");
  for (const auto& [k, v] : headers) req.insert(k, v);
  if (!body.empty()) req.set(http::field::content_type, "application/json");
  req.body() = body;
  req.prepare_payload();
  beast::error_code ec;
  http::write(stream, req, ec);
  beast::flat_buffer buffer;
  return Read(stream, buffer);  // even after a write error: the server may have answered
}

HttpResult RawHttp(int port, const std::string& bytes) {
  boost::asio::io_context ioc;
  beast::tcp_stream stream(ioc);
  if (!Connect(stream, port)) return {};
  beast::error_code ec;
  boost::asio::write(stream.socket(), boost::asio::buffer(bytes), ec);
  beast::flat_buffer buffer;
  return Read(stream, buffer);
}

std::vector<HttpResult> HttpKeepAlive(int port, const std::vector<std::string>& targets,
                                      const Headers& headers) {
  boost::asio::io_context ioc;
  beast::tcp_stream stream(ioc);
  std::vector<HttpResult> out;
  if (!Connect(stream, port)) return out;
  beast::flat_buffer buffer;
  for (const std::string& target : targets) {
    http::request<http::string_body> req{http::verb::get, target, 11};
    req.set(http::field::host, "127.0.0.1");
    for (const auto& [k, v] : headers) req.insert(k, v);
    req.keep_alive(true);
    beast::error_code ec;
    http::write(stream, req, ec);
    if (ec) break;
    out.push_back(Read(stream, buffer));
  }
  return out;
}

}  // namespace testing_support
