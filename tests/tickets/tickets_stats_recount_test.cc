// GetTicketStats against an independent recount in SQL over the same rows.
#include <random>

#include "services/kit/proto_time.h"
#include "tests/tickets/tickets_fixture.h"

namespace tickets {
namespace {

class TicketsStatsTest : public TicketsTest {};

TEST_F(TicketsStatsTest, FiguresEqualAnSqlRecount) {
  const std::string site = NewSite();
  std::mt19937 rng(20260302);
  auto pick = [&](int n) { return static_cast<int>(rng() % n); };
  const absl::Time before_period = clock().Now();
  Create(site, v1::COMPLAINT);  // created before the period: must not count
  clock().Advance(absl::Hours(1));
  const absl::Time start = clock().Now();

  for (int i = 0; i < 70; ++i) {
    clock().Advance(absl::Minutes(1 + pick(90)));
    v1::Ticket t = Create(site, static_cast<v1::TicketKind>(1 + pick(6)));
    const int fate = pick(10);
    if (fate == 0) continue;  // left open; may breach
    if (fate == 1) {
      v1::ReasonRequest r;
      r.set_name(t.name());
      r.set_etag(t.etag());
      r.set_request_id(NewRequestId());
      r.set_reason("duplicate of an earlier call");
      ASSERT_TRUE(stub().CancelTicket(Context().get(), r, &t).ok());
      continue;
    }
    clock().Advance(absl::Minutes(pick(400)));  // sometimes past the 4h response target
    ASSERT_TRUE(Assign(&t).ok());
    if (fate == 2) continue;
    clock().Advance(absl::Minutes(1 + pick(6000)));
    ASSERT_TRUE(Resolve(&t).ok());
    if (fate >= 5) {
      ASSERT_TRUE(Visit(t, 1 + pick(5)).ok());
      ASSERT_TRUE(Get(t.name(), &t).ok());  // the visit moved the etag on
    }
    if (fate >= 7) {
      ASSERT_TRUE(Close(&t, fate == 9 ? "owner moved away" : "").ok());
    }
  }
  const v1::Survey survey = NewSurvey(site, {"reception", "phone"});
  for (int i = 0; i < 38; ++i) {
    std::map<std::string, int> ratings = {{"reception", 1 + pick(5)}};
    if (pick(3)) ratings["phone"] = 1 + pick(5);
    ASSERT_TRUE(Answer(survey, "7-" + std::to_string(100 + i), ratings).ok());
  }
  clock().Advance(absl::Hours(3));
  const absl::Time end = clock().Now();
  clock().Advance(absl::Minutes(5));
  Create(site, v1::REPAIR);  // after the period
  ASSERT_TRUE(service().ScanBreaches().ok());  // flag every breach, so SQL can count the flag

  v1::GetTicketStatsRequest req;
  req.set_parent("sites/" + site);
  kit::SetTimestamp(req.mutable_start_time(), start);
  kit::SetTimestamp(req.mutable_end_time(), end);
  v1::TicketStats stats;
  ASSERT_TRUE(stub().GetTicketStats(Context().get(), req, &stats).ok());
  ASSERT_GT(before_period, absl::InfinitePast());

  const std::vector<kit::SqlParam> period = {site, start, end};
  const std::string in_period = " WHERE site = ? AND created_at >= ? AND created_at < ?";
  // Counts by kind and status.
  std::vector<kit::Row> rows = Rows(
      "SELECT kind, status, COUNT(*) FROM tickets" + in_period + " GROUP BY kind, status"
      " ORDER BY kind, status", period);
  ASSERT_EQ(static_cast<int>(rows.size()), stats.by_kind_status_size());
  for (size_t i = 0; i < rows.size(); ++i) {
    EXPECT_EQ(stats.by_kind_status(i).kind(), rows[i].Int(0));
    EXPECT_EQ(stats.by_kind_status(i).status(), rows[i].Int(1));
    EXPECT_EQ(stats.by_kind_status(i).count(), rows[i].Int(2));
  }
  // Totals, with return visits counted from the visits table itself.
  rows = Rows(
      "SELECT COUNT(*), SUM(status IN (5, 6)), SUM(status NOT IN (5, 6, 8)), SUM(status = 8),"
      " SUM(status IN (5, 6) AND EXISTS (SELECT 1 FROM return_visits v WHERE v.site = t.site"
      " AND v.ticket_id = t.id)), SUM(sla_breached) FROM tickets t" + in_period, period);
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(stats.total().total(), rows[0].Int(0));
  EXPECT_EQ(stats.total().total(), 70);
  EXPECT_EQ(stats.total().handled(), rows[0].Int(1));
  EXPECT_EQ(stats.total().pending(), rows[0].Int(2));
  EXPECT_EQ(stats.total().cancelled(), rows[0].Int(3));
  EXPECT_EQ(stats.total().return_visited(), rows[0].Int(4));
  EXPECT_EQ(stats.total().sla_breached(), rows[0].Int(5));
  EXPECT_GT(stats.total().sla_breached(), 0) << "the data should include breaches";
  EXPECT_EQ(stats.total().return_visit_rate_bp(),
            Scalar("SELECT ROUND(SUM(status IN (5, 6) AND EXISTS (SELECT 1 FROM return_visits v"
                   " WHERE v.site = t.site AND v.ticket_id = t.id)) * 10000 /"
                   " SUM(status IN (5, 6))) FROM tickets t" + in_period, period));
  // Nearest-rank percentiles are what PERCENTILE_DISC computes.
  const std::string pct =
      " WITHIN GROUP (ORDER BY TIMESTAMPDIFF(MICROSECOND, created_at, resolved_at)) OVER ()"
      " FROM tickets" + in_period + " AND status IN (5, 6) LIMIT 1";
  EXPECT_EQ(kit::FromDuration(stats.median_time_to_resolve()),
            absl::Microseconds(Scalar("SELECT PERCENTILE_DISC(0.5)" + pct, period)));
  EXPECT_EQ(kit::FromDuration(stats.p90_time_to_resolve()),
            absl::Microseconds(Scalar("SELECT PERCENTILE_DISC(0.9)" + pct, period)));
  // Return-visit satisfaction and survey satisfaction.
  const std::vector<kit::SqlParam> visits = {site, start, end};
  EXPECT_EQ(stats.return_visits(),
            Scalar("SELECT COUNT(*) FROM return_visits WHERE site = ? AND visited_at >= ?"
                   " AND visited_at < ?", visits));
  EXPECT_EQ(stats.return_visit_satisfaction_bp(),
            Scalar("SELECT ROUND(SUM(satisfaction >= 4) * 10000 / COUNT(*)) FROM return_visits"
                   " WHERE site = ? AND visited_at >= ? AND visited_at < ?", visits));
  rows = Rows("SELECT r.dimension, COUNT(*), ROUND(SUM(r.rating >= 4) * 10000 / COUNT(*))"
              " FROM survey_ratings r JOIN survey_responses p ON p.site = r.site AND"
              " p.id = r.response_id WHERE p.site = ? AND p.created_at >= ? AND p.created_at < ?"
              " GROUP BY r.dimension ORDER BY r.dimension", visits);
  ASSERT_EQ(static_cast<int>(rows.size()), stats.survey_satisfaction_size());
  for (size_t i = 0; i < rows.size(); ++i) {
    EXPECT_EQ(stats.survey_satisfaction(i).dimension(), rows[i].Str(0));
    EXPECT_EQ(stats.survey_satisfaction(i).ratings(), rows[i].Int(1));
    EXPECT_EQ(stats.survey_satisfaction(i).satisfaction_bp(), rows[i].Int(2));
  }
}

}  // namespace
}  // namespace tickets
