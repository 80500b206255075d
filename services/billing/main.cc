// The billing service: charge items, bill runs, payments, arrears and
// collection reports. Wiring only.
#include "services/billing/billing_service.h"
#include "services/kit/clock.h"
#include "services/kit/service_main.h"

std::vector<kit::Migration> estate_billing_migrations();

int main(int argc, char** argv) {
  return kit::RunService(argc, argv, {"billing", "127.0.0.1:50051", "127.0.0.1:9101"},
                         estate_billing_migrations(), [](kit::ServiceHost& host) {
                           billing::RegisterBilling(host, kit::RealClock());
                           return absl::OkStatus();
                         });
}
