#ifndef ESTATE_GATEWAY_PRINCIPAL_H_
#define ESTATE_GATEWAY_PRINCIPAL_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "gateway/catalog.h"

namespace gateway {

enum class Role : uint32_t { kViewer = 1, kStaff = 2, kFinance = 4, kManager = 8, kAdmin = 16 };
std::optional<Role> ParseRole(absl::string_view name);

// Who is calling, once authenticated: a user from a token or a service
// account from an API key, with its roles and the sites it may act for.
struct Principal {
  std::string id;      // "user:alice", "apikey:finance-app"
  uint32_t roles = 0;  // bits of Role
  bool all_sites = false;
  std::vector<std::string> sites;

  bool Has(Role r) const { return roles & static_cast<uint32_t>(r); }
  bool MaySee(absl::string_view site) const;
  std::string RolesText() const;  // "staff,finance"
};

// May `who` call a method declared with `access`? The one rule table of the
// suite (see access.cc).
bool RolesAllow(uint32_t roles, estate::api::v1::Access access);

// The gateway's decision for one call, before any backend sees it:
// PERMISSION_DENIED for a role or site the principal lacks, INVALID_ARGUMENT
// when the request names no site.
absl::Status Authorize(const Principal& who, const MethodInfo& method,
                       const google::protobuf::Message& request);

}  // namespace gateway

#endif  // ESTATE_GATEWAY_PRINCIPAL_H_
