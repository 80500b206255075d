// estate-demo: loads a demo site into a running tickets service.
//
//   estate-demo --tickets_addr=127.0.0.1:50052 --site=demo
//
// The site gets the tickets of a residential estate's Area A in every status,
// the return visits that follow them and this half-year's household survey, so
// that dashboards and stats have realistic figures to show. A site that
// already has tickets is left alone.
//
// Every write carries a request id derived from the site and the step, so the
// service recognises a step it has seen. --resume builds on that to finish an
// interrupted load: creations and survey answers are sent again (the service
// answers repeats from its idempotency records, which it keeps for about a
// day), and each ticket's transitions continue after the last one its event
// history shows.

#include <cstdint>
#include <cstdlib>
#include <iterator>
#include <iostream>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/time/civil_time.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "estate/tickets/v1/tickets.grpc.pb.h"
#include "grpcpp/grpcpp.h"
#include "tools/demo/demo_identity.h"
#include "tools/demo/step_ids.h"

ABSL_FLAG(std::string, tickets_addr, "127.0.0.1:50052", "host:port of the tickets service.");
ABSL_FLAG(std::string, site, "demo", "Site id to load, as in sites/{site}.");
ABSL_FLAG(std::string, caller, "user:demo-loader",
          "Principal named in the identity token; the service records it on every change.");
ABSL_FLAG(absl::Duration, wait, absl::Seconds(60),
          "How long to keep retrying while the service is unavailable (e.g. still starting).");
ABSL_FLAG(bool, resume, false,
          "Finish an interrupted load of a site that already has some tickets. Works within "
          "about a day of the interrupted run, while the service remembers its request ids.");

