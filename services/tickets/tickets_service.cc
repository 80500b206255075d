#include "services/tickets/tickets_service.h"

#include <algorithm>
#include <map>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"
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
#include "services/tickets/ticket_stats.h"
#include "services/tickets/ticket_store.h"
#include "services/tickets/ticket_validation.h"
#include "spdlog/spdlog.h"

namespace tickets {

using kit::FieldError;
using kit::ToGrpc;

namespace {

using TicketRef = kit::SiteId;

absl::StatusOr<TicketRef> ParseTicketName(absl::string_view field, absl::string_view name) {
  return kit::ParseSiteId(field, name, "tickets");
}

absl::Status CheckEtag(absl::string_view etag) {
  if (etag.empty()) return FieldError("etag", "required (from the last read)");
  if (etag.size() > 32) return FieldError("etag", "not an etag this service issued");
  return absl::OkStatus();
}


// How long a replica may use a site's SLA policy before reading it again; a
// change made through another replica applies to new deadlines within this.

SlaTarget TargetOf(const store::SlaPolicyRow& p, v1::Priority pr) {
  return p.targets[pr >= v1::LOW && pr <= v1::URGENT ? pr : v1::NORMAL];
}

v1::TicketEvent CreatedEvent(const StoredTicket& t) {
  v1::TicketEvent e;
  e.set_sequence(0);
  e.set_type("created");
  e.set_to_status(v1::OPEN);
  e.set_actor(t.created_by);
  kit::SetTimestamp(e.mutable_time(), t.state.create_time);
  e.set_detail(absl::StrCat(v1::TicketKind_Name(t.state.kind), " via ",
                            v1::Channel_Name(t.fields.channel())));
  return e;
}

constexpr const char* kKindLabels[] = {"unspecified", "complaint", "repair", "rectification",
                                       "inquiry",     "claim",     "suggestion"};
const char* KindLabel(v1::TicketKind k) {
  return k >= 0 && k <= 6 ? kKindLabels[k] : "unspecified";
}

}  // namespace

TicketsService::TicketsService(kit::Db& db, const kit::Clock& clock,
                               prometheus::Registry& registry)
    : db_(db),
      clock_(clock),
      open_(prometheus::BuildGauge()
                .Name("estate_tickets_open")
                .Help("Tickets neither resolved, closed nor cancelled, by site and kind; read "
                      "from the database, so every replica reports the same value (use max).")
                .Register(registry)),
      breached_(prometheus::BuildCounter()
                    .Name("estate_tickets_sla_breached_total")
                    .Help("Tickets that ran past an SLA deadline, counted once each.")
                    .Register(registry)),
      time_to_resolve_(prometheus::BuildHistogram()
                           .Name("estate_tickets_time_to_resolve_seconds")
                           .Help("Time from creation to resolution, by kind.")
                           .Register(registry)) {
  // 15 minutes .. 30 days.
  const prometheus::Histogram::BucketBoundaries buckets = {
      900, 1800, 3600, 7200, 14400, 28800, 86400, 172800, 259200, 604800, 1209600, 2592000};
  for (int k = v1::COMPLAINT; k <= v1::SUGGESTION; ++k) {
    resolve_seconds_[k] = &time_to_resolve_.Add({{"kind", kKindLabels[k]}}, buckets);
  }
}

absl::StatusOr<store::SlaPolicyRow> TicketsService::PolicyFor(kit::Conn& c,
                                                               const std::string& site) {
  return store::ReadSlaPolicy(c, site, false);
}

void TicketsService::CountBreach(const std::string& site, v1::TicketKind kind) {
  breached_.Add({{"site", site}, {"kind", KindLabel(kind)}}).Increment();
}

grpc::Status TicketsService::CreateTicket(grpc::ServerContext* ctx,
                                          const v1::CreateTicketRequest* req,
                                          v1::Ticket* resp) {
  absl::StatusOr<std::string> site = kit::ParseSiteParent("parent", req->parent());
  if (!site.ok()) return ToGrpc(site.status());
  if (absl::Status s = kit::CheckRequestId(req->request_id()); !s.ok()) return ToGrpc(s);
  if (!req->has_ticket()) return ToGrpc(FieldError("ticket", "required"));
  if (absl::Status s = CheckNewTicket(req->ticket()); !s.ok()) return ToGrpc(s);

  const absl::Time now = clock_.Now();
  const std::string fingerprint = kit::RequestFingerprint("CreateTicket", *req);
  StoredTicket t;
  t.site = *site;
  t.fields = CreatableFields(req->ticket());
  t.created_by = kit::CallerOf(*ctx);
  // One statement (kit::CreateOnce): the row carries the request_id claim,
  // and the "created" event is read off the row rather than written beside it.
  return ToGrpc(db_.Run(kit::DeadlineOf(*ctx), [&](kit::Conn& c) -> absl::Status {
    absl::StatusOr<store::SlaPolicyRow> policy = PolicyFor(c, *site);
    if (!policy.ok()) return policy.status();
    const v1::Priority pr =
        t.fields.priority() == v1::PRIORITY_UNSPECIFIED ? v1::NORMAL : t.fields.priority();
    t.state = NewTicket(t.fields.kind(), pr, TargetOf(*policy, pr), now);
    t.state.department = t.fields.department();
    t.state.assignee = t.fields.assignee();
    return kit::CreateOnce(
        "by_create_request", fingerprint,
        [&]() -> absl::Status {
          RETURN_IF_ERROR(store::InsertTicket(c, t, req->request_id(), fingerprint).status());
          *resp = ToProto(t);
          return absl::OkStatus();
        },
        [&](std::string* stored_fingerprint) -> absl::Status {
          ASSIGN_OR_RETURN(auto first, store::ReadTicketByCreateRequest(c, req->request_id()));
          *resp = ToProto(AsFirstCreated(first.first, req->ticket()));
          *stored_fingerprint = first.second;
          return absl::OkStatus();
        });
  }));
}

grpc::Status TicketsService::GetTicket(grpc::ServerContext* ctx, const v1::GetTicketRequest* req,
                                       v1::Ticket* resp) {
  absl::StatusOr<TicketRef> ref = ParseTicketName("name", req->name());
  if (!ref.ok()) return ToGrpc(ref.status());
  return ToGrpc(db_.Run(kit::DeadlineOf(*ctx), [&](kit::Conn& c) -> absl::Status {
    absl::StatusOr<StoredTicket> t = store::ReadTicket(c, ref->site, ref->id, false);
    if (!t.ok()) return t.status();
    CheckBreach(t->state, clock_.Now());
    *resp = ToProto(*t);
    return absl::OkStatus();
  }));
}

grpc::Status TicketsService::ListTickets(grpc::ServerContext* ctx,
                                         const v1::ListTicketsRequest* req,
                                         v1::ListTicketsResponse* resp) {
  TicketFilter f;
  absl::StatusOr<std::string> site = kit::ParseSiteParent("parent", req->parent());
  if (!site.ok()) return ToGrpc(site.status());
  f.site = *site;
  absl::Status s = CheckStatus("status", req->status());
  if (s.ok()) s = CheckKind("kind", req->kind(), false);
  if (s.ok()) s = CheckUnit("unit", req->unit());
  if (s.ok()) s = kit::CheckText("department", req->department(), kMaxShort, false);
  if (!s.ok()) return ToGrpc(s);
  f.status = req->status();
  f.kind = req->kind();
  f.unit = req->unit();
  f.department = req->department();
  f.breached_only = req->breached_only();
  if (req->has_created_after()) {
    absl::StatusOr<absl::Time> t = kit::CheckTimestamp("created_after", req->created_after());
    if (!t.ok()) return ToGrpc(t.status());
    f.created_after = *t;
  }
  if (req->has_created_before()) {
    absl::StatusOr<absl::Time> t = kit::CheckTimestamp("created_before", req->created_before());
    if (!t.ok()) return ToGrpc(t.status());
    f.created_before = *t;
  }
  const absl::Time now = clock_.Now();
  return ToGrpc(kit::ListRows(
      db_, kit::DeadlineOf(*ctx), *req, resp->mutable_next_page_token(),
      [&](kit::Conn& c, const kit::Page& page) {
        return store::ListTickets(c, f, page.after, page.size + 1, now);
      },
      [](const auto& r) { return r.id; },
      [&](StoredTicket& t) {
        CheckBreach(t.state, now);
        *resp->add_tickets() = ToProto(t);
      }));
}

grpc::Status TicketsService::UpdateTicket(grpc::ServerContext* ctx,
                                          const v1::UpdateTicketRequest* req,
                                          v1::Ticket* resp) {
  absl::StatusOr<TicketRef> ref = ParseTicketName("ticket.name", req->ticket().name());
  if (!ref.ok()) return ToGrpc(ref.status());
  if (absl::Status s = kit::CheckRequestId(req->request_id()); !s.ok()) return ToGrpc(s);
  if (absl::Status s = CheckEtag(req->ticket().etag()); !s.ok()) {
    return ToGrpc(FieldError("ticket.etag", "required (from the last read)"));
  }
  if (req->update_mask().paths_size() == 0) {
    return ToGrpc(FieldError("update_mask", "required: name the fields to change"));
  }
  for (const std::string& path : req->update_mask().paths()) {
    if (absl::Status s = CheckTicketField(path, req->ticket()); !s.ok()) return ToGrpc(s);
  }
  const absl::Time now = clock_.Now();
  const std::string actor = kit::CallerOf(*ctx);
  bool newly_breached = false;
  const absl::Status s = kit::IdempotentWrite(
      db_, kit::DeadlineOf(*ctx), "UpdateTicket", req->request_id(), *req, resp,
      [&](kit::Conn& c) -> absl::Status {
        newly_breached = false;
        absl::StatusOr<StoredTicket> t = store::ReadTicket(c, ref->site, ref->id, true);
        if (!t.ok()) return t.status();
        RETURN_IF_ERROR(kit::CheckEtag("ticket.etag", req->ticket().etag(), t->version, "ticket"));
        t->fields.set_priority(t->state.priority);
        // UNSPECIFIED means NORMAL, as on create: setting it on a NORMAL
        // ticket changes nothing.
        v1::Ticket source = req->ticket();
        if (source.priority() == v1::PRIORITY_UNSPECIFIED) source.set_priority(v1::NORMAL);
        ASSIGN_OR_RETURN(std::vector<std::string> changed,
                         kit::ApplyUpdateMask(source, req->update_mask(), UpdatableTicketPaths(),
                                              &t->fields));
        const v1::Priority pr = t->fields.priority();
        const bool was_breached = t->state.sla_breached;
        if (pr != t->state.priority) {
          absl::StatusOr<store::SlaPolicyRow> policy = PolicyFor(c, ref->site);
          if (!policy.ok()) return policy.status();
          RETURN_IF_ERROR(Reprioritise(t->state, pr, TargetOf(*policy, pr), now));
        }
        CheckBreach(t->state, now);
        if (changed.empty()) {
          // Nothing to write: the etag stays valid for everyone holding it.
          *resp = ToProto(*t);
          return absl::OkStatus();
        }
        RETURN_IF_ERROR(store::SaveTicket(c, *t, now));
        RETURN_IF_ERROR(store::AddEvent(c, ref->site, ref->id, "updated", t->state.status,
                                        t->state.status, actor, now,
                                        absl::StrJoin(changed, ", ")));
        if (!was_breached && t->state.sla_breached) {
          newly_breached = true;
          RETURN_IF_ERROR(store::AddEvent(c, ref->site, ref->id, "sla_breached",
                                          t->state.status, t->state.status, actor, now,
                                          "past an SLA deadline"));
        }
        *resp = ToProto(*t);
        return absl::OkStatus();
      });
  if (s.ok() && newly_breached) CountBreach(ref->site, resp->kind());
  return ToGrpc(s);
}

absl::Status TicketsService::DoTransition(grpc::ServerContext* ctx, const TransitionCall& call,
                                          v1::Ticket* resp) {
  absl::StatusOr<TicketRef> ref = ParseTicketName("name", *call.name);
  if (!ref.ok()) return ref.status();
  RETURN_IF_ERROR(kit::CheckRequestId(*call.request_id));
  RETURN_IF_ERROR(CheckEtag(*call.etag));
  const absl::Time now = clock_.Now();
  const std::string actor = kit::CallerOf(*ctx);
  bool newly_breached = false;
  std::optional<absl::Duration> resolved_after;
  v1::TicketKind kind = v1::TICKET_KIND_UNSPECIFIED;
  absl::Status s = kit::IdempotentWrite(
      db_, kit::DeadlineOf(*ctx), call.method, *call.request_id, *call.request, resp,
      [&](kit::Conn& c) -> absl::Status {
        newly_breached = false;
        resolved_after.reset();
        absl::StatusOr<StoredTicket> t = store::ReadTicket(c, ref->site, ref->id, true);
        if (!t.ok()) return t.status();
        RETURN_IF_ERROR(kit::CheckEtag("etag", *call.etag, t->version, "ticket"));
        absl::StatusOr<store::SlaPolicyRow> policy = PolicyFor(c, ref->site);
        if (!policy.ok()) return policy.status();
        const bool was_breached = t->state.sla_breached;
        const v1::TicketStatus from = t->state.status;
        RETURN_IF_ERROR(
            Apply(t->state, call.transition, TargetOf(*policy, t->state.priority), now));
        RETURN_IF_ERROR(store::SaveTicket(c, *t, now));
        RETURN_IF_ERROR(store::AddEvent(c, ref->site, ref->id, "status_changed", from,
                                        t->state.status, actor, now, call.detail));
        if (!was_breached && t->state.sla_breached) {
          newly_breached = true;
          RETURN_IF_ERROR(store::AddEvent(c, ref->site, ref->id, "sla_breached",
                                          t->state.status, t->state.status, actor, now,
                                          "past an SLA deadline"));
        }
        // First resolutions only: a reopened ticket is not a second ticket.
        if (t->state.status == v1::RESOLVED && from != v1::RESOLVED &&
            t->state.reopen_count == 0) {
          resolved_after = now - t->state.create_time;
        }
        kind = t->state.kind;
        *resp = ToProto(*t);
        return absl::OkStatus();
      });
  if (s.ok() && newly_breached) CountBreach(ref->site, kind);
  if (s.ok() && resolved_after.has_value() && kind >= v1::COMPLAINT && kind <= v1::SUGGESTION) {
    resolve_seconds_[kind]->Observe(absl::ToDoubleSeconds(*resolved_after));
  }
  return s;
}

grpc::Status TicketsService::AssignTicket(grpc::ServerContext* ctx,
                                          const v1::AssignTicketRequest* req,
                                          v1::Ticket* resp) {
  absl::Status s = kit::CheckText("department", req->department(), kMaxShort, true);
  if (s.ok()) s = kit::CheckText("assignee", req->assignee(), kMaxShort, false);
  if (s.ok()) s = kit::CheckText("note", req->note(), kMaxNote, false);
  if (!s.ok()) return ToGrpc(s);
  TransitionCall call{"AssignTicket", req, &req->name(), &req->etag(), &req->request_id(),
                      {Action::kAssign}, ""};
  call.transition.department = req->department();
  call.transition.assignee = req->assignee();
  call.detail = absl::StrCat("to ", req->department(),
                             req->assignee().empty() ? "" : absl::StrCat(" / ", req->assignee()),
                             req->note().empty() ? "" : absl::StrCat(": ", req->note()));
  return ToGrpc(DoTransition(ctx, call, resp));
}

grpc::Status TicketsService::StartTicket(grpc::ServerContext* ctx,
                                         const v1::TransitionRequest* req, v1::Ticket* resp) {
  if (absl::Status s = kit::CheckText("note", req->note(), kMaxNote, false); !s.ok()) {
    return ToGrpc(s);
  }
  TransitionCall call{"StartTicket", req, &req->name(), &req->etag(), &req->request_id(),
                      {Action::kStart}, req->note()};
  return ToGrpc(DoTransition(ctx, call, resp));
}

grpc::Status TicketsService::WaitTicket(grpc::ServerContext* ctx,
                                        const v1::WaitTicketRequest* req, v1::Ticket* resp) {
  if (!v1::WaitingOn_IsValid(req->waiting_on()) ||
      req->waiting_on() == v1::WAITING_ON_UNSPECIFIED) {
    return ToGrpc(FieldError("waiting_on", "required: OWNER, DEVELOPER or CONTRACTOR"));
  }
  if (absl::Status s = kit::CheckText("note", req->note(), kMaxNote, false); !s.ok()) {
    return ToGrpc(s);
  }
  TransitionCall call{"WaitTicket", req, &req->name(), &req->etag(), &req->request_id(),
                      {Action::kWait}, ""};
  call.transition.waiting_on = req->waiting_on();
  call.detail = absl::StrCat("waiting on ", v1::WaitingOn_Name(req->waiting_on()),
                             req->note().empty() ? "" : absl::StrCat(": ", req->note()));
  return ToGrpc(DoTransition(ctx, call, resp));
}

grpc::Status TicketsService::ResumeTicket(grpc::ServerContext* ctx,
                                          const v1::TransitionRequest* req, v1::Ticket* resp) {
  if (absl::Status s = kit::CheckText("note", req->note(), kMaxNote, false); !s.ok()) {
    return ToGrpc(s);
  }
  TransitionCall call{"ResumeTicket", req, &req->name(), &req->etag(), &req->request_id(),
                      {Action::kResume}, req->note()};
  return ToGrpc(DoTransition(ctx, call, resp));
}

grpc::Status TicketsService::ResolveTicket(grpc::ServerContext* ctx,
                                           const v1::ResolveTicketRequest* req,
                                           v1::Ticket* resp) {
  if (absl::Status s = kit::CheckText("resolution", req->resolution(), kMaxNote, true); !s.ok()) {
    return ToGrpc(s);
  }
  TransitionCall call{"ResolveTicket", req, &req->name(), &req->etag(), &req->request_id(),
                      {Action::kResolve}, req->resolution()};
  call.transition.resolution = req->resolution();
  return ToGrpc(DoTransition(ctx, call, resp));
}

grpc::Status TicketsService::CloseTicket(grpc::ServerContext* ctx,
                                         const v1::CloseTicketRequest* req, v1::Ticket* resp) {
  if (absl::Status s = kit::CheckText("waiver_reason", req->waiver_reason(), kMaxNote, false);
      !s.ok()) {
    return ToGrpc(s);
  }
  TransitionCall call{"CloseTicket", req, &req->name(), &req->etag(), &req->request_id(),
                      {Action::kClose}, ""};
  call.transition.waiver_reason = std::string(absl::StripAsciiWhitespace(req->waiver_reason()));
  call.detail = req->waiver_reason().empty() ? "" : absl::StrCat("waived: ", req->waiver_reason());
  return ToGrpc(DoTransition(ctx, call, resp));
}

grpc::Status TicketsService::ReopenTicket(grpc::ServerContext* ctx, const v1::ReasonRequest* req,
                                          v1::Ticket* resp) {
  if (absl::Status s = kit::CheckText("reason", req->reason(), kMaxNote, true); !s.ok()) {
    return ToGrpc(s);
  }
  TransitionCall call{"ReopenTicket", req, &req->name(), &req->etag(), &req->request_id(),
                      {Action::kReopen}, req->reason()};
  return ToGrpc(DoTransition(ctx, call, resp));
}

grpc::Status TicketsService::CancelTicket(grpc::ServerContext* ctx, const v1::ReasonRequest* req,
                                          v1::Ticket* resp) {
  if (absl::Status s = kit::CheckText("reason", req->reason(), kMaxNote, true); !s.ok()) {
    return ToGrpc(s);
  }
  TransitionCall call{"CancelTicket", req, &req->name(), &req->etag(), &req->request_id(),
                      {Action::kCancel}, req->reason()};
  return ToGrpc(DoTransition(ctx, call, resp));
}

grpc::Status TicketsService::ListTicketEvents(grpc::ServerContext* ctx,
                                              const v1::ListTicketEventsRequest* req,
                                              v1::ListTicketEventsResponse* resp) {
  absl::StatusOr<TicketRef> ref = ParseTicketName("parent", req->parent());
  if (!ref.ok()) return ToGrpc(ref.status());
  absl::StatusOr<kit::Page> page = kit::PageOf(*req);
  if (!page.ok()) return ToGrpc(page.status());
  // Position 0 is the "created" event, read off the ticket row; stored events
  // follow with their own sequence. A token holds the next position.
  return ToGrpc(db_.Run(kit::DeadlineOf(*ctx), [&](kit::Conn& c) -> absl::Status {
    absl::StatusOr<StoredTicket> t = store::ReadTicket(c, ref->site, ref->id, false);
    if (!t.ok()) return t.status();
    const int limit = page->size;
    if (page->after == 0) *resp->add_events() = CreatedEvent(*t);
    absl::StatusOr<std::vector<v1::TicketEvent>> events = store::ListEvents(
        c, ref->site, ref->id, std::max<int64_t>(0, page->after - 1),
        limit + 1 - resp->events_size());
    if (!events.ok()) return events.status();
    for (v1::TicketEvent& e : *events) *resp->add_events() = std::move(e);
    if (resp->events_size() > limit) {
      resp->mutable_events()->RemoveLast();
      resp->set_next_page_token(kit::NextPageToken(*req, resp->events().rbegin()->sequence() + 1));
    }
    return absl::OkStatus();
  }));
}

grpc::Status TicketsService::RecordReturnVisit(grpc::ServerContext* ctx,
                                               const v1::RecordReturnVisitRequest* req,
                                               v1::ReturnVisit* resp) {
  absl::StatusOr<TicketRef> ref = ParseTicketName("parent", req->parent());
  if (!ref.ok()) return ToGrpc(ref.status());
  if (absl::Status s = kit::CheckRequestId(req->request_id()); !s.ok()) return ToGrpc(s);
  const v1::ReturnVisit& in = req->return_visit();
  absl::Status s = CheckChannel("return_visit.channel", in.channel(), true);
  if (s.ok() && (in.satisfaction() < 1 || in.satisfaction() > 5)) {
    s = FieldError("return_visit.satisfaction", "must be 1 to 5");
  }
  if (s.ok()) s = kit::CheckText("return_visit.comment", in.comment(), kMaxNote, false);
  if (s.ok()) s = kit::CheckText("return_visit.caller", in.caller(), kMaxShort, false);
  if (!s.ok()) return ToGrpc(s);
  const absl::Time now = clock_.Now();
  v1::ReturnVisit visit = in;
  visit.clear_name();
  if (in.has_visit_time()) {
    absl::StatusOr<absl::Time> t = kit::CheckTimestamp("return_visit.visit_time", in.visit_time());
    if (!t.ok()) return ToGrpc(t.status());
    if (*t > now + absl::Minutes(5)) {
      return ToGrpc(FieldError("return_visit.visit_time", "is in the future"));
    }
  } else {
    kit::SetTimestamp(visit.mutable_visit_time(), now);
  }
  const std::string actor = kit::CallerOf(*ctx);
  if (visit.caller().empty()) visit.set_caller(actor);
  return ToGrpc(kit::IdempotentWrite(
      db_, kit::DeadlineOf(*ctx), "RecordReturnVisit", req->request_id(), *req, resp,
      [&](kit::Conn& c) -> absl::Status {
        absl::StatusOr<StoredTicket> t = store::ReadTicket(c, ref->site, ref->id, true);
        if (!t.ok()) return t.status();
        if (!IsHandled(t->state.status)) {
          return absl::FailedPreconditionError(
              "a return visit follows resolution: resolve the ticket first");
        }
        absl::StatusOr<v1::ReturnVisit> saved =
            store::InsertReturnVisit(c, ref->site, ref->id, visit);
        if (!saved.ok()) return saved.status();
        ++t->state.return_visit_count;
        const absl::Time visited = kit::FromTimestamp(visit.visit_time());
        if (!t->state.last_visit_time.has_value() || *t->state.last_visit_time < visited) {
          t->state.last_visit_time = visited;
        }
        RETURN_IF_ERROR(store::SaveTicket(c, *t, now));
        RETURN_IF_ERROR(store::AddEvent(
            c, ref->site, ref->id, "return_visit", t->state.status, t->state.status, actor, now,
            absl::StrCat("satisfaction ", visit.satisfaction(), " by ",
                         v1::Channel_Name(visit.channel()))));
        *resp = *saved;
        return absl::OkStatus();
      }));
}

grpc::Status TicketsService::ListReturnVisits(grpc::ServerContext* ctx,
                                              const v1::ListReturnVisitsRequest* req,
                                              v1::ListReturnVisitsResponse* resp) {
  absl::StatusOr<TicketRef> ref = ParseTicketName("parent", req->parent());
  if (!ref.ok()) return ToGrpc(ref.status());
  absl::StatusOr<kit::Page> page = kit::PageOf(*req);
  if (!page.ok()) return ToGrpc(page.status());
  return ToGrpc(db_.Run(kit::DeadlineOf(*ctx), [&](kit::Conn& c) -> absl::Status {
    if (absl::StatusOr<StoredTicket> t = store::ReadTicket(c, ref->site, ref->id, false);
        !t.ok()) {
      return t.status();
    }
    absl::StatusOr<std::vector<v1::ReturnVisit>> visits =
        store::ListReturnVisits(c, ref->site, ref->id, page->after, page->size + 1);
    if (!visits.ok()) return visits.status();
    const bool more = static_cast<int>(visits->size()) > page->size;
    if (more) visits->pop_back();
    int64_t last = 0;
    for (v1::ReturnVisit& v : *visits) {
      last = kit::IdOf(std::string(v.name().substr(v.name().rfind('/') + 1)));
      *resp->add_return_visits() = std::move(v);
    }
    if (more) resp->set_next_page_token(kit::NextPageToken(*req, last));
    return absl::OkStatus();
  }));
}

namespace {

absl::StatusOr<std::string> ParsePolicyName(absl::string_view field, absl::string_view name) {
  absl::string_view parent = name;
  if (!absl::ConsumeSuffix(&parent, "/slaPolicy")) {
    return FieldError(field, "must look like sites/{site}/slaPolicy");
  }
  return kit::ParseSiteParent(field, parent);
}

void PolicyToProto(const std::string& site, const store::SlaPolicyRow& p, v1::SlaPolicy* out) {
  out->set_name(absl::StrCat("sites/", site, "/slaPolicy"));
  for (int pr = v1::LOW; pr <= v1::URGENT; ++pr) {
    v1::SlaTarget* t = out->add_targets();
    t->set_priority(static_cast<v1::Priority>(pr));
    kit::SetDuration(t->mutable_first_response(), p.targets[pr].first_response);
    kit::SetDuration(t->mutable_resolution(), p.targets[pr].resolution);
  }
  out->set_etag(kit::Etag(p.version));
}

}  // namespace

grpc::Status TicketsService::GetSlaPolicy(grpc::ServerContext* ctx,
                                          const v1::GetSlaPolicyRequest* req,
                                          v1::SlaPolicy* resp) {
  absl::StatusOr<std::string> site = ParsePolicyName("name", req->name());
  if (!site.ok()) return ToGrpc(site.status());
  return ToGrpc(db_.Run(kit::DeadlineOf(*ctx), [&](kit::Conn& c) -> absl::Status {
    absl::StatusOr<store::SlaPolicyRow> p = store::ReadSlaPolicy(c, *site, false);
    if (!p.ok()) return p.status();
    PolicyToProto(*site, *p, resp);
    return absl::OkStatus();
  }));
}

grpc::Status TicketsService::UpdateSlaPolicy(grpc::ServerContext* ctx,
                                             const v1::UpdateSlaPolicyRequest* req,
                                             v1::SlaPolicy* resp) {
  absl::StatusOr<std::string> site = ParsePolicyName("policy.name", req->policy().name());
  if (!site.ok()) return ToGrpc(site.status());
  if (absl::Status s = kit::CheckRequestId(req->request_id()); !s.ok()) return ToGrpc(s);
  if (req->policy().etag().empty()) return ToGrpc(FieldError("policy.etag", "required"));
  if (req->policy().targets_size() == 0) return ToGrpc(FieldError("policy.targets", "required"));
  std::map<int, SlaTarget> wanted;
  for (int i = 0; i < req->policy().targets_size(); ++i) {
    const v1::SlaTarget& t = req->policy().targets(i);
    const std::string f = absl::StrCat("policy.targets[", i, "]");
    if (!v1::Priority_IsValid(t.priority()) || t.priority() == v1::PRIORITY_UNSPECIFIED) {
      return ToGrpc(FieldError(f + ".priority", "must be LOW, NORMAL, HIGH or URGENT"));
    }
    if (wanted.count(t.priority())) return ToGrpc(FieldError(f + ".priority", "given twice"));
    const absl::Duration first = kit::FromDuration(t.first_response());
    const absl::Duration resolution = kit::FromDuration(t.resolution());
    if (first < absl::Minutes(1) || first > absl::Hours(24 * 365)) {
      return ToGrpc(FieldError(f + ".first_response", "must be 1 minute to 365 days"));
    }
    if (resolution < first || resolution > absl::Hours(24 * 365)) {
      return ToGrpc(FieldError(f + ".resolution", "must be first_response to 365 days"));
    }
    wanted[t.priority()] = {absl::Seconds(absl::ToInt64Seconds(first)),
                            absl::Seconds(absl::ToInt64Seconds(resolution))};
  }
  const absl::Status s = kit::IdempotentWrite(
      db_, kit::DeadlineOf(*ctx), "UpdateSlaPolicy", req->request_id(), *req, resp,
      [&](kit::Conn& c) -> absl::Status {
        absl::StatusOr<store::SlaPolicyRow> p = store::ReadSlaPolicy(c, *site, true);
        if (!p.ok()) return p.status();
        RETURN_IF_ERROR(kit::CheckEtag("policy.etag", req->policy().etag(), p->version, "policy"));
        for (const auto& [pr, target] : wanted) p->targets[pr] = target;
        ++p->version;
        RETURN_IF_ERROR(store::WriteSlaPolicy(c, *site, *p));
        PolicyToProto(*site, *p, resp);
        return absl::OkStatus();
      });
  return ToGrpc(s);
}

grpc::Status TicketsService::CreateSurvey(grpc::ServerContext* ctx,
                                          const v1::CreateSurveyRequest* req, v1::Survey* resp) {
  absl::StatusOr<std::string> site = kit::ParseSiteParent("parent", req->parent());
  if (!site.ok()) return ToGrpc(site.status());
  if (absl::Status s = kit::CheckRequestId(req->request_id()); !s.ok()) return ToGrpc(s);
  const v1::Survey& in = req->survey();
  if (absl::Status s = kit::CheckText("survey.title", in.title(), kMaxTitle, true); !s.ok()) {
    return ToGrpc(s);
  }
  if (in.dimensions_size() == 0 || in.dimensions_size() > 20) {
    return ToGrpc(FieldError("survey.dimensions", "1 to 20 required"));
  }
  std::set<std::string> seen;
  for (const std::string& d : in.dimensions()) {
    bool ok = !d.empty() && d.size() <= 64;
    for (char ch : d) ok = ok && (absl::ascii_islower(ch) || absl::ascii_isdigit(ch) || ch == '_');
    if (!ok) {
      return ToGrpc(FieldError("survey.dimensions", "each 1-64 of a-z, 0-9 and _ (e.g. phone)"));
    }
    if (!seen.insert(d).second) return ToGrpc(FieldError("survey.dimensions", "repeated " + d));
  }
  if (!kit::IsDate(in.period_start())) {
    return ToGrpc(FieldError("survey.period_start", "must be a date YYYY-MM-DD"));
  }
  if (!kit::IsDate(in.period_end()) || in.period_end() < in.period_start()) {
    return ToGrpc(FieldError("survey.period_end", "must be a date YYYY-MM-DD, not before the start"));
  }
  const absl::Time now = clock_.Now();
  const std::string actor = kit::CallerOf(*ctx);
  return ToGrpc(kit::IdempotentWrite(
      db_, kit::DeadlineOf(*ctx), "CreateSurvey", req->request_id(), *req, resp,
      [&](kit::Conn& c) -> absl::Status {
        v1::Survey s = in;
        kit::SetTimestamp(s.mutable_create_time(), now);
        absl::StatusOr<int64_t> id = store::InsertSurvey(c, *site, s, actor);
        if (!id.ok()) return id.status();
        absl::StatusOr<v1::Survey> saved = store::ReadSurvey(c, *site, *id);
        if (!saved.ok()) return saved.status();
        *resp = *saved;
        return absl::OkStatus();
      }));
}

grpc::Status TicketsService::GetSurvey(grpc::ServerContext* ctx, const v1::GetSurveyRequest* req,
                                       v1::Survey* resp) {
  absl::StatusOr<std::vector<std::string>> ids =
      kit::ParseName("name", req->name(), {"sites", "surveys"});
  if (!ids.ok()) return ToGrpc(ids.status());
  return ToGrpc(db_.Run(kit::DeadlineOf(*ctx), [&](kit::Conn& c) -> absl::Status {
    absl::StatusOr<v1::Survey> s = store::ReadSurvey(c, (*ids)[0], kit::IdOf((*ids)[1]));
    if (!s.ok()) return s.status();
    *resp = *s;
    return absl::OkStatus();
  }));
}

grpc::Status TicketsService::AddSurveyResponse(grpc::ServerContext* ctx,
                                               const v1::AddSurveyResponseRequest* req,
                                               v1::SurveyResponse* resp) {
  absl::StatusOr<std::vector<std::string>> ids =
      kit::ParseName("parent", req->parent(), {"sites", "surveys"});
  if (!ids.ok()) return ToGrpc(ids.status());
  if (absl::Status s = kit::CheckRequestId(req->request_id()); !s.ok()) return ToGrpc(s);
  const v1::SurveyResponse& in = req->response();
  absl::Status s = in.unit().empty() ? FieldError("response.unit", "required")
                                     : CheckUnit("response.unit", in.unit());
  if (s.ok()) s = kit::CheckText("response.comment", in.comment(), kMaxNote, false);
  if (s.ok() && in.ratings().empty()) s = FieldError("response.ratings", "required");
  for (const auto& [dim, rating] : in.ratings()) {
    if (!s.ok()) break;
    if (rating < 1 || rating > 5) s = FieldError("response.ratings", "each rating must be 1 to 5");
  }
  if (!s.ok()) return ToGrpc(s);
  const std::string site = (*ids)[0];
  const int64_t survey_id = kit::IdOf((*ids)[1]);
  const absl::Time now = clock_.Now();
  const std::string actor = kit::CallerOf(*ctx);
  return ToGrpc(kit::IdempotentWrite(
      db_, kit::DeadlineOf(*ctx), "AddSurveyResponse", req->request_id(), *req, resp,
      [&](kit::Conn& c) -> absl::Status {
        absl::StatusOr<std::vector<std::string>> dims =
            store::SurveyDimensions(c, site, survey_id);
        if (!dims.ok()) return dims.status();
        for (const auto& [dim, rating] : in.ratings()) {
          if (std::find(dims->begin(), dims->end(), dim) == dims->end()) {
            return FieldError("response.ratings", absl::StrCat("'", dim.substr(0, 64),
                                                               "' is not a dimension of this survey"));
          }
        }
        v1::SurveyResponse r = in;
        kit::SetTimestamp(r.mutable_create_time(), now);
        absl::StatusOr<int64_t> id = store::InsertSurveyResponse(c, site, survey_id, r, actor);
        if (!id.ok()) return id.status();
        r.set_name(absl::StrCat(req->parent(), "/responses/", *id));
        *resp = r;
        return absl::OkStatus();
      }));
}

grpc::Status TicketsService::GetTicketStats(grpc::ServerContext* ctx,
                                            const v1::GetTicketStatsRequest* req,
                                            v1::TicketStats* resp) {
  absl::StatusOr<std::string> site = kit::ParseSiteParent("parent", req->parent());
  if (!site.ok()) return ToGrpc(site.status());
  if (!req->has_start_time()) return ToGrpc(FieldError("start_time", "required"));
  if (!req->has_end_time()) return ToGrpc(FieldError("end_time", "required"));
  absl::StatusOr<absl::Time> start = kit::CheckTimestamp("start_time", req->start_time());
  if (!start.ok()) return ToGrpc(start.status());
  absl::StatusOr<absl::Time> end = kit::CheckTimestamp("end_time", req->end_time());
  if (!end.ok()) return ToGrpc(end.status());
  if (*end <= *start) return ToGrpc(FieldError("end_time", "must be after start_time"));
  if (*end - *start > absl::Hours(24 * 366 * 5)) {
    return ToGrpc(FieldError("end_time", "a period of at most five years"));
  }
  const absl::Time now = clock_.Now();
  // One transaction: the three reads see one snapshot.
  return ToGrpc(db_.Transact(kit::DeadlineOf(*ctx), [&](kit::Conn& c) -> absl::Status {
    absl::StatusOr<std::vector<StatTicket>> tickets =
        store::StatTickets(c, *site, *start, *end, now);
    if (!tickets.ok()) return tickets.status();
    absl::StatusOr<std::vector<int>> visits = store::ReturnVisitRatings(c, *site, *start, *end);
    if (!visits.ok()) return visits.status();
    absl::StatusOr<std::vector<SurveyRating>> ratings =
        store::SurveyRatings(c, *site, *start, *end);
    if (!ratings.ok()) return ratings.status();
    *resp = ComputeStats(*tickets, *visits, *ratings);
    return absl::OkStatus();
  }));
}

absl::Status TicketsService::ScanBreaches() {
  const absl::Time now = clock_.Now();
  const absl::Time deadline = absl::Now() + absl::Seconds(10);
  std::vector<BreachCandidate> candidates;
  RETURN_IF_ERROR(db_.Run(deadline, [&](kit::Conn& c) -> absl::Status {
    absl::StatusOr<std::vector<BreachCandidate>> got = store::BreachCandidates(c, now, 1000);
    if (!got.ok()) return got.status();
    candidates = std::move(*got);
    return absl::OkStatus();
  }));
  for (const BreachCandidate& b : candidates) {
    bool flagged = false;
    RETURN_IF_ERROR(db_.Transact(deadline, [&](kit::Conn& c) -> absl::Status {
      absl::StatusOr<std::optional<v1::TicketStatus>> status =
          store::FlagBreach(c, b.site, b.id, now);
      if (!status.ok()) return status.status();
      flagged = status->has_value();
      if (!flagged) return absl::OkStatus();
      return store::AddEvent(c, b.site, b.id, "sla_breached", **status, **status, "system:sla",
                             now, "past an SLA deadline");
    }));
    if (flagged) CountBreach(b.site, b.kind);
  }
  return absl::OkStatus();
}

absl::Status TicketsService::RefreshOpenGauges() {
  std::vector<store::OpenCount> counts;
  RETURN_IF_ERROR(db_.Run(absl::Now() + absl::Seconds(10), [&](kit::Conn& c) -> absl::Status {
    absl::StatusOr<std::vector<store::OpenCount>> got = store::CountOpen(c);
    if (!got.ok()) return got.status();
    counts = std::move(*got);
    return absl::OkStatus();
  }));
  absl::MutexLock lock(&gauges_mu_);
  std::set<std::pair<std::string, int>> now_keys;
  for (const store::OpenCount& oc : counts) {
    const prometheus::Labels labels = {{"site", oc.site}, {"kind", KindLabel(oc.kind)}};
    open_.Add(labels).Set(static_cast<double>(oc.count));
    // The breach counter exists at zero before the first breach, so that
    // increase() sees that first one.
    breached_.Add(labels);
    now_keys.insert({oc.site, oc.kind});
  }
  // A site/kind whose last open ticket closed reads 0, not its last count.
  for (const auto& key : gauge_keys_) {
    if (!now_keys.count(key)) {
      open_.Add({{"site", key.first}, {"kind", KindLabel(static_cast<v1::TicketKind>(key.second))}})
          .Set(0);
      now_keys.insert(key);
    }
  }
  gauge_keys_ = std::move(now_keys);
  return absl::OkStatus();
}

TicketsService* RegisterTickets(kit::ServiceHost& host, const kit::Clock& clock,
                                absl::Duration job_interval) {
  auto service = std::make_unique<TicketsService>(host.db(), clock, host.registry());
  TicketsService* raw = service.get();
  host.AddService(std::move(service),
                  v1::Ticket::descriptor()->file()->FindServiceByName("TicketService"));
  host.AddJob("sla-breach-scan", job_interval, [raw] { return raw->ScanBreaches(); });
  host.AddJob("open-ticket-gauges", job_interval, [raw] { return raw->RefreshOpenGauges(); });
  return raw;
}

}  // namespace tickets
