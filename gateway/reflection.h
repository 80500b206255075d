#ifndef ESTATE_GATEWAY_REFLECTION_H_
#define ESTATE_GATEWAY_REFLECTION_H_

#include "gateway/catalog.h"
#include "grpcpp/generic/async_generic_service.h"

namespace gateway {

inline constexpr char kReflectionMethod[] =
    "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo";

// grpc.reflection.v1alpha for every service the gateway fronts. gRPC's own
// reflection lists only services registered on the server, and the gateway
// registers none (it forwards generically), so it answers from the catalog.
// The reflection messages are gRPC's own, found in the generated pool that
// libgrpc++_reflection registers.
grpc::ServerGenericBidiReactor* NewReflectionReactor(const Catalog* catalog);

}  // namespace gateway

#endif  // ESTATE_GATEWAY_REFLECTION_H_
