#include "gateway/http_server.h"

#include <algorithm>
#include <optional>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "boost/asio/post.hpp"
#include "boost/asio/steady_timer.hpp"
#include "boost/asio/strand.hpp"
#include "boost/beast/core.hpp"
#include "boost/beast/http.hpp"
#include "spdlog/spdlog.h"

namespace gateway {
namespace {

namespace beast = boost::beast;
namespace http = boost::beast::http;
namespace net = boost::asio;
using tcp = boost::asio::ip::tcp;

std::chrono::steady_clock::duration Chrono(absl::Duration d) {
  return std::chrono::duration_cast<std::chrono::steady_clock::duration>(
      absl::ToChronoNanoseconds(d));
}

}  // namespace

class HttpSession : public std::enable_shared_from_this<HttpSession> {
 public:
  struct Shared {
    const HttpHandler& handler;
    const HttpLimits& limits;
    std::atomic<int>& in_flight;
    std::atomic<size_t>& connections;
    std::atomic<bool>& stopping;
  };
  HttpSession(tcp::socket socket, const Shared& shared)
      : stream_(std::move(socket)),
        handler_(shared.handler),
        limits_(shared.limits),
        in_flight_(&shared.in_flight),
        connections_(&shared.connections),
        stopping_(&shared.stopping) {
    connections_->fetch_add(1);
  }
  ~HttpSession() { connections_->fetch_sub(1); }

  // From any thread: close the connection on its own strand.
  void CloseSoon() {
    net::post(stream_.get_executor(), [self = shared_from_this()] { self->Close(); });
  }

  void Start() { ReadHeader(); }

 private:
  void ReadHeader() {
    parser_.emplace();
    ApplyLimits(limits_, *parser_);
    stream_.expires_after(Chrono(limits_.idle_timeout));
    http::async_read_header(stream_, buffer_, *parser_,
                            beast::bind_front_handler(&HttpSession::OnHeader, shared_from_this()));
  }

  void OnHeader(beast::error_code ec, std::size_t) {
    if (ec) return OnError(ec);
    stream_.expires_after(Chrono(limits_.read_timeout));
    const auto& req = parser_->get();
    if (beast::iequals(req[http::field::expect], "100-continue")) {
      // Say go ahead now rather than let the client wait a second for nothing.
      auto cont = std::make_shared<http::response<http::empty_body>>(http::status::continue_,
                                                                     req.version());
      http::async_write(stream_, *cont,
                        [self = shared_from_this(), cont](beast::error_code ec, std::size_t) {
                          if (ec) return self->Close();
                          self->ReadBody();
                        });
      return;
    }
    ReadBody();
  }

  void ReadBody() {
    http::async_read(stream_, buffer_, *parser_,
                     beast::bind_front_handler(&HttpSession::OnRead, shared_from_this()));
  }

  void OnError(beast::error_code ec) {
    const int status = TransportErrorStatus(ec);
    if (status == 0) return Close();  // closed, reset or timed out: nobody to answer
    HttpRequest bad;
    bad.transport_error = status;
    Dispatch(std::move(bad), /*keep_alive=*/false);
  }

  void OnRead(beast::error_code ec, std::size_t) {
    if (ec) return OnError(ec);
    http::request<http::string_body> req = parser_->release();
    version_ = req.version();
    head_ = req.method() == http::verb::head;
    const bool keep_alive = req.keep_alive() && !stopping_->load();
    Dispatch(ToHttpRequest(std::move(req)), keep_alive);
  }

  void Dispatch(HttpRequest req, bool keep_alive) {
    stream_.expires_never();
    in_flight_->fetch_add(1);
    auto self = shared_from_this();
    handler_(std::move(req), [self, keep_alive](HttpResponse r) {
      net::post(self->stream_.get_executor(),
                [self, keep_alive, r = std::move(r)]() mutable { self->Write(std::move(r), keep_alive); });
    });
  }

  void Write(HttpResponse r, bool keep_alive) {
    res_ = {};
    res_.version(version_);
    res_.result(static_cast<unsigned>(r.status));
    res_.set(http::field::content_type, r.content_type);
    for (auto& [k, v] : r.headers) res_.set(k, v);
    keep_alive = keep_alive && !stopping_->load();
    res_.keep_alive(keep_alive);
    if (head_) {
      // The headers a GET would get, and no body.
      res_.content_length(r.body.size());
    } else {
      res_.body() = std::move(r.body);
      res_.prepare_payload();
    }
    stream_.expires_after(Chrono(limits_.read_timeout));
    http::async_write(stream_, res_,
                      [self = shared_from_this(), keep_alive](beast::error_code ec, std::size_t) {
                        self->in_flight_->fetch_sub(1);
                        if (ec) return self->Close();
                        if (!keep_alive) return self->Linger();
                        self->ReadHeader();
                      });
  }

  // After an error reply the client may still be sending; read and drop what
  // comes for a moment so that closing does not reset the connection before
  // the client has read the reply.
  void Linger() {
    beast::error_code ec;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
    stream_.expires_after(std::chrono::seconds(2));
    drain_.resize(64 << 10);
    DrainSome();
  }

