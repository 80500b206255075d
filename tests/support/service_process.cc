#include "tests/support/service_process.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "tests/support/in_process.h"
#include "tests/support/test_db.h"

extern char** environ;

namespace testing_support {

ServiceProcess::ServiceProcess(const std::string& name, const kit::DbOptions& db,
                               const std::string& log, int grpc_port,
                               const std::vector<std::string>& extra_args)
    : grpc_port_(grpc_port != 0 ? grpc_port : FreePort()) {
  const std::string binary = absl::StrCat(ESTATE_BUILD_DIR, "/bin/estate-", name);
  std::vector<std::string> args = {binary, absl::StrCat("--grpc_addr=127.0.0.1:", grpc_port_),
                                   absl::StrCat("--metrics_addr=127.0.0.1:", FreePort())};
  args.insert(args.end(), extra_args.begin(), extra_args.end());
  std::vector<std::string> env;
  for (char** e = environ; *e != nullptr; ++e) env.emplace_back(*e);
  env.push_back(absl::StrCat("ESTATE_DB_PORT=", db.port));
  env.push_back("ESTATE_DB_USER=" + db.user);
  env.push_back("ESTATE_DB_NAME=" + db.schema);
  env.push_back("ESTATE_DB_PASSWORD=" + db.password);
  env.push_back("ESTATE_IDENTITY_KEYS_DIR=" + TestIdentityKeysDir());
  std::vector<char*> argv, envp;
  for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  for (const auto& e : env) envp.push_back(const_cast<char*>(e.c_str()));
  envp.push_back(nullptr);
  posix_spawn_file_actions_t files;
  posix_spawn_file_actions_init(&files);
  posix_spawn_file_actions_addopen(&files, 1, log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
  posix_spawn_file_actions_adddup2(&files, 1, 2);
  if (posix_spawn(&pid_, binary.c_str(), &files, nullptr, argv.data(), envp.data()) != 0) pid_ = -1;
  posix_spawn_file_actions_destroy(&files);
  channel_ = grpc::CreateChannel(address(), grpc::InsecureChannelCredentials());
}

ServiceProcess::~ServiceProcess() { Kill(); }

std::string ServiceProcess::address() const { return absl::StrCat("127.0.0.1:", grpc_port_); }

bool ServiceProcess::AwaitServing(absl::Duration limit) {
  const absl::Time give_up = absl::Now() + limit;
  while (absl::Now() < give_up) {
    if (HealthStatus(*channel_) == 1) return true;
    absl::SleepFor(absl::Milliseconds(50));
  }
  return false;
}

void ServiceProcess::Kill() {
  if (pid_ <= 0) return;
  kill(pid_, SIGKILL);
  waitpid(pid_, nullptr, 0);
  pid_ = -1;
}

}  // namespace testing_support
