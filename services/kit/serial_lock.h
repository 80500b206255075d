#ifndef ESTATE_SERVICES_KIT_SERIAL_LOCK_H_
#define ESTATE_SERVICES_KIT_SERIAL_LOCK_H_

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "services/kit/db.h"

namespace kit {

// Holds the lock called `name` until the calling transaction ends, across
// every replica on this database. For writers whose choice depends on what
// the others wrote: two debit batches of one site each pick the accounts not
// yet in a batch, so the second must pick after the first has committed.
// Row locks already serialize writers of one row; this is for a choice made
// over many rows, or over rows that do not exist yet.
//
// Under READ COMMITTED (every kit connection) the reads after this call see
// what the previous holder committed. A holder that keeps the lock past the
// server's lock wait (5 s) makes the next caller fail with ABORTED.
absl::Status SerializeOn(Conn& c, absl::string_view name);

}  // namespace kit

#endif  // ESTATE_SERVICES_KIT_SERIAL_LOCK_H_
