// The register's and archive room's rules without a database: masking, who
// may see personal data, areas, the buyer-list plan, lending and audits.
#include "gtest/gtest.h"
#include "services/archives/document.h"
#include "services/archives/register.h"
#include "services/kit/csv.h"

namespace archives {
namespace {

TEST(Masking, ShowsEnoughToRecogniseAndNotEnoughToUse) {
  EXPECT_EQ(MaskPhone("13812345678"), "138****5678");
  EXPECT_EQ(MaskPhone("6543 2100"), "*****2100");
  EXPECT_EQ(MaskPhone("110"), "***");
  EXPECT_EQ(MaskIdNumber("110101199003071234"), "110***********1234");
  EXPECT_EQ(MaskIdNumber("E1234567"), "E******7");
  EXPECT_EQ(MaskEmail("zhou.li@example.com"), "z***@example.com");
  EXPECT_EQ(MaskPhone(""), "");
  v1::Party p;
  p.set_display_name("Zhou Li");
  p.set_phone("13812345678");
  MaskParty(p);
  EXPECT_TRUE(p.masked());
  EXPECT_EQ(p.display_name(), "Zhou Li") << "names stay readable in lists";
  EXPECT_EQ(p.phone().find("1234"), std::string::npos);
}

TEST(Masking, OnlyRolesAboveViewerMayReveal) {
  EXPECT_FALSE(MayRevealPersonalData(""));
  EXPECT_FALSE(MayRevealPersonalData("viewer"));
  EXPECT_TRUE(MayRevealPersonalData("viewer,staff"));
  EXPECT_TRUE(MayRevealPersonalData("finance"));
  EXPECT_TRUE(MayRevealPersonalData("admin"));
  EXPECT_FALSE(MayRevealPersonalData("staffer"));
}

TEST(Area, ExactHundredthsOfASquareMetre) {
  EXPECT_EQ(*ParseAreaM2("a", "89.35"), 8935);
  EXPECT_EQ(*ParseAreaM2("a", "89.5"), 8950);
  EXPECT_EQ(*ParseAreaM2("a", "89"), 8900);
  EXPECT_EQ(*ParseAreaM2("a", "0.07"), 7);
  for (const char* bad : {"89.", ".5", "-1", "1.234", "abc", "1e3", "", "12,5", "89.35.7"}) {
    absl::StatusOr<int64_t> r = ParseAreaM2("area_m2", bad);
    EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument) << bad;
    EXPECT_EQ(r.status().message().rfind("area_m2:", 0), 0u) << r.status().message();
  }
  EXPECT_EQ(FormatAreaM2(8905), "89.05");
  EXPECT_EQ(*ParseAreaM2("a", FormatAreaM2(123456)), 123456);
}

TEST(PartyRules, ContactDetailsAreCheckedAndMaskedValuesRefused) {
  v1::Party p;
  p.set_role(v1::UNIT_OWNER);
  p.set_unit("sites/a/units/B3-1201");
  p.set_display_name("Zhou Li");
  p.set_phone("+86 138-1234-5678");
  EXPECT_TRUE(CheckParty("party", p, "a").ok());
  p.set_phone("138****5678");
  EXPECT_EQ(CheckParty("party", p, "a").message().rfind("party.phone:", 0), 0u);
  p.set_phone("");
  p.set_email("z***@example.com");
  EXPECT_EQ(CheckParty("party", p, "a").message().rfind("party.email:", 0), 0u);
  p.set_email("");
  p.set_unit("sites/b/units/B3-1201");
  EXPECT_EQ(CheckParty("party", p, "a").message().rfind("party.unit:", 0), 0u);
  p.set_unit("");
  EXPECT_FALSE(CheckParty("party", p, "a").ok()) << "an owner owns a unit";
  p.set_role(v1::OUTSIDE_CONTRACTOR);
  EXPECT_TRUE(CheckParty("party", p, "a").ok()) << "a contractor need not";
  p.set_start_date("2026-03-01");
  p.set_end_date("2026-02-01");
  EXPECT_EQ(CheckParty("party", p, "a").message().rfind("party.end_date:", 0), 0u);
}

TEST(BuyerList, AGoodFileBecomesUnitsAndParties) {
  const std::string csv =
      "\xEF\xBB\xBFunit,building,floor,number,area_m2,layout,occupancy,party_name,party_phone\r\n"
      "B3-1201,B3,12,1201,89.35,\"3 bed, 2 living\",owner_occupied,Zhou Li,13812345678\r\n"
      "B3-1201,B3,12,1201,89.35,\"3 bed, 2 living\",owner_occupied,Zhou Min,13900001111\r\n"
      "B3-1202,B3,12,1202,,,,,\r\n";
  const ImportPlan plan = PlanImport(csv, "a");
  ASSERT_TRUE(plan.errors.empty()) << plan.errors[0].DebugString();
  ASSERT_EQ(plan.rows.size(), 3u);
  ASSERT_EQ(plan.units.size(), 2u) << "two rows of one unit are one unit with two owners";
  EXPECT_EQ(plan.units[0]->unit.name(), "sites/a/units/B3-1201");
  EXPECT_EQ(plan.units[0]->unit.layout(), "3 bed, 2 living");
  EXPECT_EQ(plan.units[0]->unit.area_centi_m2(), 8935);
  EXPECT_EQ(plan.units[0]->unit.occupancy(), v1::OWNER_OCCUPIED);
  EXPECT_EQ(plan.units[1]->unit.occupancy(), v1::VACANT);
  EXPECT_FALSE(plan.units[1]->party.has_value());
  ASSERT_TRUE(plan.rows[1].party.has_value());
  EXPECT_EQ(plan.rows[1].party->role(), v1::UNIT_OWNER);
  EXPECT_EQ(plan.rows[1].party->unit(), "sites/a/units/B3-1201");
}

TEST(BuyerList, EveryBadRowIsReportedWithItsLineAndColumn) {
  const std::string csv =
      "unit,building,floor,area_m2,occupancy,party_role,party_name,party_phone\n"
      "B3-1201,B3,12,89.35,vacant,owner,Zhou Li,13812345678\n"   // 2: fine
      "B3 1202,B3,12,89.35,vacant,owner,Wang,13800000000\n"       // 3: unit id
      "B3-1203,B3,twelve,89.35,vacant,owner,Li,13800000000\n"     // 4: floor
      "B3-1204,B3,12,89.356,vacant,owner,Li,13800000000\n"        // 5: area
      "B3-1205,B3,12,89.35,sold,owner,Li,13800000000\n"           // 6: occupancy
      "B3-1206,B3,12,89.35,vacant,landlord,Li,13800000000\n"      // 7: role
      "B3-1207,B3,12,89.35,vacant,owner,,13800000000\n"           // 8: name missing
      "B3-1208,B3,12,89.35,vacant,owner,Li,call me\n"             // 9: phone
      "B3-1209,,12,89.35,vacant,owner,Li,13800000000\n"           // 10: building
      "B3-1201,B4,12,89.35,vacant,owner,Ma,13800000000\n"         // 11: unit clash
      "B3-1210,B3,12\n";                                          // 12: short row
  const ImportPlan plan = PlanImport(csv, "a");
  std::vector<std::pair<int, std::string>> got;
  for (const v1::ImportError& e : plan.errors) got.emplace_back(e.line(), e.column());
  const std::vector<std::pair<int, std::string>> want = {
      {3, "unit"},        {4, "floor"},      {5, "area_m2"},     {6, "occupancy"},
      {7, "party_role"},  {8, "party_name"}, {9, "party_phone"}, {10, "building"},
      {11, "unit"},       {12, ""}};
  EXPECT_EQ(got, want);
}

TEST(BuyerList, AWrongHeaderStopsBeforeAnyRow) {
  EXPECT_EQ(PlanImport("unit,colour\nB3-1,red\n", "a").errors.at(0).column(), "colour");
  EXPECT_EQ(PlanImport("building\nB3\n", "a").errors.at(0).column(), "unit");
  EXPECT_EQ(PlanImport("unit,building\n", "a").errors.size(), 1u);
  EXPECT_EQ(PlanImport("unit,building\n\"B3,B3\n", "a").errors.size(), 1u) << "open quote";
  EXPECT_EQ(PlanImport("", "a").errors.size(), 1u);
}

TEST(BuyerList, AnExportedRowReadsBackAsTheSameUnitAndParty) {
  v1::Unit u;
  u.set_name("sites/a/units/B3-1201");
  u.set_building("B3");
  u.set_floor(-1);
  u.set_number("1201");
  u.set_area_centi_m2(8905);
  u.set_layout("3 bed, \"2\" living");
  u.set_occupancy(v1::RENTED);
  v1::Party p;
  p.set_unit(u.name());
  p.set_role(v1::TENANT);
  p.set_display_name("=HYPERLINK(\"http://x\")");  // a formula, as a name
  p.set_phone("+86 138 1234 5678");
  const std::string csv = kit::CsvLine(RegisterCsvColumns()) + kit::CsvLine(RegisterCsvRow(u, &p)) +
                          kit::CsvLine(RegisterCsvRow(u, nullptr));
  const ImportPlan plan = PlanImport(csv, "a");
  ASSERT_TRUE(plan.errors.empty()) << plan.errors[0].DebugString();
  ASSERT_EQ(plan.units.size(), 1u);
  EXPECT_EQ(plan.units[0]->unit.SerializeAsString(), u.SerializeAsString());
  ASSERT_TRUE(plan.rows[0].party.has_value());
  EXPECT_EQ(plan.rows[0].party->SerializeAsString(), p.SerializeAsString());
  // No cell starts a formula: they go out behind a quote.
  EXPECT_NE(csv.find("\"'=HYPERLINK("), std::string::npos) << csv;
  EXPECT_NE(csv.find(",'+86 138"), std::string::npos) << csv;
}

TEST(Lending, OnlyADocumentOnTheShelfAndConfidentialOnesWithAnotherApprover) {
  EXPECT_TRUE(CheckLend(v1::ON_SHELF, v1::INTERNAL, "Wang", "").ok());
  EXPECT_EQ(CheckLend(v1::LENT, v1::INTERNAL, "Wang", "").code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(CheckLend(v1::MISSING, v1::PUBLIC, "Wang", "").code(),
            absl::StatusCode::kFailedPrecondition);
  absl::Status s = CheckLend(v1::ON_SHELF, v1::CONFIDENTIAL, "Wang", "");
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(s.message().rfind("approver:", 0), 0u);
  EXPECT_EQ(CheckLend(v1::ON_SHELF, v1::CONFIDENTIAL, "Wang", "Wang").code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(CheckLend(v1::ON_SHELF, v1::CONFIDENTIAL, "Wang", "Manager Liu").ok());
  const absl::Time due = absl::FromUnixSeconds(1000);
  EXPECT_TRUE(IsLoanOverdue(std::nullopt, due, due + absl::Seconds(1)));
  EXPECT_FALSE(IsLoanOverdue(std::nullopt, due, due));
  EXPECT_FALSE(IsLoanOverdue(due + absl::Hours(1), due, due + absl::Hours(2)));
}

TEST(Audit, CloseMarksTheUnfoundMissingAndTheFoundBack) {
  EXPECT_EQ(OutcomeOf(true, false, v1::ON_SHELF), AuditOutcome::kMissing);
  EXPECT_EQ(OutcomeOf(true, true, v1::ON_SHELF), AuditOutcome::kNone);
  EXPECT_EQ(OutcomeOf(true, false, v1::LENT), AuditOutcome::kNone) << "lent since the start";
  EXPECT_EQ(OutcomeOf(false, true, v1::MISSING), AuditOutcome::kRecovered);
  EXPECT_EQ(OutcomeOf(false, true, v1::ON_SHELF), AuditOutcome::kUnexpected);
  EXPECT_EQ(StateAfter(AuditOutcome::kMissing, v1::ON_SHELF), v1::MISSING);
  EXPECT_EQ(StateAfter(AuditOutcome::kRecovered, v1::MISSING), v1::ON_SHELF);
  EXPECT_EQ(StateAfter(AuditOutcome::kUnexpected, v1::ON_SHELF), v1::ON_SHELF);
}

TEST(DocumentRules, AFileReferenceHashIsSixtyFourHexDigits) {
  v1::Document d;
  d.set_category(v1::OWNER_FILE);
  d.set_title("Owner file B3-1201");
  d.mutable_location()->set_building("B3");
  d.set_confidentiality(v1::CONFIDENTIAL);
  EXPECT_TRUE(CheckDocument("document", d, "a").ok());
  d.mutable_file()->set_sha256(std::string(64, 'a'));
  EXPECT_EQ(CheckDocument("document", d, "a").message().rfind("document.file.uri:", 0), 0u);
  d.mutable_file()->set_uri("s3://archive/b3-1201.pdf");
  EXPECT_TRUE(CheckDocument("document", d, "a").ok());
  d.mutable_file()->set_sha256(std::string(64, 'A'));
  EXPECT_EQ(CheckDocument("document", d, "a").message().rfind("document.file.sha256:", 0), 0u);
  d.clear_file();
  d.mutable_location()->clear_building();
  EXPECT_EQ(CheckDocument("document", d, "a").message().rfind("document.location.building:", 0),
            0u);
}

}  // namespace
}  // namespace archives
