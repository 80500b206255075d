#ifndef ESTATE_GATEWAY_HTTP_API_H_
#define ESTATE_GATEWAY_HTTP_API_H_

#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "gateway/http_server.h"
#include "gateway/pipeline.h"
#include "prometheus/counter.h"
#include "prometheus/histogram.h"
#include "prometheus/registry.h"

namespace gateway {

// The HTTP/JSON face of the suite: routes from google.api.http, transcoding,
// errors as {code, message, details}; plus /healthz, /readyz, /metrics and
// /openapi.json.
class HttpApi {
 public:
  HttpApi(Pipeline* pipeline, std::shared_ptr<prometheus::Registry> registry,
          std::string openapi_json);

  void Handle(HttpRequest request, HttpReply reply);
  // From now on /healthz answers 503 so load balancers stop sending.
  void SetDraining() { draining_.store(true); }

 private:
  void Finish(const std::string& route, const std::string& method, absl::Time start,
              HttpResponse response, const std::string& request_id, const HttpReply& reply);
  HttpResponse Error(int grpc_code, absl::string_view message, int http_status = 0);
  HttpResponse Ready() const;
  HttpResponse Metrics() const;
  void Call(const Route& route, const PathTemplate::Bindings& bindings, absl::string_view query,
            HttpRequest& request, const std::string& request_id, absl::Time start,
            HttpReply reply);

  Pipeline* pipeline_;
  std::shared_ptr<prometheus::Registry> registry_;
  const std::string openapi_json_;
  std::atomic<bool> draining_{false};
  prometheus::Family<prometheus::Counter>& requests_;
  prometheus::Family<prometheus::Histogram>& seconds_;
};

}  // namespace gateway

#endif  // ESTATE_GATEWAY_HTTP_API_H_