namespace {

namespace v1 = ::estate::tickets::v1;
using Stub = v1::TicketService::Stub;

constexpr absl::Duration kCallTimeout = absl::Seconds(10);
// Return visits are made by the customer-service desk, not by whoever runs the
// loader, and ReturnVisit.caller is meant to name that person.
constexpr char kReturnVisitCaller[] = "Li Na";

// ---------------------------------------------------------------------------
// What the demo site holds

enum class Op { kAssign, kStart, kWait, kResume, kResolve, kVisit, kClose, kReopen, kCancel };

const char* OpName(Op op) {
  switch (op) {
    case Op::kAssign: return "assign";
    case Op::kStart: return "start";
    case Op::kWait: return "wait";
    case Op::kResume: return "resume";
    case Op::kResolve: return "resolve";
    case Op::kVisit: return "visit";
    case Op::kClose: return "close";
    case Op::kReopen: return "reopen";
    case Op::kCancel: return "cancel";
  }
  return "step";
}

// One thing that happens to a ticket after it is created.
struct Step {
  Op op = Op::kStart;
  // The department, note, resolution, visit comment, waiver or reason.
  std::string text;
  std::string assignee;
  v1::WaitingOn waiting_on = v1::WAITING_ON_UNSPECIFIED;
  int satisfaction = 0;
};

Step MakeStep(Op op, std::string text = "") {
  Step step;
  step.op = op;
  step.text = std::move(text);
  return step;
}

Step Assign(std::string department, std::string assignee) {
  Step step = MakeStep(Op::kAssign, std::move(department));
  step.assignee = std::move(assignee);
  return step;
}
Step Start() { return MakeStep(Op::kStart); }
Step Wait(v1::WaitingOn on, std::string note) {
  Step step = MakeStep(Op::kWait, std::move(note));
  step.waiting_on = on;
  return step;
}
Step Resume() { return MakeStep(Op::kResume); }
Step Resolve(std::string resolution) { return MakeStep(Op::kResolve, std::move(resolution)); }
Step Visit(int satisfaction, std::string comment) {
  Step step = MakeStep(Op::kVisit, std::move(comment));
  step.satisfaction = satisfaction;
  return step;
}
Step Close() { return MakeStep(Op::kClose); }
Step Waive(std::string reason) { return MakeStep(Op::kClose, std::move(reason)); }
Step Reopen(std::string reason) { return MakeStep(Op::kReopen, std::move(reason)); }
Step Cancel(std::string reason) { return MakeStep(Op::kCancel, std::move(reason)); }

struct TicketPlan {
  // Names the ticket's request ids: changing what a key stands for would make
  // a resumed load send old ids with new content, which the service refuses.
  const char* key;
  v1::TicketKind kind;
  v1::Channel channel;
  v1::Priority priority;
  const char* unit;  // "" for common areas
  const char* reporter;
  const char* phone;
  const char* category;
  const char* title;
  const char* description;
  std::vector<Step> steps;
};

constexpr char kUnreachable[] = "owner unreachable after three calls";

// The kinds of complaint the desk's half-year reports keep returning to:
// dogs, renovation noise, cleaning, strangers in the building, fees.
std::vector<TicketPlan> AreaAComplaints() {
  return {
      {"complaint-01", v1::COMPLAINT, v1::PHONE, v1::NORMAL, "5-506", "Zhou Hui",
       "139 0451 0506", "pets", "Unleashed dogs barking in front of building 5",
       "Dogs are walked without leads around building 5 and bark until late; the owner's "
       "child is afraid to share the lift with them.",
       {Assign("security", "Sun Lei"), Start(),
        Resolve("Notice on dog keeping posted in every lobby with the report number; patrol "
                "reminded two owners to use leads; pets now take the freight lift."),
        Visit(4, "Better during the day, still some barking at night."), Close()}},
      {"complaint-02", v1::COMPLAINT, v1::PHONE, v1::NORMAL, "12-1702", "Guo Ming",
       "138 4510 1702", "renovation", "Renovation noise after 8 pm from the flat below",
       "Drilling in 12-1602 goes on until about 21:30 most evenings.",
       {Assign("security", "Sun Lei"), Start(),
        Resolve("Crew at 12-1602 reminded that the decoration agreement ends work at 18:00; "
                "the night patrol checks floor 16."),
        Visit(5, "Quiet in the evenings now."), Close()}},
      {"complaint-03", v1::COMPLAINT, v1::VISIT, v1::NORMAL, "8-201", "Ma Lan", "137 0451 0201",
       "cleaning", "Lobby of building 8 not cleaned before 8 am",
       "Mud and leaflets are still on the lobby floor when residents leave for work.",
       {Assign("cleaning", "Zhao Min"), Start(),
        Resolve("Building 8 lobby moved to the first round of the morning shift; cleaned by "
                "07:30 and checked by the squad leader."),
        Visit(5, "The lobby is clean every morning."), Close()}},
      {"complaint-04", v1::COMPLAINT, v1::APP, v1::LOW, "3-1102", "Tang Wei", "136 0451 1102",
       "cleaning", "Rubbish bags left in the stairwell for three days",
       "Floor 11 stairwell of building 3, next to the fire door.",
       {Assign("cleaning", "Zhao Min"),
        Resolve("Bags removed the same day; the household that left them was asked to use "
                "the bins by the gate."),
        Visit(4, ""), Close()}},
      {"complaint-05", v1::COMPLAINT, v1::PHONE, v1::HIGH, "7-602", "He Jun", "139 0451 0602",
       "security", "Strangers follow residents through the unit door",
       "The unit door of building 7 does not latch; delivery riders and strangers walk in "
       "behind residents.",
       {Assign("security", "Sun Lei"), Start(),
        Resolve("Door closer adjusted so the door latches; gate guards remind visitors to "
                "register."),
        Visit(3, "The door closes now, but nobody checks visitors."), Close()}},
      {"complaint-06", v1::COMPLAINT, v1::LETTER, v1::NORMAL, "10-1503", "Xu Fang",
       "135 0451 1503", "fees", "Property fee charged for months before the key handover",
       "The fee statement starts in March; the keys were handed over in May.",
       {Assign("customer-service", "Chen Jing"), Start(),
        Wait(v1::OWNER, "Owner to bring the key handover certificate."), Resume(),
        Resolve("Fee start corrected to the key handover date; two months credited to the "
                "account."),
        Visit(4, "Credit received."), Close()}},
      {"complaint-07", v1::COMPLAINT, v1::PHONE, v1::NORMAL, "2-301", "Lin Tao", "138 0451 0301",
       "parking", "Owner's parking space taken by a visitor's car",
       "Space B-117 in the underground garage is taken by an unknown car most weekends.",
       {Assign("security", "Sun Lei"),
        Resolve("Garage guards check visitor cars against the space register and send them to "
                "the visitor bays."),
        Waive(kUnreachable)}},
      {"complaint-08", v1::COMPLAINT, v1::VISIT, v1::LOW, "6-802", "Feng Yu", "137 0451 0802",
       "greening", "Tree branches reach the balcony of 6-802",
       "Insects come in through the balcony; the owner asks for the tree to be pruned.",
       {Assign("cleaning", "Zhao Min")}},
      {"complaint-09", v1::COMPLAINT, v1::PHONE, v1::HIGH, "9-1201", "Yang Xue", "136 0451 1201",
       "service", "Leaking pipe reported a week ago is still not repaired",
       "Engineering promised to come twice and did not.",
       {Assign("customer-service", "Chen Jing"), Start(),
        Resolve("Pipe repaired the day the complaint came in; engineering now confirms "
                "appointments by phone."),
        Visit(4, "Fixed, but it should not have taken a complaint."), Close()}},
      {"complaint-10", v1::COMPLAINT, v1::APP, v1::NORMAL, "11-403", "Deng Hao", "135 0451 0403",
       "neighbours", "Barbecue smoke from a ground-floor terrace of building 11",
       "Smoke comes in through the windows every weekend evening.",
       {}},
      {"complaint-11", v1::COMPLAINT, v1::PHONE, v1::NORMAL, "4-702", "Cao Li", "139 0451 0702",
       "lighting", "Corridor light outside 4-702 out for a week, reported twice", "",
       {Assign("engineering", "Liu Jun"), Start(),
        Resolve("Light fitting replaced; corridor lights added to the weekly patrol checklist."),
        Visit(2, "Fixed, but it took a week and two calls."), Close()}},
      {"complaint-12", v1::COMPLAINT, v1::PHONE, v1::HIGH, "1-1801", "Song Jie", "138 0451 1801",
       "water", "Low water pressure on the top floors every evening",
       "Between 19:00 and 21:00 the shower barely runs on floors 16 to 18.",
       {Assign("engineering", "Wang Qiang"), Start(),
        Wait(v1::CONTRACTOR, "Pump maintenance contractor booked to inspect the booster pumps.")}},
      {"complaint-13", v1::COMPLAINT, v1::PHONE, v1::NORMAL, "5-1203", "Bai Rong",
       "137 0451 1203", "pets", "Dogs without leads near building 5", "",
       {Cancel("Duplicate of the complaint from 5-506 about the same dogs.")}},
  };
}

// The defects the engineering department fixes most after handover: leaks,
// tiles, doors, cracks, drains.
std::vector<TicketPlan> AreaARepairs() {
  return {
      {"repair-01", v1::REPAIR, v1::PHONE, v1::URGENT, "5-506", "Zhou Hui", "139 0451 0506",
       "water leak", "Water coming through the bathroom ceiling",
       "The washing-machine tap in 5-606 broke; water runs down the bathroom wall.",
       {Assign("engineering", "Wang Qiang"), Start(),
        Resolve("Main valve of 5-606 closed within 20 minutes; tap replaced; ceiling dried "
                "with fans."),
        Visit(5, "Quick response."), Close()}},
      {"repair-02", v1::REPAIR, v1::APP, v1::NORMAL, "12-1702", "Guo Ming", "138 4510 1702",
       "tiling", "Bathroom floor tiles tilted, water pools by the shower", "",
       {Assign("engineering", "Liu Jun"), Start(),
        Wait(v1::DEVELOPER, "Defect within the warranty; developer to approve re-tiling."),
        Resume(), Resolve("Tiles relaid with a proper fall to the drain."), Visit(4, ""),
        Close()}},
      {"repair-03", v1::REPAIR, v1::PHONE, v1::NORMAL, "8-201", "Ma Lan", "137 0451 0201",
       "doors", "Entrance door lock sticks", "",
       {Assign("engineering", "Liu Jun"), Start(),
        Resolve("Lock cylinder replaced and the door rehung."), Visit(5, ""), Close()}},
      {"repair-04", v1::REPAIR, v1::PHONE, v1::URGENT, "3-502", "Qian Bo", "136 0451 0502",
       "water leak", "Toilet seeping water into the bedroom floor", "",
       {Assign("engineering", "Wang Qiang"), Start(),
        Resolve("Wax ring under the toilet replaced; skirting dried."),
        Visit(2, "The seepage came back after two days."),
        Reopen("Seepage recurred two days after the repair."), Start(),
        Resolve("Cracked floor flange replaced and resealed; checked dry after 48 hours."),
        Visit(4, "Dry now."), Close()}},
      {"repair-05", v1::REPAIR, v1::APP, v1::NORMAL, "6-1101", "Luo Ping", "135 0451 1101",
       "walls", "Crack across the living-room wall", "About 1.5 m long, wider than last month.",
       {Assign("engineering", "Liu Jun"), Start(),
        Wait(v1::DEVELOPER, "Structural check requested from the developer.")}},
      {"repair-06", v1::REPAIR, v1::PHONE, v1::LOW, "7-301", "Shi Yan", "139 0451 0301",
       "plumbing", "Washbasin drains slowly", "",
       {Assign("engineering", "Liu Jun"), Resolve("Trap cleared."), Visit(4, ""), Close()}},
      {"repair-07", v1::REPAIR, v1::VISIT, v1::NORMAL, "9-702", "Kong Wen", "138 0451 0702",
       "balcony", "Cracked threshold stone at the balcony door", "",
       {Assign("engineering", "Wang Qiang"), Start(), Resolve("Threshold stone replaced."),
        Waive(kUnreachable)}},
      {"repair-08", v1::REPAIR, v1::PHONE, v1::NORMAL, "10-201", "Jiang Hong", "137 0451 0201",
       "lighting", "Landing light on floor 2 of building 10 is out", "",
       {Assign("engineering", "Liu Jun"), Resolve("Bulb and motion sensor replaced."),
        Visit(5, ""), Close()}},
      {"repair-09", v1::REPAIR, v1::PHONE, v1::URGENT, "2-1502", "Wu Di", "136 0451 1502",
       "elevator", "Lift in building 2 stopped between floors",
       "Two residents were stuck for 15 minutes; the lift is out of service.",
       {Assign("engineering", "Wang Qiang"), Start(),
        Wait(v1::CONTRACTOR, "Lift maintenance company to replace the door sensor."), Resume(),
        Resolve("Door sensor replaced by the lift contractor; safety check passed and the lift "
                "is back in service."),
        Visit(4, ""), Close()}},
      {"repair-10", v1::REPAIR, v1::APP, v1::NORMAL, "11-1004", "Fang Qi", "135 0451 1004",
       "intercom", "Intercom handset does not ring", "",
       {Assign("engineering", "Liu Jun"), Start(), Resolve("Loose handset cable reconnected."),
        Visit(5, ""), Close()}},
      // Resolved, return visit still due.
      {"repair-11", v1::REPAIR, v1::PHONE, v1::NORMAL, "4-301", "Hu Mei", "139 0451 0302",
       "windows", "Kitchen window handle broken", "",
       {Assign("engineering", "Liu Jun"), Resolve("Handle replaced.")}},
      {"repair-12", v1::REPAIR, v1::LETTER, v1::NORMAL, "1-602", "Zheng Kai", "138 0451 0602",
       "drainage", "Balcony floor drain blocked, water backs up when it rains", "",
       {Assign("engineering", "Wang Qiang"), Start(),
        Resolve("Drain riser cleared of cement left by the renovation upstairs."), Visit(4, ""),
        Close()}},
  };
}

// Rectification orders come from patrols and handover inspections; claims are
// owners asking for compensation.
std::vector<TicketPlan> AreaAOrdersAndClaims() {
  return {
      {"rectification-01", v1::RECTIFICATION, v1::INSPECTION, v1::HIGH, "", "", "",
       "fire safety", "Fire door on floor 9 of building 3 wedged open", "",
       {Assign("security", "Sun Lei"),
        Resolve("Wedge removed, door closer checked, notice posted on the floor."), Close()}},
      {"rectification-02", v1::RECTIFICATION, v1::INSPECTION, v1::NORMAL, "8-1401", "Qin Yue",
       "137 0451 1401", "handover defect", "Handover defect: cracks in the living-room floor",
       "Found at the joint handover inspection of Area A.",
       {Assign("engineering", "Wang Qiang"),
        Wait(v1::DEVELOPER, "Developer to send its contractor."), Resume(), Start(),
        Resolve("Screed repaired and floor relaid by the developer's contractor."), Close(),
        Visit(5, "")}},
      {"rectification-03", v1::RECTIFICATION, v1::INSPECTION, v1::NORMAL, "", "", "",
       "common areas", "Broken floor tiles at the entrance of building 4", "",
       {Assign("engineering", "Liu Jun"), Start(), Resolve("Six tiles replaced."), Close()}},
      {"rectification-04", v1::RECTIFICATION, v1::INSPECTION, v1::NORMAL, "12-902", "", "",
       "renovation", "Renovation waste piled in the corridor on floor 9 of building 12", "",
       {Assign("cleaning", "Zhao Min"),
        Resolve("Owner of 12-902 had the waste removed within a day; the crew now bags waste "
                "daily."),
        Close(), Visit(4, "")}},
      {"rectification-05", v1::RECTIFICATION, v1::INSPECTION, v1::HIGH, "6-1402", "", "",
       "renovation", "Unapproved opening cut in a wall during renovation",
       "Patrol found a new opening between kitchen and living room; no renovation permit on "
       "file. Work stopped.",
       {Assign("security", "Sun Lei"), Start()}},
      {"rectification-06", v1::RECTIFICATION, v1::VISIT, v1::NORMAL, "10-2601", "Xie Lin",
       "136 0451 2601", "handover defect", "Handover defect: roof terrace waterproofing leaks",
       "",
       {Assign("engineering", "Wang Qiang"), Start(),
        Resolve("Membrane redone around the terrace drain; 48-hour flood test passed."),
        Close(), Visit(5, "")}},
      {"rectification-07", v1::RECTIFICATION, v1::INSPECTION, v1::LOW, "", "", "",
       "common areas", "Rusted railing on the roof of building 7", "",
       {Assign("engineering", "Liu Jun"), Resolve("Railing derusted and painted."), Close()}},
      {"claim-01", v1::CLAIM, v1::LETTER, v1::HIGH, "5-506", "Zhou Hui", "139 0451 0506",
       "water damage", "Compensation for floor and wall damaged by the leak from 5-606", "",
       {Assign("customer-service", "Chen Jing"), Start(),
        Wait(v1::CONTRACTOR, "Responsible unit to reply in writing."), Resume(),
        Resolve("Responsible unit promised in writing to restore floor and wall by the end of "
                "July; owner agreed."),
        Close(), Visit(4, "")}},
      {"claim-02", v1::CLAIM, v1::LETTER, v1::NORMAL, "8-807", "Yin Hua", "135 0451 0807",
       "water damage", "Floor damaged by a burst washing-machine tap", "",
       {Assign("customer-service", "Chen Jing"), Start(),
        Wait(v1::CONTRACTOR, "Tap supplier and plumbing contractor dispute who is liable.")}},
      {"claim-03", v1::CLAIM, v1::VISIT, v1::NORMAL, "7-602", "He Jun", "139 0451 0602",
       "garage", "Car scratched in the underground garage", "",
       {Assign("security", "Sun Lei"), Start(),
        Resolve("CCTV reviewed; the other driver was identified and paid for the repair."),
        Close(), Visit(3, "It took three weeks.")}},
  };
}

// Inquiries and suggestions the desk mostly answers on the spot.
std::vector<TicketPlan> AreaADeskTickets() {
  return {
      {"inquiry-01", v1::INQUIRY, v1::PHONE, v1::LOW, "3-1102", "Tang Wei", "136 0451 1102",
       "fees", "When is the heating fee due?", "",
       {Resolve("Due by 31 October; payable at the desk, by bank transfer or in the app."),
        Close()}},
      {"inquiry-02", v1::INQUIRY, v1::VISIT, v1::NORMAL, "9-1201", "Yang Xue", "136 0451 1201",
       "renovation", "How to apply for a renovation permit", "",
       {Resolve("Gave the owner the decoration agreement, deposit rules and document list; "
                "permits are issued within two working days."),
        Close()}},
      {"inquiry-03", v1::INQUIRY, v1::APP, v1::LOW, "11-403", "Deng Hao", "135 0451 0403",
       "access", "Access card for a tenant", "",
       {Resolve("Tenant cards are issued at the desk against the lease and the owner's "
                "consent form.")}},
      {"inquiry-04", v1::INQUIRY, v1::PHONE, v1::NORMAL, "5-1203", "Bai Rong", "137 0451 1203",
       "water", "Water outage for tank cleaning", "",
       {Resolve("Tanks are cleaned on Saturday 09:00-13:00; notice posted in every lobby."),
        Close()}},
      {"inquiry-05", v1::INQUIRY, v1::PHONE, v1::NORMAL, "2-301", "Lin Tao", "138 0451 0301",
       "handover", "When will Area B be handed over?", "",
       {Assign("customer-service", "Chen Jing"),
        Resolve("Handover of Area B is planned for the second half of the year; owners will be "
                "notified two weeks ahead.")}},
      {"suggestion-01", v1::SUGGESTION, v1::APP, v1::LOW, "12-1702", "Guo Ming", "138 4510 1702",
       "pets", "Put a pet waste bin near the playground", "",
       {Resolve("Two pet waste bins ordered for the playground and the east lawn."), Close()}},
      {"suggestion-02", v1::SUGGESTION, v1::LETTER, v1::LOW, "4-702", "Cao Li", "139 0451 0702",
       "community", "Organise a weekend outing for owners", "",
       {Assign("customer-service", "Chen Jing"),
        Resolve("Owners' walk up Phoenix Mountain planned for Father's Day."), Close()}},
      {"suggestion-03", v1::SUGGESTION, v1::PHONE, v1::LOW, "1-1801", "Song Jie", "138 0451 1801",
       "reception", "Keep the reception desk open until 20:00", "",
       {Resolve("Desk hours extended to 20:00 on weekdays from next month.")}},
  };
}

std::vector<TicketPlan> DemoTickets() {
  std::vector<TicketPlan> all;
  for (std::vector<TicketPlan> part :
       {AreaAComplaints(), AreaARepairs(), AreaAOrdersAndClaims(), AreaADeskTickets()}) {
    for (TicketPlan& p : part) all.push_back(std::move(p));
  }
  return all;
}

// A survey dimension and how many of the households rate it 4 or 5.
struct Dimension {
  const char* name;
  int satisfied;
  const char* remark;  // what an unsatisfied household writes
};

// The field report's spring survey of 38 households found reception 90%
// satisfied, phone 75% and return visits 80%; 34, 29 and 30 of 38 come
// closest. The other three are in the same range.
constexpr int kHouseholds = 38;
constexpr Dimension kDimensions[] = {
    {"reception", 34, "Had to explain the problem twice at the desk."},
    {"phone", 29, "The service phone is often busy at lunchtime."},
    {"return_visit", 30, "Nobody called back after the repair."},
    {"repairs", 31, "The repairman came a day late."},
    {"cleaning", 33, "Stairwell windows are dusty."},
    {"security", 32, "Guards do not check visitors at the north gate."},
};

// Household i of the survey: one flat in each of 12 buildings on up to four
// rounds, on floors spread from 2 to 18, so that no two households share a unit.
std::string HouseholdUnit(int i) {
  const int building = 1 + i % 12;
  const int floor = 2 + (i * 7) % 17;
  const int flat = 1 + i / 12;
  return absl::StrCat(building, "-", floor * 100 + flat);
}

// Spreads each dimension's unsatisfied households over different units:
// i -> (5i + 7d) mod 38 is a permutation of the households for every d.
int Rating(int household, int dimension) {
  const int rank = (household * 5 + dimension * 7) % kHouseholds;
  if (rank < kDimensions[dimension].satisfied) return rank % 2 == 0 ? 5 : 4;
  return household % 3 == 0 ? 2 : 3;
}

struct HalfYear {
  std::string start;
  std::string end;
  std::string title;
};

// The half-year as the estate's calendar has it, since that is how the desk
// reports its figures.
HalfYear CurrentHalfYear(absl::Time now) {
  const absl::CivilDay today = absl::ToCivilDay(now, absl::LocalTimeZone());
  const bool first = today.month() <= 6;
  const absl::CivilDay start(today.year(), first ? 1 : 7, 1);
  const absl::CivilDay end(today.year(), first ? 6 : 12, first ? 30 : 31);
  return {absl::FormatCivilTime(start), absl::FormatCivilTime(end),
          absl::StrCat("Household satisfaction survey, ", first ? "first" : "second",
                       " half of ", today.year())};
}

// ---------------------------------------------------------------------------
// Talking to the service

template <typename Req, typename Resp>
using Rpc = grpc::Status (Stub::*)(grpc::ClientContext*, const Req&, Resp*);

// A demo load has nothing to roll back, and a re-run with --resume picks up
// where this one stopped, so the first failure ends the program.
[[noreturn]] void Fail(absl::string_view method, const grpc::Status& status) {
  std::cerr << "estate-demo: " << method << " failed: "
            << absl::StatusCodeToString(static_cast<absl::StatusCode>(status.error_code()))
            << ": " << status.error_message() << "\n";
  std::exit(1);
}

void SetTimestamp(absl::Time t, google::protobuf::Timestamp* out) {
  const absl::Duration since_epoch = t - absl::UnixEpoch();
  const int64_t seconds = absl::ToInt64Seconds(since_epoch);
  out->set_seconds(seconds);
  out->set_nanos(static_cast<int32_t>(
      absl::ToInt64Nanoseconds(since_epoch - absl::Seconds(seconds))));
}

// "89.47%" from basis points.
std::string Percent(int bp) {
  return absl::StrCat(bp / 100, ".", absl::Dec(bp % 100, absl::kZeroPad2), "%");
}

class Loader {
 public:
  Loader(std::shared_ptr<grpc::Channel> channel, std::string site, std::string caller,
         bool resume)
      : stub_(v1::TicketService::NewStub(channel)),
        site_(std::move(site)),
        caller_(std::move(caller)),
        resume_(resume) {}

