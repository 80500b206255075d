#include "services/handover/handover_service.h"

#include <algorithm>
#include <chrono>
#include <optional>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "estate/billing/v1/billing.pb.h"
#include "services/handover/batch.h"
#include "services/handover/completion.h"
#include "services/handover/handover_case.h"
#include "services/handover/permit.h"
#include "services/handover/permit_store.h"
#include "services/handover/permits_service.h"
#include "services/kit/civil_text.h"
#include "services/kit/errors.h"
#include "services/kit/etag.h"
#include "services/kit/idempotency.h"
#include "services/kit/list.h"
#include "services/kit/proto_time.h"
#include "services/kit/rpc_context.h"
#include "services/kit/status_macros.h"
#include "services/kit/validate.h"

namespace handover {

using kit::FieldError;
using kit::ToGrpc;

namespace {

constexpr int kMaxDefects = 100;
constexpr int kMaxKeys = 20;
constexpr int kMaxHousehold = 20;
constexpr int kMaxReadings = 10;

// The case as the API shows it, given its effects: their progress added.
v1::HandoverCase ViewOf(const store::CaseRow& row,
                        const std::vector<store::EffectState>& effects) {
  v1::HandoverCase out = row.body;
  int pending = 0;
  for (const store::EffectState& e : effects) {
    if (!e.result.empty() && !e.subject.empty()) {
      for (v1::Defect& d : *out.mutable_defects()) {
        if (d.name() == e.subject) d.set_ticket(e.result);
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

}  // namespace

HandoverService::HandoverService(kit::Db& db, const kit::Clock& clock,
                                 prometheus::Registry& registry)
    : db_(db),
      clock_(clock),
      outbox_(db, clock, "handoverOutbox"),
      completed_(prometheus::BuildCounter()
                     .Name("estate_handover_cases_completed_total")
                     .Help("Handover cases completed, by site.")
                     .Register(registry)) {}

absl::StatusOr<v1::HandoverCase> HandoverService::View(kit::Conn& c, const store::CaseRow& row) {
  ASSIGN_OR_RETURN(std::vector<store::EffectState> effects, store::EffectsOf(c, row.id));
  return ViewOf(row, effects);
}

// --- batches -------------------------------------------------------------------

grpc::Status HandoverService::CreateHandoverBatch(grpc::ServerContext* ctx,
                                                  const v1::CreateHandoverBatchRequest* req,
                                                  v1::HandoverBatch* resp) {
  absl::StatusOr<std::string> site = kit::ParseSiteParent("parent", req->parent());
  if (!site.ok()) return ToGrpc(site.status());
  RETURN_GRPC_IF_ERROR(kit::CheckRequestId(req->request_id()));
  v1::HandoverBatch spec = req->batch();
  RETURN_GRPC_IF_ERROR(CheckBatch(spec, *site));
  const std::string actor = kit::CallerOf(*ctx);
  return ToGrpc(kit::IdempotentWrite(
      db_, kit::DeadlineOf(*ctx), "CreateHandoverBatch", req->request_id(), *req, resp,
      [&](kit::Conn& c) -> absl::Status {
        ASSIGN_OR_RETURN(int64_t id, store::InsertBatch(c, *site, spec, actor, clock_.Now()));
        ASSIGN_OR_RETURN(store::BatchRow row, store::ReadBatch(c, *site, id));
        *resp = row.spec;
        return absl::OkStatus();
      }));
}

grpc::Status HandoverService::GetHandoverBatch(grpc::ServerContext* ctx,
                                               const v1::GetHandoverBatchRequest* req,
                                               v1::HandoverBatch* resp) {
  return ToGrpc(kit::GetOne(
      db_, kit::DeadlineOf(*ctx), req->name(), "handoverBatches",
      [&](kit::Conn& c, const kit::SiteId& ref) { return store::ReadBatch(c, ref.site, ref.id); },
      [&](store::BatchRow& row) { *resp = std::move(row.spec); }));
}

grpc::Status HandoverService::ListHandoverBatches(grpc::ServerContext* ctx,
                                                  const v1::ListHandoverBatchesRequest* req,
                                                  v1::ListHandoverBatchesResponse* resp) {
  return ToGrpc(kit::ListPage(
      db_, kit::DeadlineOf(*ctx), *req, resp->mutable_next_page_token(),
      [&](kit::Conn& c, const std::string& site, const kit::Page& page) {
        return store::ListBatches(c, site, page.after, page.size + 1);
      },
      [](const store::BatchRow& r) { return r.id; },
      [&](store::BatchRow& r) { *resp->add_batches() = std::move(r.spec); }));
}

// --- cases ---------------------------------------------------------------------

grpc::Status HandoverService::CreateHandoverCase(grpc::ServerContext* ctx,
                                                 const v1::CreateHandoverCaseRequest* req,
                                                 v1::HandoverCase* resp) {
  absl::StatusOr<std::string> site = kit::ParseSiteParent("parent", req->parent());
  if (!site.ok()) return ToGrpc(site.status());
  RETURN_GRPC_IF_ERROR(kit::CheckRequestId(req->request_id()));
  const v1::HandoverCase& in = req->handover_case();
  absl::StatusOr<kit::SiteId> batch =
      kit::ParseSiteId("handover_case.batch", in.batch(), "handoverBatches");
  if (!batch.ok()) return ToGrpc(batch.status());
  if (batch->site != *site) {
    return ToGrpc(FieldError("handover_case.batch", "must be a batch of the parent site"));
  }
  absl::StatusOr<v1::HandoverCase> body = NewCase("handover_case.", in);
  if (!body.ok()) return ToGrpc(body.status());
  const std::string actor = kit::CallerOf(*ctx);
  return ToGrpc(kit::IdempotentWrite(
      db_, kit::DeadlineOf(*ctx), "CreateHandoverCase", req->request_id(), *req, resp,
      [&](kit::Conn& c) -> absl::Status {
        absl::StatusOr<store::BatchRow> b = store::ReadBatch(c, *site, batch->id);
        if (absl::IsNotFound(b.status())) {
          return FieldError("handover_case.batch", "no such batch");
        }
        RETURN_IF_ERROR(b.status());
        ASSIGN_OR_RETURN(int64_t id, store::CreateCase(c, *site, batch->id, *body, actor,
                                                        in.unit(), clock_.Now()));
        ASSIGN_OR_RETURN(store::CaseRow row, store::ReadCase(c, *site, id, false));
        ASSIGN_OR_RETURN(*resp, View(c, row));
        return absl::OkStatus();
      }));
}

grpc::Status HandoverService::GetHandoverCase(grpc::ServerContext* ctx,
                                              const v1::GetHandoverCaseRequest* req,
                                              v1::HandoverCase* resp) {
  return ToGrpc(kit::GetOne(
      db_, kit::DeadlineOf(*ctx), req->name(), "handoverCases",
      [&](kit::Conn& c, const kit::SiteId& ref) -> absl::StatusOr<v1::HandoverCase> {
        ASSIGN_OR_RETURN(store::CaseRow row, store::ReadCase(c, ref.site, ref.id, false));
        return View(c, row);
      },
      [&](v1::HandoverCase& out) {
        *resp = std::move(out);
        AddTicketStates(*ctx, *resp);
      }));
}

void HandoverService::AddTicketStates(const grpc::ServerContext& ctx, v1::HandoverCase& c) {
  if (tickets_ == nullptr) return;
  // A read for the person looking at the case, not a change: asked
  // directly, briefly, and left out if tickets is slow or down.
  const auto budget = std::min(ctx.deadline(), std::chrono::system_clock::now() +
                                                   std::chrono::milliseconds(500));
  for (v1::Defect& d : *c.mutable_defects()) {
    if (d.ticket().empty()) continue;
    grpc::ClientContext call;
    call.set_deadline(budget);
    if (identity_ == nullptr || !identity_->Attach(call, "tickets", "service:handover").ok()) return;
    ::estate::tickets::v1::GetTicketRequest req;
    req.set_name(d.ticket());
    ::estate::tickets::v1::Ticket ticket;
    if (!tickets_->GetTicket(&call, req, &ticket).ok()) return;
    d.set_ticket_state(::estate::tickets::v1::TicketStatus_Name(ticket.status()));
  }
}

grpc::Status HandoverService::ListHandoverCases(grpc::ServerContext* ctx,
                                                const v1::ListHandoverCasesRequest* req,
                                                v1::ListHandoverCasesResponse* resp) {
  absl::StatusOr<std::string> site = kit::ParseSiteParent("parent", req->parent());
  if (!site.ok()) return ToGrpc(site.status());
  store::CaseFilter f{*site};
  if (!req->batch().empty()) {
    absl::StatusOr<kit::SiteId> batch = kit::ParseSiteId("batch", req->batch(), "handoverBatches");
    if (!batch.ok()) return ToGrpc(batch.status());
    if (batch->site != *site) return ToGrpc(FieldError("batch", "must be of the parent site"));
    f.batch_id = batch->id;
  }
  if (!v1::CaseState_IsValid(req->state())) return ToGrpc(FieldError("state", "unknown"));
  f.state = req->state();
  return ToGrpc(kit::ListRows(
      db_, kit::DeadlineOf(*ctx), *req, resp->mutable_next_page_token(),
      [&](kit::Conn& c, const kit::Page& page) -> absl::StatusOr<std::vector<v1::HandoverCase>> {
        ASSIGN_OR_RETURN(std::vector<store::CaseRow> rows,
                         store::ListCases(c, f, page.after, page.size + 1));
        // The page's effects in one read, not one per case.
        std::vector<int64_t> ids;
        ids.reserve(rows.size());
        for (const store::CaseRow& row : rows) ids.push_back(row.id);
        ASSIGN_OR_RETURN(store::EffectsByCase effects,
                         store::EffectsOfOwners(c, store::kCaseEffects, ids));
        std::vector<v1::HandoverCase> out;
        out.reserve(rows.size());
        for (const store::CaseRow& row : rows) out.push_back(ViewOf(row, effects[row.id]));
        return out;
      },
      [](const v1::HandoverCase& v) { return kit::IdOf(v.name().substr(v.name().rfind('/') + 1)); },
      [&](v1::HandoverCase& v) { *resp->add_cases() = std::move(v); }));
}

// --- moves ---------------------------------------------------------------------

absl::Status HandoverService::MoveCase(grpc::ServerContext& ctx, absl::string_view name_field,
                                       const std::string& name, const std::string& etag,
                                       const std::string& request_id, const char* method,
                                       const google::protobuf::Message& req, const char* type,
                                       Move move, v1::HandoverCase* resp) {
  ASSIGN_OR_RETURN(kit::SiteId ref, kit::ParseSiteId(name_field, name, "handoverCases"));
  return MoveCase(ctx, ref, etag, request_id, method, req, type, std::move(move), resp);
}

absl::Status HandoverService::MoveCase(grpc::ServerContext& ctx, const kit::SiteId& ref,
                                       const std::string& etag, const std::string& request_id,
                                       const char* method, const google::protobuf::Message& req,
                                       const char* type, Move move, v1::HandoverCase* resp) {
  RETURN_IF_ERROR(kit::CheckRequestId(request_id));
  if (etag.empty()) return FieldError("etag", "required (from the last read)");
  const std::string actor = kit::CallerOf(ctx);
  return kit::IdempotentWrite(
      db_, kit::DeadlineOf(ctx), method, request_id, req, resp,
      [&](kit::Conn& c) -> absl::Status {
        ASSIGN_OR_RETURN(store::CaseRow row, store::ReadCase(c, ref.site, ref.id, true));
        RETURN_IF_ERROR(kit::CheckEtag("etag", etag, row.version, "case"));
        const v1::CaseState from = row.body.state();
        std::string detail;
        RETURN_IF_ERROR(move(c, row, &detail));
        const absl::Time now = clock_.Now();
        RETURN_IF_ERROR(store::SaveCase(c, row, now));
        RETURN_IF_ERROR(store::AddEvent(c, ref.site, ref.id, type, from, row.body.state(), actor,
                                        detail, now));
        ASSIGN_OR_RETURN(*resp, View(c, row));
        return absl::OkStatus();
      });
}

grpc::Status HandoverService::ScheduleInspection(grpc::ServerContext* ctx,
                                                 const v1::ScheduleInspectionRequest* req,
                                                 v1::HandoverCase* resp) {
  return ToGrpc(MoveCase(
      *ctx, "name", req->name(), req->etag(), req->request_id(), "ScheduleInspection", *req,
      "scheduled",
      [&](kit::Conn& c, store::CaseRow& row, std::string* detail) -> absl::Status {
        ASSIGN_OR_RETURN(store::BatchRow batch, store::ReadBatch(c, row.site, row.batch_id));
        RETURN_IF_ERROR(CheckAppointment(batch.spec, req->appointment()));
        RETURN_IF_ERROR(Schedule(row.body, req->appointment()));
        const absl::Time start = kit::FromTimestamp(req->appointment().start_time());
        RETURN_IF_ERROR(
            store::BookSlot(c, row.site, row.id, req->appointment().inspector(), start));
        *detail = absl::StrCat(req->appointment().inspector(), " at ",
                               absl::FormatTime("%Y-%m-%d %H:%M",
                                                start, absl::UTCTimeZone()),
                               " UTC");
        return absl::OkStatus();
      },
      resp));
}

grpc::Status HandoverService::RecordInspection(grpc::ServerContext* ctx,
                                               const v1::RecordInspectionRequest* req,
                                               v1::HandoverCase* resp) {
  if (req->defects_size() > kMaxDefects) {
    return ToGrpc(FieldError("defects", absl::StrCat("at most ", kMaxDefects)));
  }
  const std::vector<v1::ChecklistResult> results(req->checklist().begin(), req->checklist().end());
  const std::vector<v1::Defect> defects(req->defects().begin(), req->defects().end());
  return ToGrpc(MoveCase(
      *ctx, "name", req->name(), req->etag(), req->request_id(), "RecordInspection", *req,
      "inspected",
      [&](kit::Conn& c, store::CaseRow& row, std::string* detail) -> absl::Status {
        ASSIGN_OR_RETURN(store::BatchRow batch, store::ReadBatch(c, row.site, row.batch_id));
        int64_t next_id = 1;
        for (const v1::Defect& d : row.body.defects()) next_id = std::max(next_id, DefectId(d) + 1);
        RETURN_IF_ERROR(Inspect(row.body, batch.spec, results, defects, next_id, clock_.Now()));
        // The inspector's slot is used: free it for the next booking.
        RETURN_IF_ERROR(store::FreeSlot(c, row.id));
        *detail = absl::StrCat(defects.size(), " defect(s)");
        return absl::OkStatus();
      },
      resp));
}

grpc::Status HandoverService::FixDefect(grpc::ServerContext* ctx, const v1::FixDefectRequest* req,
                                        v1::HandoverCase* resp) {
  absl::StatusOr<std::vector<std::string>> ids =
      kit::ParseName("defect", req->defect(), {"sites", "handoverCases", "defects"});
  if (!ids.ok()) return ToGrpc(ids.status());
  const kit::SiteId case_ref{(*ids)[0], kit::IdOf((*ids)[1])};
  const int64_t defect_id = kit::IdOf((*ids)[2]);
  return ToGrpc(MoveCase(
      *ctx, case_ref, req->etag(), req->request_id(), "FixDefect", *req, "defect_fixed",
      [&](kit::Conn&, store::CaseRow& row, std::string* detail) -> absl::Status {
        RETURN_IF_ERROR(handover::FixDefect(row.body, defect_id, clock_.Now()));
        *detail = req->defect();
        return absl::OkStatus();
      },
      resp));
}

grpc::Status HandoverService::AcceptHandover(grpc::ServerContext* ctx,
                                             const v1::AcceptHandoverRequest* req,
                                             v1::HandoverCase* resp) {
  return ToGrpc(MoveCase(
      *ctx, "name", req->name(), req->etag(), req->request_id(), "AcceptHandover", *req,
      "accepted",
      [&](kit::Conn& c, store::CaseRow& row, std::string* detail) -> absl::Status {
        RETURN_IF_ERROR(Accept(row.body, req->accepted_by(), req->signature_ref(), clock_.Now()));
        RETURN_IF_ERROR(store::FreeSlot(c, row.id));
        *detail = req->accepted_by();
        return absl::OkStatus();
      },
      resp));
}

grpc::Status HandoverService::RefuseHandover(grpc::ServerContext* ctx,
                                             const v1::RefuseHandoverRequest* req,
                                             v1::HandoverCase* resp) {
  return ToGrpc(MoveCase(
      *ctx, "name", req->name(), req->etag(), req->request_id(), "RefuseHandover", *req,
      "refused",
      [&](kit::Conn& c, store::CaseRow& row, std::string* detail) -> absl::Status {
        RETURN_IF_ERROR(Refuse(row.body, req->reason()));
        RETURN_IF_ERROR(store::FreeSlot(c, row.id));
        *detail = req->reason();
        return absl::OkStatus();
      },
      resp));
}

grpc::Status HandoverService::HoldHandover(grpc::ServerContext* ctx,
                                           const v1::HoldHandoverRequest* req,
                                           v1::HandoverCase* resp) {
  return ToGrpc(MoveCase(
      *ctx, "name", req->name(), req->etag(), req->request_id(), "HoldHandover", *req, "held",
      [&](kit::Conn&, store::CaseRow& row, std::string* detail) -> absl::Status {
        RETURN_IF_ERROR(Hold(row.body, req->reason()));
        *detail = req->reason();
        return absl::OkStatus();
      },
      resp));
}

grpc::Status HandoverService::ResumeHandover(grpc::ServerContext* ctx,
                                             const v1::ResumeHandoverRequest* req,
                                             v1::HandoverCase* resp) {
  return ToGrpc(MoveCase(
      *ctx, "name", req->name(), req->etag(), req->request_id(), "ResumeHandover", *req,
      "resumed",
      [&](kit::Conn&, store::CaseRow& row, std::string*) -> absl::Status {
        return Resume(row.body);
      },
      resp));
}

grpc::Status HandoverService::CompleteHandover(grpc::ServerContext* ctx,
                                               const v1::CompleteHandoverRequest* req,
                                               v1::HandoverCase* resp) {
  if (req->keys_size() > kMaxKeys) return ToGrpc(FieldError("keys", "at most 20"));
  if (req->household_size() > kMaxHousehold) return ToGrpc(FieldError("household", "at most 20"));
  if (req->opening_readings_size() > kMaxReadings) {
    return ToGrpc(FieldError("opening_readings", "at most 10"));
  }
  std::optional<absl::CivilDay> date;
  if (!req->handover_date().empty()) {
    absl::StatusOr<absl::CivilDay> d = kit::ParseDay("handover_date", req->handover_date());
    if (!d.ok()) return ToGrpc(d.status());
    date = *d;
  }
  for (int i = 0; i < req->opening_readings_size(); ++i) {
    const v1::MeterReading& m = req->opening_readings(i);
    const std::string f = absl::StrCat("opening_readings[", i, "]");
    if (m.meter().empty() || m.meter().size() > 32 || !kit::IsValidSiteId(m.meter())) {
      return ToGrpc(FieldError(f + ".meter", "required: lowercase letters, digits, '-'"));
    }
    if (m.value().empty() || m.value().size() > 20 ||
        m.value().find_first_not_of("0123456789.") != std::string::npos) {
      return ToGrpc(FieldError(f + ".value", "a reading such as \"1234.5\""));
    }
  }
  for (int i = 0; i < req->household_size(); ++i) {
    const std::string f = absl::StrCat("household[", i, "]");
    RETURN_GRPC_IF_ERROR(
        kit::CheckText(f + ".display_name", req->household(i).display_name(), 200, true));
    RETURN_GRPC_IF_ERROR(kit::CheckText(f + ".relation", req->household(i).relation(), 64, false));
    RETURN_GRPC_IF_ERROR(kit::CheckPhone(f + ".phone", req->household(i).phone(), false));
  }
  RETURN_GRPC_IF_ERROR(
      kit::CheckText("emergency_contact", req->emergency_contact(), 200, false));
  // The name is parsed once, for the keys' site and for the move. A malformed
  // name is reported after the keys are checked (each then fails its site).
  const absl::StatusOr<kit::SiteId> ref = kit::ParseSiteId("name", req->name(), "handoverCases");
  const std::string site_of_name = ref.ok() ? ref->site : "";
  for (int i = 0; i < req->keys_size(); ++i) {
    const std::string f = absl::StrCat("keys[", i, "]");
    absl::StatusOr<kit::SiteId> key = kit::ParseSiteId(f, req->keys(i), "keys");
    if (!key.ok()) return ToGrpc(key.status());
    if (key->site != site_of_name) return ToGrpc(FieldError(f, "must be a key of the case's site"));
  }
  if (!ref.ok()) return ToGrpc(ref.status());
  int64_t effects = 0;
  std::string site;
  grpc::Status s = ToGrpc(MoveCase(
      *ctx, *ref, req->etag(), req->request_id(), "CompleteHandover", *req, "completed",
      [&](kit::Conn& c, store::CaseRow& row, std::string* detail) -> absl::Status {
        ASSIGN_OR_RETURN(store::BatchRow batch, store::ReadBatch(c, row.site, row.batch_id));
        absl::TimeZone zone;
        absl::LoadTimeZone(batch.spec.time_zone(), &zone);
        const absl::Time now = clock_.Now();
        const absl::CivilDay today = absl::ToCivilDay(now, zone);
        const absl::CivilDay accepted_on =
            absl::ToCivilDay(kit::FromTimestamp(row.body.accept_time()), zone);
        for (const v1::MeterReading& m : req->opening_readings()) {
          *row.body.add_opening_readings() = m;
        }
        for (const std::string& k : req->keys()) row.body.add_keys(k);
        for (const v1::HouseholdMember& m : req->household()) *row.body.add_household() = m;
        row.body.set_emergency_contact(req->emergency_contact());
        row.body.set_owner_moves_in(req->owner_moves_in());
        RETURN_IF_ERROR(Complete(row.body, date.value_or(today), accepted_on, today, now));
        // The effects commit with the state change or not at all; the
        // outbox delivers each once, whenever its service is up.
        for (PeerCall& call : CompletionCalls(row.body, batch.spec, row.site)) {
          ASSIGN_OR_RETURN(int64_t outbox_id, kit::EnqueueCall(c, row.site, call.target,
                                                               call.method, *call.request, now));
          RETURN_IF_ERROR(store::AddEffect(
              c, store::kCaseEffects, row.id, outbox_id,
              absl::StrCat(call.target, " ", call.method.substr(call.method.rfind('/') + 1)),
              call.subject));
          ++effects;
        }
        site = row.site;
        *detail = absl::StrCat("handed over on ", row.body.handover_date(), "; ", effects,
                               " effect(s) queued");
        return absl::OkStatus();
      },
      resp));
  // A replay (the same request_id again) runs no move and counts nothing.
  if (s.ok() && effects > 0) completed_.Add({{"site", site}}).Increment();
  return s;
}

grpc::Status HandoverService::ListCaseEvents(grpc::ServerContext* ctx,
                                             const v1::ListCaseEventsRequest* req,
                                             v1::ListCaseEventsResponse* resp) {
  absl::StatusOr<kit::SiteId> ref = kit::ParseSiteId("parent", req->parent(), "handoverCases");
  if (!ref.ok()) return ToGrpc(ref.status());
  return ToGrpc(kit::ListRows(
      db_, kit::DeadlineOf(*ctx), *req, resp->mutable_next_page_token(),
      [&](kit::Conn& c, const kit::Page& page) -> absl::StatusOr<std::vector<v1::CaseEvent>> {
        RETURN_IF_ERROR(store::ReadCase(c, ref->site, ref->id, false).status());
        return store::ListEvents(c, ref->id, page.after, page.size + 1);
      },
      [](const v1::CaseEvent& e) { return e.sequence(); },
      [&](v1::CaseEvent& e) { *resp->add_events() = std::move(e); }));
}

grpc::Status HandoverService::ListOutboxEntries(
    grpc::ServerContext* ctx, const estate::api::v1::ListOutboxEntriesRequest* req,
    estate::api::v1::ListOutboxEntriesResponse* resp) {
  return ToGrpc(outbox_.List(*req, kit::DeadlineOf(*ctx), resp));
}

grpc::Status HandoverService::RetryOutboxEntry(grpc::ServerContext* ctx,
                                               const estate::api::v1::RetryOutboxEntryRequest* req,
                                               estate::api::v1::OutboxEntry* resp) {
  return ToGrpc(outbox_.Retry(*req, kit::DeadlineOf(*ctx), kit::CallerOf(*ctx), resp));
}

HandoverService* RegisterHandover(kit::ServiceHost& host, const kit::Clock& clock,
                                  HandoverOptions options) {
  auto service = std::make_unique<HandoverService>(host.db(), clock, host.registry());
  HandoverService* raw = service.get();
  kit::OutboxOptions relay;
  relay.poll_interval = options.relay_interval;
  relay.probe_interval = options.relay_interval;
  // A ticket's name, kept against what asked for it when it is made: a
  // warranty ticket against its defect, a rectification ticket against its
  // renovation permit; and the bill of a permit's deposit or fee. An outbox
  // row is in one of the two effects tables, so one of the updates finds
  // nothing.
  relay.on_delivered = [](kit::Conn& c, const kit::DeliveredCall& call) -> absl::Status {
    std::string made;
    if (call.method == kCreateTicketMethod) {
      ::estate::tickets::v1::Ticket ticket;
      if (ticket.ParseFromString(call.response)) made = ticket.name();
    } else if (call.method == kChargeAccountMethod) {
      ::estate::billing::v1::Bill bill;
      if (bill.ParseFromString(call.response)) made = bill.name();
    }
    if (made.empty()) return absl::OkStatus();  // nothing to link
    RETURN_IF_ERROR(store::SetEffectResult(c, store::kCaseEffects, call.id, made));
    return store::SetEffectResult(c, store::kPermitEffects, call.id, made);
  };
  if (auto it = options.peers.find("tickets"); it != options.peers.end()) {
    raw->tickets_ = ::estate::tickets::v1::TicketService::NewStub(it->second);
  }
  raw->identity_ = host.identity_signer();
  relay.identity = raw->identity_;
  raw->relay_ = std::make_unique<kit::OutboxRelay>(host.db(), clock, std::move(options.peers),
                                                   &host.registry(), relay);
  raw->relay_->set_caller("service:handover");
  host.AddService(std::move(service),
                  google::protobuf::DescriptorPool::generated_pool()->FindServiceByName(
                      v1::HandoverService::service_full_name()));
  // Renovation permits share the schema, the outbox and its relay: their
  // violations' tickets are delivered with the cases' calls.
  host.AddService(std::make_unique<RenovationService>(host.db(), clock, host.registry()),
                  google::protobuf::DescriptorPool::generated_pool()->FindServiceByName(
                      v1::RenovationService::service_full_name()));
  // The relay delivers on threads of its own; the job starts them once the
  // schema is migrated (the first run is at start-up), then purges and
  // refreshes the outbox gauges.
  host.AddJob("outbox", absl::Seconds(15), [raw] {
    raw->relay_->Start();
    return raw->relay_->Housekeep();
  });
  return raw;
}

}  // namespace handover
