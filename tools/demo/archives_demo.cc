// estate-archives-demo: loads a demo site's key cabinet into a running
// archives service.
//
//   estate-archives-demo --archives_addr=127.0.0.1:50053 --site=demo
//
// Two keys and an access card per unit of building 1, a master set, and a
// day's traffic: keys out for repairs and a vacant-unit inspection (one past
// its due time), one back, one handed over to its owner, one lost. Every
// write carries a request id derived from the site and the step, so an
// interrupted load replays what it did and does the rest.

#include <iostream>
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
#include "tools/demo/step_ids.h"

ABSL_FLAG(std::string, archives_addr, "127.0.0.1:50053", "host:port of the archives service.");
ABSL_FLAG(std::string, site, "demo", "Site id to load, as in sites/{site}.");
ABSL_FLAG(absl::Duration, wait, absl::Seconds(60),
          "How long to keep retrying while the service is unavailable (e.g. still starting).");

namespace {

namespace v1 = ::estate::archives::v1;
using Stub = v1::ArchivesService::Stub;

template <typename Req, typename Resp>
grpc::Status Call(Stub& stub, grpc::Status (Stub::*rpc)(grpc::ClientContext*, const Req&, Resp*),
                  const Req& req, Resp* resp, absl::Duration wait = absl::Seconds(10)) {
  const absl::Time give_up = absl::Now() + wait;
  for (;;) {
    grpc::ClientContext ctx;
    ctx.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(30)));
    ctx.AddMetadata("x-estate-caller", "user:demo-loader");
    grpc::Status s = (stub.*rpc)(&ctx, req, resp);
    if (s.error_code() != grpc::StatusCode::UNAVAILABLE || absl::Now() > give_up) return s;
    absl::SleepFor(absl::Seconds(1));
  }
}

void Must(const grpc::Status& s, const std::string& what) {
  if (!s.ok()) {
    std::cerr << what << " failed: " << s.error_message() << "\n";
    std::exit(1);
  }
}

}  // namespace

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage("Loads a demo site's key cabinet into a running archives service.");
  absl::ParseCommandLine(argc, argv);
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 1000);
  const std::string addr = absl::GetFlag(FLAGS_archives_addr);
  auto stub = v1::ArchivesService::NewStub(
      grpc::CreateCustomChannel(addr, grpc::InsecureChannelCredentials(), args));
  const std::string site = absl::GetFlag(FLAGS_site);
  const std::string parent = "sites/" + site;
  auto id = [&](const std::string& step) { return demo::StepRequestId(site, "archives/" + step); };

  // Loaded when the last step (a key lost) is done.
  v1::ListKeysRequest lost;
  lost.set_parent(parent);
  lost.set_state(v1::LOST);
  v1::ListKeysResponse lost_keys;
  Must(Call(*stub, &Stub::ListKeys, lost, &lost_keys, absl::GetFlag(FLAGS_wait)), "ListKeys");
  if (lost_keys.keys_size() > 0) {
    std::cout << "demo keys already loaded: " << parent << " has its cabinet\n";
    return 0;
  }
  std::cout << "loading the key cabinet of " << parent << " into " << addr << std::endl;
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
      const std::string unit = absl::StrFormat("1-%d-%02d%02d", room % 2 + 1, floor, room);
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
