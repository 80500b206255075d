#ifndef ESTATE_SERVICES_KIT_VALIDATE_H_
#define ESTATE_SERVICES_KIT_VALIDATE_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace kit {

// Free text a person typed: valid UTF-8, no control characters other than
// newline and tab, at most max_bytes, and (if required) not blank.
absl::Status CheckText(absl::string_view field, absl::string_view value,
                       size_t max_bytes, bool required);

// A site id as it appears in names: lowercase letters, digits and '-', 1..63
// characters, starting and ending with a letter or digit.
bool IsValidSiteId(absl::string_view id);

// A unit id as it appears in names (sites/{site}/units/{unit}, and a billing
// account's): 1..64 of letters, digits, '-', '_', '.'; not "." or "..".
bool IsValidUnitId(absl::string_view id);

// A unit id that is sent on to other services (a handover case's unit):
// 1..64 of letters, digits, '-' and '.', but not "." or "..": what the
// register, billing (IsValidUnitId) and tickets all accept, so the calls a
// handover's completion makes with it cannot be refused for the unit id.
// INVALID_ARGUMENT naming `field` otherwise.
absl::Status CheckUnitId(absl::string_view field, absl::string_view unit);

// A phone number as a person typed it: at most 32 bytes of digits, spaces and
// + - ( ); empty is INVALID_ARGUMENT ("required") only if `required`.
absl::Status CheckPhone(absl::string_view field, absl::string_view phone, bool required);

// Splits a resource name such as "sites/a/tickets/12" against the collection
// ids {"sites", "tickets"} and returns the ids {"a", "12"}. The first id must be
// a site id; the others must be positive decimal integers. Anything else is
// INVALID_ARGUMENT naming `field`.
absl::StatusOr<std::vector<std::string>> ParseName(
    absl::string_view field, absl::string_view name,
    const std::vector<absl::string_view>& collections);

// A name "sites/{site}/{collection}/{id}" with a numeric id, the shape of
// most resources: {site, id}, or INVALID_ARGUMENT naming `field`.
struct SiteId {
  std::string site;
  int64_t id = 0;
};
absl::StatusOr<SiteId> ParseSiteId(absl::string_view field, absl::string_view name,
                                   absl::string_view collection);

// Parses the numeric id returned by ParseName.
int64_t IdOf(const std::string& id);

// The site of a parent such as "sites/a".
absl::StatusOr<std::string> ParseSiteParent(absl::string_view field,
                                            absl::string_view parent);

// A UUID in its canonical 36-character form (any version).
bool IsUuid(absl::string_view s);

// A calendar date "YYYY-MM-DD" that exists.
bool IsDate(absl::string_view s);

}  // namespace kit

#endif  // ESTATE_SERVICES_KIT_VALIDATE_H_
