#ifndef ESTATE_SERVICES_KIT_OUTBOX_H_
#define ESTATE_SERVICES_KIT_OUTBOX_H_

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "google/protobuf/message.h"
#include "grpcpp/channel.h"
#include "prometheus/counter.h"
#include "prometheus/gauge.h"
#include "prometheus/registry.h"
#include "services/kit/clock.h"
#include "services/kit/db.h"
#include "services/kit/service_identity.h"

namespace kit {

// Writes a call to another service into the outbox, inside the caller's
// transaction: it exists exactly when the change that causes it commits. The
// request's `request_id` field (which it must have) is set to a fresh UUID
// stored with the row, so every delivery attempt carries the same id and the
// receiver acts once. Returns the outbox row id.
absl::StatusOr<int64_t> EnqueueCall(Conn& c, const std::string& site, const std::string& target,
                                    const std::string& method,
                                    google::protobuf::Message& request, absl::Time now);

// A row the receiver answered OK, with its answer (the serialized response
// message).
struct DeliveredCall {
  int64_t id = 0;
  std::string target;
  std::string method;
  std::string response;
};

struct OutboxOptions {
  absl::Duration call_timeout = absl::Seconds(5);
  // A target that fails (UNAVAILABLE, DEADLINE_EXCEEDED, ABORTED,
  // RESOURCE_EXHAUSTED) is left alone for a while, doubling from
  // initial_backoff to max_backoff; meanwhile its gRPC health is probed every
  // probe_interval, and the moment it says SERVING its backlog is drained.
  absl::Duration initial_backoff = absl::Seconds(1);
  absl::Duration max_backoff = absl::Minutes(5);
  absl::Duration probe_interval = absl::Seconds(1);
  // How often an idle target looks for new rows.
  absl::Duration poll_interval = absl::Seconds(1);
  int batch = 50;
  // Delivered rows are deleted after this long.
  absl::Duration retention = absl::Hours(24 * 7);
  // Runs in the transaction that marks a row delivered, so a service keeps
  // what it needs of the answer (handover: the ticket a defect became) with
  // the same certainty as the delivery itself. An error leaves the row to be
  // called again; the receiver answers the repeat as it answered the first.
  std::function<absl::Status(Conn&, const DeliveredCall&)> on_delivered;
  // Signs each call for its target (the target's name is the audience);
  // without it the receivers refuse the calls. ServiceHost::identity_signer().
  std::shared_ptr<const IdentitySigner> identity;
};

// Delivers outbox rows, one worker thread per target, so a target that
// hangs or is down delays only its own rows. Only OK is delivered (a
// receiver answers a repeated request_id with its first answer, so a repeat
// is OK); any code other than the retryable ones above makes the row dead,
// with the code and message kept, until an operator retries it. Several
// replicas may relay at once: rows are leased with SKIP LOCKED.
class OutboxRelay {
 public:
  // `targets` maps an EnqueueCall target to a channel; give channels a short
  // reconnect backoff (GRPC_ARG_MAX_RECONNECT_BACKOFF_MS), or gRPC's own (up
  // to two minutes) decides how soon a returning peer is seen. `registry`
  // may be null.
  OutboxRelay(Db& db, const Clock& clock,
              std::map<std::string, std::shared_ptr<grpc::Channel>> targets,
              prometheus::Registry* registry, OutboxOptions options = {});
  ~OutboxRelay();
  OutboxRelay(const OutboxRelay&) = delete;
  OutboxRelay& operator=(const OutboxRelay&) = delete;

  // Starts the workers (once; later calls do nothing). Call after the
  // schema is migrated.
  void Start();
  // Stops and joins the workers; calls in flight end at their deadline.
  void Stop();

  // One delivery pass for `target`, on the calling thread: takes due rows
  // (up to `batch`), calls, records. Stops at the first retryable failure
  // and hands the untried rows back. Returns how many were delivered; fails
  // only if the database does.
  absl::StatusOr<int> DeliverOnce(const std::string& target);
  // Deletes delivered rows past the retention (in batches) and refreshes the
  // gauges (pending, dead, oldest pending age per target).
  absl::Status Housekeep();

  // Who the receivers record as the caller (in the identity token), e.g.
  // "service:cleaning"; before Start.
  void set_caller(std::string caller) { caller_ = std::move(caller); }

 private:
  struct Target {
    std::string name;
    std::shared_ptr<grpc::Channel> channel;
    int failures = 0;          // consecutive retryable failures
    absl::Time retry_at;       // real time; backing off until then
    std::thread worker;
  };
  void Work(Target* t);
  // grpc.health.v1.Health/Check (service "") answers SERVING.
  bool Serving(Target* t);
  // Waits up to `d` (real time) unless stopping; false when stopping.
  bool Pause(absl::Duration d);

  Db& db_;
  const Clock& clock_;
  const OutboxOptions options_;
  std::string caller_ = "service:outbox";
  std::vector<std::unique_ptr<Target>> targets_;
  absl::Mutex mu_;
  bool started_ ABSL_GUARDED_BY(mu_) = false;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;

  prometheus::Family<prometheus::Counter>* outcomes_ = nullptr;
  prometheus::Family<prometheus::Gauge>* pending_ = nullptr;
  prometheus::Family<prometheus::Gauge>* dead_ = nullptr;
  prometheus::Family<prometheus::Gauge>* oldest_ = nullptr;
};

}  // namespace kit

#endif  // ESTATE_SERVICES_KIT_OUTBOX_H_
