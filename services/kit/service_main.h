#ifndef ESTATE_SERVICES_KIT_SERVICE_MAIN_H_
#define ESTATE_SERVICES_KIT_SERVICE_MAIN_H_

#include <functional>
#include <vector>

#include "absl/status/status.h"
#include "services/kit/flags.h"
#include "services/kit/host.h"
#include "services/kit/migrations.h"

namespace kit {

// A service's whole main(): parse flags (and ESTATE_* variables), create the
// host, let `add` register the service and its jobs, start, log where it
// listens, wait for SIGTERM/SIGINT, shut down gracefully.
using RegisterFn = std::function<absl::Status(ServiceHost&)>;
int RunService(int argc, char** argv, const ServiceDefaults& defaults,
               const std::vector<Migration>& migrations, const RegisterFn& add);

}  // namespace kit

#endif  // ESTATE_SERVICES_KIT_SERVICE_MAIN_H_
