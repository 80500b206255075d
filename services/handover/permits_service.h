#ifndef ESTATE_SERVICES_HANDOVER_PERMITS_SERVICE_H_
#define ESTATE_SERVICES_HANDOVER_PERMITS_SERVICE_H_

#include <functional>
#include <string>

#include "estate/handover/v1/permits.grpc.pb.h"
#include "prometheus/counter.h"
#include "prometheus/registry.h"
#include "services/handover/permit_store.h"
#include "services/kit/clock.h"
#include "services/kit/db.h"

namespace handover {

namespace v1 = ::estate::handover::v1;

// gRPC layer of estate.handover.v1.RenovationService: validates requests,
// applies the permit's moves (permit.h) inside store transactions, writes a
// violation's ticket to the outbox with the move (HandoverService's relay
// delivers it), maps outcomes to status codes. Registered by
// RegisterHandover.
class RenovationService final : public v1::RenovationService::Service {
 public:
  RenovationService(kit::Db& db, const kit::Clock& clock, prometheus::Registry& registry);

  grpc::Status CreateRenovationPermit(grpc::ServerContext* ctx,
                                      const v1::CreateRenovationPermitRequest* req,
                                      v1::RenovationPermit* resp) override;
  grpc::Status GetRenovationPermit(grpc::ServerContext* ctx,
                                   const v1::GetRenovationPermitRequest* req,
                                   v1::RenovationPermit* resp) override;
  grpc::Status ListRenovationPermits(grpc::ServerContext* ctx,
                                     const v1::ListRenovationPermitsRequest* req,
                                     v1::ListRenovationPermitsResponse* resp) override;
  grpc::Status ApproveRenovationPermit(grpc::ServerContext* ctx,
                                       const v1::ApproveRenovationPermitRequest* req,
                                       v1::RenovationPermit* resp) override;
  grpc::Status RefuseRenovationPermit(grpc::ServerContext* ctx,
                                      const v1::RefuseRenovationPermitRequest* req,
                                      v1::RenovationPermit* resp) override;
  grpc::Status RecordRenovationInspection(grpc::ServerContext* ctx,
                                          const v1::RecordRenovationInspectionRequest* req,
                                          v1::RenovationPermit* resp) override;
  grpc::Status ResumeRenovationWork(grpc::ServerContext* ctx,
                                    const v1::ResumeRenovationWorkRequest* req,
                                    v1::RenovationPermit* resp) override;
  grpc::Status CloseRenovationPermit(grpc::ServerContext* ctx,
                                     const v1::CloseRenovationPermitRequest* req,
                                     v1::RenovationPermit* resp) override;
  grpc::Status ListPermitEvents(grpc::ServerContext* ctx, const v1::ListPermitEventsRequest* req,
                                v1::ListPermitEventsResponse* resp) override;
  grpc::Status GetRenovationCounts(grpc::ServerContext* ctx,
                                   const v1::GetRenovationCountsRequest* req,
                                   v1::RenovationCounts* resp) override;
  // In permits_passes.cc.
  grpc::Status IssueWorkerPass(grpc::ServerContext* ctx, const v1::IssueWorkerPassRequest* req,
                               v1::WorkerPass* resp) override;
  grpc::Status RevokeWorkerPass(grpc::ServerContext* ctx, const v1::RevokeWorkerPassRequest* req,
                                v1::WorkerPass* resp) override;
  grpc::Status ListWorkerPasses(grpc::ServerContext* ctx, const v1::ListWorkerPassesRequest* req,
                                v1::ListWorkerPassesResponse* resp) override;
  grpc::Status CheckWorkerPass(grpc::ServerContext* ctx, const v1::CheckWorkerPassRequest* req,
                               v1::CheckWorkerPassResponse* resp) override;

 private:
  // One move of the permit named `name`: claim `request_id`, lock the
  // permit, check `etag`, apply `move` at `now` (it may write more through
  // the connection), save, add the timeline line `type`, answer with the
  // permit.
  using Move = std::function<absl::Status(kit::Conn&, store::PermitRow&, absl::Time now,
                                          std::string* detail)>;
  absl::Status MovePermit(grpc::ServerContext& ctx, const std::string& name,
                          const std::string& etag, const std::string& request_id,
                          const char* method, const google::protobuf::Message& req,
                          const char* type, Move move, v1::RenovationPermit* resp);

  kit::Db& db_;
  const kit::Clock& clock_;
  prometheus::Family<prometheus::Counter>& violations_;
};

}  // namespace handover

#endif  // ESTATE_SERVICES_HANDOVER_PERMITS_SERVICE_H_
