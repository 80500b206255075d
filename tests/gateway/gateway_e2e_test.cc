// The gateway in front of a real tickets service (on the private MariaDB) and
// the Till test backend, driven over real HTTP and gRPC sockets.
#include <thread>

#include "absl/strings/match.h"
#include "absl/synchronization/notification.h"
#include "grpcpp/generic/generic_stub.h"
#include "estate/tickets/v1/tickets.grpc.pb.h"
#include "google/protobuf/util/json_util.h"
#include "google/protobuf/util/message_differencer.h"
#include "services/tickets/tickets_service.h"
#include "tests/gateway/gateway_fixture.h"
#include "tests/support/in_process.h"
#include "tests/support/test_db.h"

std::vector<kit::Migration> estate_tickets_migrations();

namespace gateway_test {
namespace {

namespace v1 = estate::tickets::v1;
using google::protobuf::util::MessageDifferencer;

class GatewayE2E : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    db_ = new kit::DbOptions(testing_support::TestDatabase::Shared().FreshSchema("gateway"));
    tickets_ = testing_support::InProcessService::Start(
                   "tickets", *db_, estate_tickets_migrations(),
                   [](kit::ServiceHost& host) { tickets::RegisterTickets(host, kit::RealClock()); })
                   .release();
    till_ = new TillServer(testing_support::FreePort());
    till_->Start();
    rsa_ = new RsaKey();
    gateway::GatewayOptions options =
        TestOptions({{"tickets", tickets_->address()}, {"testing", till_->address()}}, rsa_);
    options.only_packages = {"estate.tickets.v1", "estate.testing"};  // others tested apart
    auto gw = gateway::Gateway::Start(std::move(options), &kit::RealClock());
    ASSERT_TRUE(gw.ok()) << gw.status();
    gateway_ = gw->release();
    direct_ = v1::TicketService::NewStub(tickets_->channel()).release();
    auto channel = grpc::CreateChannel(absl::StrCat("127.0.0.1:", gateway_->grpc_port()),
                                       grpc::InsecureChannelCredentials());
    passthrough_ = v1::TicketService::NewStub(channel).release();
    till_via_gateway_ = estate::testing::Till::NewStub(channel).release();
    // Both backends are seen SERVING before the tests start.
    for (int i = 0; i < 100 && Http(gateway_->http_port(), "GET", "/readyz").status != 200; ++i) {
      absl::SleepFor(absl::Milliseconds(50));
    }
  }
  static void TearDownTestSuite() {
    delete till_via_gateway_;
    delete passthrough_;
    delete direct_;
    delete gateway_;
    delete till_;
    delete tickets_;
    delete rsa_;
    delete db_;
  }

  int port() { return gateway_->http_port(); }
  HttpResult Call(const std::string& method, const std::string& target, const std::string& token,
                  const std::string& body = "", Headers extra = {}) {
    Headers h = Bearer(token);
    h.insert(h.end(), extra.begin(), extra.end());
    return Http(port(), method, target, body, h);
  }
  // A gRPC context carrying a token, as an app calling the pass-through would.
  std::unique_ptr<grpc::ClientContext> Grpc(const std::string& token) {
    auto ctx = std::make_unique<grpc::ClientContext>();
    ctx->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    if (!token.empty()) ctx->AddMetadata("authorization", "Bearer " + token);
    return ctx;
  }
  template <typename T>
  static T FromJson(const std::string& json) {
    T out;
    auto s = google::protobuf::util::JsonStringToMessage(json, &out);
    EXPECT_TRUE(s.ok()) << json;
    return out;
  }
  v1::Ticket Direct(const std::string& name) {
    v1::GetTicketRequest req;
    req.set_name(name);
    v1::Ticket t;
    EXPECT_TRUE(direct_->GetTicket(testing_support::Context().get(), req, &t).ok());
    return t;
  }

  static kit::DbOptions* db_;
  static testing_support::InProcessService* tickets_;
  static TillServer* till_;
  static RsaKey* rsa_;
  static gateway::Gateway* gateway_;
  static v1::TicketService::Stub* direct_;
  static v1::TicketService::Stub* passthrough_;
  static estate::testing::Till::Stub* till_via_gateway_;
};
kit::DbOptions* GatewayE2E::db_;
testing_support::InProcessService* GatewayE2E::tickets_;
TillServer* GatewayE2E::till_;
RsaKey* GatewayE2E::rsa_;
gateway::Gateway* GatewayE2E::gateway_;
v1::TicketService::Stub* GatewayE2E::direct_;
v1::TicketService::Stub* GatewayE2E::passthrough_;
estate::testing::Till::Stub* GatewayE2E::till_via_gateway_;

