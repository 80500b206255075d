#ifndef ESTATE_SERVICES_BILLING_ONE_OFF_STORE_H_
#define ESTATE_SERVICES_BILLING_ONE_OFF_STORE_H_

// The SQL of one-off charges (ChargeAccount) and their refunds
// (RefundCharge). Like billing_store.h, functions run inside the caller's
// transaction, the account locked first.

#include <cstdint>
#include <optional>
#include <string>
#include <utility>

#include "absl/status/statusor.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "services/billing/billing_store.h"
#include "services/kit/db.h"

namespace billing::store {

struct OneOffCharge {
  int64_t item_id = 0;
  int64_t amount_minor = 0;
  std::string currency;
  absl::CivilDay today;  // the bill's date; the line is reported in its month
  absl::CivilDay due;
  std::string reference;
  std::string actor;
  absl::Time now;
};
// A bill of one line and its CHARGE ledger entry; the line goes into
// `totals` (for the caller to write once, last). Returns the line as
// written (locked, being new in this transaction; no description).
// ALREADY_EXISTS if the account has a charge with this reference already.
absl::StatusOr<LineRow> IssueOneOffCharge(kit::Conn& c, LockedAccount& a,
                                          const OneOffCharge& charge, Totals* totals);

// {bill id, line id} of the account's charge with `reference`; NOT_FOUND if
// there is none.
absl::StatusOr<std::pair<int64_t, int64_t>> FindCharge(kit::Conn& c, int64_t account_id,
                                                       const std::string& reference);

struct RefundRow {
  int64_t line_id = 0;
  std::string site;
  int64_t account_id = 0;
  int64_t charged_minor = 0;
  int64_t kept_minor = 0;
  int64_t cancelled_minor = 0;
  int64_t credited_minor = 0;
  int64_t applied_minor = 0;  // of the credit, spent on the account's open lines
  std::string reason;
  std::string actor;
  absl::Time created_at;
};
// FAILED_PRECONDITION if the line was refunded before.
absl::Status InsertRefund(kit::Conn& c, const RefundRow& r);
absl::StatusOr<std::optional<RefundRow>> ReadRefund(kit::Conn& c, int64_t line_id);

}  // namespace billing::store

#endif  // ESTATE_SERVICES_BILLING_ONE_OFF_STORE_H_