  void DrainSome() {
    stream_.async_read_some(net::buffer(drain_), [self = shared_from_this()](
                                                     beast::error_code ec, std::size_t n) {
      self->drained_ += n;
      if (ec || self->drained_ > (64u << 20)) return self->Close();
      self->DrainSome();
    });
  }

  void Close() {
    beast::error_code ec;
    stream_.socket().shutdown(tcp::socket::shutdown_both, ec);
    stream_.socket().close(ec);
  }

  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  const HttpHandler& handler_;
  const HttpLimits& limits_;
  std::atomic<int>* in_flight_;
  std::atomic<size_t>* connections_;
  std::atomic<bool>* stopping_;
  bool head_ = false;
  std::optional<RequestParser> parser_;
  http::response<http::string_body> res_;
  unsigned version_ = 11;
  std::vector<char> drain_;
  size_t drained_ = 0;
};

HttpServer::HttpServer(HttpHandler handler, HttpLimits limits)
    : handler_(std::move(handler)), limits_(limits), acceptor_(ioc_) {}

HttpServer::~HttpServer() { Stop(); }

absl::StatusOr<int> HttpServer::Listen(const std::string& address) {
  const size_t colon = address.rfind(':');
  int port = 0;
  if (colon == std::string::npos || !absl::SimpleAtoi(address.substr(colon + 1), &port)) {
    return absl::InvalidArgumentError(absl::StrCat("http address ", address, ": want host:port"));
  }
  std::string host = address.substr(0, colon);
  if (host.size() > 1 && host.front() == '[') host = host.substr(1, host.size() - 2);
  beast::error_code ec;
  auto ip = net::ip::make_address(host.empty() ? "0.0.0.0" : host, ec);
  if (ec) return absl::InvalidArgumentError(absl::StrCat("http address ", address, ": ", ec.message()));
  tcp::endpoint ep(ip, static_cast<unsigned short>(port));
  acceptor_.open(ep.protocol(), ec);
  if (!ec) acceptor_.set_option(net::socket_base::reuse_address(true), ec);
  if (!ec) acceptor_.bind(ep, ec);
  if (!ec) acceptor_.listen(net::socket_base::max_listen_connections, ec);
  if (ec) return absl::UnavailableError(absl::StrCat("http ", address, ": ", ec.message()));
  return acceptor_.local_endpoint().port();
}

void HttpServer::Accept() {
  acceptor_.async_accept(net::make_strand(ioc_), [this](beast::error_code ec, tcp::socket socket) {
    if (ec == net::error::operation_aborted || !acceptor_.is_open()) return;
    if (ec) {
      // Out of descriptors, most likely: try again shortly rather than spin.
      auto timer = std::make_shared<net::steady_timer>(ioc_, std::chrono::milliseconds(50));
      timer->async_wait([this, timer](beast::error_code) { Accept(); });
      return;
    }
    if (connections_.load() >= limits_.max_connections) {
      socket.close(ec);
    } else {
      socket.set_option(tcp::no_delay(true), ec);
      auto session = std::make_shared<HttpSession>(
          std::move(socket),
          HttpSession::Shared{handler_, limits_, in_flight_, connections_, stopping_});
      {
        absl::MutexLock lock(&sessions_mu_);
        if (sessions_.size() > 2 * connections_.load() + 64) {
          sessions_.erase(std::remove_if(sessions_.begin(), sessions_.end(),
                                         [](const auto& w) { return w.expired(); }),
                          sessions_.end());
        }
        sessions_.push_back(session);
      }
      session->Start();
    }
    Accept();
  });
}

void HttpServer::Start(int threads) {
  // Without it the threads would leave run() once the acceptor is closed,
  // while replies to requests still in flight have yet to be written.
  work_.emplace(ioc_.get_executor());
  Accept();
  for (int i = 0; i < std::max(1, threads); ++i) {
    threads_.emplace_back([this] { ioc_.run(); });
  }
}

void HttpServer::Stop(absl::Duration grace) {
  if (threads_.empty()) return;
  stopping_.store(true);
  net::post(ioc_, [this] {
    beast::error_code ec;
    acceptor_.close(ec);
  });
  const absl::Time give_up = absl::Now() + grace;
  while (in_flight_.load() > 0 && absl::Now() < give_up) absl::SleepFor(absl::Milliseconds(10));
  {
    absl::MutexLock lock(&sessions_mu_);
    for (const auto& w : sessions_) {
      if (auto session = w.lock()) session->CloseSoon();
    }
    sessions_.clear();
  }
  // Let the closes run, so clients see the connection end rather than hang.
  const absl::Time closes_done = absl::Now() + absl::Milliseconds(200);
  while (connections_.load() > 0 && absl::Now() < closes_done) absl::SleepFor(absl::Milliseconds(5));
  work_.reset();
  ioc_.stop();
  for (auto& t : threads_) t.join();
  threads_.clear();
}

}  // namespace gateway
