#ifndef ESTATE_SERVICES_BILLING_STORE_ROWS_H_
#define ESTATE_SERVICES_BILLING_STORE_ROWS_H_

// What the billing store's files (*_store.cc) share, and nothing else
// includes: row conversions and the columns of a bill line.

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "google/protobuf/message.h"
#include "services/billing/billing_store.h"
#include "services/kit/db.h"

namespace billing::store {

// "3,7,12" (a column of ids) -> {3, 7, 12}; what does not parse is left out.
std::vector<int64_t> IdList(const std::string& text);
// A message as stored in a BLOB column.
std::string ToBlob(const google::protobuf::Message& m);

// The columns LineOf reads, from bill_lines l JOIN charge_items i.
extern const char kLineColumns[];
// The same for a writer, from bill_lines l alone (a locking read locks every
// row it reads, so it joins nothing): no item code, no description, no bill
// of the line a late fee is on.
extern const char kLockedLineColumns[];
absl::StatusOr<LineRow> LineOf(const kit::Row& r);

// The collection-totals row a line counts in.
TotalsKey KeyOf(const LineRow& l);

}  // namespace billing::store

#endif  // ESTATE_SERVICES_BILLING_STORE_ROWS_H_
