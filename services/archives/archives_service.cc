#include "services/archives/archives_service.h"

#include <map>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
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
#include "services/kit/validate.h"

namespace archives {

using kit::FieldError;
using kit::ToGrpc;

namespace {

absl::Status CheckHolder(absl::string_view field, const v1::Holder& h) {
  if (h.kind() < v1::STAFF || h.kind() > v1::OWNER) {
    return FieldError(absl::StrCat(field, ".kind"), "required: STAFF, CONTRACTOR or OWNER");
  }
  RETURN_IF_ERROR(kit::CheckText(absl::StrCat(field, ".name"), h.name(), 200, true));
  RETURN_IF_ERROR(kit::CheckText(absl::StrCat(field, ".phone"), h.phone(), 64, false));
  return kit::CheckText(absl::StrCat(field, ".organization"), h.organization(), 200, false);
}

void SetCustody(v1::Custody* out, const store::CustodyRow& c) {
  *out->mutable_holder() = c.holder;
  out->set_purpose(c.purpose);
  out->set_reference(c.reference);
  kit::SetTimestamp(out->mutable_from(), c.from);
  if (c.to) kit::SetTimestamp(out->mutable_to(), *c.to);
  out->set_recorded_by(c.recorded_by);
  out->set_returned_condition(c.returned_condition);
  out->set_lost(c.lost);
}

v1::Key KeyView(const store::KeyRow& k, absl::Time now) {
  v1::Key out;
  out.set_name(absl::StrCat("sites/", k.site, "/keys/", k.id));
  out.set_kind(k.kind);
  out.set_tag(k.tag);
  out.set_unit(k.unit);
  out.set_key_set(k.key_set);
  out.set_master(k.master);
  out.set_cabinet_slot(k.cabinet_slot);
  out.set_state(k.state);
  if (k.open.has_value()) {
    *out.mutable_holder() = k.open->holder;
    out.set_purpose(k.open->purpose);
    kit::SetTimestamp(out.mutable_out_since(), k.open->from);
    if (k.open->due_back) kit::SetTimestamp(out.mutable_due_back(), *k.open->due_back);
    out.set_reference(k.open->reference);
    out.set_overdue(IsOverdue(k.state, k.open->due_back, now));
  }
  out.set_etag(kit::Etag(k.version));
  kit::SetTimestamp(out.mutable_create_time(), k.created_at);
  return out;
}

}  // namespace

ArchivesService::ArchivesService(kit::Db& db, const kit::Clock& clock,
                                 prometheus::Registry& registry)
    : db_(db),
      clock_(clock),
      out_(prometheus::BuildGauge()
               .Name("estate_archives_keys_out")
               .Help("Keys checked out of the cabinet, by site; read from the database, so "
                     "every replica reports the same value (use max).")
               .Register(registry)),
      overdue_(prometheus::BuildGauge()
                   .Name("estate_archives_keys_overdue")
                   .Help("Keys out past their due time, by site.")
                   .Register(registry)),
      conflicts_(prometheus::BuildCounter()
                     .Name("estate_archives_key_checkout_conflicts_total")
                     .Help("Check-outs refused because the key was not in the cabinet.")
                     .Register(registry)),
      documents_lent_(prometheus::BuildGauge()
                          .Name("estate_archives_documents_lent")
                          .Help("Archive documents out on loan, by site; read from the "
                                "database (use max across replicas).")
                          .Register(registry)),
      documents_overdue_(prometheus::BuildGauge()
                             .Name("estate_archives_documents_overdue")
                             .Help("Archive documents on loan past their due time, by site.")
                             .Register(registry)),
      documents_missing_(prometheus::BuildGauge()
                             .Name("estate_archives_documents_missing")
                             .Help("Archive documents an audit expected and did not find, "
                                   "not yet recovered, by site.")
                             .Register(registry)) {}

grpc::Status ArchivesService::CreateKey(grpc::ServerContext* ctx, const v1::CreateKeyRequest* req,
                                        v1::Key* resp) {
  absl::StatusOr<std::string> site = kit::ParseSiteParent("parent", req->parent());
  if (!site.ok()) return ToGrpc(site.status());
  RETURN_GRPC_IF_ERROR(kit::CheckRequestId(req->request_id()));
  const v1::Key& in = req->key();
  if (in.kind() < v1::UNIT_KEY || in.kind() > v1::EQUIPMENT_KEY) {
    return ToGrpc(FieldError("key.kind", "required: UNIT_KEY, ACCESS_CARD, MAILBOX_KEY or EQUIPMENT_KEY"));
  }
  RETURN_GRPC_IF_ERROR(kit::CheckText("key.tag", in.tag(), 64, true));
  if (in.kind() != v1::EQUIPMENT_KEY || !in.unit().empty()) {
    RETURN_GRPC_IF_ERROR(CheckUnitName("key.unit", in.unit(), *site));
  }
  RETURN_GRPC_IF_ERROR(kit::CheckText("key.key_set", in.key_set(), 32, false));
  RETURN_GRPC_IF_ERROR(kit::CheckText("key.cabinet_slot", in.cabinet_slot(), 32, false));
  store::KeyRow k;
  k.site = *site;
  k.kind = in.kind();
  k.tag = in.tag();
  k.unit = in.unit();
  k.key_set = in.key_set();
  k.master = in.master();
  k.cabinet_slot = in.cabinet_slot();
  const std::string actor = kit::CallerOf(*ctx);
  return ToGrpc(kit::IdempotentWrite(
      db_, kit::DeadlineOf(*ctx), "CreateKey", req->request_id(), *req, resp,
      [&](kit::Conn& c) -> absl::Status {
        const absl::Time now = clock_.Now();
        absl::StatusOr<int64_t> id = store::InsertKey(c, k, actor, now);
        if (!id.ok()) return id.status();
        k.id = *id;
        *resp = KeyView(k, now);
        return absl::OkStatus();
      }));
}

grpc::Status ArchivesService::GetKey(grpc::ServerContext* ctx, const v1::GetKeyRequest* req,
                                     v1::Key* resp) {
  return ToGrpc(kit::GetOne(
      db_, kit::DeadlineOf(*ctx), req->name(), "keys",
      [&](kit::Conn& c, const kit::SiteId& ref) {
        return store::ReadKey(c, ref.site, ref.id, false);
      },
      [&](const store::KeyRow& k) { *resp = KeyView(k, clock_.Now()); }));
}

grpc::Status ArchivesService::ListKeys(grpc::ServerContext* ctx, const v1::ListKeysRequest* req,
                                       v1::ListKeysResponse* resp) {
  absl::StatusOr<std::string> site = kit::ParseSiteParent("parent", req->parent());
  if (!site.ok()) return ToGrpc(site.status());
  if (!req->unit().empty()) RETURN_GRPC_IF_ERROR(CheckUnitName("unit", req->unit(), *site));
  if (!v1::KeyState_IsValid(req->state())) return ToGrpc(FieldError("state", "unknown"));
  if (!v1::KeyKind_IsValid(req->kind())) return ToGrpc(FieldError("kind", "unknown"));
  store::KeyFilter f{*site, req->unit(), req->state(), req->kind(), req->overdue_only()};
  const absl::Time now = clock_.Now();
  return ToGrpc(kit::ListRows(
      db_, kit::DeadlineOf(*ctx), *req, resp->mutable_next_page_token(),
      [&](kit::Conn& c, const kit::Page& page) {
        return store::ListKeys(c, f, now, page.after, page.size + 1);
      },
      [](const auto& r) { return r.id; },
      [&](const store::KeyRow& k) { *resp->add_keys() = KeyView(k, now); }));
}

grpc::Status ArchivesService::Move(grpc::ServerContext* ctx, const char* method,
                                   const google::protobuf::Message& req, const std::string& name,
                                   const std::string& request_id, KeyMove move,
                                   const Apply& apply, v1::Key* resp) {
  absl::StatusOr<kit::SiteId> ref = kit::ParseSiteId("name", name, "keys");
  if (!ref.ok()) return ToGrpc(ref.status());
  RETURN_GRPC_IF_ERROR(kit::CheckRequestId(request_id));
  bool conflict = false;
  grpc::Status s = ToGrpc(kit::IdempotentWrite(
      db_, kit::DeadlineOf(*ctx), method, request_id, req, resp,
      [&](kit::Conn& c) -> absl::Status {
        conflict = false;
        const absl::Time now = clock_.Now();
        ASSIGN_OR_RETURN(store::KeyRow k, store::ReadKey(c, ref->site, ref->id, true));
        if (absl::Status ok = CheckMove(k.state, k.master, move); !ok.ok()) {
          conflict = move == KeyMove::kCheckOut && k.state == v1::CHECKED_OUT;
          return ok;
        }
        RETURN_IF_ERROR(apply(c, k, now));
        RETURN_IF_ERROR(store::SetState(c, k, StateAfter(move), now));
        ASSIGN_OR_RETURN(store::KeyRow after, store::ReadKey(c, ref->site, ref->id, false));
        *resp = KeyView(after, now);
        return absl::OkStatus();
      }));
  if (conflict) conflicts_.Add({{"site", ref->site}}).Increment();
  return s;
}

grpc::Status ArchivesService::CheckOutKey(grpc::ServerContext* ctx,
                                          const v1::CheckOutKeyRequest* req, v1::Key* resp) {
  RETURN_GRPC_IF_ERROR(CheckHolder("holder", req->holder()));
  if (req->purpose() < v1::REPAIR || req->purpose() > v1::HANDOVER) {
    return ToGrpc(FieldError("purpose", "required: REPAIR, VACANT_UNIT_INSPECTION, CLEANING, "
                                        "VIEWING or HANDOVER"));
  }
  std::optional<absl::Time> due;
  if (req->has_due_back()) {
    absl::StatusOr<absl::Time> t = kit::CheckTimestamp("due_back", req->due_back());
    if (!t.ok()) return ToGrpc(t.status());
    if (*t <= clock_.Now()) return ToGrpc(FieldError("due_back", "must be in the future"));
    due = *t;
  }
  RETURN_GRPC_IF_ERROR(kit::CheckText("reference", req->reference(), 160, false));
  const std::string actor = kit::CallerOf(*ctx);
  return Move(ctx, "CheckOutKey", *req, req->name(), req->request_id(), KeyMove::kCheckOut,
              [&](kit::Conn& c, store::KeyRow& k, absl::Time now) {
                store::CustodyRow row;
                row.holder = req->holder();
                row.purpose = req->purpose();
                row.reference = req->reference();
                row.from = now;
                row.due_back = due;
                row.recorded_by = actor;
                return store::OpenCustody(c, k, row);
              },
              resp);
}

grpc::Status ArchivesService::CheckInKey(grpc::ServerContext* ctx,
                                         const v1::CheckInKeyRequest* req, v1::Key* resp) {
  RETURN_GRPC_IF_ERROR(kit::CheckText("condition", req->condition(), 200, false));
  RETURN_GRPC_IF_ERROR(kit::CheckText("received_by", req->received_by(), 128, false));
  return Move(ctx, "CheckInKey", *req, req->name(), req->request_id(), KeyMove::kCheckIn,
              [&](kit::Conn& c, store::KeyRow& k, absl::Time now) {
                return store::CloseCustody(c, k.id, now,
                                           req->condition().empty() ? "ok" : req->condition(),
                                           false);
              },
              resp);
}

grpc::Status ArchivesService::ReportKeyLost(grpc::ServerContext* ctx,
                                            const v1::ReportKeyLostRequest* req, v1::Key* resp) {
  RETURN_GRPC_IF_ERROR(kit::CheckText("note", req->note(), 500, false));
  return Move(ctx, "ReportKeyLost", *req, req->name(), req->request_id(), KeyMove::kLose,
              [&](kit::Conn& c, store::KeyRow& k, absl::Time now) -> absl::Status {
                if (!k.open.has_value()) return absl::OkStatus();
                return store::CloseCustody(c, k.id, now, req->note(), true);
              },
              resp);
}

grpc::Status ArchivesService::ReportKeyFound(grpc::ServerContext* ctx,
                                             const v1::ReportKeyFoundRequest* req,
                                             v1::Key* resp) {
  RETURN_GRPC_IF_ERROR(kit::CheckText("note", req->note(), 500, false));
  return Move(ctx, "ReportKeyFound", *req, req->name(), req->request_id(), KeyMove::kFind,
              [](kit::Conn&, store::KeyRow&, absl::Time) { return absl::OkStatus(); }, resp);
}

grpc::Status ArchivesService::HandOverKey(grpc::ServerContext* ctx,
                                          const v1::HandOverKeyRequest* req, v1::Key* resp) {
  RETURN_GRPC_IF_ERROR(CheckHolder("owner", req->owner()));
  if (req->owner().kind() != v1::OWNER) return ToGrpc(FieldError("owner.kind", "must be OWNER"));
  RETURN_GRPC_IF_ERROR(kit::CheckText("reference", req->reference(), 160, false));
  const std::string actor = kit::CallerOf(*ctx);
  return Move(ctx, "HandOverKey", *req, req->name(), req->request_id(), KeyMove::kHandOver,
              [&](kit::Conn& c, store::KeyRow& k, absl::Time now) -> absl::Status {
                if (!req->unit().empty() && k.unit != req->unit()) {
                  return absl::FailedPreconditionError(absl::StrCat(
                      "unit: the key is ", k.unit.empty() ? "no unit's" : k.unit + "'s",
                      ", not ", req->unit(), "'s"));
                }
                store::CustodyRow row;
                row.holder = req->owner();
                row.purpose = v1::HANDOVER;
                row.reference = req->reference();
                row.from = now;
                row.recorded_by = actor;
                return store::OpenCustody(c, k, row);
              },
              resp);
}

grpc::Status ArchivesService::ListKeyCustody(grpc::ServerContext* ctx,
                                             const v1::ListKeyCustodyRequest* req,
                                             v1::ListKeyCustodyResponse* resp) {
  absl::StatusOr<kit::SiteId> ref = kit::ParseSiteId("name", req->name(), "keys");
  if (!ref.ok()) return ToGrpc(ref.status());
  return ToGrpc(kit::ListRows(
      db_, kit::DeadlineOf(*ctx), *req, resp->mutable_next_page_token(),
      [&](kit::Conn& c, const kit::Page& page) -> absl::StatusOr<std::vector<store::CustodyRow>> {
        RETURN_IF_ERROR(store::ReadKey(c, ref->site, ref->id, false).status());
        return store::ListCustody(c, ref->id, page.after, page.size + 1);
      },
      [](const auto& r) { return r.id; },
      [&](const store::CustodyRow& row) { SetCustody(resp->add_custody(), row); }));
}

grpc::Status ArchivesService::ListUnitAccess(grpc::ServerContext* ctx,
                                             const v1::ListUnitAccessRequest* req,
                                             v1::ListUnitAccessResponse* resp) {
  absl::StatusOr<std::string> site = kit::ParseSiteParent("parent", req->parent());
  if (!site.ok()) return ToGrpc(site.status());
  RETURN_GRPC_IF_ERROR(CheckUnitName("unit", req->unit(), *site));
  if (!req->has_start_time() || !req->has_end_time()) {
    return ToGrpc(FieldError(req->has_start_time() ? "end_time" : "start_time", "required"));
  }
  absl::StatusOr<absl::Time> start = kit::CheckTimestamp("start_time", req->start_time());
  if (!start.ok()) return ToGrpc(start.status());
  absl::StatusOr<absl::Time> end = kit::CheckTimestamp("end_time", req->end_time());
  if (!end.ok()) return ToGrpc(end.status());
  if (*end <= *start) return ToGrpc(FieldError("end_time", "must be after start_time"));
  return ToGrpc(db_.Run(kit::DeadlineOf(*ctx), [&](kit::Conn& c) -> absl::Status {
    ASSIGN_OR_RETURN(auto rows, store::UnitAccess(c, *site, req->unit(), *start, *end));
    for (const store::UnitCustody& u : rows) {
      v1::UnitAccess* out = resp->add_access();
      out->set_key(absl::StrCat("sites/", *site, "/keys/", u.key_id));
      out->set_tag(u.tag);
      SetCustody(out->mutable_custody(), u.custody);
    }
    ASSIGN_OR_RETURN(auto lost, store::LostKeys(c, *site, req->unit(), *end));
    for (const auto& [id, tag] : lost) resp->add_lost_keys(absl::StrCat("sites/", *site, "/keys/", id));
    return absl::OkStatus();
  }));
}

grpc::Status ArchivesService::GetKeyCounts(grpc::ServerContext* ctx,
                                           const v1::GetKeyCountsRequest* req,
                                           v1::KeyCounts* resp) {
  absl::StatusOr<std::string> site = kit::ParseSiteParent("parent", req->parent());
  if (!site.ok()) return ToGrpc(site.status());
  return ToGrpc(db_.Run(kit::DeadlineOf(*ctx), [&](kit::Conn& c) -> absl::Status {
    ASSIGN_OR_RETURN(auto rows, store::CountKeys(c, *site, clock_.Now()));
    std::map<int, v1::KindCount> by_kind;
    for (const store::KindStateCount& r : rows) {
      v1::KindCount& k = by_kind[r.kind];
      k.set_kind(r.kind);
      if (r.state != v1::RETIRED) k.set_total(k.total() + r.count);
      switch (r.state) {
        case v1::IN_CABINET:
          k.set_in_cabinet(k.in_cabinet() + r.count);
          break;
        case v1::CHECKED_OUT:
          k.set_out(k.out() + r.count);
          k.set_overdue(k.overdue() + r.overdue);
          break;
        case v1::WITH_OWNER:
          k.set_with_owner(k.with_owner() + r.count);
          break;
        case v1::LOST:
          k.set_lost(k.lost() + r.count);
          break;
        default:
          break;
      }
    }
    for (auto& [kind, k] : by_kind) *resp->add_kinds() = k;
    return absl::OkStatus();
  }));
}

absl::Status ArchivesService::RefreshGauges() {
  const absl::Time now = clock_.Now();
  return db_.Run(absl::Now() + absl::Seconds(30), [&](kit::Conn& c) -> absl::Status {
    ASSIGN_OR_RETURN(std::vector<kit::Row> sites,
                     c.Query("SELECT DISTINCT site FROM key_register"));
    for (const kit::Row& s : sites) {
      ASSIGN_OR_RETURN(auto rows, store::CountKeys(c, s.Str(0), now));
      int64_t out = 0, overdue = 0;
      for (const store::KindStateCount& r : rows) {
        if (r.state == v1::CHECKED_OUT) out += r.count;
        overdue += r.overdue;
      }
      out_.Add({{"site", s.Str(0)}}).Set(static_cast<double>(out));
      overdue_.Add({{"site", s.Str(0)}}).Set(static_cast<double>(overdue));
    }
    ASSIGN_OR_RETURN(std::vector<store::DocumentCounts> docs, store::CountDocuments(c, now));
    for (const store::DocumentCounts& d : docs) {
      documents_lent_.Add({{"site", d.site}}).Set(static_cast<double>(d.lent));
      documents_overdue_.Add({{"site", d.site}}).Set(static_cast<double>(d.overdue));
      documents_missing_.Add({{"site", d.site}}).Set(static_cast<double>(d.missing));
    }
    return absl::OkStatus();
  });
}

ArchivesService* RegisterArchives(kit::ServiceHost& host, const kit::Clock& clock,
                                  absl::Duration job_interval) {
  auto service = std::make_unique<ArchivesService>(host.db(), clock, host.registry());
  ArchivesService* raw = service.get();
  host.AddService(std::move(service),
                  v1::Key::descriptor()->file()->FindServiceByName("ArchivesService"));
  host.AddJob("archive-gauges", job_interval, [raw] { return raw->RefreshGauges(); });
  return raw;
}

}  // namespace archives
