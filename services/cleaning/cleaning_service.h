#ifndef ESTATE_SERVICES_CLEANING_CLEANING_SERVICE_H_
#define ESTATE_SERVICES_CLEANING_CLEANING_SERVICE_H_

#include <map>
#include <memory>
#include <string>

#include "estate/cleaning/v1/cleaning.grpc.pb.h"
#include "grpcpp/channel.h"
#include "prometheus/counter.h"
#include "prometheus/gauge.h"
#include "prometheus/histogram.h"
#include "prometheus/registry.h"
#include "services/cleaning/stock.h"
#include "services/cleaning/stock_store.h"
#include "services/kit/clock.h"
#include "services/kit/db.h"
#include "services/kit/host.h"
#include "services/kit/outbox.h"
#include "services/kit/outbox_admin.h"

namespace cleaning {

struct CleaningOptions {
  // Where rectification tickets go (the tickets service). Without one the
  // outbox keeps them until a process with a channel relays them.
  std::shared_ptr<grpc::Channel> tickets;
  // Task generation (today and tomorrow), missed tasks, gauges.
  absl::Duration job_interval = absl::Minutes(1);
  absl::Duration relay_interval = absl::Seconds(1);
};

// gRPC layer of estate.cleaning.v1: validates requests, applies the plan's
// and the warehouse's rules inside store transactions, maps outcomes to
// status codes. The plan's methods are in work_service.cc, the warehouse's
// in stock_service.cc and slips_service.cc.
class CleaningService final : public v1::CleaningService::Service {
 public:
  CleaningService(kit::Db& db, const kit::Clock& clock, prometheus::Registry& registry);

