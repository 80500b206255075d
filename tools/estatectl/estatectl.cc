// estatectl: a developer's client for the gateway.
//
//   estatectl token  --site=demo --role=staff [--sub=dev] [--ttl=12h]
//   estatectl apikey --name=finance-app --role=finance --site='*'
//   estatectl call GET /v1/sites/demo/tickets [BODY]      (uses $ESTATE_TOKEN)
//   estatectl bill-run demo MONTHLY 2026-12-01 [--commit]  (a progress bar)
//   estatectl export collection demo 2026-11 > collection.csv
//   estatectl import units demo buyers.csv               (all or nothing)
//   estatectl export units demo [BUILDING] [--reveal_reason=WHY] > register.csv
//   estatectl outbox list cleaning demo [--state=DEAD]   (an admin's token)
//   estatectl outbox retry cleaning demo 17
//
// Tokens are HS256, signed with the gateway's development secret
// (var/secrets/gateway-jwt-hs256 from tools/up).
#include <iostream>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "boost/asio/connect.hpp"
#include "boost/asio/ip/tcp.hpp"
#include "boost/beast/core.hpp"
#include "boost/beast/http.hpp"
#include "services/kit/file_text.h"
#include "services/kit/jwt.h"
#include "services/kit/process_flags.h"
#include "services/kit/service_identity.h"
#include "services/kit/hash.h"
#include "services/kit/uuid.h"
#include "tools/estatectl/archives_commands.h"
#include "tools/estatectl/billing_commands.h"
#include "tools/estatectl/outbox_commands.h"

ABSL_FLAG(std::string, state, "", "outbox list: PENDING, DEAD or DELIVERED (default: pending and dead).");
ABSL_FLAG(std::string, secret_file, "var/secrets/gateway-jwt-hs256", "The gateway's HS256 secret.");
ABSL_FLAG(std::string, sub, "dev", "Token subject (who the calls are recorded as).");
ABSL_FLAG(std::vector<std::string>, site, {}, "Sites the token or key may act for ('*': all).");
ABSL_FLAG(std::vector<std::string>, role, {"staff"}, "viewer, staff, finance, manager, admin.");
ABSL_FLAG(absl::Duration, ttl, absl::Hours(12), "Token lifetime.");
ABSL_FLAG(std::string, issuer, "estate", "iss claim.");
ABSL_FLAG(std::string, audience, "estate-api", "aud claim.");
ABSL_FLAG(std::string, name, "", "API key name (apikey).");
ABSL_FLAG(std::string, reveal_reason, "",
          "export units: why full personal data is needed (recorded); empty: masked.");
ABSL_FLAG(std::string, gateway, "127.0.0.1:8080", "Gateway HTTP host:port (call).");
ABSL_FLAG(std::string, token, "", "Bearer token for call (default: $ESTATE_TOKEN).");
ABSL_FLAG(bool, commit, false, "bill-run: commit the run after the dry run, with progress.");

