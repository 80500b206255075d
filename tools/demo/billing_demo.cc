// estate-billing-demo: loads a demo site into a running billing service.
//
//   estate-billing-demo --billing_addr=127.0.0.1:50051 --site=demo
//
// The site gets the charge items of the field report (property fee at 2.6
// yuan per m² a month, private-garden maintenance, metered water, decoration
// garbage clearance), forty accounts in three buildings, four months of
// committed bill runs, payments by every method (most households pay, some
// only in part, a few not at all), an overpayment left as credit, a bounced
// direct debit and a disputed line linked to a complaint ticket. A site that
// already has charge items is left alone.

#include <iostream>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/civil_time.h"
#include "absl/time/clock.h"
#include "estate/billing/v1/billing.grpc.pb.h"
#include "grpcpp/grpcpp.h"
#include "tools/demo/demo_identity.h"
#include "tools/demo/step_ids.h"

ABSL_FLAG(std::string, billing_addr, "127.0.0.1:50051", "host:port of the billing service.");
ABSL_FLAG(std::string, site, "demo", "Site id to load, as in sites/{site}.");
ABSL_FLAG(absl::Duration, wait, absl::Seconds(60),
          "How long to keep retrying while the service is unavailable (e.g. still starting).");

namespace {

namespace v1 = ::estate::billing::v1;

std::string Day(absl::CivilDay d) {
  return absl::StrFormat("%04d-%02d-%02d", d.year(), d.month(), d.day());
}

// Unit ids as the estate numbers them: building-entrance-floor+room.
std::string UnitName(int building, int i) {
  return absl::StrFormat("%d-%d-%02d%02d", building + 1, i % 2 + 1, i / 2 + 1, i % 4 + 1);
}

class Loader {
 public:
  Loader(std::shared_ptr<grpc::Channel> channel, std::string site)
      : stub_(v1::BillingService::NewStub(channel)), site_(std::move(site)) {}

  std::string Parent() const { return "sites/" + site_; }
  // Every write's request id depends only on the site and the step, so a
  // re-run after an interruption replays what was done and does the rest.
  std::string Id(absl::string_view step) const {
    return demo::StepRequestId(site_, absl::StrCat("billing/", step));
  }

