#include <initializer_list>
#include <iterator>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "gateway/principal.h"

namespace gateway {
namespace {

using estate::api::v1::Access;

constexpr uint32_t Bits(std::initializer_list<Role> roles) {
  uint32_t bits = 0;
  for (Role r : roles) bits |= static_cast<uint32_t>(r);
  return bits;
}

// Who may do what, declared once. Each method declares its Access in the
// protos; a method that declares none is for admins only.
struct Rule {
  Access access;
  uint32_t roles;
  const char* needs;
};
constexpr Rule kRules[] = {
    {estate::api::v1::READ,
     Bits({Role::kViewer, Role::kStaff, Role::kFinance, Role::kManager, Role::kAdmin}),
     "any role"},
    {estate::api::v1::WRITE, Bits({Role::kStaff, Role::kFinance, Role::kManager, Role::kAdmin}),
     "staff or above"},
    {estate::api::v1::MONEY, Bits({Role::kFinance, Role::kAdmin}), "finance"},
    {estate::api::v1::MANAGE, Bits({Role::kManager, Role::kAdmin}), "manager"},
    {estate::api::v1::ADMIN, Bits({Role::kAdmin}), "admin"},
    {estate::api::v1::ACCESS_UNSPECIFIED, Bits({Role::kAdmin}), "admin"},
};

const Rule& RuleFor(Access access) {
  for (const Rule& r : kRules) {
    if (r.access == access) return r;
  }
  return kRules[std::size(kRules) - 1];
}

constexpr std::pair<const char*, Role> kRoleNames[] = {
    {"viewer", Role::kViewer},   {"staff", Role::kStaff}, {"finance", Role::kFinance},
    {"manager", Role::kManager}, {"admin", Role::kAdmin},
};

}  // namespace

std::optional<Role> ParseRole(absl::string_view name) {
  for (const auto& [text, role] : kRoleNames) {
    if (name == text) return role;
  }
  return std::nullopt;
}

std::string Principal::RolesText() const {
  std::vector<std::string> names;
  for (const auto& [text, role] : kRoleNames) {
    if (Has(role)) names.push_back(text);
  }
  return absl::StrJoin(names, ",");
}

bool Principal::MaySee(absl::string_view site) const {
  if (all_sites) return true;
  for (const auto& s : sites) {
    if (s == site) return true;
  }
  return false;
}

bool RolesAllow(uint32_t roles, Access access) { return (roles & RuleFor(access).roles) != 0; }

absl::Status Authorize(const Principal& who, const MethodInfo& method,
                       const google::protobuf::Message& request) {
  const Rule& rule = RuleFor(method.access);
  if ((who.roles & rule.roles) == 0) {
    return absl::PermissionDeniedError(
        absl::StrCat(method.descriptor->name(), " needs ", rule.needs));
  }
  if (method.resource_field.empty()) {
    // A method without a resource name is suite-wide: only for all-site principals.
    if (who.all_sites) return absl::OkStatus();
    return absl::PermissionDeniedError(
        absl::StrCat(method.descriptor->name(), " spans every site"));
  }
  auto sites = SitesOfRequest(method, request);
  if (!sites.ok()) return sites.status();
  for (const std::string& site : *sites) {
    if (!who.MaySee(site)) return absl::PermissionDeniedError(absl::StrCat("no access to site ", site));
  }
  return absl::OkStatus();
}

}  // namespace gateway
