#ifndef ESTATE_SERVICES_TICKETS_TICKET_VALIDATION_H_
#define ESTATE_SERVICES_TICKETS_TICKET_VALIDATION_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "estate/tickets/v1/tickets.pb.h"

namespace tickets {

namespace v1 = ::estate::tickets::v1;

// Limits on what a person may type, in bytes.
inline constexpr size_t kMaxTitle = 500;
inline constexpr size_t kMaxDescription = 64 * 1024;
inline constexpr size_t kMaxShort = 128;  // category, department, assignee
inline constexpr size_t kMaxNote = 4096;
inline constexpr int kMaxAttachments = 20;
inline constexpr int kMaxLinks = 20;

// Each checks one field of a ticket as a client sent it; errors name the field
// with the given prefix ("ticket.title").
absl::Status CheckKind(absl::string_view field, v1::TicketKind kind, bool required);
absl::Status CheckChannel(absl::string_view field, v1::Channel channel, bool required);
absl::Status CheckPriority(absl::string_view field, v1::Priority priority);
absl::Status CheckStatus(absl::string_view field, v1::TicketStatus status);
absl::Status CheckUnit(absl::string_view field, absl::string_view unit);
absl::Status CheckAttachments(absl::string_view field, const v1::Ticket& t);
absl::Status CheckLinks(absl::string_view field, const v1::Ticket& t);

// One descriptive field of a ticket by its update_mask path.
absl::Status CheckTicketField(const std::string& path, const v1::Ticket& t);
// All descriptive fields, as for a create.
absl::Status CheckNewTicket(const v1::Ticket& t);

// The fields UpdateTicket may change (its update_mask paths); each is
// checked by CheckTicketField.
const std::vector<std::string>& UpdatableTicketPaths();

}  // namespace tickets

#endif  // ESTATE_SERVICES_TICKETS_TICKET_VALIDATION_H_
