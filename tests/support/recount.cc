#include "tests/support/recount.h"

#include "gtest/gtest.h"

namespace testing_support {

int64_t Recount::Scalar(const std::string& sql, const std::vector<kit::SqlParam>& params) {
  std::vector<kit::Row> rows = Rows(sql, params);
  return rows.empty() || rows.front().IsNull(0) ? -1 : rows.front().Int(0);
}

std::vector<kit::Row> Recount::Rows(const std::string& sql,
                                    const std::vector<kit::SqlParam>& params) {
  std::vector<kit::Row> out;
  const absl::Status s = db_.Run(absl::Now() + absl::Seconds(30), [&](kit::Conn& c) {
    absl::StatusOr<std::vector<kit::Row>> rows = c.Query(sql, params);
    if (!rows.ok()) return rows.status();
    out = std::move(*rows);
    return absl::OkStatus();
  });
  EXPECT_TRUE(s.ok()) << s << " in " << sql;
  return out;
}

void Recount::Exec(const std::string& sql, const std::vector<kit::SqlParam>& params) {
  const absl::Status s = db_.Run(absl::Now() + absl::Seconds(30), [&](kit::Conn& c) {
    return c.Exec(sql, params).status();
  });
  EXPECT_TRUE(s.ok()) << s << " in " << sql;
}

}  // namespace testing_support
