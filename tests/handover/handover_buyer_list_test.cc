// A buyer list (archives' ImportUnits CSV) read as a batch's cases, without
// a database.
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "services/handover/buyer_list.h"

namespace handover {
namespace {

constexpr char kHeader[] =
    "unit,building,floor,number,area_m2,layout,occupancy,party_role,party_name,party_phone,"
    "party_id_number,party_email\n";

std::string ErrorOf(const std::string& csv) {
  absl::StatusOr<std::vector<ListedCase>> out = ReadBuyerList(csv);
  EXPECT_EQ(out.status().code(), absl::StatusCode::kInvalidArgument) << out.status();
  return std::string(out.status().message());
}

TEST(BuyerList, EachUnitWithAnOwnerRowIsACase) {
  const std::string csv =
      absl::StrCat(kHeader,
                   // line 2: the owner; line 3: a tenant of the same unit
                   "B-2-0801,B2,8,0801,98.37,3b2b,vacant,owner,Liu Wei,'+86 139 0000 0801,,\n",
                   "B-2-0801,B2,8,0801,98.37,3b2b,vacant,tenant,Zhao Lei,139 0000 0802,,\n",
                   // line 4: a unit not sold yet, no party
                   "B-2-0802,B2,8,0802,89.5,3b2b,vacant,,,,,\n",
                   // line 5: an owner without a role, a name with a comma; line 6 a co-owner
                   "B-2-0803,B2,8,0803,90,3b2b,vacant,,\"Wang, Fang\",139 0000 0803,,\n",
                   "B-2-0803,B2,8,0803,90,3b2b,vacant,Owner,Wang Jun,139 0000 0804,,\n");
  absl::StatusOr<std::vector<ListedCase>> cases = ReadBuyerList(csv);
  ASSERT_TRUE(cases.ok()) << cases.status();
  ASSERT_EQ(cases->size(), 2u);
  const v1::HandoverCase& first = (*cases)[0].body;
  EXPECT_EQ((*cases)[0].line, 2);
  EXPECT_EQ(first.unit(), "B-2-0801");
  EXPECT_EQ(first.building(), "B2");
  EXPECT_EQ(first.billable_area(), "98.37");
  EXPECT_EQ(first.owner_name(), "Liu Wei");
  EXPECT_EQ(first.owner_phone(), "+86 139 0000 0801") << "archives' export quotes a leading +";
  EXPECT_EQ(first.state(), v1::NOT_SCHEDULED);
  const v1::HandoverCase& second = (*cases)[1].body;
  EXPECT_EQ((*cases)[1].line, 5);
  EXPECT_EQ(second.owner_name(), "Wang, Fang") << "the first owner row names the case's owner";
  EXPECT_EQ(second.billable_area(), "90.00");
}

TEST(BuyerList, ColumnsComeInAnyOrderAndOnlyHandoversAreRequired) {
  absl::StatusOr<std::vector<ListedCase>> cases = ReadBuyerList(
      " Party_Phone ,UNIT,area_m2,party_name,building\r\n"
      "139 0000 0901,B-2-0901,89.5,Sun Li,B2\r\n");
  ASSERT_TRUE(cases.ok()) << cases.status();
  ASSERT_EQ(cases->size(), 1u);
  EXPECT_EQ((*cases)[0].body.billable_area(), "89.50");
  EXPECT_EQ((*cases)[0].body.owner_phone(), "139 0000 0901");

  EXPECT_EQ(ErrorOf("unit,building,area_m2,party_name\nB-2-0901,B2,89.5,Sun Li\n"),
            "csv: line 1, party_phone: required column missing");
  EXPECT_EQ(ErrorOf("unit,building,area_m2,party_name,party_phone,flor\n"),
            "csv: line 1, flor: unknown column");
  EXPECT_EQ(ErrorOf(kHeader), "csv: line 1: no rows after the header");
}

TEST(BuyerList, ABadRowNamesItsLineAndColumn) {
  const std::string good = "B-2-0801,B2,8,0801,98.37,3b2b,vacant,owner,Liu Wei,139 0000 0801,,\n";
  EXPECT_EQ(ErrorOf(absl::StrCat(
                kHeader, good, "B-2-0802,B2,8,0802,98.37,3b2b,vacant,owner,Zhang Min,call me,,\n")),
            "csv: line 3, party_phone: may hold only digits, spaces and + - ( )");
  EXPECT_EQ(
      ErrorOf(absl::StrCat(kHeader, "B-2-0802,B2,8,0802,,3b2b,vacant,owner,Zhang Min,139,,\n")),
      "csv: line 2, area_m2: square metres above 0, up to 2 decimals (\"98.37\")");
  EXPECT_EQ(ErrorOf(absl::StrCat(kHeader,
                                 "B-2-0802,B2,8,0802,98.375,3b2b,vacant,owner,Zhang Min,139,,\n")),
            "csv: line 2, area_m2: square metres with at most two decimals, like 89.35");
  EXPECT_EQ(ErrorOf(absl::StrCat(kHeader,
                                 "B_2_0802,B2,8,0802,98.37,3b2b,vacant,owner,Zhang Min,139,,\n")),
            "csv: line 2, unit: letters, digits, '-' and '.' (as the register writes it)");
  EXPECT_EQ(ErrorOf(absl::StrCat(kHeader, "B-2-0802,B2,8,0802,98.37,3b2b,vacant,owner,,139,,\n")),
            "csv: line 2, party_name: required");
  EXPECT_EQ(ErrorOf(absl::StrCat(
                kHeader, "B-2-0802,B2,8,0802,98.37,3b2b,vacant,landlord,Zhang Min,139,,\n")),
            "csv: line 2, party_role: owner, tenant, household_member or emergency_contact");
  EXPECT_EQ(ErrorOf(absl::StrCat(kHeader, good, "B-2-0803,B2,8\n")),
            "csv: line 3: has 3 fields; the header has 12");
  EXPECT_EQ(ErrorOf(absl::StrCat(kHeader, good,
                                 "B-2-0801,B2,8,0801,99.00,3b2b,vacant,owner,Liu Fang,139,,\n")),
            "csv: line 3, unit: already on line 2 with another building or area");
}

TEST(BuyerList, AtMostTwoThousandRows) {
  std::string csv = "unit,building,area_m2,party_name,party_phone\n";
  for (int i = 0; i < kMaxBuyerListRows; ++i) {
    absl::StrAppend(&csv, "B-", i, ",B2,90,Owner ", i, ",139\n");
  }
  absl::StatusOr<std::vector<ListedCase>> cases = ReadBuyerList(csv);
  ASSERT_TRUE(cases.ok()) << cases.status();
  EXPECT_EQ(cases->size(), 2000u);
  absl::StrAppend(&csv, "B-2000,B2,90,Owner,139\n");
  EXPECT_EQ(ErrorOf(csv), "csv: at most 2000 rows in one import; split the list");
}

}  // namespace
}  // namespace handover
