// Bill arithmetic against independent integer computations: every expected
// figure is worked out here from first principles, not taken from the code.
#include "services/billing/money.h"

#include "gtest/gtest.h"

namespace billing {
namespace {

Decimal D(const char* text) {
  auto d = Decimal::Parse(text, "x");
  EXPECT_TRUE(d.ok()) << text << ": " << d.status();
  return d.ok() ? *d : Decimal::FromUnits(0, 0);
}

TEST(Decimal, ParsesPlainDecimalsExactly) {
  EXPECT_EQ(D("2.6").units(), 26);
  EXPECT_EQ(D("2.6").scale(), 1);
  EXPECT_EQ(D("0.0005").ToString(), "0.0005");
  EXPECT_EQ(D("98.370").ToString(), "98.37");
  EXPECT_EQ(D("12").ToString(), "12");
  EXPECT_EQ(D("0").ToString(), "0");
  EXPECT_TRUE(D("2.6") == D("2.60"));
  EXPECT_TRUE(D("2.59") < D("2.6"));
  EXPECT_EQ(D("999999999999999").units(), 999999999999999);
}

TEST(Decimal, RefusesAnythingElseNamingTheField) {
  for (const char* bad : {"", "-1", "+1", "1e3", "1.2.3", ".5", "5.", " 1", "1,5", "abc",
                          "0.0000000001", "1234567890123456", "NaN", "inf"}) {
    auto d = Decimal::Parse(bad, "charge_item.rate");
    EXPECT_EQ(d.status().code(), absl::StatusCode::kInvalidArgument) << bad;
    EXPECT_EQ(d.status().message().substr(0, 17), "charge_item.rate:") << bad;
  }
}

TEST(Rounding, HalfUpAwayFromZero) {
  EXPECT_EQ(*RoundHalfUp(4, 10), 0);
  EXPECT_EQ(*RoundHalfUp(5, 10), 1);
  EXPECT_EQ(*RoundHalfUp(15, 10), 2);
  EXPECT_EQ(*RoundHalfUp(14999, 10000), 1);
  EXPECT_EQ(*RoundHalfUp(-5, 10), -1);
  EXPECT_EQ(*RoundHalfUp(-4, 10), 0);
  EXPECT_EQ(*RoundHalfUp(-25, 10), -3);
  EXPECT_EQ(RoundHalfUp(1, 0).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(RoundHalfUp(static_cast<__int128>(1) << 70, 1).status().code(),
            absl::StatusCode::kOutOfRange);
}

TEST(LineAmount, PropertyFeeForEveryAreaUpTo1000SquareMetres) {
  // 2.6 yuan/m²/month = 260 fen per m²; an area of a/100 m² costs 260a/100
  // fen, rounded half-up: (260a + 50) / 100 in integer arithmetic.
  const Decimal rate = D("2.6");
  for (int64_t a = 0; a <= 100000; ++a) {
    auto got = LineAmountMinor(rate, Decimal::FromUnits(a, 2));
    ASSERT_TRUE(got.ok());
    ASSERT_EQ(*got, (260 * a + 50) / 100) << "area " << a << "/100 m²";
  }
}

TEST(LineAmount, ProRataShareRoundsOnceNotPerStep) {
  // 98.37 m² at 2.6 for 19 of 30 days: 260 * 9837 * 19 / (100 * 30) fen
  // = 48594780 / 3000 = 16198.26 -> 16198. Rounding the month first (25576)
  // and then the share (16198.13) would agree here; the next case would not.
  EXPECT_EQ(*LineAmountMinor(D("2.6"), D("98.37"), {19, 30}), (260 * 9837 * 19 + 1500) / 3000);
  // 0.003 yuan x 1 = 0.3 fen per day share; 5/3 of it = 0.5 fen exactly -> 1.
  EXPECT_EQ(*LineAmountMinor(D("0.003"), D("1"), {5, 3}), 1);
  EXPECT_EQ(*LineAmountMinor(D("0.005"), D("1")), 1) << "half a fen rounds up";
  EXPECT_EQ(*LineAmountMinor(D("0.0049"), D("1")), 0);
  EXPECT_EQ(*LineAmountMinor(D("120"), D("1")), 12000) << "a fixed fee";
  EXPECT_EQ(LineAmountMinor(D("999999999999999"), D("999999999999999")).status().code(),
            absl::StatusCode::kOutOfRange);
  EXPECT_EQ(LineAmountMinor(D("1"), D("1"), {1, 0}).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(Tiers, WaterTiersAgainstAHandSum) {
  // First 10 m³ at 3.5, the next 10 at 4.2, the rest at 5.6 (yuan per m³).
  const std::vector<Tier> tiers = {{D("10"), D("3.5")}, {D("20"), D("4.2")}, {std::nullopt, D("5.6")}};
  // Consumption c tenths of a m³: cost in tenths of a fen, then rounded.
  for (int64_t c = 0; c <= 500; ++c) {
    const int64_t t1 = std::min<int64_t>(c, 100), t2 = std::clamp<int64_t>(c - 100, 0, 100),
                  t3 = std::max<int64_t>(c - 200, 0);
    const int64_t tenth_fen = t1 * 350 + t2 * 420 + t3 * 560;  // (c/10 m³) x (fen per m³)
    auto got = TieredAmountMinor(tiers, Decimal::FromUnits(c, 1));
    ASSERT_TRUE(got.ok()) << got.status();
    ASSERT_EQ(*got, (tenth_fen + 5) / 10) << c << " tenths of a m³";
  }
  EXPECT_EQ(*TieredAmountMinor(tiers, D("25.5")), 10780);  // 35 + 42 + 30.8 yuan
}

TEST(Tiers, RefusesMalformedTiers) {
  EXPECT_FALSE(TieredAmountMinor({}, D("1")).ok());
  EXPECT_FALSE(TieredAmountMinor({{D("10"), D("1")}}, D("1")).ok()) << "last tier bounded";
  EXPECT_FALSE(TieredAmountMinor({{D("10"), D("1")}, {D("5"), D("2")}, {std::nullopt, D("3")}}, D("20")).ok());
}

TEST(ProRata, HandedOverMidMonth) {
  const absl::CivilDay march(2026, 3, 1), april(2026, 4, 1);
  Fraction f = ProRata(march, april, absl::CivilDay(2026, 3, 17));
  EXPECT_EQ(f.num, 15);  // the 17th to the 31st, both paid
  EXPECT_EQ(f.den, 31);
  f = ProRata(absl::CivilDay(2028, 2, 1), absl::CivilDay(2028, 3, 1), absl::CivilDay(2028, 2, 29));
  EXPECT_EQ(f.num, 1);
  EXPECT_EQ(f.den, 29) << "a leap February";
  f = ProRata(march, april, absl::CivilDay(2025, 12, 1));
  EXPECT_EQ(f.num, f.den) << "fees that started earlier pay the whole period";
  EXPECT_EQ(ProRata(march, april, april).num, 0) << "fees starting after the period";
  // A quarter (heating seasons and quarterly cycles are periods too).
  f = ProRata(absl::CivilDay(2026, 1, 1), absl::CivilDay(2026, 4, 1), absl::CivilDay(2026, 2, 15));
  EXPECT_EQ(f.num, 45);
  EXPECT_EQ(f.den, 90);
}

TEST(LateFee, GraceThenDailyRateUpToTheCap) {
  LateFeePolicy p{D("0.0005"), 10, std::nullopt};  // 0.05 % a day after 10 days' grace
  const absl::CivilDay due(2026, 3, 1);
  EXPECT_EQ(*LateFeeMinor(p, 100000, due, due), 0);
  EXPECT_EQ(*LateFeeMinor(p, 100000, due, due + 10), 0) << "paid on the last day of grace";
  EXPECT_EQ(*LateFeeMinor(p, 100000, due, due + 11), 50) << "one day charged: 1000 yuan x 0.05 %";
  EXPECT_EQ(*LateFeeMinor(p, 100000, due, due + 30), 50 * 20);
  EXPECT_EQ(*LateFeeMinor(p, 3333, due, due + 13), (3333 * 5 * 3 + 5000) / 10000)
      << "rounded once over the days, not per day";
  p.cap_minor = 700;
  EXPECT_EQ(*LateFeeMinor(p, 100000, due, due + 365), 700);
  EXPECT_EQ(*LateFeeMinor(p, 0, due, due + 365), 0);
  EXPECT_FALSE(LateFeeMinor(p, -1, due, due + 20).ok());
}

}  // namespace
}  // namespace billing
