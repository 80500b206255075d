// Faults around the gateway: a backend that goes away and comes back, calls
// that may or may not be retried, and clients over their rate limit. Only
// the Till test backend; no database.
#include <thread>

#include "tests/gateway/gateway_fixture.h"
#include "tests/support/in_process.h"
#include "tests/support/test_db.h"

namespace gateway_test {
namespace {

class GatewayFaults : public ::testing::Test {
 protected:
  void SetUp() override {
    till_ = std::make_unique<TillServer>(testing_support::FreePort());
    till_->Start();
  }
  void StartGateway(gateway::GatewayOptions o, const kit::Clock* clock = &kit::RealClock()) {
    o.only_packages = {"estate.testing"};
    auto gw = gateway::Gateway::Start(std::move(o), clock);
    ASSERT_TRUE(gw.ok()) << gw.status();
    gateway_ = *std::move(gw);
  }
  gateway::GatewayOptions Options() { return TestOptions({{"testing", till_->address()}}, nullptr); }
  int port() { return gateway_->http_port(); }
  // Polls /readyz until it answers `want` (up to 10 s); the last status.
  int AwaitReady(int want) {
    int got = 0;
    for (int i = 0; i < 200; ++i) {
      got = Http(port(), "GET", "/readyz").status;
      if (got == want) break;
      absl::SleepFor(absl::Milliseconds(50));
    }
    return got;
  }
  // Waits until the backend holds a slow call (it holds it for 2 s).
  bool AwaitSlowCall() {
    for (int i = 0; i < 500 && till_->service.slow_started.load() == 0; ++i) {
      absl::SleepFor(absl::Milliseconds(2));
    }
    return till_->service.slow_started.load() > 0;
  }
  HttpResult Pay(const std::string& note, const std::string& request_id = "") {
    nlohmann::json body = {{"amountMinor", "100"}, {"note", note}};
    if (!request_id.empty()) body["requestId"] = request_id;
    return Http(port(), "POST", "/v1/sites/north/till/payments", body.dump(),
                Bearer(Token({"north"}, {"finance"})));
  }

  std::unique_ptr<TillServer> till_;
  std::unique_ptr<gateway::Gateway> gateway_;
};

TEST_F(GatewayFaults, BackendDownIs503AndNotReadyUntilItReturns) {
  StartGateway(Options());
  ASSERT_EQ(AwaitReady(200), 200);
  const Headers viewer = Bearer(Token({"north"}, {"viewer"}));
  ASSERT_EQ(Http(port(), "GET", "/v1/sites/north/balance", "", viewer).status, 200);

  till_->Stop();
  // UNAVAILABLE at once, not a wait for the 10 s deadline (that would be 504).
  HttpResult down = Http(port(), "GET", "/v1/sites/north/balance", "", viewer);
  EXPECT_EQ(down.status, 503) << down.body;
  EXPECT_EQ(nlohmann::json::parse(down.body)["code"], 14);
  // gRPC's own message names the backend's address; clients get a plain one.
  EXPECT_EQ(nlohmann::json::parse(down.body)["message"],
            "the testing service is unavailable; try again later");
  EXPECT_EQ(down.body.find("127.0.0.1"), std::string::npos) << down.body;
  {
    auto stub = estate::testing::Till::NewStub(grpc::CreateChannel(
        absl::StrCat("127.0.0.1:", gateway_->grpc_port()), grpc::InsecureChannelCredentials()));
    estate::testing::TillRequest req;
    req.set_parent("sites/north");
    estate::testing::TillReply reply;
    grpc::ClientContext ctx;
    ctx.AddMetadata("authorization", viewer[0].second);
    const grpc::Status s = stub->ReadBalance(&ctx, req, &reply);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAVAILABLE);
    EXPECT_EQ(s.error_message(), "the testing service is unavailable; try again later")
        << "the pass-through hides the address too";
  }
  EXPECT_EQ(AwaitReady(503), 503);
  EXPECT_EQ(nlohmann::json::parse(Http(port(), "GET", "/readyz").body)["backends"]["testing"],
            "NOT_SERVING");
  EXPECT_EQ(Http(port(), "GET", "/healthz").status, 200) << "the gateway itself is alive";

