#include "services/handover/buyer_list.h"

#include <algorithm>
#include <cstdint>
#include <initializer_list>
#include <map>
#include <optional>
#include <string>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "services/handover/handover_case.h"
#include "services/kit/csv.h"
#include "services/kit/field_error.h"

namespace handover {

using kit::FieldError;

namespace {

// archives' ImportUnits columns: all are allowed, so that one file serves
// both services.
const std::vector<std::string>& KnownColumns() {
  static const auto* columns = new std::vector<std::string>{
      "unit",      "building",   "floor",      "number",      "area_m2",         "layout",
      "occupancy", "party_role", "party_name", "party_phone", "party_id_number", "party_email"};
  return *columns;
}

// The file's column for each field of a new case (NewCase's error names
// the field).
const std::map<std::string, std::string>& ColumnOfField() {
  static const auto* columns =
      new std::map<std::string, std::string>{{"unit", "unit"},
                                             {"owner_name", "party_name"},
                                             {"owner_phone", "party_phone"},
                                             {"building", "building"},
                                             {"billable_area", "area_m2"}};
  return *columns;
}

absl::Status LineError(int line, absl::string_view column, absl::string_view problem) {
  if (column.empty()) return FieldError("csv", absl::StrCat("line ", line, ": ", problem));
  return FieldError("csv", absl::StrCat("line ", line, ", ", column, ": ", problem));
}

// archives' export puts a quote before a cell a spreadsheet would take for
// a formula ("'+86 139..."); its import takes it off again, and so does
// this one.
bool LooksLikeFormula(absl::string_view s) {
  return !s.empty() && (s[0] == '=' || s[0] == '+' || s[0] == '-' || s[0] == '@');
}
std::string Unneutralize(absl::string_view s) {
  if (s.size() > 1 && s[0] == '\'' && LooksLikeFormula(s.substr(1))) s.remove_prefix(1);
  return std::string(s);
}

// The register's area ("89.5": m², at most two decimals, as archives reads
// it) as a billable area with two decimals ("89.50"); nullopt if it is not
// one.
std::optional<std::string> BillableArea(absl::string_view text) {
  const size_t dot = text.find('.');
  const absl::string_view whole = text.substr(0, dot);
  const absl::string_view frac = dot == absl::string_view::npos ? "" : text.substr(dot + 1);
  if (whole.empty() || whole.size() > 7 || frac.size() > 2 ||
      (dot != absl::string_view::npos && frac.empty())) {
    return std::nullopt;
  }
  for (char c : absl::StrCat(whole, frac)) {
    if (!absl::ascii_isdigit(c)) return std::nullopt;
  }
  int64_t w = 0, d = 0;
  if (!absl::SimpleAtoi(whole, &w)) return std::nullopt;
  if (!frac.empty() && !absl::SimpleAtoi(frac, &d)) return std::nullopt;
  if (frac.size() == 1) d *= 10;
  return absl::StrCat(w, ".", d < 10 ? "0" : "", d);
}

}  // namespace

absl::StatusOr<std::vector<ListedCase>> ReadBuyerList(absl::string_view csv) {
  absl::StatusOr<std::vector<kit::CsvRecord>> records = kit::ParseCsv("csv", csv);
  if (!records.ok()) return records.status();
  if (records->empty()) return LineError(1, "", "no header row");
  const kit::CsvRecord& header = records->front();
  std::map<std::string, size_t> at;
  for (size_t i = 0; i < header.fields.size(); ++i) {
    const std::string name = absl::AsciiStrToLower(absl::StripAsciiWhitespace(header.fields[i]));
    if (std::find(KnownColumns().begin(), KnownColumns().end(), name) == KnownColumns().end()) {
      return LineError(header.line, name, "unknown column");
    }
    if (!at.emplace(name, i).second) return LineError(header.line, name, "column given twice");
  }
  for (const char* required : {"unit", "building", "area_m2", "party_name", "party_phone"}) {
    if (!at.count(required)) return LineError(header.line, required, "required column missing");
  }
  if (records->size() == 1) return LineError(header.line, "", "no rows after the header");
  if (records->size() - 1 > static_cast<size_t>(kMaxBuyerListRows)) {
    return FieldError(
        "csv", absl::StrCat("at most ", kMaxBuyerListRows, " rows in one import; split the list"));
  }

  std::vector<ListedCase> out;
  std::map<std::string, size_t> first_of_unit;  // index in out
  for (size_t r = 1; r < records->size(); ++r) {
    const kit::CsvRecord& rec = (*records)[r];
    if (rec.fields.size() != header.fields.size()) {
      return LineError(rec.line, "",
                       absl::StrCat("has ", rec.fields.size(), " fields; the header has ",
                                    header.fields.size()));
    }
    const auto cell = [&](const char* column) -> std::string {
      auto it = at.find(column);
      if (it == at.end()) return "";
      return Unneutralize(absl::StripAsciiWhitespace(rec.fields[it->second]));
    };
    // A row with no party is a unit without one yet; archives takes a party
    // without a role for the owner.
    bool party = false;
    for (const char* column :
         {"party_role", "party_name", "party_phone", "party_id_number", "party_email"}) {
      party = party || !cell(column).empty();
    }
    if (!party) continue;
    const std::string role = absl::AsciiStrToLower(cell("party_role"));
    if (role == "tenant" || role == "household_member" || role == "emergency_contact") continue;
    if (!role.empty() && role != "owner") {
      return LineError(rec.line, "party_role",
                       "owner, tenant, household_member or emergency_contact");
    }
    v1::HandoverCase in;
    in.set_unit(cell("unit"));
    in.set_owner_name(cell("party_name"));
    in.set_owner_phone(cell("party_phone"));
    in.set_building(cell("building"));
    if (const std::string area = cell("area_m2"); !area.empty()) {
      std::optional<std::string> billable = BillableArea(area);
      if (!billable.has_value()) {
        return LineError(rec.line, "area_m2",
                         "square metres with at most two decimals, like 89.35");
      }
      in.set_billable_area(*billable);
    }
    absl::StatusOr<v1::HandoverCase> body = NewCase("", in);
    if (!body.ok()) {
      const absl::string_view message = body.status().message();
      const std::string field(message.substr(0, message.find(':')));
      auto column = ColumnOfField().find(field);
      return LineError(rec.line, column == ColumnOfField().end() ? "" : column->second,
                       absl::StripPrefix(message.substr(field.size()), ": "));
    }
    auto [first, added] = first_of_unit.emplace(body->unit(), out.size());
    if (!added) {
      // A co-owner: the case names the first owner.
      const ListedCase& earlier = out[first->second];
      if (earlier.body.building() != body->building() ||
          earlier.body.billable_area() != body->billable_area()) {
        return LineError(
            rec.line, "unit",
            absl::StrCat("already on line ", earlier.line, " with another building or area"));
      }
      continue;
    }
    out.push_back({rec.line, *std::move(body)});
  }
  return out;
}

}  // namespace handover
