#ifndef ESTATE_GATEWAY_PASSTHROUGH_H_
#define ESTATE_GATEWAY_PASSTHROUGH_H_

#include "gateway/pipeline.h"
#include "services/kit/grpc_metrics.h"
#include "grpcpp/generic/async_generic_service.h"

namespace gateway {

// gRPC on the gateway's second port: any unary method of any service in the
// catalog is authenticated, authorized on its request's site and forwarded
// as bytes (no per-method code); deadline and request id carry over.
// Server reflection answers for the whole suite.
class PassthroughService final : public grpc::CallbackGenericService {
 public:
  // Counts calls in `metrics` itself: a server interceptor would cost every
  // forwarded call more than the rest of the gateway's work on it.
  PassthroughService(Pipeline* pipeline, kit::GrpcServerMetrics* metrics)
      : pipeline_(pipeline), metrics_(metrics) {}

  grpc::ServerGenericBidiReactor* CreateReactor(grpc::GenericCallbackServerContext* context) override;

 private:
  Pipeline* pipeline_;
  kit::GrpcServerMetrics* metrics_;
};

}  // namespace gateway

#endif  // ESTATE_GATEWAY_PASSTHROUGH_H_
