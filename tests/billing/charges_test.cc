// What a bill run charges one account: the rules alone.
#include "services/billing/charges.h"

#include "gtest/gtest.h"

namespace billing {
namespace {

Decimal D(const char* text) { return *Decimal::Parse(text, "test"); }

Period March() { return *PeriodContaining(Cycle::kMonthly, absl::CivilDay(2026, 3, 9)); }

std::map<int64_t, ChargeRule> Rules() {
  std::map<int64_t, ChargeRule> rules;
  ChargeRule fee{1, "property-fee", ChargeKind::kPerArea, Cycle::kMonthly, D("2.6"), {}, "",
                 absl::CivilDay(2026, 1, 1), std::nullopt, 14};
  ChargeRule water{2, "water", ChargeKind::kMetered, Cycle::kMonthly, Decimal(),
                   {{D("10"), D("3.5")}, {std::nullopt, D("4.2")}}, "water",
                   absl::CivilDay(2026, 1, 1), std::nullopt, 20};
  ChargeRule cable{3, "cable-tv-install", ChargeKind::kOneOff, std::nullopt, D("380"), {}, "",
                   absl::CivilDay(2026, 3, 20), std::nullopt, 7};
  ChargeRule yearly{4, "garden", ChargeKind::kFixed, Cycle::kYearly, D("600"), {}, "",
                    absl::CivilDay(2026, 1, 1), std::nullopt, 30};
  ChargeRule ends{5, "pool", ChargeKind::kFixed, Cycle::kMonthly, D("31"), {}, "",
                  absl::CivilDay(2026, 1, 1), absl::CivilDay(2026, 3, 11), 0};
  for (const ChargeRule& r : {fee, water, cable, yearly, ends}) rules.emplace(r.id, r);
  return rules;
}

AccountFacts Account(std::vector<int64_t> items, absl::CivilDay fee_start = absl::CivilDay(2026, 1, 1)) {
  AccountFacts a;
  a.id = 77;
  a.area = D("98.37");
  a.fee_start = fee_start;
  a.items = std::move(items);
  return a;
}

TEST(LinesFor, AFullMonthOfAPerAreaFeeIsRateTimesAreaRoundedOnce) {
  auto lines = LinesFor(Account({1}), Rules(), Cycle::kMonthly, March());
  ASSERT_TRUE(lines.ok());
  ASSERT_EQ(lines->size(), 1u);
  EXPECT_EQ((*lines)[0].amount_minor, 25576);  // 255.762 yuan
  EXPECT_EQ((*lines)[0].period_label, "2026-03");
  EXPECT_EQ((*lines)[0].quantity.ToString(), "98.37");
  EXPECT_EQ((*lines)[0].due, absl::CivilDay(2026, 3, 15));
}

TEST(LinesFor, AUnitHandedOverMidMonthPaysFromThatDay) {
  auto lines = LinesFor(Account({1}, absl::CivilDay(2026, 3, 17)), Rules(), Cycle::kMonthly, March());
  ASSERT_TRUE(lines.ok());
  ASSERT_EQ(lines->size(), 1u);
  // 25576.2 fen x 15/31 = 12375.58 fen.
  EXPECT_EQ((*lines)[0].amount_minor, 12376);
  // Fees starting after the period: nothing.
  lines = LinesFor(Account({1}, absl::CivilDay(2026, 4, 1)), Rules(), Cycle::kMonthly, March());
  ASSERT_TRUE(lines.ok());
  EXPECT_TRUE(lines->empty());
}

TEST(LinesFor, AnItemEndingMidPeriodIsChargedUpToItsEnd) {
  auto lines = LinesFor(Account({5}), Rules(), Cycle::kMonthly, March());
  ASSERT_TRUE(lines.ok());
  ASSERT_EQ(lines->size(), 1u);
  EXPECT_EQ((*lines)[0].amount_minor, 1000);  // 31 yuan x 10/31 days
}

TEST(LinesFor, MeteredChargesFollowTheTiersAndSkipZeroConsumption) {
  AccountFacts a = Account({2});
  auto lines = LinesFor(a, Rules(), Cycle::kMonthly, March());
  ASSERT_TRUE(lines.ok());
  EXPECT_TRUE(lines->empty());
  a.consumption["water"] = D("12.5");
  lines = LinesFor(a, Rules(), Cycle::kMonthly, March());
  ASSERT_TRUE(lines.ok());
  ASSERT_EQ(lines->size(), 1u);
  EXPECT_EQ((*lines)[0].amount_minor, 4550);
  EXPECT_EQ((*lines)[0].quantity.ToString(), "12.5");
}

TEST(LinesFor, OneOffItemsAreBilledOnceUnderTheirOwnLabelInThePeriodOfTheirDate) {
  auto lines = LinesFor(Account({3}), Rules(), Cycle::kMonthly, March());
  ASSERT_TRUE(lines.ok());
  ASSERT_EQ(lines->size(), 1u);
  EXPECT_EQ((*lines)[0].period_label, kOnceLabel);
  EXPECT_EQ((*lines)[0].amount_minor, 38000);
  EXPECT_EQ((*lines)[0].due, absl::CivilDay(2026, 3, 27));
  const Period april = *PeriodContaining(Cycle::kMonthly, absl::CivilDay(2026, 4, 1));
  lines = LinesFor(Account({3}), Rules(), Cycle::kMonthly, april);
  ASSERT_TRUE(lines.ok());
  EXPECT_TRUE(lines->empty());
}

TEST(LinesFor, OnlyItemsOfTheRunsCycleAreCharged) {
  auto lines = LinesFor(Account({1, 4}), Rules(), Cycle::kYearly,
                        *PeriodContaining(Cycle::kYearly, absl::CivilDay(2026, 3, 1)));
  ASSERT_TRUE(lines.ok());
  ASSERT_EQ(lines->size(), 1u);
  EXPECT_EQ((*lines)[0].item_id, 4);
  EXPECT_EQ((*lines)[0].amount_minor, 60000);
}

TEST(LinesFor, SuspendedAccountsAreNotChargedAndUnknownItemsAreAnError) {
  AccountFacts a = Account({1, 2});
  a.state = AccountState::kSuspended;
  auto lines = LinesFor(a, Rules(), Cycle::kMonthly, March());
  ASSERT_TRUE(lines.ok());
  EXPECT_TRUE(lines->empty());
  EXPECT_EQ(LinesFor(Account({99}), Rules(), Cycle::kMonthly, March()).status().code(),
            absl::StatusCode::kFailedPrecondition);
}

}  // namespace
}  // namespace billing
