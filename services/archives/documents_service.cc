// The archive room's RPCs: documents, loans, audits.
#include "absl/strings/str_cat.h"
#include "services/archives/archives_service.h"
#include "services/archives/document.h"
#include "services/archives/document_store.h"
#include "services/archives/register.h"
#include "services/kit/errors.h"
#include "services/kit/etag.h"
#include "services/kit/idempotency.h"
#include "services/kit/list.h"
#include "services/kit/paging.h"
#include "services/kit/proto_time.h"
#include "services/kit/rpc_context.h"
#include "services/kit/status_macros.h"
#include "services/kit/update_mask.h"
#include "services/kit/validate.h"

namespace archives {

using kit::FieldError;
using kit::ToGrpc;

namespace {

const std::vector<std::string>& DocumentPaths() {
  static const auto* paths = new std::vector<std::string>{
      "category", "unit", "title", "location", "confidentiality", "file"};
  return *paths;
}

// Marks the loan overdue if it is.
void SetOverdue(v1::Loan& loan, absl::Time now) {
  std::optional<absl::Time> returned;
  if (loan.has_return_time()) returned = kit::FromTimestamp(loan.return_time());
  loan.set_overdue(IsLoanOverdue(returned, kit::FromTimestamp(loan.due_time()), now));
}

v1::Document View(store::DocumentRow row, absl::Time now) {
  if (row.doc.has_current_loan()) SetOverdue(*row.doc.mutable_current_loan(), now);
  return std::move(row.doc);
}

}  // namespace

grpc::Status ArchivesService::CreateDocument(grpc::ServerContext* ctx,
                                             const v1::CreateDocumentRequest* req,
                                             v1::Document* resp) {
  absl::StatusOr<std::string> site = kit::ParseSiteParent("parent", req->parent());
  if (!site.ok()) return ToGrpc(site.status());
  RETURN_GRPC_IF_ERROR(kit::CheckRequestId(req->request_id()));
  RETURN_GRPC_IF_ERROR(CheckDocument("document", req->document(), *site));
  const std::string actor = kit::CallerOf(*ctx);
  return ToGrpc(kit::IdempotentWrite(
      db_, kit::DeadlineOf(*ctx), "CreateDocument", req->request_id(), *req, resp,
      [&](kit::Conn& c) -> absl::Status {
        v1::Document doc = req->document();
        doc.clear_current_loan();
        RETURN_IF_ERROR(store::InsertDocument(c, *site, doc, actor, clock_.Now()).status());
        *resp = doc;
        return absl::OkStatus();
      }));
}

grpc::Status ArchivesService::GetDocument(grpc::ServerContext* ctx,
                                          const v1::GetDocumentRequest* req, v1::Document* resp) {
  return ToGrpc(kit::GetOne(
      db_, kit::DeadlineOf(*ctx), req->name(), "documents",
      [&](kit::Conn& c, const kit::SiteId& ref) {
        return store::ReadDocument(c, ref.site, ref.id, false);
      },
      [&](store::DocumentRow& row) { *resp = View(std::move(row), clock_.Now()); }));
}

grpc::Status ArchivesService::ListDocuments(grpc::ServerContext* ctx,
                                            const v1::ListDocumentsRequest* req,
                                            v1::ListDocumentsResponse* resp) {
  absl::StatusOr<std::string> site = kit::ParseSiteParent("parent", req->parent());
  if (!site.ok()) return ToGrpc(site.status());
  if (!req->unit().empty()) RETURN_GRPC_IF_ERROR(CheckUnitName("unit", req->unit(), *site));
  if (!v1::DocumentCategory_IsValid(req->category())) {
    return ToGrpc(FieldError("category", "unknown"));
  }
  if (!v1::DocumentState_IsValid(req->state())) return ToGrpc(FieldError("state", "unknown"));
  RETURN_GRPC_IF_ERROR(kit::CheckText("building", req->building(), 64, false));
  RETURN_GRPC_IF_ERROR(kit::CheckText("box", req->box(), 64, false));
  store::DocumentFilter f{*site,        req->unit(),     req->category(),
                          req->state(), req->building(), req->box()};
  const absl::Time now = clock_.Now();
  return ToGrpc(kit::ListRows(
      db_, kit::DeadlineOf(*ctx), *req, resp->mutable_next_page_token(),
      [&](kit::Conn& c, const kit::Page& page) {
        return store::ListDocuments(c, f, page.after, page.size + 1);
      },
      [](const auto& r) { return r.id; },
      [&](store::DocumentRow& r) { *resp->add_documents() = View(std::move(r), now); }));
}

grpc::Status ArchivesService::UpdateDocument(grpc::ServerContext* ctx,
                                             const v1::UpdateDocumentRequest* req,
                                             v1::Document* resp) {
  absl::StatusOr<kit::SiteId> ref =
      kit::ParseSiteId("document.name", req->document().name(), "documents");
  if (!ref.ok()) return ToGrpc(ref.status());
  RETURN_GRPC_IF_ERROR(kit::CheckRequestId(req->request_id()));
  return ToGrpc(kit::IdempotentWrite(
      db_, kit::DeadlineOf(*ctx), "UpdateDocument", req->request_id(), *req, resp,
      [&](kit::Conn& c) -> absl::Status {
        ASSIGN_OR_RETURN(store::DocumentRow row, store::ReadDocument(c, ref->site, ref->id, true));
        RETURN_IF_ERROR(kit::CheckEtag("document.etag", req->document().etag(), row.version,
                                       "document"));
        ASSIGN_OR_RETURN(std::vector<std::string> changed,
                         kit::ApplyUpdateMask(req->document(), req->update_mask(),
                                              DocumentPaths(), &row.doc));
        RETURN_IF_ERROR(CheckDocument("document", row.doc, ref->site));
        const absl::Time now = clock_.Now();
        if (!changed.empty()) RETURN_IF_ERROR(store::UpdateDocument(c, row, now));
        *resp = View(std::move(row), now);
        return absl::OkStatus();
      }));
}

grpc::Status ArchivesService::LendDocument(grpc::ServerContext* ctx,
                                           const v1::LendDocumentRequest* req, v1::Loan* resp) {
  absl::StatusOr<kit::SiteId> ref = kit::ParseSiteId("name", req->name(), "documents");
  if (!ref.ok()) return ToGrpc(ref.status());
  RETURN_GRPC_IF_ERROR(kit::CheckRequestId(req->request_id()));
  RETURN_GRPC_IF_ERROR(kit::CheckText("borrower", req->borrower(), 200, true));
  RETURN_GRPC_IF_ERROR(kit::CheckText("department", req->department(), 200, false));
  RETURN_GRPC_IF_ERROR(kit::CheckText("purpose", req->purpose(), 500, true));
  RETURN_GRPC_IF_ERROR(kit::CheckText("approver", req->approver(), 200, false));
  if (!req->has_due_time()) return ToGrpc(FieldError("due_time", "required"));
  absl::StatusOr<absl::Time> due = kit::CheckTimestamp("due_time", req->due_time());
  if (!due.ok()) return ToGrpc(due.status());
  if (*due <= clock_.Now()) return ToGrpc(FieldError("due_time", "must be in the future"));
  const std::string actor = kit::CallerOf(*ctx);
  return ToGrpc(kit::IdempotentWrite(
      db_, kit::DeadlineOf(*ctx), "LendDocument", req->request_id(), *req, resp,
      [&](kit::Conn& c) -> absl::Status {
        ASSIGN_OR_RETURN(store::DocumentRow row, store::ReadDocument(c, ref->site, ref->id, true));
        RETURN_IF_ERROR(CheckLend(row.doc.state(), row.doc.confidentiality(), req->borrower(),
                                  req->approver()));
        const absl::Time now = clock_.Now();
        v1::Loan loan;
        loan.set_borrower(req->borrower());
        loan.set_department(req->department());
        loan.set_purpose(req->purpose());
        *loan.mutable_due_time() = req->due_time();
        loan.set_approver(req->approver());
        RETURN_IF_ERROR(store::InsertLoan(c, ref->site, ref->id, loan, actor, now).status());
        row.doc.set_state(v1::LENT);
        RETURN_IF_ERROR(store::UpdateDocument(c, row, now));
        SetOverdue(loan, now);
        *resp = loan;
        return absl::OkStatus();
      }));
}

grpc::Status ArchivesService::ReturnDocument(grpc::ServerContext* ctx,
                                             const v1::ReturnDocumentRequest* req,
                                             v1::Loan* resp) {
  absl::StatusOr<kit::SiteId> ref = kit::ParseSiteId("name", req->name(), "documents");
  if (!ref.ok()) return ToGrpc(ref.status());
  RETURN_GRPC_IF_ERROR(kit::CheckRequestId(req->request_id()));
  RETURN_GRPC_IF_ERROR(kit::CheckText("received_by", req->received_by(), 200, true));
  RETURN_GRPC_IF_ERROR(kit::CheckText("condition", req->condition(), 200, false));
  return ToGrpc(kit::IdempotentWrite(
      db_, kit::DeadlineOf(*ctx), "ReturnDocument", req->request_id(), *req, resp,
      [&](kit::Conn& c) -> absl::Status {
        ASSIGN_OR_RETURN(store::DocumentRow row, store::ReadDocument(c, ref->site, ref->id, true));
        if (row.doc.state() != v1::LENT) {
          return absl::FailedPreconditionError("the document is not lent");
        }
        const absl::Time now = clock_.Now();
        ASSIGN_OR_RETURN(v1::Loan loan,
                         store::CloseLoan(c, ref->site, ref->id, req->received_by(),
                                          req->condition().empty() ? "ok" : req->condition(),
                                          now));
        row.doc.set_state(v1::ON_SHELF);
        RETURN_IF_ERROR(store::UpdateDocument(c, row, now));
        *resp = loan;
        return absl::OkStatus();
      }));
}

grpc::Status ArchivesService::ListLoans(grpc::ServerContext* ctx, const v1::ListLoansRequest* req,
                                        v1::ListLoansResponse* resp) {
  absl::StatusOr<std::string> site = kit::ParseSiteParent("parent", req->parent());
  if (!site.ok()) return ToGrpc(site.status());
  store::LoanFilter f{*site, 0, req->open_only(), req->overdue_only()};
  if (!req->document().empty()) {
    absl::StatusOr<kit::SiteId> doc = kit::ParseSiteId("document", req->document(), "documents");
    if (!doc.ok()) return ToGrpc(doc.status());
    if (doc->site != *site) return ToGrpc(FieldError("document", "must be of the parent site"));
    f.document_id = doc->id;
  }
  const absl::Time now = clock_.Now();
  return ToGrpc(kit::ListRows(
      db_, kit::DeadlineOf(*ctx), *req, resp->mutable_next_page_token(),
      [&](kit::Conn& c, const kit::Page& page) {
        return store::ListLoans(c, f, now, page.after, page.size + 1);
      },
      [](const auto& r) { return r.first; },
      [&](auto& row) {
        auto& [id, loan] = row;
        SetOverdue(loan, now);
        *resp->add_loans() = std::move(loan);
      }));
}

absl::StatusOr<v1::ArchiveAudit> ArchivesService::AuditView(kit::Conn& c,
                                                            const std::string& site,
                                                            int64_t id) {
  ASSIGN_OR_RETURN(store::AuditRow row, store::ReadAudit(c, site, id, false));
  ASSIGN_OR_RETURN(auto counts, store::CountAuditItems(c, id));
  row.audit.set_expected(static_cast<int32_t>(counts.first));
  row.audit.set_found(static_cast<int32_t>(counts.second));
  if (row.audit.state() == v1::AUDIT_CLOSED) {
    ASSIGN_OR_RETURN(std::vector<store::AuditItem> items, store::AuditItems(c, id, false));
    for (const store::AuditItem& item : items) {
      const std::string doc = absl::StrCat("sites/", site, "/documents/", item.document_id);
      switch (static_cast<AuditOutcome>(item.outcome)) {
        case AuditOutcome::kMissing:
          row.audit.add_missing_documents(doc);
          break;
        case AuditOutcome::kRecovered:
          row.audit.add_recovered_documents(doc);
          break;
        case AuditOutcome::kUnexpected:
          row.audit.add_unexpected_documents(doc);
          break;
        case AuditOutcome::kNone:
          break;
      }
    }
  }
  return row.audit;
}

grpc::Status ArchivesService::StartArchiveAudit(grpc::ServerContext* ctx,
                                                const v1::StartArchiveAuditRequest* req,
                                                v1::ArchiveAudit* resp) {
  absl::StatusOr<std::string> site = kit::ParseSiteParent("parent", req->parent());
  if (!site.ok()) return ToGrpc(site.status());
  RETURN_GRPC_IF_ERROR(kit::CheckRequestId(req->request_id()));
  RETURN_GRPC_IF_ERROR(kit::CheckText("audit.building", req->audit().building(), 64, true));
  RETURN_GRPC_IF_ERROR(kit::CheckText("audit.box", req->audit().box(), 64, false));
  const std::string actor = kit::CallerOf(*ctx);
  return ToGrpc(kit::IdempotentWrite(
      db_, kit::DeadlineOf(*ctx), "StartArchiveAudit", req->request_id(), *req, resp,
      [&](kit::Conn& c) -> absl::Status {
        ASSIGN_OR_RETURN(int64_t id, store::InsertAudit(c, *site, req->audit().building(),
                                                        req->audit().box(), actor, clock_.Now()));
        ASSIGN_OR_RETURN(*resp, AuditView(c, *site, id));
        return absl::OkStatus();
      }));
}

grpc::Status ArchivesService::GetArchiveAudit(grpc::ServerContext* ctx,
                                              const v1::GetArchiveAuditRequest* req,
                                              v1::ArchiveAudit* resp) {
  return ToGrpc(kit::GetOne(
      db_, kit::DeadlineOf(*ctx), req->name(), "archiveAudits",
      [&](kit::Conn& c, const kit::SiteId& ref) { return AuditView(c, ref.site, ref.id); },
      [&](v1::ArchiveAudit& audit) { *resp = std::move(audit); }));
}

grpc::Status ArchivesService::MarkDocumentFound(grpc::ServerContext* ctx,
                                                const v1::MarkDocumentFoundRequest* req,
                                                v1::ArchiveAudit* resp) {
  absl::StatusOr<kit::SiteId> ref = kit::ParseSiteId("name", req->name(), "archiveAudits");
  if (!ref.ok()) return ToGrpc(ref.status());
  absl::StatusOr<kit::SiteId> doc = kit::ParseSiteId("document", req->document(), "documents");
  if (!doc.ok()) return ToGrpc(doc.status());
  if (doc->site != ref->site) return ToGrpc(FieldError("document", "must be of the audit's site"));
  RETURN_GRPC_IF_ERROR(kit::CheckRequestId(req->request_id()));
  return ToGrpc(kit::IdempotentWrite(
      db_, kit::DeadlineOf(*ctx), "MarkDocumentFound", req->request_id(), *req, resp,
      [&](kit::Conn& c) -> absl::Status {
        ASSIGN_OR_RETURN(store::AuditRow audit, store::ReadAudit(c, ref->site, ref->id, true));
        if (audit.audit.state() != v1::AUDIT_OPEN) {
          return absl::FailedPreconditionError("the audit is closed");
        }
        RETURN_IF_ERROR(store::ReadDocument(c, doc->site, doc->id, false).status());
        RETURN_IF_ERROR(store::MarkFound(c, ref->id, doc->id, clock_.Now()));
        ASSIGN_OR_RETURN(*resp, AuditView(c, ref->site, ref->id));
        return absl::OkStatus();
      }));
}

grpc::Status ArchivesService::CloseArchiveAudit(grpc::ServerContext* ctx,
                                                const v1::CloseArchiveAuditRequest* req,
                                                v1::ArchiveAudit* resp) {
  absl::StatusOr<kit::SiteId> ref = kit::ParseSiteId("name", req->name(), "archiveAudits");
  if (!ref.ok()) return ToGrpc(ref.status());
  RETURN_GRPC_IF_ERROR(kit::CheckRequestId(req->request_id()));
  const std::string actor = kit::CallerOf(*ctx);
  return ToGrpc(kit::IdempotentWrite(
      db_, kit::DeadlineOf(*ctx), "CloseArchiveAudit", req->request_id(), *req, resp,
      [&](kit::Conn& c) -> absl::Status {
        ASSIGN_OR_RETURN(store::AuditRow audit, store::ReadAudit(c, ref->site, ref->id, true));
        if (audit.audit.state() != v1::AUDIT_OPEN) {
          return absl::FailedPreconditionError("the audit is already closed");
        }
        ASSIGN_OR_RETURN(std::vector<store::AuditItem> items,
                         store::AuditItems(c, ref->id, true));
        std::vector<v1::DocumentState> states;
        states.reserve(items.size());
        for (store::AuditItem& item : items) {
          const AuditOutcome outcome = OutcomeOf(item.expected, item.found, item.state);
          item.outcome = static_cast<int>(outcome);
          states.push_back(StateAfter(outcome, item.state));
        }
        RETURN_IF_ERROR(store::CloseAudit(c, ref->id, items, states, actor, clock_.Now()));
        ASSIGN_OR_RETURN(*resp, AuditView(c, ref->site, ref->id));
        return absl::OkStatus();
      }));
}

}  // namespace archives
