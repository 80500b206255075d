// The tickets service: the customer-service desk's tickets, return visits,
// surveys and SLA. Wiring only.
#include "services/kit/clock.h"
#include "services/kit/service_main.h"
#include "services/tickets/tickets_service.h"

std::vector<kit::Migration> estate_tickets_migrations();

int main(int argc, char** argv) {
  return kit::RunService(argc, argv, {"tickets", "127.0.0.1:50052", "127.0.0.1:9102"},
                         estate_tickets_migrations(), [](kit::ServiceHost& host) {
                           tickets::RegisterTickets(host, kit::RealClock());
                           return absl::OkStatus();
                         });
}
