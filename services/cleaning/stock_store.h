#ifndef ESTATE_SERVICES_CLEANING_STOCK_STORE_H_
#define ESTATE_SERVICES_CLEANING_STOCK_STORE_H_

// Every SQL statement of the warehouse: items, warehouses, the ledger,
// transfers, issue slips, stocktakes, closed periods, budgets, and the sums
// the reports and gauges read. Functions run in the caller's transaction.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "estate/cleaning/v1/stock.pb.h"
#include "services/cleaning/stock.h"
#include "services/kit/db.h"

namespace cleaning::store {

namespace v1 = ::estate::cleaning::v1;

struct ItemRow {
  int64_t id = 0;
  v1::Item item;
};
// ALREADY_EXISTS if the SKU is taken on the site.
absl::StatusOr<int64_t> InsertItem(kit::Conn& c, const std::string& site, v1::Item& item,
                                   absl::Time now);
absl::StatusOr<ItemRow> ReadItem(kit::Conn& c, const std::string& site, int64_t id);
absl::StatusOr<ItemRow> ReadItemBySku(kit::Conn& c, const std::string& site,
                                      const std::string& sku);
absl::StatusOr<std::vector<ItemRow>> ListItems(kit::Conn& c, const std::string& site,
                                               int64_t after, int limit);
// Locks the items (ascending ids, so concurrent movers never deadlock on
// them): every move of an item, in any warehouse, goes one at a time.
// NOT_FOUND unless every item is the site's.
absl::Status LockItems(kit::Conn& c, const std::string& site, std::vector<int64_t> ids);

absl::StatusOr<int64_t> InsertWarehouse(kit::Conn& c, const std::string& site,
                                        v1::Warehouse& w, absl::Time now);
absl::StatusOr<v1::Warehouse> ReadWarehouse(kit::Conn& c, const std::string& site, int64_t id);
absl::StatusOr<std::vector<std::pair<int64_t, v1::Warehouse>>> ListWarehouses(
    kit::Conn& c, const std::string& site, int64_t after, int limit);

// The position after the latest move of the item in the warehouse.
absl::StatusOr<Position> ReadPosition(kit::Conn& c, int64_t warehouse_id, int64_t item_id);
// The average cost of the latest move that left something held (0: never).
absl::StatusOr<int64_t> LastAverageCost(kit::Conn& c, int64_t warehouse_id, int64_t item_id);

struct MoveRow {
  std::string site;
  int64_t warehouse_id = 0;
  int64_t item_id = 0;
  v1::MoveKind kind = v1::MOVE_KIND_UNSPECIFIED;
  int64_t quantity = 0;
  int64_t value = 0;
  Position after;
  absl::CivilDay effective;
  std::string supplier;
  int64_t team_id = 0;
  int64_t zone_id = 0;
  std::string reference;
  std::string reason;
  std::string approver;
  std::string posted_by;
  absl::Time posted_at;
};
// Appends a move; the schema refuses one that leaves the position negative.
absl::StatusOr<v1::StockMove> InsertMove(kit::Conn& c, const MoveRow& m);
struct MoveFilter {
  std::string site;
  int64_t warehouse_id = 0;
  int64_t item_id = 0;
};
absl::StatusOr<std::vector<std::pair<int64_t, v1::StockMove>>> ListMoves(kit::Conn& c,
                                                                        const MoveFilter& f,
                                                                        int64_t after, int limit);
// Every warehouse-and-item position of the site (one warehouse if set), with
// its item, by warehouse then SKU.
struct Level {
  int64_t warehouse_id = 0;
  ItemRow item;
  Position position;
};
absl::StatusOr<std::vector<Level>> Levels(kit::Conn& c, const std::string& site,
                                          int64_t warehouse_id);

// The latest closed month of the site, if any.
absl::StatusOr<std::optional<absl::CivilMonth>> ClosedThrough(kit::Conn& c,
                                                              const std::string& site);
absl::Status ClosePeriod(kit::Conn& c, const std::string& site, absl::CivilMonth month,
                         const std::string& actor, absl::Time now);

struct TransferRow {
  int64_t id = 0;
  std::string site;
  std::string dest_site;
  int64_t from_warehouse_id = 0;
  int64_t to_warehouse_id = 0;
  int64_t item_id = 0;
  std::string sku;
  int64_t quantity = 0;
  int64_t value = 0;
  v1::TransferState state = v1::IN_TRANSIT;
  absl::Time sent_at;
  std::optional<absl::Time> received_at;
};
absl::StatusOr<int64_t> InsertTransfer(kit::Conn& c, TransferRow& t, const std::string& actor);
absl::StatusOr<TransferRow> ReadTransfer(kit::Conn& c, const std::string& site, int64_t id,
                                         bool for_update);
absl::Status MarkReceived(kit::Conn& c, TransferRow& t, const std::string& actor,
                          absl::Time now);
// Newest first: transfers with id below `before` (0: from the newest).
absl::StatusOr<std::vector<TransferRow>> ListIncoming(kit::Conn& c, const std::string& dest_site,
                                                      bool in_transit_only, int64_t before,
                                                      int limit);
v1::StockTransfer TransferView(const TransferRow& t);

struct SlipRow {
  int64_t id = 0;
  int64_t warehouse_id = 0;
  int64_t team_id = 0;
  int64_t zone_id = 0;
  int64_t version = 0;
  v1::IssueSlip slip;  // with its signatures
};
absl::StatusOr<int64_t> InsertSlip(kit::Conn& c, const std::string& site, SlipRow& row,
                                   const std::string& actor, absl::Time now);
absl::StatusOr<SlipRow> ReadSlip(kit::Conn& c, const std::string& site, int64_t id,
                                 bool for_update);
// Writes state, value, posting and cancel reason with the next version.
absl::Status UpdateSlip(kit::Conn& c, SlipRow& row, const std::string& cancel_reason = "");
// ALREADY_EXISTS if the role is signed or the signer signed the slip.
absl::Status AddSignature(kit::Conn& c, int64_t slip_id, v1::SignatureRole role,
                          const std::string& signer, absl::Time now);
absl::StatusOr<std::vector<SlipRow>> ListSlips(kit::Conn& c, const std::string& site,
                                               v1::SlipState state, int64_t after, int limit);

struct StocktakeRow {
  int64_t id = 0;
  int64_t warehouse_id = 0;
  v1::Stocktake take;        // lines with every field
  std::vector<int64_t> line_items;  // item id of each line
};
// ALREADY_EXISTS if the warehouse has a count open. Freezes the book: one
// line per item the warehouse holds or has held.
absl::StatusOr<int64_t> InsertStocktake(kit::Conn& c, const std::string& site,
                                        int64_t warehouse_id, const std::string& actor,
                                        absl::Time now);
absl::StatusOr<StocktakeRow> ReadStocktake(kit::Conn& c, const std::string& site, int64_t id,
                                           bool for_update);
absl::Status RecordCount(kit::Conn& c, int64_t stocktake_id, int64_t item_id, int64_t counted,
                         const std::string& counter);
struct LineOutcome {
  int64_t item_id = 0;
  int64_t moved = 0;
  int64_t variance = 0;
  int64_t variance_value = 0;
};
absl::Status CloseStocktake(kit::Conn& c, int64_t id, const std::vector<LineOutcome>& lines,
                            const std::string& actor, const std::string& approver,
                            const std::string& reason, absl::Time now);
absl::StatusOr<std::vector<StocktakeRow>> ListStocktakes(kit::Conn& c, const std::string& site,
                                                         int64_t warehouse_id, int64_t before,
                                                         int limit);

// Budgets of a month: team id 0 is the site's own.
absl::Status WriteBudget(kit::Conn& c, const std::string& site, const std::string& month,
                         int64_t team_id, int64_t amount);
absl::Status ClearBudget(kit::Conn& c, const std::string& site, const std::string& month);
absl::StatusOr<std::vector<std::pair<int64_t, int64_t>>> ReadBudgets(kit::Conn& c,
                                                                    const std::string& site,
                                                                    const std::string& month);
// Issued and returned value in [from, to] by team and zone.
struct ConsumptionSums {
  int64_t team_id = 0, zone_id = 0;
  int64_t issued = 0, returned = 0;
};
absl::StatusOr<std::vector<ConsumptionSums>> SumConsumption(kit::Conn& c, const std::string& site,
                                                            absl::CivilDay from,
                                                            absl::CivilDay to);

// For the gauges, per site.
struct SiteStock {
  std::string site;
  int64_t value = 0;
  int64_t items_below_reorder = 0;
};
absl::StatusOr<std::vector<SiteStock>> StockBySite(kit::Conn& c);
struct SlipsWaiting {
  std::string site;
  v1::SlipState state;
  int64_t count = 0;
};
absl::StatusOr<std::vector<SlipsWaiting>> CountWaitingSlips(kit::Conn& c);

}  // namespace cleaning::store

#endif  // ESTATE_SERVICES_CLEANING_STOCK_STORE_H_
