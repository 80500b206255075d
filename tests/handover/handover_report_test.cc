// A batch's report, without a database: seven cases whose every number is
// worked out by hand next to the assertion.
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "services/handover/handover_case.h"
#include "services/handover/report.h"
#include "services/kit/proto_time.h"

namespace handover {
namespace {

// June 2026 in Shanghai (UTC+8). 2026-06-01 is a Monday.
absl::Time At(int day, int hour, int minute = 0) {
  return absl::FromCivil(absl::CivilMinute(2026, 6, day, hour, minute),
                         absl::FixedTimeZone(8 * 3600));
}

v1::HandoverBatch Batch() {
  v1::HandoverBatch b;
  b.set_name("sites/harbin-b/handoverBatches/7");
  b.set_time_zone("Asia/Shanghai");
  for (const v1::ChecklistItem& item : DefaultChecklist()) *b.add_checklist() = item;
  return b;
}

CaseHistory Case(const std::string& unit, v1::CaseState state) {
  CaseHistory h;
  h.body.set_name(absl::StrCat("sites/harbin-b/handoverCases/", unit));
  h.body.set_unit(unit);
  h.body.set_owner_name(absl::StrCat("Owner of ", unit));
  h.body.set_owner_phone("139 0000 0000");
  h.body.set_state(state);
  return h;
}

void Book(CaseHistory& h, absl::Time start) {
  kit::SetTimestamp(h.body.mutable_appointment()->mutable_start_time(), start);
}

void Move(CaseHistory& h, const std::string& type, absl::Time t) { h.moves.push_back({type, t}); }

void Accepted(CaseHistory& h, absl::Time t) {
  Move(h, "accepted", t);
  kit::SetTimestamp(h.body.mutable_accept_time(), t);
}

void AddDefect(CaseHistory& h, const std::string& category, const std::string& contractor,
               v1::DefectState state, absl::Time created,
               std::optional<absl::Time> fixed = std::nullopt) {
  v1::Defect* d = h.body.add_defects();
  d->set_category(category);
  d->set_contractor(contractor);
  d->set_state(state);
  kit::SetTimestamp(d->mutable_create_time(), created);
  if (fixed.has_value()) kit::SetTimestamp(d->mutable_fix_time(), *fixed);
}

// "week appointments/inspected/accepted/refused/completed"
std::string Line(const v1::HandoverWeek& w) {
  return absl::StrCat(w.week(), " ", w.appointments(), "/", w.inspected(), "/", w.accepted(), "/",
                      w.refused(), "/", w.completed());
}

// "key open/fixed/ticketed"
std::string Line(const v1::DefectTally& t) {
  return absl::StrCat(t.key(), " ", t.open(), "/", t.fixed(), "/", t.ticketed());
}

constexpr char kBuilder[] = "Harbin No. 3 Construction";

std::vector<CaseHistory> SevenCases() {
  std::vector<CaseHistory> cases;

  // Handed over on 06-04, the week of 06-01 throughout. Inspection to
  // signature 24 h (1.0 day); the crack fixed in 36 h (1.5 days); the
  // seepage left to a warranty ticket.
  CaseHistory c1 = Case("B-2-0101", v1::COMPLETED);
  Book(c1, At(1, 10));
  Move(c1, "created", At(1, 8));
  Move(c1, "inspected", At(1, 10));
  Accepted(c1, At(2, 10));
  Move(c1, "completed", At(4, 9));
  c1.body.set_handover_date("2026-06-04");
  AddDefect(c1, "walls", kBuilder, v1::FIXED, At(1, 10), At(2, 22));
  AddDefect(c1, "waterproofing", "Longjiang Waterproofing", v1::TICKETED, At(1, 10));
  cases.push_back(c1);

  // Booked on Sunday 06-07 (week of 06-01); the inspection recorded on
  // Monday 06-08 at 00:30 in Shanghai, still Sunday in UTC: week of 06-08.
  // Inspection to signature 26 h 24 min (1.1 days).
  CaseHistory c2 = Case("B-1-0102", v1::COMPLETED);
  Book(c2, At(7, 16));
  Move(c2, "inspected", At(8, 0, 30));
  Accepted(c2, At(9, 2, 54));
  Move(c2, "completed", At(10, 9));
  c2.body.set_handover_date("2026-06-10");
  cases.push_back(c2);

  // Refused in the week of 06-08, one defect fixed in 12 h (0.5 days), one
  // still open.
  CaseHistory c3 = Case("B-1-0103", v1::REFUSED);
  Book(c3, At(8, 10));
  Move(c3, "inspected", At(8, 10));
  Move(c3, "defect_fixed", At(8, 22));
  Move(c3, "refused", At(10, 15));
  AddDefect(c3, "walls", kBuilder, v1::FIXED, At(8, 10), At(8, 22));
  AddDefect(c3, "plumbing", kBuilder, v1::OPEN, At(8, 10));
  cases.push_back(c3);

  // Never booked: on hold from NOT_SCHEDULED, and NOT_SCHEDULED.
  CaseHistory c4 = Case("B-1-0104", v1::ON_HOLD);
  c4.body.set_held_from(v1::NOT_SCHEDULED);
  Move(c4, "held", At(9, 9));
  cases.push_back(c4);
  cases.push_back(Case("B-1-0105", v1::NOT_SCHEDULED));

  // Inspected, refused, inspected again and signed, all in the week of
  // 06-15: from the first inspection to the signature 3.0 days (1.0 from
  // the second). Its defect fixed in 74 h (3.08 days).
  CaseHistory c6 = Case("B-1-0106", v1::ACCEPTED);
  Book(c6, At(17, 9));
  Move(c6, "inspected", At(15, 9));
  Move(c6, "refused", At(15, 12));
  Move(c6, "inspected", At(17, 9));
  Accepted(c6, At(18, 9));
  AddDefect(c6, "electrical", "Harbin Electric", v1::FIXED, At(15, 9), At(18, 11));
  cases.push_back(c6);

  // The week of 06-29, after an empty week: signed 12 h (0.5 days) after
  // its inspection.
  CaseHistory c7 = Case("B-1-0107", v1::ACCEPTED);
  Book(c7, At(29, 9));
  Move(c7, "inspected", At(29, 9));
  Accepted(c7, At(29, 21));
  cases.push_back(c7);
  return cases;
}

TEST(HandoverReport, CountsEachWeeksAppointmentsAndMovesInTheBatchsZone) {
  const v1::HandoverReport r =
      BuildHandoverReport(Batch(), SevenCases(), absl::CivilDay(2026, 7, 5), 30);
  EXPECT_EQ(r.batch(), "sites/harbin-b/handoverBatches/7");
  EXPECT_EQ(r.time_zone(), "Asia/Shanghai");
  EXPECT_EQ(r.as_of(), "2026-07-05");
  EXPECT_EQ(r.cases(), 7);
  std::vector<std::string> weeks;
  for (const v1::HandoverWeek& w : r.weeks()) weeks.push_back(Line(w));
  EXPECT_EQ(weeks, (std::vector<std::string>{
                       // c1, c2 booked; c1 inspected, signed, completed
                       "2026-06-01 2/1/1/0/1",
                       // c3 booked; c2, c3 inspected; c2 signed; c3 refused; c2 completed
                       "2026-06-08 1/2/1/1/1",
                       // c6 booked, inspected twice, refused once, signed
                       "2026-06-15 1/2/1/1/0",
                       // nothing: listed all the same
                       "2026-06-22 0/0/0/0/0",
                       // c7
                       "2026-06-29 1/1/1/0/0"}));
  EXPECT_EQ(Line(r.totals()), " 5/6/4/2/2");
}

TEST(HandoverReport, ListsTheUnitsNotTakenOverAndThoseNeverBooked) {
  const v1::HandoverReport r =
      BuildHandoverReport(Batch(), SevenCases(), absl::CivilDay(2026, 7, 5), 30);
  std::vector<std::string> left;
  for (const v1::UnitNotTakenOver& u : r.not_taken_over()) {
    left.push_back(absl::StrCat(u.unit(), " ", v1::CaseState_Name(u.state()),
                                u.never_booked() ? " never booked" : ""));
  }
  EXPECT_EQ(left, (std::vector<std::string>{"B-1-0103 REFUSED", "B-1-0104 ON_HOLD never booked",
                                            "B-1-0105 NOT_SCHEDULED never booked",
                                            "B-1-0106 ACCEPTED", "B-1-0107 ACCEPTED"}));
  EXPECT_EQ(r.never_booked(), 2);
  EXPECT_EQ(r.not_taken_over(0).handover_case(), "sites/harbin-b/handoverCases/B-1-0103");
  EXPECT_EQ(r.not_taken_over(0).owner_name(), "Owner of B-1-0103");
}

TEST(HandoverReport, TalliesDefectsByCategoryAndContractor) {
  const v1::HandoverReport r =
      BuildHandoverReport(Batch(), SevenCases(), absl::CivilDay(2026, 7, 5), 30);
  std::vector<std::string> categories, contractors;
  for (const v1::DefectTally& t : r.defects_by_category()) categories.push_back(Line(t));
  for (const v1::DefectTally& t : r.defects_by_contractor()) contractors.push_back(Line(t));
  // c6's electrical fixed; c3's plumbing open; c1's and c3's walls fixed;
  // c1's waterproofing ticketed.
  EXPECT_EQ(categories, (std::vector<std::string>{"electrical 0/1/0", "plumbing 1/0/0",
                                                  "walls 0/2/0", "waterproofing 0/0/1"}));
  EXPECT_EQ(r.defects_by_category(2).display_name(), "Walls and ceilings");
  EXPECT_EQ(contractors,
            (std::vector<std::string>{"Harbin Electric 0/1/0", "Harbin No. 3 Construction 1/2/0",
                                      "Longjiang Waterproofing 0/0/1"}));
  EXPECT_EQ(r.defects_by_contractor(0).display_name(), "");
  EXPECT_EQ(Line(r.defect_totals()), " 1/3/1");
}

TEST(HandoverReport, MediansRunFromTheFirstInspectionAndFromEachDefect) {
  const v1::HandoverReport r =
      BuildHandoverReport(Batch(), SevenCases(), absl::CivilDay(2026, 7, 5), 30);
  // Signatures after 0.5, 1.0, 1.1 and 3.0 days: (1.0 + 1.1) / 2 = 1.05,
  // half up to 1.1. (From c6's second inspection it would be 1.0.)
  EXPECT_EQ(r.median_days_inspection_to_acceptance(), "1.1");
  // Fixes after 0.5, 1.5 and 3.08 days.
  EXPECT_EQ(r.median_days_defect_to_fix(), "1.5");
}

TEST(HandoverReport, ReturnVisitsAreUnitsHandedOverLongEnoughAgoOldestFirst) {
  // 30 days before 07-05 is 06-05: c1 (06-04) only.
  v1::HandoverReport r = BuildHandoverReport(Batch(), SevenCases(), absl::CivilDay(2026, 7, 5), 30);
  EXPECT_EQ(r.return_visit_after_days(), 30);
  ASSERT_EQ(r.return_visits_size(), 1);
  EXPECT_EQ(r.return_visits(0).unit(), "B-2-0101");
  EXPECT_EQ(r.return_visits(0).handover_date(), "2026-06-04");
  EXPECT_EQ(r.return_visits(0).days_since_handover(), 31);
  EXPECT_EQ(r.return_visits(0).warranty_tickets(), 1);
  EXPECT_EQ(r.return_visits(0).owner_phone(), "139 0000 0000");

  // 25 days before is 06-10: c2 too, after c1 although its unit sorts first.
  r = BuildHandoverReport(Batch(), SevenCases(), absl::CivilDay(2026, 7, 5), 25);
  ASSERT_EQ(r.return_visits_size(), 2);
  EXPECT_EQ(r.return_visits(0).unit(), "B-2-0101");
  EXPECT_EQ(r.return_visits(1).unit(), "B-1-0102");
  EXPECT_EQ(r.return_visits(1).days_since_handover(), 25);
  EXPECT_EQ(r.return_visits(1).warranty_tickets(), 0);

  // 26 days before is 06-09: c2 (06-10) is a day short.
  r = BuildHandoverReport(Batch(), SevenCases(), absl::CivilDay(2026, 7, 5), 26);
  EXPECT_EQ(r.return_visits_size(), 1);
}

TEST(HandoverReport, AnEmptyBatchHasNothingToCountOrMeasure) {
  const v1::HandoverReport r = BuildHandoverReport(Batch(), {}, absl::CivilDay(2026, 7, 5), 30);
  EXPECT_EQ(r.cases(), 0);
  EXPECT_TRUE(r.weeks().empty());
  EXPECT_EQ(Line(r.totals()), " 0/0/0/0/0");
  EXPECT_TRUE(r.not_taken_over().empty());
  EXPECT_EQ(r.median_days_inspection_to_acceptance(), "");
  EXPECT_EQ(r.median_days_defect_to_fix(), "");
}

TEST(HandoverReport, WeeksStartOnMonday) {
  EXPECT_EQ(WeekOf(absl::CivilDay(2026, 6, 7)), absl::CivilDay(2026, 6, 1));    // a Sunday
  EXPECT_EQ(WeekOf(absl::CivilDay(2026, 6, 8)), absl::CivilDay(2026, 6, 8));    // a Monday
  EXPECT_EQ(WeekOf(absl::CivilDay(2026, 1, 1)), absl::CivilDay(2025, 12, 29));  // across a year
}

TEST(HandoverReport, MedianDaysHaveOneDecimalRoundedHalfUp) {
  EXPECT_EQ(MedianDays({}), "");
  EXPECT_EQ(MedianDays({absl::Hours(36)}), "1.5");
  // 25 h 12 min is 1.05 days.
  EXPECT_EQ(MedianDays({absl::Hours(25) + absl::Minutes(12)}), "1.1");
  // 25 h 11 min is 1.0493 days.
  EXPECT_EQ(MedianDays({absl::Hours(25) + absl::Minutes(11)}), "1.0");
  // Unsorted, odd: the middle one. Even: the mean of the middle two,
  // (2 + 3) / 2 = 2.5.
  EXPECT_EQ(MedianDays({absl::Hours(72), absl::Hours(24), absl::Hours(48)}), "2.0");
  EXPECT_EQ(MedianDays({absl::Hours(96), absl::Hours(24), absl::Hours(72), absl::Hours(48)}),
            "2.5");
  EXPECT_EQ(MedianDays({absl::Hours(240)}), "10.0");
}

}  // namespace
}  // namespace handover
