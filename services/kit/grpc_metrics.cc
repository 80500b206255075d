#include "services/kit/grpc_metrics.h"

#include <optional>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "services/kit/log_context.h"
#include "services/kit/rpc_context.h"
#include "services/kit/service_identity.h"
#include "spdlog/spdlog.h"

namespace kit {
namespace {

const char* const kCodeNames[kGrpcCodeCount] = {
    "OK",           "Canceled",         "Unknown",           "InvalidArgument",
    "DeadlineExceeded", "NotFound",     "AlreadyExists",     "PermissionDenied",
    "ResourceExhausted", "FailedPrecondition", "Aborted",    "OutOfRange",
    "Unimplemented", "Internal",        "Unavailable",       "DataLoss",
    "Unauthenticated"};

std::string TypeOf(bool client_streaming, bool server_streaming) {
  if (client_streaming && server_streaming) return "bidi_stream";
  if (client_streaming) return "client_stream";
  if (server_streaming) return "server_stream";
  return "unary";
}

}  // namespace

const char* GrpcCodeName(int code_index) { return kCodeNames[GrpcCodeIndex(code_index)]; }

const prometheus::Histogram::BucketBoundaries& LatencyBuckets() {
  static const auto* buckets = new prometheus::Histogram::BucketBoundaries{
      0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
      0.05,   0.1,     0.25,   0.5,   1,      2.5,   5,     10};
  return *buckets;
}

GrpcServerMetrics::GrpcServerMetrics(prometheus::Registry& registry)
    : started_(prometheus::BuildCounter()
                   .Name("grpc_server_started_total")
                   .Help("Total number of RPCs started on the server.")
                   .Register(registry)),
      handled_(prometheus::BuildCounter()
                   .Name("grpc_server_handled_total")
                   .Help("Total number of RPCs completed on the server, regardless of "
                         "success or failure.")
                   .Register(registry)),
      seconds_(prometheus::BuildHistogram()
                   .Name("grpc_server_handling_seconds")
                   .Help("Histogram of response latency (seconds) of gRPC that had been "
                         "application-level handled by the server.")
                   .Register(registry)) {}

void GrpcServerMetrics::AddService(const google::protobuf::ServiceDescriptor& service) {
  for (int i = 0; i < service.method_count(); ++i) {
    const auto* m = service.method(i);
    AddMethod("/" + service.full_name() + "/" + m->name(), m->client_streaming(),
              m->server_streaming());
  }
}

void GrpcServerMetrics::AddMethod(const std::string& full_method, bool client_streaming,
                                  bool server_streaming) {
  absl::MutexLock lock(&mu_);
  if (!methods_.contains(full_method)) {
    AddLocked(full_method, TypeOf(client_streaming, server_streaming));
  }
}

GrpcServerMetrics::Method& GrpcServerMetrics::AddLocked(const std::string& full_method,
                                                        const std::string& type) {
  std::vector<std::string> parts = absl::StrSplit(full_method, '/');
  const std::string service = parts.size() == 3 ? parts[1] : "unknown";
  const std::string method = parts.size() == 3 ? parts[2] : full_method;
  auto m = std::make_unique<Method>();
  const prometheus::Labels base = {
      {"grpc_service", service}, {"grpc_method", method}, {"grpc_type", type}};
  m->started = &started_.Add(base);
  m->seconds = &seconds_.Add(base, LatencyBuckets());
  for (int code = 0; code < 17; ++code) {
    prometheus::Labels labels = base;
    labels["grpc_code"] = kCodeNames[code];
    m->handled[code] = &handled_.Add(labels);
  }
  Method& ref = *m;
  methods_.emplace(full_method, std::move(m));
  return ref;
}

namespace {
constexpr char kUnknownMethod[] = "/unknown/unknown";
}  // namespace

GrpcServerMetrics::Method& GrpcServerMetrics::Find(const char* full_method) {
  {
    // Every call looks up its method; only an unknown one writes.
    absl::ReaderMutexLock lock(&mu_);
    auto it = methods_.find(full_method);
    if (it != methods_.end()) return *it->second;
  }
  // A method no service declared is counted under one "unknown" entry: a
  // client making up names must not make up time series.
  absl::MutexLock lock(&mu_);
  auto it = methods_.find(kUnknownMethod);
  if (it != methods_.end()) return *it->second;
  return AddLocked(kUnknownMethod, "unary");
}

namespace {

class MetricsInterceptor final : public grpc::experimental::Interceptor {
 public:
  MetricsInterceptor(GrpcServerMetrics::Method* method, const char* name)
      : method_(method), name_(name), start_(absl::Now()) {
    method_->started->Increment();
  }