TEST_F(GatewayE2E, TicketLifecycleOverHttpEqualsDirectCalls) {
  const std::string staff = Token({"north"}, {"staff"}, "front-desk-li");
  HttpResult created = Call("POST", "/v1/sites/north/tickets?request_id=" + testing_support::NewRequestId(),
                            staff, R"({"kind":"REPAIR","channel":"PHONE","title":"Tap leaks in 4-1-302","unit":"4-1-302"})");
  ASSERT_EQ(created.status, 200) << created.body;
  EXPECT_EQ(created.headers["content-type"], "application/json");
  v1::Ticket t = FromJson<v1::Ticket>(created.body);
  EXPECT_EQ(t.created_by(), "user:front-desk-li") << "the service records the gateway's caller";
  EXPECT_TRUE(MessageDifferencer::Equals(t, Direct(t.name())));

  HttpResult got = Call("GET", "/v1/" + t.name(), staff);
  ASSERT_EQ(got.status, 200) << got.body;
  EXPECT_TRUE(MessageDifferencer::Equals(FromJson<v1::Ticket>(got.body), Direct(t.name())));

  HttpResult listed = Call("GET", "/v1/sites/north/tickets?page_size=10&kind=REPAIR", staff);
  ASSERT_EQ(listed.status, 200) << listed.body;
  auto list = FromJson<v1::ListTicketsResponse>(listed.body);
  ASSERT_GE(list.tickets_size(), 1);
  EXPECT_EQ(list.tickets(0).name(), t.name());

  HttpResult patched = Call("PATCH", "/v1/" + t.name() + "?update_mask=title,priority&request_id=" +
                                         testing_support::NewRequestId(), staff,
                            absl::StrCat(R"({"title":"Tap and pipe leak","priority":"URGENT","etag":)",
                                         nlohmann::json(t.etag()).dump(), "}"));
  ASSERT_EQ(patched.status, 200) << patched.body;
  v1::Ticket p = FromJson<v1::Ticket>(patched.body);
  EXPECT_EQ(p.title(), "Tap and pipe leak");
  EXPECT_EQ(p.priority(), v1::URGENT);

  HttpResult elsewhere = Call("PATCH", "/v1/" + t.name() + "?update_mask=title&request_id=" +
                                           testing_support::NewRequestId(), staff,
                              absl::StrCat(R"({"name":"sites/south/tickets/1","title":"Tap, pipe","etag":)",
                                           nlohmann::json(p.etag()).dump(), "}"));
  ASSERT_EQ(elsewhere.status, 200) << elsewhere.body;
  EXPECT_EQ(FromJson<v1::Ticket>(elsewhere.body).name(), t.name())
      << "a name in the body never redirects the call to another site";
  p = FromJson<v1::Ticket>(elsewhere.body);

  HttpResult stale = Call("PATCH", "/v1/" + t.name() + "?update_mask=title&request_id=" +
                                       testing_support::NewRequestId(), staff,
                          absl::StrCat(R"({"title":"x","etag":)", nlohmann::json(t.etag()).dump(), "}"));
  EXPECT_EQ(stale.status, 409) << "a stale etag is ABORTED: " << stale.body;

  HttpResult assigned = Call("POST", "/v1/" + t.name() + ":assign", staff,
                             absl::StrCat(R"({"department":"engineering","etag":)",
                                          nlohmann::json(p.etag()).dump(), R"(,"requestId":")",
                                          testing_support::NewRequestId(), "\"}"));
  ASSERT_EQ(assigned.status, 200) << assigned.body;
  EXPECT_EQ(FromJson<v1::Ticket>(assigned.body).status(), v1::ASSIGNED);

  HttpResult illegal = Call("POST", "/v1/" + t.name() + ":close", staff,
                            absl::StrCat(R"({"etag":)", nlohmann::json(FromJson<v1::Ticket>(assigned.body).etag()).dump(),
                                         R"(,"requestId":")", testing_support::NewRequestId(), "\"}"));
  EXPECT_EQ(illegal.status, 400) << "an illegal transition is FAILED_PRECONDITION: " << illegal.body;
  EXPECT_EQ(nlohmann::json::parse(illegal.body)["code"], 9);

  HttpResult missing = Call("GET", "/v1/sites/north/tickets/999999", staff);
  EXPECT_EQ(missing.status, 404);
  EXPECT_EQ(nlohmann::json::parse(missing.body)["code"], 5);
}

