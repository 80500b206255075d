#include "services/kit/bulk_insert.h"

#include <algorithm>
#include <string>

#include "absl/functional/function_ref.h"
#include "absl/strings/str_cat.h"

namespace kit {
namespace {

constexpr size_t kChunkRows = 256;

std::string ChunkSql(absl::string_view head, int columns, size_t rows, absl::string_view tail) {
  std::string group = "(";
  for (int i = 0; i < columns; ++i) absl::StrAppend(&group, i ? ",?" : "?");
  group += ")";
  std::string out(head);
  for (size_t r = 0; r < rows; ++r) absl::StrAppend(&out, r ? "," : " ", group);
  if (!tail.empty()) absl::StrAppend(&out, " ", tail);
  return out;
}

// Runs `chunk(sql, params)` over the rows in chunks of 256 and then of
// decreasing powers of two.
absl::Status ForChunks(
    absl::string_view head, int columns, const std::vector<SqlParam>& params,
    absl::string_view tail,
    absl::FunctionRef<absl::Status(const std::string&, const std::vector<SqlParam>&)> chunk) {
  if (columns <= 0 || params.size() % columns != 0) {
    return absl::InternalError("InsertRows: parameters do not fill whole rows");
  }
  const size_t total = params.size() / columns;
  size_t done = 0;
  while (done < total) {
    size_t rows = kChunkRows;
    while (rows > total - done) rows /= 2;
    std::vector<SqlParam> part(params.begin() + done * columns,
                               params.begin() + (done + rows) * columns);
    if (absl::Status s = chunk(ChunkSql(head, columns, rows, tail), part); !s.ok()) return s;
    done += rows;
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<int64_t> InsertRows(Conn& c, absl::string_view head, int columns,
                                   const std::vector<SqlParam>& params, absl::string_view tail) {
  int64_t inserted = 0;
  absl::Status s = ForChunks(head, columns, params, tail,
                             [&](const std::string& sql, const std::vector<SqlParam>& part) {
                               absl::StatusOr<ExecResult> r = c.Exec(sql, part);
                               if (!r.ok()) return r.status();
                               inserted += r->affected_rows;
                               return absl::OkStatus();
                             });
  if (!s.ok()) return s;
  return inserted;
}

absl::StatusOr<std::vector<int64_t>> InsertRowsReturningIds(Conn& c, absl::string_view head,
                                                            int columns,
                                                            const std::vector<SqlParam>& params) {
  std::vector<int64_t> ids;
  ids.reserve(params.size() / std::max(columns, 1));
  absl::Status s = ForChunks(head, columns, params, "RETURNING id",
                             [&](const std::string& sql, const std::vector<SqlParam>& part) {
                               absl::StatusOr<std::vector<Row>> rows = c.Query(sql, part);
                               if (!rows.ok()) return rows.status();
                               for (const Row& r : *rows) ids.push_back(r.Int(0));
                               return absl::OkStatus();
                             });
  if (!s.ok()) return s;
  if (ids.size() * columns != params.size()) {
    return absl::InternalError("INSERT ... RETURNING id returned fewer rows than inserted");
  }
  return ids;
}

}  // namespace kit
