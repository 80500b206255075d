// The archives service: the register, the archive room and the key cabinet. Wiring only.
#include "services/archives/archives_service.h"
#include "services/kit/clock.h"
#include "services/kit/service_main.h"

std::vector<kit::Migration> estate_archives_migrations();

int main(int argc, char** argv) {
  return kit::RunService(argc, argv, {"archives", "127.0.0.1:50053", "127.0.0.1:9103"},
                         estate_archives_migrations(), [](kit::ServiceHost& host) {
                           archives::RegisterArchives(host, kit::RealClock());
                           return absl::OkStatus();
                         });
}
