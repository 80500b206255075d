#include "services/kit/validate.h"

#include <string>

#include "gtest/gtest.h"

namespace kit {
namespace {

TEST(CheckText, AcceptsChineseAndRejectsBrokenUtf8) {
  EXPECT_TRUE(CheckText("title", "5号楼506室 卫生间漏水", 500, true).ok());
  const absl::Status bad = CheckText("title", std::string("abc\xC3\x28", 5), 500, true);
  EXPECT_EQ(bad.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(bad.message(), "title: not valid UTF-8");
  // Overlong encoding of '/' and a UTF-16 surrogate are not UTF-8 either.
  EXPECT_FALSE(CheckText("t", std::string("\xC0\xAF"), 10, false).ok());
  EXPECT_FALSE(CheckText("t", std::string("\xED\xA0\x80"), 10, false).ok());
  // Truncated sequence at the end.
  EXPECT_FALSE(CheckText("t", std::string("ok\xE5\x8F"), 10, false).ok());
}

TEST(CheckText, RequiredLengthAndControlCharacters) {
  EXPECT_EQ(CheckText("title", "   ", 10, true).message(), "title: required");
  EXPECT_TRUE(CheckText("note", "", 10, false).ok());
  EXPECT_EQ(CheckText("title", std::string(11, 'a'), 10, true).message(),
            "title: longer than 10 bytes");
  EXPECT_FALSE(CheckText("title", std::string("a\0b", 3), 10, true).ok());
  EXPECT_TRUE(CheckText("description", "line one\nline two\ttab", 100, true).ok());
}

TEST(CheckPhone, DigitsSpacesAndPunctuation) {
  EXPECT_TRUE(CheckPhone("phone", "+86 (139) 0000-0801", true).ok());
  EXPECT_TRUE(CheckPhone("phone", "", false).ok());
  EXPECT_EQ(CheckPhone("phone", "", true).message(), "phone: required");
  EXPECT_EQ(CheckPhone("phone", std::string(33, '1'), false).message(),
            "phone: longer than 32 bytes");
  EXPECT_EQ(CheckPhone("phone", "call me", false).code(), absl::StatusCode::kInvalidArgument);
}

TEST(CheckUnitId, LettersDigitsDashAndDot) {
  EXPECT_TRUE(CheckUnitId("unit", "B-2-0801").ok());
  EXPECT_TRUE(CheckUnitId("unit", "12.1702").ok());
  EXPECT_TRUE(CheckUnitId("unit", std::string(64, 'a')).ok());
  for (const std::string& bad : {std::string(), std::string(65, 'a'), std::string("B3#2-101"),
                                 std::string("a_b"), std::string("5/506"), std::string("a b"),
                                 std::string("."), std::string("..")}) {
    EXPECT_EQ(CheckUnitId("unit", bad).code(), absl::StatusCode::kInvalidArgument) << bad;
  }
}

TEST(ParseName, SplitsValidNames) {
  absl::StatusOr<std::vector<std::string>> ids =
      ParseName("name", "sites/area-a/tickets/42", {"sites", "tickets"});
  ASSERT_TRUE(ids.ok()) << ids.status();
  EXPECT_EQ((*ids)[0], "area-a");
  EXPECT_EQ(IdOf((*ids)[1]), 42);
}

TEST(ParseName, RejectsMalformedNames) {
  for (const char* name :
       {"", "sites/a", "sites/a/tickets/", "sites/a/tickets/0", "sites/a/tickets/-1",
        "sites/a/tickets/007", "sites/A/tickets/1", "sites/a/tickets/1/", "sites//tickets/1",
        "sites/a/keys/1", "sites/../tickets/1", "sites/a/tickets/1 OR 1=1",
        "sites/a'; DROP TABLE tickets;--/tickets/1", "sites/a/tickets/99999999999999999999",
        "sites/-a/tickets/1"}) {
    absl::StatusOr<std::vector<std::string>> ids = ParseName("name", name, {"sites", "tickets"});
    EXPECT_EQ(ids.status().code(), absl::StatusCode::kInvalidArgument) << name;
    if (!ids.ok()) {
      EXPECT_EQ(ids.status().message(), "name: must look like sites/{site}/tickets/{ticket}");
    }
  }
}

// Found by fuzz/names_fuzz: "+7" and " 7" were read as 7, a second name for
// the same resource.
TEST(ParseName, AnIdHasOneSpellingOnly) {
  for (const char* name : {"sites/a/tickets/+7", "sites/a/tickets/ 7", "sites/a/tickets/7 ",
                           "sites/a/tickets/\t7"}) {
    EXPECT_EQ(ParseName("name", name, {"sites", "tickets"}).status().code(),
              absl::StatusCode::kInvalidArgument)
        << name;
    EXPECT_FALSE(ParseSiteId("name", name, "tickets").ok()) << name;
  }
}

TEST(Formats, UuidAndDate) {
  EXPECT_TRUE(IsUuid("123e4567-e89b-42d3-a456-426614174000"));
  EXPECT_FALSE(IsUuid("123e4567e89b42d3a456426614174000"));
  EXPECT_FALSE(IsUuid("123e4567-e89b-42d3-a456-42661417400g"));
  EXPECT_TRUE(IsDate("2024-02-29"));
  EXPECT_FALSE(IsDate("2023-02-29"));
  EXPECT_FALSE(IsDate("2024-2-9"));
}

}  // namespace
}  // namespace kit
