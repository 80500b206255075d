// The gateway's pure parts: path templates, the rule table, tokens, the rate
// limiter, transcoding and status mapping. No sockets, no database.
#include <set>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "services/kit/hash.h"
#include "estate/testing/probe.pb.h"
#include "gateway/authenticator.h"
#include "gateway/catalog.h"
#include "gateway/grpc_timeout.h"
#include "gateway/openapi.h"
#include "gateway/pipeline.h"
#include "gateway/principal.h"
#include "gateway/rate_limiter.h"
#include "gateway/transcode.h"
#include "gateway/upstream_call.h"
#include "gtest/gtest.h"
#include "services/kit/clock.h"
#include "tests/gateway/gateway_fixture.h"

namespace gateway {
namespace {

using gateway_test::Claims;
using gateway_test::kSecret;

TEST(RetryBackoff, OnlyUnavailableOnlySafeCallsAtMostThreeAttempts) {
  const absl::Duration plenty = absl::Seconds(10);
  EXPECT_FALSE(RetryBackoff(grpc::StatusCode::UNAVAILABLE, false, 1, plenty, 0.5))
      << "a write without a request_id could act twice";
  for (auto code : {grpc::StatusCode::DEADLINE_EXCEEDED, grpc::StatusCode::INTERNAL,
                    grpc::StatusCode::ABORTED, grpc::StatusCode::OK}) {
    EXPECT_FALSE(RetryBackoff(code, true, 1, plenty, 0.5)) << code << ": the backend may have acted";
  }
  auto first = RetryBackoff(grpc::StatusCode::UNAVAILABLE, true, 1, plenty, 0.99);
  auto second = RetryBackoff(grpc::StatusCode::UNAVAILABLE, true, 2, plenty, 0.99);
  ASSERT_TRUE(first && second);
  EXPECT_GT(*first, absl::ZeroDuration());
  EXPECT_GT(*second, *first) << "backs off further each time";
  EXPECT_FALSE(RetryBackoff(grpc::StatusCode::UNAVAILABLE, true, 3, plenty, 0.5));
}

TEST(RetryBackoff, JitterSpreadsRetriesAndTheDeadlineBoundsThem) {
  auto low = RetryBackoff(grpc::StatusCode::UNAVAILABLE, true, 1, absl::Seconds(1), 0.0);
  auto high = RetryBackoff(grpc::StatusCode::UNAVAILABLE, true, 1, absl::Seconds(1), 0.99);
  ASSERT_TRUE(low && high);
  EXPECT_LT(*low, *high) << "calls failing together do not all come back together";
  EXPECT_FALSE(RetryBackoff(grpc::StatusCode::UNAVAILABLE, true, 1, *high, 0.99))
      << "a retry that could not start before the deadline is not made";
  EXPECT_TRUE(RetryBackoff(grpc::StatusCode::UNAVAILABLE, true, 1, *high + absl::Milliseconds(1), 0.99));
}

TEST(PathTemplate, MatchesAipNamesAndCapturesThem) {
  auto t = PathTemplate::Parse("/v1/{name=sites/*/tickets/*}:close");
  ASSERT_TRUE(t.ok()) << t.status();
  PathTemplate::Bindings b;
  ASSERT_TRUE(t->Match("/v1/sites/north/tickets/17:close", &b));
  ASSERT_EQ(b.size(), 1u);
  EXPECT_EQ(b[0].first, "name");
  EXPECT_EQ(b[0].second, "sites/north/tickets/17");
  EXPECT_FALSE(t->Match("/v1/sites/north/tickets/17", &b));
  EXPECT_FALSE(t->Match("/v1/sites/north/tickets/17:open", &b));
  EXPECT_FALSE(t->Match("/v1/sites/north/surveys/17:close", &b));
}

TEST(PathTemplate, ParentTemplateAndNestedField) {
  auto t = PathTemplate::Parse("/v1/{parent=sites/*}/tickets");
  ASSERT_TRUE(t.ok());
  PathTemplate::Bindings b;
  ASSERT_TRUE(t->Match("/v1/sites/a-1/tickets", &b));
  EXPECT_EQ(b[0].second, "sites/a-1");
  EXPECT_FALSE(t->Match("/v1/sites/a-1/tickets/", &b));
  EXPECT_FALSE(t->Match("/v1/sites//tickets", &b));
  auto u = PathTemplate::Parse("/v1/{ticket.name=sites/*/tickets/*}");
  ASSERT_TRUE(u.ok());
  ASSERT_TRUE(u->Match("/v1/sites/a/tickets/3", &b));
  EXPECT_EQ(b[0].first, "ticket.name");
}

TEST(PathTemplate, TraversalAndEncodedSeparatorsNeverMatch) {
  auto t = PathTemplate::Parse("/v1/{name=sites/*/tickets/*}");
  ASSERT_TRUE(t.ok());
  PathTemplate::Bindings b;
  for (const char* path : {"/v1/sites/a/tickets/..", "/v1/sites/../tickets/1",
                           "/v1/sites/a/tickets/..%2F..%2Fetc", "/v1/sites/a%2Fb/tickets/1",
                           "/v1/sites/a/tickets/%2e%2e", "/v1/sites/a/tickets/1%00",
                           "/v1/sites/a/tickets/%ff", "/v1/sites/a/tickets/%zz",
                           "/v1/sites/a/tickets/1%3Aclose"}) {
    EXPECT_FALSE(t->Match(path, &b)) << path;
  }
  ASSERT_TRUE(t->Match("/v1/sites/a/tickets/x%20y", &b));
  EXPECT_EQ(b[0].second, "sites/a/tickets/x y");
}

TEST(PathTemplate, RejectsBrokenTemplates) {
  for (const char* bad : {"v1/x", "/v1/{name=sites/*", "/v1/**/x", "/v1//x", "/v1/x:"}) {
    EXPECT_FALSE(PathTemplate::Parse(bad).ok()) << bad;
  }
}

TEST(PathTemplate, OpenApiPathSpellsOutIds) {
  std::vector<std::string> params;
  auto t = PathTemplate::Parse("/v1/{parent=sites/*/tickets/*}/returnVisits");
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->OpenApiPath(&params), "/v1/sites/{siteId}/tickets/{ticketId}/returnVisits");
  EXPECT_EQ(params, (std::vector<std::string>{"siteId", "ticketId"}));
}

class CatalogTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto c = Catalog::FromLinkedProtos("estate.", {});
    ASSERT_TRUE(c.ok()) << c.status();
    catalog_ = *std::move(c);
  }
  std::unique_ptr<Catalog> catalog_;
};

