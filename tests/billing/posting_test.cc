// Posting and reversing a payment, without a database: where the money and
// the credit go.
#include "services/billing/posting.h"

#include "gtest/gtest.h"

namespace billing {
namespace {

// January, February and March, 20000 each, nothing paid.
std::vector<OpenLine> Quarter() {
  return {{1, absl::CivilDay(2026, 1, 15), 20000, 0, false},
          {2, absl::CivilDay(2026, 2, 15), 20000, 0, false},
          {3, absl::CivilDay(2026, 3, 15), 20000, 0, false}};
}

TEST(PlanPaymentTest, OldestFirstAndWhatIsLeftBecomesCredit) {
  absl::StatusOr<PaymentPlan> plan = PlanPayment(Quarter(), 65000, {}, 0);
  ASSERT_TRUE(plan.ok()) << plan.status();
  ASSERT_EQ(plan->from_payment.size(), 3u);
  EXPECT_EQ(plan->from_payment[0].line_id, 1);
  EXPECT_EQ(plan->from_payment[2].amount_minor, 20000);
  EXPECT_TRUE(plan->from_credit.empty());
  EXPECT_EQ(plan->to_credit_minor, 5000);
  EXPECT_EQ(plan->credit_after_minor, 5000);
}

TEST(PlanPaymentTest, CreditTheAccountHadPaysWhatThePaymentLeftOpen) {
  // 30000 paid naming March; 25000 of credit then pays January and part of
  // February, oldest first.
  absl::StatusOr<PaymentPlan> plan = PlanPayment(Quarter(), 30000, {3}, 25000);
  ASSERT_TRUE(plan.ok()) << plan.status();
  ASSERT_EQ(plan->from_payment.size(), 1u);
  EXPECT_EQ(plan->from_payment[0].line_id, 3);
  EXPECT_EQ(plan->from_payment[0].amount_minor, 20000);
  EXPECT_EQ(plan->to_credit_minor, 10000);
  ASSERT_EQ(plan->from_credit.size(), 2u);
  EXPECT_EQ(plan->from_credit[0].line_id, 1);
  EXPECT_EQ(plan->from_credit[0].amount_minor, 20000);
  EXPECT_EQ(plan->from_credit[1].line_id, 2);
  EXPECT_EQ(plan->from_credit[1].amount_minor, 5000);
  EXPECT_EQ(plan->credit_after_minor, 10000) << "the payment's leftover only";
}

TEST(PlanPaymentTest, AHeldLineIsLeftToNamingAndBadNamesAreRefused) {
  std::vector<OpenLine> lines = Quarter();
  lines[0].held = true;
  absl::StatusOr<PaymentPlan> plan = PlanPayment(lines, 20000, {}, 0);
  ASSERT_TRUE(plan.ok());
  EXPECT_EQ(plan->from_payment[0].line_id, 2) << "the disputed January is skipped";
  EXPECT_EQ(PlanPayment(lines, 100, {9}, 0).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(PlanPayment(lines, 0, {}, 0).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(PlanReversalTest, UndoesItsAllocationsAndTakesItsCreditBackNewestFirst) {
  // It paid January and left 15000 of credit; the account has 5000 left,
  // the rest paid February (earlier) and March (latest).
  absl::StatusOr<ReversalPlan> plan =
      PlanReversal({{1, 20000}}, 15000, 5000, {{3, 6000}, {2, 8000}});
  ASSERT_TRUE(plan.ok()) << plan.status();
  ASSERT_EQ(plan->undo.size(), 1u);
  EXPECT_EQ(plan->undo[0].amount_minor, -20000);
  ASSERT_EQ(plan->take_back.size(), 2u);
  EXPECT_EQ(plan->take_back[0].line_id, 3);
  EXPECT_EQ(plan->take_back[0].amount_minor, -6000);
  EXPECT_EQ(plan->take_back[1].line_id, 2);
  EXPECT_EQ(plan->take_back[1].amount_minor, -4000);
  EXPECT_EQ(plan->credit_after_minor, 0);
}

TEST(PlanReversalTest, CreditThatCannotBeFoundIsAnError) {
  EXPECT_EQ(PlanReversal({}, 15000, 5000, {{3, 6000}}).status().code(),
            absl::StatusCode::kInternal);
  absl::StatusOr<ReversalPlan> plan = PlanReversal({{1, 100}}, 0, 700, {});
  ASSERT_TRUE(plan.ok());
  EXPECT_EQ(plan->credit_after_minor, 700) << "it left no credit: the account's stays";
}

}  // namespace
}  // namespace billing
