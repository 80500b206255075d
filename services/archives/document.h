#ifndef ESTATE_SERVICES_ARCHIVES_DOCUMENT_H_
#define ESTATE_SERVICES_ARCHIVES_DOCUMENT_H_

// The archive room's rules, without I/O: what a document record holds, when
// a document may be lent, when a loan is overdue, and what an audit's close
// makes of each document it saw.

#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "estate/archives/v1/documents.pb.h"

namespace archives {

namespace v1 = ::estate::archives::v1;

// The writable fields; errors name `prefix`.field.
absl::Status CheckDocument(absl::string_view prefix, const v1::Document& doc,
                           const std::string& site);

// May a document in `state` be lent to `borrower` with `approver`?
// FAILED_PRECONDITION unless it is on the shelf; a confidential document
// needs an approver who is not the borrower (INVALID_ARGUMENT naming it).
absl::Status CheckLend(v1::DocumentState state, v1::Confidentiality confidentiality,
                       absl::string_view borrower, absl::string_view approver);

bool IsLoanOverdue(std::optional<absl::Time> returned, absl::Time due, absl::Time now);

// What closing an audit does to one document it expected or found, given
// the document's state at the close.
enum class AuditOutcome {
  kNone = 0,
  kMissing = 1,     // expected, not found, still recorded on the shelf
  kRecovered = 2,   // found, though recorded as missing
  kUnexpected = 3,  // found here, not expected here
};
AuditOutcome OutcomeOf(bool expected, bool found, v1::DocumentState state);
// The state the document takes for that outcome (unchanged for the others).
v1::DocumentState StateAfter(AuditOutcome outcome, v1::DocumentState state);

}  // namespace archives

#endif  // ESTATE_SERVICES_ARCHIVES_DOCUMENT_H_
