#ifndef ESTATE_SERVICES_KIT_GRPC_METRICS_H_
#define ESTATE_SERVICES_KIT_GRPC_METRICS_H_

#include <array>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"
#include "google/protobuf/descriptor.h"
#include "grpcpp/support/server_interceptor.h"
#include "prometheus/counter.h"
#include "prometheus/histogram.h"
#include "prometheus/registry.h"

namespace kit {

// gRPC status codes as go-grpc-prometheus names them ("OK", "Unavailable"),
// and the index (0..16) of a code, any unknown one counted as Unknown.
inline constexpr int kGrpcCodeCount = 17;
const char* GrpcCodeName(int code_index);
inline int GrpcCodeIndex(int code) { return code >= 0 && code < kGrpcCodeCount ? code : 2; }

// 100 µs .. 10 s: the buckets of every latency histogram (RPCs, SQL), so
// dashboards can put them side by side.
const prometheus::Histogram::BucketBoundaries& LatencyBuckets();

// The grpc_server_* series that go-grpc-prometheus dashboards expect:
// started, handled by code, and a handling-time histogram (100 µs .. 10 s).
// Every method of the registered services has all its series at zero from
// start-up, so rates and ratios exist before the first call.
class GrpcServerMetrics {
 public:
  explicit GrpcServerMetrics(prometheus::Registry& registry);

  void AddService(const google::protobuf::ServiceDescriptor& service);
  // Also for services without a protobuf descriptor (health, reflection).
  void AddMethod(const std::string& full_method, bool client_streaming,
                 bool server_streaming);

  struct Method {
    prometheus::Counter* started;
    prometheus::Histogram* seconds;
    std::array<prometheus::Counter*, 17> handled;
  };
  // By "/pkg.Service/Method"; methods never added share one "unknown" entry.
  Method& Find(const char* full_method);

 private:
  Method& AddLocked(const std::string& full_method, const std::string& type)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  prometheus::Family<prometheus::Counter>& started_;
  prometheus::Family<prometheus::Counter>& handled_;
  prometheus::Family<prometheus::Histogram>& seconds_;
  absl::Mutex mu_;
  absl::flat_hash_map<std::string, std::unique_ptr<Method>> methods_ ABSL_GUARDED_BY(mu_);
};

// Counts and times every call, and logs one line per failed call.
class MetricsInterceptorFactory
    : public grpc::experimental::ServerInterceptorFactoryInterface {
 public:
  explicit MetricsInterceptorFactory(GrpcServerMetrics* metrics) : metrics_(metrics) {}
  grpc::experimental::Interceptor* CreateServerInterceptor(
      grpc::experimental::ServerRpcInfo* info) override;

 private:
  GrpcServerMetrics* metrics_;
};

}  // namespace kit

#endif  // ESTATE_SERVICES_KIT_GRPC_METRICS_H_
