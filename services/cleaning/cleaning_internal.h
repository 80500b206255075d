#ifndef ESTATE_SERVICES_CLEANING_CLEANING_INTERNAL_H_
#define ESTATE_SERVICES_CLEANING_CLEANING_INTERNAL_H_

// What the service's .cc files share: reading the names of related
// resources of the same site.

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "services/kit/errors.h"
#include "services/kit/validate.h"

namespace cleaning {

// The id of `name` (sites/{site}/{collection}/{id}), which must be of `site`;
// INVALID_ARGUMENT naming `field` otherwise.
inline absl::StatusOr<int64_t> IdIn(absl::string_view field, absl::string_view name,
                                    absl::string_view collection, const std::string& site) {
  absl::StatusOr<kit::SiteId> ref = kit::ParseSiteId(field, name, collection);
  if (!ref.ok()) return ref.status();
  if (ref->site != site) return kit::FieldError(field, "must be of the same site");
  return ref->id;
}

// The same for an optional name: 0 when empty.
inline absl::StatusOr<int64_t> OptionalIdIn(absl::string_view field, absl::string_view name,
                                            absl::string_view collection,
                                            const std::string& site) {
  if (name.empty()) return 0;
  return IdIn(field, name, collection, site);
}

// The site of a singleton or keyed name "sites/{site}/{collection}[/{key}]":
// {site, key}; INVALID_ARGUMENT naming `field` otherwise.
inline absl::StatusOr<std::pair<std::string, std::string>> SiteAndKey(
    absl::string_view field, absl::string_view name, absl::string_view collection, bool keyed) {
  std::vector<std::string> parts = absl::StrSplit(name, '/');
  const size_t want = keyed ? 4 : 3;
  if (parts.size() != want || parts[0] != "sites" || !kit::IsValidSiteId(parts[1]) ||
      parts[2] != collection || (keyed && parts[3].empty())) {
    return kit::FieldError(field, absl::StrCat("must be sites/{site}/", collection,
                                               keyed ? "/{key}" : ""));
  }
  return std::make_pair(parts[1], keyed ? parts[3] : std::string());
}

inline std::string NameOf(const std::string& site, absl::string_view collection, int64_t id) {
  return absl::StrCat("sites/", site, "/", collection, "/", id);
}

}  // namespace cleaning

#endif  // ESTATE_SERVICES_CLEANING_CLEANING_INTERNAL_H_
