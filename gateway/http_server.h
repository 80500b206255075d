#ifndef ESTATE_GATEWAY_HTTP_SERVER_H_
#define ESTATE_GATEWAY_HTTP_SERVER_H_

#include <atomic>
#include <functional>
#include <optional>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "boost/asio/executor_work_guard.hpp"
#include "boost/asio/io_context.hpp"
#include "boost/asio/ip/tcp.hpp"
#include "gateway/http_request.h"

namespace gateway {

struct HttpResponse {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
};

using HttpReply = std::function<void(HttpResponse)>;
class HttpSession;  // one connection; http_server.cc
// Handles one request; may reply from any thread, exactly once.
using HttpHandler = std::function<void(HttpRequest, HttpReply)>;

// HTTP/1.1 with keep-alive on Boost.Beast: reads requests, hands them to the
// handler, writes its replies. One request at a time per connection.
class HttpServer {
 public:
  HttpServer(HttpHandler handler, HttpLimits limits);
  ~HttpServer();

  // "127.0.0.1:8080" (port 0 picks one); returns the bound port.
  absl::StatusOr<int> Listen(const std::string& address);
  void Start(int threads);
  // Stops accepting, lets requests in flight get their replies (up to
  // `grace`), then closes every connection and joins the threads.
  void Stop(absl::Duration grace = absl::ZeroDuration());

 private:
  void Accept();

  HttpHandler handler_;
  HttpLimits limits_;
  boost::asio::io_context ioc_;
  std::optional<boost::asio::executor_work_guard<boost::asio::io_context::executor_type>> work_;
  boost::asio::ip::tcp::acceptor acceptor_;
  std::vector<std::thread> threads_;
  // Requests read and not yet answered; open connections; set by Stop().
  std::atomic<int> in_flight_{0};
  std::atomic<size_t> connections_{0};
  std::atomic<bool> stopping_{false};
  // Connections, so Stop() can close those still open.
  absl::Mutex sessions_mu_;
  std::vector<std::weak_ptr<HttpSession>> sessions_ ABSL_GUARDED_BY(sessions_mu_);
};

}  // namespace gateway

#endif  // ESTATE_GATEWAY_HTTP_SERVER_H_
