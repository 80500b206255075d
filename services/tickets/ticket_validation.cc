#include "services/tickets/ticket_validation.h"

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "services/kit/field_error.h"
#include "services/kit/validate.h"

namespace tickets {

using kit::CheckText;
using kit::FieldError;

absl::Status CheckKind(absl::string_view field, v1::TicketKind kind, bool required) {
  if (!v1::TicketKind_IsValid(kind)) return FieldError(field, "unknown kind");
  if (required && kind == v1::TICKET_KIND_UNSPECIFIED) return FieldError(field, "required");
  return absl::OkStatus();
}

absl::Status CheckChannel(absl::string_view field, v1::Channel channel, bool required) {
  if (!v1::Channel_IsValid(channel)) return FieldError(field, "unknown channel");
  if (required && channel == v1::CHANNEL_UNSPECIFIED) return FieldError(field, "required");
  return absl::OkStatus();
}

absl::Status CheckPriority(absl::string_view field, v1::Priority priority) {
  if (!v1::Priority_IsValid(priority)) return FieldError(field, "unknown priority");
  return absl::OkStatus();
}

absl::Status CheckStatus(absl::string_view field, v1::TicketStatus status) {
  if (!v1::TicketStatus_IsValid(status)) return FieldError(field, "unknown status");
  return absl::OkStatus();
}

absl::Status CheckUnit(absl::string_view field, absl::string_view unit) {
  // Units are written as on the door plates: "5-506", "12-1702", "B3#2-101".
  if (unit.size() > 64) return FieldError(field, "longer than 64 bytes");
  for (char c : unit) {
    if (!absl::ascii_isalnum(c) && c != '-' && c != '#' && c != '/' && c != '.') {
      return FieldError(field, "may hold only letters, digits and - # / .");
    }
  }
  return absl::OkStatus();
}

absl::Status CheckAttachments(absl::string_view field, const v1::Ticket& t) {
  if (t.attachments_size() > kMaxAttachments) {
    return FieldError(field, absl::StrCat("at most ", kMaxAttachments));
  }
  for (int i = 0; i < t.attachments_size(); ++i) {
    const v1::Attachment& a = t.attachments(i);
    const std::string f = absl::StrCat(field, "[", i, "]");
    if (absl::Status s = CheckText(absl::StrCat(f, ".uri"), a.uri(), 2048, true); !s.ok()) return s;
    if (!absl::StartsWith(a.uri(), "https://") && !absl::StartsWith(a.uri(), "s3://") &&
        !absl::StartsWith(a.uri(), "gs://")) {
      return FieldError(absl::StrCat(f, ".uri"), "must be an https://, s3:// or gs:// URI");
    }
    bool hex = a.sha256().size() == 64;
    for (char c : a.sha256()) hex = hex && (absl::ascii_isdigit(c) || (c >= 'a' && c <= 'f'));
    if (!hex) return FieldError(absl::StrCat(f, ".sha256"), "must be 64 lowercase hex digits");
    if (a.size_bytes() < 0) return FieldError(absl::StrCat(f, ".size_bytes"), "must not be negative");
  }
  return absl::OkStatus();
}

absl::Status CheckLinks(absl::string_view field, const v1::Ticket& t) {
  if (t.links_size() > kMaxLinks) return FieldError(field, absl::StrCat("at most ", kMaxLinks));
  for (int i = 0; i < t.links_size(); ++i) {
    const std::string& l = t.links(i);
    const std::string f = absl::StrCat(field, "[", i, "]");
    if (absl::Status s = CheckText(f, l, 512, true); !s.ok()) return s;
    if (!absl::StartsWith(l, "sites/") || absl::StrContains(l, "..") ||
        absl::StrContains(l, "//") || absl::StrContains(l, " ")) {
      return FieldError(f, "must be a resource name such as sites/{site}/accounts/{account}");
    }
  }
  return absl::OkStatus();
}

absl::Status CheckTicketField(const std::string& path, const v1::Ticket& t) {
  const std::string f = absl::StrCat("ticket.", path);
  if (path == "unit") return CheckUnit(f, t.unit());
  if (path == "reporter_name") return CheckText(f, t.reporter_name(), 200, false);
  if (path == "reporter_phone") return kit::CheckPhone(f, t.reporter_phone(), false);
  if (path == "title") return CheckText(f, t.title(), kMaxTitle, true);
  if (path == "description") return CheckText(f, t.description(), kMaxDescription, false);
  if (path == "category") return CheckText(f, t.category(), kMaxShort, false);
  if (path == "priority") return CheckPriority(f, t.priority());
  if (path == "attachments") return CheckAttachments(f, t);
  if (path == "links") return CheckLinks(f, t);
  return FieldError("update_mask", absl::StrCat("'", path, "' cannot be updated"));
}

absl::Status CheckNewTicket(const v1::Ticket& t) {
  if (absl::Status s = CheckKind("ticket.kind", t.kind(), true); !s.ok()) return s;
  if (absl::Status s = CheckChannel("ticket.channel", t.channel(), true); !s.ok()) return s;
  for (const std::string& path : UpdatableTicketPaths()) {
    if (absl::Status s = CheckTicketField(path, t); !s.ok()) return s;
  }
  if (absl::Status s = CheckText("ticket.department", t.department(), kMaxShort, false); !s.ok()) {
    return s;
  }
  return CheckText("ticket.assignee", t.assignee(), kMaxShort, false);
}

const std::vector<std::string>& UpdatableTicketPaths() {
  static const auto* paths =
      new std::vector<std::string>({"unit", "reporter_name", "reporter_phone", "title",
                                    "description", "category", "priority", "attachments", "links"});
  return *paths;
}

}  // namespace tickets