TEST_F(CatalogTest, EveryMethodOfTheSuiteDeclaresWhoMayCallIt) {
  // The test doubles' Echo is deliberately undeclared (admin only); every real
  // service method must say READ, WRITE, MONEY or MANAGE.
  int checked = 0;
  for (const auto& m : catalog_->methods()) {
    if (m->descriptor->service()->full_name() == "estate.testing.Echo") continue;
    EXPECT_NE(m->access, estate::api::v1::ACCESS_UNSPECIFIED) << m->path;
    EXPECT_FALSE(m->resource_field.empty()) << m->path << " names no resource to authorize on";
    ++checked;
  }
  EXPECT_GE(checked, 21);
}

TEST_F(CatalogTest, RoutesComeFromTheAnnotations) {
  const Route* route = nullptr;
  PathTemplate::Bindings b;
  EXPECT_EQ(catalog_->MatchRoute("GET", "/v1/sites/a/tickets/9", &route, &b),
            Catalog::MatchResult::kMatched);
  EXPECT_EQ(route->method->path, "/estate.tickets.v1.TicketService/GetTicket");
  EXPECT_EQ(catalog_->MatchRoute("POST", "/v1/sites/a/tickets/9:close", &route, &b),
            Catalog::MatchResult::kMatched);
  EXPECT_EQ(route->method->descriptor->name(), "CloseTicket");
  EXPECT_EQ(catalog_->MatchRoute("DELETE", "/v1/sites/a/tickets/9", &route, &b),
            Catalog::MatchResult::kWrongMethod);
  EXPECT_EQ(catalog_->MatchRoute("GET", "/v1/sites/a/nothing", &route, &b),
            Catalog::MatchResult::kNoPath);
  EXPECT_EQ(catalog_->FindMethod("/estate.tickets.v1.TicketService/ListTickets")->backend,
            "tickets");
}