  grpc::Status GetCleaningSettings(grpc::ServerContext* ctx, const v1::GetCleaningSettingsRequest* req,
      v1::CleaningSettings* resp) override;
  grpc::Status UpdateCleaningSettings(grpc::ServerContext* ctx, const v1::UpdateCleaningSettingsRequest* req,
      v1::CleaningSettings* resp) override;
  grpc::Status CreateZone(grpc::ServerContext* ctx, const v1::CreateZoneRequest* req,
      v1::Zone* resp) override;
  grpc::Status GetZone(grpc::ServerContext* ctx, const v1::GetZoneRequest* req,
      v1::Zone* resp) override;
  grpc::Status ListZones(grpc::ServerContext* ctx, const v1::ListZonesRequest* req,
      v1::ListZonesResponse* resp) override;
  grpc::Status UpdateZone(grpc::ServerContext* ctx, const v1::UpdateZoneRequest* req,
      v1::Zone* resp) override;
  grpc::Status CreateTeam(grpc::ServerContext* ctx, const v1::CreateTeamRequest* req,
      v1::Team* resp) override;
  grpc::Status ListTeams(grpc::ServerContext* ctx, const v1::ListTeamsRequest* req,
      v1::ListTeamsResponse* resp) override;
  grpc::Status CreateShift(grpc::ServerContext* ctx, const v1::CreateShiftRequest* req,
      v1::Shift* resp) override;
  grpc::Status ListShifts(grpc::ServerContext* ctx, const v1::ListShiftsRequest* req,
      v1::ListShiftsResponse* resp) override;
  grpc::Status CreateTaskTemplate(grpc::ServerContext* ctx, const v1::CreateTaskTemplateRequest* req,
      v1::TaskTemplate* resp) override;
  grpc::Status ListTaskTemplates(grpc::ServerContext* ctx, const v1::ListTaskTemplatesRequest* req,
      v1::ListTaskTemplatesResponse* resp) override;
  grpc::Status GenerateTasks(grpc::ServerContext* ctx, const v1::GenerateTasksRequest* req,
      v1::GenerateTasksResponse* resp) override;
  grpc::Status ListTasks(grpc::ServerContext* ctx, const v1::ListTasksRequest* req,
      v1::ListTasksResponse* resp) override;
  grpc::Status CompleteTask(grpc::ServerContext* ctx, const v1::CompleteTaskRequest* req,
      v1::Task* resp) override;
  grpc::Status CreateInspection(grpc::ServerContext* ctx, const v1::CreateInspectionRequest* req,
      v1::Inspection* resp) override;
  grpc::Status GetInspection(grpc::ServerContext* ctx, const v1::GetInspectionRequest* req,
      v1::Inspection* resp) override;
  grpc::Status ListInspections(grpc::ServerContext* ctx, const v1::ListInspectionsRequest* req,
      v1::ListInspectionsResponse* resp) override;
  grpc::Status GetCleaningReport(grpc::ServerContext* ctx, const v1::GetCleaningReportRequest* req,
      v1::CleaningReport* resp) override;
  grpc::Status ListOutboxEntries(grpc::ServerContext* ctx,
                                 const estate::api::v1::ListOutboxEntriesRequest* req,
                                 estate::api::v1::ListOutboxEntriesResponse* resp) override;
  grpc::Status RetryOutboxEntry(grpc::ServerContext* ctx,
                                const estate::api::v1::RetryOutboxEntryRequest* req,
                                estate::api::v1::OutboxEntry* resp) override;
  grpc::Status CreateItem(grpc::ServerContext* ctx, const v1::CreateItemRequest* req,
      v1::Item* resp) override;
  grpc::Status ListItems(grpc::ServerContext* ctx, const v1::ListItemsRequest* req,
      v1::ListItemsResponse* resp) override;
  grpc::Status CreateWarehouse(grpc::ServerContext* ctx, const v1::CreateWarehouseRequest* req,
      v1::Warehouse* resp) override;
  grpc::Status ListWarehouses(grpc::ServerContext* ctx, const v1::ListWarehousesRequest* req,
      v1::ListWarehousesResponse* resp) override;
  grpc::Status ListStock(grpc::ServerContext* ctx, const v1::ListStockRequest* req,
      v1::ListStockResponse* resp) override;
  grpc::Status ListStockMoves(grpc::ServerContext* ctx, const v1::ListStockMovesRequest* req,
      v1::ListStockMovesResponse* resp) override;
  grpc::Status ReceiveStock(grpc::ServerContext* ctx, const v1::ReceiveStockRequest* req,
      v1::StockMove* resp) override;
  grpc::Status ReturnStock(grpc::ServerContext* ctx, const v1::ReturnStockRequest* req,
      v1::StockMove* resp) override;
  grpc::Status AdjustStock(grpc::ServerContext* ctx, const v1::AdjustStockRequest* req,
      v1::StockMove* resp) override;
  grpc::Status TransferStock(grpc::ServerContext* ctx, const v1::TransferStockRequest* req,
      v1::StockTransfer* resp) override;
  grpc::Status ReceiveStockTransfer(grpc::ServerContext* ctx, const v1::ReceiveStockTransferRequest* req,
      v1::StockTransfer* resp) override;
  grpc::Status ListIncomingTransfers(grpc::ServerContext* ctx, const v1::ListIncomingTransfersRequest* req,
      v1::ListIncomingTransfersResponse* resp) override;
  grpc::Status CreateIssueSlip(grpc::ServerContext* ctx, const v1::CreateIssueSlipRequest* req,
      v1::IssueSlip* resp) override;
  grpc::Status GetIssueSlip(grpc::ServerContext* ctx, const v1::GetIssueSlipRequest* req,
      v1::IssueSlip* resp) override;
  grpc::Status ListIssueSlips(grpc::ServerContext* ctx, const v1::ListIssueSlipsRequest* req,
      v1::ListIssueSlipsResponse* resp) override;
  grpc::Status SignIssueSlip(grpc::ServerContext* ctx, const v1::SignIssueSlipRequest* req,
      v1::IssueSlip* resp) override;
  grpc::Status PostIssueSlip(grpc::ServerContext* ctx, const v1::PostIssueSlipRequest* req,
      v1::IssueSlip* resp) override;
  grpc::Status CancelIssueSlip(grpc::ServerContext* ctx, const v1::CancelIssueSlipRequest* req,
      v1::IssueSlip* resp) override;
  grpc::Status OpenStocktake(grpc::ServerContext* ctx, const v1::OpenStocktakeRequest* req,
      v1::Stocktake* resp) override;
  grpc::Status GetStocktake(grpc::ServerContext* ctx, const v1::GetStocktakeRequest* req,
      v1::Stocktake* resp) override;
  grpc::Status RecordCount(grpc::ServerContext* ctx, const v1::RecordCountRequest* req,
      v1::Stocktake* resp) override;
  grpc::Status CloseStocktake(grpc::ServerContext* ctx, const v1::CloseStocktakeRequest* req,
      v1::Stocktake* resp) override;
  grpc::Status ListStocktakes(grpc::ServerContext* ctx, const v1::ListStocktakesRequest* req,
      v1::ListStocktakesResponse* resp) override;
  grpc::Status CloseInventoryPeriod(grpc::ServerContext* ctx, const v1::CloseInventoryPeriodRequest* req,
      v1::InventoryPeriod* resp) override;
  grpc::Status SetBudget(grpc::ServerContext* ctx, const v1::SetBudgetRequest* req,
      v1::Budget* resp) override;
  grpc::Status GetConsumptionReport(grpc::ServerContext* ctx, const v1::GetConsumptionReportRequest* req,
      v1::ConsumptionReport* resp) override;