  // Calls `rpc` until it answers something other than UNAVAILABLE; exits on
  // any other error, because a demo that half-loads is worse than none.
  template <typename Req, typename Resp>
  Resp Call(const char* what,
            grpc::Status (v1::BillingService::Stub::*rpc)(grpc::ClientContext*, const Req&, Resp*),
            const Req& req, absl::Duration wait = absl::Seconds(10)) {
    const absl::Time give_up = absl::Now() + wait;
    for (;;) {
      grpc::ClientContext ctx;
      ctx.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(60)));
      demo::Sign(ctx, req, "user:demo-loader");
      Resp resp;
      grpc::Status s = (stub_.get()->*rpc)(&ctx, req, &resp);
      if (s.ok()) return resp;
      if (s.error_code() != grpc::StatusCode::UNAVAILABLE || absl::Now() > give_up) {
        std::cerr << what << " failed: " << s.error_message() << "\n";
        std::exit(1);
      }
      absl::SleepFor(absl::Seconds(1));
    }
  }

  // Loaded when the last step, putting a line of `unit` on hold, is done;
  // an interrupted load replays the steps it did and does the rest.
  bool Loaded(absl::Duration wait, const std::string& unit) {
    v1::ListBillsRequest req;
    req.set_parent(Parent());
    req.set_account(absl::StrCat(Parent(), "/accounts/", unit));
    req.set_page_size(500);
    const v1::ListBillsResponse bills =
        Call("ListBills", &v1::BillingService::Stub::ListBills, req, wait);
    for (const v1::Bill& b : bills.bills()) {
      if (b.state() == v1::DISPUTED) return true;
    }
    return false;
  }

  v1::ChargeItem Item(const std::string& code, const std::string& name, v1::ChargeKind kind,
                      v1::Cycle cycle, const std::string& rate, const std::string& from,
                      int due_days) {
    v1::CreateChargeItemRequest req;
    req.set_parent(Parent());
    req.set_request_id(Id("item/" + code));
    v1::ChargeItem* i = req.mutable_charge_item();
    i->set_code(code);
    i->set_display_name(name);
    i->set_kind(kind);
    i->set_cycle(cycle);
    if (kind == v1::METERED) {
      i->set_meter("water");
      v1::Tier* t = i->add_tiers();
      t->set_up_to("15");
      t->set_rate("3.5");
      i->add_tiers()->set_rate("4.9");
    } else {
      i->set_rate(rate);
    }
    i->set_effective_from(from);
    i->set_due_days(due_days);
    if (code == "property-fee") {
      i->mutable_late_fee()->set_daily_rate("0.0003");
      i->mutable_late_fee()->set_grace_days(15);
      i->mutable_late_fee()->set_cap_minor(5000);
    }
    return Call("CreateChargeItem", &v1::BillingService::Stub::CreateChargeItem, req);
  }

  void Account(const std::string& unit, const std::string& building, const std::string& area,
               const std::vector<std::string>& items, const std::string& fee_start, bool tenant,
               bool mandate) {
    v1::CreateAccountRequest req;
    req.set_parent(Parent());
    req.set_account_id(unit);
    req.set_request_id(Id("account/" + unit));
    v1::Account* a = req.mutable_account();
    a->set_building(building);
    a->set_payer_name(absl::StrCat(tenant ? "Tenant of " : "Owner of ", unit));
    a->set_payer_kind(tenant ? v1::TENANT : v1::OWNER);
    a->set_billable_area(area);
    a->set_fee_start(fee_start);
    for (const std::string& i : items) a->add_charge_items(i);
    if (mandate) {
      a->mutable_mandate()->set_bank("Bank of Harbin");
      a->mutable_mandate()->set_account_masked("6222 **** **** " + unit.substr(unit.size() - 3) + "0");
      a->mutable_mandate()->set_expiry(unit.back() == '3' ? "2026-06-30" : "2029-12-31");
    }
    Call("CreateAccount", &v1::BillingService::Stub::CreateAccount, req);
  }

  void Reading(const std::string& unit, const std::string& value, absl::CivilDay day) {
    v1::RecordMeterReadingRequest req;
    req.set_parent(absl::StrCat(Parent(), "/accounts/", unit));
    req.set_request_id(Id(absl::StrCat("reading/", unit, "/", Day(day))));
    req.mutable_reading()->set_meter("water");
    req.mutable_reading()->set_value(value);
    req.mutable_reading()->set_read_on(Day(day));
    Call("RecordMeterReading", &v1::BillingService::Stub::RecordMeterReading, req);
  }

  v1::BillRun BillMonth(absl::CivilDay day) {
    v1::CreateBillRunRequest req;
    req.set_parent(Parent());
    req.set_request_id(Id("run/" + Day(day)));
    req.mutable_bill_run()->set_cycle(v1::MONTHLY);
    req.mutable_bill_run()->set_period_date(Day(day));
    v1::BillRun run = Call("CreateBillRun", &v1::BillingService::Stub::CreateBillRun, req);
    v1::CommitBillRunRequest commit;
    commit.set_name(run.name());
    commit.set_request_id(Id("commit/" + Day(day)));
    run = Call("CommitBillRun", &v1::BillingService::Stub::CommitBillRun, commit);
    v1::GetBillRunRequest get;
    get.set_name(run.name());
    while (run.state() != v1::COMMITTED) {
      absl::SleepFor(absl::Milliseconds(50));
      run = Call("GetBillRun", &v1::BillingService::Stub::GetBillRun, get);
    }
    return run;
  }

  v1::Payment Pay(const std::string& unit, int64_t amount, v1::PaymentMethod method,
                  absl::CivilDay on) {
    v1::RecordPaymentRequest req;
    req.set_parent(Parent());
    req.set_request_id(Id(absl::StrCat("pay/", unit, "/", Day(on))));
    v1::Payment* p = req.mutable_payment();
    p->set_account(absl::StrCat(Parent(), "/accounts/", unit));
    p->set_method(method);
    p->set_reference(absl::StrCat("demo-", unit, "-", Day(on)));
    p->set_amount_minor(amount);
    p->set_currency_code("CNY");
    p->set_received_on(Day(on));
    return Call("RecordPayment", &v1::BillingService::Stub::RecordPayment, req);
  }

  // What the unit's bills add up to: the same on a re-run, unlike its balance.
  int64_t Billed(const std::string& unit) {
    v1::ListBillsRequest req;
    req.set_parent(Parent());
    req.set_account(absl::StrCat(Parent(), "/accounts/", unit));
    req.set_page_size(500);
    int64_t sum = 0;
    const v1::ListBillsResponse bills = Call("ListBills", &v1::BillingService::Stub::ListBills, req);
    for (const v1::Bill& b : bills.bills()) {
      sum += b.amount_minor();
    }
    return sum;
  }

  std::unique_ptr<v1::BillingService::Stub> stub_;
  std::string site_;
};

}  // namespace

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage("Loads a demo site's billing into a running billing service.");
  absl::ParseCommandLine(argc, argv);
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 1000);
  const std::string addr = absl::GetFlag(FLAGS_billing_addr);
  Loader l(grpc::CreateCustomChannel(addr, grpc::InsecureChannelCredentials(), args),
           absl::GetFlag(FLAGS_site));
  // Four months up to this one, so the aging report has every young bucket.
  const absl::CivilDay today = absl::ToCivilDay(absl::Now(), absl::UTCTimeZone());
  const absl::CivilMonth this_month(today);
  const std::string period = absl::StrFormat("%04d-%02d", this_month.year(), this_month.month());
  const char* buildings[] = {"1", "2", "3"};
  std::vector<std::string> units;
  for (int b = 0; b < 3; ++b) {
    for (int i = 0; i < 14 - b; ++i) units.push_back(UnitName(b, i));
  }
  const absl::CivilDay first(this_month - 3);
  const std::string from = Day(absl::CivilDay(absl::CivilYear(first)));
  const bool loaded = l.Loaded(absl::GetFlag(FLAGS_wait), units[4]);
  // Charged one permit at a time by handover's renovation permits, never
  // through an account's subscription; made on every run, so a site loaded
  // before permits billed their deposits gets it too.
  l.Item("renovation-deposit", "Renovation deposit (refundable)", v1::ONE_OFF, v1::ONCE, "2000",
         from, 7);
  if (loaded) {
    std::cout << "demo billing already loaded: " << l.Parent() << " has its bills\n";
    return 0;
  }
  std::cout << "loading billing of " << l.Parent() << " into " << addr << std::endl;

  const v1::ChargeItem fee = l.Item("property-fee", "Property management fee", v1::PER_AREA,
                                    v1::MONTHLY, "2.6", from, 14);
  const v1::ChargeItem garden = l.Item("garden", "Private garden maintenance", v1::FIXED,
                                       v1::MONTHLY, "45", from, 14);
  const v1::ChargeItem water = l.Item("water", "Water (prepaid meter)", v1::METERED, v1::MONTHLY,
                                      "", from, 20);
  const v1::ChargeItem garbage =
      l.Item("decoration-garbage", "Decoration garbage clearance", v1::ONE_OFF, v1::ONCE, "300",
             Day(first + 9), 7);

  for (int b = 0; b < 3; ++b) {
    for (int i = 0; i < 14 - b; ++i) {
      const std::string unit = UnitName(b, i);
      std::vector<std::string> items = {fee.name(), water.name()};
      if (i % 5 == 0) items.push_back(garden.name());
      if (i == 7) items.push_back(garbage.name());
      // One unit handed over mid-month pays pro rata from that day.
      const std::string start = (b == 2 && i == 0) ? Day(first + 16) : from;
      l.Account(unit, buildings[b], absl::StrFormat("%d.%02d", 68 + i * 9, (i * 37) % 100), items,
                start, i % 6 == 5, i % 3 == 0);
    }
  }
  for (size_t u = 0; u < units.size(); ++u) {
    int64_t reading = 1000 + 37 * u;
    l.Reading(units[u], absl::StrCat(reading), first - 1);
    for (int m = 0; m < 4; ++m) {
      reading += 8 + (u * 7 + m * 3) % 14;
      const absl::CivilDay day = absl::CivilDay(this_month - 3 + m) + 24;
      if (day <= today) l.Reading(units[u], absl::StrCat(reading), day);
    }
  }
  int64_t lines = 0;
  for (int m = 0; m < 4; ++m) lines += l.BillMonth(absl::CivilDay(this_month - 3 + m)).lines_issued();

  // Households pay as households do: most in full, some in part, a few not
  // at all (among them the ones waiting on a compensation claim).
  const v1::PaymentMethod methods[] = {v1::WECHAT, v1::ALIPAY, v1::BANK_TRANSFER, v1::CASH,
                                       v1::CARD, v1::DIRECT_DEBIT};
  int payments = 0;
  v1::Payment bounced;
  for (size_t u = 0; u < units.size(); ++u) {
    if (u % 9 == 4) continue;
    const int64_t owed = l.Billed(units[u]);
    if (owed <= 0) continue;
    int64_t amount = owed;
    if (u % 7 == 3) amount = owed / 3;
    if (u == 11) amount = owed + 20000;  // pays ahead: credit for next month
    const v1::Payment p = l.Pay(units[u], amount, methods[u % 6], today - static_cast<int>(u % 20));
    if (p.method() == v1::DIRECT_DEBIT && bounced.name().empty()) bounced = p;
    ++payments;
  }
  if (!bounced.name().empty()) {
    v1::ReversePaymentRequest req;
    req.set_name(bounced.name());
    req.set_reason("bank return: the bank card provided has expired");
    req.set_request_id(l.Id("reverse-bounced-debit"));
    l.Call("ReversePayment", &v1::BillingService::Stub::ReversePayment, req);
  }
  // Late fees on what is still overdue (the property fee carries a policy).
  v1::AssessLateFeesRequest late;
  late.set_parent(l.Parent());
  late.set_request_id(l.Id("late-fees/" + Day(today)));
  const v1::LateFeeAssessment fees =
      l.Call("AssessLateFees", &v1::BillingService::Stub::AssessLateFees, late);
  // A household disputes its latest property fee over a water-damage claim.
  v1::ListBillsRequest bills;
  bills.set_parent(l.Parent());
  bills.set_account(absl::StrCat(l.Parent(), "/accounts/", units[4]));
  const v1::ListBillsResponse listed = l.Call("ListBills", &v1::BillingService::Stub::ListBills, bills);
  if (listed.bills_size() > 0) {
    v1::HoldBillLineRequest hold;
    hold.set_name(listed.bills(listed.bills_size() - 1).lines(0).name());
    hold.set_reason_code("compensation-claim");
    hold.set_ticket(l.Parent() + "/tickets/1");
    hold.set_request_id(l.Id("hold/" + units[4]));
    l.Call("HoldBillLine", &v1::BillingService::Stub::HoldBillLine, hold);
  }
  v1::GetCollectionReportRequest rep;
  rep.set_parent(l.Parent());
  rep.set_period(period);
  const v1::CollectionReport r =
      l.Call("GetCollectionReport", &v1::BillingService::Stub::GetCollectionReport, rep);
  std::cout << "charge items: 4, accounts: " << units.size() << ", bill lines: " << lines
            << ", payments: " << payments << " (one bounced debit reversed), late fees: "
            << fees.lines_charged() << " lines\n"
            << "collection " << r.period() << ": "
            << absl::StrFormat("%.2f%%", r.all_lines().total().rate_basis_points() / 100.0)
            << " of " << r.all_lines().total().billed_minor() / 100 << " yuan; excluding disputes "
            << absl::StrFormat("%.2f%%", r.excluding_disputed().total().rate_basis_points() / 100.0)
            << "\n";
  return 0;
}