TEST_F(CatalogTest, OpenApiHasEveryRouteOnce) {
  nlohmann::json doc = nlohmann::json::parse(OpenApiJson(*catalog_));
  int operations = 0;
  std::set<std::string> ids;
  for (const auto& [path, ops] : doc["paths"].items()) {
    for (const auto& [verb, op] : ops.items()) {
      ++operations;
      ids.insert(op["operationId"].get<std::string>());
    }
  }
  EXPECT_EQ(operations, static_cast<int>(catalog_->routes().size()));
  EXPECT_TRUE(ids.count("TicketService_CloseTicket"));
  EXPECT_TRUE(doc["paths"].contains("/v1/sites/{siteId}/tickets/{ticketId}:close"));
  EXPECT_TRUE(doc["components"]["schemas"].contains("estate.tickets.v1.Ticket"));
}

TEST(RuleTable, RolesAgainstAccess) {
  using estate::api::v1::Access;
  auto bits = [](Role r) { return static_cast<uint32_t>(r); };
  EXPECT_TRUE(RolesAllow(bits(Role::kViewer), estate::api::v1::READ));
  EXPECT_FALSE(RolesAllow(bits(Role::kViewer), estate::api::v1::WRITE));
  EXPECT_TRUE(RolesAllow(bits(Role::kStaff), estate::api::v1::WRITE));
  EXPECT_FALSE(RolesAllow(bits(Role::kStaff), estate::api::v1::MONEY));
  EXPECT_FALSE(RolesAllow(bits(Role::kStaff), estate::api::v1::MANAGE));
  EXPECT_TRUE(RolesAllow(bits(Role::kFinance), estate::api::v1::MONEY));
  EXPECT_FALSE(RolesAllow(bits(Role::kManager), estate::api::v1::MONEY));
  EXPECT_TRUE(RolesAllow(bits(Role::kManager), estate::api::v1::MANAGE));
  EXPECT_FALSE(RolesAllow(bits(Role::kManager), estate::api::v1::ACCESS_UNSPECIFIED));
  EXPECT_TRUE(RolesAllow(bits(Role::kAdmin), estate::api::v1::ACCESS_UNSPECIFIED));
  EXPECT_FALSE(RolesAllow(0, estate::api::v1::READ));
}

class JwtTest : public ::testing::Test {
 protected:
  void SetUp() override {
    kit::JwtPolicy policy{"estate", "estate-api", absl::Seconds(30)};
    auto v = kit::JwtVerifier::Create(kSecret, rsa_.PublicPem(), policy);
    ASSERT_TRUE(v.ok()) << v.status();
    verifier_ = *std::move(v);
  }
  absl::Status Check(const std::string& token) { return verifier_->Verify(token, absl::Now()).status(); }
  static gateway_test::RsaKey rsa_;
  std::unique_ptr<kit::JwtVerifier> verifier_;
};
gateway_test::RsaKey JwtTest::rsa_;

TEST_F(JwtTest, AcceptsGoodHs256AndRs256) {
  EXPECT_TRUE(Check(kit::SignHs256(Claims({"a"}, {"staff"}), kSecret)).ok());
  EXPECT_TRUE(Check(rsa_.Sign(Claims({"a"}, {"staff"}))).ok());
}

