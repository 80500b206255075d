#ifndef ESTATE_SERVICES_HANDOVER_BUYER_LIST_H_
#define ESTATE_SERVICES_HANDOVER_BUYER_LIST_H_

// A buyer list read as a batch's cases, without I/O. The file is the one
// archives' ImportUnits takes (ImportHandoverCasesRequest in handover.proto
// says what handover reads of it), so the clerk uploads one file to both.

#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "estate/handover/v1/handover.pb.h"

namespace handover {

namespace v1 = ::estate::handover::v1;

inline constexpr int kMaxBuyerListRows = 2000;

// The case of one unit, from the unit's first owner row.
struct ListedCase {
  int line = 0;
  v1::HandoverCase body;  // as NewCase makes it
};

// One case per unit with an owner row, in file order. The first bad row
// (or header) is INVALID_ARGUMENT "csv: line 7, party_phone: ...", naming
// the file's column.
absl::StatusOr<std::vector<ListedCase>> ReadBuyerList(absl::string_view csv);

}  // namespace handover

#endif  // ESTATE_SERVICES_HANDOVER_BUYER_LIST_H_
