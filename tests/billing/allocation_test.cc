// Payment allocation: oldest first, named bills, held lines, credit,
// reversal; and the invariants over many random accounts.
#include "services/billing/allocation.h"

#include <random>

#include "gtest/gtest.h"

namespace billing {
namespace {

const absl::CivilDay kJan(2026, 1, 25), kFeb(2026, 2, 25), kMar(2026, 3, 25);

TEST(Allocate, OldestOpenLinesFirstAndTheRestAsCredit) {
  std::vector<OpenLine> lines = {{3, kMar, 26000, 0}, {1, kJan, 26000, 10000}, {2, kFeb, 26000, 0}};
  auto r = Allocate(lines, 50000);
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(r->allocations.size(), 3u);
  EXPECT_EQ(r->allocations[0].line_id, 1);  // January's remaining 160 yuan
  EXPECT_EQ(r->allocations[0].amount_minor, 16000);
  EXPECT_EQ(r->allocations[1].line_id, 2);
  EXPECT_EQ(r->allocations[1].amount_minor, 26000);
  EXPECT_EQ(r->allocations[2].line_id, 3);
  EXPECT_EQ(r->allocations[2].amount_minor, 8000);
  EXPECT_EQ(r->to_credit_minor, 0);

  auto over = Allocate(lines, 100000);
  EXPECT_EQ(over->to_credit_minor, 100000 - 16000 - 26000 - 26000) << "overpayment becomes credit";
}

TEST(Allocate, SameDueDateByLineId) {
  auto r = Allocate({{9, kJan, 100, 0}, {4, kJan, 100, 0}}, 150);
  EXPECT_EQ(r->allocations[0].line_id, 4);
  EXPECT_EQ(r->allocations[1].line_id, 9);
  EXPECT_EQ(r->allocations[1].amount_minor, 50);
}

TEST(Allocate, HeldLinesWaitUnlessNamed) {
  std::vector<OpenLine> lines = {{1, kJan, 5000, 0, /*held=*/true}, {2, kFeb, 5000, 0}};
  auto r = Allocate(lines, 5000);
  ASSERT_EQ(r->allocations.size(), 1u);
  EXPECT_EQ(r->allocations[0].line_id, 2) << "a disputed line takes no money by default";
  auto named = Allocate(lines, 3000, {1});
  ASSERT_EQ(named->allocations.size(), 1u);
  EXPECT_EQ(named->allocations[0].line_id, 1) << "naming it settles it";
}

TEST(Allocate, NamedBillsInTheOrderNamed) {
  std::vector<OpenLine> lines = {{1, kJan, 100, 0}, {2, kFeb, 100, 0}, {3, kMar, 100, 0}};
  auto r = Allocate(lines, 150, {3, 1});
  ASSERT_EQ(r->allocations.size(), 2u);
  EXPECT_EQ(r->allocations[0].line_id, 3);
  EXPECT_EQ(r->allocations[1].line_id, 1);
  EXPECT_EQ(r->allocations[1].amount_minor, 50);
  EXPECT_EQ(r->to_credit_minor, 0);
  EXPECT_EQ(Allocate(lines, 300, {3})->to_credit_minor, 200) << "beyond the named bills: credit";
}

TEST(Allocate, RefusesBadRequests) {
  std::vector<OpenLine> lines = {{1, kJan, 100, 100}, {2, kFeb, 100, 0}};
  EXPECT_EQ(Allocate(lines, 0).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Allocate(lines, -5).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Allocate(lines, 50, {1}).status().code(), absl::StatusCode::kInvalidArgument) << "paid";
  EXPECT_EQ(Allocate(lines, 50, {7}).status().code(), absl::StatusCode::kInvalidArgument) << "unknown";
  EXPECT_EQ(Allocate(lines, 50, {2, 2}).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(Reverse, ReopensExactlyWhatWasPaid) {
  std::vector<OpenLine> lines = {{1, kJan, 26000, 0}, {2, kFeb, 26000, 0}};
  auto paid = Allocate(lines, 30000);
  std::vector<Allocation> undo = Reverse(paid->allocations);
  int64_t paid_1 = 0, paid_2 = 0;
  for (const auto& a : paid->allocations) (a.line_id == 1 ? paid_1 : paid_2) += a.amount_minor;
  for (const auto& a : undo) (a.line_id == 1 ? paid_1 : paid_2) += a.amount_minor;
  EXPECT_EQ(paid_1, 0);
  EXPECT_EQ(paid_2, 0);
  EXPECT_EQ(StateOf(26000, paid_1), LineState::kOpen);
}

TEST(StateOf, FollowsThePaidAmount) {
  EXPECT_EQ(StateOf(100, 0), LineState::kOpen);
  EXPECT_EQ(StateOf(100, 1), LineState::kPartiallyPaid);
  EXPECT_EQ(StateOf(100, 100), LineState::kPaid);
}

TEST(Allocate, InvariantsOverManyRandomAccounts) {
  std::mt19937_64 rng(20261127);
  for (int account = 0; account < 2000; ++account) {
    std::vector<OpenLine> lines;
    const int n = 1 + static_cast<int>(rng() % 8);
    for (int i = 0; i < n; ++i) {
      const int64_t amount = 1 + static_cast<int64_t>(rng() % 50000);
      lines.push_back({i + 1, kJan + static_cast<int>(rng() % 90), amount,
                       static_cast<int64_t>(rng() % (amount + 1)), rng() % 5 == 0});
    }
    const int64_t pay = 1 + static_cast<int64_t>(rng() % 120000);
    auto r = Allocate(lines, pay);
    ASSERT_TRUE(r.ok());
    int64_t total = r->to_credit_minor;
    for (const auto& a : r->allocations) {
      total += a.amount_minor;
      const OpenLine& l = lines[a.line_id - 1];
      ASSERT_GT(a.amount_minor, 0);
      ASSERT_LE(a.amount_minor, l.outstanding()) << "no line is paid beyond its amount";
      ASSERT_FALSE(l.held);
    }
    ASSERT_EQ(total, pay) << "every fen is accounted for";
    if (r->to_credit_minor > 0) {
      // Credit only once every open, unheld line is fully paid.
      for (const OpenLine& l : lines) {
        if (l.held || l.outstanding() == 0) continue;
        int64_t got = 0;
        for (const auto& a : r->allocations) got += a.line_id == l.id ? a.amount_minor : 0;
        ASSERT_EQ(got, l.outstanding());
      }
    }
    // Oldest first: a line gets money only if every older open line is paid off.
    for (const auto& a : r->allocations) {
      const OpenLine& l = lines[a.line_id - 1];
      for (const OpenLine& older : lines) {
        if (older.held || older.outstanding() == 0) continue;
        if (older.due < l.due || (older.due == l.due && older.id < l.id)) {
          int64_t got = 0;
          for (const auto& b : r->allocations) got += b.line_id == older.id ? b.amount_minor : 0;
          ASSERT_EQ(got, older.outstanding()) << "line " << older.id << " is older than " << l.id;
        }
      }
    }
  }
}

}  // namespace
}  // namespace billing
