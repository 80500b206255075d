// estate-archives-demo: loads a demo site's register, archive room and key
// cabinet into a running archives service.
//
//   estate-archives-demo --archives_addr=127.0.0.1:50053 --site=demo
//
// Building 1's twelve units from a buyer list (owners, one tenant), an owner
// file per unit boxed per floor plus a confidential sales contract, two
// files lent, and a closed audit of the first floor's box that found one
// file missing. Then two keys and an access card per unit, a master set, and
// a day's traffic: keys out for repairs and a vacant-unit inspection (one past
// its due time), one back, one handed over to its owner, one lost. Every
// write carries a request id derived from the site and the step, so an
// interrupted load replays what it did and does the rest.
//
// Area B's forty new flats (buildings B1 and B2, tools/demo/area_b.h) are
// registered vacant, with a spare set, a master set and an access card each
// in the cabinet, for the handover demo to hand over to their buyers.

#include <functional>
#include <iostream>
#include <set>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "estate/archives/v1/archives.grpc.pb.h"
#include "grpcpp/grpcpp.h"
#include "tools/demo/area_b.h"
#include "tools/demo/demo_call.h"
#include "tools/demo/step_ids.h"

ABSL_FLAG(std::string, archives_addr, "127.0.0.1:50053", "host:port of the archives service.");
ABSL_FLAG(std::string, site, "demo", "Site id to load, as in sites/{site}.");
ABSL_FLAG(absl::Duration, wait, absl::Seconds(60),
          "How long to keep retrying while the service is unavailable (e.g. still starting).");

