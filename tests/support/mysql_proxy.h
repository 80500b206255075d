#ifndef ESTATE_TESTS_SUPPORT_MYSQL_PROXY_H_
#define ESTATE_TESTS_SUPPORT_MYSQL_PROXY_H_

#include <memory>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"

namespace testing_support {

// A TCP proxy on 127.0.0.1 (a port of its own) in front of a MariaDB server,
// which reads the client's side of the MySQL protocol well enough to find
// COMMIT (as a query, or as the execution of a prepared "COMMIT") and can cut
// the connection there: what a dying server, a failing network or a killed
// pod does to a transaction at its worst moment.
class MysqlProxy {
 public:
  enum class Cut {
    // COMMIT never reaches the server: the server rolls back when the
    // connection drops.
    kBeforeForwarding,
    // COMMIT reaches the server and the server answers; the answer is
    // dropped: the transaction is committed, the client never hears it.
    kAfterForwarding,
  };

  explicit MysqlProxy(int upstream_port);
  ~MysqlProxy();
  MysqlProxy(const MysqlProxy&) = delete;
  MysqlProxy& operator=(const MysqlProxy&) = delete;

  int port() const { return port_; }
  // The next COMMIT on any connection is cut this way (once).
  void CutNextCommit(Cut how);
  // Resets every open connection now (the server side sees a disconnect).
  void CutAll();
  // How many COMMITs were cut so far.
  int commits_cut();

 private:
  struct Link;
  void AcceptLoop();
  void Pump(Link* link);
  // True if the cut armed for the next COMMIT applies (and disarms it).
  bool TakeCut(Cut* how);

  int upstream_port_;
  int listen_fd_ = -1;
  int port_ = 0;
  int wake_[2] = {-1, -1};  // closes to stop the accept loop
  std::thread acceptor_;
  absl::Mutex mu_;
  bool armed_ ABSL_GUARDED_BY(mu_) = false;
  Cut how_ ABSL_GUARDED_BY(mu_) = Cut::kBeforeForwarding;
  int cuts_ ABSL_GUARDED_BY(mu_) = 0;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::vector<std::unique_ptr<Link>> links_ ABSL_GUARDED_BY(mu_);
};

}  // namespace testing_support

#endif  // ESTATE_TESTS_SUPPORT_MYSQL_PROXY_H_
