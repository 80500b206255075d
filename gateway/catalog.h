#ifndef ESTATE_GATEWAY_CATALOG_H_
#define ESTATE_GATEWAY_CATALOG_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/statusor.h"
#include "estate/api/v1/access.pb.h"
#include "gateway/path_template.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/message.h"

namespace gateway {

// One method of the suite as the gateway sees it, all read from the protos.
struct MethodInfo {
  const google::protobuf::MethodDescriptor* descriptor = nullptr;
  std::string path;     // "/estate.tickets.v1.TicketService/GetTicket"
  std::string backend;  // "tickets": the second part of the package name
  estate::api::v1::Access access = estate::api::v1::ACCESS_UNSPECIFIED;
  // The field that holds the resource name (and so the site): the first
  // variable of the HTTP binding, else `name` or `parent`. Empty: none.
  std::vector<const google::protobuf::FieldDescriptor*> resource_field;
  std::string resource_field_path;  // "ticket.name"
  const google::protobuf::FieldDescriptor* request_id = nullptr;
  bool streaming = false;
  const google::protobuf::Message* request_prototype = nullptr;
  const google::protobuf::Message* response_prototype = nullptr;
};

// An HTTP binding (google.api.http) of a method.
struct Route {
  std::string http_method;  // "GET", "POST", "PATCH", "PUT", "DELETE"
  PathTemplate path;
  std::string body;           // "", "*" or a top-level field name
  std::string response_body;  // "" or a top-level field name
  const MethodInfo* method = nullptr;
};

// Every estate service found in the linked protos, its methods and routes.
class Catalog {
 public:
  // Reads the services of every linked file whose package starts with
  // `package_prefix` ("estate."), except those in `excluded_packages` and,
  // if `only_packages` is set, those not in it.
  static absl::StatusOr<std::unique_ptr<Catalog>> FromLinkedProtos(
      absl::string_view package_prefix, const std::vector<std::string>& excluded_packages,
      const std::vector<std::string>& only_packages = {});

  const MethodInfo* FindMethod(absl::string_view path) const;

  enum class MatchResult { kMatched, kNoPath, kWrongMethod };
  // The route for this method and path; kWrongMethod if only another HTTP
  // method has it (405).
  // On kWrongMethod, *allow (if given) lists the methods that would match.
  MatchResult MatchRoute(absl::string_view http_method, absl::string_view path,
                         const Route** route, PathTemplate::Bindings* bindings,
                         std::string* allow = nullptr) const;

  const std::vector<std::unique_ptr<MethodInfo>>& methods() const { return methods_; }
  const std::vector<Route>& routes() const { return routes_; }
  const std::vector<const google::protobuf::ServiceDescriptor*>& services() const {
    return services_;
  }
  std::vector<std::string> backends() const;
  // Whether reflection may describe this file: one defining a service of the
  // suite, or one such a file imports (directly or not).
  bool Reflects(const google::protobuf::FileDescriptor* file) const {
    return file != nullptr && reflected_files_.contains(file->name());
  }

 private:
  absl::Status AddService(const google::protobuf::ServiceDescriptor* service);

  std::vector<const google::protobuf::ServiceDescriptor*> services_;
  std::vector<std::unique_ptr<MethodInfo>> methods_;
  absl::flat_hash_map<std::string, const MethodInfo*> by_path_;
  std::vector<Route> routes_;
  absl::flat_hash_set<std::string> reflected_files_;
};

// The sites a request acts on, from its resource field ("sites/{site}/...",
// or each entry of a repeated `sites` field of a roll-up): INVALID_ARGUMENT
// naming the field if one is missing or malformed.
absl::StatusOr<std::vector<std::string>> SitesOfRequest(const MethodInfo& method,
                                                        const google::protobuf::Message& request);

}  // namespace gateway

#endif  // ESTATE_GATEWAY_CATALOG_H_
