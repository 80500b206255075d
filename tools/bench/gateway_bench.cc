// GetTicket three ways, in one run on one machine: straight to the tickets
// service over gRPC, through the gateway's gRPC pass-through, and through the
// gateway's HTTP/JSON, each at concurrency 8 and 64 with one connection per
// client. Prints throughput, p50/p99 and the ratios the gateway issue sets
// (pass-through >= 0.8 x direct, HTTP >= 0.6 x direct).
// Then the same three ways in front of a plain gRPC echo (the test Till's
// ReadBalance, answered at once), the setup of the reference:
// Debian's Go grpc-gateway keeps about 0.27 of direct echo throughput at 8
// in flight and 0.31 at 64.
// Run it with tools/bench-gateway, which starts a private MariaDB.
#include <algorithm>
#include <cstdio>
#include <memory>
#include <random>
#include <thread>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "boost/asio/ip/tcp.hpp"
#include "boost/beast/core.hpp"
#include "boost/beast/http.hpp"
#include "estate/testing/probe.grpc.pb.h"
#include "estate/tickets/v1/tickets.grpc.pb.h"
#include "gateway/gateway.h"
#include "services/kit/jwt.h"
#include "grpcpp/grpcpp.h"
#include "services/kit/clock.h"
#include "services/kit/host.h"
#include "services/kit/uuid.h"
#include "services/tickets/tickets_service.h"
#include "spdlog/spdlog.h"
#include "tools/bench/bench_util.h"

ABSL_FLAG(int, http_threads, 2, "The gateway's HTTP threads.");
ABSL_FLAG(int, grpc_threads, 0, "The gateway's completion-queue threads (0: its default).");
ABSL_FLAG(int, channels, 2, "The gateway's connections per backend (of each kind).");
ABSL_FLAG(int, rounds, 3,
          "Rounds of the three paths, interleaved; each cell reports its median round, so "
          "a noisy second on a small machine does not decide a ratio.");
ABSL_FLAG(std::string, paths, "direct,passthrough,http", "Which paths to run (for profiling one).");

std::vector<kit::Migration> estate_tickets_migrations();

namespace {

namespace v1 = ::estate::tickets::v1;
namespace beast = boost::beast;
namespace http = boost::beast::http;
using tcp = boost::asio::ip::tcp;

constexpr char kSecret[] = "bench-secret-bench-secret-bench-secret-0123";

// One keep-alive HTTP connection, as one client app holds.
class HttpClient {
 public:
  explicit HttpClient(int port) : port_(port), stream_(ioc_) {}
  bool Get(const std::string& target, const std::string& auth) {
    beast::error_code ec;
    if (!connected_) {
      stream_.socket().connect(
          tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"), static_cast<unsigned short>(port_)), ec);
      if (ec) return false;
      stream_.socket().set_option(tcp::no_delay(true), ec);
      connected_ = true;
    }
    http::request<http::empty_body> req{http::verb::get, target, 11};
    req.set(http::field::host, "127.0.0.1");
    req.set(http::field::authorization, auth);
    http::write(stream_, req, ec);
    http::response<http::string_body> res;
    if (!ec) http::read(stream_, buffer_, res, ec);
    if (ec) {
      stream_.socket().close(ec);
      connected_ = false;
      return false;
    }
    return res.result_int() == 200;
  }

 private:
  int port_;
  boost::asio::io_context ioc_;
  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  bool connected_ = false;
};

// A plain gRPC echo: what the cheapest backend costs.
class EchoTill final : public estate::testing::Till::Service {
  grpc::Status ReadBalance(grpc::ServerContext*, const estate::testing::TillRequest* req,
                           estate::testing::TillReply* reply) override {
    reply->set_parent(req->parent());
    reply->set_note(req->note());
    return grpc::Status::OK;
  }
};

std::shared_ptr<grpc::Channel> Channel(const std::string& addr, int i) {
  grpc::ChannelArguments args;
  args.SetInt("estate.bench.channel", i);  // distinct args: no shared connection
  return grpc::CreateCustomChannel(addr, grpc::InsecureChannelCredentials(), args);
}

}  // namespace

int main(int argc, char** argv) {
  const bench::Args args = bench::ParseArgs(argc, argv, "tools/bench-gateway", "8,64");
  const int port = args.db_port;
  const std::vector<int>& levels = args.levels;
  const int max_threads = args.max_threads;
  const double seconds = args.seconds;

  std::unique_ptr<kit::ServiceHost> host = bench::StartTickets(bench::FreshSchema(port, "gwbench"));
  const std::string tickets_addr = absl::StrCat("127.0.0.1:", host->grpc_port());

  gateway::GatewayOptions go;
  go.http_addr = "127.0.0.1:0";
  go.grpc_addr = "127.0.0.1:0";
  go.identity_keys_dir = bench::KeysDir();
  EchoTill echo;
  int echo_port = 0;
  grpc::ServerBuilder eb;
  eb.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &echo_port);
  eb.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
  eb.RegisterService(&echo);
  std::unique_ptr<grpc::Server> echo_server = eb.BuildAndStart();
  const std::string echo_addr = absl::StrCat("127.0.0.1:", echo_port);

