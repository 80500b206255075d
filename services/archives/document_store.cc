#include "services/archives/document_store.h"

#include <map>

#include "absl/strings/str_cat.h"
#include "services/kit/etag.h"
#include "services/kit/proto_time.h"
#include "services/kit/status_macros.h"
#include "services/kit/unique_keys.h"

namespace archives::store {

using kit::Conn;
using kit::Row;
using kit::SqlParam;

namespace {

constexpr char kLoanColumns[] =
    "l.id, l.site, l.document_id, l.borrower, l.department, l.purpose, l.due_at, l.approver, "
    "l.lent_by, l.lent_at, l.returned_at, l.received_by, l.returned_condition";

v1::Loan LoanOf(const Row& r, int at = 0) {
  v1::Loan l;
  l.set_name(absl::StrCat("sites/", r.Str(at + 1), "/loans/", r.Int(at + 0)));
  l.set_document(absl::StrCat("sites/", r.Str(at + 1), "/documents/", r.Int(at + 2)));
  l.set_borrower(r.Str(at + 3));
  l.set_department(r.Str(at + 4));
  l.set_purpose(r.Str(at + 5));
  kit::SetTimestamp(l.mutable_due_time(), r.Time(at + 6));
  l.set_approver(r.Str(at + 7));
  l.set_lent_by(r.Str(at + 8));
  kit::SetTimestamp(l.mutable_lend_time(), r.Time(at + 9));
  if (!r.IsNull(at + 10)) kit::SetTimestamp(l.mutable_return_time(), r.Time(at + 10));
  l.set_received_by(r.Str(at + 11));
  l.set_returned_condition(r.Str(at + 12));
  return l;
}

constexpr char kDocumentColumns[] =
    "d.id, d.site, d.category, d.unit, d.title, d.building, d.box, d.shelf, d.confidentiality, "
    "d.file_uri, d.file_sha256, d.file_size, d.state, d.version, d.created_at, d.updated_at";
constexpr int kDocumentColumnCount = 16;
constexpr char kDocumentFrom[] =
    " FROM documents d LEFT JOIN document_loans l ON l.open_document = d.id";

DocumentRow DocumentOf(const Row& r) {
  DocumentRow row;
  row.id = r.Int(0);
  row.version = r.Int(13);
  v1::Document& d = row.doc;
  d.set_name(absl::StrCat("sites/", r.Str(1), "/documents/", row.id));
  d.set_category(static_cast<v1::DocumentCategory>(r.Int(2)));
  d.set_unit(r.Str(3));
  d.set_title(r.Str(4));
  d.mutable_location()->set_building(r.Str(5));
  d.mutable_location()->set_box(r.Str(6));
  d.mutable_location()->set_shelf(r.Str(7));
  d.set_confidentiality(static_cast<v1::Confidentiality>(r.Int(8)));
  if (!r.Str(9).empty()) {
    d.mutable_file()->set_uri(r.Str(9));
    d.mutable_file()->set_sha256(r.Str(10));
    d.mutable_file()->set_size_bytes(r.Int(11));
  }
  d.set_state(static_cast<v1::DocumentState>(r.Int(12)));
  d.set_etag(kit::Etag(row.version));
  kit::SetTimestamp(d.mutable_create_time(), r.Time(14));
  kit::SetTimestamp(d.mutable_update_time(), r.Time(15));
  if (!r.IsNull(kDocumentColumnCount)) *d.mutable_current_loan() = LoanOf(r, kDocumentColumnCount);
  return row;
}

std::string SelectDocuments() {
  return absl::StrCat("SELECT ", kDocumentColumns, ", ", kLoanColumns, kDocumentFrom);
}

}  // namespace

absl::StatusOr<int64_t> InsertDocument(Conn& c, const std::string& site, v1::Document& d,
                                       const std::string& actor, absl::Time now) {
  d.set_state(v1::ON_SHELF);
  ASSIGN_OR_RETURN(
      int64_t id,
      c.InsertReturningId(
          "INSERT INTO documents (site, category, unit, title, building, box, shelf, "
          "confidentiality, file_uri, file_sha256, file_size, state, version, created_at, "
          "created_by, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1, ?, ?, ?) "
          "RETURNING id",
          {site, static_cast<int>(d.category()), d.unit(), d.title(), d.location().building(),
           d.location().box(), d.location().shelf(), static_cast<int>(d.confidentiality()),
           d.file().uri(), d.file().sha256(), d.file().size_bytes(), static_cast<int>(d.state()),
           now, actor, now}));
  d.set_name(absl::StrCat("sites/", site, "/documents/", id));
  d.set_etag(kit::Etag(1));
  kit::SetTimestamp(d.mutable_create_time(), now);
  kit::SetTimestamp(d.mutable_update_time(), now);
  return id;
}

absl::StatusOr<DocumentRow> ReadDocument(Conn& c, const std::string& site, int64_t id,
                                         bool for_update) {
  if (for_update) {
    RETURN_IF_ERROR(c.QueryOne("SELECT id FROM documents WHERE site = ? AND id = ? FOR UPDATE",
                               {site, id}, "document not found")
                        .status());
  }
  ASSIGN_OR_RETURN(Row r, c.QueryOne(absl::StrCat(SelectDocuments(),
                                                  " WHERE d.site = ? AND d.id = ?"),
                                     {site, id}, "document not found"));
  return DocumentOf(r);
}

absl::Status UpdateDocument(Conn& c, DocumentRow& row, absl::Time now) {
  row.version += 1;
  const v1::Document& d = row.doc;
  RETURN_IF_ERROR(
      c.Exec("UPDATE documents SET category = ?, unit = ?, title = ?, building = ?, box = ?, "
             "shelf = ?, confidentiality = ?, file_uri = ?, file_sha256 = ?, file_size = ?, "
             "state = ?, version = ?, updated_at = ? WHERE id = ?",
             {static_cast<int>(d.category()), d.unit(), d.title(), d.location().building(),
              d.location().box(), d.location().shelf(), static_cast<int>(d.confidentiality()),
              d.file().uri(), d.file().sha256(), d.file().size_bytes(),
              static_cast<int>(d.state()), row.version, now, row.id})
          .status());
  row.doc.set_etag(kit::Etag(row.version));
  kit::SetTimestamp(row.doc.mutable_update_time(), now);
  return absl::OkStatus();
}

absl::StatusOr<std::vector<DocumentRow>> ListDocuments(Conn& c, const DocumentFilter& f,
                                                       int64_t after, int limit) {
  std::string sql = absl::StrCat(SelectDocuments(), " WHERE d.site = ? AND d.id > ?");
  std::vector<SqlParam> params = {f.site, after};
  const auto add = [&](const char* clause, SqlParam p) {
    sql += clause;
    params.push_back(std::move(p));
  };
  if (!f.unit.empty()) add(" AND d.unit = ?", f.unit);
  if (f.category != v1::DOCUMENT_CATEGORY_UNSPECIFIED) {
    add(" AND d.category = ?", static_cast<int>(f.category));
  }
  if (f.state != v1::DOCUMENT_STATE_UNSPECIFIED) add(" AND d.state = ?", static_cast<int>(f.state));
  if (!f.building.empty()) add(" AND d.building = ?", f.building);
  if (!f.box.empty()) add(" AND d.box = ?", f.box);
  add(" ORDER BY d.id LIMIT ?", limit);
  ASSIGN_OR_RETURN(std::vector<Row> rows, c.Query(sql, params));
  std::vector<DocumentRow> out;
  out.reserve(rows.size());
  for (const Row& r : rows) out.push_back(DocumentOf(r));
  return out;
}

namespace {

// What a duplicate on each unique key of document_loans means. The lender
// locks the document first; the key is the backstop should a path skip it.
constexpr kit::UniqueKeys kLoanKeys{{
    {"one_open_loan", absl::StatusCode::kFailedPrecondition, "the document is already lent"},
}};

}  // namespace

absl::StatusOr<int64_t> InsertLoan(Conn& c, const std::string& site, int64_t document_id,
                                   v1::Loan& l, const std::string& actor, absl::Time now) {
  const absl::Time due = kit::FromTimestamp(l.due_time());
  ASSIGN_OR_RETURN(
      int64_t id,
      kLoanKeys.Map(c.InsertReturningId(
          "INSERT INTO document_loans (site, document_id, borrower, department, purpose, "
          "due_at, approver, lent_by, lent_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
          {site, document_id, l.borrower(), l.department(), l.purpose(), due, l.approver(),
           actor, now})));
  l.set_name(absl::StrCat("sites/", site, "/loans/", id));
  l.set_document(absl::StrCat("sites/", site, "/documents/", document_id));
  l.set_lent_by(actor);
  kit::SetTimestamp(l.mutable_lend_time(), now);
  return id;
}

absl::StatusOr<v1::Loan> CloseLoan(Conn& c, const std::string& site, int64_t document_id,
                                   const std::string& received_by, const std::string& condition,
                                   absl::Time now) {
  ASSIGN_OR_RETURN(Row open, c.QueryOne("SELECT id FROM document_loans WHERE open_document = ? "
                                        "AND site = ? FOR UPDATE",
                                        {document_id, site}, "the document is not lent"));
  const int64_t id = open.Int(0);
  RETURN_IF_ERROR(c.Exec("UPDATE document_loans SET returned_at = ?, received_by = ?, "
                         "returned_condition = ? WHERE id = ?",
                         {now, received_by, condition, id})
                      .status());
  ASSIGN_OR_RETURN(Row r, c.QueryOne(absl::StrCat("SELECT ", kLoanColumns,
                                                  " FROM document_loans l WHERE l.id = ?"),
                                     {id}, "loan not found"));
  return LoanOf(r);
}

absl::StatusOr<std::vector<std::pair<int64_t, v1::Loan>>> ListLoans(Conn& c, const LoanFilter& f,
                                                                    absl::Time now, int64_t after,
                                                                    int limit) {
  std::string sql = absl::StrCat("SELECT ", kLoanColumns,
                                 " FROM document_loans l WHERE l.site = ? AND l.id > ?");
  std::vector<SqlParam> params = {f.site, after};
  if (f.document_id != 0) {
    sql += " AND l.document_id = ?";
    params.emplace_back(f.document_id);
  }
  if (f.open_only || f.overdue_only) sql += " AND l.returned_at IS NULL";
  if (f.overdue_only) {
    sql += " AND l.due_at < ?";
    params.emplace_back(now);
  }
  sql += " ORDER BY l.id LIMIT ?";
  params.emplace_back(limit);
  ASSIGN_OR_RETURN(std::vector<Row> rows, c.Query(sql, params));
  std::vector<std::pair<int64_t, v1::Loan>> out;
  for (const Row& r : rows) out.emplace_back(r.Int(0), LoanOf(r));
  return out;
}

absl::StatusOr<int64_t> InsertAudit(Conn& c, const std::string& site, const std::string& building,
                                    const std::string& box, const std::string& actor,
                                    absl::Time now) {
  ASSIGN_OR_RETURN(int64_t id,
                   c.InsertReturningId(
                       "INSERT INTO archive_audits (site, building, box, state, started_by, "
                       "started_at) VALUES (?, ?, ?, ?, ?, ?) RETURNING id",
                       {site, building, box, static_cast<int>(v1::AUDIT_OPEN), actor, now}));
  RETURN_IF_ERROR(c.Exec("INSERT INTO audit_items (audit_id, document_id, expected) "
                         "SELECT ?, id, TRUE FROM documents WHERE site = ? AND building = ? "
                         "AND (? = '' OR box = ?) AND state = ?",
                         {id, site, building, box, box, static_cast<int>(v1::ON_SHELF)})
                      .status());
  return id;
}

absl::StatusOr<AuditRow> ReadAudit(Conn& c, const std::string& site, int64_t id,
                                   bool for_update) {
  ASSIGN_OR_RETURN(Row r, c.QueryOne(absl::StrCat("SELECT id, building, box, state, started_by, "
                                                  "started_at, closed_by, closed_at FROM "
                                                  "archive_audits WHERE site = ? AND id = ?",
                                                  for_update ? " FOR UPDATE" : ""),
                                     {site, id}, "audit not found"));
  AuditRow row;
  row.id = r.Int(0);
  v1::ArchiveAudit& a = row.audit;
  a.set_name(absl::StrCat("sites/", site, "/archiveAudits/", row.id));
  a.set_building(r.Str(1));
  a.set_box(r.Str(2));
  a.set_state(static_cast<v1::AuditState>(r.Int(3)));
  a.set_started_by(r.Str(4));
  kit::SetTimestamp(a.mutable_start_time(), r.Time(5));
  a.set_closed_by(r.Str(6));
  if (!r.IsNull(7)) kit::SetTimestamp(a.mutable_close_time(), r.Time(7));
  return row;
}

absl::StatusOr<std::pair<int64_t, int64_t>> CountAuditItems(Conn& c, int64_t audit_id) {
  ASSIGN_OR_RETURN(Row r, c.QueryOne("SELECT COALESCE(SUM(expected), 0), "
                                     "COUNT(found_at) FROM audit_items WHERE audit_id = ?",
                                     {audit_id}, "audit not found"));
  return std::make_pair(r.Int(0), r.Int(1));
}

absl::Status MarkFound(Conn& c, int64_t audit_id, int64_t document_id, absl::Time now) {
  return c
      .Exec("INSERT INTO audit_items (audit_id, document_id, expected, found_at) "
            "VALUES (?, ?, FALSE, ?) "
            "ON DUPLICATE KEY UPDATE found_at = COALESCE(found_at, VALUES(found_at))",
            {audit_id, document_id, now})
      .status();
}

absl::StatusOr<std::vector<AuditItem>> AuditItems(Conn& c, int64_t audit_id, bool for_update) {
  ASSIGN_OR_RETURN(std::vector<Row> rows,
                   c.Query(absl::StrCat("SELECT i.document_id, i.expected, i.found_at IS NOT "
                                        "NULL, d.state, i.outcome FROM audit_items i JOIN "
                                        "documents d ON d.id = i.document_id WHERE "
                                        "i.audit_id = ? ORDER BY i.document_id",
                                        for_update ? " FOR UPDATE" : ""),
                           {audit_id}));
  std::vector<AuditItem> out;
  out.reserve(rows.size());
  for (const Row& r : rows) {
    out.push_back({r.Int(0), r.Int(1) != 0, r.Int(2) != 0,
                   static_cast<v1::DocumentState>(r.Int(3)), static_cast<int>(r.Int(4))});
  }
  return out;
}

absl::Status CloseAudit(Conn& c, int64_t audit_id, const std::vector<AuditItem>& items,
                        const std::vector<v1::DocumentState>& new_states,
                        const std::string& actor, absl::Time now) {
  for (size_t i = 0; i < items.size(); ++i) {
    if (items[i].outcome != 0) {
      RETURN_IF_ERROR(c.Exec("UPDATE audit_items SET outcome = ? WHERE audit_id = ? AND "
                             "document_id = ?",
                             {items[i].outcome, audit_id, items[i].document_id})
                          .status());
    }
    if (new_states[i] != items[i].state) {
      RETURN_IF_ERROR(c.Exec("UPDATE documents SET state = ?, version = version + 1, "
                             "updated_at = ? WHERE id = ?",
                             {static_cast<int>(new_states[i]), now, items[i].document_id})
                          .status());
    }
  }
  return c
      .Exec("UPDATE archive_audits SET state = ?, closed_by = ?, closed_at = ? WHERE id = ?",
            {static_cast<int>(v1::AUDIT_CLOSED), actor, now, audit_id})
      .status();
}

absl::StatusOr<std::vector<DocumentCounts>> CountDocuments(Conn& c, absl::Time now) {
  ASSIGN_OR_RETURN(std::vector<Row> states,
                   c.Query("SELECT site, SUM(state = ?), SUM(state = ?) FROM documents "
                           "GROUP BY site ORDER BY site",
                           {static_cast<int>(v1::LENT), static_cast<int>(v1::MISSING)}));
  ASSIGN_OR_RETURN(std::vector<Row> overdue,
                   c.Query("SELECT site, COUNT(*) FROM document_loans WHERE returned_at IS NULL "
                           "AND due_at < ? GROUP BY site",
                           {now}));
  std::map<std::string, int64_t> overdue_of;
  for (const Row& r : overdue) overdue_of[r.Str(0)] = r.Int(1);
  std::vector<DocumentCounts> out;
  for (const Row& r : states) {
    out.push_back({r.Str(0), r.Int(1), overdue_of[r.Str(0)], r.Int(2)});
  }
  return out;
}

}  // namespace archives::store
