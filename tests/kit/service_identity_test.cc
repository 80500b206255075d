// Service identity: a service's port believes only a caller that a token
// signed with its key names. Anything that reaches the port without one —
// a pod sending x-estate-roles: manager, a token for another service, an old
// token — is refused before a handler runs.
#include "services/kit/service_identity.h"

#include <atomic>
#include <fstream>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "estate/testing/probe.grpc.pb.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "prometheus/text_serializer.h"
#include "services/kit/jwt.h"
#include "services/kit/rpc_context.h"
#include "services/kit/server_credentials.h"
#include "tests/support/in_process.h"

namespace kit {
namespace {

constexpr char kTicketsKey[] = "tickets-key-0123456789abcdef0123456789";
constexpr char kBillingKey[] = "billing-key-0123456789abcdef0123456789";

// Answers with the caller and roles the kit let in; counts what it served.
class Till final : public estate::testing::Till::Service {
 public:
  std::atomic<int> served{0};
  grpc::Status ReadBalance(grpc::ServerContext* ctx, const estate::testing::TillRequest*,
                           estate::testing::TillReply* reply) override {
    ++served;
    reply->set_caller(CallerOf(*ctx));
    reply->set_roles(RolesOf(*ctx));
    return grpc::Status::OK;
  }
};

class ServiceIdentityTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto verifier = IdentityVerifier::Create("tickets", kTicketsKey);
    ASSERT_TRUE(verifier.ok()) << verifier.status();
    auto credentials = ServiceServerCredentials({}, *std::move(verifier), &registry_);
    ASSERT_TRUE(credentials.ok()) << credentials.status();
    grpc::EnableDefaultHealthCheckService(true);
    grpc::ServerBuilder builder;
    int port = 0;
    builder.AddListeningPort("127.0.0.1:0", *credentials, &port);
    builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
    builder.RegisterService(&till_);
    server_ = builder.BuildAndStart();
    ASSERT_NE(server_, nullptr);
    channel_ = grpc::CreateChannel(absl::StrCat("127.0.0.1:", port),
                                   grpc::InsecureChannelCredentials());
    stub_ = estate::testing::Till::NewStub(channel_);
  }
  void TearDown() override { server_->Shutdown(); }

  // Calls ReadBalance with `token` (none if empty) and extra metadata.
  grpc::Status Call(const std::string& token, estate::testing::TillReply* reply,
                    std::vector<std::pair<std::string, std::string>> metadata = {}) {
    grpc::ClientContext ctx;
    ctx.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(5)));
    if (!token.empty()) ctx.AddMetadata(kIdentityMetadataKey, token);
    for (const auto& [k, v] : metadata) ctx.AddMetadata(k, v);
    estate::testing::TillRequest req;
    return stub_->ReadBalance(&ctx, req, reply);
  }

  std::string Refusals(const std::string& reason) {
    const std::string text = prometheus::TextSerializer().Serialize(registry_.Collect());
    const std::string prefix = absl::StrCat("estate_identity_refusals_total{reason=\"", reason,
                                            "\"} ");
    const size_t at = text.find(prefix);
    return at == std::string::npos ? "absent"
                                   : text.substr(at + prefix.size(),
                                                 text.find('\n', at) - at - prefix.size());
  }

  prometheus::Registry registry_;
  Till till_;
  std::unique_ptr<grpc::Server> server_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<estate::testing::Till::Stub> stub_;
  IdentitySigner gateway_{"gateway", {{"tickets", kTicketsKey}, {"billing", kBillingKey}}};
};

TEST_F(ServiceIdentityTest, ForgedCallerHeadersStraightToThePortAreRefused) {
  estate::testing::TillReply reply;
  const grpc::Status s =
      Call("", &reply, {{"x-estate-caller", "user:boss"}, {"x-estate-roles", "manager,admin"}});
  EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAUTHENTICATED) << s.error_message();
  EXPECT_NE(s.error_message().find("no service identity"), std::string::npos)
      << s.error_message();
  EXPECT_EQ(till_.served, 0) << "no handler may see an unproven caller";
  EXPECT_EQ(Refusals("missing"), "1");
}

TEST_F(ServiceIdentityTest, TheSignedCallerIsBelievedAndHeadersBesideItAreNot) {
  auto token = gateway_.Token("tickets", "user:li", "staff", absl::Now());
  ASSERT_TRUE(token.ok()) << token.status();
  estate::testing::TillReply reply;
  const grpc::Status s =
      Call(*token, &reply, {{"x-estate-caller", "user:boss"}, {"x-estate-roles", "manager"}});
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(reply.caller(), "user:li");
  EXPECT_EQ(reply.roles(), "staff");
}

