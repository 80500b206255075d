// Worker passes of renovation permits: issued, revoked, listed, and checked
// at the gate.
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "services/handover/permit.h"
#include "services/handover/permits_service.h"
#include "services/kit/errors.h"
#include "services/kit/idempotency.h"
#include "services/kit/list.h"
#include "services/kit/proto_time.h"
#include "services/kit/rpc_context.h"
#include "services/kit/status_macros.h"
#include "services/kit/validate.h"

namespace handover {

using kit::ToGrpc;

namespace {

// sites/{site}/renovationPermits/{permit}/workerPasses/{pass}
struct PassRef {
  std::string site;
  int64_t permit_id = 0;
  int64_t id = 0;
};

absl::StatusOr<PassRef> ParsePassName(absl::string_view field, absl::string_view name) {
  ASSIGN_OR_RETURN(std::vector<std::string> ids,
                   kit::ParseName(field, name, {"sites", "renovationPermits", "workerPasses"}));
  return PassRef{ids[0], kit::IdOf(ids[1]), kit::IdOf(ids[2])};
}

}  // namespace

grpc::Status RenovationService::IssueWorkerPass(grpc::ServerContext* ctx,
                                                const v1::IssueWorkerPassRequest* req,
                                                v1::WorkerPass* resp) {
  absl::StatusOr<kit::SiteId> ref =
      kit::ParseSiteId("parent", req->parent(), "renovationPermits");
  if (!ref.ok()) return ToGrpc(ref.status());
  RETURN_GRPC_IF_ERROR(kit::CheckRequestId(req->request_id()));
  const std::string actor = kit::CallerOf(*ctx);
  return ToGrpc(kit::IdempotentWrite(
      db_, kit::DeadlineOf(*ctx), "IssueWorkerPass", req->request_id(), *req, resp,
      [&](kit::Conn& c) -> absl::Status {
        // The permit's lock orders this against a suspension or a close,
        // so no pass is issued on a permit that is stopping.
        ASSIGN_OR_RETURN(store::PermitRow permit, store::ReadPermit(c, ref->site, ref->id, true));
        ASSIGN_OR_RETURN(int active, store::CountActivePasses(c, ref->id));
        const absl::Time now = clock_.Now();
        ASSIGN_OR_RETURN(v1::WorkerPass pass, NewPass(permit.body, req->pass(), active, now));
        pass.set_issued_by(actor);
        ASSIGN_OR_RETURN(int64_t id, store::InsertPass(c, ref->site, ref->id, pass, now));
        ASSIGN_OR_RETURN(store::PassRow row, store::ReadPass(c, ref->site, ref->id, id, false));
        const v1::PermitState state = permit.body.state();
        RETURN_IF_ERROR(store::AddPermitEvent(
            c, ref->site, ref->id, "pass_issued", state, state, actor,
            absl::StrCat(row.body.name(), ": ", pass.worker_name(), ", ", pass.valid_from(),
                         " to ", pass.valid_to()),
            now));
        *resp = std::move(row.body);
        return absl::OkStatus();
      }));
}

grpc::Status RenovationService::RevokeWorkerPass(grpc::ServerContext* ctx,
                                                 const v1::RevokeWorkerPassRequest* req,
                                                 v1::WorkerPass* resp) {
  absl::StatusOr<PassRef> ref = ParsePassName("name", req->name());
  if (!ref.ok()) return ToGrpc(ref.status());
  RETURN_GRPC_IF_ERROR(kit::CheckRequestId(req->request_id()));
  const std::string actor = kit::CallerOf(*ctx);
  return ToGrpc(kit::IdempotentWrite(
      db_, kit::DeadlineOf(*ctx), "RevokeWorkerPass", req->request_id(), *req, resp,
      [&](kit::Conn& c) -> absl::Status {
        // Permit before pass, as a close takes them: no lock waits in a circle.
        ASSIGN_OR_RETURN(store::PermitRow permit,
                         store::ReadPermit(c, ref->site, ref->permit_id, true));
        ASSIGN_OR_RETURN(store::PassRow row,
                         store::ReadPass(c, ref->site, ref->permit_id, ref->id, true));
        const absl::Time now = clock_.Now();
        RETURN_IF_ERROR(Revoke(row.body, req->reason(), now));
        RETURN_IF_ERROR(store::SavePass(c, ref->site, row));
        const v1::PermitState state = permit.body.state();
        RETURN_IF_ERROR(store::AddPermitEvent(
            c, ref->site, ref->permit_id, "pass_revoked", state, state, actor,
            absl::StrCat(row.body.name(), ": ", row.body.worker_name(), "; ", req->reason()),
            now));
        *resp = std::move(row.body);
        return absl::OkStatus();
      }));
}

grpc::Status RenovationService::ListWorkerPasses(grpc::ServerContext* ctx,
                                                 const v1::ListWorkerPassesRequest* req,
                                                 v1::ListWorkerPassesResponse* resp) {
  absl::StatusOr<kit::SiteId> ref =
      kit::ParseSiteId("parent", req->parent(), "renovationPermits");
  if (!ref.ok()) return ToGrpc(ref.status());
  return ToGrpc(kit::ListRows(
      db_, kit::DeadlineOf(*ctx), *req, resp->mutable_next_page_token(),
      [&](kit::Conn& c, const kit::Page& page) -> absl::StatusOr<std::vector<store::PassRow>> {
        RETURN_IF_ERROR(store::ReadPermit(c, ref->site, ref->id, false).status());
        return store::ListPasses(c, ref->site, ref->id, page.after, page.size + 1);
      },
      [](const store::PassRow& r) { return r.id; },
      [&](store::PassRow& r) { *resp->add_passes() = std::move(r.body); }));
}

grpc::Status RenovationService::CheckWorkerPass(grpc::ServerContext* ctx,
                                                const v1::CheckWorkerPassRequest* req,
                                                v1::CheckWorkerPassResponse* resp) {
  absl::StatusOr<PassRef> ref = ParsePassName("name", req->name());
  if (!ref.ok()) return ToGrpc(ref.status());
  absl::Time at = clock_.Now();
  if (req->has_at()) {
    absl::StatusOr<absl::Time> asked = kit::CheckTimestamp("at", req->at());
    if (!asked.ok()) return ToGrpc(asked.status());
    at = *asked;
  }
  return ToGrpc(db_.Run(kit::DeadlineOf(*ctx), [&](kit::Conn& c) -> absl::Status {
    ASSIGN_OR_RETURN(store::PermitRow permit,
                     store::ReadPermit(c, ref->site, ref->permit_id, false));
    ASSIGN_OR_RETURN(store::PassRow pass,
                     store::ReadPass(c, ref->site, ref->permit_id, ref->id, false));
    PassVerdict verdict = CheckPass(permit.body, pass.body, at);
    resp->set_valid(verdict.valid);
    resp->set_denial(verdict.denial);
    resp->set_reason(std::move(verdict.reason));
    resp->set_local_time(std::move(verdict.local_time));
    resp->set_permit_state(permit.body.state());
    kit::SetTimestamp(resp->mutable_at(), at);
    *resp->mutable_pass() = std::move(pass.body);
    return absl::OkStatus();
  }));
}

}  // namespace handover
