#include "gateway/transcode.h"

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "gateway/path_template.h"
#include "google/protobuf/stubs/common.h"
#include "google/protobuf/util/json_util.h"
#include "nlohmann/json.hpp"

namespace gateway {
namespace {

using google::protobuf::Descriptor;
using google::protobuf::FieldDescriptor;
using google::protobuf::Message;

absl::Status Invalid(absl::string_view field, absl::string_view why) {
  return absl::InvalidArgumentError(absl::StrCat(field, ": ", why));
}

// protobuf's JSON errors are "INVALID_ARGUMENT:<detail>"; keep the detail.
std::string JsonErrorDetail(const google::protobuf::util::Status& s) {
  absl::string_view m(s.message().data(), s.message().size());
  absl::ConsumePrefix(&m, "INVALID_ARGUMENT:");
  return std::string(m);
}

const FieldDescriptor* FindField(const Descriptor* type, absl::string_view name) {
  const FieldDescriptor* f = type->FindFieldByName(std::string(name));
  for (int i = 0; f == nullptr && i < type->field_count(); ++i) {
    if (type->field(i)->json_name() == name) f = type->field(i);
  }
  return f;
}

// Walks "a.b.c" to the message that holds c, creating a and b; returns c.
absl::StatusOr<const FieldDescriptor*> Walk(Message* root, absl::string_view path,
                                            absl::string_view shown, Message** holder) {
  Message* msg = root;
  std::vector<absl::string_view> parts = absl::StrSplit(path, '.');
  for (size_t i = 0; i < parts.size(); ++i) {
    const FieldDescriptor* f = FindField(msg->GetDescriptor(), parts[i]);
    if (f == nullptr) return Invalid(shown, "no such field");
    if (i + 1 == parts.size()) {
      *holder = msg;
      return f;
    }
    if (f->is_repeated() || f->type() != FieldDescriptor::TYPE_MESSAGE) {
      return Invalid(shown, "no such field");
    }
    msg = msg->GetReflection()->MutableMessage(msg, f);
  }
  return Invalid(shown, "no such field");
}

bool IsWellKnownScalar(const Descriptor* d) {
  const std::string& n = d->full_name();
  return n == "google.protobuf.Timestamp" || n == "google.protobuf.Duration" ||
         n == "google.protobuf.FieldMask" ||
         (absl::StartsWith(n, "google.protobuf.") && absl::EndsWith(n, "Value") &&
          n != "google.protobuf.Value" && n != "google.protobuf.ListValue");
}

std::string LowerCamel(absl::string_view snake) {
  std::string out;
  bool upper = false;
  for (char c : snake) {
    if (c == '_') {
      upper = true;
    } else {
      out.push_back(upper ? absl::ascii_toupper(c) : c);
      upper = false;
    }
  }
  return out;
}

// One query parameter into its field, converted by protobuf's own JSON rules.
absl::Status SetFromQuery(Message* root, absl::string_view key, absl::string_view value) {
  Message* holder = nullptr;
  auto field = Walk(root, key, key, &holder);
  if (!field.ok()) return field.status();
  const FieldDescriptor* f = *field;
  if (f->is_map() ||
      (f->type() == FieldDescriptor::TYPE_MESSAGE && !IsWellKnownScalar(f->message_type()))) {
    return Invalid(key, "cannot be set from the query string");
  }
  nlohmann::json v;
  if (f->type() == FieldDescriptor::TYPE_BOOL) {
    if (value == "true" || value == "1") {
      v = true;
    } else if (value == "false" || value == "0") {
      v = false;
    } else {
      return Invalid(key, "must be true or false");
    }
  } else if (f->type() == FieldDescriptor::TYPE_MESSAGE &&
             f->message_type()->full_name() == "google.protobuf.FieldMask") {
    std::vector<std::string> paths;
    for (absl::string_view p : absl::StrSplit(value, ',', absl::SkipEmpty())) {
      std::vector<std::string> parts;
      for (absl::string_view part : absl::StrSplit(p, '.')) parts.push_back(LowerCamel(part));
      paths.push_back(absl::StrJoin(parts, "."));
    }
    v = absl::StrJoin(paths, ",");
  } else {
    v = std::string(value);
  }
  if (!f->is_repeated() && holder->GetReflection()->HasField(*holder, f)) {
    return Invalid(key, "given twice");
  }
  // A repeated field takes each occurrence of its parameter in turn.
  nlohmann::json doc = {{f->json_name(), f->is_repeated() ? nlohmann::json::array({v}) : v}};
  std::unique_ptr<Message> one(holder->New());
  auto s = google::protobuf::util::JsonStringToMessage(doc.dump(), one.get());
  if (!s.ok()) return Invalid(key, JsonErrorDetail(s));
  holder->MergeFrom(*one);
  return absl::OkStatus();
}

bool IsBlank(absl::string_view s) { return absl::StripAsciiWhitespace(s).empty(); }

}  // namespace

bool IsValidUtf8(absl::string_view s) {
  return google::protobuf::internal::IsStructurallyValidUTF8(s.data(), static_cast<int>(s.size()));
}

absl::Status BuildRequest(const Route& route, const PathTemplate::Bindings& bindings,
                          absl::string_view query, absl::string_view body,
                          Message* request) {
  google::protobuf::util::JsonParseOptions options;
  options.ignore_unknown_fields = false;
  if (route.body.empty()) {
    if (!IsBlank(body)) return Invalid("body", "this method takes no body");
  } else if (!IsBlank(body)) {
    if (!IsValidUtf8(body)) return Invalid("body", "not valid UTF-8");
    Message* target = request;
    if (route.body != "*") {
      const FieldDescriptor* f = request->GetDescriptor()->FindFieldByName(route.body);
      target = request->GetReflection()->MutableMessage(request, f);
    }
    auto s = google::protobuf::util::JsonStringToMessage(
        std::string(body), target, options);
    if (!s.ok()) return Invalid("body", JsonErrorDetail(s));
  }

  for (absl::string_view pair : absl::StrSplit(query, '&', absl::SkipEmpty())) {
    std::pair<absl::string_view, absl::string_view> kv = absl::StrSplit(pair, absl::MaxSplits('=', 1));
    std::string key, value;
    if (!PercentDecode(kv.first, true, &key) || !PercentDecode(kv.second, true, &value) ||
        !IsValidUtf8(key) || !IsValidUtf8(value)) {
      return Invalid("query", "bad percent-encoding or UTF-8");
    }
    if (route.body == "*") return Invalid(key, "this method takes its fields in the body");
    std::string top = key.substr(0, key.find('.'));
    const FieldDescriptor* top_field = FindField(request->GetDescriptor(), top);
    if (top_field != nullptr && top_field->name() == route.body) {
      return Invalid(key, "set in the body, not the query string");
    }
    for (const auto& [path, unused] : bindings) {
      if (key == path) return Invalid(key, "set by the URL path");
    }
    if (auto s = SetFromQuery(request, key, value); !s.ok()) return s;
  }

  for (const auto& [path, value] : bindings) {
    Message* holder = nullptr;
    auto f = Walk(request, path, path, &holder);
    if (!f.ok()) return f.status();
    holder->GetReflection()->SetString(holder, *f, value);
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> ResponseToJson(const Route& route, const Message& response) {
  const Message* out = &response;
  if (!route.response_body.empty()) {
    const FieldDescriptor* f = response.GetDescriptor()->FindFieldByName(route.response_body);
    if (f && f->type() == FieldDescriptor::TYPE_MESSAGE && !f->is_repeated()) {
      out = &response.GetReflection()->GetMessage(response, f);
    }
  }
  std::string json;
  google::protobuf::util::JsonPrintOptions options;
  // Every field is written, zero or empty included: a finance app reads a
  // missing balanceMinor as unknown, not as 0 (README, "Calling it").
  options.always_print_primitive_fields = true;
  auto s = google::protobuf::util::MessageToJsonString(*out, &json, options);
  if (!s.ok()) return absl::InternalError("response: cannot be written as JSON");
  return json;
}

int HttpStatusFor(int grpc_code) {
  static constexpr int kStatus[] = {
      200,  // OK
      499,  // CANCELLED
      500,  // UNKNOWN
      400,  // INVALID_ARGUMENT
      504,  // DEADLINE_EXCEEDED
      404,  // NOT_FOUND
      409,  // ALREADY_EXISTS
      403,  // PERMISSION_DENIED
      429,  // RESOURCE_EXHAUSTED
      400,  // FAILED_PRECONDITION
      409,  // ABORTED
      400,  // OUT_OF_RANGE
      501,  // UNIMPLEMENTED
      500,  // INTERNAL
      503,  // UNAVAILABLE
      500,  // DATA_LOSS
      401,  // UNAUTHENTICATED
  };
  return grpc_code >= 0 && grpc_code < 17 ? kStatus[grpc_code] : 500;
}

std::string ErrorJson(int grpc_code, absl::string_view message) {
  nlohmann::json body = {{"code", grpc_code},
                         {"message", std::string(message)},
                         {"details", nlohmann::json::array()}};
  return body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace gateway
