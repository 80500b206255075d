// The plan's and the warehouse's rules without a database: schedules, scores,
// moving-average cost, variances, the order of signatures.
#include <limits>

#include "gtest/gtest.h"
#include "services/cleaning/inspection.h"
#include "services/cleaning/schedule.h"
#include "services/cleaning/stock.h"

namespace cleaning {
namespace {

absl::TimeZone Shanghai() {
  absl::TimeZone tz;
  EXPECT_TRUE(absl::LoadTimeZone("Asia/Shanghai", &tz));
  return tz;
}

std::vector<std::string> Days(const std::vector<absl::CivilDay>& days) {
  std::vector<std::string> out;
  for (absl::CivilDay d : days) out.push_back(absl::FormatCivilTime(d));
  return out;
}

TEST(Schedule, DailyWeeklyAndMonthlyFallOnTheirDays) {
  v1::Schedule daily;
  daily.set_frequency(v1::DAILY);
  EXPECT_EQ(DueDays(daily, absl::CivilDay(2026, 3, 1), absl::CivilDay(2026, 3, 3)).size(), 3u);

  v1::Schedule weekly;  // Monday and Thursday; 2026-03-02 is a Monday
  weekly.set_frequency(v1::WEEKLY);
  weekly.add_days_of_week(1);
  weekly.add_days_of_week(4);
  EXPECT_EQ(Days(DueDays(weekly, absl::CivilDay(2026, 3, 1), absl::CivilDay(2026, 3, 12))),
            (std::vector<std::string>{"2026-03-02", "2026-03-05", "2026-03-09", "2026-03-12"}));

  v1::Schedule monthly;  // the 31st: the last day of shorter months
  monthly.set_frequency(v1::MONTHLY);
  monthly.set_day_of_month(31);
  EXPECT_EQ(Days(DueDays(monthly, absl::CivilDay(2026, 1, 1), absl::CivilDay(2026, 4, 30))),
            (std::vector<std::string>{"2026-01-31", "2026-02-28", "2026-03-31", "2026-04-30"}));
}

TEST(Schedule, TimesAreLocalAndAnOvernightShiftEndsNextMorning) {
  const absl::TimeZone tz = Shanghai();
  const absl::CivilDay day(2026, 3, 2);
  v1::Schedule lobby;
  lobby.set_frequency(v1::DAILY);
  lobby.set_due_by("08:00");  // "the lobby is cleaned before 8:00"
  TaskTimes t = TimesOn(day, lobby, 6 * 60, 14 * 60, tz);
  EXPECT_EQ(t.due, absl::FromCivil(absl::CivilMinute(2026, 3, 2, 8, 0), tz));
  EXPECT_EQ(t.miss, absl::FromCivil(absl::CivilMinute(2026, 3, 3, 0, 0), tz));
  EXPECT_EQ(absl::FormatTime("%H:%M", t.due, absl::UTCTimeZone()), "00:00") << "UTC+8";

  v1::Schedule night;
  night.set_frequency(v1::DAILY);
  t = TimesOn(day, night, 22 * 60, 6 * 60, tz);
  EXPECT_EQ(t.due, absl::FromCivil(absl::CivilMinute(2026, 3, 3, 6, 0), tz));
  EXPECT_EQ(t.miss, t.due);
  night.set_due_by("05:00");  // on the 22:00-06:00 shift: the next morning
  t = TimesOn(day, night, 22 * 60, 6 * 60, tz);
  EXPECT_EQ(t.due, absl::FromCivil(absl::CivilMinute(2026, 3, 3, 5, 0), tz));
  night.set_due_by("23:30");  // the same evening
  EXPECT_EQ(TimesOn(day, night, 22 * 60, 6 * 60, tz).due,
            absl::FromCivil(absl::CivilMinute(2026, 3, 2, 23, 30), tz));

  EXPECT_EQ(ParseClock("06:00"), 360);
  EXPECT_FALSE(ParseClock("24:00"));
  EXPECT_FALSE(ParseClock("6:00"));
  EXPECT_FALSE(ParseClock("06-00"));
  v1::Schedule bad;
  bad.set_frequency(v1::WEEKLY);
  EXPECT_EQ(CheckSchedule("s", bad).message().rfind("s.days_of_week:", 0), 0u);
  bad.add_days_of_week(8);
  EXPECT_FALSE(CheckSchedule("s", bad).ok());
}

v1::Standard Lobby() {
  v1::Standard s;
  s.set_pass_score(80);
  for (const auto& [code, weight] :
       std::vector<std::pair<std::string, int>>{{"floor", 50}, {"glass", 30}, {"bins", 20}}) {
    v1::StandardItem* i = s.add_items();
    i->set_code(code);
    i->set_weight(weight);
  }
  return s;
}

google::protobuf::RepeatedPtrField<v1::ItemScore> Scores(
    std::vector<std::pair<std::string, int>> scores) {
  google::protobuf::RepeatedPtrField<v1::ItemScore> out;
  for (const auto& [code, score] : scores) {
    v1::ItemScore* s = out.Add();
    s->set_code(code);
    s->set_score(score);
  }
  return out;
}

TEST(Inspection, TheWeightedScoreDecidesAndEveryItemCounts) {
  // (90*50 + 70*30 + 80*20) / 100 = 82.00
  absl::StatusOr<Scored> s =
      ScoreInspection(Lobby(), Scores({{"floor", 90}, {"glass", 70}, {"bins", 80}}));
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(s->score_centi, 8200);
  EXPECT_TRUE(s->passed);
  // (70*50 + 85*30 + 90*20) / 100 = 78.50
  s = ScoreInspection(Lobby(), Scores({{"floor", 70}, {"glass", 85}, {"bins", 90}}));
  EXPECT_EQ(s->score_centi, 7850);
  EXPECT_FALSE(s->passed);
  // Half up: weights 1 and 2, scores 0 and 1 -> 2/3 = 0.666.. -> 0.67
  v1::Standard thirds;
  for (const auto& [code, w] : std::vector<std::pair<std::string, int>>{{"a", 1}, {"b", 2}}) {
    v1::StandardItem* i = thirds.add_items();
    i->set_code(code);
    i->set_weight(w);
  }
  EXPECT_EQ(ScoreInspection(thirds, Scores({{"a", 0}, {"b", 1}}))->score_centi, 67);

  EXPECT_FALSE(ScoreInspection(Lobby(), Scores({{"floor", 90}, {"glass", 70}})).ok())
      << "bins not scored";
  EXPECT_FALSE(
      ScoreInspection(Lobby(), Scores({{"floor", 90}, {"glass", 70}, {"bins", 80}, {"x", 1}})).ok());
  EXPECT_FALSE(
      ScoreInspection(Lobby(), Scores({{"floor", 101}, {"glass", 70}, {"bins", 80}})).ok());
  EXPECT_EQ(RateBp(7, 8), 8750);
  EXPECT_EQ(RateBp(2, 3), 6667);
  EXPECT_EQ(RateBp(1, 0), 0);
  EXPECT_EQ(RateBp(int64_t{1} << 40, 1), std::numeric_limits<int32_t>::max()) << "no wrap";
}

TEST(MovingAverage, IssuesLeaveAtTheAverageAndTheLastOneTakesWhatIsLeft) {
  Position p;
  p = {10, 1000};                                  // 10 at 1.00
  p = {p.quantity + 10, p.value + 10 * 130};       // 10 more at 1.30 -> avg 1.15
  EXPECT_EQ(AverageCost(p), 115);
  EXPECT_EQ(*OutValue(p, 5), 575);
  p = {15, 2300 - 575};
  EXPECT_EQ(*OutValue(p, 15), 1725) << "emptying takes the whole value";
  // 3 units worth 100: one leaves at 33, the rest keeps 67, no fen lost.
  EXPECT_EQ(*OutValue({3, 100}, 1), 33);
  EXPECT_EQ(*OutValue({2, 67}, 2), 67);
  EXPECT_EQ(OutValue({2, 67}, 3).status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(AverageCost({0, 0}), 0);
}

TEST(Variance, ASurplusComesInAtAverageOrTheLastKnownCostAndAShortageLeavesAtAverage) {
  EXPECT_EQ(*DeltaValue({10, 1150}, 2, 999), 230);
  EXPECT_EQ(*DeltaValue({10, 1150}, -2, 999), -230);
  EXPECT_EQ(*DeltaValue({0, 0}, 3, 120), 360) << "nothing held: the fallback cost";
  EXPECT_EQ(DeltaValue({1, 100}, -2, 0).status().code(), absl::StatusCode::kFailedPrecondition);
}

TEST(Signatures, RecipientThenMonitorThenManagerEachSomeoneElse) {
  EXPECT_TRUE(CheckSignature(v1::DRAFT, v1::RECIPIENT, {}, "li", false).ok());
  EXPECT_EQ(CheckSignature(v1::DRAFT, v1::MONITOR, {}, "wu", false).code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(CheckSignature(v1::RECIPIENT_SIGNED, v1::MONITOR, {"li"}, "li", false).code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(CheckSignature(v1::RECIPIENT_SIGNED, v1::MONITOR, {"li"}, "wu", false).ok());
  EXPECT_EQ(CheckSignature(v1::MONITOR_SIGNED, v1::MANAGER, {"li", "wu"}, "zhao", false).code(),
            absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(CheckSignature(v1::MONITOR_SIGNED, v1::MANAGER, {"li", "wu"}, "wu", true).code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(CheckSignature(v1::MONITOR_SIGNED, v1::MANAGER, {"li", "wu"}, "zhao", true).ok());
  EXPECT_EQ(CheckSignature(v1::MANAGER_SIGNED, v1::MANAGER, {"li", "wu", "zhao"}, "x", true).code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(StateAfter(v1::MANAGER), v1::MANAGER_SIGNED);
}

}  // namespace
}  // namespace cleaning
