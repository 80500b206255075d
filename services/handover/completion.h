#ifndef ESTATE_SERVICES_HANDOVER_COMPLETION_H_
#define ESTATE_SERVICES_HANDOVER_COMPLETION_H_

// What completing a handover asks of the other services, without I/O: the
// calls the outbox will deliver, in the order each service must see them
// (the account before its opening readings).

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "estate/handover/v1/handover.pb.h"
#include "google/protobuf/message.h"

namespace handover {

namespace v1 = ::estate::handover::v1;

struct PeerCall {
  std::string target;  // "archives", "billing", "tickets"
  std::string method;  // the full gRPC method name
  std::unique_ptr<google::protobuf::Message> request;
  std::string subject;  // what the call is about, if a part of the case (a defect's name)
};

// The method of a warranty repair ticket: its answer names the ticket the
// case links to the defect.
inline constexpr char kCreateTicketMethod[] = "/estate.tickets.v1.TicketService/CreateTicket";

// For a COMPLETED case of `batch` at `site`:
//  - archives: the owner, then each household member, registered against
//    the unit; the unit's occupancy (OWNER_OCCUPIED if the owner moves in,
//    else VACANT_OWNED); each handed key handed to the owner, the case as
//    reference;
//  - billing: the unit's account (the owner pays from the handover date,
//    the batch's charge items), then each opening meter reading;
//  - tickets: a warranty repair ticket for each TICKETED defect, assigned to
//    its contractor (the call's subject is the defect).
// Requests carry no request_id: the outbox gives each one its own.
std::vector<PeerCall> CompletionCalls(const v1::HandoverCase& c, const v1::HandoverBatch& batch,
                                      absl::string_view site);

}  // namespace handover

#endif  // ESTATE_SERVICES_HANDOVER_COMPLETION_H_
