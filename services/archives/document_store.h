#ifndef ESTATE_SERVICES_ARCHIVES_DOCUMENT_STORE_H_
#define ESTATE_SERVICES_ARCHIVES_DOCUMENT_STORE_H_

// Every SQL statement of the archive room: documents, loans, audits. Functions
// run inside the caller's transaction; rows come back as API messages with
// names and etags set.

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "estate/archives/v1/documents.pb.h"
#include "services/kit/db.h"

namespace archives::store {

namespace v1 = ::estate::archives::v1;

struct DocumentRow {
  int64_t id = 0;
  int64_t version = 0;
  v1::Document doc;  // current_loan set while lent (overdue left to the caller)
};

absl::StatusOr<int64_t> InsertDocument(kit::Conn& c, const std::string& site, v1::Document& doc,
                                       const std::string& actor, absl::Time now);
absl::StatusOr<DocumentRow> ReadDocument(kit::Conn& c, const std::string& site, int64_t id,
                                         bool for_update);
// Writes the fields and state with the next version.
absl::Status UpdateDocument(kit::Conn& c, DocumentRow& row, absl::Time now);
struct DocumentFilter {
  std::string site;
  std::string unit;
  v1::DocumentCategory category = v1::DOCUMENT_CATEGORY_UNSPECIFIED;
  v1::DocumentState state = v1::DOCUMENT_STATE_UNSPECIFIED;
  std::string building;
  std::string box;
};
absl::StatusOr<std::vector<DocumentRow>> ListDocuments(kit::Conn& c, const DocumentFilter& f,
                                                       int64_t after, int limit);

// ALREADY_EXISTS if the document has an open loan (the unique key says so).
absl::StatusOr<int64_t> InsertLoan(kit::Conn& c, const std::string& site, int64_t document_id,
                                   v1::Loan& loan, const std::string& actor, absl::Time now);
// Closes the document's open loan and returns it.
absl::StatusOr<v1::Loan> CloseLoan(kit::Conn& c, const std::string& site, int64_t document_id,
                                   const std::string& received_by, const std::string& condition,
                                   absl::Time now);
struct LoanFilter {
  std::string site;
  int64_t document_id = 0;  // 0: any
  bool open_only = false;
  bool overdue_only = false;
};
// With each loan's paging key (its id).
absl::StatusOr<std::vector<std::pair<int64_t, v1::Loan>>> ListLoans(kit::Conn& c,
                                                                    const LoanFilter& f,
                                                                    absl::Time now, int64_t after,
                                                                    int limit);

struct AuditRow {
  int64_t id = 0;
  v1::ArchiveAudit audit;  // without counts and report lists
};
// Starts an audit and records what it expects: the documents of its scope
// on the shelf now.
absl::StatusOr<int64_t> InsertAudit(kit::Conn& c, const std::string& site,
                                    const std::string& building, const std::string& box,
                                    const std::string& actor, absl::Time now);
absl::StatusOr<AuditRow> ReadAudit(kit::Conn& c, const std::string& site, int64_t id,
                                   bool for_update);
// {expected, found}
absl::StatusOr<std::pair<int64_t, int64_t>> CountAuditItems(kit::Conn& c, int64_t audit_id);
absl::Status MarkFound(kit::Conn& c, int64_t audit_id, int64_t document_id, absl::Time now);
struct AuditItem {
  int64_t document_id = 0;
  bool expected = false;
  bool found = false;
  v1::DocumentState state = v1::DOCUMENT_STATE_UNSPECIFIED;
  int outcome = 0;
};
// Every item of the audit with its document's state, the documents locked.
absl::StatusOr<std::vector<AuditItem>> AuditItems(kit::Conn& c, int64_t audit_id,
                                                  bool for_update);
// Records each item's outcome, moves the documents whose state changes and
// closes the audit.
absl::Status CloseAudit(kit::Conn& c, int64_t audit_id, const std::vector<AuditItem>& items,
                        const std::vector<v1::DocumentState>& new_states,
                        const std::string& actor, absl::Time now);

// Per site: documents lent, lent past due, missing.
struct DocumentCounts {
  std::string site;
  int64_t lent = 0;
  int64_t overdue = 0;
  int64_t missing = 0;
};
absl::StatusOr<std::vector<DocumentCounts>> CountDocuments(kit::Conn& c, absl::Time now);

}  // namespace archives::store

#endif  // ESTATE_SERVICES_ARCHIVES_DOCUMENT_STORE_H_
