#ifndef ESTATE_GATEWAY_PASSTHROUGH_H_
#define ESTATE_GATEWAY_PASSTHROUGH_H_

#include "gateway/pipeline.h"
#include "grpcpp/generic/async_generic_service.h"

namespace gateway {

// gRPC on the gateway's second port: any unary method of any service in the
// catalog is authenticated, authorized on its request's site and forwarded
// as bytes (no per-method code); deadline and request id carry over.
// Server reflection answers for the whole suite.
class PassthroughService final : public grpc::CallbackGenericService {
 public:
  explicit PassthroughService(Pipeline* pipeline) : pipeline_(pipeline) {}

  grpc::ServerGenericBidiReactor* CreateReactor(grpc::GenericCallbackServerContext* context) override;

 private:
  Pipeline* pipeline_;
};

}  // namespace gateway

#endif  // ESTATE_GATEWAY_PASSTHROUGH_H_
