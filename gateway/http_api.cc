#include "gateway/http_api.h"

#include "absl/strings/str_cat.h"
#include "gateway/grpc_timeout.h"
#include "gateway/transcode.h"
#include "grpcpp/impl/codegen/proto_utils.h"
#include "nlohmann/json.hpp"
#include "prometheus/text_serializer.h"
#include "services/kit/grpc_metrics.h"
#include "spdlog/spdlog.h"

namespace gateway {
namespace {

// Labels for requests that match no route, so stray paths add no series.
constexpr char kUnmatched[] = "unmatched";

std::string Known(absl::string_view method) {
  for (const char* m : {"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"}) {
    if (method == m) return m;
  }
  return "OTHER";
}

}  // namespace

HttpApi::HttpApi(Pipeline* pipeline, std::shared_ptr<prometheus::Registry> registry,
                 std::string openapi_json)
    : pipeline_(pipeline),
      registry_(std::move(registry)),
      openapi_json_(std::move(openapi_json)),
      requests_(prometheus::BuildCounter()
                    .Name("http_requests_total")
                    .Help("HTTP requests the gateway answered, by route template, method and status")
                    .Register(*registry_)),
      seconds_(prometheus::BuildHistogram()
                   .Name("http_request_duration_seconds")
                   .Help("Time from a request read to its reply, by route template and method")
                   .Register(*registry_)) {
  for (const Route& r : pipeline_->catalog().routes()) {
    requests_.Add({{"route", r.path.text()}, {"method", r.http_method}, {"code", "200"}});
    seconds_.Add({{"route", r.path.text()}, {"method", r.http_method}}, kit::LatencyBuckets());
  }
}

HttpResponse HttpApi::Error(int grpc_code, absl::string_view message, int http_status) {
  HttpResponse r;
  r.status = http_status ? http_status : HttpStatusFor(grpc_code);
  r.body = ErrorJson(grpc_code, message);
  return r;
}

void HttpApi::Finish(const std::string& route, const std::string& method, absl::Time start,
                     HttpResponse response, const std::string& request_id,
                     const HttpReply& reply) {
  requests_.Add({{"route", route}, {"method", method}, {"code", std::to_string(response.status)}})
      .Increment();
  seconds_.Add({{"route", route}, {"method", method}}, kit::LatencyBuckets())
      .Observe(absl::ToDoubleSeconds(absl::Now() - start));
  if (!request_id.empty()) response.headers.emplace_back("X-Request-Id", request_id);
  // Every request at debug (--log_level=debug), server-side failures always.
  if (response.status >= 500 && route != "/readyz" && route != "/healthz") {
    spdlog::warn("http {} {} -> {} request_id={}", method, route, response.status, request_id);
  } else {
    spdlog::debug("http {} {} -> {} request_id={}", method, route, response.status, request_id);
  }
  reply(std::move(response));
}

HttpResponse HttpApi::Ready() const {
  nlohmann::json backends = nlohmann::json::object();
  bool all = true;
  for (const auto& b : pipeline_->backends().all()) {
    backends[b->name()] = b->serving() ? "SERVING" : "NOT_SERVING";
    all = all && b->serving();
  }
  const bool draining = draining_.load();
  HttpResponse r;
  r.status = all && !draining ? 200 : 503;
  r.body = nlohmann::json{{"ready", all && !draining}, {"draining", draining}, {"backends", backends}}.dump();
  return r;
}

HttpResponse HttpApi::Metrics() const {
  HttpResponse r;
  r.content_type = "text/plain; version=0.0.4; charset=utf-8";
  r.body = prometheus::TextSerializer().Serialize(registry_->Collect());
  return r;
}

void HttpApi::Handle(HttpRequest request, HttpReply reply) {
  const absl::Time start = absl::Now();
  // HEAD is answered as GET; the HTTP server leaves the body out.
  std::string method = Known(request.method);
  if (method == "HEAD") method = "GET";
  if (request.transport_error != 0) {
    pipeline_->Reject(request.transport_error == 400 ? "bad_request" : "size");
    const char* why = request.transport_error == 413   ? "body: larger than the gateway accepts"
                      : request.transport_error == 431 ? "headers: too large"
                                                       : "request: malformed HTTP";
    int code = request.transport_error == 400 ? 3 : 8;
    return Finish(kUnmatched, method, start, Error(code, why, request.transport_error), "", reply);
  }
  const std::string request_id = AcceptOrMakeRequestId(request.Header("x-request-id"));
  absl::string_view target = request.target;
  const size_t q = target.find('?');
  absl::string_view path = target.substr(0, q);
  absl::string_view query = q == absl::string_view::npos ? "" : target.substr(q + 1);

  if (method == "GET" && path == "/healthz") {
    HttpResponse r;
    r.body = R"({"status":"ok"})";
    if (draining_.load()) {
      r.status = 503;
      r.body = R"({"status":"draining"})";
    }
    return Finish("/healthz", method, start, std::move(r), request_id, reply);
  }
  if (method == "GET" && path == "/readyz") return Finish("/readyz", method, start, Ready(), request_id, reply);
  if (method == "GET" && path == "/metrics") return Finish("/metrics", method, start, Metrics(), request_id, reply);
  if (method == "GET" && path == "/openapi.json") {
    HttpResponse r;
    r.body = openapi_json_;
    return Finish("/openapi.json", method, start, std::move(r), request_id, reply);
  }

  const Route* route = nullptr;
  PathTemplate::Bindings bindings;
  std::string allow;
  switch (pipeline_->catalog().MatchRoute(method, path, &route, &bindings, &allow)) {
    case Catalog::MatchResult::kNoPath:
      pipeline_->Reject("not_found");
      return Finish(kUnmatched, method, start, Error(5, "path: no such resource collection or method"),
                    request_id, reply);
    case Catalog::MatchResult::kWrongMethod: {
      pipeline_->Reject("method");
      HttpResponse r = Error(12, absl::StrCat("method: ", method, " is not allowed here"), 405);
      r.headers.emplace_back("Allow", allow);
      return Finish(kUnmatched, method, start, std::move(r), request_id, reply);
    }
    case Catalog::MatchResult::kMatched:
      break;
  }
  Call(*route, bindings, query, request, request_id, start, std::move(reply));
}

void HttpApi::Call(const Route& route, const PathTemplate::Bindings& bindings,
                   absl::string_view query, HttpRequest& request, const std::string& request_id,
                   absl::Time start, HttpReply reply) {
  const std::string& label = route.path.text();
  const std::string& method = route.http_method;
  absl::Duration retry_after;
  auto who = pipeline_->Admit(request.Header("authorization"), request.Header("x-api-key"),
                              &retry_after);
  if (!who.ok()) {
    HttpResponse r = Error(static_cast<int>(who.status().code()), who.status().message());
    if (who.status().code() == absl::StatusCode::kResourceExhausted) {
      r.headers.emplace_back("Retry-After",
                             std::to_string(std::max<int64_t>(1, absl::ToInt64Seconds(absl::Ceil(retry_after, absl::Seconds(1))))));
    } else {
      r.headers.emplace_back("WWW-Authenticate", "Bearer");
    }
    return Finish(label, method, start, std::move(r), request_id, reply);
  }

  const MethodInfo& info = *route.method;
  std::shared_ptr<google::protobuf::Message> message(info.request_prototype->New());
  if (absl::Status s = BuildRequest(route, bindings, query, request.body, message.get()); !s.ok()) {
    pipeline_->Reject("bad_request");
    return Finish(label, method, start, Error(3, s.message()), request_id, reply);
  }
  std::optional<absl::Time> client_deadline;
  if (absl::string_view t = request.Header("grpc-timeout"); !t.empty()) {
    auto d = ParseGrpcTimeout(t);
    if (!d) {
      pipeline_->Reject("bad_request");
      return Finish(label, method, start, Error(3, "Grpc-Timeout: malformed"), request_id, reply);
    }
    client_deadline = start + *d;
  }
  auto call = std::make_shared<UpstreamCall>();
  if (absl::Status s = pipeline_->Prepare(info, *who, *message, request_id, client_deadline,
                                          call.get());
      !s.ok()) {
    return Finish(label, method, start, Error(static_cast<int>(s.code()), s.message()),
                  request_id, reply);
  }
  bool own;
  grpc::SerializationTraits<google::protobuf::Message>::Serialize(*message, &call->request, &own);
  UpstreamCall* raw = call.get();
  pipeline_->Forward(
      info, *message, std::move(call),
      [this, raw, &route, &label, &method, start, request_id, reply = std::move(reply),
       message](const grpc::Status& status) {
        if (!status.ok()) {
          return Finish(label, method, start,
                        Error(status.error_code(), status.error_message()), request_id, reply);
        }
        std::unique_ptr<google::protobuf::Message> response(
            route.method->response_prototype->New());
        HttpResponse r;
        if (!grpc::SerializationTraits<google::protobuf::Message>::Deserialize(&raw->response,
                                                                               response.get())
                 .ok()) {
          r = Error(13, "response: the backend's answer cannot be parsed");
        } else if (auto json = ResponseToJson(route, *response); json.ok()) {
          r.body = *std::move(json);
        } else {
          r = Error(13, json.status().message());
        }
        Finish(label, method, start, std::move(r), request_id, reply);
      });
}

}  // namespace gateway
