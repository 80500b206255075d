// CSV as spreadsheets write it, and AIP update masks.
#include "estate/testing/probe.pb.h"
#include "gtest/gtest.h"
#include "services/kit/csv.h"
#include "services/kit/update_mask.h"

namespace kit {
namespace {

std::vector<std::vector<std::string>> Fields(const std::vector<CsvRecord>& records) {
  std::vector<std::vector<std::string>> out;
  for (const CsvRecord& r : records) out.push_back(r.fields);
  return out;
}

TEST(Csv, ReadsQuotesCommasNewlinesAndExcelsByteOrderMark) {
  absl::StatusOr<std::vector<CsvRecord>> r =
      ParseCsv("csv", "\xEF\xBB\xBF" "a,b,c\r\n\"x, y\",\"say \"\"hi\"\"\",\"two\nlines\"\r\n\n,,\n");
  ASSERT_TRUE(r.ok()) << r.status();
  const std::vector<std::vector<std::string>> want = {
      {"a", "b", "c"}, {"x, y", "say \"hi\"", "two\nlines"}, {"", "", ""}};
  EXPECT_EQ(Fields(*r), want);
  EXPECT_EQ((*r)[0].line, 1);
  EXPECT_EQ((*r)[1].line, 2);
  EXPECT_EQ((*r)[2].line, 5) << "a blank line is skipped, a quoted newline counted";
}

TEST(Csv, BrokenQuotingIsAnErrorNamingTheLine) {
  for (const char* bad : {"a,\"b\n", "a,b\"c\"\n", "a,\"b\"c\n"}) {
    absl::StatusOr<std::vector<CsvRecord>> r = ParseCsv("csv", bad);
    EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument) << bad;
    EXPECT_NE(r.status().message().find("line 1"), std::string::npos) << r.status();
  }
}

TEST(Csv, WhatItWritesItReadsBack) {
  const std::vector<std::string> row = {"plain", "with, comma", "quote \"q\"", "two\r\nlines",
                                        " lead", ""};
  absl::StatusOr<std::vector<CsvRecord>> r = ParseCsv("csv", CsvLine(row) + CsvLine(row));
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(r->size(), 2u);
  EXPECT_EQ((*r)[1].fields, row);
}

// Found by fuzz/csv_fuzz: a first cell that starts with a byte-order mark
// was written bare, and read back as the file's mark.
TEST(Csv, ACellStartingWithAByteOrderMarkSurvivesAsTheFirstCell) {
  const std::vector<std::string> row = {"\xEF\xBB\xBFowner", "x"};
  absl::StatusOr<std::vector<CsvRecord>> r = ParseCsv("csv", CsvLine(row));
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(r->size(), 1u);
  EXPECT_EQ((*r)[0].fields, row);
}

TEST(UpdateMask, CopiesOnlyNamedFieldsAndReportsWhichChanged) {
  estate::testing::TillRequest target, source;
  target.set_parent("sites/a");
  target.set_note("slow");
  target.set_amount_minor(5);
  target.add_tags("old");
  source.set_parent("sites/a");
  source.set_note("ok");
  source.add_tags("new");
  google::protobuf::FieldMask mask;
  mask.add_paths("parent");
  mask.add_paths("note");
  mask.add_paths("tags");
  absl::StatusOr<std::vector<std::string>> changed =
      ApplyUpdateMask(source, mask, {"parent", "note", "tags"}, &target);
  ASSERT_TRUE(changed.ok()) << changed.status();
  EXPECT_EQ(*changed, (std::vector<std::string>{"note", "tags"}));
  EXPECT_EQ(target.note(), "ok");
  EXPECT_EQ(target.amount_minor(), 5) << "not named, not touched";
  ASSERT_EQ(target.tags_size(), 1) << "a named list is replaced, not appended to";
  EXPECT_EQ(target.tags(0), "new");
  mask.add_paths("amount_minor");
  source.set_note("changed again");
  EXPECT_EQ(ApplyUpdateMask(source, mask, {"parent", "note", "tags"}, &target).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(target.note(), "ok") << "a refused mask changes nothing";
  EXPECT_FALSE(ApplyUpdateMask(source, {}, {"note"}, &target).ok());
}

}  // namespace
}  // namespace kit
