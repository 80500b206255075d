// The handover case's moves and the batch's rules, without a database.
#include <functional>
#include <string>
#include <vector>

#include "estate/archives/v1/archives.pb.h"
#include "estate/billing/v1/billing.pb.h"
#include "estate/tickets/v1/tickets.pb.h"
#include "gtest/gtest.h"
#include "services/handover/batch.h"
#include "services/handover/completion.h"
#include "services/handover/handover_case.h"
#include "services/kit/proto_time.h"

namespace handover {
namespace {

// 2026-06-08 10:00 in Shanghai (UTC+8).
absl::Time At(int day, int hour, int minute = 0) {
  return absl::FromCivil(absl::CivilMinute(2026, 6, day, hour, minute),
                         absl::FixedTimeZone(8 * 3600));
}

v1::HandoverBatch AreaB() {
  v1::HandoverBatch b;
  b.set_display_name("Area B, phase 2");
  b.set_window_start("2026-06-01");
  b.set_window_end("2026-06-30");
  b.set_day_start("09:00");
  b.set_day_end("17:00");
  b.set_slot_minutes(60);
  b.set_time_zone("Asia/Shanghai");
  b.add_inspectors("inspector-zhao");
  b.add_inspectors("inspector-qian");
  b.add_charge_items("sites/harbin-b/chargeItems/1");
  return b;
}

v1::Appointment Slot(int day, int hour, int minutes = 60,
                     const std::string& inspector = "inspector-zhao") {
  v1::Appointment a;
  a.set_inspector(inspector);
  kit::SetTimestamp(a.mutable_start_time(), At(day, hour));
  kit::SetTimestamp(a.mutable_end_time(), At(day, hour) + absl::Minutes(minutes));
  return a;
}

std::vector<v1::ChecklistResult> AllPass(const v1::HandoverBatch& b) {
  std::vector<v1::ChecklistResult> out;
  for (const v1::ChecklistItem& item : b.checklist()) {
    v1::ChecklistResult r;
    r.set_code(item.code());
    r.set_result(v1::PASS);
    out.push_back(r);
  }
  return out;
}

void Fail(std::vector<v1::ChecklistResult>& results, const std::string& code) {
  for (v1::ChecklistResult& r : results) {
    if (r.code() == code) r.set_result(v1::FAIL);
  }
}

v1::Defect DefectIn(const std::string& category, const std::string& location) {
  v1::Defect d;
  d.set_category(category);
  d.set_location(location);
  d.set_contractor("Harbin No. 3 Construction");
  d.set_due_date("2026-06-20");
  return d;
}

class HandoverCaseTest : public ::testing::Test {
 protected:
  void SetUp() override {
    batch_ = AreaB();
    ASSERT_TRUE(CheckBatch(batch_, "harbin-b").ok());
    case_.set_name("sites/harbin-b/handoverCases/7");
    case_.set_unit("B-2-0801");
    case_.set_state(v1::NOT_SCHEDULED);
  }
  // Scheduled and inspected with a waterproofing and a wall defect.
  void InspectWithTwoDefects() {
    ASSERT_TRUE(Schedule(case_, Slot(8, 10)).ok());
    std::vector<v1::ChecklistResult> results = AllPass(batch_);
    Fail(results, "waterproofing");
    Fail(results, "walls");
    ASSERT_TRUE(Inspect(case_, batch_, results,
                        {DefectIn("waterproofing", "bathroom floor, seepage at the drain"),
                         DefectIn("walls", "master bedroom, crack above the window")},
                        1, At(8, 11))
                    .ok());
  }