TEST_F(JwtTest, RefusesWhatDoesNotCheckOut) {
  auto claims = Claims({"a"}, {"staff"});
  auto expect = [&](const std::string& token, const char* why) {
    absl::Status s = Check(token);
    EXPECT_EQ(s.code(), absl::StatusCode::kUnauthenticated) << why;
    EXPECT_TRUE(absl::StrContains(s.message(), why)) << s.message();
  };
  expect(kit::SignHs256(claims, "another-secret-of-sufficient-length-123"), "bad signature");
  auto expired = claims;
  expired["exp"] = absl::ToUnixSeconds(absl::Now()) - 120;
  expect(kit::SignHs256(expired, kSecret), "expired");
  auto early = claims;
  early["nbf"] = absl::ToUnixSeconds(absl::Now()) + 3600;
  expect(kit::SignHs256(early, kSecret), "not valid yet");
  auto aud = claims;
  aud["aud"] = "someone-else";
  expect(kit::SignHs256(aud, kSecret), "wrong audience");
  auto iss = claims;
  iss["iss"] = "evil";
  expect(kit::SignHs256(iss, kSecret), "wrong issuer");
  auto no_exp = claims;
  no_exp.erase("exp");
  expect(kit::SignHs256(no_exp, kSecret), "exp");
  expect("not-a-token", "malformed");
  expect("a.b.c", "malformed");
  // alg "none" and an RS256 token whose signature is an HMAC: refused.
  std::string unsigned_token = absl::StrCat(absl::WebSafeBase64Escape(R"({"alg":"none"})"), ".",
                                            absl::WebSafeBase64Escape(claims.dump()), ".AAAA");
  expect(unsigned_token, "not accepted");
  std::string good = rsa_.Sign(claims);
  expect(good.substr(0, good.rfind('.')) + ".AAAA", "bad signature");
}

TEST_F(JwtTest, AudienceMayBeAList) {
  auto claims = Claims({"a"}, {"staff"});
  claims["aud"] = {"other", "estate-api"};
  EXPECT_TRUE(Check(kit::SignHs256(claims, kSecret)).ok());
}

