#ifndef ESTATE_TESTS_GATEWAY_HTTP_CLIENT_H_
#define ESTATE_TESTS_GATEWAY_HTTP_CLIENT_H_

#include <map>
#include <string>
#include <utility>
#include <vector>

namespace testing_support {

struct HttpResult {
  int status = 0;  // 0: no answer (connection failed or closed)
  std::string body;
  std::map<std::string, std::string> headers;  // lower-case names
};

using Headers = std::vector<std::pair<std::string, std::string>>;

// One request on a new connection to 127.0.0.1:port (Boost.Beast client).
HttpResult Http(int port, const std::string& method, const std::string& target,
                const std::string& body = "", const Headers& headers = {});

// Writes `bytes` as they are (for requests no well-behaved client would
// send) and reads one reply.
HttpResult RawHttp(int port, const std::string& bytes);

// Several requests over one keep-alive connection; each result in order.
std::vector<HttpResult> HttpKeepAlive(int port, const std::vector<std::string>& targets,
                                      const Headers& headers);

}  // namespace testing_support

#endif  // ESTATE_TESTS_GATEWAY_HTTP_CLIENT_H_
