#include "gtest/gtest.h"
#include "services/kit/migrations.h"

namespace kit {
namespace {

TEST(SplitStatements, SplitsOnLineEndingSemicolonsAndDropsComments) {
  const std::vector<std::string> out = SplitStatements(
      "-- a comment; with a semicolon\n"
      "CREATE TABLE a (\n  x INT -- inline; stays\n);\n"
      "\n"
      "INSERT INTO a VALUES (1);\n"
      "CREATE TABLE b (y INT)");
  ASSERT_EQ(out.size(), 3u);
  EXPECT_EQ(out[0], "CREATE TABLE a (\n  x INT -- inline; stays\n)");
  EXPECT_EQ(out[1], "INSERT INTO a VALUES (1)");
  EXPECT_EQ(out[2], "CREATE TABLE b (y INT)");
}

TEST(KitMigrations, AreCompiledIn) {
  const std::vector<Migration> m = KitMigrations();
  ASSERT_FALSE(m.empty());
  EXPECT_EQ(m[0].version, 1);
  EXPECT_NE(m[0].sql.find("idempotency_keys"), std::string::npos);
}

}  // namespace
}  // namespace kit
