#include "services/cleaning/stock_store.h"

#include <algorithm>
#include <limits>
#include <map>

#include "absl/strings/str_cat.h"
#include "services/cleaning/store_names.h"
#include "services/kit/etag.h"
#include "services/kit/proto_time.h"
#include "services/kit/status_macros.h"
#include "services/kit/unique_keys.h"

namespace cleaning::store {

using kit::Conn;
using kit::Row;
using kit::SqlParam;

namespace {

constexpr char kItemColumns[] =
    "id, site, sku, display_name, unit_of_measure, reorder_point, created_at";

ItemRow ItemOf(const Row& r, int at = 0) {
  ItemRow row;
  row.id = r.Int(at);
  v1::Item& i = row.item;
  i.set_name(Name(r.Str(at + 1), "items", row.id));
  i.set_sku(r.Str(at + 2));
  i.set_display_name(r.Str(at + 3));
  i.set_unit_of_measure(r.Str(at + 4));
  i.set_reorder_point(r.Int(at + 5));
  kit::SetTimestamp(i.mutable_create_time(), r.Time(at + 6));
  return row;
}

constexpr char kMoveColumns[] =
    "id, site, warehouse_id, item_id, kind, quantity, value_minor, balance_after, value_after, "
    "effective_date, supplier, team_id, zone_id, reference, reason, approver, posted_by, "
    "posted_at";

v1::StockMove MoveOf(const Row& r) {
  v1::StockMove m;
  const std::string site = r.Str(1);
  m.set_name(Name(site, "stockMoves", r.Int(0)));
  m.set_warehouse(Name(site, "warehouses", r.Int(2)));
  m.set_item(Name(site, "items", r.Int(3)));
  m.set_kind(static_cast<v1::MoveKind>(r.Int(4)));
  m.set_quantity(r.Int(5));
  m.set_value_minor(r.Int(6));
  m.set_balance_after(r.Int(7));
  m.set_value_after_minor(r.Int(8));
  m.set_effective_date(r.Str(9));
  m.set_supplier(r.Str(10));
  if (!r.IsNull(11)) m.set_team(Name(site, "teams", r.Int(11)));
  if (!r.IsNull(12)) m.set_zone(Name(site, "zones", r.Int(12)));
  m.set_reference(r.Str(13));
  m.set_reason(r.Str(14));
  m.set_approver(r.Str(15));
  m.set_posted_by(r.Str(16));
  kit::SetTimestamp(m.mutable_post_time(), r.Time(17));
  return m;
}

constexpr char kTransferColumns[] =
    "id, site, dest_site, from_warehouse_id, to_warehouse_id, item_id, sku, quantity, "
    "value_minor, state, sent_at, received_at";

TransferRow TransferOf(const Row& r) {
  TransferRow t;
  t.id = r.Int(0);
  t.site = r.Str(1);
  t.dest_site = r.Str(2);
  t.from_warehouse_id = r.Int(3);
  t.to_warehouse_id = r.Int(4);
  t.item_id = r.Int(5);
  t.sku = r.Str(6);
  t.quantity = r.Int(7);
  t.value = r.Int(8);
  t.state = static_cast<v1::TransferState>(r.Int(9));
  t.sent_at = r.Time(10);
  t.received_at = r.OptTime(11);
  return t;
}

constexpr char kSlipColumns[] =
    "id, site, warehouse_id, team_id, zone_id, purpose, body, state, version, value_minor, "
    "posted_by, posted_at, created_at";

SlipRow SlipOf(const Row& r) {
  SlipRow s;
  s.id = r.Int(0);
  const std::string site = r.Str(1);
  s.warehouse_id = r.Int(2);
  s.team_id = r.Int(3);
  s.zone_id = r.IsNull(4) ? 0 : r.Int(4);
  s.version = r.Int(8);
  v1::IssueSlip& slip = s.slip;
  slip.ParseFromString(r.Str(6));  // its lines
  slip.set_name(Name(site, "issueSlips", s.id));
  slip.set_warehouse(Name(site, "warehouses", s.warehouse_id));
  slip.set_team(Name(site, "teams", s.team_id));
  if (s.zone_id != 0) slip.set_zone(Name(site, "zones", s.zone_id));
  slip.set_purpose(r.Str(5));
  slip.set_state(static_cast<v1::SlipState>(r.Int(7)));
  slip.set_value_minor(r.Int(9));
  slip.set_posted_by(r.Str(10));
  if (!r.IsNull(11)) kit::SetTimestamp(slip.mutable_post_time(), r.Time(11));
  slip.set_etag(kit::Etag(s.version));
  kit::SetTimestamp(slip.mutable_create_time(), r.Time(12));
  return s;
}

absl::Status AttachSignatures(Conn& c, SlipRow& s) {
  ASSIGN_OR_RETURN(std::vector<Row> rows,
                   c.Query("SELECT role, signer, signed_at FROM slip_signatures WHERE "
                           "slip_id = ? ORDER BY role",
                           {s.id}));
  s.slip.clear_signatures();
  for (const Row& r : rows) {
    v1::Signature* sig = s.slip.add_signatures();
    sig->set_role(static_cast<v1::SignatureRole>(r.Int(0)));
    sig->set_signer(r.Str(1));
    kit::SetTimestamp(sig->mutable_sign_time(), r.Time(2));
  }
  return absl::OkStatus();
}

constexpr char kStocktakeColumns[] =
    "id, site, warehouse_id, state, opened_by, opened_at, closed_by, approver, reason, closed_at";

}  // namespace

// What a duplicate on each unique key means, per table.
namespace {
constexpr kit::UniqueKeys kItemKeys{{
    {"by_sku", absl::StatusCode::kAlreadyExists, "item.sku: already on the site"},
}};
// Checked by the signing rules first; the keys are the backstop.
constexpr kit::UniqueKeys kSignatureKeys{{
    {"PRIMARY", absl::StatusCode::kFailedPrecondition, "that signature is on the slip already"},
    {"distinct_signers", absl::StatusCode::kFailedPrecondition,
     "that signature is on the slip already"},
}};
constexpr kit::UniqueKeys kStocktakeKeys{{
    {"one_open", absl::StatusCode::kFailedPrecondition,
     "a count of this warehouse is open already"},
}};
}  // namespace

absl::StatusOr<int64_t> InsertItem(Conn& c, const std::string& site, v1::Item& i,
                                   absl::Time now) {
  ASSIGN_OR_RETURN(int64_t id,
                   kItemKeys.Map(c.InsertReturningId("INSERT INTO items (site, sku, display_name, "
                                       "unit_of_measure, reorder_point, created_at) "
                                       "VALUES (?, ?, ?, ?, ?, ?) RETURNING id",
                                       {site, i.sku(), i.display_name(), i.unit_of_measure(),
                                        i.reorder_point(), now})));
  i.set_name(Name(site, "items", id));
  kit::SetTimestamp(i.mutable_create_time(), now);
  return id;
}

absl::StatusOr<ItemRow> ReadItem(Conn& c, const std::string& site, int64_t id) {
  ASSIGN_OR_RETURN(Row r, c.QueryOne(absl::StrCat("SELECT ", kItemColumns,
                                                  " FROM items WHERE site = ? AND id = ?"),
                                     {site, id}, "item not found"));
  return ItemOf(r);
}

absl::StatusOr<ItemRow> ReadItemBySku(Conn& c, const std::string& site, const std::string& sku) {
  ASSIGN_OR_RETURN(Row r, c.QueryOne(absl::StrCat("SELECT ", kItemColumns,
                                                  " FROM items WHERE site = ? AND sku = ?"),
                                     {site, sku}, "item not found"));
  return ItemOf(r);
}

absl::StatusOr<std::vector<ItemRow>> ListItems(Conn& c, const std::string& site, int64_t after,
                                               int limit) {
  ASSIGN_OR_RETURN(std::vector<Row> rows,
                   c.Query(absl::StrCat("SELECT ", kItemColumns,
                                        " FROM items WHERE site = ? AND id > ? ORDER BY id LIMIT ?"),
                           {site, after, limit}));
  std::vector<ItemRow> out;
  for (const Row& r : rows) out.push_back(ItemOf(r));
  return out;
}

absl::Status LockItems(Conn& c, const std::string& site, std::vector<int64_t> ids) {
  std::sort(ids.begin(), ids.end());
  ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
  for (int64_t id : ids) {
    RETURN_IF_ERROR(c.QueryOne("SELECT id FROM items WHERE id = ? AND site = ? FOR UPDATE",
                               {id, site}, "item not found")
                        .status());
  }
  return absl::OkStatus();
}

absl::StatusOr<int64_t> InsertWarehouse(Conn& c, const std::string& site, v1::Warehouse& w,
                                        absl::Time now) {
  ASSIGN_OR_RETURN(int64_t id,
                   c.InsertReturningId("INSERT INTO warehouses (site, display_name, kind, "
                                       "created_at) VALUES (?, ?, ?, ?) RETURNING id",
                                       {site, w.display_name(), static_cast<int>(w.kind()), now}));
  w.set_name(Name(site, "warehouses", id));
  kit::SetTimestamp(w.mutable_create_time(), now);
  return id;
}

absl::StatusOr<v1::Warehouse> ReadWarehouse(Conn& c, const std::string& site, int64_t id) {
  ASSIGN_OR_RETURN(Row r, c.QueryOne("SELECT id, display_name, kind, created_at FROM warehouses "
                                     "WHERE site = ? AND id = ?",
                                     {site, id}, "warehouse not found"));
  v1::Warehouse w;
  w.set_name(Name(site, "warehouses", id));
  w.set_display_name(r.Str(1));
  w.set_kind(static_cast<v1::WarehouseKind>(r.Int(2)));
  kit::SetTimestamp(w.mutable_create_time(), r.Time(3));
  return w;
}

absl::StatusOr<std::vector<std::pair<int64_t, v1::Warehouse>>> ListWarehouses(
    Conn& c, const std::string& site, int64_t after, int limit) {
  ASSIGN_OR_RETURN(std::vector<Row> rows,
                   c.Query("SELECT id, display_name, kind, created_at FROM warehouses WHERE "
                           "site = ? AND id > ? ORDER BY id LIMIT ?",
                           {site, after, limit}));
  std::vector<std::pair<int64_t, v1::Warehouse>> out;
  for (const Row& r : rows) {
    v1::Warehouse w;
    w.set_name(Name(site, "warehouses", r.Int(0)));
    w.set_display_name(r.Str(1));
    w.set_kind(static_cast<v1::WarehouseKind>(r.Int(2)));
    kit::SetTimestamp(w.mutable_create_time(), r.Time(3));
    out.emplace_back(r.Int(0), std::move(w));
  }
  return out;
}

absl::StatusOr<Position> ReadPosition(Conn& c, int64_t warehouse_id, int64_t item_id) {
  ASSIGN_OR_RETURN(std::vector<Row> rows,
                   c.Query("SELECT balance_after, value_after FROM stock_moves WHERE "
                           "warehouse_id = ? AND item_id = ? ORDER BY id DESC LIMIT 1",
                           {warehouse_id, item_id}));
  if (rows.empty()) return Position{};
  return Position{rows[0].Int(0), rows[0].Int(1)};
}

absl::StatusOr<int64_t> LastAverageCost(Conn& c, int64_t warehouse_id, int64_t item_id) {
  ASSIGN_OR_RETURN(std::vector<Row> rows,
                   c.Query("SELECT balance_after, value_after FROM stock_moves WHERE "
                           "warehouse_id = ? AND item_id = ? AND balance_after > 0 "
                           "ORDER BY id DESC LIMIT 1",
                           {warehouse_id, item_id}));
  if (rows.empty()) return 0;
  return AverageCost({rows[0].Int(0), rows[0].Int(1)});
}

absl::StatusOr<v1::StockMove> InsertMove(Conn& c, const MoveRow& m) {
  ASSIGN_OR_RETURN(
      int64_t id,
      c.InsertReturningId(
          "INSERT INTO stock_moves (site, warehouse_id, item_id, kind, quantity, value_minor, "
          "balance_after, value_after, effective_date, supplier, team_id, zone_id, reference, "
          "reason, approver, posted_by, posted_at) "
          "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
          {m.site, m.warehouse_id, m.item_id, static_cast<int>(m.kind), m.quantity, m.value,
           m.after.quantity, m.after.value, Day(m.effective), m.supplier, IdOrNull(m.team_id),
           IdOrNull(m.zone_id), m.reference, m.reason, m.approver, m.posted_by, m.posted_at}));
  ASSIGN_OR_RETURN(Row r, c.QueryOne(absl::StrCat("SELECT ", kMoveColumns,
                                                  " FROM stock_moves WHERE id = ?"),
                                     {id}, "move not found"));
  return MoveOf(r);
}

absl::StatusOr<std::vector<std::pair<int64_t, v1::StockMove>>> ListMoves(Conn& c,
                                                                        const MoveFilter& f,
                                                                        int64_t after, int limit) {
  std::string sql =
      absl::StrCat("SELECT ", kMoveColumns, " FROM stock_moves WHERE site = ? AND id > ?");
  std::vector<SqlParam> params = {f.site, after};
  if (f.warehouse_id != 0) {
    sql += " AND warehouse_id = ?";
    params.emplace_back(f.warehouse_id);
  }
  if (f.item_id != 0) {
    sql += " AND item_id = ?";
    params.emplace_back(f.item_id);
  }
  sql += " ORDER BY id LIMIT ?";
  params.emplace_back(limit);
  ASSIGN_OR_RETURN(std::vector<Row> rows, c.Query(sql, params));
  std::vector<std::pair<int64_t, v1::StockMove>> out;
  for (const Row& r : rows) out.emplace_back(r.Int(0), MoveOf(r));
  return out;
}

absl::StatusOr<std::vector<Level>> Levels(Conn& c, const std::string& site, int64_t warehouse_id) {
  const std::string sql = absl::StrCat(
      "SELECT m.warehouse_id, m.balance_after, m.value_after, i.id, i.site, i.sku, "
      "i.display_name, i.unit_of_measure, i.reorder_point, i.created_at "
      "FROM stock_moves m JOIN (SELECT MAX(id) id FROM stock_moves WHERE site = ?",
      warehouse_id != 0 ? " AND warehouse_id = ?" : "",
      " GROUP BY warehouse_id, item_id) last ON last.id = m.id JOIN items i ON i.id = m.item_id "
      "ORDER BY m.warehouse_id, i.sku");
  std::vector<SqlParam> params = {site};
  if (warehouse_id != 0) params.emplace_back(warehouse_id);
  ASSIGN_OR_RETURN(std::vector<Row> rows, c.Query(sql, params));
  std::vector<Level> out;
  for (const Row& r : rows) out.push_back({r.Int(0), ItemOf(r, 3), {r.Int(1), r.Int(2)}});
  return out;
}

absl::StatusOr<std::optional<absl::CivilMonth>> ClosedThrough(Conn& c, const std::string& site) {
  ASSIGN_OR_RETURN(std::vector<Row> rows,
                   c.Query("SELECT MAX(month) FROM inventory_periods WHERE site = ?", {site}));
  if (rows.empty() || rows[0].IsNull(0)) return std::optional<absl::CivilMonth>();
  absl::CivilMonth m;
  if (!absl::ParseCivilTime(rows[0].Str(0), &m)) return absl::InternalError("bad period row");
  return std::optional<absl::CivilMonth>(m);
}

absl::Status ClosePeriod(Conn& c, const std::string& site, absl::CivilMonth month,
                         const std::string& actor, absl::Time now) {
  return c
      .Exec("INSERT INTO inventory_periods (site, month, closed_by, closed_at) VALUES (?, ?, ?, ?)",
            {site, absl::FormatCivilTime(month), actor, now})
      .status();
}

absl::StatusOr<int64_t> InsertTransfer(Conn& c, TransferRow& t, const std::string& actor) {
  ASSIGN_OR_RETURN(t.id, c.InsertReturningId(
                             "INSERT INTO stock_transfers (site, dest_site, from_warehouse_id, "
                             "to_warehouse_id, item_id, sku, quantity, value_minor, state, "
                             "sent_at, sent_by) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
                             "RETURNING id",
                             {t.site, t.dest_site, t.from_warehouse_id, t.to_warehouse_id,
                              t.item_id, t.sku, t.quantity, t.value, static_cast<int>(t.state),
                              t.sent_at, actor}));
  return t.id;
}

absl::StatusOr<TransferRow> ReadTransfer(Conn& c, const std::string& site, int64_t id,
                                         bool for_update) {
  ASSIGN_OR_RETURN(Row r, c.QueryOne(absl::StrCat("SELECT ", kTransferColumns,
                                                  " FROM stock_transfers WHERE site = ? AND id = ?",
                                                  for_update ? " FOR UPDATE" : ""),
                                     {site, id}, "transfer not found"));
  return TransferOf(r);
}

absl::Status MarkReceived(Conn& c, TransferRow& t, const std::string& actor, absl::Time now) {
  t.state = v1::RECEIVED;
  t.received_at = now;
  return c
      .Exec("UPDATE stock_transfers SET state = ?, received_at = ?, received_by = ? WHERE id = ?",
            {static_cast<int>(t.state), now, actor, t.id})
      .status();
}

absl::StatusOr<std::vector<TransferRow>> ListIncoming(Conn& c, const std::string& dest_site,
                                                      bool in_transit_only, int64_t before,
                                                      int limit) {
  if (before == 0) before = std::numeric_limits<int64_t>::max();
  ASSIGN_OR_RETURN(std::vector<Row> rows,
                   c.Query(absl::StrCat("SELECT ", kTransferColumns,
                                        " FROM stock_transfers WHERE dest_site = ? AND id < ?",
                                        in_transit_only ? " AND state = 1" : "",
                                        " ORDER BY id DESC LIMIT ?"),
                           {dest_site, before, limit}));
  std::vector<TransferRow> out;
  for (const Row& r : rows) out.push_back(TransferOf(r));
  return out;
}

v1::StockTransfer TransferView(const TransferRow& t) {
  v1::StockTransfer out;
  out.set_name(Name(t.site, "stockTransfers", t.id));
  out.set_from_warehouse(Name(t.site, "warehouses", t.from_warehouse_id));
  out.set_to_warehouse(Name(t.dest_site, "warehouses", t.to_warehouse_id));
  out.set_item(Name(t.site, "items", t.item_id));
  out.set_quantity(t.quantity);
  out.set_sku(t.sku);
  out.set_value_minor(t.value);
  out.set_state(t.state);
  kit::SetTimestamp(out.mutable_send_time(), t.sent_at);
  if (t.received_at) kit::SetTimestamp(out.mutable_receive_time(), *t.received_at);
  return out;
}

absl::StatusOr<int64_t> InsertSlip(Conn& c, const std::string& site, SlipRow& s,
                                   const std::string& actor, absl::Time now) {
  v1::IssueSlip lines_only;
  *lines_only.mutable_lines() = s.slip.lines();
  ASSIGN_OR_RETURN(s.id, c.InsertReturningId(
                             "INSERT INTO issue_slips (site, warehouse_id, team_id, zone_id, "
                             "purpose, body, state, version, created_at, created_by) "
                             "VALUES (?, ?, ?, ?, ?, ?, ?, 1, ?, ?) RETURNING id",
                             {site, s.warehouse_id, s.team_id, IdOrNull(s.zone_id),
                              s.slip.purpose(), lines_only.SerializeAsString(),
                              static_cast<int>(v1::DRAFT), now, actor}));
  ASSIGN_OR_RETURN(s, ReadSlip(c, site, s.id, false));
  return s.id;
}

absl::StatusOr<SlipRow> ReadSlip(Conn& c, const std::string& site, int64_t id, bool for_update) {
  ASSIGN_OR_RETURN(Row r, c.QueryOne(absl::StrCat("SELECT ", kSlipColumns,
                                                  " FROM issue_slips WHERE site = ? AND id = ?",
                                                  for_update ? " FOR UPDATE" : ""),
                                     {site, id}, "issue slip not found"));
  SlipRow s = SlipOf(r);
  RETURN_IF_ERROR(AttachSignatures(c, s));
  return s;
}

absl::Status UpdateSlip(Conn& c, SlipRow& s, const std::string& cancel_reason) {
  s.version += 1;
  RETURN_IF_ERROR(c.Exec("UPDATE issue_slips SET state = ?, version = ?, value_minor = ?, "
                         "posted_by = ?, posted_at = ?, cancel_reason = ? WHERE id = ?",
                         {static_cast<int>(s.slip.state()), s.version, s.slip.value_minor(),
                          s.slip.posted_by(),
                          s.slip.has_post_time()
                              ? SqlParam(kit::FromTimestamp(s.slip.post_time()))
                              : SqlParam(nullptr),
                          cancel_reason, s.id})
                      .status());
  s.slip.set_etag(kit::Etag(s.version));
  return absl::OkStatus();
}

absl::Status AddSignature(Conn& c, int64_t slip_id, v1::SignatureRole role,
                          const std::string& signer, absl::Time now) {
  return kSignatureKeys.Map(
      c.Exec("INSERT INTO slip_signatures (slip_id, role, signer, signed_at) VALUES (?, ?, ?, ?)",
             {slip_id, static_cast<int>(role), signer, now})
          .status());
}

absl::StatusOr<std::vector<SlipRow>> ListSlips(Conn& c, const std::string& site,
                                               v1::SlipState state, int64_t after, int limit) {
  std::string sql =
      absl::StrCat("SELECT ", kSlipColumns, " FROM issue_slips WHERE site = ? AND id > ?");
  std::vector<SqlParam> params = {site, after};
  if (state != v1::SLIP_STATE_UNSPECIFIED) {
    sql += " AND state = ?";
    params.emplace_back(static_cast<int>(state));
  }
  sql += " ORDER BY id LIMIT ?";
  params.emplace_back(limit);
  ASSIGN_OR_RETURN(std::vector<Row> rows, c.Query(sql, params));
  std::vector<SlipRow> out;
  for (const Row& r : rows) {
    out.push_back(SlipOf(r));
    RETURN_IF_ERROR(AttachSignatures(c, out.back()));
  }
  return out;
}

absl::StatusOr<int64_t> InsertStocktake(Conn& c, const std::string& site, int64_t warehouse_id,
                                        const std::string& actor, absl::Time now) {
  ASSIGN_OR_RETURN(int64_t id,
                   kStocktakeKeys.Map(c.InsertReturningId(
                       "INSERT INTO stocktakes (site, warehouse_id, state, "
                       "opened_by, opened_at) VALUES (?, ?, ?, ?, ?) RETURNING id",
                       {site, warehouse_id, static_cast<int>(v1::COUNTING), actor, now})));
  RETURN_IF_ERROR(c.Exec("INSERT INTO stocktake_lines (stocktake_id, item_id, book_quantity) "
                         "SELECT ?, m.item_id, m.balance_after FROM stock_moves m JOIN "
                         "(SELECT MAX(id) id FROM stock_moves WHERE warehouse_id = ? "
                         "GROUP BY item_id) last ON last.id = m.id",
                         {id, warehouse_id})
                      .status());
  return id;
}

absl::StatusOr<StocktakeRow> ReadStocktake(Conn& c, const std::string& site, int64_t id,
                                           bool for_update) {
  ASSIGN_OR_RETURN(Row r, c.QueryOne(absl::StrCat("SELECT ", kStocktakeColumns,
                                                  " FROM stocktakes WHERE site = ? AND id = ?",
                                                  for_update ? " FOR UPDATE" : ""),
                                     {site, id}, "stocktake not found"));
  StocktakeRow s;
  s.id = r.Int(0);
  s.warehouse_id = r.Int(2);
  v1::Stocktake& t = s.take;
  t.set_name(Name(site, "stocktakes", s.id));
  t.set_warehouse(Name(site, "warehouses", s.warehouse_id));
  t.set_state(static_cast<v1::StocktakeState>(r.Int(3)));
  t.set_opened_by(r.Str(4));
  kit::SetTimestamp(t.mutable_open_time(), r.Time(5));
  t.set_closed_by(r.Str(6));
  t.set_approver(r.Str(7));
  t.set_reason(r.Str(8));
  if (!r.IsNull(9)) kit::SetTimestamp(t.mutable_close_time(), r.Time(9));
  ASSIGN_OR_RETURN(std::vector<Row> lines,
                   c.Query("SELECT l.item_id, i.sku, l.book_quantity, l.counted, "
                           "l.counted_quantity, l.counted_by, l.moved_during_count, l.variance, "
                           "l.variance_value FROM stocktake_lines l JOIN items i ON "
                           "i.id = l.item_id WHERE l.stocktake_id = ? ORDER BY i.sku",
                           {s.id}));
  int64_t total = 0;
  for (const Row& l : lines) {
    v1::StocktakeLine* line = t.add_lines();
    s.line_items.push_back(l.Int(0));
    line->set_item(Name(site, "items", l.Int(0)));
    line->set_sku(l.Str(1));
    line->set_book_quantity(l.Int(2));
    line->set_counted(l.Int(3) != 0);
    line->set_counted_quantity(l.Int(4));
    line->set_counted_by(l.Str(5));
    line->set_moved_during_count(l.Int(6));
    line->set_variance(l.Int(7));
    line->set_variance_value_minor(l.Int(8));
    line->set_flagged(l.Int(6) != 0);
    total += l.Int(8);
  }
  t.set_variance_value_minor(total);
  return s;
}

absl::Status RecordCount(Conn& c, int64_t stocktake_id, int64_t item_id, int64_t counted,
                         const std::string& counter) {
  return c
      .Exec("INSERT INTO stocktake_lines (stocktake_id, item_id, book_quantity, counted, "
            "counted_quantity, counted_by) VALUES (?, ?, 0, TRUE, ?, ?) ON DUPLICATE KEY UPDATE "
            "counted = TRUE, counted_quantity = VALUES(counted_quantity), "
            "counted_by = VALUES(counted_by)",
            {stocktake_id, item_id, counted, counter})
      .status();
}

absl::Status CloseStocktake(Conn& c, int64_t id, const std::vector<LineOutcome>& lines,
                            const std::string& actor, const std::string& approver,
                            const std::string& reason, absl::Time now) {
  for (const LineOutcome& l : lines) {
    RETURN_IF_ERROR(c.Exec("UPDATE stocktake_lines SET moved_during_count = ?, variance = ?, "
                           "variance_value = ? WHERE stocktake_id = ? AND item_id = ?",
                           {l.moved, l.variance, l.variance_value, id, l.item_id})
                        .status());
  }
  return c
      .Exec("UPDATE stocktakes SET state = ?, closed_by = ?, approver = ?, reason = ?, "
            "closed_at = ? WHERE id = ?",
            {static_cast<int>(v1::CLOSED), actor, approver, reason, now, id})
      .status();
}

absl::StatusOr<std::vector<StocktakeRow>> ListStocktakes(Conn& c, const std::string& site,
                                                         int64_t warehouse_id, int64_t before,
                                                         int limit) {
  if (before == 0) before = std::numeric_limits<int64_t>::max();
  std::string sql = "SELECT id FROM stocktakes WHERE site = ? AND id < ?";
  std::vector<SqlParam> params = {site, before};
  if (warehouse_id != 0) {
    sql += " AND warehouse_id = ?";
    params.emplace_back(warehouse_id);
  }
  sql += " ORDER BY id DESC LIMIT ?";
  params.emplace_back(limit);
  ASSIGN_OR_RETURN(std::vector<Row> ids, c.Query(sql, params));
  std::vector<StocktakeRow> out;
  for (const Row& r : ids) {
    ASSIGN_OR_RETURN(StocktakeRow s, ReadStocktake(c, site, r.Int(0), false));
    out.push_back(std::move(s));
  }
  return out;
}

absl::Status WriteBudget(Conn& c, const std::string& site, const std::string& month,
                         int64_t team_id, int64_t amount) {
  return c
      .Exec("INSERT INTO budgets (site, month, team_id, amount_minor) VALUES (?, ?, ?, ?)",
            {site, month, team_id, amount})
      .status();
}

absl::Status ClearBudget(Conn& c, const std::string& site, const std::string& month) {
  return c.Exec("DELETE FROM budgets WHERE site = ? AND month = ?", {site, month}).status();
}

absl::StatusOr<std::vector<std::pair<int64_t, int64_t>>> ReadBudgets(Conn& c,
                                                                    const std::string& site,
                                                                    const std::string& month) {
  ASSIGN_OR_RETURN(std::vector<Row> rows,
                   c.Query("SELECT team_id, amount_minor FROM budgets WHERE site = ? AND "
                           "month = ? ORDER BY team_id",
                           {site, month}));
  std::vector<std::pair<int64_t, int64_t>> out;
  for (const Row& r : rows) out.emplace_back(r.Int(0), r.Int(1));
  return out;
}

absl::StatusOr<std::vector<ConsumptionSums>> SumConsumption(Conn& c, const std::string& site,
                                                            absl::CivilDay from,
                                                            absl::CivilDay to) {
  ASSIGN_OR_RETURN(std::vector<Row> rows,
                   c.Query("SELECT COALESCE(team_id, 0), COALESCE(zone_id, 0), "
                           "-SUM(IF(kind = ?, value_minor, 0)), SUM(IF(kind = ?, value_minor, 0)) "
                           "FROM stock_moves WHERE site = ? AND effective_date BETWEEN ? AND ? "
                           "AND kind IN (?, ?) GROUP BY team_id, zone_id ORDER BY 1, 2",
                           {static_cast<int>(v1::ISSUE), static_cast<int>(v1::RETURN), site,
                            Day(from), Day(to), static_cast<int>(v1::ISSUE),
                            static_cast<int>(v1::RETURN)}));
  std::vector<ConsumptionSums> out;
  for (const Row& r : rows) out.push_back({r.Int(0), r.Int(1), r.Int(2), r.Int(3)});
  return out;
}

absl::StatusOr<std::vector<SiteStock>> StockBySite(Conn& c) {
  ASSIGN_OR_RETURN(
      std::vector<Row> rows,
      c.Query("SELECT i.site, i.id, i.reorder_point, COALESCE(t.quantity, 0), "
              "COALESCE(t.value, 0) FROM items i LEFT JOIN (SELECT m.item_id, "
              "SUM(m.balance_after) quantity, SUM(m.value_after) value FROM stock_moves m "
              "JOIN (SELECT MAX(id) id FROM stock_moves GROUP BY warehouse_id, item_id) last "
              "ON last.id = m.id GROUP BY m.item_id) t ON t.item_id = i.id ORDER BY i.site",
              {}));
  std::vector<SiteStock> out;
  for (const Row& r : rows) {
    if (out.empty() || out.back().site != r.Str(0)) out.push_back({r.Str(0), 0, 0});
    out.back().value += r.Int(4);
    if (r.Int(3) <= r.Int(2)) ++out.back().items_below_reorder;
  }
  return out;
}

absl::StatusOr<std::vector<SlipsWaiting>> CountWaitingSlips(Conn& c) {
  ASSIGN_OR_RETURN(std::vector<Row> rows,
                   c.Query("SELECT site, state, COUNT(*) FROM issue_slips WHERE state IN "
                           "(?, ?, ?, ?) GROUP BY site, state",
                           {static_cast<int>(v1::DRAFT), static_cast<int>(v1::RECIPIENT_SIGNED),
                            static_cast<int>(v1::MONITOR_SIGNED),
                            static_cast<int>(v1::MANAGER_SIGNED)}));
  std::vector<SlipsWaiting> out;
  for (const Row& r : rows) {
    out.push_back({r.Str(0), static_cast<v1::SlipState>(r.Int(1)), r.Int(2)});
  }
  return out;
}

}  // namespace cleaning::store