  go.backends = {{"tickets", tickets_addr}, {"testing", echo_addr}};
  go.only_packages = {"estate.tickets.v1", "estate.testing"};  // the backends this bench runs
  go.excluded_packages = {};
  go.jwt_hs256_secret = kSecret;
  go.jwt_policy = {"estate", "estate-api", absl::Seconds(30)};
  go.rate_per_second = 0;
  go.http_threads = absl::GetFlag(FLAGS_http_threads);
  go.channels_per_backend = absl::GetFlag(FLAGS_channels);
  go.grpc_threads = absl::GetFlag(FLAGS_grpc_threads);
  auto gw = gateway::Gateway::Start(go, &kit::RealClock());
  if (!gw.ok()) {
    fprintf(stderr, "gateway did not start: %s\n", gw.status().ToString().c_str());
    return 1;
  }
  const std::string gw_grpc = absl::StrCat("127.0.0.1:", (*gw)->grpc_port());
  const int64_t now = absl::ToUnixSeconds(absl::Now());
  const std::string bearer =
      "Bearer " + kit::SignHs256({{"sub", "bench"}, {"iss", "estate"}, {"aud", "estate-api"},
                                      {"exp", now + 3600}, {"roles", {"viewer"}}, {"sites", {"bench"}}},
                                     kSecret);

