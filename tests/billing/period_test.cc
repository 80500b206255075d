// Billing periods: calendar boundaries, and a heating season across the new year.
#include "services/billing/period.h"

#include "gtest/gtest.h"

namespace billing {
namespace {

using absl::CivilDay;

TEST(Period, MonthsQuartersAndYears) {
  auto m = PeriodContaining(Cycle::kMonthly, CivilDay(2026, 12, 31));
  EXPECT_EQ(m->start, CivilDay(2026, 12, 1));
  EXPECT_EQ(m->end, CivilDay(2027, 1, 1));
  EXPECT_EQ(m->label, "2026-12");
  EXPECT_EQ(PeriodContaining(Cycle::kMonthly, CivilDay(2028, 2, 10))->days(), 29);
  auto q = PeriodContaining(Cycle::kQuarterly, CivilDay(2026, 6, 30));
  EXPECT_EQ(q->start, CivilDay(2026, 4, 1));
  EXPECT_EQ(q->end, CivilDay(2026, 7, 1));
  EXPECT_EQ(q->label, "2026-Q2");
  EXPECT_EQ(PeriodContaining(Cycle::kQuarterly, CivilDay(2026, 10, 1))->label, "2026-Q4");
  auto y = PeriodContaining(Cycle::kYearly, CivilDay(2026, 7, 4));
  EXPECT_EQ(y->days(), 365);
  EXPECT_EQ(y->label, "2026");
}

TEST(Period, EveryDayOfAYearFallsInExactlyOnePeriodOfEachCycle) {
  for (Cycle c : {Cycle::kMonthly, Cycle::kQuarterly, Cycle::kYearly}) {
    for (CivilDay d(2026, 1, 1); d < CivilDay(2027, 1, 1); ++d) {
      auto p = PeriodContaining(c, d);
      ASSERT_TRUE(p.has_value());
      ASSERT_LE(p->start, d);
      ASSERT_LT(d, p->end);
      // The day before the start and the end itself belong to other periods.
      ASSERT_NE(PeriodContaining(c, p->start - 1)->label, p->label);
      ASSERT_NE(PeriodContaining(c, p->end)->label, p->label);
    }
  }
}

TEST(Period, HeatingSeasonSpansTheNewYear) {
  const HeatingSeason harbin{10, 20, 4, 21};  // 20 October to 20 April
  auto s = PeriodContaining(Cycle::kHeatingSeason, CivilDay(2027, 1, 15), harbin);
  ASSERT_TRUE(s.has_value());
  EXPECT_EQ(s->start, CivilDay(2026, 10, 20));
  EXPECT_EQ(s->end, CivilDay(2027, 4, 21));
  EXPECT_EQ(s->label, "heating-2026/27");
  EXPECT_EQ(PeriodContaining(Cycle::kHeatingSeason, CivilDay(2026, 10, 20), harbin)->label,
            "heating-2026/27");
  EXPECT_EQ(PeriodContaining(Cycle::kHeatingSeason, CivilDay(2027, 4, 20), harbin)->label,
            "heating-2026/27");
  EXPECT_FALSE(PeriodContaining(Cycle::kHeatingSeason, CivilDay(2027, 4, 21), harbin).has_value())
      << "no heating bill in summer";
  EXPECT_FALSE(PeriodContaining(Cycle::kHeatingSeason, CivilDay(2026, 10, 19), harbin).has_value());
  const HeatingSeason within_year{1, 1, 3, 1};
  EXPECT_EQ(PeriodContaining(Cycle::kHeatingSeason, CivilDay(2026, 2, 28), within_year)->label,
            "heating-2026");
}

}  // namespace
}  // namespace billing

namespace billing {
namespace {

TEST(PeriodOfLabel, ReadsBackEveryLabelPeriodContainingWrites) {
  const HeatingSeason harbin{10, 20, 4, 20};
  for (Cycle c : {Cycle::kMonthly, Cycle::kQuarterly, Cycle::kYearly, Cycle::kHeatingSeason}) {
    for (absl::CivilDay d(2025, 1, 1); d < absl::CivilDay(2027, 1, 1); d += 17) {
      std::optional<Period> p = PeriodContaining(c, d, harbin);
      if (!p.has_value()) continue;
      std::optional<LabeledPeriod> back = PeriodOfLabel(p->label, harbin);
      ASSERT_TRUE(back.has_value()) << p->label;
      EXPECT_EQ(back->cycle, c) << p->label;
      EXPECT_EQ(back->period.start, p->start) << p->label;
      EXPECT_EQ(back->period.end, p->end) << p->label;
    }
  }
}

TEST(PeriodOfLabel, RejectsAnythingButTheCanonicalSpelling) {
  for (const char* bad : {"", "2026-3", "2026-13", "2026-00", "2026-Q5", "2026-Q0", "26",
                          "heating-2026", "heating-2026/28", "heating-x", "once", "2026-03-01",
                          " 2026"}) {
    EXPECT_FALSE(PeriodOfLabel(bad).has_value()) << bad;
  }
  EXPECT_EQ(PeriodOfLabel("2026-Q2")->period.start, absl::CivilDay(2026, 4, 1));
}

}  // namespace
}  // namespace billing
