#ifndef ESTATE_TESTS_GATEWAY_GATEWAY_FIXTURE_H_
#define ESTATE_TESTS_GATEWAY_GATEWAY_FIXTURE_H_

#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "estate/testing/probe.grpc.pb.h"
#include "gateway/gateway.h"
#include "services/kit/jwt.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "services/kit/rpc_context.h"
#include "services/kit/server_credentials.h"
#include "services/kit/service_identity.h"
#include "nlohmann/json.hpp"
#include "tests/gateway/http_client.h"
#include "tests/support/in_process.h"
#include "tests/support/test_db.h"

struct evp_pkey_st;

namespace gateway_test {

using testing_support::Headers;
using testing_support::Http;
using testing_support::HttpResult;

inline constexpr char kSecret[] = "a-test-secret-that-is-long-enough-for-hs256";
inline constexpr char kIssuer[] = "estate";
inline constexpr char kAudience[] = "estate-api";
inline constexpr char kFinanceKey[] = "estate_test_finance_key_0123456789";

// A backend that records what reached it: how many calls, and for each the
// metadata the gateway passed on.
class TillService final : public estate::testing::Till::Service {
 public:
  std::atomic<int> calls{0};
  std::atomic<int> cancelled{0};  // slow calls that saw their cancellation
  std::atomic<int> slow_started{0};  // slow calls the backend is holding now or held

  grpc::Status ReadBalance(grpc::ServerContext* ctx, const estate::testing::TillRequest* req,
                           estate::testing::TillReply* reply) override {
    if (req->note() == "slow") {
      ++slow_started;
      for (int i = 0; i < 40 && !ctx->IsCancelled(); ++i) absl::SleepFor(absl::Milliseconds(50));
      if (ctx->IsCancelled()) {
        ++cancelled;
        return grpc::Status::CANCELLED;
      }
    }
    return Answer(ctx, *req, reply);
  }
  grpc::Status AddNote(grpc::ServerContext* ctx, const estate::testing::TillRequest* req,
                       estate::testing::TillReply* reply) override {
    return Answer(ctx, *req, reply);
  }
  grpc::Status TakePayment(grpc::ServerContext* ctx, const estate::testing::TillRequest* req,
                           estate::testing::TillReply* reply) override {
    if (req->note() == "fail-unavailable") {
      ++calls;
      // As the kit marks every failure a service answers itself.
      ctx->AddTrailingMetadata(kit::kAnsweredByServiceKey, "1");
      return grpc::Status(grpc::StatusCode::UNAVAILABLE, "till: closed");
    }
    return Answer(ctx, *req, reply);
  }

 private:
  grpc::Status Answer(grpc::ServerContext* ctx, const estate::testing::TillRequest& req,
                      estate::testing::TillReply* reply) {
    ++calls;
    reply->set_parent(req.parent());
    reply->set_amount_minor(req.amount_minor());
    reply->set_note(req.note());
    *reply->mutable_tags() = req.tags();
    reply->set_flag(req.flag());
    reply->set_deadline_ms(std::chrono::duration_cast<std::chrono::milliseconds>(
                               ctx->deadline() - std::chrono::system_clock::now())
                               .count());
    // Who the kit's identity check let in (the token is spent by then).
    reply->set_caller(kit::CallerOf(*ctx));
    reply->set_roles(kit::RolesOf(*ctx));
    for (const auto& [k, v] : ctx->client_metadata()) {
      const std::string key(k.data(), k.size()), value(v.data(), v.size());
      if (key == "x-request-id") {
        reply->set_request_id(value);
      } else {
        reply->add_metadata(key + "=" + value);
      }
    }
    return grpc::Status::OK;
  }
};

// The Till service on a fixed port, so a test can stop it and start it again
// where the gateway expects it.
class TillServer {
 public:
  explicit TillServer(int port) : port_(port) {}
  void Start() {
    // Checked like a real service's port: only the gateway's signed
    // identity gets in.
    auto verifier = kit::IdentityVerifier::Create(
        "testing", kit::ReadIdentityKey(testing_support::TestIdentityKeysDir(), "testing").value());
    ASSERT_TRUE(verifier.ok()) << verifier.status();
    auto credentials = kit::ServiceServerCredentials({}, *std::move(verifier), nullptr);
    ASSERT_TRUE(credentials.ok()) << credentials.status();
    grpc::ServerBuilder b;
    b.AddListeningPort(absl::StrCat("127.0.0.1:", port_), *credentials);
    b.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
    b.RegisterService(&service);
    grpc::EnableDefaultHealthCheckService(true);
    server_ = b.BuildAndStart();
    ASSERT_NE(server_, nullptr);
  }
  void Stop() {
    if (server_) server_->Shutdown(std::chrono::system_clock::now());
    server_.reset();
  }
  ~TillServer() { Stop(); }
  std::string address() const { return absl::StrCat("127.0.0.1:", port_); }

  TillService service;

 private:
  int port_;
  std::unique_ptr<grpc::Server> server_;
};

// Token claims for a principal; tests change fields to make bad tokens.
inline nlohmann::json Claims(const std::vector<std::string>& sites,
                             const std::vector<std::string>& roles,
                             const std::string& sub = "alice") {
  const int64_t now = absl::ToUnixSeconds(absl::Now());
  return {{"sub", sub},   {"iss", kIssuer},   {"aud", kAudience}, {"iat", now},
          {"exp", now + 600}, {"roles", roles}, {"sites", sites}};
}

inline std::string Token(const std::vector<std::string>& sites,
                         const std::vector<std::string>& roles, const std::string& sub = "alice") {
  return kit::SignHs256(Claims(sites, roles, sub), kSecret);
}

// grpc.health.v1 Check on a gRPC port, with no credentials: the call's code
// and, when OK, the answer's status (1 SERVING, 2 NOT_SERVING).
struct GrpcHealth {
  grpc::StatusCode code;
  int status;
};
GrpcHealth CheckGrpcHealth(int port, const std::string& service);

inline Headers Bearer(const std::string& token) { return {{"Authorization", "Bearer " + token}}; }

// An RSA key pair made for the test run, and RS256 signing with it.
class RsaKey {
 public:
  RsaKey();
  ~RsaKey();
  std::string PublicPem() const;
  std::string Sign(const nlohmann::json& claims) const;

 private:
  ::evp_pkey_st* key_;
};

// Options for a gateway in front of `backends`, accepting HS256 tokens, RS256
// tokens signed by `rsa` and the finance API key.
gateway::GatewayOptions TestOptions(const std::map<std::string, std::string>& backends,
                                    const RsaKey* rsa);

// One service in-process on a fresh schema, behind a gateway that serves only
// its package: a suite of HTTP tests of that service derives from this and
// calls StartBehindGateway from its SetUpTestSuite.
class OneServiceTest : public ::testing::Test {
 protected:
  static void StartBehindGateway(const std::string& name, const std::string& package,
                                 const std::vector<kit::Migration>& migrations,
                                 const testing_support::InProcessService::Register& add);
  static void TearDownTestSuite();

  // A call as the holder of `token`; `body` as JSON unless null.
  static HttpResult Call(const std::string& token, const std::string& method,
                         const std::string& target, const nlohmann::json& body = nullptr);
  static nlohmann::json Body(const HttpResult& r);
  static std::string RequestId();

  static kit::DbOptions* db_;
  static testing_support::InProcessService* service_;
  static gateway::Gateway* gateway_;
};

}  // namespace gateway_test

#endif  // ESTATE_TESTS_GATEWAY_GATEWAY_FIXTURE_H_
