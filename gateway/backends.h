#ifndef ESTATE_GATEWAY_BACKENDS_H_
#define ESTATE_GATEWAY_BACKENDS_H_

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "gateway/upstream_call.h"
#include "grpcpp/generic/generic_stub.h"
#include "grpcpp/grpcpp.h"
#include "prometheus/counter.h"
#include "prometheus/gauge.h"
#include "prometheus/histogram.h"
#include "prometheus/registry.h"

namespace gateway {

// Calls in flight to any backend, so shutdown can cancel them and wait until
// no callback can run any more.
class InFlight {
 public:
  void Add(UpstreamCall* call);
  void Remove(UpstreamCall* call);
  // Waits until no call is in flight or `deadline` passes; then cancels
  // what is left and waits (up to 5 s) until their completions have run.
  void WaitThenCancel(absl::Time deadline);

 private:
  absl::Mutex mu_;
  absl::flat_hash_set<UpstreamCall*> calls_ ABSL_GUARDED_BY(mu_);
  bool cancelling_ ABSL_GUARDED_BY(mu_) = false;  // calls added from now on are cancelled
};

// One service behind the gateway: connections round_robin over every
// address DNS gives (headless Services in Kubernetes). Calls safe to repeat
// are retried on UNAVAILABLE (RetryBackoff); the others are not, and go on
// connections where gRPC's transparent retry (a call that never left the
// gateway) still applies.
class Backend {
 public:
  // `channels` connections of each kind: one HTTP/2 connection serializes
  // its streams through one transport, so busy gateways spread calls.
  Backend(std::string name, std::string target, int channels,
          const std::shared_ptr<grpc::ChannelCredentials>& credentials,
          prometheus::Registry& registry, InFlight* in_flight);

  const std::string& name() const { return name_; }
  const std::string& target() const { return target_; }
  bool serving() const { return serving_.load(std::memory_order_relaxed); }

  // Starts the call on `queue`: `tag` comes out of it; pass it to OnQueue,
  // which says whether the call is over (with *status its outcome) or `tag`
  // will come out again (a backoff or another attempt). `method` outlives
  // the call.
  void StartOnQueue(const std::string& method, bool retry_safe, UpstreamCall* call,
                    grpc::CompletionQueue* queue, void* tag, grpc::Status* status);
  bool OnQueue(UpstreamCall* call, bool ok, grpc::CompletionQueue* queue, void* tag,
               grpc::Status* status);

  // The same with a callback: `done` runs on the thread serving `queue`
  // when the call's last attempt has ended (just after the call has left
  // InFlight, so the queue's thread must be joined before `done`'s
  // captures go away).
  void Call(const std::string& method, bool retry_safe, std::shared_ptr<UpstreamCall> call,
            grpc::CompletionQueue* queue, std::function<void(const grpc::Status&)> done);

  // One grpc.health.v1 check; updates serving(). SERVING counts only once
  // every connection of the backend is up again: a connection still in its
  // reconnect backoff would fail calls at once, after /readyz said ready.
  void CheckHealth(absl::Duration timeout);

 private:
  const std::string name_;
  const std::string target_;
  std::vector<std::shared_ptr<grpc::Channel>> channels_;
  std::vector<std::unique_ptr<grpc::GenericStub>> retry_safe_, plain_;
  std::atomic<uint32_t> next_{0};
  std::atomic<bool> serving_{false};
  prometheus::Family<prometheus::Counter>& calls_;
  prometheus::Histogram& seconds_;
  prometheus::Gauge& up_;
  void Record(absl::Time start, const grpc::Status& status);
  // A status gRPC's transport made, with its message replaced by a plain one
  // (the original goes to the log).
  grpc::Status PlainTransportError(const grpc::Status& status) const;
  grpc::GenericStub& Stub(bool retry_safe);
  // Connects every channel not connected, skipping its reconnect backoff;
  // true if all are connected by `deadline`.
  bool ConnectAll(absl::Time deadline);
  void AttemptOnQueue(UpstreamCall* call, grpc::CompletionQueue* queue, void* tag,
                      grpc::Status* status);

  std::array<prometheus::Counter*, 17> by_code_;
  InFlight* in_flight_;
};

// Every backend by name, and the health loop behind /readyz.
class Backends {
 public:
  // `credentials`: TLS or plaintext to the services (kit::ServiceChannelCredentials).
  // `targets`: backend name -> address ("127.0.0.1:50052", "dns:///tickets:50052").
  // Every name in `needed` must have one.
  static absl::StatusOr<std::unique_ptr<Backends>> Create(
      const std::map<std::string, std::string>& targets, const std::vector<std::string>& needed,
      int channels_per_backend, const std::shared_ptr<grpc::ChannelCredentials>& credentials,
      prometheus::Registry& registry);
  ~Backends();

  Backend* Find(absl::string_view name) const;
  const std::vector<std::unique_ptr<Backend>>& all() const { return backends_; }
  bool AllServing() const;

  void StartHealthChecks(absl::Duration interval);
  // Stops the health loop, lets calls in flight finish until `deadline`,
  // cancels the rest and waits for them.
  void Stop(absl::Time deadline = absl::InfinitePast());

 private:
  InFlight in_flight_;
  std::vector<std::unique_ptr<Backend>> backends_;
  absl::Notification stop_;
  std::thread health_thread_;
};

}  // namespace gateway

#endif  // ESTATE_GATEWAY_BACKENDS_H_
