#include "services/archives/register.h"

#include <algorithm>
#include <map>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "services/kit/csv.h"
#include "services/kit/field_error.h"
#include "services/kit/status_macros.h"
#include "services/kit/validate.h"

namespace archives {

using kit::FieldError;

namespace {

constexpr int64_t kMaxAreaCentiM2 = 100'000'000;  // 1,000,000 m²

std::string Stars(size_t n) { return std::string(n, '*'); }

// Keeps `head` leading and `tail` trailing characters.
std::string Keep(absl::string_view s, size_t head, size_t tail) {
  if (s.size() <= head + tail) return Stars(s.size());
  return absl::StrCat(s.substr(0, head), Stars(s.size() - head - tail),
                      s.substr(s.size() - tail));
}

std::string F(absl::string_view prefix, absl::string_view field) {
  return prefix.empty() ? std::string(field) : absl::StrCat(prefix, ".", field);
}

absl::Status CheckPhone(const std::string& field, absl::string_view phone) {
  if (phone.empty()) return absl::OkStatus();
  int digits = 0;
  for (char c : phone) {
    if (absl::ascii_isdigit(c)) {
      ++digits;
    } else if (c != '+' && c != '-' && c != ' ' && c != '(' && c != ')') {
      return FieldError(field, "digits, spaces and + - ( ) only");
    }
  }
  if (digits < 3 || phone.size() > 32) return FieldError(field, "3 to 32 characters with digits");
  return absl::OkStatus();
}

absl::Status CheckIdNumber(const std::string& field, absl::string_view id) {
  if (id.empty()) return absl::OkStatus();
  if (id.size() < 4 || id.size() > 32) return FieldError(field, "4 to 32 letters or digits");
  for (char c : id) {
    if (!absl::ascii_isalnum(c)) return FieldError(field, "letters and digits only");
  }
  return absl::OkStatus();
}

absl::Status CheckEmail(const std::string& field, absl::string_view email) {
  if (email.empty()) return absl::OkStatus();
  const size_t at = email.find('@');
  if (email.size() > 200 || at == 0 || at == absl::string_view::npos || at + 1 == email.size() ||
      email.find('@', at + 1) != absl::string_view::npos) {
    return FieldError(field, "must look like name@domain");
  }
  for (char c : email) {
    if (c <= 0x20 || c >= 0x7F) return FieldError(field, "must look like name@domain");
    // A masked value sent back by a client that read it masked.
    if (c == '*') return FieldError(field, "must not contain '*' (a masked value?)");
  }
  return absl::OkStatus();
}

const std::map<std::string, v1::Occupancy>& OccupancyNames() {
  static const auto* names = new std::map<std::string, v1::Occupancy>{
      {"vacant", v1::VACANT},
      {"owner_occupied", v1::OWNER_OCCUPIED},
      {"rented", v1::RENTED},
      {"vacant_owned", v1::VACANT_OWNED}};
  return *names;
}

const std::map<std::string, v1::PartyRole>& RoleNames() {
  static const auto* names = new std::map<std::string, v1::PartyRole>{
      {"owner", v1::UNIT_OWNER},
      {"tenant", v1::TENANT},
      {"household_member", v1::HOUSEHOLD_MEMBER},
      {"emergency_contact", v1::EMERGENCY_CONTACT},
      {"outside_contractor", v1::OUTSIDE_CONTRACTOR}};
  return *names;
}

// A spreadsheet takes a cell that starts with = + - @ for a formula (an
// owner named "=HYPERLINK(...)" would run when the export is opened); such
// cells go out behind a quote, which the import takes off again.
bool LooksLikeFormula(absl::string_view s) {
  return !s.empty() && (s[0] == '=' || s[0] == '+' || s[0] == '-' || s[0] == '@');
}
std::string Neutralize(absl::string_view s) {
  return LooksLikeFormula(s) ? absl::StrCat("'", s) : std::string(s);
}
std::string Unneutralize(absl::string_view s) {
  if (s.size() > 1 && s[0] == '\'' && LooksLikeFormula(s.substr(1))) s.remove_prefix(1);
  return std::string(s);
}

template <typename E>
std::string NameOf(const std::map<std::string, E>& names, E value) {
  for (const auto& [name, v] : names) {
    if (v == value) return name;
  }
  return "";
}

}  // namespace

absl::Status CheckUnitName(absl::string_view field, absl::string_view name,
                           const std::string& site) {
  std::vector<absl::string_view> parts = absl::StrSplit(name, '/');
  if (parts.size() != 4 || parts[0] != "sites" || parts[2] != "units" ||
      !kit::IsValidUnitId(parts[3])) {
    return FieldError(field, "must be sites/{site}/units/{unit}");
  }
  if (parts[1] != site) return FieldError(field, "must be a unit of the same site");
  return absl::OkStatus();
}

std::string UnitIdOf(absl::string_view name) {
  const size_t slash = name.rfind('/');
  return std::string(name.substr(slash == absl::string_view::npos ? 0 : slash + 1));
}

std::string MaskPhone(absl::string_view phone) {
  if (phone.size() >= 11) return Keep(phone, 3, 4);
  if (phone.size() >= 7) return Keep(phone, 0, 4);
  return Keep(phone, 0, phone.size() > 4 ? 2 : 0);
}

std::string MaskIdNumber(absl::string_view id) {
  if (id.size() >= 15) return Keep(id, 3, 4);
  return Keep(id, id.size() >= 6 ? 1 : 0, id.size() >= 6 ? 1 : 0);
}

std::string MaskEmail(absl::string_view email) {
  const size_t at = email.find('@');
  if (at == absl::string_view::npos || at == 0) return Stars(email.size());
  return absl::StrCat(email.substr(0, 1), "***", email.substr(at));
}

void MaskParty(v1::Party& p) {
  p.set_phone(MaskPhone(p.phone()));
  p.set_id_number(MaskIdNumber(p.id_number()));
  p.set_email(MaskEmail(p.email()));
  p.set_masked(true);
}

bool MayRevealPersonalData(absl::string_view roles) {
  for (absl::string_view r : absl::StrSplit(roles, ',', absl::SkipEmpty())) {
    if (r == "staff" || r == "finance" || r == "manager" || r == "admin") return true;
  }
  return false;
}

absl::StatusOr<int64_t> ParseAreaM2(absl::string_view field, absl::string_view text) {
  const std::string f(field);
  std::pair<absl::string_view, absl::string_view> parts = absl::StrSplit(text, '.');
  const absl::string_view whole = parts.first;
  absl::string_view frac = parts.second;
  const bool has_dot = text.find('.') != absl::string_view::npos;
  if (whole.empty() || whole.size() > 7 || (has_dot && (frac.empty() || frac.size() > 2)) ||
      std::count(text.begin(), text.end(), '.') > 1) {
    return FieldError(f, "square metres with at most two decimals, like 89.35");
  }
  for (char c : absl::StrCat(whole, frac)) {
    if (!absl::ascii_isdigit(c)) return FieldError(f, "square metres with at most two decimals, like 89.35");
  }
  int64_t w = 0, d = 0;
  (void)absl::SimpleAtoi(whole, &w);
  if (!frac.empty()) (void)absl::SimpleAtoi(frac, &d);
  if (frac.size() == 1) d *= 10;
  const int64_t centi = w * 100 + d;
  if (centi > kMaxAreaCentiM2) return FieldError(f, "larger than any unit");
  return centi;
}

std::string FormatAreaM2(int64_t centi) {
  const int64_t d = centi % 100;
  return absl::StrCat(centi / 100, ".", d < 10 ? "0" : "", d);
}

absl::Status CheckUnit(absl::string_view prefix, const v1::Unit& u) {
  RETURN_IF_ERROR(kit::CheckText(F(prefix, "building"), u.building(), 64, true));
  if (u.floor() < -20 || u.floor() > 300) return FieldError(F(prefix, "floor"), "between -20 and 300");
  RETURN_IF_ERROR(kit::CheckText(F(prefix, "number"), u.number(), 32, false));
  if (u.area_centi_m2() < 0 || u.area_centi_m2() > kMaxAreaCentiM2) {
    return FieldError(F(prefix, "area_centi_m2"), "between 0 and 100000000 (1/100 m²)");
  }
  RETURN_IF_ERROR(kit::CheckText(F(prefix, "layout"), u.layout(), 64, false));
  if (!v1::Occupancy_IsValid(u.occupancy())) return FieldError(F(prefix, "occupancy"), "unknown");
  return absl::OkStatus();
}

absl::Status CheckParty(absl::string_view prefix, const v1::Party& p, const std::string& site) {
  if (p.role() < v1::UNIT_OWNER || p.role() > v1::OUTSIDE_CONTRACTOR) {
    return FieldError(F(prefix, "role"), "required: UNIT_OWNER, TENANT, HOUSEHOLD_MEMBER, "
                                         "EMERGENCY_CONTACT or OUTSIDE_CONTRACTOR");
  }
  if (!p.unit().empty() || p.role() != v1::OUTSIDE_CONTRACTOR) {
    RETURN_IF_ERROR(CheckUnitName(F(prefix, "unit"), p.unit(), site));
  }
  RETURN_IF_ERROR(kit::CheckText(F(prefix, "display_name"), p.display_name(), 200, true));
  RETURN_IF_ERROR(CheckPhone(F(prefix, "phone"), p.phone()));
  RETURN_IF_ERROR(CheckIdNumber(F(prefix, "id_number"), p.id_number()));
  RETURN_IF_ERROR(CheckEmail(F(prefix, "email"), p.email()));
  RETURN_IF_ERROR(kit::CheckText(F(prefix, "organization"), p.organization(), 200, false));
  RETURN_IF_ERROR(kit::CheckText(F(prefix, "note"), p.note(), 1000, false));
  if (!p.start_date().empty() && !kit::IsDate(p.start_date())) {
    return FieldError(F(prefix, "start_date"), "must be YYYY-MM-DD");
  }
  if (!p.end_date().empty()) {
    if (!kit::IsDate(p.end_date())) return FieldError(F(prefix, "end_date"), "must be YYYY-MM-DD");
    if (!p.start_date().empty() && p.end_date() < p.start_date()) {
      return FieldError(F(prefix, "end_date"), "must not be before start_date");
    }
  }
  return absl::OkStatus();
}

const std::vector<std::string>& RegisterCsvColumns() {
  static const auto* columns = new std::vector<std::string>{
      "unit",       "building",   "floor",       "number",          "area_m2",    "layout",
      "occupancy",  "party_role", "party_name",  "party_phone",     "party_id_number",
      "party_email"};
  return *columns;
}

std::vector<std::string> RegisterCsvRow(const v1::Unit& u, const v1::Party* p) {
  std::vector<std::string> row = {UnitIdOf(u.name()),
                                  Neutralize(u.building()),
                                  absl::StrCat(u.floor()),
                                  Neutralize(u.number()),
                                  FormatAreaM2(u.area_centi_m2()),
                                  Neutralize(u.layout()),
                                  NameOf(OccupancyNames(), u.occupancy())};
  if (p == nullptr) {
    row.resize(RegisterCsvColumns().size());
  } else {
    for (const std::string& v : {NameOf(RoleNames(), p->role()), p->display_name(), p->phone(),
                                 p->id_number(), p->email()}) {
      row.push_back(Neutralize(v));
    }
  }
  return row;
}

ImportPlan PlanImport(absl::string_view csv, const std::string& site) {
  ImportPlan plan;
  const auto error = [&](int line, absl::string_view column, absl::string_view message) {
    v1::ImportError e;
    e.set_line(line);
    e.set_column(std::string(column));
    e.set_message(std::string(message));
    plan.errors.push_back(std::move(e));
  };
  absl::StatusOr<std::vector<kit::CsvRecord>> records = kit::ParseCsv("csv", csv);
  if (!records.ok()) {
    error(0, "", records.status().message());
    return plan;
  }
  if (records->empty()) {
    error(1, "", "no header row");
    return plan;
  }
  // Header: which column holds which field.
  std::map<std::string, int> at;
  const kit::CsvRecord& header = records->front();
  for (size_t i = 0; i < header.fields.size(); ++i) {
    const std::string name = absl::AsciiStrToLower(absl::StripAsciiWhitespace(header.fields[i]));
    bool known = false;
    for (const std::string& c : RegisterCsvColumns()) known |= c == name;
    if (!known) {
      error(header.line, name, "unknown column");
    } else if (!at.emplace(name, static_cast<int>(i)).second) {
      error(header.line, name, "column given twice");
    }
  }
  for (const char* required : {"unit", "building"}) {
    if (!at.count(required)) error(header.line, required, "required column missing");
  }
  if (!plan.errors.empty()) return plan;
  if (records->size() == 1) {
    error(header.line, "", "no rows after the header");
    return plan;
  }

  std::map<std::string, const ImportRow*> first_of_unit;
  plan.rows.reserve(records->size() - 1);
  for (size_t r = 1; r < records->size(); ++r) {
    const kit::CsvRecord& rec = (*records)[r];
    const auto cell = [&](const char* column) -> std::string {
      auto it = at.find(column);
      if (it == at.end() || it->second >= static_cast<int>(rec.fields.size())) return "";
      return Unneutralize(absl::StripAsciiWhitespace(rec.fields[it->second]));
    };
    if (rec.fields.size() != header.fields.size()) {
      error(rec.line, "", absl::StrCat("has ", rec.fields.size(), " fields; the header has ",
                                       header.fields.size()));
      continue;
    }
    ImportRow row;
    row.line = rec.line;
    row.unit_id = cell("unit");
    if (!kit::IsValidUnitId(row.unit_id)) {
      error(rec.line, "unit", "1 to 64 letters, digits, - _ .");
      continue;
    }
    row.unit.set_name(absl::StrCat("sites/", site, "/units/", row.unit_id));
    row.unit.set_building(cell("building"));
    const std::string floor = cell("floor");
    int32_t floor_value = 0;
    if (!floor.empty() && !absl::SimpleAtoi(floor, &floor_value)) {
      error(rec.line, "floor", "must be a whole number");
      continue;
    }
    row.unit.set_floor(floor_value);
    row.unit.set_number(cell("number"));
    if (const std::string area = cell("area_m2"); !area.empty()) {
      absl::StatusOr<int64_t> centi = ParseAreaM2("area_m2", area);
      if (!centi.ok()) {
        error(rec.line, "area_m2", absl::StripPrefix(centi.status().message(), "area_m2: "));
        continue;
      }
      row.unit.set_area_centi_m2(*centi);
    }
    row.unit.set_layout(cell("layout"));
    const std::string occupancy = absl::AsciiStrToLower(cell("occupancy"));
    if (occupancy.empty()) {
      row.unit.set_occupancy(v1::VACANT);
    } else if (auto it = OccupancyNames().find(occupancy); it != OccupancyNames().end()) {
      row.unit.set_occupancy(it->second);
    } else {
      error(rec.line, "occupancy", "vacant, owner_occupied, rented or vacant_owned");
      continue;
    }
    if (absl::Status s = CheckUnit("", row.unit); !s.ok()) {
      const std::string column(s.message().substr(0, s.message().find(':')));
      error(rec.line, column, absl::StripPrefix(s.message().substr(column.size()), ": "));
      continue;
    }
    const std::string party_name = cell("party_name");
    const std::string role = absl::AsciiStrToLower(cell("party_role"));
    if (!party_name.empty() || !role.empty() || !cell("party_phone").empty() ||
        !cell("party_id_number").empty() || !cell("party_email").empty()) {
      v1::Party p;
      p.set_unit(row.unit.name());
      p.set_display_name(party_name);
      if (role.empty()) {
        p.set_role(v1::UNIT_OWNER);
      } else if (auto it = RoleNames().find(role);
                 it != RoleNames().end() && it->second != v1::OUTSIDE_CONTRACTOR) {
        p.set_role(it->second);
      } else {
        error(rec.line, "party_role", "owner, tenant, household_member or emergency_contact");
        continue;
      }
      p.set_phone(cell("party_phone"));
      p.set_id_number(cell("party_id_number"));
      p.set_email(cell("party_email"));
      if (absl::Status s = CheckParty("", p, site); !s.ok()) {
        const std::string field(s.message().substr(0, s.message().find(':')));
        const std::string column = field == "display_name" ? "party_name" : "party_" + field;
        error(rec.line, column, absl::StripPrefix(s.message().substr(field.size()), ": "));
        continue;
      }
      row.party = std::move(p);
    }
    plan.rows.push_back(std::move(row));
  }
  for (const ImportRow& row : plan.rows) {
    auto [it, first] = first_of_unit.emplace(row.unit_id, &row);
    if (first) {
      plan.units.push_back(&row);
    } else if (it->second->unit.SerializeAsString() != row.unit.SerializeAsString()) {
      error(row.line, "unit", absl::StrCat("already on line ", it->second->line,
                                           " with other unit columns"));
    }
  }
  std::stable_sort(plan.errors.begin(), plan.errors.end(),
                   [](const v1::ImportError& a, const v1::ImportError& b) {
                     return a.line() < b.line();
                   });
  return plan;
}

}  // namespace archives
