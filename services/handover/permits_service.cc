#include "services/handover/permits_service.h"

#include <optional>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "services/handover/permit.h"
#include "services/handover/permit_counts.h"
#include "services/kit/errors.h"
#include "services/kit/etag.h"
#include "services/kit/idempotency.h"
#include "services/kit/list.h"
#include "services/kit/outbox.h"
#include "services/kit/rpc_context.h"
#include "services/kit/status_macros.h"
#include "services/kit/validate.h"

namespace handover {

using kit::FieldError;
using kit::ToGrpc;

namespace {

// The permit as the API shows it, given its effects: the tickets and bills
// made, and the calls still on their way or refused.
v1::RenovationPermit ViewOf(const store::PermitRow& row,
                            const std::vector<store::EffectState>& effects) {
  v1::RenovationPermit out = row.body;
  int pending = 0;
  for (const store::EffectState& e : effects) {
    if (!e.result.empty()) {
      if (absl::StartsWith(e.what, "billing")) {
        out.add_bills(e.result);
      } else {
        out.add_tickets(e.result);
      }
    }
    if (e.dead) {
      out.add_needs_attention(absl::StrCat(e.what, ": ", e.last_error));
    } else if (!e.delivered) {
      ++pending;
    }
  }
  out.set_effects_pending(pending);
  return out;
}

absl::StatusOr<v1::RenovationPermit> View(kit::Conn& c, const store::PermitRow& row) {
  ASSIGN_OR_RETURN(store::EffectsByCase effects,
                   store::EffectsOfOwners(c, store::kPermitEffects, {row.id}));
  return ViewOf(row, effects[row.id]);
}

int64_t IdOfName(const std::string& name) { return kit::IdOf(name.substr(name.rfind('/') + 1)); }

// Queues `call` in the caller's transaction, kept against the permit as one
// of its effects: it commits with the move or not at all, and the outbox
// delivers it once, whenever its service is up.
absl::Status Enqueue(kit::Conn& c, const store::PermitRow& row, const PeerCall& call,
                     absl::Time now) {
  ASSIGN_OR_RETURN(int64_t outbox_id,
                   kit::EnqueueCall(c, row.site, call.target, call.method, *call.request, now));
  const std::string what =
      absl::StrCat(call.target, " ", call.method.substr(call.method.rfind('/') + 1));
  return store::AddEffect(c, store::kPermitEffects, row.id, outbox_id, what, call.subject);
}

}  // namespace

RenovationService::RenovationService(kit::Db& db, const kit::Clock& clock,
                                     prometheus::Registry& registry)
    : db_(db),
      clock_(clock),
      violations_(prometheus::BuildCounter()
                      .Name("estate_handover_renovation_violations_total")
                      .Help("Renovation violations found at inspections, by site and kind.")
                      .Register(registry)) {}

grpc::Status RenovationService::CreateRenovationPermit(
    grpc::ServerContext* ctx, const v1::CreateRenovationPermitRequest* req,
    v1::RenovationPermit* resp) {
  absl::StatusOr<std::string> site = kit::ParseSiteParent("parent", req->parent());
  if (!site.ok()) return ToGrpc(site.status());
  RETURN_GRPC_IF_ERROR(kit::CheckRequestId(req->request_id()));
  absl::StatusOr<v1::RenovationPermit> body =
      NewPermit("permit.", *site, req->permit(), clock_.Now());
  if (!body.ok()) return ToGrpc(body.status());
  const std::string actor = kit::CallerOf(*ctx);
  return ToGrpc(kit::IdempotentWrite(
      db_, kit::DeadlineOf(*ctx), "CreateRenovationPermit", req->request_id(), *req, resp,
      [&](kit::Conn& c) -> absl::Status {
        ASSIGN_OR_RETURN(int64_t id, store::CreatePermit(c, *site, *body, actor, clock_.Now()));
        ASSIGN_OR_RETURN(store::PermitRow row, store::ReadPermit(c, *site, id, false));
        ASSIGN_OR_RETURN(*resp, View(c, row));
        return absl::OkStatus();
      }));
}

grpc::Status RenovationService::GetRenovationPermit(grpc::ServerContext* ctx,
                                                    const v1::GetRenovationPermitRequest* req,
                                                    v1::RenovationPermit* resp) {
  return ToGrpc(kit::GetOne(
      db_, kit::DeadlineOf(*ctx), req->name(), "renovationPermits",
      [&](kit::Conn& c, const kit::SiteId& ref) -> absl::StatusOr<v1::RenovationPermit> {
        ASSIGN_OR_RETURN(store::PermitRow row, store::ReadPermit(c, ref.site, ref.id, false));
        return View(c, row);
      },
      [&](v1::RenovationPermit& out) { *resp = std::move(out); }));
}

grpc::Status RenovationService::ListRenovationPermits(
    grpc::ServerContext* ctx, const v1::ListRenovationPermitsRequest* req,
    v1::ListRenovationPermitsResponse* resp) {
  absl::StatusOr<std::string> site = kit::ParseSiteParent("parent", req->parent());
  if (!site.ok()) return ToGrpc(site.status());
  store::PermitFilter f{*site};
  if (!req->unit().empty()) {
    RETURN_GRPC_IF_ERROR(kit::CheckUnitId("unit", req->unit()));
  }
  f.unit = req->unit();
  if (!v1::PermitState_IsValid(req->state())) return ToGrpc(FieldError("state", "unknown"));
  f.state = req->state();
  return ToGrpc(kit::ListRows(
      db_, kit::DeadlineOf(*ctx), *req, resp->mutable_next_page_token(),
      [&](kit::Conn& c,
          const kit::Page& page) -> absl::StatusOr<std::vector<v1::RenovationPermit>> {
        ASSIGN_OR_RETURN(std::vector<store::PermitRow> rows,
                         store::ListPermits(c, f, page.after, page.size + 1));
        // The page's effects in one read, not one per permit.
        std::vector<int64_t> ids;
        ids.reserve(rows.size());
        for (const store::PermitRow& row : rows) ids.push_back(row.id);
        ASSIGN_OR_RETURN(store::EffectsByCase effects,
                         store::EffectsOfOwners(c, store::kPermitEffects, ids));
        std::vector<v1::RenovationPermit> out;
        out.reserve(rows.size());
        for (const store::PermitRow& row : rows) out.push_back(ViewOf(row, effects[row.id]));
        return out;
      },
      [](const v1::RenovationPermit& p) { return IdOfName(p.name()); },
      [&](v1::RenovationPermit& p) { *resp->add_permits() = std::move(p); }));
}

// --- moves ---------------------------------------------------------------------

absl::Status RenovationService::MovePermit(grpc::ServerContext& ctx, const std::string& name,
                                           const std::string& etag,
                                           const std::string& request_id, const char* method,
                                           const google::protobuf::Message& req,
                                           const char* type, Move move,
                                           v1::RenovationPermit* resp) {
  ASSIGN_OR_RETURN(kit::SiteId ref, kit::ParseSiteId("name", name, "renovationPermits"));
  RETURN_IF_ERROR(kit::CheckRequestId(request_id));
  if (etag.empty()) return FieldError("etag", "required (from the last read)");
  const std::string actor = kit::CallerOf(ctx);
  return kit::IdempotentWrite(
      db_, kit::DeadlineOf(ctx), method, request_id, req, resp,
      [&](kit::Conn& c) -> absl::Status {
        ASSIGN_OR_RETURN(store::PermitRow row, store::ReadPermit(c, ref.site, ref.id, true));
        RETURN_IF_ERROR(kit::CheckEtag("etag", etag, row.version, "permit"));
        const v1::PermitState from = row.body.state();
        const absl::Time now = clock_.Now();
        std::string detail;
        RETURN_IF_ERROR(move(c, row, now, &detail));
        RETURN_IF_ERROR(store::SavePermit(c, row, now));
        RETURN_IF_ERROR(store::AddPermitEvent(c, ref.site, ref.id, type, from, row.body.state(),
                                              actor, detail, now));
        ASSIGN_OR_RETURN(*resp, View(c, row));
        return absl::OkStatus();
      });
}

grpc::Status RenovationService::ApproveRenovationPermit(
    grpc::ServerContext* ctx, const v1::ApproveRenovationPermitRequest* req,
    v1::RenovationPermit* resp) {
  // The approver is whoever the gateway let call a MANAGE method.
  const std::string approver = kit::CallerOf(*ctx);
  return ToGrpc(MovePermit(
      *ctx, req->name(), req->etag(), req->request_id(), "ApproveRenovationPermit", *req,
      "approved",
      [&](kit::Conn& c, store::PermitRow& row, absl::Time now,
          std::string* detail) -> absl::Status {
        RETURN_IF_ERROR(Approve(row.body, approver, req->conditions(), now));
        *detail = req->conditions().empty() ? "on the spot, no conditions"
                                            : absl::StrCat("on the spot; ", req->conditions());
        const std::vector<PeerCall> charges = PermitCharges(row.body, row.site);
        for (const PeerCall& call : charges) RETURN_IF_ERROR(Enqueue(c, row, call, now));
        if (!charges.empty()) absl::StrAppend(detail, " (deposit and fee charges queued)");
        return absl::OkStatus();
      },
      resp));
}

grpc::Status RenovationService::RefuseRenovationPermit(
    grpc::ServerContext* ctx, const v1::RefuseRenovationPermitRequest* req,
    v1::RenovationPermit* resp) {
  return ToGrpc(MovePermit(
      *ctx, req->name(), req->etag(), req->request_id(), "RefuseRenovationPermit", *req,
      "refused",
      [&](kit::Conn&, store::PermitRow& row, absl::Time, std::string* detail) -> absl::Status {
        RETURN_IF_ERROR(Refuse(row.body, req->reason()));
        *detail = req->reason();
        return absl::OkStatus();
      },
      resp));
}

grpc::Status RenovationService::RecordRenovationInspection(
    grpc::ServerContext* ctx, const v1::RecordRenovationInspectionRequest* req,
    v1::RenovationPermit* resp) {
  const bool violation = req->violation() != v1::VIOLATION_KIND_UNSPECIFIED;
  std::string site;
  grpc::Status s = ToGrpc(MovePermit(
      *ctx, req->name(), req->etag(), req->request_id(), "RecordRenovationInspection", *req,
      violation ? "violation" : "inspected",
      [&](kit::Conn& c, store::PermitRow& row, absl::Time now,
          std::string* detail) -> absl::Status {
        RETURN_IF_ERROR(Inspect(row.body, req->inspector(), req->note(), req->violation(),
                                req->violation_description(), now));
        if (!violation) {
          *detail = req->note().empty() ? absl::StrCat("by ", req->inspector(), ": in order")
                                        : absl::StrCat("by ", req->inspector(), ": ", req->note());
          return absl::OkStatus();
        }
        // The ticket commits with the suspension or not at all; the outbox
        // delivers it once, whenever tickets is up.
        const v1::RenovationInspection& found =
            row.body.inspections(row.body.inspections_size() - 1);
        PeerCall call = ViolationTicket(row.body, row.site, found);
        RETURN_IF_ERROR(Enqueue(c, row, call, now));
        *detail = absl::StrCat(call.subject, ", found by ", req->inspector(), ": ",
                               req->violation_description(), " (rectification ticket queued)");
        site = row.site;
        return absl::OkStatus();
      },
      resp));
  // A replay (the same request_id again) runs no move and counts nothing.
  if (s.ok() && !site.empty()) {
    violations_.Add({{"site", site}, {"kind", v1::ViolationKind_Name(req->violation())}})
        .Increment();
  }
  return s;
}

grpc::Status RenovationService::ResumeRenovationWork(grpc::ServerContext* ctx,
                                                     const v1::ResumeRenovationWorkRequest* req,
                                                     v1::RenovationPermit* resp) {
  return ToGrpc(MovePermit(
      *ctx, req->name(), req->etag(), req->request_id(), "ResumeRenovationWork", *req, "resumed",
      [&](kit::Conn&, store::PermitRow& row, absl::Time, std::string* detail) -> absl::Status {
        RETURN_IF_ERROR(ResumeWork(row.body, req->note()));
        *detail = req->note();
        return absl::OkStatus();
      },
      resp));
}

grpc::Status RenovationService::CloseRenovationPermit(grpc::ServerContext* ctx,
                                                      const v1::CloseRenovationPermitRequest* req,
                                                      v1::RenovationPermit* resp) {
  return ToGrpc(MovePermit(
      *ctx, req->name(), req->etag(), req->request_id(), "CloseRenovationPermit", *req, "closed",
      [&](kit::Conn& c, store::PermitRow& row, absl::Time now,
          std::string* detail) -> absl::Status {
        RETURN_IF_ERROR(Close(row.body, req->inspector(), req->note(), req->deposit_kept_minor(),
                              req->deposit_kept_reason(), now));
        ASSIGN_OR_RETURN(int64_t ended, store::EndPasses(c, row.id, now));
        *detail = absl::StrCat("closing inspection passed (", req->inspector(), "); ", ended,
                               " pass(es) ended");
        if (std::optional<PeerCall> refund = DepositRefund(row.body, row.site)) {
          RETURN_IF_ERROR(Enqueue(c, row, *refund, now));
          absl::StrAppend(detail, "; deposit refund queued",
                          req->deposit_kept_minor() > 0
                              ? absl::StrCat(", ", req->deposit_kept_minor(),
                                             " kept: ", req->deposit_kept_reason())
                              : "");
        }
        return absl::OkStatus();
      },
      resp));
}

grpc::Status RenovationService::ListPermitEvents(grpc::ServerContext* ctx,
                                                 const v1::ListPermitEventsRequest* req,
                                                 v1::ListPermitEventsResponse* resp) {
  absl::StatusOr<kit::SiteId> ref =
      kit::ParseSiteId("parent", req->parent(), "renovationPermits");
  if (!ref.ok()) return ToGrpc(ref.status());
  return ToGrpc(kit::ListRows(
      db_, kit::DeadlineOf(*ctx), *req, resp->mutable_next_page_token(),
      [&](kit::Conn& c, const kit::Page& page) -> absl::StatusOr<std::vector<v1::PermitEvent>> {
        RETURN_IF_ERROR(store::ReadPermit(c, ref->site, ref->id, false).status());
        return store::ListPermitEvents(c, ref->id, page.after, page.size + 1);
      },
      [](const v1::PermitEvent& e) { return e.sequence(); },
      [&](v1::PermitEvent& e) { *resp->add_events() = std::move(e); }));
}

grpc::Status RenovationService::GetRenovationCounts(grpc::ServerContext* ctx,
                                                    const v1::GetRenovationCountsRequest* req,
                                                    v1::RenovationCounts* resp) {
  absl::StatusOr<std::string> site = kit::ParseSiteParent("parent", req->parent());
  if (!site.ok()) return ToGrpc(site.status());
  absl::StatusOr<HalfYear> half = ParseHalfYear("half_year", req->half_year());
  if (!half.ok()) return ToGrpc(half.status());
  return ToGrpc(db_.Run(kit::DeadlineOf(*ctx), [&](kit::Conn& c) -> absl::Status {
    ASSIGN_OR_RETURN(std::vector<PermitMove> moves, store::PermitMovesAround(c, *site, *half));
    *resp = CountHalfYear(*half, moves, req->parent(), req->half_year());
    return absl::OkStatus();
  }));
}

}  // namespace handover
