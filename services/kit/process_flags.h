#ifndef ESTATE_SERVICES_KIT_PROCESS_FLAGS_H_
#define ESTATE_SERVICES_KIT_PROCESS_FLAGS_H_

#include <string>

#include "services/kit/server_credentials.h"

namespace kit {

// Parses flags after applying the environment: ESTATE_DB_PORT=13306 sets
// --db_port unless the command line sets it too (the command line wins).
// Defines the flags every process has: --grpc_addr, --shutdown_drain,
// --shutdown_grace, --log_level. A service's database and metrics flags
// live in flags.cc, so the gateway does not offer them.
void ParseFlagsWithEnv(int argc, char** argv, const char* usage);

// --tls_cert, --tls_key, --tls_ca.
TlsFiles TlsFilesFromFlags();
// --identity_keys_dir, or $ESTATE_IDENTITY_KEYS_DIR where the flag is unset
// (also in tools that do not read ESTATE_* variables as flags).
std::string IdentityKeysDirFromFlags();

}  // namespace kit

#endif  // ESTATE_SERVICES_KIT_PROCESS_FLAGS_H_
