#include "tools/demo/permits_demo.h"

#include <cstdlib>
#include <iostream>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/civil_time.h"
#include "absl/time/clock.h"
#include "tools/demo/demo_call.h"
#include "tools/demo/step_ids.h"

namespace demo {

namespace {

namespace bv1 = ::estate::billing::v1;
namespace hv1 = ::estate::handover::v1;
using PermitStub = hv1::RenovationService::Stub;

struct Plan {
  const char* owner_phone;
  const char* contractor;
  const char* scope;
  std::vector<const char*> workers;
  bool night_work;  // found working at night: suspended
};

const Plan kPlans[] = {
    {"13904513101", "Harbin Jiayuan Decoration",
     "retiling kitchen and bathroom, built-in wardrobes",
     {"Zhao Gang", "Qian Wei", "Sun Hao"}, false},
    {"13904513102", "Owner's own crew", "wooden floors, repainting, new kitchen cabinets",
     {"Li Qiang", "Zhou Bo"}, true},
};

std::string Day(absl::CivilDay d) { return absl::FormatCivilTime(d); }

// The billing demo's ONE_OFF items a permit's deposit and fee are charged
// under: {deposit, garbage fee}.
std::pair<std::string, std::string> RenovationItems(const std::string& parent,
                                                    bv1::BillingService::Stub& billing) {
  bv1::ListChargeItemsRequest req;
  req.set_parent(parent);
  req.set_page_size(500);
  bv1::ListChargeItemsResponse resp;
  Must(Call(billing, &bv1::BillingService::Stub::ListChargeItems, req, &resp), "ListChargeItems");
  std::pair<std::string, std::string> out;
  for (const bv1::ChargeItem& item : resp.charge_items()) {
    if (item.code() == "renovation-deposit") out.first = item.name();
    if (item.code() == "decoration-garbage") out.second = item.name();
  }
  if (out.first.empty() || out.second.empty()) {
    std::cerr << "billing has no renovation-deposit and decoration-garbage items for " << parent
              << ": load estate-billing-demo first\n";
    std::exit(1);
  }
  return out;
}

}  // namespace

void LoadPermits(const std::string& site, absl::TimeZone zone, hv1::HandoverService::Stub& cases,
                 PermitStub& permits, bv1::BillingService::Stub& billing) {
  const std::string parent = "sites/" + site;
  const auto [deposit_item, garbage_item] = RenovationItems(parent, billing);
  hv1::ListHandoverCasesRequest lc;
  lc.set_parent(parent);
  lc.set_state(hv1::COMPLETED);
  lc.set_page_size(2);
  hv1::ListHandoverCasesResponse done;
  Must(Call(cases, &hv1::HandoverService::Stub::ListHandoverCases, lc, &done),
       "ListHandoverCases");
  const absl::CivilDay today = absl::ToCivilDay(absl::Now(), zone);
  int approved = 0, passes = 0, suspended = 0;
  for (int i = 0; i < done.cases_size() && i < 2; ++i) {
    const hv1::HandoverCase& flat = done.cases(i);
    const Plan& plan = kPlans[i];
    const auto rid = [&](const std::string& step) {
      return StepRequestId(site, absl::StrCat("permit/", flat.unit(), "/", step));
    };
    hv1::ListRenovationPermitsRequest lp;
    lp.set_parent(parent);
    lp.set_unit(flat.unit());
    hv1::ListRenovationPermitsResponse found;
    Must(Call(permits, &PermitStub::ListRenovationPermits, lp, &found), "ListRenovationPermits");
    hv1::RenovationPermit p;
    if (found.permits_size() > 0) {
      p = found.permits(0);
    } else {
      hv1::CreateRenovationPermitRequest req;
      req.set_parent(parent);
      req.set_request_id(rid("apply"));
      hv1::RenovationPermit* in = req.mutable_permit();
      in->set_unit(flat.unit());
      in->set_owner_name(flat.owner_name());
      in->set_owner_phone(plan.owner_phone);
      in->set_contractor(plan.contractor);
      in->set_scope(plan.scope);
      in->set_planned_start(Day(today));
      in->set_planned_end(Day(today + 60));
      in->set_work_start("08:00");
      in->set_work_end("18:00");
      in->set_time_zone(zone.name());
      in->set_workers(4);
      in->set_deposit_minor(200000);
      in->set_garbage_fee_minor(30000);
      in->set_currency_code("CNY");
      in->set_deposit_charge_item(deposit_item);
      in->set_garbage_fee_charge_item(garbage_item);
      Must(Call(permits, &PermitStub::CreateRenovationPermit, req, &p), "CreateRenovationPermit");
    }
    if (p.state() == hv1::PERMIT_APPLIED) {
      // On the spot: the decoration desk approves while the owner waits.
      hv1::ApproveRenovationPermitRequest req;
      req.set_name(p.name());
      req.set_etag(p.etag());
      req.set_conditions("no work on load-bearing walls; debris bagged and taken down daily");
      req.set_request_id(rid("approve"));
      Must(Call(permits, &PermitStub::ApproveRenovationPermit, req, &p), "ApproveRenovationPermit");
    }
    hv1::ListWorkerPassesRequest lw;
    lw.set_parent(p.name());
    hv1::ListWorkerPassesResponse issued;
    Must(Call(permits, &PermitStub::ListWorkerPasses, lw, &issued), "ListWorkerPasses");
    if (issued.passes_size() == 0 && p.state() == hv1::PERMIT_APPROVED) {
      for (const char* worker : plan.workers) {
        hv1::IssueWorkerPassRequest req;
        req.set_parent(p.name());
        req.set_request_id(rid(absl::StrCat("pass/", worker)));
        req.mutable_pass()->set_worker_name(worker);
        req.mutable_pass()->set_worker_phone("13904519000");
        req.mutable_pass()->set_valid_from(Day(today));
        req.mutable_pass()->set_valid_to(Day(today + 30));
        hv1::WorkerPass pass;
        Must(Call(permits, &PermitStub::IssueWorkerPass, req, &pass), "IssueWorkerPass");
        *issued.add_passes() = pass;
      }
    }
    passes += issued.passes_size();
    if (plan.night_work && p.state() == hv1::PERMIT_APPROVED) {
      hv1::RecordRenovationInspectionRequest req;
      req.set_name(p.name());
      req.set_etag(p.etag());
      req.set_inspector("patrol-night");
      req.set_note("night patrol, 22:40: drilling heard on the landing");
      req.set_violation(hv1::OUTSIDE_HOURS);
      req.set_violation_description("floor sanding at 22:40, outside 08:00-18:00");
      req.set_request_id(rid("night-patrol"));
      Must(Call(permits, &PermitStub::RecordRenovationInspection, req, &p),
           "RecordRenovationInspection");
    }
    approved += p.state() == hv1::PERMIT_APPROVED || p.state() == hv1::PERMIT_SUSPENDED;
    suspended += p.state() == hv1::PERMIT_SUSPENDED;
  }
  std::cout << "renovation: " << approved << " permits approved on the spot (deposit and garbage "
            << "fee billed), " << passes << " worker passes, " << suspended
            << " suspended for night work (a ticket)\n";
}

}  // namespace demo