  // Retries while the service is unavailable (starting, or its database not
  // up yet). Returns whether the site already has tickets.
  bool WaitForService(absl::Duration wait);
  void LoadTicket(const TicketPlan& plan);
  // Returns the survey's name.
  std::string LoadSurvey(const HalfYear& period);
  v1::TicketStats StatsForLastYear();

  std::string Parent() const { return absl::StrCat("sites/", site_); }

 private:
  template <typename Req, typename Resp>
  grpc::Status Try(Rpc<Req, Resp> rpc, const Req& req, Resp* resp) {
    grpc::ClientContext ctx;
    ctx.set_deadline(absl::ToChronoTime(absl::Now() + kCallTimeout));
    demo::Sign(ctx, req, caller_);
    return (stub_.get()->*rpc)(&ctx, req, resp);
  }

  template <typename Req, typename Resp>
  Resp Must(absl::string_view method, Rpc<Req, Resp> rpc, const Req& req) {
    Resp resp;
    if (grpc::Status s = Try(rpc, req, &resp); !s.ok()) Fail(method, s);
    return resp;
  }

  // Fills the fields every transition request has.
  template <typename Req>
  void Address(const v1::Ticket& ticket, absl::string_view step, Req* req) const {
    req->set_name(ticket.name());
    req->set_etag(ticket.etag());
    req->set_request_id(demo::StepRequestId(site_, step));
  }