TEST_F(GatewayE2E, TicketLifecycleOverGrpcPassThroughEqualsDirectCalls) {
  const std::string staff = Token({"south"}, {"staff"}, "front-desk-wu");
  v1::CreateTicketRequest create;
  create.set_parent("sites/south");
  create.set_request_id(testing_support::NewRequestId());
  create.mutable_ticket()->set_kind(v1::COMPLAINT);
  create.mutable_ticket()->set_channel(v1::VISIT);
  create.mutable_ticket()->set_title("Dogs off the lead by building 5");
  v1::Ticket t;
  auto ctx = Grpc(staff);
  ctx->AddMetadata("x-estate-caller", "user:someone-else");  // must be ignored
  grpc::Status s = passthrough_->CreateTicket(ctx.get(), create, &t);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(t.created_by(), "user:front-desk-wu");
  EXPECT_TRUE(MessageDifferencer::Equals(t, Direct(t.name())));

  v1::Ticket again;
  ASSERT_TRUE(passthrough_->CreateTicket(Grpc(staff).get(), create, &again).ok());
  EXPECT_EQ(again.name(), t.name()) << "a retried create through the gateway acts once";

  v1::GetTicketRequest get;
  get.set_name(t.name());
  v1::Ticket via;
  ASSERT_TRUE(passthrough_->GetTicket(Grpc(staff).get(), get, &via).ok());
  EXPECT_TRUE(MessageDifferencer::Equals(via, Direct(t.name())));

  v1::AssignTicketRequest assign;
  assign.set_name(t.name());
  assign.set_etag(via.etag());
  assign.set_request_id(testing_support::NewRequestId());
  assign.set_department("security");
  v1::Ticket assigned;
  ASSERT_TRUE(passthrough_->AssignTicket(Grpc(staff).get(), assign, &assigned).ok());
  EXPECT_EQ(assigned.status(), v1::ASSIGNED);

  HttpResult over_http = Call("GET", "/v1/" + t.name(), staff);
  EXPECT_TRUE(MessageDifferencer::Equals(FromJson<v1::Ticket>(over_http.body), assigned))
      << "HTTP and gRPC answer the same";

  v1::ListTicketsRequest list;
  list.set_parent("sites/south");
  v1::ListTicketsResponse page;
  ASSERT_TRUE(passthrough_->ListTickets(Grpc(staff).get(), list, &page).ok());
  EXPECT_GE(page.tickets_size(), 1);
}

