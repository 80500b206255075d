#ifndef ESTATE_SERVICES_KIT_IDEMPOTENCY_H_
#define ESTATE_SERVICES_KIT_IDEMPOTENCY_H_

#include <string>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/time/time.h"
#include "google/protobuf/message.h"
#include "services/kit/db.h"

namespace kit {

// Runs `write` in one transaction with the claim of `request_id` for `method`:
//  - a first call claims the id, runs `write`, stores `*response` and commits;
//  - a retry (same id, same request) returns the stored response and runs
//    nothing; concurrent duplicates wait for the first and then do the same;
//  - the same id with a different request is INVALID_ARGUMENT naming
//    request_id.
// If `write` fails, nothing is stored: the claim rolls back with the write.
// The request's own `request_id` field is left out of the fingerprint.
// Claims are stamped with the system clock (retention is operational, not a
// business rule).
absl::Status IdempotentWrite(Db& db, absl::Time deadline, absl::string_view method,
                             absl::string_view request_id,
                             const google::protobuf::Message& request,
                             google::protobuf::Message* response,
                             absl::FunctionRef<absl::Status(Conn&)> write);

// For a write made of several transactions (a long job in batches, each
// safe to run twice) and recorded with IdempotentWrite once done: true with
// `*response` set if a call of `method` with this request_id finished, so a
// retry runs nothing; false if the id is unused or its first call has not
// finished. INVALID_ARGUMENT naming request_id if it was used for another
// request.
absl::StatusOr<bool> StoredResponse(Db& db, absl::Time deadline, absl::string_view method,
                                    absl::string_view request_id,
                                    const google::protobuf::Message& request,
                                    google::protobuf::Message* response);

// The cheapest idempotent create, for the busiest creates: the new row
// carries the request_id in a unique column (key `request_key`) and the
// request's fingerprint, so the claim and the write are one INSERT, without
// a transaction or an idempotency_keys row. `insert` runs that INSERT (on a
// connection outside a transaction: a duplicate waits for the row's
// transaction and then sees it). On a duplicate of `request_key`, `first`
// reads the row holding the request_id and the fingerprint stored with it:
// the same fingerprint is a retry, answered from that row; another is
// INVALID_ARGUMENT naming request_id, as IdempotentWrite answers.
absl::Status CreateOnce(absl::string_view request_key, absl::string_view fingerprint,
                        absl::FunctionRef<absl::Status()> insert,
                        absl::FunctionRef<absl::Status(std::string* stored_fingerprint)> first);

// For writes batched into one transaction (kit::GroupCommit), each done
// without a claim: records every claim with its response in one statement,
// last, in that transaction. ALREADY_EXISTS if any request_id is claimed
// already (or twice here): the caller then rolls back and runs each write
// through IdempotentWrite, which answers retries and waits for duplicates.
struct Claim {
  std::string request_id;
  std::string fingerprint;  // RequestFingerprint(method, request)
  std::string response;     // serialized
};
absl::Status ClaimAll(Conn& c, absl::string_view method, const std::vector<Claim>& claims);

// INVALID_ARGUMENT: the request_id was used before, for another request.
absl::Status RequestIdReused();

// SHA-256 of the method and the request without its request_id field: what
// "the same request" means for a retry.
std::string RequestFingerprint(absl::string_view method, const google::protobuf::Message& request);

// Checks the form of a request_id: required, a UUID.
absl::Status CheckRequestId(absl::string_view request_id);

// Deletes claims older than `cutoff`, a batch at a time; returns how many.
absl::StatusOr<int64_t> PurgeIdempotencyKeys(Db& db, absl::Time cutoff, absl::Time deadline);

}  // namespace kit

#endif  // ESTATE_SERVICES_KIT_IDEMPOTENCY_H_
