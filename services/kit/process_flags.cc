#include "services/kit/process_flags.h"

#include <cstdio>
#include <cstdlib>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/reflection.h"
#include "absl/flags/usage.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/strip.h"
#include "absl/time/time.h"
#include "services/kit/log_context.h"
#include "spdlog/spdlog.h"

extern char** environ;

// Flags every estate process has, services and gateway alike.
ABSL_FLAG(std::string, grpc_addr, "", "host:port for gRPC (default: the service's own).");
ABSL_FLAG(absl::Duration, shutdown_grace, absl::Seconds(10),
          "How long in-flight calls may finish after SIGTERM.");
ABSL_FLAG(absl::Duration, shutdown_drain, absl::Seconds(5),
          "After SIGTERM, how long health reads NOT_SERVING before new calls are refused.");
ABSL_FLAG(std::string, log_level, "info", "trace, debug, info, warn, error.");
ABSL_FLAG(std::string, log_format, "text",
          "text, or json (one object a line, for log collectors); both carry the request id, "
          "method and caller of the call a line was written for.");

ABSL_FLAG(std::string, tls_cert, "",
          "PEM certificate of this process: with --tls_key and --tls_ca, gRPC between estate "
          "processes is TLS with client certificates.");
ABSL_FLAG(std::string, tls_key, "", "PEM private key for --tls_cert.");
ABSL_FLAG(std::string, tls_ca, "", "PEM CA that signed every estate process's certificate.");
ABSL_FLAG(std::string, identity_keys_dir, "",
          "Directory of service identity keys, <service>.key each: a service verifies calls "
          "with its own and signs its calls to others with theirs; the gateway signs with all.");

namespace kit {

TlsFiles TlsFilesFromFlags() {
  return {absl::GetFlag(FLAGS_tls_cert), absl::GetFlag(FLAGS_tls_key),
          absl::GetFlag(FLAGS_tls_ca)};
}

std::string IdentityKeysDirFromFlags() {
  std::string dir = absl::GetFlag(FLAGS_identity_keys_dir);
  // Tools that parse plain flags (estatectl, the demo loaders) still find
  // the directory tools/up exports.
  if (dir.empty() && std::getenv("ESTATE_IDENTITY_KEYS_DIR") != nullptr) {
    dir = std::getenv("ESTATE_IDENTITY_KEYS_DIR");
  }
  return dir;
}

void ParseFlagsWithEnv(int argc, char** argv, const char* usage) {
  absl::SetProgramUsageMessage(usage);
  for (char** env = environ; *env != nullptr; ++env) {
    absl::string_view entry(*env);
    if (!absl::ConsumePrefix(&entry, "ESTATE_")) continue;
    const size_t eq = entry.find('=');
    if (eq == absl::string_view::npos) continue;
    const std::string name = absl::AsciiStrToLower(entry.substr(0, eq));
    absl::CommandLineFlag* flag = absl::FindCommandLineFlag(name);
    if (flag == nullptr) continue;
    std::string error;
    if (!flag->ParseFrom(entry.substr(eq + 1), &error)) {
      fprintf(stderr, "ESTATE_%s: %s\n", absl::AsciiStrToUpper(name).c_str(), error.c_str());
      std::exit(2);
    }
  }
  absl::ParseCommandLine(argc, argv);
  spdlog::set_level(spdlog::level::from_str(absl::GetFlag(FLAGS_log_level)));
  if (absl::Status s = SetLogFormat(absl::GetFlag(FLAGS_log_format)); !s.ok()) {
    fprintf(stderr, "%s\n", std::string(s.message()).c_str());
    std::exit(2);
  }
}

}  // namespace kit