  till_->Start();
  EXPECT_EQ(AwaitReady(200), 200) << "recovers without a restart";
  EXPECT_EQ(Http(port(), "GET", "/v1/sites/north/balance", "", viewer).status, 200);
}

TEST_F(GatewayFaults, OnlyCallsSafeToRepeatAreRetried) {
  StartGateway(Options());
  ASSERT_EQ(AwaitReady(200), 200);
  int before = till_->service.calls.load();
  const HttpResult refused = Pay("fail-unavailable");
  EXPECT_EQ(refused.status, 503);
  EXPECT_EQ(nlohmann::json::parse(refused.body)["message"], "till: closed")
      << "a service's own message reaches the client unchanged";
  EXPECT_EQ(till_->service.calls.load() - before, 1)
      << "a payment without a request_id is never sent twice";
  before = till_->service.calls.load();
  EXPECT_EQ(Pay("fail-unavailable", testing_support::NewRequestId()).status, 503);
  EXPECT_EQ(till_->service.calls.load() - before, 3)
      << "with a request_id the backend dedupes, so UNAVAILABLE is retried (3 attempts)";
}

TEST_F(GatewayFaults, PassThroughRetriesOnlyWhatIsSafeAndNeverPastTheDeadline) {
  StartGateway(Options());
  ASSERT_EQ(AwaitReady(200), 200);
  auto stub = estate::testing::Till::NewStub(grpc::CreateChannel(
      absl::StrCat("127.0.0.1:", gateway_->grpc_port()), grpc::InsecureChannelCredentials()));
  auto pay = [&](const std::string& request_id, absl::Duration deadline) {
    estate::testing::TillRequest req;
    req.set_parent("sites/north");
    req.set_amount_minor(100);
    req.set_note("fail-unavailable");
    req.set_request_id(request_id);
    estate::testing::TillReply reply;
    grpc::ClientContext ctx;
    ctx.AddMetadata("authorization", Bearer(Token({"north"}, {"finance"}))[0].second);
    ctx.set_deadline(absl::ToChronoTime(absl::Now() + deadline));
    const int before = till_->service.calls.load();
    const grpc::StatusCode code = stub->TakePayment(&ctx, req, &reply).error_code();
    EXPECT_EQ(code, grpc::StatusCode::UNAVAILABLE);
    return till_->service.calls.load() - before;
  };
  EXPECT_EQ(pay("", absl::Seconds(5)), 1) << "a payment without a request_id is never sent twice";
  EXPECT_EQ(pay(testing_support::NewRequestId(), absl::Seconds(5)), 3)
      << "with a request_id the backend dedupes, so UNAVAILABLE is retried (3 attempts)";
  EXPECT_EQ(pay(testing_support::NewRequestId(), absl::Milliseconds(20)), 1)
      << "no retry whose backoff would outlast the caller's deadline";
}

TEST_F(GatewayFaults, RateLimitPerPrincipalWithRetryAfter) {
  kit::FakeClock clock(absl::Now());
  auto o = Options();
  o.rate_per_second = 1;
  o.rate_burst = 2;
  StartGateway(o, &clock);
  const Headers alice = Bearer(Token({"north"}, {"viewer"}, "alice"));
  const Headers bob = Bearer(Token({"north"}, {"viewer"}, "bob"));
  EXPECT_EQ(Http(port(), "GET", "/v1/sites/north/balance", "", alice).status, 200);
  EXPECT_EQ(Http(port(), "GET", "/v1/sites/north/balance", "", alice).status, 200);
  const int before = till_->service.calls.load();
  HttpResult limited = Http(port(), "GET", "/v1/sites/north/balance", "", alice);
  EXPECT_EQ(limited.status, 429);
  EXPECT_EQ(limited.headers["retry-after"], "1");
  EXPECT_EQ(till_->service.calls.load(), before);
  EXPECT_EQ(Http(port(), "GET", "/v1/sites/north/balance", "", bob).status, 200)
      << "another principal has its own bucket";

  estate::testing::TillRequest req;
  req.set_parent("sites/north");
  estate::testing::TillReply reply;
  auto stub = estate::testing::Till::NewStub(grpc::CreateChannel(
      absl::StrCat("127.0.0.1:", gateway_->grpc_port()), grpc::InsecureChannelCredentials()));
  grpc::ClientContext ctx;
  ctx.AddMetadata("authorization", alice[0].second);
  EXPECT_EQ(stub->ReadBalance(&ctx, req, &reply).error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);

  clock.Advance(absl::Seconds(1));
  EXPECT_EQ(Http(port(), "GET", "/v1/sites/north/balance", "", alice).status, 200)
      << "a token comes back after a second";
  EXPECT_TRUE(absl::StrContains(Http(port(), "GET", "/metrics").body,
                                "estate_gateway_rejections_total{reason=\"rate\"} 2"));
}

TEST_F(GatewayFaults, ShutdownDrainsAndCancelsWhatABackendStillHolds) {
  auto o = Options();
  o.shutdown_drain = absl::Milliseconds(400);
  o.shutdown_grace = absl::Milliseconds(300);
  StartGateway(o);
  ASSERT_EQ(AwaitReady(200), 200);
  const int http_port = port();
  HttpResult slow;
  std::thread client([&] {
    slow = Http(http_port, "GET", "/v1/sites/north/balance?note=slow", "",
                Bearer(Token({"north"}, {"viewer"})));
  });
  ASSERT_TRUE(AwaitSlowCall()) << "the slow call never reached the backend";
  std::thread stopper([&] { gateway_->Shutdown(); });
  // Within the 400 ms drain, readiness turns 503 while the call is held.
  int ready = 200;
  const absl::Time until = absl::Now() + absl::Milliseconds(350);
  while (ready != 503 && absl::Now() < until) ready = Http(http_port, "GET", "/readyz").status;
  EXPECT_EQ(ready, 503) << "draining: load balancers stop sending";
  EXPECT_EQ(CheckGrpcHealth(gateway_->grpc_port(), "").status, 2)
      << "gRPC health says NOT_SERVING while draining";
  stopper.join();
  client.join();
  // The backend would have held the call for 2 s; shutdown did not wait for
  // it past the grace period, and the client got an answer or a closed
  // connection, never a hang.
  EXPECT_TRUE(slow.status == 0 || slow.status >= 500) << slow.status << " " << slow.body;
  gateway_.reset();
}

TEST_F(GatewayFaults, ShutdownLetsCallsInFlightFinishWithinTheGrace) {
  auto o = Options();
  o.shutdown_grace = absl::Seconds(5);
  StartGateway(o);
  ASSERT_EQ(AwaitReady(200), 200);
  HttpResult slow;
  const int http_port = port();
  std::thread client([&] {
    slow = Http(http_port, "GET", "/v1/sites/north/balance?note=slow", "",
                Bearer(Token({"north"}, {"viewer"})));
  });
  ASSERT_TRUE(AwaitSlowCall()) << "the slow call never reached the backend";
  gateway_->Shutdown();
  client.join();
  EXPECT_EQ(slow.status, 200) << "the 2 s call in flight got its answer: " << slow.body;
  EXPECT_EQ(slow.headers["connection"], "close") << "and the connection is not kept";
  EXPECT_EQ(Http(http_port, "GET", "/healthz").status, 0) << "new connections are refused";
}

}  // namespace
}  // namespace gateway_test
