#ifndef ESTATE_TESTS_SUPPORT_SERVICE_PROCESS_H_
#define ESTATE_TESTS_SUPPORT_SERVICE_PROCESS_H_

#include <sys/types.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "grpcpp/channel.h"
#include "services/kit/db.h"

namespace testing_support {

// A built service binary (build/bin/estate-<name>) run as a child process on
// `db`, the way tools/up runs it, so a test can SIGKILL it: what an
// in-process server cannot show. Killed when dropped.
class ServiceProcess {
 public:
  // `grpc_port` 0 picks a free port; a restarted process passes the port
  // its predecessor had, so its callers find it where they left it.
  ServiceProcess(const std::string& name, const kit::DbOptions& db, const std::string& log,
                 int grpc_port = 0, const std::vector<std::string>& extra_args = {});
  ~ServiceProcess();
  ServiceProcess(const ServiceProcess&) = delete;
  ServiceProcess& operator=(const ServiceProcess&) = delete;

  bool started() const { return pid_ > 0; }
  int grpc_port() const { return grpc_port_; }
  std::string address() const;
  std::shared_ptr<grpc::Channel> channel() { return channel_; }
  // Polls gRPC health until SERVING, up to `limit`.
  bool AwaitServing(absl::Duration limit);
  // SIGKILL, and waits until the process is gone (its port is free then).
  void Kill();

 private:
  pid_t pid_ = -1;
  int grpc_port_ = 0;
  std::shared_ptr<grpc::Channel> channel_;
};

}  // namespace testing_support

#endif  // ESTATE_TESTS_SUPPORT_SERVICE_PROCESS_H_
