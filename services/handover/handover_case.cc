#include "services/handover/handover_case.h"

#include <initializer_list>
#include <set>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "services/kit/civil_text.h"
#include "services/kit/field_error.h"
#include "services/kit/proto_time.h"
#include "services/kit/status_macros.h"
#include "services/kit/validate.h"

namespace handover {

using kit::FieldError;

namespace {

absl::Status Illegal(const v1::HandoverCase& c, absl::string_view what) {
  return absl::FailedPreconditionError(
      absl::StrCat("cannot ", what, " a case that is ", v1::CaseState_Name(c.state())));
}

bool OneOf(v1::CaseState s, std::initializer_list<v1::CaseState> states) {
  for (v1::CaseState x : states) {
    if (s == x) return true;
  }
  return false;
}

int OpenDefects(const v1::HandoverCase& c) {
  int n = 0;
  for (const v1::Defect& d : c.defects()) n += d.state() == v1::OPEN ? 1 : 0;
  return n;
}

absl::Status CheckDefect(const std::string& f, const v1::Defect& d,
                         const std::set<std::string>& categories, absl::CivilDay today) {
  RETURN_IF_ERROR(kit::CheckText(f + ".location", d.location(), 200, true));
  if (!categories.count(d.category())) {
    return FieldError(f + ".category", "must be a checklist item code of the batch");
  }
  RETURN_IF_ERROR(kit::CheckText(f + ".description", d.description(), 2000, false));
  RETURN_IF_ERROR(kit::CheckText(f + ".photo_uri", d.photo_uri(), 500, false));
  RETURN_IF_ERROR(kit::CheckText(f + ".contractor", d.contractor(), 200, true));
  absl::StatusOr<absl::CivilDay> due = kit::ParseDay(f + ".due_date", d.due_date());
  if (!due.ok()) return due.status();
  if (*due < today) return FieldError(f + ".due_date", "must not be before the inspection");
  return absl::OkStatus();
}

absl::Status CheckArea(const std::string& field, absl::string_view area) {
  // "98.37": digits, at most two decimals, above zero.
  const size_t dot = area.find('.');
  const absl::string_view whole = area.substr(0, dot);
  const absl::string_view frac = dot == absl::string_view::npos ? "" : area.substr(dot + 1);
  bool digits = !whole.empty() && whole.size() <= 6 && frac.size() <= 2 &&
                (dot == absl::string_view::npos || !frac.empty());
  for (char c : whole) digits = digits && absl::ascii_isdigit(c);
  for (char c : frac) digits = digits && absl::ascii_isdigit(c);
  if (!digits || area.find_first_not_of("0.") == absl::string_view::npos) {
    return FieldError(field, "square metres above 0, up to 2 decimals (\"98.37\")");
  }
  return absl::OkStatus();
}

}  // namespace

std::vector<v1::ChecklistItem> DefaultChecklist() {
  std::vector<v1::ChecklistItem> out;
  for (const auto& [code, name] : std::vector<std::pair<const char*, const char*>>{
           {"walls", "Walls and ceilings"},
           {"floors", "Floors and tiles"},
           {"waterproofing", "Waterproofing (bathroom, kitchen, balcony)"},
           {"doors-and-locks", "Doors and locks"},
           {"windows", "Windows and glazing"},
           {"plumbing", "Plumbing and drains"},
           {"electrical", "Electrical: sockets, switches, panel"},
           {"meters", "Meters: water, electricity, gas"}}) {
    v1::ChecklistItem item;
    item.set_code(code);
    item.set_display_name(name);
    out.push_back(std::move(item));
  }
  return out;
}

absl::StatusOr<v1::HandoverCase> NewCase(absl::string_view prefix, const v1::HandoverCase& in) {
  const std::string p(prefix);
  RETURN_IF_ERROR(kit::CheckUnitId(p + "unit", in.unit()));
  RETURN_IF_ERROR(kit::CheckText(p + "owner_name", in.owner_name(), 200, true));
  RETURN_IF_ERROR(kit::CheckPhone(p + "owner_phone", in.owner_phone(), true));
  RETURN_IF_ERROR(kit::CheckText(p + "building", in.building(), 64, true));
  RETURN_IF_ERROR(CheckArea(p + "billable_area", in.billable_area()));
  v1::HandoverCase body;
  body.set_unit(in.unit());
  body.set_owner_name(in.owner_name());
  body.set_owner_phone(in.owner_phone());
  body.set_building(in.building());
  body.set_billable_area(in.billable_area());
  body.set_state(v1::NOT_SCHEDULED);
  return body;
}

absl::Status Schedule(v1::HandoverCase& c, const v1::Appointment& appointment) {
  if (!OneOf(c.state(), {v1::NOT_SCHEDULED, v1::SCHEDULED, v1::REFUSED, v1::RECTIFYING})) {
    return Illegal(c, "schedule an inspection for");
  }
  *c.mutable_appointment() = appointment;
  if (c.state() != v1::RECTIFYING) {
    c.set_state(v1::SCHEDULED);
    c.clear_refusal_reason();
  }
  return absl::OkStatus();
}

absl::Status Inspect(v1::HandoverCase& c, const v1::HandoverBatch& batch,
                     const std::vector<v1::ChecklistResult>& results,
                     const std::vector<v1::Defect>& defects, int64_t first_defect_id,
                     absl::Time now) {
  if (c.state() != v1::SCHEDULED) return Illegal(c, "record the inspection of");
  std::set<std::string> codes;
  for (const v1::ChecklistItem& item : batch.checklist()) codes.insert(item.code());
  std::set<std::string> seen, failed;
  for (size_t i = 0; i < results.size(); ++i) {
    const std::string f = absl::StrCat("checklist[", i, "]");
    const v1::ChecklistResult& r = results[i];
    if (!codes.count(r.code())) return FieldError(f + ".code", "not an item of the batch");
    if (!seen.insert(r.code()).second) return FieldError(f + ".code", "given twice");
    if (r.result() != v1::PASS && r.result() != v1::FAIL && r.result() != v1::NOT_APPLICABLE) {
      return FieldError(f + ".result", "PASS, FAIL or NOT_APPLICABLE");
    }
    RETURN_IF_ERROR(kit::CheckText(f + ".note", r.note(), 500, false));
    if (r.result() == v1::FAIL) failed.insert(r.code());
  }
  for (const std::string& code : codes) {
    if (!seen.count(code)) return FieldError("checklist", absl::StrCat("no result for '", code, "'"));
  }
  // Due dates are the site's days, as the batch's appointments are.
  absl::TimeZone zone;
  if (!absl::LoadTimeZone(batch.time_zone(), &zone)) zone = absl::UTCTimeZone();
  const absl::CivilDay today = absl::ToCivilDay(now, zone);
  std::set<std::string> with_defect;
  for (size_t i = 0; i < defects.size(); ++i) {
    RETURN_IF_ERROR(CheckDefect(absl::StrCat("defects[", i, "]"), defects[i], codes, today));
    if (!failed.count(defects[i].category())) {
      return FieldError(absl::StrCat("defects[", i, "].category"),
                        "its checklist item did not fail");
    }
    with_defect.insert(defects[i].category());
  }
  for (const std::string& code : failed) {
    if (!with_defect.count(code)) {
      return FieldError("defects", absl::StrCat("'", code, "' failed: name at least one defect"));
    }
  }
  c.clear_checklist();
  for (const v1::ChecklistResult& r : results) *c.add_checklist() = r;
  int64_t id = first_defect_id;
  for (const v1::Defect& in : defects) {
    v1::Defect* d = c.add_defects();
    *d = in;
    d->set_name(absl::StrCat(c.name(), "/defects/", id++));
    d->set_state(v1::OPEN);
    d->clear_ticket();
    d->clear_fix_time();
    kit::SetTimestamp(d->mutable_create_time(), now);
  }
  c.set_state(defects.empty() ? v1::INSPECTED : v1::RECTIFYING);
  return absl::OkStatus();
}

absl::Status FixDefect(v1::HandoverCase& c, int64_t defect_id, absl::Time now) {
  if (c.state() != v1::RECTIFYING) return Illegal(c, "fix a defect of");
  for (v1::Defect& d : *c.mutable_defects()) {
    if (DefectId(d) != defect_id) continue;
    if (d.state() != v1::OPEN) {
      return absl::FailedPreconditionError(
          absl::StrCat("the defect is ", v1::DefectState_Name(d.state()), ", not OPEN"));
    }
    d.set_state(v1::FIXED);
    kit::SetTimestamp(d.mutable_fix_time(), now);
    if (OpenDefects(c) == 0) c.set_state(v1::INSPECTED);
    return absl::OkStatus();
  }
  return absl::NotFoundError("the case has no such defect");
}

absl::Status Accept(v1::HandoverCase& c, absl::string_view accepted_by,
                    absl::string_view signature_ref, absl::Time now) {
  if (!OneOf(c.state(), {v1::INSPECTED, v1::RECTIFYING})) return Illegal(c, "accept");
  RETURN_IF_ERROR(kit::CheckText("accepted_by", accepted_by, 200, true));
  RETURN_IF_ERROR(kit::CheckText("signature_ref", signature_ref, 500, true));
  c.set_accepted_by(std::string(accepted_by));
  c.set_signature_ref(std::string(signature_ref));
  kit::SetTimestamp(c.mutable_accept_time(), now);
  c.set_state(v1::ACCEPTED);
  return absl::OkStatus();
}

absl::Status Refuse(v1::HandoverCase& c, absl::string_view reason) {
  if (!OneOf(c.state(), {v1::SCHEDULED, v1::INSPECTED, v1::RECTIFYING})) return Illegal(c, "refuse");
  RETURN_IF_ERROR(kit::CheckText("reason", reason, 1000, true));
  c.set_refusal_reason(std::string(reason));
  c.set_state(v1::REFUSED);
  return absl::OkStatus();
}

absl::Status Hold(v1::HandoverCase& c, absl::string_view reason) {
  if (OneOf(c.state(), {v1::COMPLETED, v1::ON_HOLD})) return Illegal(c, "put on hold");
  RETURN_IF_ERROR(kit::CheckText("reason", reason, 1000, true));
  c.set_hold_reason(std::string(reason));
  c.set_held_from(c.state());
  c.set_state(v1::ON_HOLD);
  return absl::OkStatus();
}

absl::Status Resume(v1::HandoverCase& c) {
  if (c.state() != v1::ON_HOLD) return Illegal(c, "resume");
  c.set_state(c.held_from());
  c.clear_held_from();
  c.clear_hold_reason();
  return absl::OkStatus();
}

absl::Status Complete(v1::HandoverCase& c, absl::CivilDay handover_date, absl::CivilDay accepted_on,
                      absl::CivilDay today, absl::Time now) {
  if (c.state() != v1::ACCEPTED) return Illegal(c, "complete");
  if (handover_date < accepted_on) {
    return FieldError("handover_date", "must not be before the owner accepted");
  }
  if (handover_date > today) return FieldError("handover_date", "must not be in the future");
  c.set_handover_date(kit::DayText(handover_date));
  for (v1::Defect& d : *c.mutable_defects()) {
    if (d.state() == v1::OPEN) d.set_state(v1::TICKETED);
  }
  kit::SetTimestamp(c.mutable_complete_time(), now);
  c.set_state(v1::COMPLETED);
  return absl::OkStatus();
}

int64_t DefectId(const v1::Defect& d) {
  const size_t slash = d.name().rfind('/');
  int64_t id = 0;
  if (slash == std::string::npos || !absl::SimpleAtoi(d.name().substr(slash + 1), &id)) return 0;
  return id;
}

}  // namespace handover
