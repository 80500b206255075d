#ifndef ESTATE_GATEWAY_PASSTHROUGH_H_
#define ESTATE_GATEWAY_PASSTHROUGH_H_

#include <atomic>
#include <memory>
#include <thread>
#include <vector>

#include "gateway/pipeline.h"
#include "grpcpp/generic/async_generic_service.h"
#include "grpcpp/server_builder.h"
#include "services/kit/grpc_metrics.h"

namespace gateway {

// gRPC on the gateway's second port: any unary method of any service in the
// catalog is authenticated, authorized on its request's site and forwarded
// as bytes (no per-method code); deadline and metadata carry over. Server
// reflection answers for the whole suite.
//
// Completion-queue style: each thread owns a queue that carries both the
// incoming call and its call to the backend, so a forwarded call is handled
// start to end on one thread without hand-offs between thread pools (which
// cost more than the gateway's own work on a call). The HTTP side's backend
// calls ride the same queues, and grpc.health.v1 Check is answered here
// too: the gateway uses no gRPC callback API, whose own polling threads
// would take every socket event first and hand it over.
class Passthrough {
 public:
  Passthrough(Pipeline* pipeline, kit::GrpcServerMetrics* metrics);
  ~Passthrough();

  // Before BuildAndStart.
  void Register(grpc::ServerBuilder& builder, int threads);
  // After BuildAndStart.
  void Start();
  // After the server's Shutdown() has returned.
  void Stop();

  // The queues, for backend calls made elsewhere (the HTTP side); valid
  // from Register until Stop.
  std::vector<grpc::CompletionQueue*> queues() const;

  // What grpc.health.v1 Check answers for the gateway ("" or "gateway"):
  // SERVING until shutdown begins. Watch is not served (UNIMPLEMENTED):
  // probes and load balancers poll Check, or /readyz over HTTP.
  void SetServing(bool serving) { serving_.store(serving); }
  bool serving() const { return serving_.load(); }

 private:
  Pipeline* pipeline_;
  kit::GrpcServerMetrics* metrics_;
  grpc::AsyncGenericService service_;
  std::vector<std::unique_ptr<grpc::ServerCompletionQueue>> queues_;
  std::vector<std::thread> threads_;
  std::atomic<int> live_{0};  // IncomingCalls not yet deleted
  std::atomic<bool> serving_{true};
};

}  // namespace gateway

#endif  // ESTATE_GATEWAY_PASSTHROUGH_H_
