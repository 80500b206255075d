#include "gateway/reflection.h"

#include <set>

#include "absl/strings/str_cat.h"
#include "google/protobuf/descriptor.pb.h"
#include "grpcpp/ext/proto_server_reflection_plugin.h"
#include "grpcpp/impl/codegen/proto_utils.h"

namespace gateway {
namespace {

using google::protobuf::Descriptor;
using google::protobuf::DescriptorPool;
using google::protobuf::FieldDescriptor;
using google::protobuf::FileDescriptor;
using google::protobuf::Message;

// Keeps libgrpc++_reflection (and so its message descriptors) linked in
// without registering its plugin, which would shadow this service.
[[maybe_unused]] void (*const kKeepReflectionLinked)() =
    &grpc::reflection::InitProtoReflectionServerBuilderPlugin;

// Field access by name on the dynamic reflection messages.
const FieldDescriptor* F(const Message& m, const char* name) {
  return m.GetDescriptor()->FindFieldByName(name);
}
Message* Sub(Message* m, const char* name) {
  return m->GetReflection()->MutableMessage(m, F(*m, name));
}

void AddFileWithDeps(const FileDescriptor* file, Message* files, std::set<std::string>* seen) {
  if (!seen->insert(file->name()).second) return;
  google::protobuf::FileDescriptorProto proto;
  file->CopyTo(&proto);
  files->GetReflection()->AddString(files, F(*files, "file_descriptor_proto"),
                                    proto.SerializeAsString());
  for (int i = 0; i < file->dependency_count(); ++i) AddFileWithDeps(file->dependency(i), files, seen);
}

void Error(Message* response, grpc::StatusCode code, const std::string& message) {
  Message* e = Sub(response, "error_response");
  e->GetReflection()->SetInt32(e, F(*e, "error_code"), code);
  e->GetReflection()->SetString(e, F(*e, "error_message"), message);
}

void Files(const Catalog& catalog, Message* response, const FileDescriptor* file,
           const std::string& what) {
  // Only the suite's API: whatever else is linked into the binary stays private.
  if (!catalog.Reflects(file)) return Error(response, grpc::StatusCode::NOT_FOUND, absl::StrCat(what, " not found"));
  std::set<std::string> seen;
  AddFileWithDeps(file, Sub(response, "file_descriptor_response"), &seen);
}

}  // namespace

ReflectionAnswerer::ReflectionAnswerer(const Catalog* catalog)
    : catalog_(catalog), pool_(DescriptorPool::generated_pool()) {
  auto* factory = google::protobuf::MessageFactory::generated_factory();
  const Descriptor* req = pool_->FindMessageTypeByName("grpc.reflection.v1alpha.ServerReflectionRequest");
  const Descriptor* resp = pool_->FindMessageTypeByName("grpc.reflection.v1alpha.ServerReflectionResponse");
  if (req != nullptr && resp != nullptr) {
    request_.reset(factory->GetPrototype(req)->New());
    response_.reset(factory->GetPrototype(resp)->New());
  }
}

ReflectionAnswerer::~ReflectionAnswerer() = default;

bool ReflectionAnswerer::Answer(grpc::ByteBuffer* in, grpc::ByteBuffer* out) {
  if (request_ == nullptr ||
      !grpc::SerializationTraits<Message>::Deserialize(in, request_.get()).ok()) {
    return false;
  }
  Answer();
  bool own;
  return grpc::SerializationTraits<Message>::Serialize(*response_, out, &own).ok();
}

void ReflectionAnswerer::Answer() {
    response_->Clear();
    const auto* r = request_->GetReflection();
    response_->GetReflection()->SetString(response_.get(), F(*response_, "valid_host"),
                                          r->GetString(*request_, F(*request_, "host")));
    Sub(response_.get(), "original_request")->CopyFrom(*request_);
    const FieldDescriptor* which =
        r->GetOneofFieldDescriptor(*request_, request_->GetDescriptor()->FindOneofByName("message_request"));
    const std::string kind = which ? which->name() : "";
    if (kind == "list_services") {
      Message* list = Sub(response_.get(), "list_services_response");
      const FieldDescriptor* services = F(*list, "service");
      std::vector<std::string> names = {"grpc.health.v1.Health",
                                        "grpc.reflection.v1alpha.ServerReflection"};
      for (const auto* s : catalog_->services()) names.push_back(s->full_name());
      for (const auto& n : names) {
        Message* entry = list->GetReflection()->AddMessage(list, services);
        entry->GetReflection()->SetString(entry, F(*entry, "name"), n);
      }
    } else if (kind == "file_by_filename") {
      const std::string name = r->GetString(*request_, which);
      Files(*catalog_, response_.get(), pool_->FindFileByName(name), name);
    } else if (kind == "file_containing_symbol") {
      const std::string symbol = r->GetString(*request_, which);
      Files(*catalog_, response_.get(), pool_->FindFileContainingSymbol(symbol), symbol);
    } else if (kind == "file_containing_extension") {
      const Message& ext = r->GetMessage(*request_, which);
      const std::string type = ext.GetReflection()->GetString(ext, F(ext, "containing_type"));
      const int number = ext.GetReflection()->GetInt32(ext, F(ext, "extension_number"));
      const Descriptor* d = pool_->FindMessageTypeByName(type);
      const FieldDescriptor* e = d ? pool_->FindExtensionByNumber(d, number) : nullptr;
      Files(*catalog_, response_.get(), e ? e->file() : nullptr, absl::StrCat(type, " extension ", number));
    } else if (kind == "all_extension_numbers_of_type") {
      const std::string type = r->GetString(*request_, which);
      const Descriptor* d = pool_->FindMessageTypeByName(type);
      if (d == nullptr) return Error(response_.get(), grpc::StatusCode::NOT_FOUND, absl::StrCat(type, " not found"));
      Message* out = Sub(response_.get(), "all_extension_numbers_response");
      out->GetReflection()->SetString(out, F(*out, "base_type_name"), type);
      std::vector<const FieldDescriptor*> exts;
      pool_->FindAllExtensions(d, &exts);
      for (const auto* e : exts) {
        out->GetReflection()->AddInt32(out, F(*out, "extension_number"), e->number());
      }
    } else {
      Error(response_.get(), grpc::StatusCode::UNIMPLEMENTED, "unknown reflection request");
    }
  }


}  // namespace gateway
