#include "tests/support/in_process.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <random>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "estate/api/v1/health_view.pb.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/impl/codegen/client_unary_call.h"
#include "grpcpp/impl/codegen/proto_utils.h"
#include "grpcpp/security/credentials.h"
#include "gtest/gtest.h"
#include "services/kit/jwt.h"
#include "services/kit/rpc_context.h"
#include "services/kit/service_identity.h"
#include "services/kit/uuid.h"

namespace testing_support {

std::unique_ptr<InProcessService> InProcessService::Start(
    const std::string& name, const kit::DbOptions& db,
    const std::vector<kit::Migration>& migrations, const Register& add,
    absl::Duration health_interval, const std::string& grpc_addr) {
  kit::HostOptions o;
  o.name = name;
  o.db = db;
  o.server.grpc_addr = grpc_addr;
  o.server.metrics_addr = "127.0.0.1:0";
  o.server.health_interval = health_interval;
  o.server.shutdown_grace = absl::Seconds(2);
  o.server.identity_keys_dir = TestIdentityKeysDir();
  o.startup_db_wait = absl::Seconds(10);
  absl::StatusOr<std::unique_ptr<kit::ServiceHost>> host = kit::ServiceHost::Create(o, migrations);
  if (!host.ok()) {
    ADD_FAILURE() << "service did not start: " << host.status();
    return nullptr;
  }
  auto svc = std::unique_ptr<InProcessService>(new InProcessService());
  svc->host_ = std::move(*host);
  add(*svc->host_);
  if (absl::Status s = svc->host_->Start(); !s.ok()) {
    ADD_FAILURE() << "service did not start: " << s;
    return nullptr;
  }
  svc->channel_ = grpc::CreateChannel(svc->address(), grpc::InsecureChannelCredentials());
  return svc;
}

InProcessService::~InProcessService() { Shutdown(); }

void InProcessService::Shutdown() {
  if (host_ != nullptr) host_->Shutdown();
}

std::string InProcessService::address() const {
  return absl::StrCat("127.0.0.1:", host_->grpc_port());
}

namespace {

constexpr char kTestIdentityKey[] = "estate-test-identity-key-0123456789abcdef";
const char* const kTestAudiences[] = {"tickets", "billing",  "archives",
                                      "cleaning", "handover", "testing"};

}  // namespace

const std::string& TestIdentityKeysDir() {
  static const std::string* dir = [] {
    char tmpl[] = "/tmp/estate-test-identity-XXXXXX";
    auto* out = new std::string(mkdtemp(tmpl));
    for (const char* name : kTestAudiences) {
      std::ofstream(absl::StrCat(*out, "/", name, ".key")) << kTestIdentityKey << "\n";
    }
    return out;
  }();
  return *dir;
}

std::string TestIdentityToken(const std::string& caller, const std::string& roles,
                              absl::Time now) {
  const int64_t iat = absl::ToUnixSeconds(now);
  nlohmann::json audiences = nlohmann::json::array();
  for (const char* name : kTestAudiences) audiences.push_back(name);
  return kit::SignHs256({{"iss", "test"},
                         {"aud", audiences},
                         {"sub", caller},
                         {"roles", roles},
                         {"iat", iat},
                         {"exp", iat + absl::ToInt64Seconds(kit::kIdentityTokenLifetime)}},
                        kTestIdentityKey);
}

std::unique_ptr<grpc::ClientContext> Context(const std::string& caller,
                                             absl::Duration timeout, const std::string& roles) {
  auto ctx = std::make_unique<grpc::ClientContext>();
  ctx->set_deadline(absl::ToChronoTime(absl::Now() + timeout));
  if (!caller.empty()) {
    ctx->AddMetadata(kit::kIdentityMetadataKey, TestIdentityToken(caller, roles, absl::Now()));
  }
  return ctx;
}

int HealthStatus(grpc::Channel& channel, const std::string& service) {
  estate::api::v1::HealthCheckRequest req;
  req.set_service(service);
  estate::api::v1::HealthCheckResponse resp;
  grpc::ClientContext ctx;
  ctx.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(2)));
  const grpc::internal::RpcMethod method("/grpc.health.v1.Health/Check",
                                         grpc::internal::RpcMethod::NORMAL_RPC);
  const grpc::Status s =
      grpc::internal::BlockingUnaryCall(&channel, method, &ctx, req, &resp);
  return s.ok() ? resp.status() : -static_cast<int>(s.error_code());
}

std::string HttpGet(int port, const std::string& path) {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  inet_pton(AF_INET, "127.0.0.1", &addr.sin_addr);
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    close(fd);
    return "";
  }
  const std::string req =
      absl::StrCat("GET ", path, " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
  if (write(fd, req.data(), req.size()) != static_cast<ssize_t>(req.size())) {
    close(fd);
    return "";
  }
  std::string resp;
  char buf[65536];
  for (ssize_t n; (n = read(fd, buf, sizeof(buf))) > 0;) resp.append(buf, n);
  close(fd);
  const size_t body = resp.find("\r\n\r\n");
  if (body == std::string::npos) return "";
  std::string out = resp.substr(body + 4);
  // civetweb answers /metrics with chunked encoding; undo it.
  if (resp.substr(0, body).find("chunked") != std::string::npos) {
    std::string plain;
    size_t pos = 0;
    while (pos < out.size()) {
      const size_t eol = out.find("\r\n", pos);
      if (eol == std::string::npos) break;
      const size_t len = std::stoul(out.substr(pos, eol - pos), nullptr, 16);
      if (len == 0) break;
      plain += out.substr(eol + 2, len);
      pos = eol + 2 + len + 2;
    }
    out = plain;
  }
  return out;
}

std::string PromtoolCheck(const std::string& text, int* exit_code) {
  char in_path[] = "/tmp/estate-metrics-XXXXXX";
  const int fd = mkstemp(in_path);
  if (write(fd, text.data(), text.size()) != static_cast<ssize_t>(text.size())) *exit_code = -1;
  close(fd);
  const std::string cmd = absl::StrCat("promtool check metrics < ", in_path, " 2>&1");
  FILE* p = popen(cmd.c_str(), "r");
  std::string out;
  char buf[4096];
  for (size_t n; (n = fread(buf, 1, sizeof(buf), p)) > 0;) out.append(buf, n);
  const int rc = pclose(p);
  *exit_code = WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
  unlink(in_path);
  return out;
}

std::string NewRequestId() { return kit::NewUuid(); }

}  // namespace testing_support
