// How a one-off charge is split when it is given back, without a database.
#include "gtest/gtest.h"
#include "services/billing/refund.h"

namespace billing {
namespace {

TEST(RefundTest, PaidInFullTheRefundIsCreditLessWhatIsKept) {
  absl::StatusOr<RefundSplit> r = SplitRefund({200000, 200000, 0}, 50000);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->charged_minor, 200000);
  EXPECT_EQ(r->kept_minor, 50000);
  EXPECT_EQ(r->cancelled_minor, 0);
  EXPECT_EQ(r->credited_minor, 150000);
}

TEST(RefundTest, NeverPaidNothingIsPaidOutAndOnlyWhatIsKeptIsStillOwed) {
  absl::StatusOr<RefundSplit> r = SplitRefund({200000, 0, 0}, 30000);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->cancelled_minor, 170000);
  EXPECT_EQ(r->credited_minor, 0);
}

TEST(RefundTest, PartlyPaidTheUnpaidPartIsCancelledFirst) {
  // Paid 1,200 of 2,000, keeps 500: the 800 unpaid is cancelled and 700 of
  // what was paid comes back, so the payer has paid exactly the 500 kept.
  absl::StatusOr<RefundSplit> r = SplitRefund({200000, 120000, 0}, 50000);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->cancelled_minor, 80000);
  EXPECT_EQ(r->credited_minor, 70000);
  EXPECT_EQ(120000 - r->credited_minor, r->kept_minor);
  // Keeping more than was paid: nothing comes back, the rest is owed.
  r = SplitRefund({200000, 120000, 0}, 150000);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->cancelled_minor, 50000);
  EXPECT_EQ(r->credited_minor, 0);
}

TEST(RefundTest, WhatWasWrittenOffBeforeIsNotRefundedAgain) {
  absl::StatusOr<RefundSplit> r = SplitRefund({200000, 100000, 50000}, 0);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->charged_minor, 150000);
  EXPECT_EQ(r->cancelled_minor, 50000);
  EXPECT_EQ(r->credited_minor, 100000);
  EXPECT_EQ(SplitRefund({200000, 100000, 50000}, 150001).status().code(),
            absl::StatusCode::kFailedPrecondition);
}

TEST(RefundTest, KeepingEverythingRefundsNothingAndANegativeKeepIsRefused) {
  absl::StatusOr<RefundSplit> r = SplitRefund({200000, 200000, 0}, 200000);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->cancelled_minor + r->credited_minor, 0);
  EXPECT_EQ(SplitRefund({200000, 0, 0}, -1).status().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace billing
