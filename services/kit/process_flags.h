#ifndef ESTATE_SERVICES_KIT_PROCESS_FLAGS_H_
#define ESTATE_SERVICES_KIT_PROCESS_FLAGS_H_

namespace kit {

// Parses flags after applying the environment: ESTATE_DB_PORT=13306 sets
// --db_port unless the command line sets it too (the command line wins).
// Defines the flags every process has: --grpc_addr, --shutdown_drain,
// --shutdown_grace, --log_level. A service's database and metrics flags
// live in flags.cc, so the gateway does not offer them.
void ParseFlagsWithEnv(int argc, char** argv, const char* usage);

}  // namespace kit

#endif  // ESTATE_SERVICES_KIT_PROCESS_FLAGS_H_
