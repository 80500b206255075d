#include "services/tickets/ticket_stats.h"

#include "gtest/gtest.h"

namespace tickets {
namespace {

const absl::Time kT0 = absl::FromUnixSeconds(1767225600);  // 2026-01-01

TEST(NearestRank, MedianAndP90) {
  std::vector<absl::Duration> ten;
  for (int i = 10; i >= 1; --i) ten.push_back(absl::Hours(i));
  EXPECT_EQ(NearestRank(ten, 0.5), absl::Hours(5));   // rank ceil(5) = 5
  EXPECT_EQ(NearestRank(ten, 0.9), absl::Hours(9));   // rank ceil(9) = 9
  std::vector<absl::Duration> three = {absl::Hours(3), absl::Hours(1), absl::Hours(2)};
  EXPECT_EQ(NearestRank(three, 0.5), absl::Hours(2));  // rank ceil(1.5) = 2
  EXPECT_EQ(NearestRank(three, 0.9), absl::Hours(3));  // rank ceil(2.7) = 3
  EXPECT_EQ(NearestRank({absl::Minutes(7)}, 0.9), absl::Minutes(7));
  EXPECT_EQ(NearestRank({}, 0.5), absl::ZeroDuration());
}

TEST(BasisPoints, RoundsHalfUp) {
  EXPECT_EQ(BasisPoints(371, 406), 9138);  // 91.379...%
  EXPECT_EQ(BasisPoints(248, 254), 9764);  // 97.637...%
  EXPECT_EQ(BasisPoints(1, 3), 3333);
  EXPECT_EQ(BasisPoints(2, 3), 6667);
  EXPECT_EQ(BasisPoints(1, 8), 1250);
  EXPECT_EQ(BasisPoints(0, 0), 0);
}

TEST(ComputeStats, ComplaintsHandledAndPendingAsManagersReportThem) {
  // 406 complaints: 371 handled (resolved or closed), 35 pending.
  std::vector<StatTicket> t;
  for (int i = 0; i < 406; ++i) {
    const bool handled = i < 371;
    t.push_back({v1::COMPLAINT, handled ? (i % 2 ? v1::CLOSED : v1::RESOLVED) : v1::IN_PROGRESS,
                 kT0, handled ? std::optional<absl::Time>(kT0 + absl::Hours(1 + i % 48))
                              : std::nullopt,
                 i % 50 == 0, handled && i < 363 ? 1 : 0});
  }
  const v1::TicketStats s = ComputeStats(t, {}, {});
  ASSERT_EQ(s.by_kind_size(), 1);
  EXPECT_EQ(s.by_kind(0).total(), 406);
  EXPECT_EQ(s.by_kind(0).handled(), 371);
  EXPECT_EQ(s.by_kind(0).pending(), 35);
  EXPECT_EQ(s.by_kind(0).return_visited(), 363);
  EXPECT_EQ(s.by_kind(0).return_visit_rate_bp(), BasisPoints(363, 371));
  EXPECT_EQ(s.by_kind(0).sla_breached(), 9);  // i = 0, 50, ..., 400
  EXPECT_EQ(s.total().handled(), 371);
  // Three statuses appear: RESOLVED, CLOSED, IN_PROGRESS.
  EXPECT_EQ(s.by_kind_status_size(), 3);
}

TEST(ComputeStats, KindsStatusesAndResolveTimes) {
  const std::vector<StatTicket> t = {
      {v1::REPAIR, v1::CLOSED, kT0, kT0 + absl::Hours(2), false, 1},
      {v1::REPAIR, v1::RESOLVED, kT0, kT0 + absl::Hours(6), true, 0},
      {v1::REPAIR, v1::CANCELLED, kT0, std::nullopt, false, 0},
      {v1::INQUIRY, v1::CLOSED, kT0, kT0 + absl::Minutes(10), false, 0},
      {v1::INQUIRY, v1::OPEN, kT0, std::nullopt, true, 0},
  };
  const v1::TicketStats s = ComputeStats(t, {5, 4, 3, 2}, {{"phone", 4}, {"phone", 2},
                                                          {"reception", 5}});
  EXPECT_EQ(s.total().total(), 5);
  EXPECT_EQ(s.total().handled(), 3);
  EXPECT_EQ(s.total().pending(), 1);
  EXPECT_EQ(s.total().cancelled(), 1);
  EXPECT_EQ(s.total().sla_breached(), 2);
  EXPECT_EQ(s.total().return_visit_rate_bp(), 3333);
  // Resolve times 10m, 2h, 6h: median 2h, p90 6h.
  EXPECT_EQ(s.median_time_to_resolve().seconds(), 7200);
  EXPECT_EQ(s.p90_time_to_resolve().seconds(), 21600);
  EXPECT_EQ(s.return_visits(), 4);
  EXPECT_EQ(s.return_visit_satisfaction_bp(), 5000);
  ASSERT_EQ(s.survey_satisfaction_size(), 2);
  EXPECT_EQ(s.survey_satisfaction(0).dimension(), "phone");
  EXPECT_EQ(s.survey_satisfaction(0).satisfaction_bp(), 5000);
  EXPECT_EQ(s.survey_satisfaction(1).dimension(), "reception");
  EXPECT_EQ(s.survey_satisfaction(1).satisfaction_bp(), 10000);
}

}  // namespace
}  // namespace tickets
