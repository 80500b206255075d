// Renovation permits' moves, worker passes, the pass check and the
// half-year counts, without a database. Times are written in Shanghai
// (UTC+8, no daylight saving), the permits' zone; the expectations are
// worked out by hand from that offset.
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "estate/billing/v1/billing.pb.h"
#include "estate/tickets/v1/tickets.pb.h"
#include "gtest/gtest.h"
#include "services/handover/completion.h"
#include "services/handover/permit.h"
#include "services/handover/permit_counts.h"

namespace handover {
namespace {

namespace billing = ::estate::billing::v1;
namespace tickets = ::estate::tickets::v1;

absl::Time Shanghai(int month, int day, int hour, int minute = 0) {
  return absl::FromCivil(absl::CivilMinute(2026, month, day, hour, minute),
                         absl::FixedTimeZone(8 * 3600));
}
absl::Time Utc(int month, int day, int hour, int minute = 0) {
  return absl::FromCivil(absl::CivilMinute(2026, month, day, hour, minute), absl::UTCTimeZone());
}

// Monday 2026-07-06, 10:00 in Shanghai: the application is made.
const absl::Time kNow = Shanghai(7, 6, 10);

// Kitchen and bathroom for unit B-2-0801, 6 July to 31 August, 08:00 to
// 18:00, three workers.
v1::RenovationPermit Application() {
  v1::RenovationPermit p;
  p.set_unit("B-2-0801");
  p.set_owner_name("Liu Wei");
  p.set_owner_phone("+86 139 0000 0801");
  p.set_contractor("Harbin Jiayuan Decoration");
  p.set_scope("Retiling kitchen and bathroom, built-in wardrobes");
  p.set_planned_start("2026-07-06");
  p.set_planned_end("2026-08-31");
  p.set_work_start("08:00");
  p.set_work_end("18:00");
  p.set_time_zone("Asia/Shanghai");
  p.set_workers(3);
  p.set_deposit_minor(200000);     // 2,000.00 CNY
  p.set_garbage_fee_minor(30000);  // 300.00 CNY
  p.set_currency_code("CNY");
  p.set_deposit_charge_item("sites/harbin-b/chargeItems/31");
  p.set_garbage_fee_charge_item("sites/harbin-b/chargeItems/32");
  return p;
}

v1::RenovationPermit Approved() {
  absl::StatusOr<v1::RenovationPermit> p = NewPermit("permit.", "harbin-b", Application(), kNow);
  EXPECT_TRUE(p.ok()) << p.status();
  p->set_name("sites/harbin-b/renovationPermits/7");
  EXPECT_TRUE(Approve(*p, "user:manager-wang", "No drilling on Sundays", kNow).ok());
  return *p;
}

v1::WorkerPass Pass(const std::string& from = "2026-07-06", const std::string& to = "2026-07-31") {
  v1::WorkerPass in;
  in.set_worker_name("Zhang San");
  in.set_worker_phone("+86 138 0000 0001");
  in.set_valid_from(from);
  in.set_valid_to(to);
  return in;
}

v1::WorkerPass Issued(const v1::RenovationPermit& p) {
  absl::StatusOr<v1::WorkerPass> pass = NewPass(p, Pass(), 0, kNow);
  EXPECT_TRUE(pass.ok()) << pass.status();
  return *pass;
}

// The field an INVALID_ARGUMENT names first.
std::string FieldOf(const absl::Status& s) {
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << s;
  return std::string(s.message().substr(0, s.message().find(':')));
}

std::string NewPermitField(const std::function<void(v1::RenovationPermit&)>& edit,
                           absl::Time now = kNow) {
  v1::RenovationPermit in = Application();
  edit(in);
  return FieldOf(NewPermit("permit.", "harbin-b", in, now).status());
}

TEST(PermitTest, AnApplicationBecomesAnAppliedPermitWithWhatIsOwed) {
  absl::StatusOr<v1::RenovationPermit> p = NewPermit("permit.", "harbin-b", Application(), kNow);
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(p->state(), v1::PERMIT_APPLIED);
  EXPECT_EQ(p->unit(), "B-2-0801");
  EXPECT_EQ(p->deposit_minor(), 200000);
  EXPECT_EQ(p->garbage_fee_minor(), 30000);
  EXPECT_EQ(p->currency_code(), "CNY");
  EXPECT_TRUE(p->approver().empty());

  v1::RenovationPermit free = Application();
  free.set_deposit_minor(0);
  free.set_garbage_fee_minor(0);
  free.clear_currency_code();
  EXPECT_TRUE(NewPermit("permit.", "harbin-b", free, kNow).ok())
      << "nothing owed needs no currency";
}

TEST(PermitTest, ABadApplicationNamesTheField) {
  EXPECT_EQ(NewPermitField([](auto& p) { p.set_unit("B 2/0801"); }), "permit.unit");
  EXPECT_EQ(NewPermitField([](auto& p) { p.set_owner_phone("call me"); }), "permit.owner_phone");
  EXPECT_EQ(NewPermitField([](auto& p) { p.clear_contractor(); }), "permit.contractor");
  EXPECT_EQ(NewPermitField([](auto& p) { p.clear_scope(); }), "permit.scope");
  EXPECT_EQ(NewPermitField([](auto& p) { p.clear_time_zone(); }), "permit.time_zone");
  EXPECT_EQ(NewPermitField([](auto& p) { p.set_time_zone("Mars/Olympus"); }), "permit.time_zone");
  EXPECT_EQ(NewPermitField([](auto& p) { p.set_planned_start("2026-07-32"); }),
            "permit.planned_start");
  EXPECT_EQ(NewPermitField([](auto& p) { p.set_planned_end("2026-07-05"); }),
            "permit.planned_end");
  EXPECT_EQ(NewPermitField([](auto& p) { p.set_planned_end("2027-07-07"); }), "permit.planned_end")
      << "at most a year";
  EXPECT_EQ(NewPermitField([](auto& p) { p.set_work_start("8:00"); }), "permit.work_start");
  EXPECT_EQ(NewPermitField([](auto& p) { p.set_work_end("07:00"); }), "permit.work_end");
  EXPECT_EQ(NewPermitField([](auto& p) { p.set_work_end("08:00"); }), "permit.work_end")
      << "an empty day";
  EXPECT_EQ(NewPermitField([](auto& p) { p.set_workers(0); }), "permit.workers");
  EXPECT_EQ(NewPermitField([](auto& p) { p.set_deposit_minor(-1); }), "permit.deposit_minor");
  EXPECT_EQ(NewPermitField([](auto& p) { p.set_garbage_fee_minor(-1); }),
            "permit.garbage_fee_minor");
  EXPECT_EQ(NewPermitField([](auto& p) { p.clear_currency_code(); }), "permit.currency_code");
  EXPECT_EQ(NewPermitField([](auto& p) { p.set_currency_code("cny"); }), "permit.currency_code");
  EXPECT_EQ(NewPermitField([](auto& p) { p.clear_deposit_charge_item(); }),
            "permit.deposit_charge_item");
  EXPECT_EQ(NewPermitField([](auto& p) { p.set_deposit_charge_item("chargeItems/31"); }),
            "permit.deposit_charge_item");
  EXPECT_EQ(NewPermitField(
                [](auto& p) { p.set_garbage_fee_charge_item("sites/harbin-a/chargeItems/32"); }),
            "permit.garbage_fee_charge_item")
      << "another site's item";
}

TEST(PermitTest, WorkThatEndedBeforeTodayInThePermitsZoneIsNoApplication) {
  // 2026-07-05 17:00 UTC is already 2026-07-06 01:00 in Shanghai.
  const absl::Time now = Utc(7, 5, 17);
  const auto ends_on_the_5th = [](v1::RenovationPermit& p) {
    p.set_planned_start("2026-07-01");
    p.set_planned_end("2026-07-05");
  };
  EXPECT_EQ(NewPermitField(ends_on_the_5th, now), "permit.planned_end");
  v1::RenovationPermit in = Application();
  ends_on_the_5th(in);
  EXPECT_TRUE(NewPermit("permit.", "harbin-b", in, Utc(7, 5, 15)).ok())
      << "23:00 on the 5th in Shanghai";
}

TEST(PermitTest, ApprovalIsOnTheSpotAndOnlyOfAnApplication) {
  absl::StatusOr<v1::RenovationPermit> p = NewPermit("permit.", "harbin-b", Application(), kNow);
  ASSERT_TRUE(p.ok());
  ASSERT_TRUE(Approve(*p, "user:manager-wang", "No drilling on Sundays", kNow).ok());
  EXPECT_EQ(p->state(), v1::PERMIT_APPROVED);
  EXPECT_EQ(p->approver(), "user:manager-wang");
  EXPECT_EQ(p->conditions(), "No drilling on Sundays");
  EXPECT_EQ(p->approve_time().seconds(), absl::ToUnixSeconds(kNow)) << "the same minute";

  const absl::Status again = Approve(*p, "user:manager-wang", "", kNow);
  EXPECT_EQ(again.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(again.message(), "cannot approve a permit that is PERMIT_APPROVED");
  EXPECT_EQ(Refuse(*p, "too late").message(), "cannot refuse a permit that is PERMIT_APPROVED");
}

TEST(PermitTest, AnApplicationWhoseDaysAreOverIsNotApproved) {
  absl::StatusOr<v1::RenovationPermit> p = NewPermit("permit.", "harbin-b", Application(), kNow);
  ASSERT_TRUE(p.ok());
  // 1 September 00:30 in Shanghai, the day after planned_end.
  const absl::Status late = Approve(*p, "user:manager-wang", "", Utc(8, 31, 16, 30));
  EXPECT_EQ(late.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(p->state(), v1::PERMIT_APPLIED);
  EXPECT_TRUE(Approve(*p, "user:manager-wang", "", Utc(8, 31, 15, 30)).ok())
      << "23:30 on the 31st in Shanghai";
}

TEST(PermitTest, ARefusalNeedsAReason) {
  absl::StatusOr<v1::RenovationPermit> p = NewPermit("permit.", "harbin-b", Application(), kNow);
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(FieldOf(Refuse(*p, "")), "reason");
  ASSERT_TRUE(Refuse(*p, "Moves a load-bearing wall").ok());
  EXPECT_EQ(p->state(), v1::PERMIT_REFUSED);
  EXPECT_EQ(p->refusal_reason(), "Moves a load-bearing wall");
  EXPECT_EQ(Approve(*p, "user:manager-wang", "", kNow).message(),
            "cannot approve a permit that is PERMIT_REFUSED");
}

TEST(PermitTest, AViolationSuspendsTheWorkUntilItResumes) {
  v1::RenovationPermit p = Approved();
  ASSERT_TRUE(Inspect(p, "inspector-zhao", "tiles going in", v1::VIOLATION_KIND_UNSPECIFIED, "",
                      Shanghai(7, 8, 11))
                  .ok());
  EXPECT_EQ(p.state(), v1::PERMIT_APPROVED) << "an inspection in order only records";
  ASSERT_EQ(p.inspections_size(), 1);

  ASSERT_TRUE(Inspect(p, "guard-li", "", v1::OUTSIDE_HOURS, "drilling at 22:40",
                      Shanghai(7, 9, 22, 45))
                  .ok());
  EXPECT_EQ(p.state(), v1::PERMIT_SUSPENDED);
  EXPECT_EQ(p.suspension().kind(), v1::OUTSIDE_HOURS);
  EXPECT_EQ(p.suspension().description(), "drilling at 22:40");
  EXPECT_EQ(p.suspension().inspector(), "guard-li");

  // Found again while suspended: recorded, and the first reason stands.
  ASSERT_TRUE(Inspect(p, "guard-li", "", v1::STRUCTURAL_CHANGE, "opening cut in a shear wall",
                      Shanghai(7, 10, 9))
                  .ok());
  EXPECT_EQ(p.state(), v1::PERMIT_SUSPENDED);
  EXPECT_EQ(p.suspension().kind(), v1::OUTSIDE_HOURS);
  EXPECT_EQ(p.inspections_size(), 3);

  EXPECT_EQ(Close(p, "inspector-zhao", "", 0, "", kNow).message(),
            "cannot close a permit that is PERMIT_SUSPENDED");
  EXPECT_EQ(FieldOf(ResumeWork(p, "")), "note");
  ASSERT_TRUE(ResumeWork(p, "wall restored; engineer's report filed").ok());
  EXPECT_EQ(p.state(), v1::PERMIT_APPROVED);
  EXPECT_FALSE(p.has_suspension());
  EXPECT_EQ(ResumeWork(p, "again").message(),
            "cannot resume the work of a permit that is PERMIT_APPROVED");
}

TEST(PermitTest, BeforeApprovalAViolationIsRecordedNotSuspended) {
  absl::StatusOr<v1::RenovationPermit> p = NewPermit("permit.", "harbin-b", Application(), kNow);
  ASSERT_TRUE(p.ok());
  ASSERT_TRUE(Inspect(*p, "guard-li", "", v1::NO_PERMIT_WORK, "walls being chased", kNow).ok());
  EXPECT_EQ(p->state(), v1::PERMIT_APPLIED);
  EXPECT_EQ(p->inspections(0).violation(), v1::NO_PERMIT_WORK);
}

TEST(PermitTest, AnInspectionNamesItsBadField) {
  v1::RenovationPermit p = Approved();
  EXPECT_EQ(FieldOf(Inspect(p, "", "", v1::VIOLATION_KIND_UNSPECIFIED, "", kNow)), "inspector");
  EXPECT_EQ(FieldOf(Inspect(p, "guard-li", "", v1::OUTSIDE_HOURS, "", kNow)),
            "violation_description");
  EXPECT_EQ(FieldOf(Inspect(p, "guard-li", "", v1::VIOLATION_KIND_UNSPECIFIED, "noise", kNow)),
            "violation_description");
  EXPECT_EQ(FieldOf(Inspect(p, "guard-li", "", static_cast<v1::ViolationKind>(99), "x", kNow)),
            "violation");
  EXPECT_EQ(p.inspections_size(), 0);
  EXPECT_EQ(p.state(), v1::PERMIT_APPROVED);
}

TEST(PermitTest, ClosingEndsThePermit) {
  v1::RenovationPermit p = Approved();
  EXPECT_EQ(FieldOf(Close(p, "", "", 0, "", kNow)), "inspector");
  EXPECT_EQ(FieldOf(Close(p, "inspector-zhao", "", 200001, "everything", kNow)),
            "deposit_kept_minor")
      << "more than the deposit";
  EXPECT_EQ(FieldOf(Close(p, "inspector-zhao", "", -1, "", kNow)), "deposit_kept_minor");
  EXPECT_EQ(FieldOf(Close(p, "inspector-zhao", "", 50000, "", kNow)), "deposit_kept_reason");
  EXPECT_EQ(FieldOf(Close(p, "inspector-zhao", "", 0, "lift door", kNow)), "deposit_kept_reason");
  EXPECT_EQ(p.state(), v1::PERMIT_APPROVED) << "a refused close changes nothing";
  ASSERT_TRUE(Close(p, "inspector-zhao", "all in order", 0, "", Shanghai(8, 28, 15)).ok());
  EXPECT_EQ(p.state(), v1::PERMIT_CLOSED);
  EXPECT_EQ(p.closed_by(), "inspector-zhao");
  EXPECT_EQ(Inspect(p, "guard-li", "", v1::VIOLATION_KIND_UNSPECIFIED, "", kNow).message(),
            "cannot inspect the work of a permit that is PERMIT_CLOSED");
  EXPECT_EQ(Close(p, "inspector-zhao", "", 0, "", kNow).message(),
            "cannot close a permit that is PERMIT_CLOSED");
}

TEST(PermitTest, ApprovalChargesTheDepositAndFeeAndClosingRefundsTheDepositLessWhatIsKept) {
  v1::RenovationPermit p = Approved();
  std::vector<PeerCall> charges = PermitCharges(p, "harbin-b");
  ASSERT_EQ(charges.size(), 2u);
  const std::vector<std::pair<std::string, int64_t>> want = {{"deposit", 200000},
                                                             {"garbage-fee", 30000}};
  for (size_t i = 0; i < charges.size(); ++i) {
    SCOPED_TRACE(want[i].first);
    EXPECT_EQ(charges[i].target, "billing");
    EXPECT_EQ(charges[i].method, "/estate.billing.v1.BillingService/ChargeAccount");
    EXPECT_EQ(charges[i].subject, want[i].first);
    const auto& r = dynamic_cast<const billing::ChargeAccountRequest&>(*charges[i].request);
    EXPECT_EQ(r.account(), "sites/harbin-b/accounts/B-2-0801");
    EXPECT_EQ(r.amount_minor(), want[i].second);
    EXPECT_EQ(r.currency_code(), "CNY");
    EXPECT_EQ(r.reference(), "renovationPermits/7/" + want[i].first);
    EXPECT_TRUE(r.request_id().empty()) << "the outbox gives each call its own";
  }
  EXPECT_EQ(dynamic_cast<const billing::ChargeAccountRequest&>(*charges[0].request).charge_item(),
            "sites/harbin-b/chargeItems/31");
  EXPECT_EQ(dynamic_cast<const billing::ChargeAccountRequest&>(*charges[1].request).charge_item(),
            "sites/harbin-b/chargeItems/32");

  ASSERT_TRUE(
      Close(p, "inspector-zhao", "", 50000, "scratched lift door panel", Shanghai(8, 28, 15)).ok());
  EXPECT_EQ(p.deposit_kept_minor(), 50000);
  std::optional<PeerCall> refund = DepositRefund(p, "harbin-b");
  ASSERT_TRUE(refund.has_value());
  EXPECT_EQ(refund->method, "/estate.billing.v1.BillingService/RefundCharge");
  const auto& r = dynamic_cast<const billing::RefundChargeRequest&>(*refund->request);
  EXPECT_EQ(r.account(), "sites/harbin-b/accounts/B-2-0801");
  EXPECT_EQ(r.reference(), "renovationPermits/7/deposit") << "the deposit's own charge";
  EXPECT_EQ(r.keep_minor(), 50000);
  EXPECT_NE(r.reason().find("scratched lift door panel"), std::string::npos) << r.reason();
}

TEST(PermitTest, NothingOwedAsksBillingForNothing) {
  v1::RenovationPermit in = Application();
  in.set_deposit_minor(0);
  absl::StatusOr<v1::RenovationPermit> p = NewPermit("permit.", "harbin-b", in, kNow);
  ASSERT_TRUE(p.ok()) << p.status();
  p->set_name("sites/harbin-b/renovationPermits/8");
  EXPECT_TRUE(p->deposit_charge_item().empty()) << "an item with nothing to charge is not kept";
  std::vector<PeerCall> charges = PermitCharges(*p, "harbin-b");
  ASSERT_EQ(charges.size(), 1u);
  EXPECT_EQ(charges[0].subject, "garbage-fee");
  ASSERT_TRUE(Approve(*p, "user:manager-wang", "", kNow).ok());
  ASSERT_TRUE(Close(*p, "inspector-zhao", "", 0, "", kNow).ok());
  EXPECT_FALSE(DepositRefund(*p, "harbin-b").has_value());
}

TEST(PermitTest, PassesAreForApprovedPermitsWithinTheirDaysAndWorkers) {
  absl::StatusOr<v1::RenovationPermit> applied =
      NewPermit("permit.", "harbin-b", Application(), kNow);
  ASSERT_TRUE(applied.ok());
  EXPECT_EQ(NewPass(*applied, Pass(), 0, kNow).status().message(),
            "cannot issue a pass on a permit that is PERMIT_APPLIED");

  const v1::RenovationPermit p = Approved();
  absl::StatusOr<v1::WorkerPass> pass = NewPass(p, Pass(), 2, kNow);
  ASSERT_TRUE(pass.ok()) << pass.status();
  EXPECT_EQ(pass->state(), v1::PASS_ACTIVE);
  EXPECT_EQ(pass->valid_from(), "2026-07-06");
  EXPECT_EQ(pass->valid_to(), "2026-07-31");

  const absl::Status fourth = NewPass(p, Pass(), 3, kNow).status();
  EXPECT_EQ(fourth.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(fourth.message(),
            "the permit is for 3 worker(s) and 3 pass(es) are active: revoke one first");

  EXPECT_EQ(FieldOf(NewPass(p, Pass("2026-07-05", "2026-07-31"), 0, kNow).status()),
            "pass.valid_from");
  EXPECT_EQ(FieldOf(NewPass(p, Pass("2026-07-06", "2026-09-01"), 0, kNow).status()),
            "pass.valid_to");
  EXPECT_EQ(FieldOf(NewPass(p, Pass("2026-07-20", "2026-07-10"), 0, kNow).status()),
            "pass.valid_to");
  // 2026-07-31 16:30 UTC is 1 August in Shanghai: a pass ending on the
  // 31st is already over.
  EXPECT_EQ(FieldOf(NewPass(p, Pass(), 0, Utc(7, 31, 16, 30)).status()), "pass.valid_to");
  v1::WorkerPass no_phone = Pass();
  no_phone.clear_worker_phone();
  EXPECT_EQ(FieldOf(NewPass(p, no_phone, 0, kNow).status()), "pass.worker_phone");
  v1::WorkerPass no_name = Pass();
  no_name.clear_worker_name();
  EXPECT_EQ(FieldOf(NewPass(p, no_name, 0, kNow).status()), "pass.worker_name");
}

TEST(PermitTest, ARevokedPassStaysRevoked) {
  v1::WorkerPass pass = Issued(Approved());
  EXPECT_EQ(FieldOf(Revoke(pass, "", kNow)), "reason");
  ASSERT_TRUE(Revoke(pass, "left the crew", Shanghai(7, 10, 9)).ok());
  EXPECT_EQ(pass.state(), v1::PASS_REVOKED);
  EXPECT_EQ(pass.revoke_reason(), "left the crew");
  EXPECT_EQ(pass.end_time().seconds(), absl::ToUnixSeconds(Shanghai(7, 10, 9)));
  EXPECT_EQ(Revoke(pass, "again", kNow).message(), "cannot revoke a pass that is PASS_REVOKED");
}

TEST(PassCheckTest, ValidOnItsDaysWithinTheHoursInThePermitsZone) {
  const v1::RenovationPermit p = Approved();
  const v1::WorkerPass pass = Issued(p);

  PassVerdict v = CheckPass(p, pass, Shanghai(7, 6, 10));
  EXPECT_TRUE(v.valid) << v.reason;
  EXPECT_EQ(v.denial, v1::PASS_DENIAL_UNSPECIFIED);
  EXPECT_EQ(v.local_time, "2026-07-06 10:00");
  // 02:00 UTC is the same 10:00 in Shanghai.
  EXPECT_TRUE(CheckPass(p, pass, Utc(7, 6, 2)).valid);

  EXPECT_TRUE(CheckPass(p, pass, Shanghai(7, 6, 8, 0)).valid) << "from 08:00";
  EXPECT_TRUE(CheckPass(p, pass, Shanghai(7, 6, 17, 59)).valid);
  EXPECT_TRUE(CheckPass(p, pass, Shanghai(7, 31, 17)).valid) << "the pass's last day";
}

TEST(PassCheckTest, NightAndAfterHoursAreRefused) {
  const v1::RenovationPermit p = Approved();
  const v1::WorkerPass pass = Issued(p);

  // 23:00 in Shanghai is 15:00 UTC: inside 08:00-18:00 if read in UTC.
  PassVerdict night = CheckPass(p, pass, Shanghai(7, 6, 23));
  EXPECT_FALSE(night.valid);
  EXPECT_EQ(night.denial, v1::DENIED_OUTSIDE_HOURS);
  EXPECT_EQ(night.reason, "outside the working hours 08:00-18:00");
  EXPECT_EQ(night.local_time, "2026-07-06 23:00");
  EXPECT_EQ(CheckPass(p, pass, Utc(7, 6, 15)).denial, v1::DENIED_OUTSIDE_HOURS);

  EXPECT_EQ(CheckPass(p, pass, Shanghai(7, 6, 18, 0)).denial, v1::DENIED_OUTSIDE_HOURS)
      << "the day ends at 18:00";
  EXPECT_EQ(CheckPass(p, pass, Shanghai(7, 6, 7, 59)).denial, v1::DENIED_OUTSIDE_HOURS);
  // 2026-07-05 23:30 UTC is 07:30 on the 6th in Shanghai: the pass's first
  // day, before the hours.
  EXPECT_EQ(CheckPass(p, pass, Utc(7, 5, 23, 30)).denial, v1::DENIED_OUTSIDE_HOURS);
}

TEST(PassCheckTest, OutsideThePasssDaysIsRefused) {
  const v1::RenovationPermit p = Approved();
  const v1::WorkerPass pass = Issued(p);
  PassVerdict after = CheckPass(p, pass, Shanghai(8, 1, 10));
  EXPECT_EQ(after.denial, v1::DENIED_OUTSIDE_DATES);
  EXPECT_EQ(after.reason, "outside the pass's days 2026-07-06 to 2026-07-31");
  // 2026-07-31 20:00 UTC is 04:00 on 1 August in Shanghai.
  EXPECT_EQ(CheckPass(p, pass, Utc(7, 31, 20)).denial, v1::DENIED_OUTSIDE_DATES);
  // 2026-07-06 01:00 UTC is still the 6th (09:00) in Shanghai.
  EXPECT_TRUE(CheckPass(p, pass, Utc(7, 6, 1)).valid);
  EXPECT_EQ(CheckPass(p, pass, Shanghai(7, 5, 10)).denial, v1::DENIED_OUTSIDE_DATES);
}

TEST(PassCheckTest, ThePermitsStateComesBeforeTheClock) {
  v1::RenovationPermit p = Approved();
  v1::WorkerPass pass = Issued(p);
  ASSERT_TRUE(Inspect(p, "guard-li", "", v1::OUTSIDE_HOURS, "drilling at 22:40", kNow).ok());

  PassVerdict suspended = CheckPass(p, pass, Shanghai(7, 7, 10));
  EXPECT_FALSE(suspended.valid);
  EXPECT_EQ(suspended.denial, v1::DENIED_PERMIT_SUSPENDED);
  EXPECT_EQ(suspended.reason, "the work is suspended: work outside the permitted hours");
  EXPECT_EQ(CheckPass(p, pass, Shanghai(7, 7, 23)).denial, v1::DENIED_PERMIT_SUSPENDED)
      << "suspended says more than the hour";

  ASSERT_TRUE(ResumeWork(p, "owner signed the hours undertaking").ok());
  EXPECT_TRUE(CheckPass(p, pass, Shanghai(7, 7, 10)).valid);

  ASSERT_TRUE(Revoke(pass, "left the crew", kNow).ok());
  ASSERT_TRUE(Inspect(p, "guard-li", "", v1::OUTSIDE_HOURS, "again", kNow).ok());
  EXPECT_EQ(CheckPass(p, pass, Shanghai(7, 7, 10)).denial, v1::DENIED_REVOKED)
      << "revoked says more than the permit";
}

TEST(PassCheckTest, ApplicationsAndClosedPermitsLetNobodyIn) {
  v1::RenovationPermit p = Approved();
  v1::WorkerPass pass = Issued(p);
  v1::RenovationPermit applied = p;
  applied.set_state(v1::PERMIT_APPLIED);
  PassVerdict early = CheckPass(applied, pass, Shanghai(7, 7, 10));
  EXPECT_EQ(early.denial, v1::DENIED_PERMIT_NOT_APPROVED);
  EXPECT_EQ(early.reason, "the permit is PERMIT_APPLIED, not approved");

  ASSERT_TRUE(Close(p, "inspector-zhao", "", 0, "", Shanghai(7, 20, 15)).ok());
  pass.set_state(v1::PASS_ENDED);  // as the store ends them
  EXPECT_EQ(CheckPass(p, pass, Shanghai(7, 21, 10)).denial, v1::DENIED_PERMIT_CLOSED);
}

TEST(PermitTest, AViolationAsksTicketsForARectificationOfTheUnit) {
  v1::RenovationPermit p = Approved();
  ASSERT_TRUE(Inspect(p, "guard-li", "", v1::STRUCTURAL_CHANGE, "opening cut in a shear wall",
                      kNow)
                  .ok());
  const PeerCall call = ViolationTicket(p, "harbin-b", p.inspections(0));
  EXPECT_EQ(call.target, "tickets");
  EXPECT_EQ(call.method, kCreateTicketMethod);
  EXPECT_EQ(call.subject, "a structural change");
  const auto& req = static_cast<const tickets::CreateTicketRequest&>(*call.request);
  EXPECT_EQ(req.parent(), "sites/harbin-b");
  EXPECT_TRUE(req.request_id().empty()) << "the outbox gives it one";
  EXPECT_EQ(req.ticket().kind(), tickets::RECTIFICATION);
  EXPECT_EQ(req.ticket().channel(), tickets::INSPECTION);
  EXPECT_EQ(req.ticket().unit(), "B-2-0801");
  EXPECT_EQ(req.ticket().category(), "renovation");
  EXPECT_EQ(req.ticket().title(), "Renovation violation at B-2-0801: a structural change");
  EXPECT_EQ(req.ticket().priority(), tickets::HIGH);
  EXPECT_EQ(req.ticket().reporter_name(), "Liu Wei");
  ASSERT_EQ(req.ticket().links_size(), 1);
  EXPECT_EQ(req.ticket().links(0), "sites/harbin-b/renovationPermits/7");

  v1::RenovationInspection hours = p.inspections(0);
  hours.set_violation(v1::OUTSIDE_HOURS);
  const PeerCall late = ViolationTicket(p, "harbin-b", hours);
  EXPECT_EQ(static_cast<const tickets::CreateTicketRequest&>(*late.request).ticket().priority(),
            tickets::NORMAL);
}

TEST(RenovationCountsTest, AHalfYearIsJanuaryToJuneOrJulyToDecember) {
  absl::StatusOr<HalfYear> h2 = ParseHalfYear("half_year", "2026-H2");
  ASSERT_TRUE(h2.ok());
  EXPECT_EQ(h2->first, absl::CivilDay(2026, 7, 1));
  EXPECT_EQ(h2->end, absl::CivilDay(2027, 1, 1));
  absl::StatusOr<HalfYear> h1 = ParseHalfYear("half_year", "2026-H1");
  ASSERT_TRUE(h1.ok());
  EXPECT_EQ(h1->first, absl::CivilDay(2026, 1, 1));
  EXPECT_EQ(h1->end, absl::CivilDay(2026, 7, 1));
  for (const char* bad : {"", "2026-H3", "2026H2", "26-H2", "2026-h2", "2026-H22"}) {
    EXPECT_EQ(FieldOf(ParseHalfYear("half_year", bad).status()), "half_year") << bad;
  }
}

TEST(RenovationCountsTest, MovesAreDatedInTheirPermitsZone) {
  const absl::StatusOr<HalfYear> h2 = ParseHalfYear("half_year", "2026-H2");
  ASSERT_TRUE(h2.ok());
  const std::string sh = "Asia/Shanghai";
  const std::vector<PermitMove> moves = {
      // 2026-06-30 15:30 UTC is 23:30 on 30 June in Shanghai: the first half.
      {"created", "B-2-0801", sh, Utc(6, 30, 15, 30)},
      // 16:30 UTC is 00:30 on 1 July: the second.
      {"approved", "B-2-0801", sh, Utc(6, 30, 16, 30)},
      {"pass_issued", "B-2-0801", sh, Shanghai(7, 6, 10)},
      {"pass_issued", "B-2-0801", sh, Shanghai(7, 6, 10, 5)},
      {"pass_issued", "B-2-0801", sh, Shanghai(7, 6, 10, 10)},
      {"inspected", "B-2-0801", sh, Shanghai(7, 8, 11)},
      {"violation", "B-2-0801", sh, Shanghai(7, 9, 22, 45)},
      {"created", "B-2-0902", sh, Shanghai(7, 1, 9)},
      {"refused", "B-2-0902", sh, Shanghai(7, 1, 9, 30)},
      {"closed", "B-2-0801", sh, Shanghai(8, 28, 15)},
      {"closed", "B-2-0801", sh, Shanghai(11, 2, 15)},  // a second permit of the unit
      {"closed", "B-2-1001", sh, Shanghai(12, 31, 23, 59)},
      // 2026-12-31 16:30 UTC is already 2027 in Shanghai.
      {"closed", "B-2-1101", sh, Utc(12, 31, 16, 30)},
  };
  const v1::RenovationCounts c = CountHalfYear(*h2, moves, "sites/harbin-b", "2026-H2");
  EXPECT_EQ(c.parent(), "sites/harbin-b");
  EXPECT_EQ(c.half_year(), "2026-H2");
  EXPECT_EQ(c.permits_applied(), 1);
  EXPECT_EQ(c.permits_approved(), 1);
  EXPECT_EQ(c.permits_refused(), 1);
  EXPECT_EQ(c.passes_issued(), 3);
  EXPECT_EQ(c.inspections(), 2);
  EXPECT_EQ(c.violations(), 1);
  EXPECT_EQ(c.units_renovated(), 2) << "B-2-0801 once, B-2-1001";
  // The store's span holds every instant of the half-year in any zone.
  EXPECT_LE(SpanStart(*h2), Utc(6, 30, 10));
  EXPECT_GE(SpanEnd(*h2), absl::FromCivil(absl::CivilMinute(2027, 1, 1, 12, 0),
                                          absl::UTCTimeZone()));
}

}  // namespace
}  // namespace handover