  v1::HandoverBatch batch_;
  v1::HandoverCase case_;
};

TEST_F(HandoverCaseTest, AWholeHandoverFromBookingToCompletion) {
  InspectWithTwoDefects();
  EXPECT_EQ(case_.state(), v1::RECTIFYING);
  ASSERT_EQ(case_.defects_size(), 2);
  EXPECT_EQ(case_.defects(0).name(), "sites/harbin-b/handoverCases/7/defects/1");
  EXPECT_EQ(case_.defects(1).name(), "sites/harbin-b/handoverCases/7/defects/2");
  EXPECT_EQ(case_.defects(0).state(), v1::OPEN);

  // The re-inspection passes the seepage; the crack is still open.
  ASSERT_TRUE(FixDefect(case_, 1, At(15, 10)).ok());
  EXPECT_EQ(case_.state(), v1::RECTIFYING);
  EXPECT_EQ(case_.defects(0).state(), v1::FIXED);

  // The owner signs with the crack still open: it becomes warranty work.
  ASSERT_TRUE(Accept(case_, "Mr. Liu Wei", "sig://2026/06/15/0801", At(15, 11)).ok());
  EXPECT_EQ(case_.state(), v1::ACCEPTED);
  ASSERT_TRUE(Complete(case_, absl::CivilDay(2026, 6, 16), absl::CivilDay(2026, 6, 15),
                       absl::CivilDay(2026, 6, 16), At(16, 9))
                  .ok());
  EXPECT_EQ(case_.state(), v1::COMPLETED);
  EXPECT_EQ(case_.handover_date(), "2026-06-16");
  EXPECT_EQ(case_.defects(0).state(), v1::FIXED);
  EXPECT_EQ(case_.defects(1).state(), v1::TICKETED);
}

TEST_F(HandoverCaseTest, FixingTheLastOpenDefectLeavesTheCaseInspected) {
  InspectWithTwoDefects();
  ASSERT_TRUE(FixDefect(case_, 2, At(15, 10)).ok());
  ASSERT_TRUE(FixDefect(case_, 1, At(15, 10)).ok());
  EXPECT_EQ(case_.state(), v1::INSPECTED);
  EXPECT_EQ(FixDefect(case_, 1, At(15, 10)).code(), absl::StatusCode::kFailedPrecondition)
      << "nothing is being rectified any more";
}

TEST_F(HandoverCaseTest, AnInspectionWithNothingWrongNeedsNoRectification) {
  ASSERT_TRUE(Schedule(case_, Slot(8, 10)).ok());
  ASSERT_TRUE(Inspect(case_, batch_, AllPass(batch_), {}, 1, At(8, 11)).ok());
  EXPECT_EQ(case_.state(), v1::INSPECTED);
  EXPECT_EQ(case_.checklist_size(), batch_.checklist_size());
}

TEST_F(HandoverCaseTest, IllegalMovesNameTheStateTheyMet) {
  const absl::Status early = Accept(case_, "Mr. Liu Wei", "sig://1", At(8, 9));
  EXPECT_EQ(early.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(early.message(), "cannot accept a case that is NOT_SCHEDULED");
  EXPECT_EQ(Inspect(case_, batch_, AllPass(batch_), {}, 1, At(8, 11)).code(),
            absl::StatusCode::kFailedPrecondition);
  InspectWithTwoDefects();
  EXPECT_EQ(Inspect(case_, batch_, AllPass(batch_), {}, 3, At(8, 12)).code(),
            absl::StatusCode::kFailedPrecondition)
      << "one joint inspection; later visits re-inspect defects";
  EXPECT_EQ(Complete(case_, absl::CivilDay(2026, 6, 8), absl::CivilDay(2026, 6, 8),
                     absl::CivilDay(2026, 6, 8), At(8, 12))
                .code(),
            absl::StatusCode::kFailedPrecondition)
      << "completion needs the owner's signature";
  EXPECT_EQ(case_.state(), v1::RECTIFYING) << "a refused move changes nothing";
}

TEST_F(HandoverCaseTest, AnInspectionMustAccountForEveryItemAndEveryFailure) {
  ASSERT_TRUE(Schedule(case_, Slot(8, 10)).ok());
  std::vector<v1::ChecklistResult> missing = AllPass(batch_);
  missing.pop_back();
  absl::Status s = Inspect(case_, batch_, missing, {}, 1, At(8, 11));
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(s.message(), "checklist: no result for 'meters'");

  std::vector<v1::ChecklistResult> failed = AllPass(batch_);
  Fail(failed, "windows");
  s = Inspect(case_, batch_, failed, {}, 1, At(8, 11));
  EXPECT_EQ(s.message(), "defects: 'windows' failed: name at least one defect");

  s = Inspect(case_, batch_, AllPass(batch_), {DefectIn("windows", "living room")}, 1, At(8, 11));
  EXPECT_EQ(s.message(), "defects[0].category: its checklist item did not fail");

  v1::Defect overdue = DefectIn("windows", "living room");
  overdue.set_due_date("2026-06-01");
  s = Inspect(case_, batch_, failed, {overdue}, 1, At(8, 11));
  EXPECT_EQ(s.message(), "defects[0].due_date: must not be before the inspection");

  v1::Defect nowhere = DefectIn("windows", "");
  s = Inspect(case_, batch_, failed, {nowhere}, 1, At(8, 11));
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(std::string(s.message()).rfind("defects[0].location", 0), 0u) << s.message();
  EXPECT_EQ(case_.state(), v1::SCHEDULED);
  EXPECT_EQ(case_.defects_size(), 0);
}

TEST_F(HandoverCaseTest, ARefusingOwnerCanBookAgainAndAHeldCaseResumesWhereItWas) {
  ASSERT_TRUE(Schedule(case_, Slot(8, 10)).ok());
  ASSERT_TRUE(Refuse(case_, "the balcony is smaller than the sales plan").ok());
  EXPECT_EQ(case_.state(), v1::REFUSED);
  ASSERT_TRUE(Schedule(case_, Slot(20, 14)).ok());
  EXPECT_EQ(case_.state(), v1::SCHEDULED);
  EXPECT_TRUE(case_.refusal_reason().empty());

  ASSERT_TRUE(Hold(case_, "owner abroad until July").ok());
  EXPECT_EQ(case_.state(), v1::ON_HOLD);
  EXPECT_EQ(Hold(case_, "again").code(), absl::StatusCode::kFailedPrecondition);
  ASSERT_TRUE(Resume(case_).ok());
  EXPECT_EQ(case_.state(), v1::SCHEDULED);
  EXPECT_TRUE(case_.hold_reason().empty());
}

TEST_F(HandoverCaseTest, CompletionAsksEachServiceForItsPartInOrder) {
  InspectWithTwoDefects();
  ASSERT_TRUE(FixDefect(case_, 1, At(15, 10)).ok());
  ASSERT_TRUE(Accept(case_, "Liu Wei", "sig://1", At(15, 11)).ok());
  case_.set_owner_name("Liu Wei");
  case_.set_owner_phone("+86 139 0000 0801");
  case_.set_building("B2");
  case_.set_billable_area("98.37");
  case_.add_keys("sites/harbin-b/keys/3");
  v1::HouseholdMember* spouse = case_.add_household();
  spouse->set_display_name("Chen Jing");
  spouse->set_relation("spouse");
  case_.set_emergency_contact("Liu Min +86 139 0000 0802");
  v1::MeterReading* water = case_.add_opening_readings();
  water->set_meter("water");
  water->set_value("12.5");
  ASSERT_TRUE(Complete(case_, absl::CivilDay(2026, 6, 16), absl::CivilDay(2026, 6, 15),
                       absl::CivilDay(2026, 6, 16), At(16, 9))
                  .ok());

  const std::vector<PeerCall> calls = CompletionCalls(case_, batch_, "harbin-b");
  std::vector<std::string> methods;
  for (const PeerCall& c : calls) {
    methods.push_back(c.target + " " + c.method.substr(c.method.rfind('/') + 1));
  }
  EXPECT_EQ(methods, (std::vector<std::string>{
                         "archives CreateParty", "archives CreateParty", "archives CreateParty",
                         "archives SetUnitOccupancy", "archives HandOverKey",
                         "billing CreateAccount", "billing RecordMeterReading",
                         "tickets CreateTicket"}))
      << "owner, spouse, emergency contact; the account before its reading; the crack only";
  ASSERT_EQ(calls.size(), 8u);
  const auto& occupancy =
      dynamic_cast<const ::estate::archives::v1::SetUnitOccupancyRequest&>(*calls[3].request);
  EXPECT_EQ(occupancy.name(), "sites/harbin-b/units/B-2-0801");
  EXPECT_EQ(occupancy.occupancy(), ::estate::archives::v1::VACANT_OWNED)
      << "the owner has not said they move in";
  EXPECT_EQ(occupancy.reference(), "handover sites/harbin-b/handoverCases/7");
  const auto& account =
      dynamic_cast<const ::estate::billing::v1::CreateAccountRequest&>(*calls[5].request);
  EXPECT_EQ(account.account_id(), "B-2-0801");
  EXPECT_EQ(account.account().fee_start(), "2026-06-16");
  EXPECT_EQ(account.account().payer_name(), "Liu Wei");
  const auto& reading =
      dynamic_cast<const ::estate::billing::v1::RecordMeterReadingRequest&>(*calls[6].request);
  EXPECT_EQ(reading.reading().read_on(), "2026-06-16") << "the baseline is the handover day";
  const auto& ticket =
      dynamic_cast<const ::estate::tickets::v1::CreateTicketRequest&>(*calls[7].request);
  EXPECT_EQ(ticket.ticket().assignee(), "Harbin No. 3 Construction");
  EXPECT_EQ(calls[7].subject, "sites/harbin-b/handoverCases/7/defects/2")
      << "the ticket is linked back to the crack";

  case_.set_owner_moves_in(true);
  const std::vector<PeerCall> moving_in = CompletionCalls(case_, batch_, "harbin-b");
  EXPECT_EQ(dynamic_cast<const ::estate::archives::v1::SetUnitOccupancyRequest&>(
                *moving_in[3].request)
                .occupancy(),
            ::estate::archives::v1::OWNER_OCCUPIED);
}

TEST_F(HandoverCaseTest, DueDatesAreTheSitesDays) {
  ASSERT_TRUE(Schedule(case_, Slot(8, 10)).ok());
  std::vector<v1::ChecklistResult> results = AllPass(batch_);
  Fail(results, "walls");
  v1::Defect crack = DefectIn("walls", "hall, crack");
  // 01:00 on 8 June in Harbin is still 7 June in UTC: the 7th is past.
  crack.set_due_date("2026-06-07");
  EXPECT_EQ(Inspect(case_, batch_, results, {crack}, 1, At(8, 1)).message(),
            "defects[0].due_date: must not be before the inspection");
  crack.set_due_date("2026-06-08");
  ASSERT_TRUE(Inspect(case_, batch_, results, {crack}, 1, At(8, 1)).ok());
}

TEST_F(HandoverCaseTest, TheFeeStartsNeitherBeforeTheSignatureNorInTheFuture) {
  ASSERT_TRUE(Schedule(case_, Slot(8, 10)).ok());
  ASSERT_TRUE(Inspect(case_, batch_, AllPass(batch_), {}, 1, At(8, 11)).ok());
  ASSERT_TRUE(Accept(case_, "Mr. Liu Wei", "sig://1", At(8, 12)).ok());
  const absl::CivilDay accepted(2026, 6, 8), today(2026, 6, 10);
  EXPECT_EQ(Complete(case_, absl::CivilDay(2026, 6, 7), accepted, today, At(10, 9)).message(),
            "handover_date: must not be before the owner accepted");
  EXPECT_EQ(Complete(case_, absl::CivilDay(2026, 6, 11), accepted, today, At(10, 9)).message(),
            "handover_date: must not be in the future");
  EXPECT_EQ(case_.state(), v1::ACCEPTED);
  EXPECT_TRUE(Complete(case_, absl::CivilDay(2026, 6, 9), accepted, today, At(10, 9)).ok());
}

TEST(HandoverBatch, AnEmptyChecklistGetsTheJointInspectionItems) {
  v1::HandoverBatch b = AreaB();
  ASSERT_TRUE(CheckBatch(b, "harbin-b").ok());
  ASSERT_EQ(b.checklist_size(), 8);
  EXPECT_EQ(b.checklist(2).code(), "waterproofing");
}

TEST(HandoverBatch, BadFieldsAreNamed) {
  struct Case {
    std::function<void(v1::HandoverBatch&)> spoil;
    std::string field;
  };
  const std::vector<Case> cases = {
      {[](auto& b) { b.set_window_end("2026-05-01"); }, "batch.window_end"},
      {[](auto& b) { b.set_day_start("9am"); }, "batch.day_start"},
      {[](auto& b) { b.set_day_end("09:30"); }, "batch.day_end"},
      {[](auto& b) { b.set_slot_minutes(5); }, "batch.slot_minutes"},
      {[](auto& b) { b.set_time_zone("Mars/Olympus"); }, "batch.time_zone"},
      {[](auto& b) { b.clear_inspectors(); }, "batch.inspectors"},
      {[](auto& b) { b.add_inspectors("inspector-zhao"); }, "batch.inspectors[2]"},
      {[](auto& b) { b.set_charge_items(0, "sites/other/chargeItems/1"); }, "batch.charge_items[0]"},
      {[](auto& b) { b.add_checklist()->set_code("Walls!"); }, "batch.checklist[0].code"},
  };
  for (const Case& c : cases) {
    v1::HandoverBatch b = AreaB();
    c.spoil(b);
    const absl::Status s = CheckBatch(b, "harbin-b");
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << c.field;
    EXPECT_EQ(std::string(s.message()).rfind(c.field + ":", 0), 0u) << s.message();
  }
}

TEST(HandoverBatch, AppointmentsAreWholeSlotsInsideTheWindowInTheBatchsZone) {
  v1::HandoverBatch b = AreaB();
  ASSERT_TRUE(CheckBatch(b, "harbin-b").ok());
  EXPECT_TRUE(CheckAppointment(b, Slot(8, 9)).ok()) << "09:00 Shanghai is 01:00 UTC";
  EXPECT_TRUE(CheckAppointment(b, Slot(30, 16)).ok()) << "the last slot of the last day";
  struct Case {
    v1::Appointment a;
    std::string field;
  };
  v1::Appointment off_grid = Slot(8, 9);
  kit::SetTimestamp(off_grid.mutable_start_time(), At(8, 9, 30));
  kit::SetTimestamp(off_grid.mutable_end_time(), At(8, 10, 30));
  for (const Case& c : std::vector<Case>{
           {off_grid, "appointment.start_time"},
           {Slot(8, 8), "appointment.start_time"},
           {Slot(8, 17), "appointment.start_time"},
           {Slot(31, 10), "appointment.start_time"},
           {Slot(8, 10, 90), "appointment.end_time"},
           {Slot(8, 10, 60, "someone-else"), "appointment.inspector"}}) {
    const absl::Status s = CheckAppointment(b, c.a);
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << c.field;
    EXPECT_EQ(std::string(s.message()).rfind(c.field + ":", 0), 0u) << s.message();
  }
}

}  // namespace
}  // namespace handover