namespace {

namespace beast = boost::beast;
namespace http = boost::beast::http;
using tcp = boost::asio::ip::tcp;

int Token() {
  absl::StatusOr<std::string> secret =
      kit::ReadFileText(absl::GetFlag(FLAGS_secret_file), "--secret_file");
  if (!secret.ok()) {
    std::cerr << secret.status().message() << " (run tools/up first)\n";
    return 2;
  }
  if (absl::GetFlag(FLAGS_site).empty()) {
    std::cerr << "--site is required ('*' for every site)\n";
    return 2;
  }
  const int64_t now = absl::ToUnixSeconds(absl::Now());
  nlohmann::json claims = {{"sub", absl::GetFlag(FLAGS_sub)},
                           {"iss", absl::GetFlag(FLAGS_issuer)},
                           {"aud", absl::GetFlag(FLAGS_audience)},
                           {"iat", now},
                           {"exp", now + absl::ToInt64Seconds(absl::GetFlag(FLAGS_ttl))},
                           {"roles", absl::GetFlag(FLAGS_role)},
                           {"sites", absl::GetFlag(FLAGS_site)}};
  std::cout << kit::SignHs256(claims, absl::StripTrailingAsciiWhitespace(*secret)) << "\n";
  return 0;
}

// A service identity token, for an operator (or a benchmark) calling one
// service's port directly, with that service's key from --identity_keys_dir
// or $ESTATE_IDENTITY_KEYS_DIR. Valid kit::kIdentityTokenLifetime.
int ServiceToken(const std::string& service) {
  auto signer =
      kit::IdentitySigner::FromDir("estatectl", kit::IdentityKeysDirFromFlags(), {service});
  if (!signer.ok()) {
    std::cerr << signer.status().message() << "\n";
    return 2;
  }
  auto token = (*signer)->Token(service, absl::StrCat("user:", absl::GetFlag(FLAGS_sub)),
                                absl::StrJoin(absl::GetFlag(FLAGS_role), ","), absl::Now());
  if (!token.ok()) {
    std::cerr << token.status().message() << "\n";
    return 2;
  }
  std::cout << *token << "\n";
  return 0;
}

int ApiKey() {
  if (absl::GetFlag(FLAGS_name).empty() || absl::GetFlag(FLAGS_site).empty()) {
    std::cerr << "--name and --site are required\n";
    return 2;
  }
  const std::string key = absl::StrCat("estate_", absl::StrReplaceAll(kit::NewUuid(), {{"-", ""}}),
                                       absl::StrReplaceAll(kit::NewUuid(), {{"-", ""}}));
  nlohmann::json entry = {{"name", absl::GetFlag(FLAGS_name)},
                          {"sha256", kit::Sha256Hex(key)},
                          {"roles", absl::GetFlag(FLAGS_role)},
                          {"sites", absl::GetFlag(FLAGS_site)}};
  std::cout << "key (give it to the service account; it is not stored): " << key << "\n"
            << "entry for --api_keys_file: " << entry.dump() << "\n";
  return 0;
}

estatectl::HttpReply Request(const std::string& method, const std::string& target,
                             const std::string& body) {
  std::string token = absl::GetFlag(FLAGS_token);
  if (token.empty() && getenv("ESTATE_TOKEN")) token = getenv("ESTATE_TOKEN");
  std::pair<std::string, std::string> hp =
      absl::StrSplit(absl::GetFlag(FLAGS_gateway), absl::MaxSplits(':', 1));
  try {
    boost::asio::io_context ioc;
    tcp::resolver resolver(ioc);
    beast::tcp_stream stream(ioc);
    stream.connect(resolver.resolve(hp.first, hp.second));
    http::request<http::string_body> req{http::string_to_verb(method), target, 11};
    req.set(http::field::host, hp.first);
    if (!token.empty()) req.set(http::field::authorization, "Bearer " + token);
    if (!body.empty()) req.set(http::field::content_type, "application/json");
    req.body() = body;
    req.prepare_payload();
    http::write(stream, req);
    beast::flat_buffer buffer;
    http::response<http::string_body> res;
    http::read(stream, buffer, res);
    return {static_cast<int>(res.result_int()), res.body()};
  } catch (const std::exception& e) {
    return {0, absl::StrCat("call failed: ", e.what())};
  }
}

int Call(const std::string& method, const std::string& target, const std::string& body) {
  const estatectl::HttpReply r = Request(method, target, body);
  if (r.status == 0) {
    std::cerr << r.body << "\n";
    return 2;
  }
  std::cerr << r.status << "\n";
  std::cout << r.body << "\n";
  return r.status < 400 ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "estatectl token --site=demo --role=staff | apikey --name=N --role=R --site=S | "
      "service-token SERVICE [--sub=S --role=R] | "
      "call METHOD PATH [JSON] | bill-run SITE CYCLE DATE [--commit] | "
      "export collection SITE PERIOD | export aging SITE [AS_OF] | export run-lines RUN | "
      "import units SITE FILE | export units SITE [BUILDING] [--reveal_reason=WHY] | "
      "outbox list SERVICE SITE [--state=DEAD] | outbox retry SERVICE SITE ID");
  std::vector<char*> args = absl::ParseCommandLine(argc, argv);
  if (args.size() >= 2 && std::string(args[1]) == "token") return Token();
  if (args.size() >= 2 && std::string(args[1]) == "apikey") return ApiKey();
  if (args.size() >= 3 && std::string(args[1]) == "service-token") return ServiceToken(args[2]);
  if (args.size() >= 2 && std::string(args[1]) == "bill-run") {
    return estatectl::BillRun(Request, {args.begin() + 2, args.end()}, absl::GetFlag(FLAGS_commit));
  }
  if (args.size() >= 3 && std::string(args[1]) == "import" && std::string(args[2]) == "units") {
    return estatectl::ImportUnits(Request, {args.begin() + 3, args.end()});
  }
  if (args.size() >= 3 && std::string(args[1]) == "export" && std::string(args[2]) == "units") {
    return estatectl::ExportUnits(Request, {args.begin() + 3, args.end()},
                                  absl::GetFlag(FLAGS_reveal_reason));
  }
  if (args.size() >= 2 && std::string(args[1]) == "export") {
    return estatectl::Export(Request, {args.begin() + 2, args.end()});
  }
  if (args.size() >= 2 && std::string(args[1]) == "outbox") {
    return estatectl::Outbox(Request, {args.begin() + 2, args.end()}, absl::GetFlag(FLAGS_state));
  }
  if (args.size() >= 4 && std::string(args[1]) == "call") {
    return Call(args[2], args[3], args.size() >= 5 ? args[4] : "");
  }
  std::cerr << absl::ProgramUsageMessage() << "\n";
  return 2;
}
