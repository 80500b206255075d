#ifndef ESTATE_SERVICES_TICKETS_TICKET_STORE_H_
#define ESTATE_SERVICES_TICKETS_TICKET_STORE_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "estate/tickets/v1/tickets.pb.h"
#include "services/kit/db.h"
#include "services/tickets/ticket.h"
#include "services/tickets/ticket_stats.h"

namespace tickets {

// A ticket as stored: its descriptive fields (in `fields`, the proto without
// any status/SLA field), the state the domain rules work on, and the row
// version behind the etag.
struct StoredTicket {
  std::string site;
  int64_t id = 0;
  v1::Ticket fields;
  TicketState state;
  std::string created_by;
  absl::Time update_time;
  int64_t version = 0;
  absl::Time initial_response_due;
  absl::Time initial_resolve_due;
};

// The ticket exactly as the create that made it answered: its creatable
// fields as requested, OPEN, the first deadlines, version 1.
StoredTicket AsFirstCreated(const StoredTicket& t, const v1::Ticket& requested);

// Only the fields a client may set on create; output-only ones are dropped.
v1::Ticket CreatableFields(const v1::Ticket& in);

// The full API view: name, fields, state and etag.
v1::Ticket ToProto(const StoredTicket& t);

struct TicketFilter {
  std::string site;
  v1::TicketStatus status = v1::TICKET_STATUS_UNSPECIFIED;
  v1::TicketKind kind = v1::TICKET_KIND_UNSPECIFIED;
  std::string unit;
  std::string department;
  std::optional<absl::Time> created_after;
  std::optional<absl::Time> created_before;
  bool breached_only = false;
};

struct BreachCandidate {
  std::string site;
  int64_t id;
  v1::TicketKind kind;
};

// Every SQL statement of the tickets service. Methods taking a Conn run inside
// the caller's transaction.
namespace store {

// Inserts a new ticket claiming the create's request_id in the same row: one
// statement. ALREADY_EXISTS if the request_id was used before.
absl::StatusOr<int64_t> InsertTicket(kit::Conn& c, StoredTicket& t, const std::string& request_id,
                                     const std::string& fingerprint);
// The ticket a create with this request_id made, and that create's fingerprint.
absl::StatusOr<std::pair<StoredTicket, std::string>> ReadTicketByCreateRequest(
    kit::Conn& c, const std::string& request_id);
// NOT_FOUND if absent. `for_update` locks the row until the transaction ends.
absl::StatusOr<StoredTicket> ReadTicket(kit::Conn& c, const std::string& site, int64_t id,
                                        bool for_update);
// Writes fields and state; bumps the version. The row must be locked.
absl::Status SaveTicket(kit::Conn& c, StoredTicket& t, absl::Time now);
absl::Status AddEvent(kit::Conn& c, const std::string& site, int64_t ticket_id,
                      absl::string_view type, v1::TicketStatus from, v1::TicketStatus to,
                      absl::string_view actor, absl::Time at, absl::string_view detail);

// Tickets after id `after` in id order, at most `limit`.
absl::StatusOr<std::vector<StoredTicket>> ListTickets(kit::Conn& c, const TicketFilter& f,
                                                      int64_t after, int limit,
                                                      absl::Time now);
absl::StatusOr<std::vector<v1::TicketEvent>> ListEvents(kit::Conn& c, const std::string& site,
                                                        int64_t ticket_id, int64_t after,
                                                        int limit);

absl::StatusOr<v1::ReturnVisit> InsertReturnVisit(kit::Conn& c, const std::string& site,
                                                  int64_t ticket_id, v1::ReturnVisit visit);
absl::StatusOr<std::vector<v1::ReturnVisit>> ListReturnVisits(kit::Conn& c,
                                                              const std::string& site,
                                                              int64_t ticket_id, int64_t after,
                                                              int limit);

// The site's targets by priority (defaults where none is stored) and the
// policy version (0 = defaults).
struct SlaPolicyRow {
  SlaTarget targets[5];  // indexed by v1::Priority; [0] unused
  int64_t version = 0;
};
absl::StatusOr<SlaPolicyRow> ReadSlaPolicy(kit::Conn& c, const std::string& site,
                                           bool for_update);
absl::Status WriteSlaPolicy(kit::Conn& c, const std::string& site, const SlaPolicyRow& p);

absl::StatusOr<int64_t> InsertSurvey(kit::Conn& c, const std::string& site,
                                     const v1::Survey& s, absl::string_view actor);
absl::StatusOr<v1::Survey> ReadSurvey(kit::Conn& c, const std::string& site, int64_t id);
// Just the dimensions of a survey; NOT_FOUND if there is no such survey.
absl::StatusOr<std::vector<std::string>> SurveyDimensions(kit::Conn& c, const std::string& site,
                                                          int64_t id);
// ALREADY_EXISTS if the household answered this survey already.
absl::StatusOr<int64_t> InsertSurveyResponse(kit::Conn& c, const std::string& site,
                                             int64_t survey_id, const v1::SurveyResponse& r,
                                             absl::string_view actor);

// Stats inputs for tickets created (and visits / survey answers made) in
// [start, end).
absl::StatusOr<std::vector<StatTicket>> StatTickets(kit::Conn& c, const std::string& site,
                                                    absl::Time start, absl::Time end,
                                                    absl::Time now);
absl::StatusOr<std::vector<int>> ReturnVisitRatings(kit::Conn& c, const std::string& site,
                                                    absl::Time start, absl::Time end);
absl::StatusOr<std::vector<SurveyRating>> SurveyRatings(kit::Conn& c, const std::string& site,
                                                        absl::Time start, absl::Time end);

// Tickets whose SLA has run out while the clock ran and that are not flagged yet.
absl::StatusOr<std::vector<BreachCandidate>> BreachCandidates(kit::Conn& c, absl::Time now,
                                                              int limit);
// Sets the flag if still unset and still late; the ticket's status if this
// call set it, nullopt if not.
absl::StatusOr<std::optional<v1::TicketStatus>> FlagBreach(kit::Conn& c, const std::string& site,
                                                           int64_t id, absl::Time now);

struct OpenCount {
  std::string site;
  v1::TicketKind kind;
  int64_t count;
};
absl::StatusOr<std::vector<OpenCount>> CountOpen(kit::Conn& c);

}  // namespace store
}  // namespace tickets

#endif  // ESTATE_SERVICES_TICKETS_TICKET_STORE_H_
