#ifndef ESTATE_SERVICES_KIT_OUTBOX_H_
#define ESTATE_SERVICES_KIT_OUTBOX_H_

#include <map>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "google/protobuf/message.h"
#include "grpcpp/channel.h"
#include "prometheus/counter.h"
#include "prometheus/gauge.h"
#include "prometheus/registry.h"
#include "services/kit/clock.h"
#include "services/kit/db.h"

namespace kit {

// Writes a call to another service into the outbox, inside the caller's
// transaction: it exists exactly when the change that causes it commits. The
// request's `request_id` field (which it must have) is set to a fresh UUID
// stored with the row, so every delivery attempt carries the same id and the
// receiver acts once. Returns the outbox row id.
absl::StatusOr<int64_t> EnqueueCall(Conn& c, const std::string& site, const std::string& target,
                                    const std::string& method,
                                    google::protobuf::Message& request, absl::Time now);

// Delivers due outbox rows. Each call has a deadline; a failure is retried
// with exponential backoff (1 s doubling to 5 min); the codes a retry cannot
// change (INVALID_ARGUMENT, FAILED_PRECONDITION, PERMISSION_DENIED, NOT_FOUND,
// UNIMPLEMENTED, UNAUTHENTICATED) mark the row dead instead; ALREADY_EXISTS
// counts as delivered. Several replicas may relay at once: rows are taken with
// SKIP LOCKED.
class OutboxRelay {
 public:
  // `targets` maps an EnqueueCall target to a channel. `registry` may be null.
  OutboxRelay(Db& db, const Clock& clock,
              std::map<std::string, std::shared_ptr<grpc::Channel>> targets,
              prometheus::Registry* registry, absl::Duration call_timeout = absl::Seconds(5));

  // One pass over due rows (at most `batch`). Fails only if the database does.
  absl::Status RunOnce(int batch = 50);

  // Who the receivers record as the caller (x-estate-caller), e.g.
  // "service:cleaning"; before the first RunOnce.
  void set_caller(std::string caller) { caller_ = std::move(caller); }

 private:
  Db& db_;
  const Clock& clock_;
  std::map<std::string, std::shared_ptr<grpc::Channel>> targets_;
  absl::Duration call_timeout_;
  std::string caller_ = "service:outbox";
  prometheus::Family<prometheus::Counter>* outcomes_ = nullptr;
  prometheus::Gauge* pending_ = nullptr;
};

}  // namespace kit

#endif  // ESTATE_SERVICES_KIT_OUTBOX_H_
