// The warehouse's RPCs: items, warehouses, stock levels, the ledger's
// receipts, returns, adjustments and transfers.
#include <map>

#include "absl/strings/str_cat.h"
#include "services/cleaning/cleaning_internal.h"
#include "services/cleaning/cleaning_service.h"
#include "services/cleaning/schedule.h"
#include "services/cleaning/stock.h"
#include "services/cleaning/stock_store.h"
#include "services/cleaning/work_store.h"
#include "services/kit/errors.h"
#include "services/kit/idempotency.h"
#include "services/kit/list.h"
#include "services/kit/paging.h"
#include "services/kit/rpc_context.h"
#include "services/kit/status_macros.h"
#include "services/kit/validate.h"

namespace cleaning {

using kit::FieldError;
using kit::ToGrpc;

namespace {

constexpr int64_t kMaxQuantity = 1'000'000'000;
constexpr int64_t kMaxUnitCost = 100'000'000'000;  // a billion yuan in fen

absl::Status CheckQuantity(absl::string_view field, int64_t q, bool signed_ok = false) {
  if (q == 0 || (!signed_ok && q < 0) || q > kMaxQuantity || q < -kMaxQuantity) {
    return FieldError(field, signed_ok ? "a non-zero whole number of units"
                                       : "a positive whole number of units");
  }
  return absl::OkStatus();
}

// A one-line move request's site, warehouse, item and quantity, read into the
// move it will post.
absl::StatusOr<store::MoveRow> MoveFor(absl::string_view parent, absl::string_view warehouse,
                                       absl::string_view item, int64_t quantity,
                                       bool signed_ok = false) {
  store::MoveRow m;
  ASSIGN_OR_RETURN(m.site, kit::ParseSiteParent("parent", parent));
  ASSIGN_OR_RETURN(m.warehouse_id, IdIn("warehouse", warehouse, "warehouses", m.site));
  ASSIGN_OR_RETURN(m.item_id, IdIn("item", item, "items", m.site));
  RETURN_IF_ERROR(CheckQuantity("quantity", quantity, signed_ok));
  m.quantity = quantity;
  return m;
}

}  // namespace

absl::Status CleaningService::OpenMove(kit::Conn& c, store::MoveRow& m, const std::string& actor) {
  RETURN_IF_ERROR(store::ReadWarehouse(c, m.site, m.warehouse_id).status());
  RETURN_IF_ERROR(store::ReadItem(c, m.site, m.item_id).status());
  ASSIGN_OR_RETURN(m.effective, TodayAt(c, m.site));
  m.posted_by = actor;
  m.posted_at = clock_.Now();
  return store::LockItems(c, m.site, {m.item_id});
}

grpc::Status CleaningService::CreateItem(grpc::ServerContext* ctx, const v1::CreateItemRequest* req,
                                         v1::Item* resp) {
  absl::StatusOr<std::string> site = kit::ParseSiteParent("parent", req->parent());
  if (!site.ok()) return ToGrpc(site.status());
  RETURN_GRPC_IF_ERROR(kit::CheckRequestId(req->request_id()));
  const v1::Item& in = req->item();
  if (!kit::IsValidUnitId(in.sku())) return ToGrpc(FieldError("item.sku", "1 to 64 letters, digits, - _ ."));
  RETURN_GRPC_IF_ERROR(kit::CheckText("item.display_name", in.display_name(), 200, true));
  RETURN_GRPC_IF_ERROR(kit::CheckText("item.unit_of_measure", in.unit_of_measure(), 32, true));
  if (in.reorder_point() < 0 || in.reorder_point() > kMaxQuantity) {
    return ToGrpc(FieldError("item.reorder_point", "0 or more units"));
  }
  return ToGrpc(kit::IdempotentWrite(
      db_, kit::DeadlineOf(*ctx), "CreateItem", req->request_id(), *req, resp,
      [&](kit::Conn& c) -> absl::Status {
        v1::Item item = in;
        RETURN_IF_ERROR(store::InsertItem(c, *site, item, clock_.Now()).status());
        *resp = item;
        return absl::OkStatus();
      }));
}

grpc::Status CleaningService::ListItems(grpc::ServerContext* ctx, const v1::ListItemsRequest* req,
                                        v1::ListItemsResponse* resp) {
  return ToGrpc(kit::ListPage(
      db_, kit::DeadlineOf(*ctx), *req, resp->mutable_next_page_token(),
      [&](kit::Conn& c, const std::string& site, const kit::Page& page) {
        return store::ListItems(c, site, page.after, page.size + 1);
      },
      [](const auto& r) { return r.id; },
      [&](const store::ItemRow& i) { *resp->add_items() = i.item; }));
}

grpc::Status CleaningService::CreateWarehouse(grpc::ServerContext* ctx,
                                              const v1::CreateWarehouseRequest* req,
                                              v1::Warehouse* resp) {
  absl::StatusOr<std::string> site = kit::ParseSiteParent("parent", req->parent());
  if (!site.ok()) return ToGrpc(site.status());
  RETURN_GRPC_IF_ERROR(kit::CheckRequestId(req->request_id()));
  RETURN_GRPC_IF_ERROR(
      kit::CheckText("warehouse.display_name", req->warehouse().display_name(), 200, true));
  if (req->warehouse().kind() != v1::STORE && req->warehouse().kind() != v1::MODEL_ROOM) {
    return ToGrpc(FieldError("warehouse.kind", "required: STORE or MODEL_ROOM"));
  }
  return ToGrpc(kit::IdempotentWrite(
      db_, kit::DeadlineOf(*ctx), "CreateWarehouse", req->request_id(), *req, resp,
      [&](kit::Conn& c) -> absl::Status {
        v1::Warehouse w = req->warehouse();
        RETURN_IF_ERROR(store::InsertWarehouse(c, *site, w, clock_.Now()).status());
        *resp = w;
        return absl::OkStatus();
      }));
}

grpc::Status CleaningService::ListWarehouses(grpc::ServerContext* ctx,
                                             const v1::ListWarehousesRequest* req,
                                             v1::ListWarehousesResponse* resp) {
  return ToGrpc(kit::ListPage(
      db_, kit::DeadlineOf(*ctx), *req, resp->mutable_next_page_token(),
      [&](kit::Conn& c, const std::string& site, const kit::Page& page) {
        return store::ListWarehouses(c, site, page.after, page.size + 1);
      },
      [](const auto& r) { return r.first; },
      [&](auto& row) { auto& [id, w] = row; *resp->add_warehouses() = std::move(w); }));
}

grpc::Status CleaningService::ListStock(grpc::ServerContext* ctx, const v1::ListStockRequest* req,
                                        v1::ListStockResponse* resp) {
  absl::StatusOr<std::string> site = kit::ParseSiteParent("parent", req->parent());
  if (!site.ok()) return ToGrpc(site.status());
  absl::StatusOr<int64_t> warehouse = OptionalIdIn("warehouse", req->warehouse(), "warehouses", *site);
  if (!warehouse.ok()) return ToGrpc(warehouse.status());
  return ToGrpc(db_.Run(kit::DeadlineOf(*ctx), [&](kit::Conn& c) -> absl::Status {
    // Reorder points are for the item across the site, whatever the filter.
    ASSIGN_OR_RETURN(std::vector<store::Level> all, store::Levels(c, *site, 0));
    std::map<int64_t, int64_t> item_on_hand;
    for (const store::Level& l : all) item_on_hand[l.item.id] += l.position.quantity;
    int64_t total = 0;
    const auto add = [&](int64_t warehouse_id, const store::ItemRow& item, Position p) {
      const int64_t on_hand = item_on_hand[item.id];
      const bool below = on_hand <= item.item.reorder_point();
      if (req->below_reorder_only() && !below) return;
      v1::StockLevel* out = resp->add_levels();
      if (warehouse_id != 0) out->set_warehouse(NameOf(*site, "warehouses", warehouse_id));
      out->set_item(item.item.name());
      out->set_sku(item.item.sku());
      out->set_on_hand(p.quantity);
      out->set_value_minor(p.value);
      out->set_average_cost_minor(AverageCost(p));
      out->set_reorder_point(item.item.reorder_point());
      out->set_item_on_hand(on_hand);
      out->set_below_reorder_point(below);
      total += p.value;
    };
    for (const store::Level& l : all) {
      if (*warehouse == 0 || l.warehouse_id == *warehouse) add(l.warehouse_id, l.item, l.position);
    }
    if (*warehouse == 0) {
      // Items never stocked hold nothing anywhere: below any reorder point.
      for (int64_t after = 0;;) {
        ASSIGN_OR_RETURN(std::vector<store::ItemRow> items, store::ListItems(c, *site, after, 500));
        for (const store::ItemRow& i : items) {
          after = i.id;
          if (!item_on_hand.count(i.id)) add(0, i, {});
        }
        if (items.size() < 500) break;
      }
    }
    resp->set_total_value_minor(total);
    return absl::OkStatus();
  }));
}

grpc::Status CleaningService::ListStockMoves(grpc::ServerContext* ctx,
                                             const v1::ListStockMovesRequest* req,
                                             v1::ListStockMovesResponse* resp) {
  absl::StatusOr<std::string> site = kit::ParseSiteParent("parent", req->parent());
  if (!site.ok()) return ToGrpc(site.status());
  absl::StatusOr<int64_t> warehouse = OptionalIdIn("warehouse", req->warehouse(), "warehouses", *site);
  if (!warehouse.ok()) return ToGrpc(warehouse.status());
  absl::StatusOr<int64_t> item = OptionalIdIn("item", req->item(), "items", *site);
  if (!item.ok()) return ToGrpc(item.status());
  const store::MoveFilter f{*site, *warehouse, *item};
  return ToGrpc(kit::ListRows(
      db_, kit::DeadlineOf(*ctx), *req, resp->mutable_next_page_token(),
      [&](kit::Conn& c, const kit::Page& page) {
        return store::ListMoves(c, f, page.after, page.size + 1);
      },
      [](const auto& r) { return r.first; },
      [&](auto& row) { auto& [id, m] = row; *resp->add_moves() = std::move(m); }));
}

grpc::Status CleaningService::ReceiveStock(grpc::ServerContext* ctx,
                                           const v1::ReceiveStockRequest* req,
                                           v1::StockMove* resp) {
  absl::StatusOr<store::MoveRow> move =
      MoveFor(req->parent(), req->warehouse(), req->item(), req->quantity());
  if (!move.ok()) return ToGrpc(move.status());
  RETURN_GRPC_IF_ERROR(kit::CheckRequestId(req->request_id()));
  if (req->unit_cost_minor() < 0 || req->unit_cost_minor() > kMaxUnitCost) {
    return ToGrpc(FieldError("unit_cost_minor", "0 or more minor units"));
  }
  RETURN_GRPC_IF_ERROR(kit::CheckText("supplier", req->supplier(), 200, true));
  std::optional<absl::CivilDay> dated;
  if (!req->effective_date().empty()) {
    dated = ParseDay(req->effective_date());
    if (!dated) return ToGrpc(FieldError("effective_date", "YYYY-MM-DD"));
  }
  absl::StatusOr<int64_t> value = InValue("unit_cost_minor", req->quantity(), req->unit_cost_minor());
  if (!value.ok()) return ToGrpc(value.status());
  const std::string actor = kit::CallerOf(*ctx);
  return ToGrpc(kit::IdempotentWrite(
      db_, kit::DeadlineOf(*ctx), "ReceiveStock", req->request_id(), *req, resp,
      [&](kit::Conn& c) -> absl::Status {
        store::MoveRow m = *move;
        RETURN_IF_ERROR(OpenMove(c, m, actor));
        if (dated) {
          if (*dated > m.effective) return FieldError("effective_date", "must not be after today");
          m.effective = *dated;  // Post refuses a closed period
        }
        m.kind = v1::RECEIPT;
        m.value = *value;
        m.supplier = req->supplier();
        ASSIGN_OR_RETURN(*resp, Post(c, m));
        return absl::OkStatus();
      }));
}

grpc::Status CleaningService::ReturnStock(grpc::ServerContext* ctx,
                                          const v1::ReturnStockRequest* req, v1::StockMove* resp) {
  absl::StatusOr<store::MoveRow> move =
      MoveFor(req->parent(), req->warehouse(), req->item(), req->quantity());
  if (!move.ok()) return ToGrpc(move.status());
  RETURN_GRPC_IF_ERROR(kit::CheckRequestId(req->request_id()));
  absl::StatusOr<int64_t> team = IdIn("team", req->team(), "teams", move->site);
  if (!team.ok()) return ToGrpc(team.status());
  absl::StatusOr<int64_t> zone = OptionalIdIn("zone", req->zone(), "zones", move->site);
  if (!zone.ok()) return ToGrpc(zone.status());
  RETURN_GRPC_IF_ERROR(kit::CheckText("reason", req->reason(), 500, false));
  const std::string actor = kit::CallerOf(*ctx);
  return ToGrpc(kit::IdempotentWrite(
      db_, kit::DeadlineOf(*ctx), "ReturnStock", req->request_id(), *req, resp,
      [&](kit::Conn& c) -> absl::Status {
        store::MoveRow m = *move;
        RETURN_IF_ERROR(store::CheckTeam(c, m.site, *team));
        if (*zone != 0) RETURN_IF_ERROR(store::ReadZone(c, m.site, *zone, false).status());
        RETURN_IF_ERROR(OpenMove(c, m, actor));
        m.kind = v1::RETURN;
        m.team_id = *team;
        m.zone_id = *zone;
        m.reason = req->reason();
        ASSIGN_OR_RETURN(*resp, PostAtAverage(c, m));
        return absl::OkStatus();
      }));
}

grpc::Status CleaningService::AdjustStock(grpc::ServerContext* ctx,
                                          const v1::AdjustStockRequest* req, v1::StockMove* resp) {
  absl::StatusOr<store::MoveRow> move =
      MoveFor(req->parent(), req->warehouse(), req->item(), req->quantity(), true);
  if (!move.ok()) return ToGrpc(move.status());
  RETURN_GRPC_IF_ERROR(kit::CheckRequestId(req->request_id()));
  RETURN_GRPC_IF_ERROR(kit::CheckText("reason", req->reason(), 500, true));
  RETURN_GRPC_IF_ERROR(kit::CheckText("approver", req->approver(), 200, true));
  const std::string actor = kit::CallerOf(*ctx);
  return ToGrpc(kit::IdempotentWrite(
      db_, kit::DeadlineOf(*ctx), "AdjustStock", req->request_id(), *req, resp,
      [&](kit::Conn& c) -> absl::Status {
        store::MoveRow m = *move;
        RETURN_IF_ERROR(OpenMove(c, m, actor));
        m.kind = v1::ADJUSTMENT;
        m.reason = req->reason();
        m.approver = req->approver();
        ASSIGN_OR_RETURN(*resp, PostAtAverage(c, m));
        return absl::OkStatus();
      }));
}

grpc::Status CleaningService::TransferStock(grpc::ServerContext* ctx,
                                            const v1::TransferStockRequest* req,
                                            v1::StockTransfer* resp) {
  absl::StatusOr<std::string> site = kit::ParseSiteParent("parent", req->parent());
  if (!site.ok()) return ToGrpc(site.status());
  RETURN_GRPC_IF_ERROR(kit::CheckRequestId(req->request_id()));
  const v1::StockTransfer& in = req->transfer();
  absl::StatusOr<int64_t> from = IdIn("transfer.from_warehouse", in.from_warehouse(), "warehouses", *site);
  if (!from.ok()) return ToGrpc(from.status());
  absl::StatusOr<kit::SiteId> to = kit::ParseSiteId("transfer.to_warehouse", in.to_warehouse(), "warehouses");
  if (!to.ok()) return ToGrpc(to.status());
  if (to->site == *site && to->id == *from) {
    return ToGrpc(FieldError("transfer.to_warehouse", "must differ from from_warehouse"));
  }
  absl::StatusOr<int64_t> item = IdIn("transfer.item", in.item(), "items", *site);
  if (!item.ok()) return ToGrpc(item.status());
  RETURN_GRPC_IF_ERROR(CheckQuantity("transfer.quantity", in.quantity()));
  const std::string actor = kit::CallerOf(*ctx);
  return ToGrpc(kit::IdempotentWrite(
      db_, kit::DeadlineOf(*ctx), "TransferStock", req->request_id(), *req, resp,
      [&](kit::Conn& c) -> absl::Status {
        RETURN_IF_ERROR(store::ReadWarehouse(c, *site, *from).status());
        absl::Status dest = store::ReadWarehouse(c, to->site, to->id).status();
        if (absl::IsNotFound(dest)) return FieldError("transfer.to_warehouse", "no such warehouse");
        RETURN_IF_ERROR(dest);
        if (to->site != *site) {
          // Values travel at cost; another currency would need a rate.
          ASSIGN_OR_RETURN(store::Settings from_settings, store::ReadSettings(c, *site, false));
          ASSIGN_OR_RETURN(store::Settings to_settings, store::ReadSettings(c, to->site, false));
          if (from_settings.currency != to_settings.currency) {
            return absl::FailedPreconditionError(absl::StrCat(
                "the sites keep stock in different currencies (", from_settings.currency, ", ",
                to_settings.currency, ")"));
          }
        }
        ASSIGN_OR_RETURN(store::ItemRow item_row, store::ReadItem(c, *site, *item));
        ASSIGN_OR_RETURN(absl::CivilDay today, TodayAt(c, *site));
        RETURN_IF_ERROR(store::LockItems(c, *site, {*item}));
        ASSIGN_OR_RETURN(Position p, store::ReadPosition(c, *from, *item));
        ASSIGN_OR_RETURN(int64_t value, OutValue(p, in.quantity()));
        const absl::Time now = clock_.Now();
        store::TransferRow t;
        t.site = *site;
        t.dest_site = to->site;
        t.from_warehouse_id = *from;
        t.to_warehouse_id = to->id;
        t.item_id = *item;
        t.sku = item_row.item.sku();
        t.quantity = in.quantity();
        t.value = value;
        t.sent_at = now;
        RETURN_IF_ERROR(store::InsertTransfer(c, t, actor).status());
        const std::string reference = NameOf(*site, "stockTransfers", t.id);
        store::MoveRow out;
        out.site = *site;
        out.warehouse_id = *from;
        out.item_id = *item;
        out.kind = v1::TRANSFER_OUT;
        out.quantity = -in.quantity();
        out.value = -value;
        out.effective = today;
        out.reference = reference;
        out.posted_by = actor;
        out.posted_at = now;
        RETURN_IF_ERROR(Post(c, out).status());
        if (to->site == *site) {
          store::MoveRow into = out;
          into.warehouse_id = to->id;
          into.kind = v1::TRANSFER_IN;
          into.quantity = in.quantity();
          into.value = value;
          RETURN_IF_ERROR(Post(c, into).status());
          RETURN_IF_ERROR(store::MarkReceived(c, t, actor, now));
        }
        *resp = store::TransferView(t);
        return absl::OkStatus();
      }));
}

grpc::Status CleaningService::ReceiveStockTransfer(grpc::ServerContext* ctx,
                                                   const v1::ReceiveStockTransferRequest* req,
                                                   v1::StockTransfer* resp) {
  absl::StatusOr<std::string> site = kit::ParseSiteParent("parent", req->parent());
  if (!site.ok()) return ToGrpc(site.status());
  RETURN_GRPC_IF_ERROR(kit::CheckRequestId(req->request_id()));
  absl::StatusOr<kit::SiteId> ref = kit::ParseSiteId("transfer", req->transfer(), "stockTransfers");
  if (!ref.ok()) return ToGrpc(ref.status());
  const std::string actor = kit::CallerOf(*ctx);
  return ToGrpc(kit::IdempotentWrite(
      db_, kit::DeadlineOf(*ctx), "ReceiveStockTransfer", req->request_id(), *req, resp,
      [&](kit::Conn& c) -> absl::Status {
        ASSIGN_OR_RETURN(store::TransferRow t, store::ReadTransfer(c, ref->site, ref->id, true));
        if (t.dest_site != *site) return FieldError("transfer", "is not addressed to this site");
        if (t.state != v1::IN_TRANSIT) {
          return absl::FailedPreconditionError("the transfer has been received already");
        }
        absl::StatusOr<store::ItemRow> item = store::ReadItemBySku(c, *site, t.sku);
        if (absl::IsNotFound(item.status())) {
          return absl::FailedPreconditionError(
              absl::StrCat("this site has no item with SKU ", t.sku, "; create it first"));
        }
        RETURN_IF_ERROR(item.status());
        ASSIGN_OR_RETURN(absl::CivilDay today, TodayAt(c, *site));
        RETURN_IF_ERROR(store::LockItems(c, *site, {item->id}));
        const absl::Time now = clock_.Now();
        store::MoveRow into;
        into.site = *site;
        into.warehouse_id = t.to_warehouse_id;
        into.item_id = item->id;
        into.kind = v1::TRANSFER_IN;
        into.quantity = t.quantity;
        into.value = t.value;
        into.effective = today;
        into.reference = req->transfer();
        into.posted_by = actor;
        into.posted_at = now;
        RETURN_IF_ERROR(Post(c, into).status());
        RETURN_IF_ERROR(store::MarkReceived(c, t, actor, now));
        *resp = store::TransferView(t);
        return absl::OkStatus();
      }));
}

grpc::Status CleaningService::ListIncomingTransfers(grpc::ServerContext* ctx,
                                                    const v1::ListIncomingTransfersRequest* req,
                                                    v1::ListIncomingTransfersResponse* resp) {
  return ToGrpc(kit::ListPage(
      db_, kit::DeadlineOf(*ctx), *req, resp->mutable_next_page_token(),
      [&](kit::Conn& c, const std::string& site, const kit::Page& page) {
        return store::ListIncoming(c, site, req->in_transit_only(), page.after, page.size + 1);
      },
      [](const auto& r) { return r.id; },
      [&](const store::TransferRow& t) { *resp->add_transfers() = store::TransferView(t); }));
}

}  // namespace cleaning
