#include "gateway/catalog.h"

#include <set>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "google/api/annotations.pb.h"
#include "google/protobuf/descriptor_database.h"
#include "services/kit/validate.h"

namespace estate {
// protos/CMakeLists.txt generates it; calling it keeps every suite proto linked.
int SuiteProtoFileCount();
}  // namespace estate

namespace gateway {
namespace {

using google::protobuf::Descriptor;
using google::protobuf::FieldDescriptor;

absl::StatusOr<std::vector<const FieldDescriptor*>> ResolveFieldPath(
    const Descriptor* type, absl::string_view path, absl::string_view method) {
  std::vector<const FieldDescriptor*> chain;
  std::vector<absl::string_view> parts = absl::StrSplit(path, '.');
  for (size_t i = 0; i < parts.size(); ++i) {
    const FieldDescriptor* f = type ? type->FindFieldByName(std::string(parts[i])) : nullptr;
    if (f == nullptr || f->is_repeated()) {
      return absl::InvalidArgumentError(
          absl::StrCat(method, ": no singular field \"", path, "\" in the request"));
    }
    chain.push_back(f);
    type = f->message_type();
    if (i + 1 == parts.size() && f->type() != FieldDescriptor::TYPE_STRING) {
      return absl::InvalidArgumentError(
          absl::StrCat(method, ": path variable \"", path, "\" is not a string"));
    }
  }
  return chain;
}

}  // namespace

absl::StatusOr<std::unique_ptr<Catalog>> Catalog::FromLinkedProtos(
    absl::string_view package_prefix, const std::vector<std::string>& excluded_packages,
    const std::vector<std::string>& only_packages) {
  auto catalog = std::make_unique<Catalog>();
  if (estate::SuiteProtoFileCount() == 0) return absl::InternalError("no service protos linked");
  std::vector<std::string> files;
  google::protobuf::DescriptorPool::internal_generated_database()->FindAllFileNames(&files);
  std::set<std::string> sorted(files.begin(), files.end());
  const auto* pool = google::protobuf::DescriptorPool::generated_pool();
  for (const std::string& name : sorted) {
    const auto* file = pool->FindFileByName(name);
    if (file == nullptr || !absl::StartsWith(file->package(), package_prefix)) continue;
    if (std::find(excluded_packages.begin(), excluded_packages.end(), file->package()) !=
        excluded_packages.end()) {
      continue;
    }
    if (!only_packages.empty() &&
        std::find(only_packages.begin(), only_packages.end(), file->package()) ==
            only_packages.end()) {
      continue;
    }
    for (int i = 0; i < file->service_count(); ++i) {
      if (auto s = catalog->AddService(file->service(i)); !s.ok()) return s;
    }
  }
  return catalog;
}

absl::Status Catalog::AddService(const google::protobuf::ServiceDescriptor* service) {
  std::vector<absl::string_view> package = absl::StrSplit(service->file()->package(), '.');
  if (package.size() < 2) {
    return absl::InvalidArgumentError(absl::StrCat(service->full_name(), ": package too short"));
  }
  services_.push_back(service);
  std::vector<const google::protobuf::FileDescriptor*> files = {service->file()};
  while (!files.empty()) {
    const auto* f = files.back();
    files.pop_back();
    if (!reflected_files_.insert(f->name()).second) continue;
    for (int i = 0; i < f->dependency_count(); ++i) files.push_back(f->dependency(i));
  }
  auto* factory = google::protobuf::MessageFactory::generated_factory();
  for (int i = 0; i < service->method_count(); ++i) {
    const auto* m = service->method(i);
    auto info = std::make_unique<MethodInfo>();
    info->descriptor = m;
    info->path = absl::StrCat("/", service->full_name(), "/", m->name());
    info->backend = std::string(package[1]);
    info->access = m->options().GetExtension(estate::api::v1::access);
    info->streaming = m->client_streaming() || m->server_streaming();
    info->request_prototype = factory->GetPrototype(m->input_type());
    info->response_prototype = factory->GetPrototype(m->output_type());
    info->request_id = m->input_type()->FindFieldByName("request_id");
    if (info->request_id && (info->request_id->type() != FieldDescriptor::TYPE_STRING ||
                             info->request_id->is_repeated())) {
      info->request_id = nullptr;
    }

    std::vector<Route> routes;
    if (m->options().HasExtension(google::api::http)) {
      const google::api::HttpRule& rule = m->options().GetExtension(google::api::http);
      std::vector<const google::api::HttpRule*> rules = {&rule};
      for (const auto& extra : rule.additional_bindings()) rules.push_back(&extra);
      for (const google::api::HttpRule* r : rules) {
        Route route;
        std::string path;
        switch (r->pattern_case()) {
          case google::api::HttpRule::kGet: route.http_method = "GET"; path = r->get(); break;
          case google::api::HttpRule::kPost: route.http_method = "POST"; path = r->post(); break;
          case google::api::HttpRule::kPut: route.http_method = "PUT"; path = r->put(); break;
          case google::api::HttpRule::kPatch: route.http_method = "PATCH"; path = r->patch(); break;
          case google::api::HttpRule::kDelete: route.http_method = "DELETE"; path = r->delete_(); break;
          default:
            return absl::InvalidArgumentError(absl::StrCat(info->path, ": unsupported HTTP rule"));
        }
        auto tmpl = PathTemplate::Parse(path);
        if (!tmpl.ok()) return absl::InvalidArgumentError(absl::StrCat(info->path, ": ", tmpl.status().message()));
        route.path = *std::move(tmpl);
        for (const auto& v : route.path.variables()) {
          auto chain = ResolveFieldPath(m->input_type(), v.field_path, info->path);
          if (!chain.ok()) return chain.status();
        }
        route.body = r->body();
        route.response_body = r->response_body();
        if (!route.body.empty() && route.body != "*") {
          const FieldDescriptor* f = m->input_type()->FindFieldByName(route.body);
          if (f == nullptr || f->is_repeated() || f->type() != FieldDescriptor::TYPE_MESSAGE) {
            return absl::InvalidArgumentError(
                absl::StrCat(info->path, ": body \"", route.body, "\" must be a singular message field"));
          }
        }
        routes.push_back(std::move(route));
      }
    }
    std::string resource = routes.empty() || routes[0].path.variables().empty()
                               ? ""
                               : routes[0].path.variables()[0].field_path;
    if (resource.empty()) {
      for (const char* candidate : {"name", "parent"}) {
        const auto* f = m->input_type()->FindFieldByName(candidate);
        if (f && f->type() == FieldDescriptor::TYPE_STRING && !f->is_repeated()) {
          resource = candidate;
          break;
        }
      }
    }
    if (!resource.empty()) {
      auto chain = ResolveFieldPath(m->input_type(), resource, info->path);
      if (!chain.ok()) return chain.status();
      info->resource_field = *std::move(chain);
      info->resource_field_path = resource;
    } else if (const auto* sites = m->input_type()->FindFieldByName("sites");
               sites && sites->is_repeated() && sites->type() == FieldDescriptor::TYPE_STRING) {
      // A roll-up over several sites names them all; each is authorized.
      info->resource_field = {sites};
      info->resource_field_path = "sites";
    }
    // Two methods on one verb and path would make one of them unreachable.
    for (const Route& r : routes) {
      std::vector<std::string> unused;
      const std::string key = r.path.OpenApiPath(&unused);
      for (const Route& other : routes_) {
        std::vector<std::string> unused_other;
        if (other.http_method == r.http_method && other.path.OpenApiPath(&unused_other) == key) {
          return absl::InvalidArgumentError(absl::StrCat(
              info->path, ": route ", r.http_method, " ", key, " is already ",
              other.method->path, "'s"));
        }
      }
    }
    const MethodInfo* raw = info.get();
    by_path_[info->path] = raw;
    methods_.push_back(std::move(info));
    for (Route& r : routes) {
      r.method = raw;
      routes_.push_back(std::move(r));
    }
  }
  return absl::OkStatus();
}

const MethodInfo* Catalog::FindMethod(absl::string_view path) const {
  auto it = by_path_.find(path);
  return it == by_path_.end() ? nullptr : it->second;
}

Catalog::MatchResult Catalog::MatchRoute(absl::string_view http_method, absl::string_view path,
                                         const Route** route, PathTemplate::Bindings* bindings,
                                         std::string* allow) const {
  MatchResult result = MatchResult::kNoPath;
  PathTemplate::Bindings scratch;
  for (const Route& r : routes_) {
    if (r.http_method != http_method) {
      if (r.path.Match(path, &scratch)) {
        result = MatchResult::kWrongMethod;
        if (allow != nullptr && !absl::StrContains(*allow, r.http_method)) {
          absl::StrAppend(allow, allow->empty() ? "" : ", ", r.http_method);
        }
      }
      continue;
    }
    if (r.path.Match(path, bindings)) {
      *route = &r;
      return MatchResult::kMatched;
    }
  }
  return result;
}

std::vector<std::string> Catalog::backends() const {
  std::set<std::string> names;
  for (const auto& m : methods_) names.insert(m->backend);
  return {names.begin(), names.end()};
}

namespace {
absl::StatusOr<std::string> SiteOfName(const MethodInfo& method, absl::string_view name) {
  absl::string_view rest = name;
  if (!absl::ConsumePrefix(&rest, "sites/")) {
    return absl::InvalidArgumentError(absl::StrCat(
        method.resource_field_path, ": must be a resource name starting with sites/{site}"));
  }
  absl::string_view site = rest.substr(0, rest.find('/'));
  if (!kit::IsValidSiteId(site)) {
    return absl::InvalidArgumentError(
        absl::StrCat(method.resource_field_path, ": malformed site id"));
  }
  return std::string(site);
}
}  // namespace

absl::StatusOr<std::vector<std::string>> SitesOfRequest(const MethodInfo& method,
                                                        const google::protobuf::Message& request) {
  if (method.resource_field.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat(method.path, ": the method names no resource to authorize on"));
  }
  const google::protobuf::Message* msg = &request;
  for (size_t i = 0; i + 1 < method.resource_field.size(); ++i) {
    msg = &msg->GetReflection()->GetMessage(*msg, method.resource_field[i]);
  }
  const auto* field = method.resource_field.back();
  const auto* reflection = msg->GetReflection();
  std::vector<std::string> out;
  if (field->is_repeated()) {
    const int n = reflection->FieldSize(*msg, field);
    if (n == 0) {
      return absl::InvalidArgumentError(
          absl::StrCat(method.resource_field_path, ": name at least one site (sites/{site})"));
    }
    for (int i = 0; i < n; ++i) {
      absl::StatusOr<std::string> site =
          SiteOfName(method, reflection->GetRepeatedString(*msg, field, i));
      if (!site.ok()) return site.status();
      out.push_back(*std::move(site));
    }
    return out;
  }
  std::string scratch;
  absl::StatusOr<std::string> site =
      SiteOfName(method, reflection->GetStringReference(*msg, field, &scratch));
  if (!site.ok()) return site.status();
  out.push_back(*std::move(site));
  return out;
}

}  // namespace gateway
