#ifndef ESTATE_SERVICES_TICKETS_TICKETS_SERVICE_H_
#define ESTATE_SERVICES_TICKETS_TICKETS_SERVICE_H_

#include <set>
#include <string>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "estate/tickets/v1/tickets.grpc.pb.h"
#include "prometheus/counter.h"
#include "prometheus/gauge.h"
#include "prometheus/histogram.h"
#include "prometheus/registry.h"
#include "services/kit/clock.h"
#include "services/kit/db.h"
#include "services/kit/host.h"
#include "services/tickets/ticket.h"
#include "services/tickets/ticket_store.h"

namespace tickets {

// gRPC layer of estate.tickets.v1: validates requests, runs the domain rules
// inside store transactions, maps outcomes to status codes.
class TicketsService final : public v1::TicketService::Service {
 public:
  TicketsService(kit::Db& db, const kit::Clock& clock, prometheus::Registry& registry);

  grpc::Status CreateTicket(grpc::ServerContext* ctx, const v1::CreateTicketRequest* req,
                            v1::Ticket* resp) override;
  grpc::Status GetTicket(grpc::ServerContext* ctx, const v1::GetTicketRequest* req,
                         v1::Ticket* resp) override;
  grpc::Status ListTickets(grpc::ServerContext* ctx, const v1::ListTicketsRequest* req,
                           v1::ListTicketsResponse* resp) override;
  grpc::Status UpdateTicket(grpc::ServerContext* ctx, const v1::UpdateTicketRequest* req,
                            v1::Ticket* resp) override;
  grpc::Status AssignTicket(grpc::ServerContext* ctx, const v1::AssignTicketRequest* req,
                            v1::Ticket* resp) override;
  grpc::Status StartTicket(grpc::ServerContext* ctx, const v1::TransitionRequest* req,
                           v1::Ticket* resp) override;
  grpc::Status WaitTicket(grpc::ServerContext* ctx, const v1::WaitTicketRequest* req,
                          v1::Ticket* resp) override;
  grpc::Status ResumeTicket(grpc::ServerContext* ctx, const v1::TransitionRequest* req,
                            v1::Ticket* resp) override;
  grpc::Status ResolveTicket(grpc::ServerContext* ctx, const v1::ResolveTicketRequest* req,
                             v1::Ticket* resp) override;
  grpc::Status CloseTicket(grpc::ServerContext* ctx, const v1::CloseTicketRequest* req,
                           v1::Ticket* resp) override;
  grpc::Status ReopenTicket(grpc::ServerContext* ctx, const v1::ReasonRequest* req,
                            v1::Ticket* resp) override;
  grpc::Status CancelTicket(grpc::ServerContext* ctx, const v1::ReasonRequest* req,
                            v1::Ticket* resp) override;
  grpc::Status ListTicketEvents(grpc::ServerContext* ctx,
                                const v1::ListTicketEventsRequest* req,
                                v1::ListTicketEventsResponse* resp) override;
  grpc::Status RecordReturnVisit(grpc::ServerContext* ctx,
                                 const v1::RecordReturnVisitRequest* req,
                                 v1::ReturnVisit* resp) override;
  grpc::Status ListReturnVisits(grpc::ServerContext* ctx,
                                const v1::ListReturnVisitsRequest* req,
                                v1::ListReturnVisitsResponse* resp) override;
  grpc::Status GetSlaPolicy(grpc::ServerContext* ctx, const v1::GetSlaPolicyRequest* req,
                            v1::SlaPolicy* resp) override;
  grpc::Status UpdateSlaPolicy(grpc::ServerContext* ctx,
                               const v1::UpdateSlaPolicyRequest* req,
                               v1::SlaPolicy* resp) override;
  grpc::Status CreateSurvey(grpc::ServerContext* ctx, const v1::CreateSurveyRequest* req,
                            v1::Survey* resp) override;
  grpc::Status GetSurvey(grpc::ServerContext* ctx, const v1::GetSurveyRequest* req,
                         v1::Survey* resp) override;
  grpc::Status AddSurveyResponse(grpc::ServerContext* ctx,
                                 const v1::AddSurveyResponseRequest* req,
                                 v1::SurveyResponse* resp) override;
  grpc::Status GetTicketStats(grpc::ServerContext* ctx, const v1::GetTicketStatsRequest* req,
                              v1::TicketStats* resp) override;

  // Background jobs. Flags tickets whose SLA ran out (counting each once, even
  // with several replicas scanning) and refreshes the open-ticket gauges.
  absl::Status ScanBreaches();
  absl::Status RefreshOpenGauges();

 private:
  struct TransitionCall {
    const char* method;
    const google::protobuf::Message* request;
    const std::string* name;
    const std::string* etag;
    const std::string* request_id;
    Transition transition;
    std::string detail;  // recorded on the event
  };
  absl::Status DoTransition(grpc::ServerContext* ctx, const TransitionCall& call,
                            v1::Ticket* resp);
  // After a committed change: count a new breach, observe a resolution.
  void CountBreach(const std::string& site, v1::TicketKind kind);

  // The site's SLA policy as committed now, read on the connection of the
  // write that applies it. Not cached: with replicas, a cache on one of them
  // would stamp due times (stored on the ticket) from a replaced policy.
  absl::StatusOr<store::SlaPolicyRow> PolicyFor(kit::Conn& c, const std::string& site);

  kit::Db& db_;
  const kit::Clock& clock_;
  prometheus::Family<prometheus::Gauge>& open_;
  prometheus::Family<prometheus::Counter>& breached_;
  prometheus::Family<prometheus::Histogram>& time_to_resolve_;
  prometheus::Histogram* resolve_seconds_[7] = {};  // by v1::TicketKind
  absl::Mutex gauges_mu_;
  std::set<std::pair<std::string, int>> gauge_keys_ ABSL_GUARDED_BY(gauges_mu_);
};

// Registers the service and its jobs on a host (main() and the tests share it).
// Returns the service (owned by the host) so tests can run its jobs at will.
TicketsService* RegisterTickets(kit::ServiceHost& host, const kit::Clock& clock,
                                absl::Duration job_interval = absl::Seconds(15));

}  // namespace tickets

#endif  // ESTATE_SERVICES_TICKETS_TICKETS_SERVICE_H_
