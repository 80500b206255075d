#include "services/tickets/ticket_store.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "services/kit/etag.h"
#include "services/kit/proto_time.h"
#include "services/kit/unique_keys.h"

namespace tickets {
namespace {

constexpr char kColumns[] =
    "site, id, kind, channel, unit, reporter_name, reporter_phone, title, description,"
    " category, priority, department, assignee, extras, status, status_before_wait,"
    " waiting_on, resolution, waiver_reason, reopen_count, return_visit_count, sla_breached,"
    " sla_start, paused_us, waiting_since, response_due, resolve_due, first_response_at,"
    " resolved_at, closed_at, created_at, updated_at, created_by, version, last_visit_at,"
    " initial_response_due, initial_resolve_due";

// Late with the clock running: the one definition of a breach in SQL, used by
// the list filter and the breach scan. Two parameters, both `now`.
constexpr char kLate[] =
    "(status IN (1, 2, 3, 7) AND (resolve_due < ? OR"
    " (first_response_at IS NULL AND response_due < ?)))";

StoredTicket FromRow(const kit::Row& r) {
  StoredTicket t;
  t.site = r.Str(0);
  t.id = r.Int(1);
  v1::Ticket& f = t.fields;
  if (!r.IsNull(13)) f.ParseFromString(r.Str(13));  // attachments, links
  f.set_kind(static_cast<v1::TicketKind>(r.Int(2)));
  f.set_channel(static_cast<v1::Channel>(r.Int(3)));
  f.set_unit(r.Str(4));
  f.set_reporter_name(r.Str(5));
  f.set_reporter_phone(r.Str(6));
  f.set_title(r.Str(7));
  f.set_description(r.Str(8));
  f.set_category(r.Str(9));
  TicketState& s = t.state;
  s.kind = f.kind();
  s.priority = static_cast<v1::Priority>(r.Int(10));
  s.department = r.Str(11);
  s.assignee = r.Str(12);
  s.status = static_cast<v1::TicketStatus>(r.Int(14));
  s.status_before_wait = static_cast<v1::TicketStatus>(r.Int(15));
  s.waiting_on = static_cast<v1::WaitingOn>(r.Int(16));
  s.resolution = r.Str(17);
  s.waiver_reason = r.Str(18);
  s.reopen_count = static_cast<int>(r.Int(19));
  s.return_visit_count = static_cast<int>(r.Int(20));
  s.sla_breached = r.Int(21) != 0;
  s.sla_start = r.Time(22);
  s.paused = absl::Microseconds(r.Int(23));
  s.waiting_since = r.OptTime(24);
  s.response_due = r.Time(25);
  s.resolve_due = r.Time(26);
  s.first_response_time = r.OptTime(27);
  s.resolve_time = r.OptTime(28);
  s.close_time = r.OptTime(29);
  s.create_time = r.Time(30);
  t.update_time = r.Time(31);
  t.created_by = r.Str(32);
  t.version = r.Int(33);
  s.last_visit_time = r.OptTime(34);
  t.initial_response_due = r.Time(35);
  t.initial_resolve_due = r.Time(36);
  return t;
}

std::string Extras(const v1::Ticket& f) {
  v1::Ticket extras;
  *extras.mutable_attachments() = f.attachments();
  *extras.mutable_links() = f.links();
  return extras.SerializeAsString();
}

}  // namespace

v1::Ticket CreatableFields(const v1::Ticket& in) {
  v1::Ticket f;
  f.set_kind(in.kind());
  f.set_channel(in.channel());
  f.set_unit(in.unit());
  f.set_reporter_name(in.reporter_name());
  f.set_reporter_phone(in.reporter_phone());
  f.set_title(in.title());
  f.set_description(in.description());
  f.set_category(in.category());
  f.set_priority(in.priority());
  f.set_department(in.department());
  f.set_assignee(in.assignee());
  *f.mutable_attachments() = in.attachments();
  *f.mutable_links() = in.links();
  return f;
}

StoredTicket AsFirstCreated(const StoredTicket& t, const v1::Ticket& requested) {
  StoredTicket first;
  first.site = t.site;
  first.id = t.id;
  first.fields = CreatableFields(requested);
  first.created_by = t.created_by;
  first.version = 1;
  first.update_time = t.state.create_time;
  first.initial_response_due = t.initial_response_due;
  first.initial_resolve_due = t.initial_resolve_due;
  TicketState& s = first.state;
  s.kind = t.state.kind;
  s.priority = first.fields.priority() == v1::PRIORITY_UNSPECIFIED ? v1::NORMAL
                                                                   : first.fields.priority();
  s.status = v1::OPEN;
  s.department = first.fields.department();
  s.assignee = first.fields.assignee();
  s.create_time = t.state.create_time;
  s.sla_start = t.state.create_time;
  s.paused = absl::ZeroDuration();
  s.response_due = t.initial_response_due;
  s.resolve_due = t.initial_resolve_due;
  return first;
}

v1::Ticket ToProto(const StoredTicket& t) {
  v1::Ticket out = t.fields;
  const TicketState& s = t.state;
  out.set_name(absl::StrCat("sites/", t.site, "/tickets/", t.id));
  out.set_kind(s.kind);
  out.set_priority(s.priority);
  out.set_department(s.department);
  out.set_assignee(s.assignee);
  out.set_status(s.status);
  out.set_waiting_on(s.waiting_on);
  out.set_resolution(s.resolution);
  out.set_waiver_reason(s.waiver_reason);
  out.set_reopen_count(s.reopen_count);
  out.set_return_visit_count(s.return_visit_count);
  out.set_sla_breached(s.sla_breached);
  kit::SetTimestamp(out.mutable_response_due_time(), s.response_due);
  kit::SetTimestamp(out.mutable_resolve_due_time(), s.resolve_due);
  if (s.first_response_time) kit::SetTimestamp(out.mutable_first_response_time(), *s.first_response_time);
  if (s.resolve_time) kit::SetTimestamp(out.mutable_resolve_time(), *s.resolve_time);
  if (s.close_time) kit::SetTimestamp(out.mutable_close_time(), *s.close_time);
  kit::SetTimestamp(out.mutable_create_time(), s.create_time);
  kit::SetTimestamp(out.mutable_update_time(), t.update_time);
  out.set_created_by(t.created_by);
  out.set_etag(kit::Etag(t.version));
  return out;
}

namespace store {

absl::StatusOr<int64_t> InsertTicket(kit::Conn& c, StoredTicket& t, const std::string& request_id,
                                     const std::string& fingerprint) {
  const v1::Ticket& f = t.fields;
  const TicketState& s = t.state;
  // RETURNING (MariaDB) hands back the id in the same round trip.
  absl::StatusOr<std::vector<kit::Row>> r = c.Query(
      "INSERT INTO tickets (site, kind, channel, unit, reporter_name, reporter_phone, title,"
      " description, category, priority, department, assignee, extras, status, resolution,"
      " waiver_reason, sla_start, response_due, resolve_due, created_at, updated_at,"
      " created_by, create_request_id, create_fingerprint, initial_response_due,"
      " initial_resolve_due)"
      " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, '', '', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
      " RETURNING id",
      {t.site, static_cast<int>(s.kind), static_cast<int>(f.channel()), f.unit(),
       f.reporter_name(), f.reporter_phone(), f.title(), f.description(), f.category(),
       static_cast<int>(s.priority), s.department, s.assignee, Extras(f),
       static_cast<int>(s.status), s.sla_start, s.response_due, s.resolve_due, s.create_time,
       s.create_time, t.created_by, request_id, fingerprint, s.response_due, s.resolve_due});
  if (!r.ok()) return r.status();
  if (r->empty()) return absl::InternalError("insert returned no id");
  t.id = r->front().Int(0);
  t.initial_response_due = s.response_due;
  t.initial_resolve_due = s.resolve_due;
  t.version = 1;
  t.update_time = s.create_time;
  return t.id;
}

absl::StatusOr<StoredTicket> ReadTicket(kit::Conn& c, const std::string& site, int64_t id,
                                        bool for_update) {
  absl::StatusOr<kit::Row> row = c.QueryOne(
      for_update ? absl::StrCat("SELECT ", kColumns,
                                " FROM tickets WHERE site = ? AND id = ? FOR UPDATE")
                 : absl::StrCat("SELECT ", kColumns, " FROM tickets WHERE site = ? AND id = ?"),
      {site, id}, "ticket not found");
  if (!row.ok()) return row.status();
  return FromRow(*row);
}

absl::StatusOr<std::pair<StoredTicket, std::string>> ReadTicketByCreateRequest(
    kit::Conn& c, const std::string& request_id) {
  absl::StatusOr<kit::Row> row = c.QueryOne(
      absl::StrCat("SELECT ", kColumns,
                   ", create_fingerprint FROM tickets WHERE create_request_id = ?"),
      {request_id}, "no ticket for this request_id");
  if (!row.ok()) return row.status();
  return std::make_pair(FromRow(*row), row->Str(37));
}

absl::Status SaveTicket(kit::Conn& c, StoredTicket& t, absl::Time now) {
  const v1::Ticket& f = t.fields;
  const TicketState& s = t.state;
  absl::StatusOr<kit::ExecResult> r = c.Exec(
      "UPDATE tickets SET unit = ?, reporter_name = ?, reporter_phone = ?, title = ?,"
      " description = ?, category = ?, priority = ?, department = ?, assignee = ?,"
      " extras = ?, status = ?, status_before_wait = ?, waiting_on = ?, resolution = ?,"
      " waiver_reason = ?, reopen_count = ?, return_visit_count = ?, sla_breached = ?,"
      " sla_start = ?, paused_us = ?, waiting_since = ?, response_due = ?, resolve_due = ?,"
      " first_response_at = ?, resolved_at = ?, closed_at = ?, last_visit_at = ?,"
      " updated_at = ?, version = version + 1 WHERE site = ? AND id = ? AND version = ?",
      {f.unit(), f.reporter_name(), f.reporter_phone(), f.title(), f.description(),
       f.category(), static_cast<int>(s.priority), s.department, s.assignee, Extras(f),
       static_cast<int>(s.status), static_cast<int>(s.status_before_wait),
       static_cast<int>(s.waiting_on), s.resolution, s.waiver_reason, s.reopen_count,
       s.return_visit_count, s.sla_breached, s.sla_start,
       absl::ToInt64Microseconds(s.paused), s.waiting_since, s.response_due, s.resolve_due,
       s.first_response_time, s.resolve_time, s.close_time, s.last_visit_time, now, t.site, t.id,
       t.version});
  if (!r.ok()) return r.status();
  if (r->affected_rows != 1) return absl::AbortedError("ticket changed concurrently; retry");
  ++t.version;
  t.update_time = now;
  return absl::OkStatus();
}

absl::Status AddEvent(kit::Conn& c, const std::string& site, int64_t ticket_id,
                      absl::string_view type, v1::TicketStatus from, v1::TicketStatus to,
                      absl::string_view actor, absl::Time at, absl::string_view detail) {
  return c
      .Exec("INSERT INTO ticket_events (site, ticket_id, type, from_status, to_status, actor,"
            " at, detail) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            {site, ticket_id, type, static_cast<int>(from), static_cast<int>(to), actor, at,
             detail})
      .status();
}

absl::StatusOr<std::vector<StoredTicket>> ListTickets(kit::Conn& c, const TicketFilter& f,
                                                      int64_t after, int limit,
                                                      absl::Time now) {
  std::string sql = absl::StrCat("SELECT ", kColumns, " FROM tickets WHERE site = ? AND id > ?");
  std::vector<kit::SqlParam> params = {f.site, after};
  if (f.status != v1::TICKET_STATUS_UNSPECIFIED) {
    sql += " AND status = ?";
    params.push_back(static_cast<int>(f.status));
  }
  if (f.kind != v1::TICKET_KIND_UNSPECIFIED) {
    sql += " AND kind = ?";
    params.push_back(static_cast<int>(f.kind));
  }
  if (!f.unit.empty()) {
    sql += " AND unit = ?";
    params.push_back(f.unit);
  }
  if (!f.department.empty()) {
    sql += " AND department = ?";
    params.push_back(f.department);
  }
  if (f.created_after) {
    sql += " AND created_at >= ?";
    params.push_back(*f.created_after);
  }
  if (f.created_before) {
    sql += " AND created_at < ?";
    params.push_back(*f.created_before);
  }
  if (f.breached_only) {
    absl::StrAppend(&sql, " AND (sla_breached OR ", kLate, ")");
    params.push_back(now);
    params.push_back(now);
  }
  sql += " ORDER BY id LIMIT ?";
  params.push_back(limit);
  absl::StatusOr<std::vector<kit::Row>> rows = c.Query(sql, params);
  if (!rows.ok()) return rows.status();
  std::vector<StoredTicket> out;
  out.reserve(rows->size());
  for (const kit::Row& r : *rows) out.push_back(FromRow(r));
  return out;
}

absl::StatusOr<std::vector<v1::TicketEvent>> ListEvents(kit::Conn& c, const std::string& site,
                                                        int64_t ticket_id, int64_t after,
                                                        int limit) {
  absl::StatusOr<std::vector<kit::Row>> rows = c.Query(
      "SELECT id, type, from_status, to_status, actor, at, detail FROM ticket_events"
      " WHERE site = ? AND ticket_id = ? AND id > ? ORDER BY id LIMIT ?",
      {site, ticket_id, after, limit});
  if (!rows.ok()) return rows.status();
  std::vector<v1::TicketEvent> out;
  for (const kit::Row& r : *rows) {
    v1::TicketEvent& e = out.emplace_back();
    e.set_sequence(r.Int(0));
    e.set_type(r.Str(1));
    e.set_from_status(static_cast<v1::TicketStatus>(r.Int(2)));
    e.set_to_status(static_cast<v1::TicketStatus>(r.Int(3)));
    e.set_actor(r.Str(4));
    kit::SetTimestamp(e.mutable_time(), r.Time(5));
    e.set_detail(r.Str(6));
  }
  return out;
}

namespace {

v1::ReturnVisit VisitFromRow(const std::string& site, const kit::Row& r) {
  v1::ReturnVisit v;
  v.set_name(absl::StrCat("sites/", site, "/tickets/", r.Int(1), "/returnVisits/", r.Int(0)));
  v.set_channel(static_cast<v1::Channel>(r.Int(2)));
  v.set_satisfaction(static_cast<int32_t>(r.Int(3)));
  v.set_comment(r.Str(4));
  v.set_caller(r.Str(5));
  kit::SetTimestamp(v.mutable_visit_time(), r.Time(6));
  return v;
}

}  // namespace

absl::StatusOr<v1::ReturnVisit> InsertReturnVisit(kit::Conn& c, const std::string& site,
                                                  int64_t ticket_id, v1::ReturnVisit visit) {
  absl::StatusOr<int64_t> id = c.InsertReturningId(
      "INSERT INTO return_visits (site, ticket_id, channel, satisfaction, comment, caller,"
      " visited_at) VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id",
      {site, ticket_id, static_cast<int>(visit.channel()), visit.satisfaction(), visit.comment(),
       visit.caller(), kit::FromTimestamp(visit.visit_time())});
  if (!id.ok()) return id.status();
  visit.set_name(absl::StrCat("sites/", site, "/tickets/", ticket_id, "/returnVisits/", *id));
  return visit;
}

absl::StatusOr<std::vector<v1::ReturnVisit>> ListReturnVisits(kit::Conn& c,
                                                              const std::string& site,
                                                              int64_t ticket_id, int64_t after,
                                                              int limit) {
  absl::StatusOr<std::vector<kit::Row>> rows = c.Query(
      "SELECT id, ticket_id, channel, satisfaction, comment, caller, visited_at"
      " FROM return_visits WHERE site = ? AND ticket_id = ? AND id > ? ORDER BY id LIMIT ?",
      {site, ticket_id, after, limit});
  if (!rows.ok()) return rows.status();
  std::vector<v1::ReturnVisit> out;
  for (const kit::Row& r : *rows) out.push_back(VisitFromRow(site, r));
  return out;
}

absl::StatusOr<SlaPolicyRow> ReadSlaPolicy(kit::Conn& c, const std::string& site,
                                           bool for_update) {
  absl::StatusOr<std::vector<kit::Row>> rows = c.Query(
      for_update ? "SELECT priority, first_response_s, resolution_s, version FROM sla_policies"
                   " WHERE site = ? FOR UPDATE"
                 : "SELECT priority, first_response_s, resolution_s, version FROM sla_policies"
                   " WHERE site = ?",
      {site});
  if (!rows.ok()) return rows.status();
  SlaPolicyRow p;
  for (int pr = v1::LOW; pr <= v1::URGENT; ++pr) {
    p.targets[pr] = DefaultSlaTarget(static_cast<v1::Priority>(pr));
  }
  for (const kit::Row& r : *rows) {
    const int64_t pr = r.Int(0);
    if (pr < v1::LOW || pr > v1::URGENT) continue;
    p.targets[pr] = {absl::Seconds(r.Int(1)), absl::Seconds(r.Int(2))};
    p.version = std::max(p.version, r.Int(3));
  }
  return p;
}

absl::Status WriteSlaPolicy(kit::Conn& c, const std::string& site, const SlaPolicyRow& p) {
  for (int pr = v1::LOW; pr <= v1::URGENT; ++pr) {
    absl::Status s =
        c.Exec("INSERT INTO sla_policies (site, priority, first_response_s, resolution_s, version)"
               " VALUES (?, ?, ?, ?, ?) ON DUPLICATE KEY UPDATE first_response_s = VALUES("
               "first_response_s), resolution_s = VALUES(resolution_s), version = VALUES(version)",
               {site, pr, absl::ToInt64Seconds(p.targets[pr].first_response),
                absl::ToInt64Seconds(p.targets[pr].resolution), p.version})
            .status();
    if (!s.ok()) return s;
  }
  return absl::OkStatus();
}

absl::StatusOr<int64_t> InsertSurvey(kit::Conn& c, const std::string& site,
                                     const v1::Survey& s, absl::string_view actor) {
  return c.InsertReturningId(
      "INSERT INTO surveys (site, title, dimensions, period_start, period_end, created_at,"
      " created_by) VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id",
      {site, s.title(), absl::StrJoin(s.dimensions(), "\n"), s.period_start(), s.period_end(),
       kit::FromTimestamp(s.create_time()), actor});
}

absl::StatusOr<std::vector<std::string>> SurveyDimensions(kit::Conn& c, const std::string& site,
                                                          int64_t id) {
  absl::StatusOr<kit::Row> row = c.QueryOne(
      "SELECT dimensions FROM surveys WHERE site = ? AND id = ?", {site, id}, "survey not found");
  if (!row.ok()) return row.status();
  return std::vector<std::string>(absl::StrSplit(row->Str(0), '\n', absl::SkipEmpty()));
}

absl::StatusOr<v1::Survey> ReadSurvey(kit::Conn& c, const std::string& site, int64_t id) {
  absl::StatusOr<kit::Row> row = c.QueryOne(
      "SELECT title, dimensions, period_start, period_end, created_at FROM surveys"
      " WHERE site = ? AND id = ?",
      {site, id}, "survey not found");
  if (!row.ok()) return row.status();
  v1::Survey s;
  s.set_name(absl::StrCat("sites/", site, "/surveys/", id));
  s.set_title(row->Str(0));
  for (absl::string_view d : absl::StrSplit(row->Str(1), '\n', absl::SkipEmpty())) {
    s.add_dimensions(std::string(d));
  }
  s.set_period_start(row->Str(2));
  s.set_period_end(row->Str(3));
  kit::SetTimestamp(s.mutable_create_time(), row->Time(4));
  absl::StatusOr<std::vector<kit::Row>> counts = c.Query(
      "SELECT r.dimension, COUNT(*), SUM(r.rating >= 4) FROM survey_ratings r"
      " JOIN survey_responses p ON p.site = r.site AND p.id = r.response_id"
      " WHERE p.site = ? AND p.survey_id = ? GROUP BY r.dimension ORDER BY r.dimension",
      {site, id});
  if (!counts.ok()) return counts.status();
  absl::StatusOr<kit::Row> n = c.QueryOne(
      "SELECT COUNT(*) FROM survey_responses WHERE site = ? AND survey_id = ?", {site, id}, "");
  if (!n.ok()) return n.status();
  s.set_response_count(static_cast<int32_t>(n->Int(0)));
  for (const kit::Row& r : *counts) {
    v1::DimensionSatisfaction* d = s.add_results();
    d->set_dimension(r.Str(0));
    d->set_ratings(static_cast<int32_t>(r.Int(1)));
    d->set_satisfied(static_cast<int32_t>(r.Int(2)));
    d->set_satisfaction_bp(BasisPoints(r.Int(2), r.Int(1)));
  }
  return s;
}

absl::StatusOr<int64_t> InsertSurveyResponse(kit::Conn& c, const std::string& site,
                                             int64_t survey_id, const v1::SurveyResponse& r,
                                             absl::string_view actor) {
  // What a duplicate on each unique key of survey_responses means.
  static constexpr kit::UniqueKeys kResponseKeys{{
      {"one_per_household", absl::StatusCode::kAlreadyExists,
       "this household has already answered this survey"},
  }};
  absl::StatusOr<int64_t> ins = kResponseKeys.Map(c.InsertReturningId(
      "INSERT INTO survey_responses (site, survey_id, unit, comment, created_at, created_by)"
      " VALUES (?, ?, ?, ?, ?, ?) RETURNING id",
      {site, survey_id, r.unit(), r.comment(), kit::FromTimestamp(r.create_time()), actor}));
  if (!ins.ok()) return ins.status();
  // Sorted, so that the statement order (and so lock order) is stable.
  std::map<std::string, int32_t> sorted(r.ratings().begin(), r.ratings().end());
  for (const auto& [dimension, rating] : sorted) {
    absl::Status s = c.Exec("INSERT INTO survey_ratings (site, response_id, dimension, rating)"
                            " VALUES (?, ?, ?, ?)",
                            {site, *ins, dimension, rating})
                         .status();
    if (!s.ok()) return s;
  }
  return *ins;
}

absl::StatusOr<std::vector<StatTicket>> StatTickets(kit::Conn& c, const std::string& site,
                                                    absl::Time start, absl::Time end,
                                                    absl::Time now) {
  absl::StatusOr<std::vector<kit::Row>> rows = c.Query(
      absl::StrCat("SELECT kind, status, created_at, resolved_at, sla_breached OR ", kLate,
                   ", return_visit_count FROM tickets"
                   " WHERE site = ? AND created_at >= ? AND created_at < ?"),
      {now, now, site, start, end});
  if (!rows.ok()) return rows.status();
  std::vector<StatTicket> out;
  out.reserve(rows->size());
  for (const kit::Row& r : *rows) {
    out.push_back({static_cast<v1::TicketKind>(r.Int(0)), static_cast<v1::TicketStatus>(r.Int(1)),
                   r.Time(2), r.OptTime(3), r.Int(4) != 0, static_cast<int>(r.Int(5))});
  }
  return out;
}

absl::StatusOr<std::vector<int>> ReturnVisitRatings(kit::Conn& c, const std::string& site,
                                                    absl::Time start, absl::Time end) {
  absl::StatusOr<std::vector<kit::Row>> rows = c.Query(
      "SELECT satisfaction FROM return_visits WHERE site = ? AND visited_at >= ?"
      " AND visited_at < ?",
      {site, start, end});
  if (!rows.ok()) return rows.status();
  std::vector<int> out;
  for (const kit::Row& r : *rows) out.push_back(static_cast<int>(r.Int(0)));
  return out;
}

absl::StatusOr<std::vector<SurveyRating>> SurveyRatings(kit::Conn& c, const std::string& site,
                                                        absl::Time start, absl::Time end) {
  absl::StatusOr<std::vector<kit::Row>> rows = c.Query(
      "SELECT r.dimension, r.rating FROM survey_ratings r JOIN survey_responses p"
      " ON p.site = r.site AND p.id = r.response_id"
      " WHERE p.site = ? AND p.created_at >= ? AND p.created_at < ?",
      {site, start, end});
  if (!rows.ok()) return rows.status();
  std::vector<SurveyRating> out;
  for (const kit::Row& r : *rows) out.push_back({r.Str(0), static_cast<int>(r.Int(1))});
  return out;
}

absl::StatusOr<std::vector<BreachCandidate>> BreachCandidates(kit::Conn& c, absl::Time now,
                                                              int limit) {
  absl::StatusOr<std::vector<kit::Row>> rows = c.Query(
      absl::StrCat("SELECT site, id, kind FROM tickets WHERE NOT sla_breached AND ", kLate,
                   " LIMIT ?"),
      {now, now, limit});
  if (!rows.ok()) return rows.status();
  std::vector<BreachCandidate> out;
  for (const kit::Row& r : *rows) {
    out.push_back({r.Str(0), r.Int(1), static_cast<v1::TicketKind>(r.Int(2))});
  }
  return out;
}

absl::StatusOr<std::optional<v1::TicketStatus>> FlagBreach(kit::Conn& c, const std::string& site,
                                                           int64_t id, absl::Time now) {
  absl::StatusOr<kit::ExecResult> r = c.Exec(
      absl::StrCat("UPDATE tickets SET sla_breached = TRUE WHERE site = ? AND id = ?"
                   " AND NOT sla_breached AND ",
                   kLate),
      {site, id, now, now});
  if (!r.ok()) return r.status();
  if (r->affected_rows != 1) return std::optional<v1::TicketStatus>();
  // The row is locked by the update: this is the status the breach happened in.
  absl::StatusOr<kit::Row> row =
      c.QueryOne("SELECT status FROM tickets WHERE site = ? AND id = ?", {site, id}, "");
  if (!row.ok()) return row.status();
  return std::optional<v1::TicketStatus>(static_cast<v1::TicketStatus>(row->Int(0)));
}

absl::StatusOr<std::vector<OpenCount>> CountOpen(kit::Conn& c) {
  absl::StatusOr<std::vector<kit::Row>> rows = c.Query(
      "SELECT site, kind, COUNT(*) FROM tickets WHERE status IN (1, 2, 3, 4, 7)"
      " GROUP BY site, kind");
  if (!rows.ok()) return rows.status();
  std::vector<OpenCount> out;
  for (const kit::Row& r : *rows) {
    out.push_back({r.Str(0), static_cast<v1::TicketKind>(r.Int(1)), r.Int(2)});
  }
  return out;
}

}  // namespace store
}  // namespace tickets
