#include "tests/gateway/gateway_fixture.h"

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "estate/api/v1/health_view.pb.h"
#include "grpcpp/generic/generic_stub.h"
#include "grpcpp/impl/codegen/proto_utils.h"
#include "services/kit/hash.h"

namespace gateway_test {

RsaKey::RsaKey() : key_(EVP_RSA_gen(2048)) {}
RsaKey::~RsaKey() { EVP_PKEY_free(key_); }

std::string RsaKey::PublicPem() const {
  BIO* bio = BIO_new(BIO_s_mem());
  PEM_write_bio_PUBKEY(bio, key_);
  char* data = nullptr;
  long n = BIO_get_mem_data(bio, &data);
  std::string pem(data, n);
  BIO_free(bio);
  return pem;
}

std::string RsaKey::Sign(const nlohmann::json& claims) const {
  const nlohmann::json header = {{"alg", "RS256"}, {"typ", "JWT"}};
  std::string input = absl::StrCat(absl::WebSafeBase64Escape(header.dump()), ".",
                                   absl::WebSafeBase64Escape(claims.dump()));
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  size_t len = 0;
  EVP_DigestSignInit(ctx, nullptr, EVP_sha256(), nullptr, key_);
  EVP_DigestSign(ctx, nullptr, &len, reinterpret_cast<const unsigned char*>(input.data()),
                 input.size());
  std::string sig(len, '\0');
  EVP_DigestSign(ctx, reinterpret_cast<unsigned char*>(sig.data()), &len,
                 reinterpret_cast<const unsigned char*>(input.data()), input.size());
  EVP_MD_CTX_free(ctx);
  sig.resize(len);
  return absl::StrCat(input, ".", absl::WebSafeBase64Escape(sig));
}

gateway::GatewayOptions TestOptions(const std::map<std::string, std::string>& backends,
                                    const RsaKey* rsa) {
  gateway::GatewayOptions o;
  o.http_addr = "127.0.0.1:0";
  o.grpc_addr = "127.0.0.1:0";
  o.backends = backends;
  o.identity_keys_dir = testing_support::TestIdentityKeysDir();
  o.excluded_packages = {};  // the Till test backend is part of this suite
  o.jwt_hs256_secret = kSecret;
  if (rsa) o.jwt_rs256_public_key_pem = rsa->PublicPem();
  o.jwt_policy.issuer = kIssuer;
  o.jwt_policy.audience = kAudience;
  gateway::ApiKey finance;
  finance.name = "finance-app";
  finance.sha256_hex = kit::Sha256Hex(kFinanceKey);
  finance.grants.id = "apikey:finance-app";
  finance.grants.roles = static_cast<uint32_t>(gateway::Role::kFinance);
  finance.grants.all_sites = true;
  o.api_keys.push_back(finance);
  o.rate_per_second = 0;
  o.http.max_body_bytes = 1 << 20;
  o.health_interval = absl::Milliseconds(200);
  o.shutdown_grace = absl::Seconds(1);
  return o;
}

kit::DbOptions* OneServiceTest::db_;
testing_support::InProcessService* OneServiceTest::service_;
gateway::Gateway* OneServiceTest::gateway_;

void OneServiceTest::StartBehindGateway(const std::string& name, const std::string& package,
                                        const std::vector<kit::Migration>& migrations,
                                        const testing_support::InProcessService::Register& add) {
  db_ = new kit::DbOptions(testing_support::TestDatabase::Shared().FreshSchema("gw" + name));
  service_ = testing_support::InProcessService::Start(name, *db_, migrations, add).release();
  ASSERT_NE(service_, nullptr);
  gateway::GatewayOptions o = TestOptions({{name, service_->address()}}, nullptr);
  o.only_packages = {package};
  auto gw = gateway::Gateway::Start(std::move(o), &kit::RealClock());
  ASSERT_TRUE(gw.ok()) << gw.status();
  gateway_ = gw->release();
  for (int i = 0; i < 100 && Http(gateway_->http_port(), "GET", "/readyz").status != 200; ++i) {
    absl::SleepFor(absl::Milliseconds(50));
  }
}

void OneServiceTest::TearDownTestSuite() {
  delete gateway_;
  delete service_;
  delete db_;
  gateway_ = nullptr;
  service_ = nullptr;
  db_ = nullptr;
}

HttpResult OneServiceTest::Call(const std::string& token, const std::string& method,
                                const std::string& target, const nlohmann::json& body) {
  return Http(gateway_->http_port(), method, target, body.is_null() ? "" : body.dump(),
              Bearer(token));
}

nlohmann::json OneServiceTest::Body(const HttpResult& r) {
  return nlohmann::json::parse(r.body, nullptr, false);
}

std::string OneServiceTest::RequestId() { return testing_support::NewRequestId(); }

GrpcHealth CheckGrpcHealth(int port, const std::string& service) {
  grpc::GenericStub stub(
      grpc::CreateChannel(absl::StrCat("127.0.0.1:", port), grpc::InsecureChannelCredentials()));
  estate::api::v1::HealthCheckRequest req;
  req.set_service(service);
  grpc::ByteBuffer request, response;
  bool own;
  grpc::SerializationTraits<estate::api::v1::HealthCheckRequest>::Serialize(req, &request, &own);
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
  grpc::Status status;
  absl::Notification done;
  stub.UnaryCall(&ctx, "/grpc.health.v1.Health/Check", grpc::StubOptions(), &request, &response,
                 [&](grpc::Status s) {
                   status = s;
                   done.Notify();
                 });
  done.WaitForNotification();
  estate::api::v1::HealthCheckResponse answer;
  if (status.ok()) {
    grpc::SerializationTraits<estate::api::v1::HealthCheckResponse>::Deserialize(&response, &answer);
  }
  return {status.error_code(), answer.status()};
}

}  // namespace gateway_test
