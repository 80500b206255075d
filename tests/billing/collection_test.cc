// Report arithmetic alone.
#include "services/billing/collection.h"

#include "gtest/gtest.h"

namespace billing {
namespace {

TEST(RateBasisPoints, RoundsHalfUpAndIsZeroWhenNothingWasBilled) {
  EXPECT_EQ(RateBasisPoints(9955, 10000), 9955);
  EXPECT_EQ(RateBasisPoints(1, 3), 3333);      // 3333.33
  EXPECT_EQ(RateBasisPoints(2, 3), 6667);      // 6666.67
  EXPECT_EQ(RateBasisPoints(1, 20000), 1);     // 0.5 -> 1
  EXPECT_EQ(RateBasisPoints(0, 100), 0);
  EXPECT_EQ(RateBasisPoints(0, 0), 0);
  EXPECT_EQ(RateBasisPoints(int64_t{1} << 60, int64_t{1} << 60), 10000);  // no overflow
}

TEST(BuildCollectionReport, SeparatesDisputedLinesAndGroupsByBuildingAndItem) {
  const std::vector<LineSums> sums = {
      {"1", "property-fee", false, 10, 100000, 92000, 0},
      {"1", "property-fee", true, 2, 20000, 0, 0},
      {"2", "property-fee", false, 5, 50000, 50000, 0},
      {"2", "garden", false, 1, 8000, 0, 8000},
  };
  const v1::CollectionReport r = BuildCollectionReport(sums);
  EXPECT_EQ(r.all_lines().total().billed_minor(), 178000);
  EXPECT_EQ(r.all_lines().total().collected_minor(), 142000);
  EXPECT_EQ(r.all_lines().total().written_off_minor(), 8000);
  EXPECT_EQ(r.all_lines().total().outstanding_minor(), 28000);
  EXPECT_EQ(r.all_lines().total().rate_basis_points(), 7978);  // 79.775%
  EXPECT_EQ(r.excluding_disputed().total().billed_minor(), 158000);
  EXPECT_EQ(r.excluding_disputed().total().rate_basis_points(), 8987);  // 89.873%
  EXPECT_EQ(r.disputed().billed_minor(), 20000);
  EXPECT_EQ(r.disputed_lines(), 2);
  ASSERT_EQ(r.all_lines().by_building_size(), 2);
  EXPECT_EQ(r.all_lines().by_building(0).key(), "1");
  EXPECT_EQ(r.all_lines().by_building(0).billed_minor(), 120000);
  EXPECT_EQ(r.excluding_disputed().by_building(0).billed_minor(), 100000);
  ASSERT_EQ(r.all_lines().by_charge_item_size(), 2);
  EXPECT_EQ(r.all_lines().by_charge_item(0).key(), "garden");
  EXPECT_EQ(r.all_lines().by_charge_item(1).billed_minor(), 170000);
}

TEST(AddToAging, BucketsAddUpAndDisputedStaysOutOfTheTotal) {
  v1::Aging a;
  AddToAging(&a, 0, 100);
  AddToAging(&a, 1, 200);
  AddToAging(&a, 2, 300);
  AddToAging(&a, 3, 400);
  AddToAging(&a, kHeldBucket, 1000);
  AddToAging(&a, 0, 5);
  EXPECT_EQ(a.days_0_30_minor(), 105);
  EXPECT_EQ(a.days_31_90_minor(), 200);
  EXPECT_EQ(a.days_91_180_minor(), 300);
  EXPECT_EQ(a.days_over_180_minor(), 400);
  EXPECT_EQ(a.disputed_minor(), 1000);
  EXPECT_EQ(a.total_minor(), 1005);
}

}  // namespace
}  // namespace billing
