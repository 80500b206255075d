#ifndef ESTATE_SERVICES_TICKETS_TICKET_STATS_H_
#define ESTATE_SERVICES_TICKETS_TICKET_STATS_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "estate/tickets/v1/tickets.pb.h"

namespace tickets {

namespace v1 = ::estate::tickets::v1;

// One ticket created in the period, as the report needs it.
struct StatTicket {
  v1::TicketKind kind;
  v1::TicketStatus status;
  absl::Time create_time;
  std::optional<absl::Time> resolve_time;
  bool sla_breached;
  int return_visits;
};

struct SurveyRating {
  std::string dimension;
  int rating;  // 1..5
};

// The report arithmetic: counts by kind and status, handled vs pending,
// return-visit rate, nearest-rank median and p90 time to resolve, breaches,
// and satisfaction (share of ratings >= 4) of return visits and per survey
// dimension. Rates are basis points rounded half up.
v1::TicketStats ComputeStats(const std::vector<StatTicket>& tickets,
                             const std::vector<int>& return_visit_ratings,
                             const std::vector<SurveyRating>& survey_ratings);

// Nearest-rank percentile (p in (0, 1]) of unsorted values; zero if empty.
absl::Duration NearestRank(std::vector<absl::Duration> values, double p);

// part/whole in basis points, rounded half up; 0 when whole is 0.
int BasisPoints(int64_t part, int64_t whole);

}  // namespace tickets

#endif  // ESTATE_SERVICES_TICKETS_TICKET_STATS_H_
