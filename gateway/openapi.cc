#include "gateway/openapi.h"

#include <set>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "nlohmann/json.hpp"

namespace gateway {
namespace {

using google::protobuf::Descriptor;
using google::protobuf::EnumDescriptor;
using google::protobuf::FieldDescriptor;
using nlohmann::json;

json Ref(const std::string& name) { return {{"$ref", "#/components/schemas/" + name}}; }

class SchemaBuilder {
 public:
  // The schema of one value of this field (ignoring repetition).
  json Value(const FieldDescriptor* f) {
    switch (f->type()) {
      case FieldDescriptor::TYPE_STRING: return {{"type", "string"}};
      case FieldDescriptor::TYPE_BYTES: return {{"type", "string"}, {"format", "byte"}};
      case FieldDescriptor::TYPE_BOOL: return {{"type", "boolean"}};
      case FieldDescriptor::TYPE_DOUBLE: return {{"type", "number"}, {"format", "double"}};
      case FieldDescriptor::TYPE_FLOAT: return {{"type", "number"}, {"format", "float"}};
      case FieldDescriptor::TYPE_INT64: case FieldDescriptor::TYPE_SINT64:
      case FieldDescriptor::TYPE_SFIXED64:
        return {{"type", "string"}, {"format", "int64"}};  // proto3 JSON writes 64-bit as strings
      case FieldDescriptor::TYPE_UINT64: case FieldDescriptor::TYPE_FIXED64:
        return {{"type", "string"}, {"format", "uint64"}};
      case FieldDescriptor::TYPE_UINT32: case FieldDescriptor::TYPE_FIXED32:
        return {{"type", "integer"}, {"format", "int64"}, {"minimum", 0}};
      case FieldDescriptor::TYPE_ENUM: return Enum(f->enum_type());
      case FieldDescriptor::TYPE_MESSAGE: case FieldDescriptor::TYPE_GROUP:
        return Message(f->message_type());
      default: return {{"type", "integer"}, {"format", "int32"}};
    }
  }

  json Field(const FieldDescriptor* f) {
    if (f->is_map()) {
      return {{"type", "object"},
              {"additionalProperties", Value(f->message_type()->FindFieldByName("value"))}};
    }
    if (f->is_repeated()) return {{"type", "array"}, {"items", Value(f)}};
    return Value(f);
  }

  json Message(const Descriptor* d) {
    const std::string& n = d->full_name();
    if (n == "google.protobuf.Timestamp") return {{"type", "string"}, {"format", "date-time"}};
    if (n == "google.protobuf.Duration") return {{"type", "string"}, {"example", "3600s"}};
    if (n == "google.protobuf.FieldMask") return {{"type", "string"}, {"example", "title,priority"}};
    if (n == "google.protobuf.Struct") return {{"type", "object"}};
    if (n == "google.protobuf.Value") return json::object();
    if (!seen_.insert(n).second) return Ref(n);
    json props = json::object();
    for (int i = 0; i < d->field_count(); ++i) props[d->field(i)->json_name()] = Field(d->field(i));
    schemas_[n] = {{"type", "object"}, {"properties", props}};
    return Ref(n);
  }

  json Enum(const EnumDescriptor* e) {
    json values = json::array();
    for (int i = 0; i < e->value_count(); ++i) values.push_back(e->value(i)->name());
    return {{"type", "string"}, {"enum", values}};
  }

  json& schemas() { return schemas_; }

 private:
  std::set<std::string> seen_;
  json schemas_ = json::object();
};

bool QueryCapable(const FieldDescriptor* f) {
  if (f->is_map()) return false;
  if (f->type() != FieldDescriptor::TYPE_MESSAGE) return true;
  const std::string& n = f->message_type()->full_name();
  return n == "google.protobuf.Timestamp" || n == "google.protobuf.Duration" ||
         n == "google.protobuf.FieldMask";
}

}  // namespace

std::string OpenApiJson(const Catalog& catalog) {
  SchemaBuilder schemas;
  schemas.schemas()["Status"] = {
      {"type", "object"},
      {"properties",
       {{"code", {{"type", "integer"}, {"description", "gRPC status code"}}},
        {"message", {{"type", "string"}}},
        {"details", {{"type", "array"}, {"items", {{"type", "object"}}}}}}}};
  json paths = json::object();
  for (const Route& route : catalog.routes()) {
    const MethodInfo& m = *route.method;
    const Descriptor* in = m.descriptor->input_type();
    json params = json::array();
    std::set<std::string> bound;
    std::vector<std::string> names;
    const std::string path = route.path.OpenApiPath(&names);
    for (const std::string& n : names) {
      params.push_back({{"name", n}, {"in", "path"}, {"required", true}, {"schema", {{"type", "string"}}}});
    }
    for (const auto& v : route.path.variables()) {
      bound.insert(v.field_path.substr(0, v.field_path.find('.')));
    }
    json op = {{"operationId", absl::StrCat(m.descriptor->service()->name(), "_", m.descriptor->name())},
               {"tags", {m.descriptor->service()->name()}},
               {"x-estate-access", estate::api::v1::Access_Name(m.access)}};
    if (route.body != "*") {
      for (int i = 0; i < in->field_count(); ++i) {
        const FieldDescriptor* f = in->field(i);
        if (bound.count(f->name()) || f->name() == route.body || !QueryCapable(f)) continue;
        params.push_back({{"name", f->name()}, {"in", "query"}, {"schema", schemas.Field(f)}});
      }
    }
    op["parameters"] = params;
    if (!route.body.empty()) {
      json body_schema = route.body == "*"
                             ? schemas.Message(in)
                             : schemas.Field(in->FindFieldByName(route.body));
      op["requestBody"] = {{"required", true},
                           {"content", {{"application/json", {{"schema", body_schema}}}}}};
    }
    op["responses"] = {
        {"200", {{"description", "OK"},
                 {"content", {{"application/json", {{"schema", schemas.Message(m.descriptor->output_type())}}}}}}},
        {"default", {{"description", "An error: 4xx for the caller's mistakes, 5xx for ours"},
                     {"content", {{"application/json", {{"schema", Ref("Status")}}}}}}}};
    paths[path][absl::AsciiStrToLower(route.http_method)] = op;
  }
  json doc = {
      {"openapi", "3.0.3"},
      {"info", {{"title", "estate API"}, {"version", "v1"},
                {"description", "The property-management suite behind one gateway."}}},
      {"paths", paths},
      {"components",
       {{"schemas", schemas.schemas()},
        {"securitySchemes",
         {{"bearer", {{"type", "http"}, {"scheme", "bearer"}, {"bearerFormat", "JWT"}}},
          {"apiKey", {{"type", "apiKey"}, {"in", "header"}, {"name", "X-Api-Key"}}}}}}},
      {"security", json::array({{{"bearer", json::array()}}, {{"apiKey", json::array()}}})}};
  return doc.dump();
}

}  // namespace gateway