TEST(Authenticator, ApiKeysAndPrincipals) {
  kit::FakeClock clock(absl::Now());
  auto keys = ParseApiKeys(absl::StrCat(R"({"api_keys":[{"name":"finance-app","sha256":")",
                                        kit::Sha256Hex("k-123"),
                                        R"(","roles":["finance"],"sites":["*"]}]})"));
  ASSERT_TRUE(keys.ok()) << keys.status();
  auto v = kit::JwtVerifier::Create(kSecret, "", {"estate", "estate-api", absl::Seconds(30)});
  ASSERT_TRUE(v.ok());
  Authenticator auth(*std::move(v), *keys, &clock);
  auto p = auth.Authenticate("", "k-123");
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(p->id, "apikey:finance-app");
  EXPECT_TRUE(p->all_sites);
  EXPECT_TRUE(p->Has(Role::kFinance));
  EXPECT_TRUE(auth.Authenticate("ApiKey k-123", "").ok());
  EXPECT_EQ(auth.Authenticate("", "k-124").status().code(), absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(auth.Authenticate("", "").status().code(), absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(auth.Authenticate("Basic dXNlcjpwdw==", "").status().code(),
            absl::StatusCode::kUnauthenticated);
  auto user = auth.Authenticate("Bearer " + kit::SignHs256(Claims({"north", "south"}, {"viewer"}, "bob"), kSecret), "");
  ASSERT_TRUE(user.ok()) << user.status();
  EXPECT_EQ(user->id, "user:bob");
  EXPECT_TRUE(user->MaySee("south"));
  EXPECT_FALSE(user->MaySee("east"));
  for (const char* sub : {"jos\xc3\xa9", "a\nb", "two words", ""}) {
    EXPECT_EQ(auth.Authenticate("Bearer " + kit::SignHs256(Claims({"north"}, {"viewer"}, sub), kSecret), "")
                  .status()
                  .code(),
              absl::StatusCode::kUnauthenticated)
        << "a subject that cannot travel as metadata: " << sub;
  }
  auto bad_role = Claims({"north"}, {"overlord"});
  EXPECT_EQ(auth.Authenticate("Bearer " + kit::SignHs256(bad_role, kSecret), "").status().code(),
            absl::StatusCode::kUnauthenticated);
  EXPECT_FALSE(ParseApiKeys(R"({"api_keys":[{"name":"x","sha256":"abc","roles":[],"sites":[]}]})").ok());
}

TEST(RateLimiter, BucketPerPrincipalRefillsWithTime) {
  kit::FakeClock clock(absl::FromUnixSeconds(1'800'000'000));
  RateLimiter limiter(2, 3, &clock);
  for (int i = 0; i < 3; ++i) EXPECT_EQ(limiter.Acquire("user:a"), absl::ZeroDuration()) << i;
  absl::Duration wait = limiter.Acquire("user:a");
  EXPECT_GT(wait, absl::ZeroDuration());
  EXPECT_LE(wait, absl::Milliseconds(500));
  EXPECT_EQ(limiter.Acquire("user:b"), absl::ZeroDuration()) << "buckets are per principal";
  clock.Advance(absl::Milliseconds(500));
  EXPECT_EQ(limiter.Acquire("user:a"), absl::ZeroDuration());
  EXPECT_GT(limiter.Acquire("user:a"), absl::ZeroDuration());
  RateLimiter off(0, 0, &clock);
  for (int i = 0; i < 1000; ++i) ASSERT_EQ(off.Acquire("user:a"), absl::ZeroDuration());
}

class TranscodeTest : public CatalogTest {
 protected:
  absl::Status Build(const std::string& verb, const std::string& path, const std::string& query,
                     const std::string& body, google::protobuf::Message* out) {
    const Route* route = nullptr;
    PathTemplate::Bindings b;
    if (catalog_->MatchRoute(verb, path, &route, &b) != Catalog::MatchResult::kMatched) {
      return absl::NotFoundError(path);
    }
    return BuildRequest(*route, b, query, body, out);
  }
};

TEST_F(TranscodeTest, PathQueryAndBodyFillTheRequest) {
  estate::testing::TillRequest req;
  ASSERT_TRUE(Build("GET", "/v1/sites/north/balance",
                    "amount_minor=-5&note=a%20b+c&tags=x&tags=y&flag=true", "", &req)
                  .ok());
  EXPECT_EQ(req.parent(), "sites/north");
  EXPECT_EQ(req.amount_minor(), -5);
  EXPECT_EQ(req.note(), "a b c");
  EXPECT_EQ(req.tags_size(), 2);
  EXPECT_TRUE(req.flag());
  estate::testing::TillRequest post;
  ASSERT_TRUE(Build("POST", "/v1/sites/north/till/payments", "",
                    R"({"amountMinor": "9007199254740993", "note": "rent", "parent": "sites/evil"})",
                    &post)
                  .ok());
  EXPECT_EQ(post.amount_minor(), 9007199254740993LL) << "64-bit amounts survive JSON exactly";
  EXPECT_EQ(post.parent(), "sites/north") << "the path wins over the body";
}

TEST_F(TranscodeTest, BadInputNamesTheField) {
  estate::testing::TillRequest req;
  struct Case {
    const char *verb, *path, *query, *body, *field;
  } cases[] = {
      {"GET", "/v1/sites/n/balance", "amount_minor=abc", "", "amount_minor"},
      {"GET", "/v1/sites/n/balance", "amount_minor=99999999999999999999", "", "amount_minor"},
      {"GET", "/v1/sites/n/balance", "flag=maybe", "", "flag"},
      {"GET", "/v1/sites/n/balance", "nope=1", "", "nope"},
      {"GET", "/v1/sites/n/balance", "parent=sites/x", "", "parent"},
      {"GET", "/v1/sites/n/balance", "note=%ff", "", "query"},
      {"GET", "/v1/sites/n/balance", "", "{}", "body"},
      {"POST", "/v1/sites/n/till/payments", "", "{\"amountMinor\": \"x\"}", "body"},
      {"POST", "/v1/sites/n/till/payments", "", "{\"amountMinor\": 1e40}", "body"},
      {"POST", "/v1/sites/n/till/payments", "", "{\"unknown\": 1}", "body"},
      {"POST", "/v1/sites/n/till/payments", "", "{\"note\": 5}", "body"},
      {"POST", "/v1/sites/n/till/payments", "", "{\"note\": \"a\"", "body"},
      {"POST", "/v1/sites/n/till/payments", "", "\xff\xfe", "body"},
      {"POST", "/v1/sites/n/till/payments", "", "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[", "body"},
      {"POST", "/v1/sites/n/till/payments", "note=x", "{}", "note"},
      {"GET", "/v1/sites/n/balance", "note=a&note=b", "", "note"},
  };
  for (const Case& c : cases) {
    req.Clear();
    absl::Status s = Build(c.verb, c.path, c.query, c.body, &req);
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << c.query << c.body;
    EXPECT_TRUE(absl::StartsWith(s.message(), c.field)) << s.message();
  }
}

TEST(StatusMapping, AsGrpcGatewayMapsThem) {
  EXPECT_EQ(HttpStatusFor(0), 200);
  EXPECT_EQ(HttpStatusFor(3), 400);
  EXPECT_EQ(HttpStatusFor(4), 504);
  EXPECT_EQ(HttpStatusFor(5), 404);
  EXPECT_EQ(HttpStatusFor(6), 409);
  EXPECT_EQ(HttpStatusFor(7), 403);
  EXPECT_EQ(HttpStatusFor(8), 429);
  EXPECT_EQ(HttpStatusFor(9), 400);
  EXPECT_EQ(HttpStatusFor(10), 409);
  EXPECT_EQ(HttpStatusFor(14), 503);
  EXPECT_EQ(HttpStatusFor(16), 401);
  EXPECT_EQ(HttpStatusFor(99), 500);
  auto body = nlohmann::json::parse(ErrorJson(5, "ticket: not found \xff"));
  EXPECT_EQ(body["code"], 5);
  EXPECT_TRUE(body["details"].is_array());
}

TEST(GrpcTimeout, ParsesTheWireFormat) {
  EXPECT_EQ(ParseGrpcTimeout("500m"), absl::Milliseconds(500));
  EXPECT_EQ(ParseGrpcTimeout("2S"), absl::Seconds(2));
  EXPECT_EQ(ParseGrpcTimeout("1H"), absl::Hours(1));
  EXPECT_FALSE(ParseGrpcTimeout("5").has_value());
  EXPECT_FALSE(ParseGrpcTimeout("-1S").has_value());
  EXPECT_FALSE(ParseGrpcTimeout("1x").has_value());
  // Found by fuzz/grpc_timeout_fuzz: a sign or a space before the digits.
  EXPECT_FALSE(ParseGrpcTimeout("+5S").has_value());
  EXPECT_FALSE(ParseGrpcTimeout(" 5S").has_value());
  EXPECT_EQ(AcceptOrMakeRequestId("abc-123"), "abc-123");
  EXPECT_EQ(AcceptOrMakeRequestId("bad id\n").size(), 36u);
  EXPECT_EQ(AcceptOrMakeRequestId(std::string(200, 'a')).size(), 36u);
}

}  // namespace
}  // namespace gateway