TEST_F(ServiceIdentityTest, EachCallOnAConnectionIsItsOwnCaller) {
  // One connection (the gateway's) carries many users' calls; what one call
  // proved must never be read for the next.
  for (const auto& [caller, roles] : {std::pair{"user:alice", "staff"},
                                      std::pair{"apikey:finance-app", "finance"},
                                      std::pair{"user:alice", "staff"}}) {
    auto token = gateway_.Token("tickets", caller, roles, absl::Now());
    ASSERT_TRUE(token.ok());
    estate::testing::TillReply reply;
    ASSERT_TRUE(Call(*token, &reply).ok());
    EXPECT_EQ(reply.caller(), caller);
    EXPECT_EQ(reply.roles(), roles);
  }
}

TEST_F(ServiceIdentityTest, ASecondTokenBesideAValidOneIsRefused) {
  auto token = gateway_.Token("tickets", "user:li", "staff", absl::Now());
  ASSERT_TRUE(token.ok());
  estate::testing::TillReply reply;
  const grpc::Status s = Call(*token, &reply, {{kIdentityMetadataKey, "x.y.z"}});
  EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(till_.served, 0);
}

TEST_F(ServiceIdentityTest, AnExpiredTokenIsRefused) {
  auto token = gateway_.Token("tickets", "user:li", "staff",
                              absl::Now() - kIdentityTokenLifetime - absl::Seconds(10));
  ASSERT_TRUE(token.ok());
  estate::testing::TillReply reply;
  const grpc::Status s = Call(*token, &reply);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_NE(s.error_message().find("expired"), std::string::npos) << s.error_message();
  EXPECT_EQ(till_.served, 0);
  EXPECT_EQ(Refusals("expired"), "1");
}

TEST_F(ServiceIdentityTest, ATokenForAnotherServiceIsRefused) {
  // Signed correctly, for billing: a service that may call billing cannot
  // replay that token at tickets.
  auto token = gateway_.Token("billing", "user:li", "finance", absl::Now());
  ASSERT_TRUE(token.ok());
  estate::testing::TillReply reply;
  EXPECT_EQ(Call(*token, &reply).error_code(), grpc::StatusCode::UNAUTHENTICATED);
  // Addressed to tickets but signed with billing's key (a holder of billing's
  // key only): the signature does not verify.
  const std::string forged = SignHs256({{"aud", "tickets"},
                                        {"sub", "user:boss"},
                                        {"roles", "manager"},
                                        {"iat", absl::ToUnixSeconds(absl::Now())},
                                        {"exp", absl::ToUnixSeconds(absl::Now()) + 30}},
                                       kBillingKey);
  EXPECT_EQ(Call(forged, &reply).error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(till_.served, 0);
  // Both fail on the signature: tickets checks with its own key first.
  EXPECT_EQ(Refusals("signature"), "2");
}

TEST_F(ServiceIdentityTest, ALongLivedTokenIsNotAServiceToken) {
  // The gateway's users hold day-long tokens; even signed with the right key,
  // one that lives longer than a service token is refused.
  const int64_t now = absl::ToUnixSeconds(absl::Now());
  const std::string token = SignHs256(
      {{"aud", "tickets"}, {"sub", "user:li"}, {"iat", now}, {"exp", now + 86400}}, kTicketsKey);
  estate::testing::TillReply reply;
  EXPECT_EQ(Call(token, &reply).error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(till_.served, 0);
}

TEST_F(ServiceIdentityTest, HealthNeedsNoIdentity) {
  // Kubelet's probes and the relays' health checks carry no token.
  EXPECT_EQ(testing_support::HealthStatus(*channel_), 1);
}

TEST(IdentitySignerTest, ASignerWithoutTheKeyOfATargetSaysSo) {
  IdentitySigner cleaning("cleaning", {{"tickets", kTicketsKey}});
  auto token = cleaning.Token("billing", "service:cleaning", "", absl::Now());
  EXPECT_EQ(token.status().code(), absl::StatusCode::kFailedPrecondition);
}

TEST(IdentityKeysTest, AShortOrMissingKeyFileIsRefusedByName) {
  const std::string dir = testing::TempDir();
  std::ofstream(dir + "/short.key") << "too-short\n";
  auto short_key = ReadIdentityKey(dir, "short");
  EXPECT_EQ(short_key.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(short_key.status().message().find("short.key"), std::string::npos);
  EXPECT_FALSE(ReadIdentityKey(dir, "absent").ok());
}

}  // namespace
}  // namespace kit
