#include "services/kit/bulk_insert.h"

#include <string>

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

}  // namespace

absl::StatusOr<int64_t> InsertRows(Conn& c, absl::string_view head, int columns,
                                   const std::vector<SqlParam>& params, absl::string_view tail) {
  if (columns <= 0 || params.size() % columns != 0) {
    return absl::InternalError("InsertRows: parameters do not fill whole rows");
  }
  const size_t total = params.size() / columns;
  size_t done = 0;
  int64_t inserted = 0;
  while (done < total) {
    size_t rows = kChunkRows;
    while (rows > total - done) rows /= 2;
    std::vector<SqlParam> chunk(params.begin() + done * columns,
                                params.begin() + (done + rows) * columns);
    absl::StatusOr<ExecResult> r = c.Exec(ChunkSql(head, columns, rows, tail), chunk);
    if (!r.ok()) return r.status();
    inserted += r->affected_rows;
    done += rows;
  }
  return inserted;
}

}  // namespace kit
