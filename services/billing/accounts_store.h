#ifndef ESTATE_SERVICES_BILLING_ACCOUNTS_STORE_H_
#define ESTATE_SERVICES_BILLING_ACCOUNTS_STORE_H_

// Accounts and charge items, meter readings: the SQL, and LockedAccount,
// the type that makes the store's lock order (billing_store.h) something the
// compiler checks.

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "services/billing/charges.h"
#include "services/billing/store_base.h"
#include "services/kit/db.h"

namespace billing::store {

// Charge items. The definition is the API message without its name.
absl::StatusOr<int64_t> InsertChargeItem(kit::Conn& c, const std::string& site,
                                         const v1::ChargeItem& def, const std::string& actor,
                                         absl::Time now);
// With name, create_time and etag set (the version behind the etag in
// `*version` if given). NOT_FOUND if absent.
absl::StatusOr<v1::ChargeItem> ReadChargeItem(kit::Conn& c, const std::string& site, int64_t id,
                                              bool for_update = false, int64_t* version = nullptr);
// Keeps the item's current definition (`version`, read locked) among its
// versions and stores `def` as the next.
absl::Status ReplaceChargeItem(kit::Conn& c, const std::string& site, int64_t id,
                               const v1::ChargeItem& def, int64_t version, const std::string& actor,
                               absl::Time now);
absl::StatusOr<std::vector<std::pair<int64_t, v1::ChargeItem>>> ListChargeItems(
    kit::Conn& c, const std::string& site, int64_t after, int limit);
absl::StatusOr<std::set<int64_t>> ChargeItemIds(kit::Conn& c, const std::string& site);
// Codes of the items `ids` (a code never changes once created).
absl::StatusOr<std::map<int64_t, std::string>> ChargeItemCodes(kit::Conn& c,
                                                               const std::vector<int64_t>& ids);

struct AccountRow {
  int64_t id = 0;
  std::string site;
  std::string unit;
  std::string building;
  v1::AccountStatus status = v1::ACTIVE;
  std::string area;
  absl::CivilDay fee_start;
  std::vector<int64_t> items;
  v1::Account profile;  // payer_name, payer_kind, mandate
  int64_t credit_minor = 0;
  int64_t version = 0;
  absl::Time created_at;
  // What the account owes (negative: paid ahead): the sum of its ledger,
  // kept as a column that only PostLedger and IssueBills move.
  int64_t balance_minor = 0;
};
absl::StatusOr<int64_t> InsertAccount(kit::Conn& c, AccountRow& a, const std::string& actor,
                                      absl::Time now);
// Reads without a lock (what a reader shows).
absl::StatusOr<AccountRow> ReadAccount(kit::Conn& c, const std::string& site,
                                       const std::string& unit);
absl::StatusOr<AccountRow> ReadAccountById(kit::Conn& c, int64_t id);

// An account locked (SELECT ... FOR UPDATE) in the caller's transaction, as
// it was read. Only the Lock* functions below make one, and every function
// that locks or changes a bill line or an account's credit takes one, so no
// code path can lock a line before its account: two writers of one account
// queue on the account row and never deadlock on its lines. Each of those
// functions refuses (INTERNAL) a line of another account.
class LockedAccount {
 public:
  const AccountRow& row() const { return row_; }
  AccountRow& row() { return row_; }
  const AccountRow* operator->() const { return &row_; }
  AccountRow* operator->() { return &row_; }
  // INTERNAL unless `line_account` is this account.
  absl::Status Owns(int64_t line_account, int64_t line_id) const;

 private:
  explicit LockedAccount(AccountRow row) : row_(std::move(row)) {}
  friend absl::StatusOr<LockedAccount> LockAccount(kit::Conn&, const std::string&,
                                                   const std::string&);
  friend absl::StatusOr<LockedAccount> LockAccountById(kit::Conn&, int64_t);
  friend absl::StatusOr<std::vector<LockedAccount>> LockAccounts(kit::Conn&, const std::string&,
                                                                 const std::vector<int64_t>&);
  AccountRow row_;
};
absl::StatusOr<LockedAccount> LockAccount(kit::Conn& c, const std::string& site,
                                          const std::string& unit);
absl::StatusOr<LockedAccount> LockAccountById(kit::Conn& c, int64_t id);
// The ids of those of `units` that are accounts of `site` (no lock: to lock
// them in id order with LockAccounts; a lock taken by unit would follow the
// units' order).
absl::StatusOr<std::map<std::string, int64_t>> AccountIdsOfUnits(
    kit::Conn& c, const std::string& site, const std::vector<std::string>& units);
// Those of `ids` that are accounts of `site`, locked in id order (the one
// order every batch takes them in).
absl::StatusOr<std::vector<LockedAccount>> LockAccounts(kit::Conn& c, const std::string& site,
                                                        const std::vector<int64_t>& ids);
// Writes the updatable fields and the credit; bumps the version.
absl::Status SaveAccount(kit::Conn& c, LockedAccount& a);
absl::Status SetCredit(kit::Conn& c, LockedAccount& a, int64_t credit_minor);
struct AccountFilter {
  std::string site;
  std::string building;
  bool in_arrears_only = false;
};
absl::StatusOr<std::vector<AccountRow>> ListAccounts(kit::Conn& c, const AccountFilter& f,
                                                     int64_t after, int limit);

// Meter readings, values in thousandths.
struct ReadingRow {
  int64_t id = 0;
  std::string meter;
  int64_t value_milli = 0;
  int64_t consumption_milli = 0;
  absl::CivilDay read_on;
  bool replacement = false;
  absl::Time created_at;
};
absl::StatusOr<std::optional<ReadingRow>> LastReading(kit::Conn& c, int64_t account_id,
                                                      const std::string& meter);
absl::StatusOr<int64_t> InsertReading(kit::Conn& c, const std::string& site, int64_t account_id,
                                      const ReadingRow& r, const std::string& actor,
                                      absl::Time now);
absl::StatusOr<std::vector<ReadingRow>> ListReadings(kit::Conn& c, int64_t account_id,
                                                     const std::string& meter, int64_t after,
                                                     int limit);

}  // namespace billing::store

#endif  // ESTATE_SERVICES_BILLING_ACCOUNTS_STORE_H_
