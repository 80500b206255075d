// The warehouse against the real database: signatures in order by different
// people, no negative stock under contention, blind stocktakes with
// movements during the count, closed periods, transfers between sites, and
// balances that an independent recount of the ledger agrees with.
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "tests/cleaning/cleaning_fixture.h"
#include "tests/support/race.h"

namespace cleaning {
namespace {

class StockTest : public CleaningTest {
 protected:
  static v1::ListStockResponse Stock(const Site& s, const std::string& warehouse = "") {
    v1::ListStockRequest req;
    req.set_parent(s.name);
    req.set_warehouse(warehouse);
    v1::ListStockResponse out;
    EXPECT_TRUE(stub_->ListStock(Context().get(), req, &out).ok());
    return out;
  }
  static int64_t OnHand(const Site& s, const v1::Warehouse& w, const v1::Item& item) {
    const v1::ListStockResponse stock = Stock(s, w.name());
    for (const v1::StockLevel& l : stock.levels()) {
      if (l.item() == item.name()) return l.on_hand();
    }
    return 0;
  }
  static grpc::Status Post(const v1::IssueSlip& slip, v1::IssueSlip* out = nullptr) {
    v1::PostIssueSlipRequest req;
    req.set_name(slip.name());
    req.set_request_id(NewRequestId());
    v1::IssueSlip tmp;
    return stub_->PostIssueSlip(As("user:storekeeper").get(), req, out ? out : &tmp);
  }
  static int64_t Moves(const Site& s) {
    return sql_->Scalar("SELECT COUNT(*) FROM stock_moves WHERE site = ?", {s.id});
  }
};

TEST_F(StockTest, ASlipIsSignedInOrderByThreeDifferentPeopleThenPosted) {
  const Site s = NewSite();
  Receive(s, s.store, s.item, 10, 250);
  v1::CreateIssueSlipRequest req;
  req.set_parent(s.name);
  req.set_request_id(NewRequestId());
  req.mutable_slip()->set_warehouse(s.store.name());
  req.mutable_slip()->set_team(s.team.name());
  v1::SlipLine* line = req.mutable_slip()->add_lines();
  line->set_item(s.item.name());
  line->set_quantity(4);
  v1::IssueSlip slip;
  ASSERT_TRUE(stub_->CreateIssueSlip(Context().get(), req, &slip).ok());
  EXPECT_EQ(slip.state(), v1::DRAFT);
  EXPECT_EQ(Post(slip).error_code(), grpc::StatusCode::FAILED_PRECONDITION) << "not signed";

  const auto sign = [&](v1::SignatureRole role, const std::string& who,
                        const std::string& roles = "staff") {
    v1::SignIssueSlipRequest r;
    r.set_name(slip.name());
    r.set_role(role);
    r.set_request_id(NewRequestId());
    return stub_->SignIssueSlip(As(who, roles).get(), r, &slip);
  };
  EXPECT_EQ(sign(v1::MONITOR, "user:monitor-wu").error_code(),
            grpc::StatusCode::FAILED_PRECONDITION)
      << "the recipient signs first";
  clock_->Set(Local(3, 2, 9, 5));
  ASSERT_TRUE(sign(v1::RECIPIENT, "user:cleaner-li").ok());
  EXPECT_EQ(sign(v1::MONITOR, "user:cleaner-li").error_code(),
            grpc::StatusCode::FAILED_PRECONDITION)
      << "the recipient cannot also be the monitor";
  ASSERT_TRUE(sign(v1::MONITOR, "user:monitor-wu").ok());
  EXPECT_EQ(sign(v1::MANAGER, "user:clerk-sun", "staff").error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(sign(v1::MANAGER, "user:monitor-wu", "manager").error_code(),
            grpc::StatusCode::FAILED_PRECONDITION)
      << "the monitor cannot also be the manager";
  EXPECT_EQ(OnHand(s, s.store, s.item), 10) << "signatures move no stock";
  ASSERT_TRUE(sign(v1::MANAGER, "user:manager-zhao", "manager").ok());
  EXPECT_EQ(slip.state(), v1::MANAGER_SIGNED);
  ASSERT_EQ(slip.signatures_size(), 3);
  EXPECT_EQ(slip.signatures(0).signer(), "user:cleaner-li");
  EXPECT_EQ(slip.signatures(0).sign_time().seconds(), absl::ToUnixSeconds(Local(3, 2, 9, 5)));
  EXPECT_EQ(slip.signatures(2).signer(), "user:manager-zhao");

  v1::IssueSlip posted;
  ASSERT_TRUE(Post(slip, &posted).ok());
  EXPECT_EQ(posted.state(), v1::POSTED);
  EXPECT_EQ(posted.value_minor(), 1000);
  EXPECT_EQ(OnHand(s, s.store, s.item), 6);
  EXPECT_EQ(Post(slip).error_code(), grpc::StatusCode::FAILED_PRECONDITION) << "posted once";
  EXPECT_EQ(OnHand(s, s.store, s.item), 6);
}

TEST_F(StockTest, TwentySlipsRacingForTheLastTenUnitsPostOnlyWhatFits) {
  const Site s = NewSite();
  Receive(s, s.store, s.item, 10, 300);
  std::vector<v1::IssueSlip> slips;
  for (int i = 0; i < 20; ++i) slips.push_back(SignedSlip(s, s.item, 1));
  constexpr int kThreads = 20;
  const testing_support::RaceOutcome race =
      testing_support::Race(kThreads, [&](int i) { return Post(slips[i]); });
  EXPECT_EQ(race.ok, 10);
  EXPECT_EQ(race.refused, 10);
  EXPECT_EQ(race.other, 0);
  EXPECT_EQ(OnHand(s, s.store, s.item), 0);
  EXPECT_EQ(sql_->Scalar("SELECT COUNT(*) FROM stock_moves WHERE site = ? AND "
                         "balance_after < 0",
                         {s.id}),
            0);
  EXPECT_EQ(sql_->Scalar("SELECT COUNT(*) FROM issue_slips WHERE site = ? AND state = ?",
                         {s.id, static_cast<int>(v1::POSTED)}),
            10);
}

TEST_F(StockTest, AStocktakeIsBlindComparesWithTheFrozenBookAndFlagsMovements) {
  const Site s = NewSite();
  const v1::Item gloves = NewItem(s, "GLOVES", 0);
  Receive(s, s.store, s.item, 50, 200);
  Receive(s, s.store, gloves, 20, 500);
  v1::OpenStocktakeRequest open;
  open.set_parent(s.name);
  open.set_warehouse(s.store.name());
  open.set_request_id(NewRequestId());
  v1::Stocktake take;
  clock_->Set(Local(3, 31, 17));
  ASSERT_TRUE(stub_->OpenStocktake(Context().get(), open, &take).ok());
  ASSERT_EQ(take.lines_size(), 2);
  for (const v1::StocktakeLine& l : take.lines()) {
    EXPECT_EQ(l.book_quantity(), 0) << "blind: the counter is not shown the book";
  }
  open.set_request_id(NewRequestId());
  v1::Stocktake second;
  EXPECT_EQ(stub_->OpenStocktake(Context().get(), open, &second).error_code(),
            grpc::StatusCode::FAILED_PRECONDITION);

  // Five mop heads leave while the count is on.
  clock_->Set(Local(3, 31, 17, 30));
  ASSERT_TRUE(Post(SignedSlip(s, s.item, 5)).ok());

  const auto count = [&](const v1::Item& item, int64_t n) {
    v1::RecordCountRequest r;
    r.set_name(take.name());
    r.set_item(item.name());
    r.set_counted_quantity(n);
    r.set_request_id(NewRequestId());
    return stub_->RecordCount(As("user:counter-ma").get(), r, &take);
  };
  // The counter counted the shelf before the five left: 49 of the 50 booked.
  ASSERT_TRUE(count(s.item, 49).ok());
  v1::CloseStocktakeRequest close;
  close.set_name(take.name());
  close.set_reason("month-end count");
  close.set_approver("Manager Zhao");
  close.set_request_id(NewRequestId());
  v1::Stocktake closed;
  grpc::Status st = stub_->CloseStocktake(As("user:boss", "manager").get(), close, &closed);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::FAILED_PRECONDITION) << "gloves not counted";
  EXPECT_NE(st.error_message().find("GLOVES"), std::string::npos) << st.error_message();
  ASSERT_TRUE(count(gloves, 21).ok());  // one box too many on the shelf
  close.set_request_id(NewRequestId());
  ASSERT_TRUE(stub_->CloseStocktake(As("user:boss", "manager").get(), close, &closed).ok());
  EXPECT_EQ(closed.state(), v1::CLOSED);
  ASSERT_EQ(closed.lines_size(), 2);
  const v1::StocktakeLine& g = closed.lines(0);  // by SKU: GLOVES, MOP-HEAD
  const v1::StocktakeLine& m = closed.lines(1);
  EXPECT_EQ(g.sku(), "GLOVES");
  EXPECT_EQ(g.book_quantity(), 20);
  EXPECT_EQ(g.variance(), 1);
  EXPECT_EQ(g.variance_value_minor(), 500);
  EXPECT_FALSE(g.flagged());
  EXPECT_EQ(m.book_quantity(), 50);
  EXPECT_EQ(m.moved_during_count(), -5);
  EXPECT_TRUE(m.flagged());
  EXPECT_EQ(m.variance(), -1);
  EXPECT_EQ(m.variance_value_minor(), -200);
  EXPECT_EQ(closed.approver(), "Manager Zhao");
  EXPECT_EQ(OnHand(s, s.store, s.item), 44);
  EXPECT_EQ(OnHand(s, s.store, gloves), 21);

  v1::ListStocktakesRequest history;
  history.set_parent(s.name);
  v1::ListStocktakesResponse takes;
  ASSERT_TRUE(stub_->ListStocktakes(Context().get(), history, &takes).ok());
  ASSERT_EQ(takes.stocktakes_size(), 1);
  EXPECT_EQ(takes.stocktakes(0).variance_value_minor(), 300);
}

TEST_F(StockTest, AClosedMonthTakesNoBackDatedEntries) {
  const Site s = NewSite();
  clock_->Set(Local(4, 2, 10));
  v1::ReceiveStockRequest req;
  req.set_parent(s.name);
  req.set_warehouse(s.store.name());
  req.set_item(s.item.name());
  req.set_quantity(5);
  req.set_unit_cost_minor(100);
  req.set_supplier("Harbin Supplies Co.");
  req.set_effective_date("2026-03-30");
  req.set_request_id(NewRequestId());
  v1::StockMove move;
  ASSERT_TRUE(stub_->ReceiveStock(Context().get(), req, &move).ok()) << "March is still open";
  EXPECT_EQ(move.effective_date(), "2026-03-30");

  v1::CloseInventoryPeriodRequest close;
  close.set_parent(s.name);
  close.set_month("2026-04");
  close.set_request_id(NewRequestId());
  v1::InventoryPeriod period;
  grpc::Status st = stub_->CloseInventoryPeriod(As("user:boss", "manager").get(), close, &period);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << "April has not ended";
  close.set_month("2026-03");
  close.set_request_id(NewRequestId());
  ASSERT_TRUE(stub_->CloseInventoryPeriod(As("user:boss", "manager").get(), close, &period).ok());
  EXPECT_TRUE(period.closed());

  const int64_t before = Moves(s);
  req.set_effective_date("2026-03-31");
  req.set_request_id(NewRequestId());
  st = stub_->ReceiveStock(Context().get(), req, &move);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(st.error_message().rfind("effective_date", 0), 0u) << st.error_message();
  req.set_effective_date("2026-02-10");
  req.set_request_id(NewRequestId());
  EXPECT_EQ(stub_->ReceiveStock(Context().get(), req, &move).error_code(),
            grpc::StatusCode::FAILED_PRECONDITION)
      << "closing March closes what came before";
  EXPECT_EQ(Moves(s), before);
  req.set_effective_date("2026-04-01");
  req.set_request_id(NewRequestId());
  EXPECT_TRUE(stub_->ReceiveStock(Context().get(), req, &move).ok());
  close.set_request_id(NewRequestId());
  EXPECT_EQ(
      stub_->CloseInventoryPeriod(As("user:boss", "manager").get(), close, &period).error_code(),
      grpc::StatusCode::FAILED_PRECONDITION)
      << "closed already";
}

TEST_F(StockTest, BadInputNamesTheFieldAndWritesNothing) {
  const Site s = NewSite();
  Receive(s, s.store, s.item, 5, 100);
  const int64_t before = Moves(s);
  struct Case {
    std::function<void(v1::ReceiveStockRequest&)> spoil;
    std::string field;
  };
  const std::vector<Case> cases = {
      {[](auto& r) { r.set_quantity(0); }, "quantity"},
      {[](auto& r) { r.set_quantity(-3); }, "quantity"},
      {[](auto& r) { r.set_unit_cost_minor(-1); }, "unit_cost_minor"},
      {[](auto& r) { r.set_warehouse("sites/elsewhere/warehouses/1"); }, "warehouse"},
      {[](auto& r) { r.set_item("items/1"); }, "item"},
      {[](auto& r) { r.clear_supplier(); }, "supplier"},
      {[](auto& r) { r.set_effective_date("2026-02-30"); }, "effective_date"},
      {[](auto& r) { r.set_effective_date("2027-01-01"); }, "effective_date"},
      {[](auto& r) { r.set_request_id("again"); }, "request_id"},
  };
  for (const Case& c : cases) {
    v1::ReceiveStockRequest req;
    req.set_parent(s.name);
    req.set_warehouse(s.store.name());
    req.set_item(s.item.name());
    req.set_quantity(5);
    req.set_unit_cost_minor(100);
    req.set_supplier("Harbin Supplies Co.");
    req.set_request_id(NewRequestId());
    c.spoil(req);
    v1::StockMove out;
    const grpc::Status st = stub_->ReceiveStock(Context().get(), req, &out);
    EXPECT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << c.field;
    EXPECT_EQ(st.error_message().rfind(c.field, 0), 0u) << st.error_message();
  }
  v1::CreateZoneRequest zone;
  zone.set_parent(s.name);
  zone.set_request_id(NewRequestId());
  zone.mutable_zone()->set_display_name("Garage");
  zone.mutable_zone()->mutable_standard()->set_pass_score(80);
  v1::Zone z;
  grpc::Status st = stub_->CreateZone(Context().get(), zone, &z);
  EXPECT_EQ(st.error_message().rfind("zone.standard.items", 0), 0u) << st.error_message();
  EXPECT_EQ(Moves(s), before);
  EXPECT_EQ(sql_->Scalar("SELECT COUNT(*) FROM zones WHERE site = ?", {s.id}), 1);

  // A taken SKU is a create whose natural key another item holds.
  v1::CreateItemRequest again;
  again.set_parent(s.name);
  again.set_request_id(NewRequestId());
  again.mutable_item()->set_sku("MOP-HEAD");
  again.mutable_item()->set_display_name("Mop head, again");
  again.mutable_item()->set_unit_of_measure("piece");
  v1::Item dup;
  st = stub_->CreateItem(Context().get(), again, &dup);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::ALREADY_EXISTS);
  EXPECT_EQ(st.error_message(), "item.sku: already on the site");
  EXPECT_EQ(sql_->Scalar("SELECT COUNT(*) FROM items WHERE site = ?", {s.id}), 1);
}

TEST_F(StockTest, TheLedgerBalancesMatchAnIndependentRecount) {
  const Site s = NewSite();
  const Site other = NewSite();
  const v1::Item& other_mops = other.item;  // the same SKU, MOP-HEAD
  const v1::Warehouse model_room = NewWarehouse(s, "Model room");
  const v1::Item bleach = NewItem(s, "BLEACH-5L", 3);
  Receive(s, s.store, s.item, 10, 100);
  Receive(s, s.store, s.item, 10, 130);  // average 1.15
  Receive(s, s.store, bleach, 6, 4550);
  v1::IssueSlip posted;
  ASSERT_TRUE(Post(SignedSlip(s, s.item, 5), &posted).ok());
  EXPECT_EQ(posted.value_minor(), 575);

  v1::ReturnStockRequest ret;
  ret.set_parent(s.name);
  ret.set_warehouse(s.store.name());
  ret.set_item(s.item.name());
  ret.set_quantity(1);
  ret.set_team(s.team.name());
  ret.set_reason("unused");
  ret.set_request_id(NewRequestId());
  v1::StockMove returned;
  ASSERT_TRUE(stub_->ReturnStock(Context().get(), ret, &returned).ok());
  EXPECT_EQ(returned.value_minor(), 115);

  v1::TransferStockRequest local;
  local.set_parent(s.name);
  local.mutable_transfer()->set_from_warehouse(s.store.name());
  local.mutable_transfer()->set_to_warehouse(model_room.name());
  local.mutable_transfer()->set_item(s.item.name());
  local.mutable_transfer()->set_quantity(4);
  local.set_request_id(NewRequestId());
  v1::StockTransfer moved;
  ASSERT_TRUE(stub_->TransferStock(Context().get(), local, &moved).ok());
  EXPECT_EQ(moved.state(), v1::RECEIVED);
  EXPECT_EQ(moved.value_minor(), 460);

  // To another site: in transit until that site takes it in.
  v1::TransferStockRequest away = local;
  away.mutable_transfer()->set_to_warehouse(other.store.name());
  away.mutable_transfer()->set_quantity(2);
  away.set_request_id(NewRequestId());
  ASSERT_TRUE(stub_->TransferStock(Context().get(), away, &moved).ok());
  EXPECT_EQ(moved.state(), v1::IN_TRANSIT);
  v1::ReceiveStockTransferRequest take;
  take.set_parent(NewSite().name);  // a site it was not sent to
  take.set_transfer(moved.name());
  take.set_request_id(NewRequestId());
  v1::StockTransfer taken;
  EXPECT_EQ(stub_->ReceiveStockTransfer(Context().get(), take, &taken).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
  take.set_parent(other.name);
  take.set_request_id(NewRequestId());
  ASSERT_TRUE(stub_->ReceiveStockTransfer(Context().get(), take, &taken).ok());
  EXPECT_EQ(taken.state(), v1::RECEIVED);
  EXPECT_EQ(OnHand(other, other.store, other_mops), 2);

  // Another site's item, named as if it were this site's: refused, nothing
  // moves.
  const int64_t moves_before = Moves(s);
  v1::AdjustStockRequest foreign;
  foreign.set_parent(s.name);
  foreign.set_warehouse(s.store.name());
  foreign.set_item(
      absl::StrCat(s.name, "/items/", other.item.name().substr(other.item.name().rfind('/') + 1)));
  foreign.set_quantity(100);
  foreign.set_reason("test");
  foreign.set_approver("Manager Zhao");
  foreign.set_request_id(NewRequestId());
  v1::StockMove none;
  EXPECT_EQ(stub_->AdjustStock(As("user:boss", "manager").get(), foreign, &none).error_code(),
            grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(Moves(s), moves_before);

  // A site keeping stock in another currency takes no transfer at cost.
  const Site dollars = NewSite();
  v1::UpdateCleaningSettingsRequest usd;
  usd.mutable_settings()->set_name(dollars.name + "/cleaningSettings");
  usd.mutable_settings()->set_etag("\"1\"");
  usd.mutable_settings()->set_currency("USD");
  usd.mutable_update_mask()->add_paths("currency");
  usd.set_request_id(NewRequestId());
  v1::CleaningSettings usd_set;
  ASSERT_TRUE(stub_->UpdateCleaningSettings(As("user:boss", "manager").get(), usd, &usd_set).ok());
  v1::TransferStockRequest abroad = local;
  abroad.mutable_transfer()->set_to_warehouse(dollars.store.name());
  abroad.mutable_transfer()->set_quantity(1);
  abroad.set_request_id(NewRequestId());
  EXPECT_EQ(stub_->TransferStock(Context().get(), abroad, &moved).error_code(),
            grpc::StatusCode::FAILED_PRECONDITION);

  v1::AdjustStockRequest adjust;
  adjust.set_parent(s.name);
  adjust.set_warehouse(s.store.name());
  adjust.set_item(bleach.name());
  adjust.set_quantity(-1);
  adjust.set_reason("bottle split");
  adjust.set_approver("Manager Zhao");
  adjust.set_request_id(NewRequestId());
  v1::StockMove adjusted;
  ASSERT_TRUE(stub_->AdjustStock(As("user:boss", "manager").get(), adjust, &adjusted).ok());

  for (const Site* site : {&s, &other}) {
    const v1::ListStockResponse stock = Stock(*site);
    int64_t total = 0;
    for (const v1::StockLevel& l : stock.levels()) {
      if (l.warehouse().empty()) continue;  // an item never stocked
      const int64_t w = std::stoll(l.warehouse().substr(l.warehouse().rfind('/') + 1));
      const int64_t i = std::stoll(l.item().substr(l.item().rfind('/') + 1));
      EXPECT_EQ(l.on_hand(), sql_->Scalar("SELECT SUM(quantity) FROM stock_moves WHERE "
                                          "warehouse_id = ? AND item_id = ?",
                                          {w, i}))
          << l.sku();
      EXPECT_EQ(l.value_minor(), sql_->Scalar("SELECT SUM(value_minor) FROM stock_moves WHERE "
                                              "warehouse_id = ? AND item_id = ?",
                                              {w, i}))
          << l.sku();
      total += l.value_minor();
    }
    EXPECT_EQ(stock.total_value_minor(), total);
    EXPECT_EQ(total, sql_->Scalar("SELECT COALESCE(SUM(value_minor), 0) FROM stock_moves "
                                  "WHERE site = ?",
                                  {site->id}));
  }
  // 10*100 + 10*130 - 575 + 115 = 1840 of mops across store, model room and
  // the 230 that went to the other site; bleach 6*4550 less one at average.
  EXPECT_EQ(Stock(s).total_value_minor() + Stock(other).total_value_minor(),
            1000 + 1300 - 575 + 115 + 6 * 4550 - 4550);

  v1::ListStockRequest low;
  low.set_parent(s.name);
  low.set_below_reorder_only(true);
  v1::ListStockResponse below;
  ASSERT_TRUE(stub_->ListStock(Context().get(), low, &below).ok());
  ASSERT_EQ(below.levels_size(), 0) << "mops 10 > 5, bleach 5 > 3";
  ASSERT_TRUE(Post(SignedSlip(s, bleach, 2)).ok());
  ASSERT_TRUE(stub_->ListStock(Context().get(), low, &below).ok());
  ASSERT_EQ(below.levels_size(), 1);
  EXPECT_EQ(below.levels(0).sku(), "BLEACH-5L");
  EXPECT_EQ(below.levels(0).item_on_hand(), 3);

  ASSERT_TRUE(service_->RefreshGauges().ok());
  const std::string metrics = testing_support::HttpGet(server_->metrics_port(), "/metrics");
  EXPECT_NE(
      metrics.find(absl::StrCat("estate_cleaning_items_below_reorder{site=\"", s.id, "\"} 1")),
      std::string::npos);
}

TEST_F(StockTest, ConsumptionIsReportedByTeamAndZoneAgainstTheBudget) {
  const Site s = NewSite();
  Receive(s, s.store, s.item, 100, 250);
  ASSERT_TRUE(Post(SignedSlip(s, s.item, 8)).ok());  // 2000
  ASSERT_TRUE(Post(SignedSlip(s, s.item, 4)).ok());  // 1000
  v1::SetBudgetRequest budget;
  budget.mutable_budget()->set_name(s.name + "/budgets/2026-03");
  budget.mutable_budget()->set_amount_minor(10000);
  v1::TeamBudget* team = budget.mutable_budget()->add_teams();
  team->set_team(s.team.name());
  team->set_amount_minor(4000);
  budget.set_request_id(NewRequestId());
  v1::Budget set;
  ASSERT_TRUE(stub_->SetBudget(As("user:boss", "manager").get(), budget, &set).ok());
  v1::GetConsumptionReportRequest req;
  req.set_parent(s.name);
  req.set_month("2026-03");
  v1::ConsumptionReport report;
  ASSERT_TRUE(stub_->GetConsumptionReport(Context().get(), req, &report).ok());
  EXPECT_EQ(report.currency(), "CNY");
  ASSERT_EQ(report.rows_size(), 1);
  EXPECT_EQ(report.rows(0).zone(), s.zone.name());
  EXPECT_EQ(report.rows(0).zone_display_name(), "Lobby, building 4");
  EXPECT_EQ(report.rows(0).consumed_minor(), 3000);
  ASSERT_EQ(report.teams_size(), 1);
  EXPECT_EQ(report.teams(0).budget_minor(), 4000);
  EXPECT_EQ(report.teams(0).team_display_name(), "Team A");
  EXPECT_EQ(report.teams(0).budget_used_bp(), 7500);
  EXPECT_EQ(report.budget_used_bp(), 3000);
  req.set_month("2026-04");
  ASSERT_TRUE(stub_->GetConsumptionReport(Context().get(), req, &report).ok());
  EXPECT_EQ(report.consumed_minor(), 0);
}

}  // namespace
}  // namespace cleaning