namespace {

namespace v1 = ::estate::archives::v1;
using Stub = v1::ArchivesService::Stub;

using demo::Call;
using demo::Must;

using StepId = std::function<std::string(const std::string&)>;

// The unit ids the key cabinet uses too: 1-{entrance}-{floor}{room}.
std::string UnitId(int floor, int room) {
  return absl::StrFormat("1-%d-%02d%02d", room % 2 + 1, floor, room);
}

void LoadRegister(Stub& stub, const std::string& parent, const StepId& id) {
  std::string csv =
      "unit,building,floor,number,area_m2,layout,occupancy,party_role,party_name,party_phone,"
      "party_id_number\n";
  const char* owners[] = {"Zhou Li",  "Wang Fang", "Li Na",   "Zhang Wei", "Liu Yang", "Chen Jing",
                          "Yang Min", "Zhao Lei",  "Huang Yu", "Wu Tao",    "Xu Li",    "Sun Hao"};
  int n = 0;
  for (int floor = 1; floor <= 3; ++floor) {
    for (int room = 1; room <= 4; ++room, ++n) {
      const std::string unit = UnitId(floor, room);
      const char* area = room % 2 ? "89.35" : "118.60";
      const char* layout = room % 2 ? "\"2 bed, 1 living\"" : "\"3 bed, 2 living\"";
      const char* occupancy = n == 5 ? "rented" : n == 9 ? "vacant" : "owner_occupied";
      absl::StrAppend(&csv, unit, ",1,", floor, ",", absl::StrFormat("%02d%02d", floor, room), ",",
                      area, ",", layout, ",", occupancy, ",owner,", owners[n], ",1380000",
                      absl::StrFormat("%04d", 1000 + n), ",11010119850101",
                      absl::StrFormat("%04d", 2000 + n), "\n");
      if (n == 5) {
        absl::StrAppend(&csv, unit, ",1,", floor, ",", absl::StrFormat("%02d%02d", floor, room),
                        ",", area, ",", layout, ",", occupancy,
                        ",tenant,Ma Jun,13900005555,\n");
      }
    }
  }
  v1::ImportUnitsRequest req;
  req.set_parent(parent);
  req.set_csv(csv);
  req.set_request_id(id("register/import"));
  v1::ImportUnitsResponse report;
  Must(Call(stub, &Stub::ImportUnits, req, &report), "ImportUnits");
  if (report.errors_size() > 0) {
    Must(grpc::Status(grpc::StatusCode::INTERNAL, report.errors(0).DebugString()), "ImportUnits");
  }
  std::cout << "register: 12 units of building 1, their owners and one tenant\n";
}

void LoadArchiveRoom(Stub& stub, const std::string& parent, const StepId& id) {
  std::vector<v1::Document> files;
  auto create = [&](const std::string& step, v1::DocumentCategory category,
                    const std::string& title, const std::string& unit, const std::string& box,
                    v1::Confidentiality level) {
    v1::CreateDocumentRequest req;
    req.set_parent(parent);
    req.set_request_id(id("doc/" + step));
    v1::Document& d = *req.mutable_document();
    d.set_category(category);
    d.set_title(title);
    d.set_unit(absl::StrCat(parent, "/units/", unit));
    d.mutable_location()->set_building("1");
    d.mutable_location()->set_box(box);
    d.mutable_location()->set_shelf("A");
    d.set_confidentiality(level);
    v1::Document out;
    Must(Call(stub, &Stub::CreateDocument, req, &out), "CreateDocument " + title);
    files.push_back(out);
    return out;
  };
  for (int floor = 1; floor <= 3; ++floor) {
    for (int room = 1; room <= 4; ++room) {
      const std::string unit = UnitId(floor, room);
      create("owner/" + unit, v1::OWNER_FILE, "Owner file " + unit, unit,
             absl::StrCat("1-F", floor), v1::INTERNAL);
    }
  }
  const v1::Document contract = create("contract/1-2-0101", v1::CONTRACT,
                                       "Sales contract 1-2-0101", UnitId(1, 1), "1-SAFE",
                                       v1::CONFIDENTIAL);
  create("order/1-1-0202", v1::MAINTENANCE_ORDER, "Maintenance order: leak under the sink",
         UnitId(2, 2), "1-F2", v1::INTERNAL);

  const int64_t next_hour = (absl::ToUnixSeconds(absl::Now()) / 3600 + 1) * 3600;
  auto lend = [&](const v1::Document& d, const std::string& borrower, const std::string& approver,
                  int64_t due_hours) {
    v1::GetDocumentRequest get;
    get.set_name(d.name());
    v1::Document now;
    Must(Call(stub, &Stub::GetDocument, get, &now), "GetDocument");
    if (now.state() != v1::ON_SHELF) return;
    v1::LendDocumentRequest req;
    req.set_name(d.name());
    req.set_borrower(borrower);
    req.set_department("engineering");
    req.set_purpose("check before the repair");
    req.mutable_due_time()->set_seconds(next_hour + due_hours * 3600);
    req.set_approver(approver);
    req.set_request_id(id("lend/" + d.name()));
    v1::Loan loan;
    Must(Call(stub, &Stub::LendDocument, req, &loan), "LendDocument");
  };
  lend(files[5], "Lao Li", "", 48);
  lend(contract, "Legal: Sun Hao", "Manager Zhao", 24);

  // The first floor's box checked: one file not found.
  v1::StartArchiveAuditRequest start;
  start.set_parent(parent);
  start.mutable_audit()->set_building("1");
  start.mutable_audit()->set_box("1-F1");
  start.set_request_id(id("audit/start"));
  v1::ArchiveAudit audit;
  Must(Call(stub, &Stub::StartArchiveAudit, start, &audit), "StartArchiveAudit");
  for (int i = 0; i < 3; ++i) {
    v1::MarkDocumentFoundRequest found;
    found.set_name(audit.name());
    found.set_document(files[i].name());
    found.set_request_id(id(absl::StrCat("audit/found/", i)));
    v1::ArchiveAudit after;
    Must(Call(stub, &Stub::MarkDocumentFound, found, &after), "MarkDocumentFound");
  }
  v1::CloseArchiveAuditRequest close;
  close.set_name(audit.name());
  close.set_request_id(id("audit/close"));
  Must(Call(stub, &Stub::CloseArchiveAudit, close, &audit), "CloseArchiveAudit");
  std::cout << "archive room: " << files.size() << " files, 2 lent (one confidential), an audit "
            << "of box 1-F1 with " << audit.missing_documents_size() << " missing\n";
}

// Unlike building 1's steps, these look at what is there before writing, so
// that a load long after the request ids' claims have expired (a day) still
// adds nothing twice: the import is all or nothing, so one B1 unit in the
// register means all forty are; keys are created by tag, which is unique.
void LoadAreaB(Stub& stub, const std::string& parent, const StepId& id) {
  const std::vector<demo::AreaBUnit> units = demo::AreaBUnits();
  v1::ListUnitsRequest list;
  list.set_parent(parent);
  list.set_building(units.front().building);
  list.set_page_size(1);
  v1::ListUnitsResponse listed;
  Must(Call(stub, &Stub::ListUnits, list, &listed), "ListUnits");
  if (listed.units_size() == 0) {
    // No owners yet: each is registered when the flat is handed over.
    std::string csv = "unit,building,floor,number,area_m2,layout,occupancy\n";
    for (const demo::AreaBUnit& u : units) {
      absl::StrAppend(&csv, u.id, ",", u.building, ",", u.floor, ",", u.number, ",", u.area_m2,
                      ",\"", u.layout, "\",vacant\n");
    }
    v1::ImportUnitsRequest req;
    req.set_parent(parent);
    req.set_csv(csv);
    req.set_request_id(id("register/import-area-b"));
    v1::ImportUnitsResponse report;
    Must(Call(stub, &Stub::ImportUnits, req, &report), "ImportUnits (Area B)");
    if (report.errors_size() > 0) {
      Must(grpc::Status(grpc::StatusCode::INTERNAL, report.errors(0).DebugString()),
           "ImportUnits (Area B)");
    }
  }

  std::set<std::string> tags;
  v1::ListKeysRequest keys;
  keys.set_parent(parent);
  keys.set_page_size(500);
  for (;;) {
    v1::ListKeysResponse page;
    Must(Call(stub, &Stub::ListKeys, keys, &page), "ListKeys");
    for (const v1::Key& k : page.keys()) tags.insert(k.tag());
    if (page.next_page_token().empty()) break;
    keys.set_page_token(page.next_page_token());
  }
  struct Kind {
    const char* prefix;
    const char* suffix;
    v1::KeyKind kind;
    bool master;
  };
  const Kind kinds[] = {{"K-", "-A", v1::UNIT_KEY, false},
                        {"K-", "-M", v1::UNIT_KEY, true},
                        {"C-", "", v1::ACCESS_CARD, false}};
  int slot = 0;  // counted for every key, so that a key's slot never depends on what exists
  int created = 0;
  for (const demo::AreaBUnit& u : units) {
    for (const Kind& k : kinds) {
      const std::string tag = absl::StrCat(k.prefix, u.id, k.suffix);
      const int n = slot++;
      if (tags.count(tag)) continue;
      v1::CreateKeyRequest req;
      req.set_parent(parent);
      req.set_request_id(id("key/" + tag));
      req.mutable_key()->set_kind(k.kind);
      req.mutable_key()->set_tag(tag);
      req.mutable_key()->set_unit(absl::StrCat(parent, "/units/", u.id));
      req.mutable_key()->set_key_set(k.master ? "MASTER" : "A");
      req.mutable_key()->set_master(k.master);
      // Area B's keys came from the developer in a cabinet of their own.
      req.mutable_key()->set_cabinet_slot(absl::StrCat("CB", n / 20 + 1, "-", n % 20 + 1));
      v1::Key out;
      Must(Call(stub, &Stub::CreateKey, req, &out), "CreateKey " + tag);
      ++created;
    }
  }
  std::cout << "register: Area B's " << units.size() << " new flats (buildings B1, B2), vacant; "
            << slot << " keys in cabinet CB (" << created << " added now)\n";
}

}  // namespace

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage("Loads a demo site's register, archive room and key cabinet into a running archives service.");
  absl::ParseCommandLine(argc, argv);
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 1000);
  const std::string addr = absl::GetFlag(FLAGS_archives_addr);
  auto stub = v1::ArchivesService::NewStub(
      grpc::CreateCustomChannel(addr, grpc::InsecureChannelCredentials(), args));
  const std::string site = absl::GetFlag(FLAGS_site);
  const std::string parent = "sites/" + site;
  auto id = [&](const std::string& step) { return demo::StepRequestId(site, "archives/" + step); };

  // Every step replays safely while the service still holds its request
  // id's claim (about a day), so an interrupted load replays what it did and
  // does the rest. Past that a replay would import and file everything
  // again, so the register and the archive room are skipped once their last
  // step (the audit that finds a file missing) is done, and the cabinet
  // once its last (a key lost) is.
  v1::ListKeysRequest lost;
  lost.set_parent(parent);
  lost.set_state(v1::LOST);
  v1::ListKeysResponse lost_keys;
  Must(Call(*stub, &Stub::ListKeys, lost, &lost_keys, absl::GetFlag(FLAGS_wait)), "ListKeys");
  v1::ListDocumentsRequest missing;
  missing.set_parent(parent);
  missing.set_state(v1::MISSING);
  missing.set_page_size(1);
  v1::ListDocumentsResponse missing_files;
  Must(Call(*stub, &Stub::ListDocuments, missing, &missing_files), "ListDocuments");
  std::cout << "loading the archives of " << parent << " into " << addr << std::endl;
  if (missing_files.documents_size() == 0) {
    LoadRegister(*stub, parent, id);
    LoadArchiveRoom(*stub, parent, id);
  } else {
    std::cout << "register and archive room already loaded: " << parent << " has its audit\n";
  }
  LoadAreaB(*stub, parent, id);
  if (lost_keys.keys_size() > 0) {
    std::cout << "demo keys already loaded: " << parent << " has its cabinet\n";
    return 0;
  }
  std::vector<v1::Key> keys;
  auto create = [&](const std::string& tag, const std::string& unit, v1::KeyKind kind,
                    bool master) {
    v1::CreateKeyRequest req;
    req.set_parent(parent);
    req.set_request_id(id("key/" + tag));
    req.mutable_key()->set_kind(kind);
    req.mutable_key()->set_tag(tag);
    req.mutable_key()->set_unit(unit.empty() ? "" : absl::StrCat(parent, "/units/", unit));
    req.mutable_key()->set_key_set(master ? "MASTER" : "A");
    req.mutable_key()->set_master(master);
    req.mutable_key()->set_cabinet_slot(absl::StrCat("C", keys.size() / 20 + 1, "-", keys.size() % 20 + 1));
    v1::Key out;
    Must(Call(*stub, &Stub::CreateKey, req, &out), "CreateKey " + tag);
    keys.push_back(out);
    return out;
  };
  std::vector<v1::Key> unit_keys;
  for (int floor = 1; floor <= 3; ++floor) {
    for (int room = 1; room <= 4; ++room) {
      const std::string unit = UnitId(floor, room);
      unit_keys.push_back(create(absl::StrCat("K-", unit, "-A"), unit, v1::UNIT_KEY, false));
      create(absl::StrCat("K-", unit, "-M"), unit, v1::UNIT_KEY, true);
      create(absl::StrCat("C-", unit), unit, v1::ACCESS_CARD, false);
    }
  }
  create("EQ-PUMP-ROOM", "", v1::EQUIPMENT_KEY, false);

  // Due times on the hour, so that a replay within the hour sends the same
  // request; a key already out (a step done before) is left as it is.
  const int64_t next_hour = (absl::ToUnixSeconds(absl::Now()) / 3600 + 1) * 3600;
  auto out = [&](const v1::Key& k, const std::string& who, v1::HolderKind kind, v1::Purpose why,
                 int64_t due_hours) {
    v1::GetKeyRequest get;
    get.set_name(k.name());
    v1::Key now;
    Must(Call(*stub, &Stub::GetKey, get, &now), "GetKey");
    if (now.state() != v1::IN_CABINET) return;
    v1::CheckOutKeyRequest req;
    req.set_name(k.name());
    req.mutable_holder()->set_kind(kind);
    req.mutable_holder()->set_name(who);
    if (kind == v1::CONTRACTOR) req.mutable_holder()->set_organization("Harbin Plumbing Co.");
    req.set_purpose(why);
    req.mutable_due_back()->set_seconds(next_hour + due_hours * 3600);
    req.set_request_id(id("out/" + k.tag()));
    v1::Key resp;
    const grpc::Status s = Call(*stub, &Stub::CheckOutKey, req, &resp);
    // On a replay the key is out already: that step was done.
    if (!s.ok() && s.error_code() != grpc::StatusCode::FAILED_PRECONDITION) Must(s, "CheckOutKey");
  };
  out(unit_keys[0], "Lao Li", v1::STAFF, v1::REPAIR, 3);
  out(unit_keys[1], "Wang Jun", v1::CONTRACTOR, v1::REPAIR, 0);  // overdue within the hour
  out(unit_keys[2], "Chen Hui", v1::STAFF, v1::VACANT_UNIT_INSPECTION, 1);
  out(unit_keys[3], "Cleaning team B", v1::STAFF, v1::CLEANING, 2);

  v1::CheckInKeyRequest in;
  in.set_name(unit_keys[3].name());
  in.set_condition("ok");
  in.set_received_by("clerk Zhou");
  in.set_request_id(id("in/" + unit_keys[3].tag()));
  v1::Key resp;
  grpc::Status s = Call(*stub, &Stub::CheckInKey, in, &resp);
  if (!s.ok() && s.error_code() != grpc::StatusCode::FAILED_PRECONDITION) Must(s, "CheckInKey");

  v1::HandOverKeyRequest hand;
  hand.set_name(unit_keys[4].name());
  hand.mutable_owner()->set_kind(v1::OWNER);
  hand.mutable_owner()->set_name("Owner of 1-1-0201");
  hand.set_reference(parent + "/handovers/1");
  hand.set_request_id(id("handover/" + unit_keys[4].tag()));
  Must(Call(*stub, &Stub::HandOverKey, hand, &resp), "HandOverKey");

  v1::ReportKeyLostRequest lose;
  lose.set_name(unit_keys[5].name());
  lose.set_note("not in its slot at the evening count");
  lose.set_request_id(id("lost/" + unit_keys[5].tag()));
  Must(Call(*stub, &Stub::ReportKeyLost, lose, &resp), "ReportKeyLost");
  std::cout << "keys: " << keys.size() << " (3 out, one due back within the hour; one back in "
            << "the cabinet; one handed over; one lost)\n";
  return 0;
}
