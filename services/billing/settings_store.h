#ifndef ESTATE_SERVICES_BILLING_SETTINGS_STORE_H_
#define ESTATE_SERVICES_BILLING_SETTINGS_STORE_H_

// A site's billing settings (its currency, its heating season): the SQL.

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "services/billing/period.h"
#include "services/billing/store_base.h"
#include "services/kit/db.h"

namespace billing::store {

struct Settings {
  std::string currency = "CNY";
  HeatingSeason season;
  int64_t version = 0;  // 0: never stored (the defaults)
};
absl::StatusOr<Settings> ReadSettings(kit::Conn& c, const std::string& site, bool for_update);
absl::Status SaveSettings(kit::Conn& c, const std::string& site, Settings& s,
                          const std::string& actor, absl::Time now);
absl::StatusOr<bool> AnythingBilled(kit::Conn& c, const std::string& site);

}  // namespace billing::store

#endif  // ESTATE_SERVICES_BILLING_SETTINGS_STORE_H_
