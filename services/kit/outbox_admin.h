#ifndef ESTATE_SERVICES_KIT_OUTBOX_ADMIN_H_
#define ESTATE_SERVICES_KIT_OUTBOX_ADMIN_H_

#include <string>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "estate/api/v1/outbox.pb.h"
#include "services/kit/clock.h"
#include "services/kit/db.h"

namespace kit {

// The operator's side of a service's outbox: list entries by state, and
// make a dead one due again once its cause is fixed. A service serves these
// as two RPCs of its own (access ADMIN); its `collection` keeps the names
// apart across services: "sites/{site}/cleaningOutbox/{id}".
class OutboxAdmin {
 public:
  OutboxAdmin(Db& db, const Clock& clock, std::string collection)
      : db_(db), clock_(clock), collection_(std::move(collection)) {}

  absl::Status List(const estate::api::v1::ListOutboxEntriesRequest& req, absl::Time deadline,
                    estate::api::v1::ListOutboxEntriesResponse* resp);
  // Idempotent by request_id; recorded in the log with `actor`.
  absl::Status Retry(const estate::api::v1::RetryOutboxEntryRequest& req, absl::Time deadline,
                     const std::string& actor, estate::api::v1::OutboxEntry* resp);

 private:
  Db& db_;
  const Clock& clock_;
  const std::string collection_;
};

}  // namespace kit

#endif  // ESTATE_SERVICES_KIT_OUTBOX_ADMIN_H_
