// Row conversions the billing store's files share.
#include "services/billing/store_rows.h"

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "services/kit/status_macros.h"

namespace billing::store {

using kit::Row;

absl::CivilDay DayOf(const std::string& text) {
  absl::CivilDay d;
  if (!absl::ParseCivilTime(text.substr(0, 10), &d)) return absl::CivilDay(1970, 1, 1);
  return d;
}

std::vector<int64_t> IdList(const std::string& text) {
  std::vector<int64_t> out;
  for (absl::string_view part : absl::StrSplit(text, ',', absl::SkipEmpty())) {
    int64_t id = 0;
    if (absl::SimpleAtoi(part, &id)) out.push_back(id);
  }
  return out;
}

std::string ToBlob(const google::protobuf::Message& m) {
  std::string out;
  m.SerializeToString(&out);
  return out;
}

const char kLineColumns[] =
    "l.id, l.bill_id, l.account_id, l.item_id, l.building, l.period_label, l.quantity, "
    "l.amount_minor, l.paid_minor, l.written_off_minor, l.due_date, l.held, l.hold_reason, "
    "l.hold_ticket, i.code, i.definition, l.report_period, l.period_start, "
    "COALESCE(l.late_fee_of, 0), "
    "COALESCE((SELECT o.bill_id FROM bill_lines o WHERE o.id = l.late_fee_of), 0), "
    "COALESCE(l.charge_reference, '')";

const char kLockedLineColumns[] =
    "l.id, l.bill_id, l.account_id, l.item_id, l.building, l.period_label, l.quantity, "
    "l.amount_minor, l.paid_minor, l.written_off_minor, l.due_date, l.held, l.hold_reason, "
    "l.hold_ticket, '', '', l.report_period, l.period_start, COALESCE(l.late_fee_of, 0), 0, "
    "COALESCE(l.charge_reference, '')";

absl::StatusOr<LineRow> LineOf(const Row& r) {
  LineRow l;
  l.id = r.Int(0);
  l.bill_id = r.Int(1);
  l.account_id = r.Int(2);
  l.item_id = r.Int(3);
  l.building = r.Str(4);
  l.period_label = r.Str(5);
  l.quantity = r.Str(6);
  l.amount_minor = r.Int(7);
  l.paid_minor = r.Int(8);
  l.written_off_minor = r.Int(9);
  l.due = DayOf(r.Str(10));
  l.held = r.Int(11) != 0;
  l.hold_reason = r.Str(12);
  l.hold_ticket = r.Str(13);
  l.code = r.Str(14);
  ASSIGN_OR_RETURN(v1::ChargeItem def, kit::ParseStored<v1::ChargeItem>(r.Str(15)));
  l.description = def.display_name();
  l.report_period = r.Str(16);
  l.period_start = DayOf(r.Str(17));
  l.late_fee_of = r.Int(18);
  l.late_fee_of_bill = r.Int(19);
  l.reference = r.Str(20);
  if (l.late_fee_of != 0) l.description = absl::StrCat("Late fee: ", l.description);
  return l;
}

// Late fees are reported apart from the charge they are on.
TotalsKey KeyOf(const LineRow& l) {
  return {l.report_period, l.building, l.item_id, l.late_fee_of != 0, l.held};
}

}  // namespace billing::store