  // Tasks for today and tomorrow of every site; PENDING tasks past their day
  // become MISSED.
  absl::Status RunTaskJobs();
  // Items below reorder point, stock value, slips waiting per stage.
  absl::Status RefreshGauges();

 private:
  // The site's time zone, from its settings.
  absl::StatusOr<absl::TimeZone> TimeZoneOf(kit::Conn& c, const std::string& site);
  // Today in the site's time zone.
  absl::StatusOr<absl::CivilDay> TodayAt(kit::Conn& c, const std::string& site);
  // FAILED_PRECONDITION naming `field` if `day` lies in a closed period.
  absl::Status CheckOpenPeriod(kit::Conn& c, const std::string& site, absl::CivilDay day,
                               absl::string_view field);
  // Creates the tasks of every template of the site for the days.
  absl::StatusOr<int64_t> Generate(kit::Conn& c, const std::string& site, absl::CivilDay from,
                                   absl::CivilDay to);
  // The display names of the site's zones and teams, by id (for reports).
  struct DisplayNames {
    std::map<int64_t, std::string> zones, teams;
  };
  absl::StatusOr<DisplayNames> NamesOf(kit::Conn& c, const std::string& site);
  // Appends a move of `m.quantity` (signed) at `m.value` (signed) after the
  // current position (the item must be locked). FAILED_PRECONDITION if it
  // would take more than is held.
  absl::StatusOr<v1::StockMove> Post(kit::Conn& c, store::MoveRow& m);
  // Checks a one-line move's warehouse and item are the site's, dates it
  // today, stamps who and when, and locks the item.
  absl::Status OpenMove(kit::Conn& c, store::MoveRow& m, const std::string& actor);
  // Post for a change valued by the ledger: out at average cost, in at
  // average cost (or the last average known, when nothing is held).
  absl::StatusOr<v1::StockMove> PostAtAverage(kit::Conn& c, store::MoveRow& m);

  kit::Db& db_;
  const kit::Clock& clock_;
  prometheus::Histogram& scores_;
  prometheus::Family<prometheus::Gauge>& below_reorder_;
  prometheus::Family<prometheus::Gauge>& stock_value_;
  prometheus::Family<prometheus::Gauge>& slips_waiting_;
  prometheus::Family<prometheus::Counter>& tasks_missed_;
  std::unique_ptr<kit::OutboxRelay> relay_;
  kit::OutboxAdmin outbox_;

  friend CleaningService* RegisterCleaning(kit::ServiceHost&, const kit::Clock&, CleaningOptions);
};

CleaningService* RegisterCleaning(kit::ServiceHost& host, const kit::Clock& clock,
                                  CleaningOptions options = {});

}  // namespace cleaning

#endif  // ESTATE_SERVICES_CLEANING_CLEANING_SERVICE_H_
