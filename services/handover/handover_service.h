#ifndef ESTATE_SERVICES_HANDOVER_HANDOVER_SERVICE_H_
#define ESTATE_SERVICES_HANDOVER_HANDOVER_SERVICE_H_

#include <functional>
#include <map>
#include <memory>
#include <string>

#include "estate/handover/v1/handover.grpc.pb.h"
#include "estate/tickets/v1/tickets.grpc.pb.h"
#include "grpcpp/channel.h"
#include "prometheus/counter.h"
#include "prometheus/registry.h"
#include "services/handover/handover_store.h"
#include "services/kit/clock.h"
#include "services/kit/db.h"
#include "services/kit/host.h"
#include "services/kit/outbox.h"
#include "services/kit/outbox_admin.h"
#include "services/kit/validate.h"

namespace handover {

namespace v1 = ::estate::handover::v1;

struct HandoverOptions {
  // The services completion writes to, by outbox target name ("archives",
  // "billing", "tickets"). Without a channel for a target its rows wait in
  // the outbox until a process that has one relays them.
  std::map<std::string, std::shared_ptr<grpc::Channel>> peers;
  absl::Duration relay_interval = absl::Seconds(1);
};

// gRPC layer of estate.handover.v1: validates requests, applies the case's
// moves (handover_case.h) inside store transactions, writes completion's
// calls to the outbox, maps outcomes to status codes.
class HandoverService final : public v1::HandoverService::Service {
 public:
  HandoverService(kit::Db& db, const kit::Clock& clock, prometheus::Registry& registry);

  grpc::Status CreateHandoverBatch(grpc::ServerContext* ctx,
                                   const v1::CreateHandoverBatchRequest* req,
                                   v1::HandoverBatch* resp) override;
  grpc::Status GetHandoverBatch(grpc::ServerContext* ctx, const v1::GetHandoverBatchRequest* req,
                                v1::HandoverBatch* resp) override;
  grpc::Status ListHandoverBatches(grpc::ServerContext* ctx,
                                   const v1::ListHandoverBatchesRequest* req,
                                   v1::ListHandoverBatchesResponse* resp) override;
  grpc::Status CreateHandoverCase(grpc::ServerContext* ctx,
                                  const v1::CreateHandoverCaseRequest* req,
                                  v1::HandoverCase* resp) override;
  grpc::Status GetHandoverCase(grpc::ServerContext* ctx, const v1::GetHandoverCaseRequest* req,
                               v1::HandoverCase* resp) override;
  grpc::Status ListHandoverCases(grpc::ServerContext* ctx, const v1::ListHandoverCasesRequest* req,
                                 v1::ListHandoverCasesResponse* resp) override;
  grpc::Status ScheduleInspection(grpc::ServerContext* ctx,
                                  const v1::ScheduleInspectionRequest* req,
                                  v1::HandoverCase* resp) override;
  grpc::Status RecordInspection(grpc::ServerContext* ctx, const v1::RecordInspectionRequest* req,
                                v1::HandoverCase* resp) override;
  grpc::Status FixDefect(grpc::ServerContext* ctx, const v1::FixDefectRequest* req,
                         v1::HandoverCase* resp) override;
  grpc::Status AcceptHandover(grpc::ServerContext* ctx, const v1::AcceptHandoverRequest* req,
                              v1::HandoverCase* resp) override;
  grpc::Status RefuseHandover(grpc::ServerContext* ctx, const v1::RefuseHandoverRequest* req,
                              v1::HandoverCase* resp) override;
  grpc::Status HoldHandover(grpc::ServerContext* ctx, const v1::HoldHandoverRequest* req,
                            v1::HandoverCase* resp) override;
  grpc::Status ResumeHandover(grpc::ServerContext* ctx, const v1::ResumeHandoverRequest* req,
                              v1::HandoverCase* resp) override;
  grpc::Status CompleteHandover(grpc::ServerContext* ctx, const v1::CompleteHandoverRequest* req,
                                v1::HandoverCase* resp) override;
  grpc::Status ListCaseEvents(grpc::ServerContext* ctx, const v1::ListCaseEventsRequest* req,
                              v1::ListCaseEventsResponse* resp) override;
  // In handover_import.cc.
  grpc::Status ImportHandoverCases(grpc::ServerContext* ctx,
                                   const v1::ImportHandoverCasesRequest* req,
                                   v1::ImportHandoverCasesResponse* resp) override;
  // In handover_reports.cc.
  grpc::Status GetHandoverReport(grpc::ServerContext* ctx, const v1::GetHandoverReportRequest* req,
                                 v1::HandoverReport* resp) override;
  grpc::Status ListOutboxEntries(grpc::ServerContext* ctx,
                                 const estate::api::v1::ListOutboxEntriesRequest* req,
                                 estate::api::v1::ListOutboxEntriesResponse* resp) override;
  grpc::Status RetryOutboxEntry(grpc::ServerContext* ctx,
                                const estate::api::v1::RetryOutboxEntryRequest* req,
                                estate::api::v1::OutboxEntry* resp) override;

  kit::OutboxRelay& relay() { return *relay_; }

 private:
  friend HandoverService* RegisterHandover(kit::ServiceHost& host, const kit::Clock& clock,
                                           HandoverOptions options);

  // One move of the case `ref`: claim `request_id`, lock the case, check
  // `etag`, apply `move` (which may write more through the connection), save,
  // add the timeline line `type`, answer with the case.
  using Move = std::function<absl::Status(kit::Conn&, store::CaseRow&, std::string* detail)>;
  absl::Status MoveCase(grpc::ServerContext& ctx, const kit::SiteId& ref, const std::string& etag,
                        const std::string& request_id, const char* method,
                        const google::protobuf::Message& req, const char* type, Move move,
                        v1::HandoverCase* resp);
  // The same for the case named `name` (INVALID_ARGUMENT naming `name_field`
  // if it is not a case's name).
  absl::Status MoveCase(grpc::ServerContext& ctx, absl::string_view name_field,
                        const std::string& name, const std::string& etag,
                        const std::string& request_id, const char* method,
                        const google::protobuf::Message& req, const char* type, Move move,
                        v1::HandoverCase* resp);
  // The case as the API shows it: its effects' progress added.
  absl::StatusOr<v1::HandoverCase> View(kit::Conn& c, const store::CaseRow& row);
  // Each linked warranty ticket's state, asked of tickets within a short
  // budget; whatever is not answered stays empty.
  void AddTicketStates(const grpc::ServerContext& ctx, v1::HandoverCase& c);

  kit::Db& db_;
  const kit::Clock& clock_;
  kit::OutboxAdmin outbox_;
  std::unique_ptr<kit::OutboxRelay> relay_;
  std::unique_ptr<::estate::tickets::v1::TicketService::Stub> tickets_;  // null: not configured
  std::shared_ptr<const kit::IdentitySigner> identity_;  // signs the direct reads of tickets
  prometheus::Family<prometheus::Counter>& completed_;
};

HandoverService* RegisterHandover(kit::ServiceHost& host, const kit::Clock& clock,
                                  HandoverOptions options);

}  // namespace handover

#endif  // ESTATE_SERVICES_HANDOVER_HANDOVER_SERVICE_H_