  void Intercept(grpc::experimental::InterceptorBatchMethods* methods) override {
    using grpc::experimental::InterceptionHookPoints;
    if (methods->QueryInterceptionHookPoint(
            InterceptionHookPoints::POST_RECV_INITIAL_METADATA)) {
      auto* md = methods->GetRecvInitialMetadata();
      const auto text = [md](const char* key) {
        auto it = md->find(key);
        return it == md->end() ? std::string()
                               : PrintableMetadata(absl::string_view(it->second.data(),
                                                                     it->second.size()));
      };
      call_.request_id = text(kRequestIdMetadataKey);
      call_.method = name_;
      // The identity token was checked before the call got in.
      const std::optional<VerifiedCaller> who = CallerInMetadata(*md);
      call_.caller = who ? who->caller : kAnonymousCaller;
      // A synchronous handler runs on this thread between this hook and
      // PRE_SEND_STATUS: every line it logs carries the call.
      saved_ = EnterCall(call_);
      entered_on_ = std::this_thread::get_id();
      entered_ = true;
    }
    if (methods->QueryInterceptionHookPoint(InterceptionHookPoints::POST_RECV_MESSAGE) &&
        methods->GetRecvMessage() == nullptr) {
      unparsable_ = true;
    }
    if (methods->QueryInterceptionHookPoint(InterceptionHookPoints::PRE_SEND_STATUS)) {
      grpc::Status status = methods->GetSendStatus();
      if (unparsable_ && status.error_code() == grpc::StatusCode::INTERNAL) {
        // gRPC answers a request it cannot parse (for instance a string field
        // that is not UTF-8) with a bare INTERNAL; it is the client's error.
        status = grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                              "request: cannot be parsed (string fields must be valid UTF-8)");
        methods->ModifySendStatus(status);
      }
      const int code = static_cast<int>(status.error_code());
      const double seconds = absl::ToDoubleSeconds(absl::Now() - start_);
      method_->handled[GrpcCodeIndex(code)]->Increment();
      method_->seconds->Observe(seconds);
      // The lines below name the call whatever thread this hook runs on.
      const bool same_thread = entered_ && entered_on_ == std::this_thread::get_id();
      std::string cause;
      if (same_thread && CurrentCall() != nullptr) cause = CurrentCall()->cause;
      std::optional<ScopedCallLog> named;
      if (!same_thread) {
        named.emplace(call_);
      }
      if (!status.ok()) {
        methods->GetSendTrailingMetadata()->emplace(kAnsweredByServiceKey, "1");
        // One line per failed call, with its internal cause when there is
        // one; unknown, internal and unavailable are the ones an operator
        // acts on.
        const bool serious = code == 2 || code == 13 || code == 14 || code == 15;
        spdlog::log(serious ? spdlog::level::warn : spdlog::level::info,
                    "rpc_failed code={} ms={:.2f} message=\"{}\"{}", GrpcCodeName(code),
                    seconds * 1000, status.error_message(),
                    cause.empty() ? "" : absl::StrCat(" cause=\"", cause, "\""));
      } else {
        spdlog::debug("rpc_ok ms={:.2f}", seconds * 1000);
      }
      named.reset();
      if (same_thread) LeaveCall(std::move(saved_));
      entered_ = false;
    }
    methods->Proceed();
  }

 private:
  GrpcServerMetrics::Method* method_;
  const char* name_;
  absl::Time start_;
  bool unparsable_ = false;
  CallLog call_;  // who and what, from the initial metadata
  SavedCall saved_;
  std::thread::id entered_on_;
  bool entered_ = false;
};

}  // namespace

grpc::experimental::Interceptor* MetricsInterceptorFactory::CreateServerInterceptor(
    grpc::experimental::ServerRpcInfo* info) {
  return new MetricsInterceptor(&metrics_->Find(info->method()), info->method());
}

}  // namespace kit
