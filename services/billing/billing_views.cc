#include "services/billing/billing_views.h"

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "services/billing/billing_validation.h"
#include "services/kit/etag.h"
#include "services/kit/proto_time.h"

namespace billing {

using store::DayText;

std::string AccountName(const std::string& site, const std::string& unit) {
  return absl::StrCat("sites/", site, "/accounts/", unit);
}
std::string BillName(const std::string& site, int64_t bill_id) {
  return absl::StrCat("sites/", site, "/bills/", bill_id);
}
std::string LineName(const std::string& site, int64_t bill_id, int64_t line_id) {
  return absl::StrCat(BillName(site, bill_id), "/lines/", line_id);
}

v1::Account AccountView(const store::AccountRow& a, const std::string& currency) {
  v1::Account out = a.profile;
  out.set_name(AccountName(a.site, a.unit));
  out.set_unit(a.unit);
  out.set_building(a.building);
  out.set_billable_area(a.area);
  for (int64_t id : a.items) out.add_charge_items(absl::StrCat("sites/", a.site, "/chargeItems/", id));
  out.set_fee_start(DayText(a.fee_start));
  out.set_status(a.status);
  out.set_balance_minor(a.balance_minor);
  out.set_credit_minor(a.credit_minor);
  out.set_currency_code(currency);
  out.set_etag(kit::Etag(a.version));
  kit::SetTimestamp(out.mutable_create_time(), a.created_at);
  return out;
}

v1::MeterReading ReadingView(const std::string& site, const std::string& unit,
                             const store::ReadingRow& r) {
  v1::MeterReading out;
  out.set_name(absl::StrCat(AccountName(site, unit), "/meterReadings/", r.id));
  out.set_meter(r.meter);
  out.set_value(MilliText(r.value_milli));
  out.set_read_on(DayText(r.read_on));
  out.set_replacement(r.replacement);
  out.set_consumption(MilliText(r.consumption_milli));
  kit::SetTimestamp(out.mutable_create_time(), r.created_at);
  return out;
}

v1::BillRun RunView(const store::RunRow& r) {
  v1::BillRun out = r.draft;
  out.set_name(absl::StrCat("sites/", r.site, "/billRuns/", r.id));
  out.set_state(r.state);
  out.set_accounts_done(r.accounts_done);
  out.set_lines_issued(r.lines_issued);
  out.set_lines_skipped(r.lines_skipped);
  out.set_issued_minor(r.issued_minor);
  out.set_created_by(r.created_by);
  kit::SetTimestamp(out.mutable_create_time(), r.created_at);
  if (r.committed_at) kit::SetTimestamp(out.mutable_commit_time(), *r.committed_at);
  if (r.completed_at) kit::SetTimestamp(out.mutable_complete_time(), *r.completed_at);
  return out;
}

namespace {
v1::BillState StateOf(int64_t amount, int64_t paid, int64_t written_off, bool held) {
  if (held) return v1::DISPUTED;
  if (paid >= amount) return v1::PAID;
  if (written_off > 0 && paid + written_off >= amount) return v1::WRITTEN_OFF;
  return paid > 0 ? v1::PARTIALLY_PAID : v1::OPEN;
}
}  // namespace

v1::BillLine LineView(const std::string& site, const store::LineRow& l) {
  v1::BillLine out;
  out.set_name(LineName(site, l.bill_id, l.id));
  out.set_charge_item(absl::StrCat("sites/", site, "/chargeItems/", l.item_id));
  out.set_code(l.code);
  out.set_description(l.description);
  out.set_quantity(l.quantity);
  out.set_amount_minor(l.amount_minor);
  out.set_paid_minor(l.paid_minor);
  out.set_written_off_minor(l.written_off_minor);
  out.set_state(StateOf(l.amount_minor, l.paid_minor, l.written_off_minor, l.held));
  out.set_due_date(DayText(l.due));
  out.set_hold_reason(l.hold_reason);
  out.set_hold_ticket(l.hold_ticket);
  if (l.late_fee_of != 0) out.set_late_fee_of(LineName(site, l.late_fee_of_bill, l.late_fee_of));
  out.set_reference(l.reference);
  return out;
}

v1::Bill BillView(const store::BillRow& b) {
  v1::Bill out;
  out.set_name(BillName(b.site, b.id));
  out.set_account(AccountName(b.site, b.unit));
  out.set_period(b.period_label);
  if (b.run_id != 0) out.set_bill_run(absl::StrCat("sites/", b.site, "/billRuns/", b.run_id));
  out.set_currency_code(b.currency);
  out.set_issue_date(DayText(b.issue_date));
  out.set_due_date(DayText(b.due));
  int64_t amount = 0, paid = 0, written_off = 0;
  bool held = false;
  for (const store::LineRow& l : b.lines) {
    amount += l.amount_minor;
    paid += l.paid_minor;
    written_off += l.written_off_minor;
    held = held || (l.held && l.paid_minor + l.written_off_minor < l.amount_minor);
    *out.add_lines() = LineView(b.site, l);
  }
  out.set_amount_minor(amount);
  out.set_paid_minor(paid);
  out.set_written_off_minor(written_off);
  out.set_state(StateOf(amount, paid, written_off, held));
  return out;
}

v1::Payment PaymentView(const store::PaymentRow& p) {
  v1::Payment out;
  out.set_name(absl::StrCat("sites/", p.site, "/payments/", p.id));
  out.set_account(AccountName(p.site, p.unit));
  out.set_method(p.method);
  out.set_reference(p.reference);
  out.set_amount_minor(p.amount_minor);
  out.set_currency_code(p.currency);
  out.set_received_on(DayText(p.received_on));
  for (absl::string_view id : absl::StrSplit(p.named_bills, ',', absl::SkipEmpty())) {
    out.add_bills(absl::StrCat("sites/", p.site, "/bills/", id));
  }
  for (size_t i = 0; i < p.allocations.size(); ++i) {
    v1::Allocation* a = out.add_allocations();
    a->set_line(LineName(p.site, p.allocation_bills[i], p.allocations[i].first));
    a->set_amount_minor(p.allocations[i].second);
  }
  out.set_to_credit_minor(p.to_credit_minor);
  out.set_reversed(p.reversed);
  out.set_reversal_reason(p.reversal_reason);
  out.set_recorded_by(p.recorded_by);
  kit::SetTimestamp(out.mutable_create_time(), p.created_at);
  return out;
}

v1::LedgerEntry LedgerView(const std::string& site, const store::LedgerRow& e) {
  v1::LedgerEntry out;
  out.set_sequence(e.id);
  out.set_kind(e.kind);
  out.set_amount_minor(e.amount_minor);
  if (e.line_id != 0) out.set_bill_line(LineName(site, e.bill_id, e.line_id));
  if (e.payment_id != 0) out.set_payment(absl::StrCat("sites/", site, "/payments/", e.payment_id));
  out.set_actor(e.actor);
  out.set_reason(e.reason);
  kit::SetTimestamp(out.mutable_time(), e.created_at);
  return out;
}

}  // namespace billing
