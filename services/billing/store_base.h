#ifndef ESTATE_SERVICES_BILLING_STORE_BASE_H_
#define ESTATE_SERVICES_BILLING_STORE_BASE_H_

// What every part of the billing store (the *_store.h headers) uses: the API
// namespace and the date text of the database.

#include <string>

#include "absl/time/civil_time.h"
#include "estate/billing/v1/billing.pb.h"
#include "services/kit/civil_text.h"

namespace billing {
namespace v1 = ::estate::billing::v1;
}  // namespace billing

namespace billing::store {

using kit::DayText;
absl::CivilDay DayOf(const std::string& text);  // "YYYY-MM-DD" from the database

}  // namespace billing::store

#endif  // ESTATE_SERVICES_BILLING_STORE_BASE_H_
