#include "services/kit/paging.h"

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "gtest/gtest.h"

namespace kit {
namespace {

TEST(PageSize, DefaultsCapsAndRejectsNegative) {
  EXPECT_EQ(*NormalizePageSize(0), 50);
  EXPECT_EQ(*NormalizePageSize(7), 7);
  EXPECT_EQ(*NormalizePageSize(500), 500);
  EXPECT_EQ(*NormalizePageSize(100000), 500);
  EXPECT_EQ(NormalizePageSize(-1).status().message(), "page_size: must not be negative");
}

TEST(PageTokens, RoundTripForTheSameQuery) {
  PageTokens tokens("secret");
  const std::string t = tokens.Encode("status=OPEN", 1234567);
  absl::StatusOr<int64_t> after = tokens.Decode("status=OPEN", t);
  ASSERT_TRUE(after.ok()) << after.status();
  EXPECT_EQ(*after, 1234567);
  EXPECT_EQ(*tokens.Decode("status=OPEN", ""), 0);
}

TEST(PageTokens, RejectsOtherFiltersForgeriesAndOtherSecrets) {
  PageTokens tokens("secret");
  const std::string t = tokens.Encode("status=OPEN", 10);
  EXPECT_EQ(tokens.Decode("status=CLOSED", t).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(PageTokens("other").Decode("status=OPEN", t).status().code(),
            absl::StatusCode::kInvalidArgument);
  // Same bytes but a different position: the signature no longer matches.
  std::string raw;
  ASSERT_TRUE(absl::WebSafeBase64Unescape(t, &raw));
  raw[7] = static_cast<char>(raw[7] + 1);
  EXPECT_FALSE(tokens.Decode("status=OPEN", absl::WebSafeBase64Escape(raw)).ok());
  for (const char* junk : {"x", "!!!!", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"}) {
    absl::StatusOr<int64_t> r = tokens.Decode("status=OPEN", junk);
    EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument) << junk;
    EXPECT_TRUE(absl::StartsWith(r.status().message(), "page_token:")) << r.status();
  }
}

}  // namespace
}  // namespace kit
