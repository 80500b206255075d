#ifndef ESTATE_SERVICES_ARCHIVES_ARCHIVES_SERVICE_H_
#define ESTATE_SERVICES_ARCHIVES_ARCHIVES_SERVICE_H_

#include <functional>
#include <string>

#include "estate/archives/v1/archives.grpc.pb.h"
#include "prometheus/counter.h"
#include "prometheus/gauge.h"
#include "prometheus/registry.h"
#include "services/archives/key.h"
#include "services/archives/key_store.h"
#include "services/kit/clock.h"
#include "services/kit/db.h"
#include "services/kit/host.h"

namespace archives {

// gRPC layer of estate.archives.v1 (key custody so far): validates requests,
// applies the cabinet's rules inside store transactions, maps outcomes to
// status codes.
class ArchivesService final : public v1::ArchivesService::Service {
 public:
  ArchivesService(kit::Db& db, const kit::Clock& clock, prometheus::Registry& registry);

  grpc::Status CreateKey(grpc::ServerContext* ctx, const v1::CreateKeyRequest* req,
                         v1::Key* resp) override;
  grpc::Status GetKey(grpc::ServerContext* ctx, const v1::GetKeyRequest* req,
                      v1::Key* resp) override;
  grpc::Status ListKeys(grpc::ServerContext* ctx, const v1::ListKeysRequest* req,
                        v1::ListKeysResponse* resp) override;
  grpc::Status CheckOutKey(grpc::ServerContext* ctx, const v1::CheckOutKeyRequest* req,
                           v1::Key* resp) override;
  grpc::Status CheckInKey(grpc::ServerContext* ctx, const v1::CheckInKeyRequest* req,
                          v1::Key* resp) override;
  grpc::Status ReportKeyLost(grpc::ServerContext* ctx, const v1::ReportKeyLostRequest* req,
                             v1::Key* resp) override;
  grpc::Status ReportKeyFound(grpc::ServerContext* ctx, const v1::ReportKeyFoundRequest* req,
                              v1::Key* resp) override;
  grpc::Status HandOverKey(grpc::ServerContext* ctx, const v1::HandOverKeyRequest* req,
                           v1::Key* resp) override;
  grpc::Status ListKeyCustody(grpc::ServerContext* ctx, const v1::ListKeyCustodyRequest* req,
                              v1::ListKeyCustodyResponse* resp) override;
  grpc::Status ListUnitAccess(grpc::ServerContext* ctx, const v1::ListUnitAccessRequest* req,
                              v1::ListUnitAccessResponse* resp) override;
  grpc::Status GetKeyCounts(grpc::ServerContext* ctx, const v1::GetKeyCountsRequest* req,
                            v1::KeyCounts* resp) override;

  // Refreshes the keys-out and keys-overdue gauges per site.
  absl::Status RefreshGauges();

 private:
  // One move of one key, idempotent by request_id: reads and locks the key,
  // checks the move, lets `apply` write the custody side, sets the state.
  using Apply = std::function<absl::Status(kit::Conn&, store::KeyRow&, absl::Time)>;
  grpc::Status Move(grpc::ServerContext* ctx, const char* method,
                    const google::protobuf::Message& req, const std::string& name,
                    const std::string& request_id, KeyMove move, const Apply& apply,
                    v1::Key* resp);

  kit::Db& db_;
  const kit::Clock& clock_;
  prometheus::Family<prometheus::Gauge>& out_;
  prometheus::Family<prometheus::Gauge>& overdue_;
  prometheus::Family<prometheus::Counter>& conflicts_;
};

ArchivesService* RegisterArchives(kit::ServiceHost& host, const kit::Clock& clock,
                                  absl::Duration job_interval = absl::Seconds(30));

}  // namespace archives

#endif  // ESTATE_SERVICES_ARCHIVES_ARCHIVES_SERVICE_H_
