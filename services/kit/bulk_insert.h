#ifndef ESTATE_SERVICES_KIT_BULK_INSERT_H_
#define ESTATE_SERVICES_KIT_BULK_INSERT_H_

#include <cstdint>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "services/kit/db.h"

namespace kit {

// Inserts rows with multi-row prepared INSERTs: `head` is the statement up
// to VALUES ("INSERT INTO t (a, b) VALUES"), `params` holds `columns` values
// per row, row after row. Rows go in chunks of 256 and then of decreasing
// powers of two, so a connection prepares at most nine statements per table
// however the row counts vary. `tail` follows the values (e.g. an ON
// DUPLICATE KEY UPDATE clause). Returns the rows affected.
absl::StatusOr<int64_t> InsertRows(Conn& c, absl::string_view head, int columns,
                                   const std::vector<SqlParam>& params,
                                   absl::string_view tail = "");

// As InsertRows, for a table with an AUTO_INCREMENT `id`: the new rows' ids,
// in the order of the rows (INSERT ... RETURNING id, MariaDB).
absl::StatusOr<std::vector<int64_t>> InsertRowsReturningIds(Conn& c, absl::string_view head,
                                                            int columns,
                                                            const std::vector<SqlParam>& params);

}  // namespace kit

#endif  // ESTATE_SERVICES_KIT_BULK_INSERT_H_
