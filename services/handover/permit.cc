#include "services/handover/permit.h"

#include <initializer_list>
#include <memory>
#include <optional>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "estate/billing/v1/billing.pb.h"
#include "estate/tickets/v1/tickets.pb.h"
#include "services/kit/civil_text.h"
#include "services/kit/field_error.h"
#include "services/kit/proto_time.h"
#include "services/kit/status_macros.h"
#include "services/kit/validate.h"

namespace handover {

using kit::FieldError;

namespace {

namespace billing = ::estate::billing::v1;
namespace tickets = ::estate::tickets::v1;

constexpr int kMaxPlannedDays = 366;
constexpr int kMaxWorkers = 200;

absl::Status Illegal(const v1::RenovationPermit& p, absl::string_view what) {
  return absl::FailedPreconditionError(
      absl::StrCat("cannot ", what, " a permit that is ", v1::PermitState_Name(p.state())));
}

bool OneOf(v1::PermitState s, std::initializer_list<v1::PermitState> states) {
  for (v1::PermitState x : states) {
    if (s == x) return true;
  }
  return false;
}

absl::CivilDay Today(const v1::RenovationPermit& p, absl::Time now) {
  return absl::ToCivilDay(now, ZoneOf(p));
}

// Days and clock times below were checked when the permit was made.
absl::CivilDay DayOf(const std::string& text) {
  absl::CivilDay d;
  absl::ParseCivilTime(text, &d);
  return d;
}

absl::Status CheckMoney(const std::string& p, absl::string_view site,
                        const v1::RenovationPermit& in) {
  if (in.deposit_minor() < 0) return FieldError(p + "deposit_minor", "must not be negative");
  if (in.garbage_fee_minor() < 0) {
    return FieldError(p + "garbage_fee_minor", "must not be negative");
  }
  const std::string& code = in.currency_code();
  if (code.empty()) {
    if (in.deposit_minor() > 0 || in.garbage_fee_minor() > 0) {
      return FieldError(p + "currency_code", "required with a deposit or fee (\"CNY\")");
    }
    return absl::OkStatus();
  }
  bool letters = code.size() == 3;
  for (char c : code) letters = letters && absl::ascii_isupper(c);
  if (!letters) return FieldError(p + "currency_code", "an ISO 4217 code such as \"CNY\"");
  // Each amount is charged under a billing item of the permit's site.
  const auto item = [&](const char* field, int64_t amount,
                        const std::string& name) -> absl::Status {
    const std::string f = p + field;
    if (name.empty()) {
      if (amount == 0) return absl::OkStatus();
      return FieldError(f,
                        "required with the amount: billing's ONE_OFF charge item to charge it "
                        "under (sites/{site}/chargeItems/{id})");
    }
    ASSIGN_OR_RETURN(kit::SiteId ref, kit::ParseSiteId(f, name, "chargeItems"));
    if (ref.site != site) return FieldError(f, "must be a charge item of the permit's site");
    return absl::OkStatus();
  };
  RETURN_IF_ERROR(item("deposit_charge_item", in.deposit_minor(), in.deposit_charge_item()));
  return item("garbage_fee_charge_item", in.garbage_fee_minor(), in.garbage_fee_charge_item());
}

// "renovationPermits/12/deposit": the permit's name without its site, which
// billing's account already names.
std::string ChargeReference(const v1::RenovationPermit& p, absl::string_view what) {
  const size_t at = p.name().find("/renovationPermits/");
  return absl::StrCat(at == std::string::npos ? p.name() : p.name().substr(at + 1), "/", what);
}

std::string AccountOf(const v1::RenovationPermit& p, absl::string_view site) {
  return absl::StrCat("sites/", site, "/accounts/", p.unit());
}

}  // namespace

absl::TimeZone ZoneOf(const v1::RenovationPermit& p) {
  absl::TimeZone zone;
  if (!absl::LoadTimeZone(p.time_zone(), &zone)) zone = absl::UTCTimeZone();
  return zone;
}

absl::StatusOr<v1::RenovationPermit> NewPermit(absl::string_view prefix, absl::string_view site,
                                               const v1::RenovationPermit& in, absl::Time now) {
  const std::string p(prefix);
  RETURN_IF_ERROR(kit::CheckUnitId(p + "unit", in.unit()));
  RETURN_IF_ERROR(kit::CheckText(p + "owner_name", in.owner_name(), 200, true));
  RETURN_IF_ERROR(kit::CheckPhone(p + "owner_phone", in.owner_phone(), true));
  RETURN_IF_ERROR(kit::CheckText(p + "contractor", in.contractor(), 200, true));
  RETURN_IF_ERROR(kit::CheckText(p + "scope", in.scope(), 2000, true));
  absl::TimeZone zone;
  if (in.time_zone().empty() || !absl::LoadTimeZone(in.time_zone(), &zone)) {
    return FieldError(p + "time_zone", "an IANA time zone such as Asia/Shanghai");
  }
  ASSIGN_OR_RETURN(absl::CivilDay start, kit::ParseDay(p + "planned_start", in.planned_start()));
  ASSIGN_OR_RETURN(absl::CivilDay end, kit::ParseDay(p + "planned_end", in.planned_end()));
  if (end < start) return FieldError(p + "planned_end", "must not be before planned_start");
  if (end - start >= kMaxPlannedDays) {
    return FieldError(p + "planned_end", "at most a year after planned_start");
  }
  // An application for work already over is a record of unpermitted work,
  // which is an inspection's finding, not a permit.
  if (end < absl::ToCivilDay(now, zone)) {
    return FieldError(p + "planned_end", "must not be before today");
  }
  const std::optional<int> from = kit::ParseClock(in.work_start());
  if (!from) return FieldError(p + "work_start", "a time HH:MM");
  const std::optional<int> to = kit::ParseClock(in.work_end());
  if (!to) return FieldError(p + "work_end", "a time HH:MM");
  // Night work is what the hours keep out, so a day never wraps midnight.
  if (*to <= *from) return FieldError(p + "work_end", "must be after work_start");
  if (in.workers() < 1 || in.workers() > kMaxWorkers) {
    return FieldError(p + "workers", absl::StrCat("between 1 and ", kMaxWorkers));
  }
  RETURN_IF_ERROR(CheckMoney(p, site, in));

  v1::RenovationPermit out;
  out.set_unit(in.unit());
  out.set_owner_name(in.owner_name());
  out.set_owner_phone(in.owner_phone());
  out.set_contractor(in.contractor());
  out.set_scope(in.scope());
  out.set_planned_start(in.planned_start());
  out.set_planned_end(in.planned_end());
  out.set_work_start(in.work_start());
  out.set_work_end(in.work_end());
  out.set_time_zone(in.time_zone());
  out.set_workers(in.workers());
  out.set_deposit_minor(in.deposit_minor());
  out.set_garbage_fee_minor(in.garbage_fee_minor());
  out.set_currency_code(in.currency_code());
  if (in.deposit_minor() > 0) out.set_deposit_charge_item(in.deposit_charge_item());
  if (in.garbage_fee_minor() > 0) out.set_garbage_fee_charge_item(in.garbage_fee_charge_item());
  out.set_state(v1::PERMIT_APPLIED);
  return out;
}

absl::Status Approve(v1::RenovationPermit& p, absl::string_view approver,
                     absl::string_view conditions, absl::Time now) {
  if (p.state() != v1::PERMIT_APPLIED) return Illegal(p, "approve");
  RETURN_IF_ERROR(kit::CheckText("conditions", conditions, 2000, false));
  if (DayOf(p.planned_end()) < Today(p, now)) {
    return absl::FailedPreconditionError(absl::StrCat(
        "the planned days ended on ", p.planned_end(), ": the owner applies again with new dates"));
  }
  p.set_approver(std::string(approver));
  p.set_conditions(std::string(conditions));
  kit::SetTimestamp(p.mutable_approve_time(), now);
  p.set_state(v1::PERMIT_APPROVED);
  return absl::OkStatus();
}

absl::Status Refuse(v1::RenovationPermit& p, absl::string_view reason) {
  if (p.state() != v1::PERMIT_APPLIED) return Illegal(p, "refuse");
  RETURN_IF_ERROR(kit::CheckText("reason", reason, 1000, true));
  p.set_refusal_reason(std::string(reason));
  p.set_state(v1::PERMIT_REFUSED);
  return absl::OkStatus();
}

absl::Status Inspect(v1::RenovationPermit& p, absl::string_view inspector, absl::string_view note,
                     v1::ViolationKind violation, absl::string_view violation_description,
                     absl::Time now) {
  if (!OneOf(p.state(), {v1::PERMIT_APPLIED, v1::PERMIT_APPROVED, v1::PERMIT_SUSPENDED})) {
    return Illegal(p, "inspect the work of");
  }
  RETURN_IF_ERROR(kit::CheckText("inspector", inspector, 128, true));
  RETURN_IF_ERROR(kit::CheckText("note", note, 2000, false));
  if (!v1::ViolationKind_IsValid(violation)) return FieldError("violation", "unknown kind");
  const bool found = violation != v1::VIOLATION_KIND_UNSPECIFIED;
  RETURN_IF_ERROR(
      kit::CheckText("violation_description", violation_description, 2000, found));
  if (!found && !violation_description.empty()) {
    return FieldError("violation_description", "only with a violation");
  }
  if (p.inspections_size() >= kMaxInspections) {
    return absl::ResourceExhaustedError(
        absl::StrCat("the permit has ", kMaxInspections, " inspections, the most it keeps"));
  }
  v1::RenovationInspection* i = p.add_inspections();
  i->set_inspector(std::string(inspector));
  i->set_note(std::string(note));
  i->set_violation(violation);
  i->set_violation_description(std::string(violation_description));
  kit::SetTimestamp(i->mutable_time(), now);
  if (found && p.state() == v1::PERMIT_APPROVED) {
    v1::Suspension* s = p.mutable_suspension();
    s->set_kind(violation);
    s->set_description(std::string(violation_description));
    s->set_inspector(std::string(inspector));
    kit::SetTimestamp(s->mutable_time(), now);
    p.set_state(v1::PERMIT_SUSPENDED);
  }
  return absl::OkStatus();
}

absl::Status ResumeWork(v1::RenovationPermit& p, absl::string_view note) {
  if (p.state() != v1::PERMIT_SUSPENDED) return Illegal(p, "resume the work of");
  RETURN_IF_ERROR(kit::CheckText("note", note, 1000, true));
  p.clear_suspension();
  p.set_state(v1::PERMIT_APPROVED);
  return absl::OkStatus();
}

absl::Status Close(v1::RenovationPermit& p, absl::string_view inspector, absl::string_view note,
                   int64_t deposit_kept_minor, absl::string_view deposit_kept_reason,
                   absl::Time now) {
  if (p.state() != v1::PERMIT_APPROVED) return Illegal(p, "close");
  RETURN_IF_ERROR(kit::CheckText("inspector", inspector, 128, true));
  RETURN_IF_ERROR(kit::CheckText("note", note, 2000, false));
  if (deposit_kept_minor < 0 || deposit_kept_minor > p.deposit_minor()) {
    return FieldError("deposit_kept_minor",
                      absl::StrCat("between 0 and the deposit, ", p.deposit_minor()));
  }
  const bool kept = deposit_kept_minor > 0;
  RETURN_IF_ERROR(kit::CheckText("deposit_kept_reason", deposit_kept_reason, 500, kept));
  if (!kept && !deposit_kept_reason.empty()) {
    return FieldError("deposit_kept_reason", "only with an amount kept");
  }
  p.set_closed_by(std::string(inspector));
  p.set_closing_note(std::string(note));
  p.set_deposit_kept_minor(deposit_kept_minor);
  p.set_deposit_kept_reason(std::string(deposit_kept_reason));
  kit::SetTimestamp(p.mutable_close_time(), now);
  p.set_state(v1::PERMIT_CLOSED);
  return absl::OkStatus();
}

absl::StatusOr<v1::WorkerPass> NewPass(const v1::RenovationPermit& p, const v1::WorkerPass& in,
                                       int active, absl::Time now) {
  if (p.state() != v1::PERMIT_APPROVED) return Illegal(p, "issue a pass on");
  RETURN_IF_ERROR(kit::CheckText("pass.worker_name", in.worker_name(), 200, true));
  RETURN_IF_ERROR(kit::CheckPhone("pass.worker_phone", in.worker_phone(), true));
  ASSIGN_OR_RETURN(absl::CivilDay from, kit::ParseDay("pass.valid_from", in.valid_from()));
  ASSIGN_OR_RETURN(absl::CivilDay to, kit::ParseDay("pass.valid_to", in.valid_to()));
  if (to < from) return FieldError("pass.valid_to", "must not be before valid_from");
  if (from < DayOf(p.planned_start())) {
    return FieldError("pass.valid_from",
                      absl::StrCat("must not be before the permit's planned_start ",
                                   p.planned_start()));
  }
  if (to > DayOf(p.planned_end())) {
    return FieldError("pass.valid_to",
                      absl::StrCat("must not be after the permit's planned_end ", p.planned_end()));
  }
  if (to < Today(p, now)) return FieldError("pass.valid_to", "must not be before today");
  if (active >= p.workers()) {
    return absl::FailedPreconditionError(
        absl::StrCat("the permit is for ", p.workers(), " worker(s) and ", active,
                     " pass(es) are active: revoke one first"));
  }
  v1::WorkerPass out;
  out.set_worker_name(in.worker_name());
  out.set_worker_phone(in.worker_phone());
  out.set_valid_from(in.valid_from());
  out.set_valid_to(in.valid_to());
  out.set_state(v1::PASS_ACTIVE);
  kit::SetTimestamp(out.mutable_issue_time(), now);
  return out;
}

absl::Status Revoke(v1::WorkerPass& pass, absl::string_view reason, absl::Time now) {
  if (pass.state() != v1::PASS_ACTIVE) {
    return absl::FailedPreconditionError(
        absl::StrCat("cannot revoke a pass that is ", v1::PassState_Name(pass.state())));
  }
  RETURN_IF_ERROR(kit::CheckText("reason", reason, 500, true));
  pass.set_revoke_reason(std::string(reason));
  kit::SetTimestamp(pass.mutable_end_time(), now);
  pass.set_state(v1::PASS_REVOKED);
  return absl::OkStatus();
}

PassVerdict CheckPass(const v1::RenovationPermit& p, const v1::WorkerPass& pass, absl::Time at) {
  const absl::TimeZone zone = ZoneOf(p);
  const absl::CivilMinute local = absl::ToCivilMinute(at, zone);
  PassVerdict v;
  v.local_time = absl::FormatTime("%Y-%m-%d %H:%M", at, zone);
  const auto deny = [&](v1::PassDenial denial, std::string reason) {
    v.denial = denial;
    v.reason = std::move(reason);
    return v;
  };
  if (pass.state() == v1::PASS_REVOKED) {
    return deny(v1::DENIED_REVOKED, absl::StrCat("the pass was revoked: ", pass.revoke_reason()));
  }
  switch (p.state()) {
    case v1::PERMIT_APPROVED:
      break;
    case v1::PERMIT_SUSPENDED:
      return deny(v1::DENIED_PERMIT_SUSPENDED,
                  absl::StrCat("the work is suspended: ", ViolationText(p.suspension().kind())));
    case v1::PERMIT_CLOSED:
      return deny(v1::DENIED_PERMIT_CLOSED, "the permit is closed");
    default:
      return deny(v1::DENIED_PERMIT_NOT_APPROVED,
                  absl::StrCat("the permit is ", v1::PermitState_Name(p.state()),
                               ", not approved"));
  }
  // Ended passes belong to closed permits; one seen otherwise is still over.
  if (pass.state() != v1::PASS_ACTIVE) {
    return deny(v1::DENIED_PERMIT_CLOSED, "the pass has ended");
  }
  const absl::CivilDay day(local);
  if (day < DayOf(pass.valid_from()) || day > DayOf(pass.valid_to())) {
    return deny(v1::DENIED_OUTSIDE_DATES, absl::StrCat("outside the pass's days ",
                                                       pass.valid_from(), " to ", pass.valid_to()));
  }
  const int minute = local.hour() * 60 + local.minute();
  const int from = kit::ParseClock(p.work_start()).value_or(0);
  const int to = kit::ParseClock(p.work_end()).value_or(0);
  if (minute < from || minute >= to) {
    return deny(v1::DENIED_OUTSIDE_HOURS, absl::StrCat("outside the working hours ", p.work_start(),
                                                       "-", p.work_end()));
  }
  v.valid = true;
  return v;
}

std::string ViolationText(v1::ViolationKind kind) {
  switch (kind) {
    case v1::NO_PERMIT_WORK: return "work without a permit";
    case v1::OUTSIDE_HOURS: return "work outside the permitted hours";
    case v1::STRUCTURAL_CHANGE: return "a structural change";
    case v1::OTHER_VIOLATION: return "a breach of the renovation rules";
    default: return "no violation";
  }
}

PeerCall ViolationTicket(const v1::RenovationPermit& p, absl::string_view site,
                         const v1::RenovationInspection& inspection) {
  auto r = std::make_unique<tickets::CreateTicketRequest>();
  r->set_parent(absl::StrCat("sites/", site));
  tickets::Ticket* t = r->mutable_ticket();
  // Rectification: the owner must put the work right before it goes on.
  t->set_kind(tickets::RECTIFICATION);
  t->set_channel(tickets::INSPECTION);
  t->set_unit(p.unit());
  const std::string what = ViolationText(inspection.violation());
  t->set_title(absl::StrCat("Renovation violation at ", p.unit(), ": ", what).substr(0, 500));
  t->set_description(
      absl::StrCat(inspection.violation_description(), "\nFound by ", inspection.inspector(),
                   " at an inspection of ", p.name(), " (contractor ", p.contractor(), ").",
                   p.state() == v1::PERMIT_SUSPENDED
                       ? " The work is suspended until the procedure is done."
                       : "")
          .substr(0, 4000));
  t->set_category("renovation");
  // A structural change may put the building at risk, not only the rules.
  t->set_priority(inspection.violation() == v1::STRUCTURAL_CHANGE ? tickets::HIGH
                                                                   : tickets::NORMAL);
  // The owner is who is called back once it is put right.
  t->set_reporter_name(p.owner_name());
  t->set_reporter_phone(p.owner_phone());
  t->add_links(p.name());
  return PeerCall{"tickets", kCreateTicketMethod, std::move(r), what};
}

std::vector<PeerCall> PermitCharges(const v1::RenovationPermit& p, absl::string_view site) {
  std::vector<PeerCall> out;
  const auto charge = [&](absl::string_view what, int64_t amount, const std::string& item) {
    if (amount <= 0) return;
    auto r = std::make_unique<billing::ChargeAccountRequest>();
    r->set_account(AccountOf(p, site));
    r->set_charge_item(item);
    r->set_amount_minor(amount);
    r->set_currency_code(p.currency_code());
    r->set_reference(ChargeReference(p, what));
    out.push_back(PeerCall{"billing", kChargeAccountMethod, std::move(r), std::string(what)});
  };
  charge("deposit", p.deposit_minor(), p.deposit_charge_item());
  charge("garbage-fee", p.garbage_fee_minor(), p.garbage_fee_charge_item());
  return out;
}

std::optional<PeerCall> DepositRefund(const v1::RenovationPermit& p, absl::string_view site) {
  if (p.deposit_minor() <= 0) return std::nullopt;
  auto r = std::make_unique<billing::RefundChargeRequest>();
  r->set_account(AccountOf(p, site));
  r->set_reference(ChargeReference(p, "deposit"));
  r->set_keep_minor(p.deposit_kept_minor());
  r->set_reason((p.deposit_kept_minor() > 0
                     ? absl::StrCat("renovation deposit returned less ", p.deposit_kept_minor(),
                                    " kept: ", p.deposit_kept_reason())
                     : absl::StrCat("renovation deposit returned: closing inspection passed (",
                                    p.closed_by(), ")"))
                    .substr(0, 500));
  return PeerCall{"billing", kRefundChargeMethod, std::move(r), "deposit"};
}

}  // namespace handover
