#ifndef ESTATE_SERVICES_BILLING_LEDGER_STORE_H_
#define ESTATE_SERVICES_BILLING_LEDGER_STORE_H_

// The ledger, and the balance it keeps on each account: the SQL.

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "services/billing/accounts_store.h"
#include "services/billing/store_base.h"
#include "services/kit/db.h"

namespace billing::store {

// The ledger.
struct LedgerRow {
  int64_t id = 0;
  int64_t account_id = 0;
  v1::LedgerKind kind = v1::CHARGE;
  int64_t amount_minor = 0;
  int64_t line_id = 0;     // 0: none
  int64_t bill_id = 0;     // of line_id
  int64_t payment_id = 0;  // 0: none
  std::string actor;
  std::string reason;
  absl::Time created_at;
};
// The one writer of ledger rows and of accounts' balances
// (ledger_store.cc; IssueBills aside). Appends `entries` (each of one of
// `accounts`, all of one site) in one statement, and in one more moves each
// account's balance_minor by its entries and writes its credit_minor as the
// LockedAccount holds it, so a caller that changed the credit in memory
// writes both at once. The accounts' balances in memory follow.
absl::Status PostLedger(kit::Conn& c, std::vector<LockedAccount*> accounts,
                        const std::vector<LedgerRow>& entries);
absl::Status PostLedger(kit::Conn& c, std::vector<LockedAccount>& accounts,
                        const std::vector<LedgerRow>& entries);
absl::Status PostLedger(kit::Conn& c, LockedAccount& account,
                        const std::vector<LedgerRow>& entries);
absl::StatusOr<std::vector<LedgerRow>> ListLedger(kit::Conn& c, int64_t account_id,
                                                  int64_t after, int limit);

}  // namespace billing::store

#endif  // ESTATE_SERVICES_BILLING_LEDGER_STORE_H_