  std::vector<std::unique_ptr<v1::TicketService::Stub>> direct, via;
  std::vector<std::unique_ptr<estate::testing::Till::Stub>> echo_direct, echo_via;
  std::vector<std::unique_ptr<HttpClient>> https;
  for (int i = 0; i < max_threads; ++i) {
    direct.push_back(v1::TicketService::NewStub(Channel(tickets_addr, i)));
    via.push_back(v1::TicketService::NewStub(Channel(gw_grpc, i)));
    echo_direct.push_back(estate::testing::Till::NewStub(Channel(echo_addr, i)));
    echo_via.push_back(estate::testing::Till::NewStub(Channel(gw_grpc, i)));
    https.push_back(std::make_unique<HttpClient>((*gw)->http_port()));
  }
  std::vector<std::string> names;
  for (int i = 0; i < 2000; ++i) {
    v1::CreateTicketRequest req;
    req.set_parent("sites/bench");
    req.set_request_id(kit::NewUuid());
    req.mutable_ticket()->set_kind(v1::REPAIR);
    req.mutable_ticket()->set_channel(v1::PHONE);
    req.mutable_ticket()->set_title("Bathroom floor tile tilted");
    req.mutable_ticket()->set_unit("5-506");
    req.mutable_ticket()->set_reporter_name("Mr. Wang");
    req.mutable_ticket()->set_description(
        "The floor tile next to the shower is loose and water seeps under it.");
    grpc::ClientContext ctx;
    v1::Ticket t;
    if (!direct[0]->CreateTicket(&ctx, req, &t).ok()) return 1;
    names.push_back(t.name());
  }
  std::vector<std::mt19937_64> rngs;
  for (int i = 0; i < max_threads; ++i) rngs.emplace_back(7 + i);
  auto grpc_get = [&](std::vector<std::unique_ptr<v1::TicketService::Stub>>& stubs, bool auth) {
    return [&stubs, &rngs, &names, &bearer, auth](int t) {
      grpc::ClientContext ctx;
      ctx.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(10)));
      if (auth) ctx.AddMetadata("authorization", bearer);
      v1::GetTicketRequest req;
      req.set_name(names[rngs[t]() % names.size()]);
      v1::Ticket out;
      return stubs[t]->GetTicket(&ctx, req, &out).ok();
    };
  };
  auto http_get = [&](int t) {
    return https[t]->Get("/v1/" + names[rngs[t]() % names.size()], bearer);
  };
  auto echo_grpc = [&](std::vector<std::unique_ptr<estate::testing::Till::Stub>>& stubs, bool auth) {
    return [&stubs, &bearer, auth](int t) {
      grpc::ClientContext ctx;
      ctx.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(10)));
      if (auth) ctx.AddMetadata("authorization", bearer);
      estate::testing::TillRequest req;
      req.set_parent("sites/bench");
      req.set_note("Bathroom floor tile tilted");
      estate::testing::TillReply out;
      return stubs[t]->ReadBalance(&ctx, req, &out).ok();
    };
  };
  auto echo_http = [&](int t) {
    return https[t]->Get("/v1/sites/bench/balance?note=Bathroom%20floor%20tile%20tilted", bearer);
  };

  printf("estate gateway benchmark: GetTicket, %d cores, %.1f s per cell, %d rounds, gateway HTTP threads %d\n\n",
         static_cast<int>(std::thread::hardware_concurrency()), seconds, absl::GetFlag(FLAGS_rounds), go.http_threads);
  printf("%-10s %-26s %5s %10s %9s %9s %7s\n", "backend", "path (median of rounds)", "conc", "ops/s",
         "p50 ms", "p99 ms", "errors");
  const std::string paths = absl::GetFlag(FLAGS_paths);
  const int rounds = std::max(1, absl::GetFlag(FLAGS_rounds));
  auto median = [](std::vector<bench::Result> v) {
    if (v.empty()) return bench::Result{};
    std::sort(v.begin(), v.end(), [](const auto& a, const auto& b) { return a.ops_per_s < b.ops_per_s; });
    return v[v.size() / 2];
  };
  struct Row { bench::Result direct, via, http; int c; };
  // Each backend at each level: the three paths in interleaved rounds.
  auto run = [&](const char* backend, const std::function<bool(int)>& d_op,
                 const std::function<bool(int)>& v_op, const std::function<bool(int)>& h_op) {
    std::vector<Row> rows;
    for (int c : levels) {
      std::vector<bench::Result> d, v, h;
      for (int round = 0; round < rounds; ++round) {
        if (absl::StrContains(paths, "direct")) d.push_back(bench::Measure(c, seconds, d_op));
        if (absl::StrContains(paths, "passthrough")) v.push_back(bench::Measure(c, seconds, v_op));
        if (absl::StrContains(paths, "http")) h.push_back(bench::Measure(c, seconds, h_op));
      }
      Row r{median(d), median(v), median(h), c};
      for (auto [label, res] : {std::pair<const char*, bench::Result*>{"direct gRPC", &r.direct},
                                {"gateway gRPC pass-through", &r.via},
                                {"gateway HTTP/JSON", &r.http}}) {
        printf("%-10s %-26s %5d %10.0f %9s %9s %7lld\n", backend, label, c, res->ops_per_s,
               bench::Ms(res->p50).c_str(), bench::Ms(res->p99).c_str(),
               static_cast<long long>(res->errors));
      }
      rows.push_back(r);
    }
    return rows;
  };
  const std::vector<Row> tickets_rows = run("GetTicket", grpc_get(direct, false), grpc_get(via, true), http_get);
  const std::vector<Row> echo_rows =
      run("echo", echo_grpc(echo_direct, false), echo_grpc(echo_via, true), echo_http);

  printf("\nGetTicket %5s %22s %22s\n", "conc", "pass-through/direct", "HTTP/direct");
  for (const Row& r : tickets_rows) {
    printf("          %5d %15.2f (>=0.8) %15.2f (>=0.6)\n", r.c, r.via.ops_per_s / r.direct.ops_per_s,
           r.http.ops_per_s / r.direct.ops_per_s);
  }
  printf("\necho      %5s %22s %22s   Go grpc-gateway's HTTP/direct (the issue)\n", "conc",
         "pass-through/direct", "HTTP/direct");
  for (const Row& r : echo_rows) {
    const char* reference = r.c == 8 ? "0.27" : r.c == 64 ? "0.31" : "-";
    printf("          %5d %22.2f %22.2f   %s\n", r.c, r.via.ops_per_s / r.direct.ops_per_s,
           r.http.ops_per_s / r.direct.ops_per_s, reference);
  }
  (*gw)->Shutdown();
  echo_server->Shutdown();
  host->Shutdown();
  return 0;
}
