#include "services/tickets/ticket_stats.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <utility>

#include "services/kit/proto_time.h"
#include "services/tickets/ticket.h"

namespace tickets {

int BasisPoints(int64_t part, int64_t whole) {
  if (whole <= 0) return 0;
  return static_cast<int>((2 * part * 10000 + whole) / (2 * whole));
}

absl::Duration NearestRank(std::vector<absl::Duration> values, double p) {
  if (values.empty()) return absl::ZeroDuration();
  std::sort(values.begin(), values.end());
  // Rank ceil(p*n), 1-based; computed in integers so 0.9*10 is exactly 9.
  const size_t n = values.size();
  const int64_t per_mille = std::llround(p * 1000);
  size_t rank = static_cast<size_t>((per_mille * static_cast<int64_t>(n) + 999) / 1000);
  rank = std::clamp<size_t>(rank, 1, n);
  return values[rank - 1];
}

namespace {

void Count(v1::KindStats& k, const StatTicket& t) {
  k.set_total(k.total() + 1);
  if (IsHandled(t.status)) {
    k.set_handled(k.handled() + 1);
    if (t.return_visits > 0) k.set_return_visited(k.return_visited() + 1);
  } else if (t.status == v1::CANCELLED) {
    k.set_cancelled(k.cancelled() + 1);
  } else {
    k.set_pending(k.pending() + 1);
  }
  if (t.sla_breached) k.set_sla_breached(k.sla_breached() + 1);
}

}  // namespace

v1::TicketStats ComputeStats(const std::vector<StatTicket>& tickets,
                             const std::vector<int>& return_visit_ratings,
                             const std::vector<SurveyRating>& survey_ratings) {
  v1::TicketStats out;
  std::map<std::pair<int, int>, int> by_kind_status;
  std::map<int, v1::KindStats> by_kind;
  v1::KindStats total;
  std::vector<absl::Duration> resolve_times;
  for (const StatTicket& t : tickets) {
    ++by_kind_status[{t.kind, t.status}];
    v1::KindStats& k = by_kind[t.kind];
    k.set_kind(t.kind);
    Count(k, t);
    Count(total, t);
    if (IsHandled(t.status) && t.resolve_time.has_value()) {
      resolve_times.push_back(*t.resolve_time - t.create_time);
    }
  }
  for (const auto& [key, count] : by_kind_status) {
    v1::KindStatusCount* c = out.add_by_kind_status();
    c->set_kind(static_cast<v1::TicketKind>(key.first));
    c->set_status(static_cast<v1::TicketStatus>(key.second));
    c->set_count(count);
  }
  for (auto& [kind, k] : by_kind) {
    k.set_return_visit_rate_bp(BasisPoints(k.return_visited(), k.handled()));
    *out.add_by_kind() = k;
  }
  total.set_return_visit_rate_bp(BasisPoints(total.return_visited(), total.handled()));
  *out.mutable_total() = total;
  kit::SetDuration(out.mutable_median_time_to_resolve(), NearestRank(resolve_times, 0.5));
  kit::SetDuration(out.mutable_p90_time_to_resolve(), NearestRank(resolve_times, 0.9));

  int satisfied = 0;
  for (int r : return_visit_ratings) satisfied += r >= 4 ? 1 : 0;
  out.set_return_visits(static_cast<int>(return_visit_ratings.size()));
  out.set_return_visit_satisfaction_bp(
      BasisPoints(satisfied, static_cast<int64_t>(return_visit_ratings.size())));

  std::map<std::string, std::pair<int, int>> dims;  // ratings, satisfied
  for (const SurveyRating& r : survey_ratings) {
    auto& d = dims[r.dimension];
    ++d.first;
    d.second += r.rating >= 4 ? 1 : 0;
  }
  for (const auto& [name, d] : dims) {
    v1::DimensionSatisfaction* s = out.add_survey_satisfaction();
    s->set_dimension(name);
    s->set_ratings(d.first);
    s->set_satisfied(d.second);
    s->set_satisfaction_bp(BasisPoints(d.second, d.first));
  }
  return out;
}

}  // namespace tickets
