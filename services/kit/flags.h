#ifndef ESTATE_SERVICES_KIT_FLAGS_H_
#define ESTATE_SERVICES_KIT_FLAGS_H_

#include <string>

#include "services/kit/host.h"
#include "services/kit/process_flags.h"

namespace kit {

// What a service's main() knows about itself; flags and ESTATE_* variables
// override the addresses and database settings.
struct ServiceDefaults {
  std::string name;           // "tickets"
  std::string grpc_addr;      // "127.0.0.1:50052"
  std::string metrics_addr;   // "127.0.0.1:9102"
};


// The host options the flags describe. The schema and DB user default to
// estate_<name>.
// FAILED_PRECONDITION if --db_password_file cannot be read.
absl::StatusOr<HostOptions> HostOptionsFromFlags(const ServiceDefaults& defaults);

}  // namespace kit

#endif  // ESTATE_SERVICES_KIT_FLAGS_H_