TEST_F(GatewayE2E, AuthMatrix) {
  const int before = till_->service.calls.load();
  const std::string balance = "/v1/sites/north/balance";
  auto status = [&](const Headers& h, const std::string& method = "GET",
                    const std::string& target = "/v1/sites/north/balance",
                    const std::string& body = "") { return Http(port(), method, target, body, h).status; };
  auto claims = Claims({"north"}, {"viewer"});
  EXPECT_EQ(status({}), 401) << "no credentials";
  EXPECT_EQ(status({{"Authorization", "Bearer not.a.jwt"}}), 401) << "malformed";
  EXPECT_EQ(status({{"Authorization", "Bearer " + kit::SignHs256(claims, "some-other-secret-that-is-long-enough")}}), 401) << "bad signature";
  auto expired = claims;
  expired["exp"] = absl::ToUnixSeconds(absl::Now()) - 3600;
  EXPECT_EQ(status(Bearer(kit::SignHs256(expired, kSecret))), 401) << "expired";
  auto wrong_aud = claims;
  wrong_aud["aud"] = "another-api";
  EXPECT_EQ(status(Bearer(kit::SignHs256(wrong_aud, kSecret))), 401) << "wrong audience";
  EXPECT_EQ(status({{"X-Api-Key", "wrong-key"}}), 401) << "unknown API key";
  EXPECT_EQ(till_->service.calls.load(), before) << "no rejected call reached the backend";

  EXPECT_EQ(status(Bearer(kit::SignHs256(claims, kSecret))), 200) << "HS256 viewer reads";
  EXPECT_EQ(status(Bearer(rsa_->Sign(claims))), 200) << "RS256 viewer reads";
  EXPECT_EQ(status({{"X-Api-Key", kFinanceKey}}), 200) << "API key";

  const int mid = till_->service.calls.load();
  EXPECT_EQ(status(Bearer(Token({"north"}, {"staff"})), "GET", "/v1/sites/south/balance"), 403)
      << "site A token against site B";
  EXPECT_EQ(status(Bearer(Token({"north"}, {"viewer"})), "POST", "/v1/sites/north/notes", "{}"), 403)
      << "viewer writing";
  EXPECT_EQ(status(Bearer(Token({"north"}, {"staff"})), "POST", "/v1/sites/north/till/payments",
                   R"({"amountMinor": "1500"})"),
            403)
      << "staff moving money";
  EXPECT_EQ(till_->service.calls.load(), mid) << "refused before any backend was called";
  EXPECT_EQ(status(Bearer(Token({"north"}, {"finance"})), "POST", "/v1/sites/north/till/payments",
                   R"({"amountMinor": "1500"})"),
            200)
      << "finance moves money";
  EXPECT_EQ(status(Bearer(Token({"*"}, {"staff"})), "GET", "/v1/sites/anywhere/balance"), 200)
      << "an all-sites principal";

  // The same over gRPC pass-through.
  estate::testing::TillRequest req;
  req.set_parent("sites/south");
  estate::testing::TillReply reply;
  EXPECT_EQ(till_via_gateway_->ReadBalance(Grpc("").get(), req, &reply).error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(till_via_gateway_->ReadBalance(Grpc(Token({"north"}, {"staff"})).get(), req, &reply).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  req.set_parent("sites/north");
  EXPECT_EQ(till_via_gateway_->TakePayment(Grpc(Token({"north"}, {"staff"})).get(), req, &reply).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  auto expired_ctx = Grpc(kit::SignHs256(expired, kSecret));
  EXPECT_EQ(till_via_gateway_->ReadBalance(expired_ctx.get(), req, &reply).error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
  grpc::ClientContext keyed;
  keyed.AddMetadata("x-api-key", kFinanceKey);
  EXPECT_TRUE(till_via_gateway_->TakePayment(&keyed, req, &reply).ok());
  EXPECT_EQ(reply.caller(), "apikey:finance-app");
  // A method without an access rule is for admins only.
  grpc::ClientContext echo_ctx;
  echo_ctx.AddMetadata("authorization", "Bearer " + Token({"*"}, {"manager", "finance", "staff"}));
  auto echo = estate::testing::Echo::NewStub(
      grpc::CreateChannel(absl::StrCat("127.0.0.1:", gateway_->grpc_port()), grpc::InsecureChannelCredentials()));
  estate::testing::EchoMessage e;
  EXPECT_EQ(echo->Echo(&echo_ctx, e, &e).error_code(), grpc::StatusCode::PERMISSION_DENIED);
}

TEST_F(GatewayE2E, IdentityAndRequestIdArePassedOnAndSpoofsStripped) {
  const std::string token = Token({"north"}, {"staff"}, "li");
  HttpResult r = Call("POST", "/v1/sites/north/notes", token, R"({"note":"hello"})",
                      {{"X-Request-Id", "req-from-client-42"}, {"X-Estate-Caller", "user:boss"}});
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.headers["x-request-id"], "req-from-client-42");
  auto reply = FromJson<estate::testing::TillReply>(r.body);
  EXPECT_EQ(reply.caller(), "user:li");
  EXPECT_EQ(reply.roles(), "staff");
  EXPECT_EQ(reply.request_id(), "req-from-client-42");

  HttpResult generated = Call("GET", "/v1/sites/north/balance", token);
  EXPECT_EQ(generated.headers["x-request-id"].size(), 36u) << "generated when the client sends none";

  estate::testing::TillRequest req;
  req.set_parent("sites/north");
  estate::testing::TillReply out;
  auto ctx = Grpc(token);
  ctx->AddMetadata("x-estate-caller", "user:boss");
  ctx->AddMetadata("x-estate-roles", "admin");
  ctx->AddMetadata("x-request-id", "grpc-req-7");
  ctx->AddMetadata("x-app-version", "frontdesk-3.2");
  ASSERT_TRUE(till_via_gateway_->AddNote(ctx.get(), req, &out).ok());
  EXPECT_EQ(out.caller(), "user:li");
  EXPECT_EQ(out.roles(), "staff");
  EXPECT_EQ(out.request_id(), "grpc-req-7");
  EXPECT_NE(std::find(out.metadata().begin(), out.metadata().end(), "x-app-version=frontdesk-3.2"),
            out.metadata().end())
      << "other client metadata is carried over";
  for (const auto& m : out.metadata()) {
    EXPECT_FALSE(absl::StartsWith(m, "authorization")) << "credentials are not forwarded";
  }
}

TEST_F(GatewayE2E, HostileInputIsRefusedAndNeverReachesTheBackend) {
  const int before = till_->service.calls.load();
  const Headers auth = Bearer(Token({"north"}, {"finance"}));
  auto post = [&](const std::string& body) {
    return Http(port(), "POST", "/v1/sites/north/till/payments", body, auth);
  };
  EXPECT_EQ(post("{\"amountMinor\": ").status, 400) << "malformed JSON";
  EXPECT_EQ(post(std::string(100000, '[') + std::string(100000, ']')).status, 400) << "deeply nested";
  EXPECT_EQ(post("{\"note\":" + std::string(5000, '[') + std::string(5000, ']') + "}").status, 400);
  EXPECT_EQ(post(R"({"amountMinor": {"a": 1}})").status, 400) << "wrong type";
  EXPECT_EQ(post(R"({"amountMinor": "92233720368547758070"})").status, 400) << "64-bit overflow";
  EXPECT_EQ(post("{\"note\": \"\xc3\x28\"}").status, 400) << "invalid UTF-8";
  EXPECT_EQ(post(R"({"note": "\ud800"})").status, 400) << "a lone surrogate";
  EXPECT_EQ(post(R"({"parent": "sites/north", "amountMinor": "1", "extra": true})").status, 400);
  HttpResult big = post("{\"note\": \"" + std::string(10 << 20, 'x') + "\"}");
  EXPECT_EQ(big.status, 413) << "10 MiB body";
  for (const char* path : {"/v1/sites/north/../south/balance", "/v1/sites/..%2Fsouth/balance",
                           "/v1/sites/north%2F..%2Fsouth/balance", "/v1/sites/%2e%2e/balance",
                           "/v1/sites/north/balance/..", "/etc/passwd", "/v1/sites/NORTH/balance"}) {
    HttpResult r = Http(port(), "GET", path, "", auth);
    EXPECT_TRUE(r.status == 404 || r.status == 400) << path << " -> " << r.status;
  }
  EXPECT_EQ(Http(port(), "DELETE", "/v1/sites/north/balance", "", auth).status, 405);
  EXPECT_EQ(Http(port(), "BREW", "/v1/sites/north/balance", "", auth).status, 405);
  std::string flood = "GET /v1/sites/north/balance HTTP/1.1\r\nHost: x\r\n";
  for (int i = 0; i < 2000; ++i) flood += absl::StrCat("X-Flood-", i, ": ", std::string(40, 'y'), "\r\n");
  flood += "\r\n";
  EXPECT_EQ(testing_support::RawHttp(port(), flood).status, 431) << "header flood";
  EXPECT_EQ(testing_support::RawHttp(port(), "GARBAGE\r\n\r\n").status, 400);
  EXPECT_EQ(testing_support::RawHttp(port(), "GET / HTTP/1.1\r\nContent-Length: -5\r\n\r\n").status, 400);
  HttpResult long_token = Http(port(), "GET", "/v1/sites/north/balance", "",
                               {{"Authorization", "Bearer " + std::string(12000, 'a')}});
  EXPECT_EQ(long_token.status, 401);

  EXPECT_EQ(till_->service.calls.load(), before) << "the backend saw none of it";
  EXPECT_EQ(Http(port(), "GET", "/healthz").status, 200) << "the gateway stays up";
  EXPECT_EQ(post(R"({"amountMinor": "1"})").status, 200) << "and keeps serving";
}

TEST_F(GatewayE2E, HeadAnswersWithoutABodyAndWrongMethodsSayWhatIsAllowed) {
  const Headers viewer = Bearer(Token({"north"}, {"viewer"}));
  std::string pipelined = "HEAD /healthz HTTP/1.1\r\nHost: x\r\n\r\nGET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
  HttpResult head = testing_support::RawHttp(port(), pipelined);
  EXPECT_EQ(head.status, 200);
  HttpResult wrong = Http(port(), "DELETE", "/v1/sites/north/balance", "", viewer);
  EXPECT_EQ(wrong.status, 405);
  EXPECT_EQ(wrong.headers["allow"], "GET");
}

TEST_F(GatewayE2E, PassThroughRefusesBadCallsBeforeTheBackend) {
  const int before = till_->service.calls.load();
  grpc::GenericStub raw(grpc::CreateChannel(absl::StrCat("127.0.0.1:", gateway_->grpc_port()),
                                            grpc::InsecureChannelCredentials()));
  auto send = [&](const std::string& method, const std::string& bytes) {
    grpc::ClientContext ctx;
    ctx.AddMetadata("authorization", "Bearer " + Token({"north"}, {"finance"}));
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
    grpc::Slice slice(bytes);
    grpc::ByteBuffer request(&slice, 1), response;
    grpc::Status status;
    absl::Notification done;
    raw.UnaryCall(&ctx, method, grpc::StubOptions(), &request, &response, [&](grpc::Status s) {
      status = s;
      done.Notify();
    });
    done.WaitForNotification();
    return status.error_code();
  };
  EXPECT_EQ(send("/estate.testing.Till/TakePayment", "\xff\xff\xff\xff"), grpc::StatusCode::INVALID_ARGUMENT)
      << "bytes that are not a TillRequest";
  EXPECT_EQ(send("/estate.testing.Till/NoSuchMethod", ""), grpc::StatusCode::UNIMPLEMENTED);
  EXPECT_EQ(send("/nonsense", ""), grpc::StatusCode::UNIMPLEMENTED);
  estate::testing::TillRequest huge;
  huge.set_parent("sites/north");
  huge.set_note(std::string(2 << 20, 'x'));  // over the 1 MiB limit of this gateway
  EXPECT_EQ(send("/estate.testing.Till/AddNote", huge.SerializeAsString()),
            grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_EQ(till_->service.calls.load(), before) << "the backend saw none of them";
}

TEST_F(GatewayE2E, GrpcHealthAnswersProbesWithoutCredentials) {
  const GrpcHealth whole = CheckGrpcHealth(gateway_->grpc_port(), "");
  EXPECT_EQ(whole.code, grpc::StatusCode::OK);
  EXPECT_EQ(whole.status, 1) << "SERVING";
  EXPECT_EQ(CheckGrpcHealth(gateway_->grpc_port(), "gateway").status, 1);
  EXPECT_EQ(CheckGrpcHealth(gateway_->grpc_port(), "estate.nothing.v1").code,
            grpc::StatusCode::NOT_FOUND);
}

TEST_F(GatewayE2E, AClientThatGivesUpCancelsTheBackendCall) {
  estate::testing::TillRequest req;
  req.set_parent("sites/north");
  req.set_note("slow");  // the backend holds it up to 2 s, watching for cancellation
  estate::testing::TillReply reply;
  const int before = till_->service.cancelled.load();
  const int started = till_->service.slow_started.load();
  auto ctx = Grpc(Token({"north"}, {"viewer"}));
  std::thread canceller([&] {
    // Cancel once the backend holds the call, so the cancellation has
    // somewhere to go.
    for (int i = 0; i < 1000 && till_->service.slow_started.load() == started; ++i) {
      absl::SleepFor(absl::Milliseconds(2));
    }
    ctx->TryCancel();
  });
  EXPECT_EQ(till_via_gateway_->ReadBalance(ctx.get(), req, &reply).error_code(),
            grpc::StatusCode::CANCELLED);
  canceller.join();
  for (int i = 0; i < 100 && till_->service.cancelled.load() == before; ++i) {
    absl::SleepFor(absl::Milliseconds(20));
  }
  EXPECT_EQ(till_->service.cancelled.load(), before + 1)
      << "the gateway passed the cancellation on instead of letting the backend work on";
}

TEST_F(GatewayE2E, KeepAliveServesManyRequestsOnOneConnection) {
  auto results = testing_support::HttpKeepAlive(
      port(), {"/v1/sites/north/balance", "/v1/sites/north/balance?note=2", "/healthz",
               "/v1/sites/north/balance?note=3"},
      Bearer(Token({"north"}, {"viewer"})));
  ASSERT_EQ(results.size(), 4u);
  for (const auto& r : results) EXPECT_EQ(r.status, 200) << r.body;
}

TEST_F(GatewayE2E, ClientDeadlineIsCarriedOver) {
  const std::string token = Token({"north"}, {"viewer"});
  auto left = [&](Headers h) {
    HttpResult r = Call("GET", "/v1/sites/north/balance", token, "", h);
    EXPECT_EQ(r.status, 200) << r.body;
    return FromJson<estate::testing::TillReply>(r.body).deadline_ms();
  };
  // gRPC rounds a deadline up as it puts it on the wire: allow 250 ms for that.
  const int64_t by_default = left({});
  EXPECT_GT(by_default, 5000) << "the gateway's default deadline (10 s) applies";
  EXPECT_LE(by_default, 10250);
  const int64_t shortened = left({{"Grpc-Timeout", "1500m"}});
  EXPECT_GT(shortened, 0);
  EXPECT_LE(shortened, 1750) << "a client may shorten it";
  EXPECT_LE(left({{"Grpc-Timeout", "1H"}}), 10250) << "but not lengthen it";
  EXPECT_EQ(Call("GET", "/v1/sites/north/balance", token, "", {{"Grpc-Timeout", "soon"}}).status, 400);

  estate::testing::TillRequest req;
  req.set_parent("sites/north");
  estate::testing::TillReply reply;
  auto ctx = Grpc(token);
  ctx->set_deadline(std::chrono::system_clock::now() + std::chrono::milliseconds(1200));
  ASSERT_TRUE(till_via_gateway_->ReadBalance(ctx.get(), req, &reply).ok());
  EXPECT_GT(reply.deadline_ms(), 0);
  EXPECT_LE(reply.deadline_ms(), 1450) << "gRPC pass-through carries the deadline over";
}

TEST_F(GatewayE2E, OperationsEndpoints) {
  EXPECT_EQ(Http(port(), "GET", "/healthz").status, 200);
  HttpResult ready = Http(port(), "GET", "/readyz");
  EXPECT_EQ(ready.status, 200) << ready.body;
  EXPECT_EQ(nlohmann::json::parse(ready.body)["backends"]["tickets"], "SERVING");

  Call("GET", "/v1/sites/north/balance", Token({"north"}, {"viewer"}));
  HttpResult metrics = Http(port(), "GET", "/metrics");
  ASSERT_EQ(metrics.status, 200);
  EXPECT_TRUE(absl::StrContains(metrics.body,
                                "http_requests_total{code=\"200\",method=\"GET\",route=\"/v1/{parent=sites/*}/balance\"}"))
      << metrics.body.substr(0, 2000);
  EXPECT_TRUE(absl::StrContains(metrics.body, "estate_gateway_upstream_requests_total{backend=\"testing\",grpc_code=\"OK\"}"));
  EXPECT_TRUE(absl::StrContains(metrics.body, "estate_gateway_rejections_total{reason=\"auth\"}"));
  EXPECT_TRUE(absl::StrContains(metrics.body, "grpc_server_handled_total"));
  int code = 0;
  std::string complaints = testing_support::PromtoolCheck(metrics.body, &code);
  EXPECT_EQ(code, 0) << complaints;

  HttpResult openapi = Http(port(), "GET", "/openapi.json");
  ASSERT_EQ(openapi.status, 200);
  auto doc = nlohmann::json::parse(openapi.body);
  EXPECT_EQ(doc["openapi"], "3.0.3");
  EXPECT_TRUE(doc["paths"].contains("/v1/sites/{siteId}/tickets"));
  EXPECT_TRUE(doc["paths"]["/v1/sites/{siteId}/tickets"].contains("post"));
}

}  // namespace
}  // namespace gateway_test
