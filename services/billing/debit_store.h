#ifndef ESTATE_SERVICES_BILLING_DEBIT_STORE_H_
#define ESTATE_SERVICES_BILLING_DEBIT_STORE_H_

// Direct debit (batches for the bank, the results it sends back): the SQL.

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "services/billing/store_base.h"
#include "services/kit/db.h"

namespace billing::store {

// Direct debit.
struct DebitCandidate {
  int64_t account_id = 0;
  std::string unit;
  v1::Account profile;  // its mandate, if any
  int64_t due_minor = 0;  // outstanding, due by the batch date, not on hold
  int64_t credit_minor = 0;
};
// Accounts with a debit still pending in another batch are left out: a
// second batch never asks for the same money twice.
absl::StatusOr<std::vector<DebitCandidate>> DebitCandidates(kit::Conn& c, const std::string& site,
                                                            absl::CivilDay as_of);
struct DebitItemRow {
  int64_t id = 0;
  int64_t batch_id = 0;
  int64_t account_id = 0;
  std::string unit;
  int64_t amount_minor = 0;
  std::string bank;
  std::string account_masked;
  absl::CivilDay mandate_expiry;
  v1::DebitStatus status = v1::DEBIT_PENDING;
  v1::DebitFailure failure = v1::DEBIT_FAILURE_UNSPECIFIED;
  std::string bank_reference;
  int64_t payment_id = 0;
};
struct DebitBatchRow {
  int64_t id = 0;
  std::string site;
  absl::CivilDay as_of;
  std::string currency;
  std::string created_by;
  absl::Time created_at;
  // Per status: items and their amounts.
  std::map<int, std::pair<int64_t, int64_t>> by_status;
};
absl::StatusOr<int64_t> InsertDebitBatch(kit::Conn& c, const DebitBatchRow& b,
                                         const std::vector<DebitItemRow>& items);
// With `with_counts`, `by_status` is filled (a pass over the batch's items,
// which a caller only checking the batch or reading its currency skips).
absl::StatusOr<DebitBatchRow> ReadDebitBatch(kit::Conn& c, const std::string& site, int64_t id,
                                             bool with_counts = true);
absl::StatusOr<std::vector<DebitItemRow>> ListDebitItems(kit::Conn& c, int64_t batch_id,
                                                         v1::DebitStatus status, int64_t after,
                                                         int limit);
// The items `ids` of the batch that exist, by id; locked, in id order
// (their accounts first: the lock order of payments), or read as shown.
absl::StatusOr<std::map<int64_t, DebitItemRow>> ReadDebitItems(kit::Conn& c, int64_t batch_id,
                                                               std::vector<int64_t> ids,
                                                               bool for_update);
absl::Status SetDebitResult(kit::Conn& c, const DebitItemRow& item);

}  // namespace billing::store

#endif  // ESTATE_SERVICES_BILLING_DEBIT_STORE_H_
