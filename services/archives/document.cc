#include "services/archives/document.h"

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "services/archives/register.h"
#include "services/kit/field_error.h"
#include "services/kit/status_macros.h"
#include "services/kit/validate.h"

namespace archives {

using kit::FieldError;

namespace {

std::string F(absl::string_view prefix, absl::string_view field) {
  return absl::StrCat(prefix, ".", field);
}

bool IsSha256Hex(absl::string_view s) {
  if (s.size() != 64) return false;
  for (char c : s) {
    if (!absl::ascii_isdigit(c) && !(c >= 'a' && c <= 'f')) return false;
  }
  return true;
}

}  // namespace

absl::Status CheckDocument(absl::string_view prefix, const v1::Document& d,
                           const std::string& site) {
  if (d.category() < v1::OWNER_FILE || d.category() > v1::OTHER_DOCUMENT) {
    return FieldError(F(prefix, "category"), "required: OWNER_FILE, MAINTENANCE_ORDER, "
                                             "WORK_CONTACT_LETTER, RELEASE_ORDER, "
                                             "HANDOVER_RECORD, DECORATION_APPLICATION, "
                                             "CONTRACT or OTHER_DOCUMENT");
  }
  if (!d.unit().empty()) RETURN_IF_ERROR(CheckUnitName(F(prefix, "unit"), d.unit(), site));
  RETURN_IF_ERROR(kit::CheckText(F(prefix, "title"), d.title(), 300, true));
  RETURN_IF_ERROR(kit::CheckText(F(prefix, "location.building"), d.location().building(), 64, true));
  RETURN_IF_ERROR(kit::CheckText(F(prefix, "location.box"), d.location().box(), 64, false));
  RETURN_IF_ERROR(kit::CheckText(F(prefix, "location.shelf"), d.location().shelf(), 64, false));
  if (d.confidentiality() < v1::PUBLIC || d.confidentiality() > v1::CONFIDENTIAL) {
    return FieldError(F(prefix, "confidentiality"), "required: PUBLIC, INTERNAL or CONFIDENTIAL");
  }
  const v1::FileRef& f = d.file();
  RETURN_IF_ERROR(kit::CheckText(F(prefix, "file.uri"), f.uri(), 1000, false));
  if (!f.sha256().empty() && !IsSha256Hex(f.sha256())) {
    return FieldError(F(prefix, "file.sha256"), "64 lowercase hex digits");
  }
  if (f.size_bytes() < 0) return FieldError(F(prefix, "file.size_bytes"), "must not be negative");
  if (f.uri().empty() && (!f.sha256().empty() || f.size_bytes() != 0)) {
    return FieldError(F(prefix, "file.uri"), "required with sha256 or size_bytes");
  }
  return absl::OkStatus();
}

absl::Status CheckLend(v1::DocumentState state, v1::Confidentiality confidentiality,
                       absl::string_view borrower, absl::string_view approver) {
  if (state == v1::LENT) return absl::FailedPreconditionError("the document is already lent");
  if (state == v1::MISSING) return absl::FailedPreconditionError("the document is missing");
  if (confidentiality == v1::CONFIDENTIAL) {
    if (approver.empty()) return FieldError("approver", "required for a confidential document");
    if (approver == borrower) return FieldError("approver", "must not be the borrower");
  }
  return absl::OkStatus();
}

bool IsLoanOverdue(std::optional<absl::Time> returned, absl::Time due, absl::Time now) {
  return !returned.has_value() && due < now;
}

AuditOutcome OutcomeOf(bool expected, bool found, v1::DocumentState state) {
  if (found && state == v1::MISSING) return AuditOutcome::kRecovered;
  if (expected && !found && state == v1::ON_SHELF) return AuditOutcome::kMissing;
  if (found && !expected) return AuditOutcome::kUnexpected;
  return AuditOutcome::kNone;
}

v1::DocumentState StateAfter(AuditOutcome outcome, v1::DocumentState state) {
  switch (outcome) {
    case AuditOutcome::kMissing:
      return v1::MISSING;
    case AuditOutcome::kRecovered:
      return v1::ON_SHELF;
    default:
      return state;
  }
}

}  // namespace archives