  v1::Ticket Create(const TicketPlan& plan);
  v1::Ticket Get(const std::string& name);
  size_t StepsDone(const std::string& ticket);
  void Apply(const Step& step, absl::string_view label, v1::Ticket* ticket);
  void RecordVisit(const Step& step, absl::string_view label, const v1::Ticket& ticket);
  void AddResponse(const std::string& survey, const HalfYear& period, int household);

  std::unique_ptr<Stub> stub_;
  const std::string site_;
  const std::string caller_;
  const bool resume_;
};

bool Loader::WaitForService(absl::Duration wait) {
  const absl::Time give_up = absl::Now() + wait;
  v1::ListTicketsRequest req;
  req.set_parent(Parent());
  req.set_page_size(1);
  bool said_waiting = false;
  while (true) {
    v1::ListTicketsResponse resp;
    const grpc::Status s = Try(&Stub::ListTickets, req, &resp);
    if (s.ok()) return resp.tickets_size() > 0;
    if (s.error_code() != grpc::StatusCode::UNAVAILABLE || absl::Now() >= give_up) {
      Fail("ListTickets", s);
    }
    if (!said_waiting) {
      std::cout << "waiting up to " << wait << " for the tickets service ("
                << s.error_message() << ")" << std::endl;
      said_waiting = true;
    }
    absl::SleepFor(absl::Seconds(1));
  }
}

void Loader::LoadTicket(const TicketPlan& plan) {
  v1::Ticket ticket = Create(plan);
  size_t done = 0;
  if (resume_) {
    done = StepsDone(ticket.name());
    // The creation answer may be a day old; only a read has the current etag.
    if (done < plan.steps.size()) ticket = Get(ticket.name());
  }
  for (size_t i = done; i < plan.steps.size(); ++i) {
    Apply(plan.steps[i], absl::StrCat(plan.key, "/", i, "-", OpName(plan.steps[i].op)),
          &ticket);
  }
}

v1::Ticket Loader::Create(const TicketPlan& plan) {
  v1::CreateTicketRequest req;
  req.set_parent(Parent());
  req.set_request_id(demo::StepRequestId(site_, absl::StrCat(plan.key, "/create")));
  v1::Ticket* t = req.mutable_ticket();
  t->set_kind(plan.kind);
  t->set_channel(plan.channel);
  t->set_priority(plan.priority);
  t->set_unit(plan.unit);
  t->set_reporter_name(plan.reporter);
  t->set_reporter_phone(plan.phone);
  t->set_category(plan.category);
  t->set_title(plan.title);
  t->set_description(plan.description);
  return Must("CreateTicket", &Stub::CreateTicket, req);
}

v1::Ticket Loader::Get(const std::string& name) {
  v1::GetTicketRequest req;
  req.set_name(name);
  return Must("GetTicket", &Stub::GetTicket, req);
}

// The service writes exactly one event with each transition and each return
// visit, in the same transaction, so the history tells how far an earlier run
// got with this ticket.
size_t Loader::StepsDone(const std::string& ticket) {
  v1::ListTicketEventsRequest req;
  req.set_parent(ticket);
  req.set_page_size(500);  // a demo ticket has a dozen events at most
  const v1::ListTicketEventsResponse resp =
      Must("ListTicketEvents", &Stub::ListTicketEvents, req);
  size_t done = 0;
  for (const v1::TicketEvent& e : resp.events()) {
    if (e.type() == "status_changed" || e.type() == "return_visit") ++done;
  }
  return done;
}

void Loader::Apply(const Step& step, absl::string_view label, v1::Ticket* ticket) {
  switch (step.op) {
    case Op::kAssign: {
      v1::AssignTicketRequest req;
      Address(*ticket, label, &req);
      req.set_department(step.text);
      req.set_assignee(step.assignee);
      *ticket = Must("AssignTicket", &Stub::AssignTicket, req);
      return;
    }
    case Op::kStart:
    case Op::kResume: {
      v1::TransitionRequest req;
      Address(*ticket, label, &req);
      *ticket = step.op == Op::kStart ? Must("StartTicket", &Stub::StartTicket, req)
                                      : Must("ResumeTicket", &Stub::ResumeTicket, req);
      return;
    }
    case Op::kWait: {
      v1::WaitTicketRequest req;
      Address(*ticket, label, &req);
      req.set_waiting_on(step.waiting_on);
      req.set_note(step.text);
      *ticket = Must("WaitTicket", &Stub::WaitTicket, req);
      return;
    }
    case Op::kResolve: {
      v1::ResolveTicketRequest req;
      Address(*ticket, label, &req);
      req.set_resolution(step.text);
      *ticket = Must("ResolveTicket", &Stub::ResolveTicket, req);
      return;
    }
    case Op::kVisit:
      RecordVisit(step, label, *ticket);
      // A visit changes the ticket's etag but answers with the visit.
      *ticket = Get(ticket->name());
      return;
    case Op::kClose: {
      v1::CloseTicketRequest req;
      Address(*ticket, label, &req);
      req.set_waiver_reason(step.text);
      *ticket = Must("CloseTicket", &Stub::CloseTicket, req);
      return;
    }
    case Op::kReopen:
    case Op::kCancel: {
      v1::ReasonRequest req;
      Address(*ticket, label, &req);
      req.set_reason(step.text);
      *ticket = step.op == Op::kReopen ? Must("ReopenTicket", &Stub::ReopenTicket, req)
                                       : Must("CancelTicket", &Stub::CancelTicket, req);
      return;
    }
  }
}

void Loader::RecordVisit(const Step& step, absl::string_view label, const v1::Ticket& ticket) {
  v1::RecordReturnVisitRequest req;
  req.set_parent(ticket.name());
  req.set_request_id(demo::StepRequestId(site_, label));
  v1::ReturnVisit* visit = req.mutable_return_visit();
  visit->set_channel(v1::PHONE);
  visit->set_satisfaction(step.satisfaction);
  visit->set_comment(step.text);
  visit->set_caller(kReturnVisitCaller);
  Must("RecordReturnVisit", &Stub::RecordReturnVisit, req);
}

std::string Loader::LoadSurvey(const HalfYear& period) {
  v1::CreateSurveyRequest req;
  req.set_parent(Parent());
  // The period is in the label so that a load resumed in a later half-year
  // starts that half-year's survey rather than clashing with the old one.
  req.set_request_id(demo::StepRequestId(site_, absl::StrCat("survey/", period.start)));
  v1::Survey* survey = req.mutable_survey();
  survey->set_title(period.title);
  for (const Dimension& d : kDimensions) survey->add_dimensions(d.name);
  survey->set_period_start(period.start);
  survey->set_period_end(period.end);
  const std::string name = Must("CreateSurvey", &Stub::CreateSurvey, req).name();
  for (int i = 0; i < kHouseholds; ++i) AddResponse(name, period, i);
  return name;
}

void Loader::AddResponse(const std::string& survey, const HalfYear& period, int household) {
  v1::AddSurveyResponseRequest req;
  req.set_parent(survey);
  const std::string unit = HouseholdUnit(household);
  req.set_request_id(demo::StepRequestId(site_, absl::StrCat("survey/", period.start, "/", unit)));
  v1::SurveyResponse* response = req.mutable_response();
  response->set_unit(unit);
  for (int d = 0; d < static_cast<int>(std::size(kDimensions)); ++d) {
    const int rating = Rating(household, d);
    (*response->mutable_ratings())[kDimensions[d].name] = rating;
    // Like the paper forms: a remark on the first thing the household disliked.
    if (rating < 4 && response->comment().empty()) {
      response->set_comment(kDimensions[d].remark);
    }
  }
  Must("AddSurveyResponse", &Stub::AddSurveyResponse, req);
}

v1::TicketStats Loader::StatsForLastYear() {
  const absl::Time now = absl::Now();
  v1::GetTicketStatsRequest req;
  req.set_parent(Parent());
  SetTimestamp(now - absl::Hours(24 * 365), req.mutable_start_time());
  // A minute's margin so that what the service just wrote counts even if its
  // clock runs a little ahead of ours.
  SetTimestamp(now + absl::Minutes(1), req.mutable_end_time());
  return Must("GetTicketStats", &Stub::GetTicketStats, req);
}

// ---------------------------------------------------------------------------
// Output

std::string KindLine(const v1::KindStats& k) {
  return absl::StrCat(k.total(), " total, ", k.handled(), " handled, ", k.pending(),
                      " pending, ", k.cancelled(), " cancelled; return visit rate ",
                      Percent(k.return_visit_rate_bp()));
}

void PrintStats(const v1::TicketStats& stats) {
  std::cout << "Stats for the last 365 days:\n"
            << "  tickets: " << KindLine(stats.total()) << " (" << stats.total().return_visited()
            << " of " << stats.total().handled() << " handled)\n";
  for (const v1::KindStats& k : stats.by_kind()) {
    std::cout << "    " << v1::TicketKind_Name(k.kind()) << ": " << KindLine(k) << "\n";
  }
  std::cout << "  return visits: " << stats.return_visits() << ", "
            << Percent(stats.return_visit_satisfaction_bp()) << " satisfied (4 or 5)\n"
            << "  survey satisfaction (4 or 5):\n";
  for (const v1::DimensionSatisfaction& d : stats.survey_satisfaction()) {
    std::cout << "    " << d.dimension() << ": " << Percent(d.satisfaction_bp()) << " ("
              << d.satisfied() << " of " << d.ratings() << ")\n";
  }
}

int CountVisits(const std::vector<TicketPlan>& plans) {
  int visits = 0;
  for (const TicketPlan& p : plans) {
    for (const Step& s : p.steps) visits += s.op == Op::kVisit ? 1 : 0;
  }
  return visits;
}

}  // namespace

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "Loads a demo site (tickets, return visits, a survey) into a running tickets service.");
  absl::ParseCommandLine(argc, argv);

  grpc::ChannelArguments args;
  // gRPC's reconnect backoff grows to two minutes; while waiting for a
  // service that is starting, try every second instead.
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 1000);
  const std::string addr = absl::GetFlag(FLAGS_tickets_addr);
  Loader loader(grpc::CreateCustomChannel(addr, grpc::InsecureChannelCredentials(), args),
                absl::GetFlag(FLAGS_site), absl::GetFlag(FLAGS_caller),
                absl::GetFlag(FLAGS_resume));

  const bool has_tickets = loader.WaitForService(absl::GetFlag(FLAGS_wait));
  if (has_tickets && !absl::GetFlag(FLAGS_resume)) {
    std::cout << "demo site already loaded: " << loader.Parent() << " has tickets\n";
    return 0;
  }
  std::cout << "loading " << loader.Parent() << " into " << addr << std::endl;
  const std::vector<TicketPlan> plans = DemoTickets();
  for (const TicketPlan& plan : plans) loader.LoadTicket(plan);
  const std::string survey = loader.LoadSurvey(CurrentHalfYear(absl::Now()));
  std::cout << "tickets created: " << plans.size() << " (with " << CountVisits(plans)
            << " return visits)\n"
            << "survey " << survey << ": " << kHouseholds << " household responses\n";
  PrintStats(loader.StatsForLastYear());
  return 0;
}
