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

// gRPC layer of estate.archives.v1: validates requests, applies the
// register's, archive room's and cabinet's rules inside store transactions,
// maps outcomes to status codes. Keys are in archives_service.cc.
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


  // The register (register_service.cc).
  grpc::Status CreateUnit(grpc::ServerContext* ctx, const v1::CreateUnitRequest* req,
      v1::Unit* resp) override;
  grpc::Status GetUnit(grpc::ServerContext* ctx, const v1::GetUnitRequest* req,
      v1::Unit* resp) override;
  grpc::Status ListUnits(grpc::ServerContext* ctx, const v1::ListUnitsRequest* req,
      v1::ListUnitsResponse* resp) override;
  grpc::Status UpdateUnit(grpc::ServerContext* ctx, const v1::UpdateUnitRequest* req,
      v1::Unit* resp) override;
  grpc::Status SetUnitOccupancy(grpc::ServerContext* ctx, const v1::SetUnitOccupancyRequest* req,
      v1::Unit* resp) override;
  grpc::Status CreateParty(grpc::ServerContext* ctx, const v1::CreatePartyRequest* req,
      v1::Party* resp) override;
  grpc::Status GetParty(grpc::ServerContext* ctx, const v1::GetPartyRequest* req,
      v1::Party* resp) override;
  grpc::Status ListParties(grpc::ServerContext* ctx, const v1::ListPartiesRequest* req,
      v1::ListPartiesResponse* resp) override;
  grpc::Status UpdateParty(grpc::ServerContext* ctx, const v1::UpdatePartyRequest* req,
      v1::Party* resp) override;
  grpc::Status ListUnitHistory(grpc::ServerContext* ctx, const v1::ListRecordHistoryRequest* req,
      v1::ListRecordHistoryResponse* resp) override;
  grpc::Status ListPartyHistory(grpc::ServerContext* ctx, const v1::ListRecordHistoryRequest* req,
      v1::ListRecordHistoryResponse* resp) override;
  grpc::Status ListPersonalDataReveals(grpc::ServerContext* ctx, const v1::ListPersonalDataRevealsRequest* req,
      v1::ListPersonalDataRevealsResponse* resp) override;
  grpc::Status ImportUnits(grpc::ServerContext* ctx, const v1::ImportUnitsRequest* req,
      v1::ImportUnitsResponse* resp) override;
  grpc::Status ExportUnits(grpc::ServerContext* ctx, const v1::ExportUnitsRequest* req,
      v1::ExportUnitsResponse* resp) override;

  // The archive room (documents_service.cc).
  grpc::Status CreateDocument(grpc::ServerContext* ctx, const v1::CreateDocumentRequest* req,
      v1::Document* resp) override;
  grpc::Status GetDocument(grpc::ServerContext* ctx, const v1::GetDocumentRequest* req,
      v1::Document* resp) override;
  grpc::Status ListDocuments(grpc::ServerContext* ctx, const v1::ListDocumentsRequest* req,
      v1::ListDocumentsResponse* resp) override;
  grpc::Status UpdateDocument(grpc::ServerContext* ctx, const v1::UpdateDocumentRequest* req,
      v1::Document* resp) override;
  grpc::Status LendDocument(grpc::ServerContext* ctx, const v1::LendDocumentRequest* req,
      v1::Loan* resp) override;
  grpc::Status ReturnDocument(grpc::ServerContext* ctx, const v1::ReturnDocumentRequest* req,
      v1::Loan* resp) override;
  grpc::Status ListLoans(grpc::ServerContext* ctx, const v1::ListLoansRequest* req,
      v1::ListLoansResponse* resp) override;
  grpc::Status StartArchiveAudit(grpc::ServerContext* ctx, const v1::StartArchiveAuditRequest* req,
      v1::ArchiveAudit* resp) override;
  grpc::Status GetArchiveAudit(grpc::ServerContext* ctx, const v1::GetArchiveAuditRequest* req,
      v1::ArchiveAudit* resp) override;
  grpc::Status MarkDocumentFound(grpc::ServerContext* ctx, const v1::MarkDocumentFoundRequest* req,
      v1::ArchiveAudit* resp) override;
  grpc::Status CloseArchiveAudit(grpc::ServerContext* ctx, const v1::CloseArchiveAuditRequest* req,
      v1::ArchiveAudit* resp) override;

  // Refreshes the key and document gauges per site.
  absl::Status RefreshGauges();

 private:
  // One move of one key, idempotent by request_id: reads and locks the key,
  // checks the move, lets `apply` write the custody side, sets the state.
  using Apply = std::function<absl::Status(kit::Conn&, store::KeyRow&, absl::Time)>;
  grpc::Status Move(grpc::ServerContext* ctx, const char* method,
                    const google::protobuf::Message& req, const std::string& name,
                    const std::string& request_id, KeyMove move, const Apply& apply,
                    v1::Key* resp);
  grpc::Status ListHistoryOf(grpc::ServerContext* ctx, const v1::ListRecordHistoryRequest* req,
                             absl::string_view collection, v1::ListRecordHistoryResponse* resp);
  // The audit as the API shows it, report lists included once closed.
  absl::StatusOr<v1::ArchiveAudit> AuditView(kit::Conn& c, const std::string& site, int64_t id);

  kit::Db& db_;
  const kit::Clock& clock_;
  prometheus::Family<prometheus::Gauge>& out_;
  prometheus::Family<prometheus::Gauge>& overdue_;
  prometheus::Family<prometheus::Counter>& conflicts_;
  prometheus::Family<prometheus::Gauge>& documents_lent_;
  prometheus::Family<prometheus::Gauge>& documents_overdue_;
  prometheus::Family<prometheus::Gauge>& documents_missing_;
};

ArchivesService* RegisterArchives(kit::ServiceHost& host, const kit::Clock& clock,
                                  absl::Duration job_interval = absl::Seconds(30));

}  // namespace archives

#endif  // ESTATE_SERVICES_ARCHIVES_ARCHIVES_SERVICE_H_
