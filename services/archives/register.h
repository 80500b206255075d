#ifndef ESTATE_SERVICES_ARCHIVES_REGISTER_H_
#define ESTATE_SERVICES_ARCHIVES_REGISTER_H_

// The register's rules, without I/O: what a unit and a party may hold, how
// personal data is masked and who may see it in full, and how a buyer list
// in CSV becomes units and parties.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "estate/archives/v1/register.pb.h"

namespace archives {

namespace v1 = ::estate::archives::v1;

// sites/{site}/units/{unit} of `site`; INVALID_ARGUMENT naming `field`.
absl::Status CheckUnitName(absl::string_view field, absl::string_view name,
                           const std::string& site);
// The {unit} of a unit name already checked.
std::string UnitIdOf(absl::string_view name);

// "138****5678": enough to recognise a number, not to call it.
std::string MaskPhone(absl::string_view phone);
// "110***********1234".
std::string MaskIdNumber(absl::string_view id_number);
// "z***@example.com".
std::string MaskEmail(absl::string_view email);
// Masks the personal fields and sets `masked`.
void MaskParty(v1::Party& party);

// May a caller with `roles` (the gateway's "staff,finance") see personal
// data in full, given a reason? Any role above viewer; a viewer, or a call
// that carries no roles, never.
bool MayRevealPersonalData(absl::string_view roles);

// "89.35" (m², at most two decimals) -> 8935; INVALID_ARGUMENT naming field.
absl::StatusOr<int64_t> ParseAreaM2(absl::string_view field, absl::string_view text);
std::string FormatAreaM2(int64_t centi_m2);

// The writable fields of a unit and a party; errors name `prefix`.field.
// An unspecified occupancy is taken as VACANT by the caller.
absl::Status CheckUnit(absl::string_view prefix, const v1::Unit& unit);
absl::Status CheckParty(absl::string_view prefix, const v1::Party& party,
                        const std::string& site);

// A buyer list (see ImportUnitsRequest) as checked rows, or every error.
struct ImportRow {
  int line = 0;
  std::string unit_id;
  v1::Unit unit;  // name set
  std::optional<v1::Party> party;  // unit set
};
struct ImportPlan {
  std::vector<ImportRow> rows;
  // Each unit once, in file order, with the first row that names it.
  std::vector<const ImportRow*> units;
  std::vector<v1::ImportError> errors;
};
ImportPlan PlanImport(absl::string_view csv, const std::string& site);

// The columns ImportUnits reads, in the order ExportUnits writes them.
const std::vector<std::string>& RegisterCsvColumns();
// One export row; `party` may be null for a unit without current parties.
std::vector<std::string> RegisterCsvRow(const v1::Unit& unit, const v1::Party* party);

}  // namespace archives

#endif  // ESTATE_SERVICES_ARCHIVES_REGISTER_H_
