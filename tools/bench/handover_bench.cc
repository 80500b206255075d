// The handover benchmark: completing N cases and draining the calls their
// completion makes to archives, billing and tickets through the outbox,
// against the time of the same calls made directly.
//
//   tools/bench-handover [--cases=1000] [--clients=8]
//
// Target (issue 15): outbox path <= 2 x direct. Both paths send the very
// same requests (CompletionCalls of the same cases) to the same in-process
// services on fresh schemas; "direct" sends them as the relay does, one
// stream per service in case order, and once more from --clients streams.
#include <algorithm>
#include <atomic>
#include <cstdio>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/synchronization/notification.h"
#include "absl/time/civil_time.h"
#include "absl/time/clock.h"
#include "estate/archives/v1/archives.grpc.pb.h"
#include "estate/billing/v1/billing.grpc.pb.h"
#include "estate/handover/v1/handover.grpc.pb.h"
#include "grpcpp/generic/generic_stub.h"
#include "grpcpp/grpcpp.h"
#include "services/archives/archives_service.h"
#include "services/billing/billing_service.h"
#include "services/handover/completion.h"
#include "services/handover/handover_service.h"
#include "services/kit/proto_time.h"
#include "services/kit/uuid.h"
#include "services/tickets/tickets_service.h"
#include "tools/bench/bench_util.h"

ABSL_FLAG(int, cases, 1000, "Cases completed (and units in the register).");
ABSL_FLAG(int, clients, 8, "Concurrent clients completing cases, and the wide direct run.");

std::vector<kit::Migration> estate_archives_migrations();
std::vector<kit::Migration> estate_billing_migrations();
std::vector<kit::Migration> estate_handover_migrations();
std::vector<kit::Migration> estate_tickets_migrations();

namespace {

namespace archives = ::estate::archives::v1;
namespace billing = ::estate::billing::v1;
namespace hv1 = ::estate::handover::v1;
constexpr char kSite[] = "bench";
constexpr int kInspectors = 6;

template <typename S>
void Check(const S& s, const std::string& what) {
  if (!s.ok()) {
    if constexpr (std::is_same_v<S, grpc::Status>) {
      fprintf(stderr, "%s: %s\n", what.c_str(), s.error_message().c_str());
    } else {
      fprintf(stderr, "%s: %s\n", what.c_str(), s.ToString().c_str());
    }
    std::exit(1);
  }
}

std::unique_ptr<grpc::ClientContext> Ctx() {
  auto c = std::make_unique<grpc::ClientContext>();
  c->set_deadline(std::chrono::system_clock::now() + std::chrono::minutes(2));
  bench::Sign(*c, "handover");
  return c;
}

std::string Unit(int i) { return absl::StrFormat("B-%d-%04d", 1 + i / 400, i % 400 + 1); }

// Runs f(i) for i in [0, n) from `threads` threads.
void Parallel(int threads, int n, const std::function<void(int)>& f) {
  std::atomic<int> next{0};
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t) {
    pool.emplace_back([&] {
      for (int i = next++; i < n; i = next++) f(i);
    });
  }
  for (auto& th : pool) th.join();
}

// The three services completion writes to, each on a fresh schema, with
// the register holding every unit and one key per unit.
struct Peers {
  std::unique_ptr<kit::ServiceHost> archives, billing, tickets;
  std::map<std::string, std::shared_ptr<grpc::Channel>> channels;
  std::vector<std::string> keys;  // by case index
  std::string fee;

  Peers(int port, const std::string& tag, int n) {
    archives = bench::StartService("archives", bench::FreshSchema(port, tag + "_ar"),
                                   estate_archives_migrations(), [](kit::ServiceHost& h) {
                                     ::archives::RegisterArchives(h, kit::RealClock(),
                                                                  absl::Hours(1000));
                                   });
    billing = bench::StartService("billing", bench::FreshSchema(port, tag + "_bi"),
                                  estate_billing_migrations(), [](kit::ServiceHost& h) {
                                    ::billing::BillingOptions o;
                                    o.job_interval = absl::Hours(1000);
                                    ::billing::RegisterBilling(h, kit::RealClock(), o);
                                  });
    tickets = bench::StartService("tickets", bench::FreshSchema(port, tag + "_ti"),
                                  estate_tickets_migrations(), [](kit::ServiceHost& h) {
                                    ::tickets::RegisterTickets(h, kit::RealClock(),
                                                               absl::Hours(1000));
                                  });
    grpc::ChannelArguments args;
    args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 1000);  // as estate-handover's main
    for (const auto& [name, host] : {std::pair{"archives", archives.get()},
                                     std::pair{"billing", billing.get()},
                                     std::pair{"tickets", tickets.get()}}) {
      channels[name] = grpc::CreateCustomChannel(absl::StrCat("127.0.0.1:", host->grpc_port()),
                                                 grpc::InsecureChannelCredentials(), args);
    }
    auto a = archives::ArchivesService::NewStub(channels["archives"]);
    auto b = billing::BillingService::NewStub(channels["billing"]);
    billing::CreateChargeItemRequest item;
    item.set_parent(absl::StrCat("sites/", kSite));
    item.set_request_id(kit::NewUuid());
    item.mutable_charge_item()->set_code("property-fee");
    item.mutable_charge_item()->set_display_name("Property fee");
    item.mutable_charge_item()->set_kind(billing::PER_AREA);
    item.mutable_charge_item()->set_cycle(billing::MONTHLY);
    item.mutable_charge_item()->set_rate("2.6");
    item.mutable_charge_item()->set_effective_from("2026-01-01");
    item.mutable_charge_item()->set_due_days(14);
    billing::ChargeItem made;
    Check(b->CreateChargeItem(Ctx().get(), item, &made), "CreateChargeItem");
    fee = made.name();
    keys.resize(n);
    Parallel(8, n, [&](int i) {
      archives::CreateUnitRequest u;
      u.set_parent(absl::StrCat("sites/", kSite));
      u.set_unit_id(Unit(i));
      u.set_request_id(kit::NewUuid());
      u.mutable_unit()->set_building(absl::StrCat("B", 1 + i / 400));
      u.mutable_unit()->set_floor(1 + (i % 400) / 20);
      u.mutable_unit()->set_number(Unit(i));
      u.mutable_unit()->set_area_centi_m2(9837);
      archives::Unit unit;
      Check(a->CreateUnit(Ctx().get(), u, &unit), "CreateUnit");
      archives::CreateKeyRequest k;
      k.set_parent(absl::StrCat("sites/", kSite));
      k.set_request_id(kit::NewUuid());
      k.mutable_key()->set_kind(archives::UNIT_KEY);
      k.mutable_key()->set_tag(Unit(i) + "-A1");
      k.mutable_key()->set_unit(unit.name());
      k.mutable_key()->set_key_set("A");
      archives::Key key;
      Check(a->CreateKey(Ctx().get(), k, &key), "CreateKey");
      keys[i] = key.name();
    });
  }
};

// A case as completion sees it: every tenth with an open defect at
// acceptance (a warranty ticket), each with its key and a water reading.
hv1::HandoverCase CompletedCase(int i, const std::string& key, const std::string& day) {
  hv1::HandoverCase c;
  c.set_name(absl::StrCat("sites/", kSite, "/handoverCases/", i + 1));
  c.set_unit(Unit(i));
  c.set_owner_name("Owner " + Unit(i));
  c.set_owner_phone("+86 139 0000 0000");
  c.set_building(absl::StrCat("B", 1 + i / 400));
  c.set_billable_area("98.37");
  c.set_state(hv1::COMPLETED);
  c.set_handover_date(day);
  c.add_keys(key);
  hv1::MeterReading* water = c.add_opening_readings();
  water->set_meter("water");
  water->set_value("12.5");
  if (i % 10 == 0) {
    hv1::Defect* d = c.add_defects();
    d->set_name(c.name() + "/defects/1");
    d->set_category("walls");
    d->set_location("living room, crack");
    d->set_contractor("Harbin No. 3 Construction");
    d->set_state(hv1::TICKETED);
  }
  return c;
}

// One unary call by full method name, as the relay makes it.
grpc::Status CallRaw(grpc::GenericStub& stub, const std::string& audience,
                     const std::string& method, const google::protobuf::Message& request) {
  const std::string bytes = request.SerializeAsString();
  grpc::Slice slice(bytes);
  grpc::ByteBuffer req(&slice, 1), reply;
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
  bench::Sign(ctx, audience, "service:handover");
  grpc::Status status;
  absl::Notification done;
  stub.UnaryCall(&ctx, method, grpc::StubOptions(), &req, &reply, [&](grpc::Status s) {
    status = std::move(s);
    done.Notify();
  });
  done.WaitForNotification();
  return status;
}

// Each call with a fresh request_id, as EnqueueCall gives it.
void SetRequestId(google::protobuf::Message& m) {
  const auto* field = m.GetDescriptor()->FindFieldByName("request_id");
  m.GetReflection()->SetString(&m, field, kit::NewUuid());
}

// The direct path: `calls` grouped into `streams` sequential streams
// (`stream_of` picks one per call); the wall time.
absl::Duration Direct(Peers& peers, std::vector<handover::PeerCall>& calls, int streams,
                      const std::function<int(const handover::PeerCall&, int index)>& stream_of) {
  std::vector<std::vector<handover::PeerCall*>> by_stream(streams);
  for (size_t i = 0; i < calls.size(); ++i) {
    by_stream[stream_of(calls[i], static_cast<int>(i))].push_back(&calls[i]);
  }
  const absl::Time start = absl::Now();
  Parallel(streams, streams, [&](int s) {
    std::map<std::string, std::unique_ptr<grpc::GenericStub>> stubs;
    for (handover::PeerCall* call : by_stream[s]) {
      auto& stub = stubs[call->target];
      if (!stub) stub = std::make_unique<grpc::GenericStub>(peers.channels[call->target]);
      SetRequestId(*call->request);
      Check(CallRaw(*stub, call->target, call->method, *call->request), call->method);
    }
  });
  return absl::Now() - start;
}

}  // namespace

int main(int argc, char** argv) {
  const bench::Args args = bench::ParseArgs(argc, argv, "tools/bench-handover", "8");
  const int n = absl::GetFlag(FLAGS_cases);
  const int clients = absl::GetFlag(FLAGS_clients);
  const absl::TimeZone zone = absl::FixedTimeZone(8 * 3600);
  const absl::CivilDay today = absl::ToCivilDay(absl::Now(), zone);
  const std::string day = absl::FormatCivilTime(today);

  // --- Direct: the same requests, straight to the services.
  std::vector<handover::PeerCall> calls;
  hv1::HandoverBatch batch;
  double direct_s = 0, direct_wide_s = 0;
  {
    Peers peers(args.db_port, "hbd", n);
    batch.add_charge_items(peers.fee);
    for (int i = 0; i < n; ++i) {
      for (handover::PeerCall& c : handover::CompletionCalls(
               CompletedCase(i, peers.keys[i], day), batch, kSite)) {
        calls.push_back(std::move(c));
      }
    }
    const std::map<std::string, int> stream = {{"archives", 0}, {"billing", 1}, {"tickets", 2}};
    direct_s = absl::ToDoubleSeconds(Direct(
        peers, calls, 3, [&](const handover::PeerCall& c, int) { return stream.at(c.target); }));
    printf("direct, one stream per service (as the relay): %zu calls in %.2f s (%.0f calls/s)\n",
           calls.size(), direct_s, calls.size() / direct_s);
  }
  {
    // Again on fresh schemas, spread over `clients` streams by unit (a
    // unit's account still comes before its reading).
    Peers peers(args.db_port, "hbw", n);
    std::vector<handover::PeerCall> wide;
    std::vector<int> unit_of;
    batch.set_charge_items(0, peers.fee);
    for (int i = 0; i < n; ++i) {
      for (handover::PeerCall& c : handover::CompletionCalls(
               CompletedCase(i, peers.keys[i], day), batch, kSite)) {
        wide.push_back(std::move(c));
        unit_of.push_back(i);
      }
    }
    direct_wide_s = absl::ToDoubleSeconds(
        Direct(peers, wide, clients,
               [&](const handover::PeerCall&, int index) { return unit_of[index] % clients; }));
    printf("direct, %d streams: %zu calls in %.2f s (%.0f calls/s)\n", clients, wide.size(),
           direct_wide_s, wide.size() / direct_wide_s);
  }

  // --- Through handover: complete every case, wait for the outbox to drain.
  Peers peers(args.db_port, "hbo", n);
  const kit::DbOptions hdb = bench::FreshSchema(args.db_port, "hbo_ho");
  auto host = bench::StartService("handover", hdb, estate_handover_migrations(),
                                  [&](kit::ServiceHost& h) {
                                    handover::HandoverOptions o;  // main()'s defaults
                                    o.peers = peers.channels;
                                    handover::RegisterHandover(h, kit::RealClock(), o);
                                  });
  auto stub = hv1::HandoverService::NewStub(
      grpc::CreateChannel(absl::StrCat("127.0.0.1:", host->grpc_port()),
                          grpc::InsecureChannelCredentials()));
  hv1::CreateHandoverBatchRequest breq;
  breq.set_parent(absl::StrCat("sites/", kSite));
  breq.set_request_id(kit::NewUuid());
  hv1::HandoverBatch* b = breq.mutable_batch();
  b->set_display_name("Area B");
  const int days = n / (8 * kInspectors) + 2;
  b->set_window_start(absl::FormatCivilTime(today - days));
  b->set_window_end(day);
  b->set_day_start("09:00");
  b->set_day_end("17:00");
  b->set_slot_minutes(60);
  b->set_time_zone("Asia/Shanghai");
  for (int k = 0; k < kInspectors; ++k) b->add_inspectors(absl::StrCat("inspector-", k));
  b->add_charge_items(peers.fee);
  hv1::HandoverBatch made;
  Check(stub->CreateHandoverBatch(Ctx().get(), breq, &made), "CreateHandoverBatch");
  // Every case to ACCEPTED (not timed): one slot each, every tenth with an
  // open crack at acceptance.
  std::vector<hv1::HandoverCase> accepted(n);
  const auto start_setup = absl::Now();
  Parallel(clients, n, [&](int i) {
    hv1::CreateHandoverCaseRequest creq;
    creq.set_parent(absl::StrCat("sites/", kSite));
    creq.set_request_id(kit::NewUuid());
    hv1::HandoverCase* c = creq.mutable_handover_case();
    c->set_batch(made.name());
    c->set_unit(Unit(i));
    c->set_owner_name("Owner " + Unit(i));
    c->set_owner_phone("+86 139 0000 0000");
    c->set_building(absl::StrCat("B", 1 + i / 400));
    c->set_billable_area("98.37");
    hv1::HandoverCase out;
    Check(stub->CreateHandoverCase(Ctx().get(), creq, &out), "CreateHandoverCase");
    hv1::ScheduleInspectionRequest s;
    s.set_name(out.name());
    s.set_etag(out.etag());
    s.set_request_id(kit::NewUuid());
    const int slot = i / kInspectors;
    const absl::CivilDay d = today - days + slot / 8;
    const absl::Time start =
        absl::FromCivil(absl::CivilHour(d.year(), d.month(), d.day(), 9 + slot % 8),
                        absl::FixedTimeZone(8 * 3600));
    s.mutable_appointment()->set_inspector(absl::StrCat("inspector-", i % kInspectors));
    kit::SetTimestamp(s.mutable_appointment()->mutable_start_time(), start);
    kit::SetTimestamp(s.mutable_appointment()->mutable_end_time(), start + absl::Hours(1));
    Check(stub->ScheduleInspection(Ctx().get(), s, &out), "ScheduleInspection");
    hv1::RecordInspectionRequest r;
    r.set_name(out.name());
    r.set_etag(out.etag());
    r.set_request_id(kit::NewUuid());
    for (const hv1::ChecklistItem& item : made.checklist()) {
      hv1::ChecklistResult* res = r.add_checklist();
      res->set_code(item.code());
      res->set_result(i % 10 == 0 && item.code() == "walls" ? hv1::FAIL : hv1::PASS);
    }
    if (i % 10 == 0) {
      hv1::Defect* d2 = r.add_defects();
      d2->set_category("walls");
      d2->set_location("living room, crack");
      d2->set_contractor("Harbin No. 3 Construction");
      d2->set_due_date(absl::FormatCivilTime(today + 30));
    }
    Check(stub->RecordInspection(Ctx().get(), r, &out), "RecordInspection");
    hv1::AcceptHandoverRequest a;
    a.set_name(out.name());
    a.set_etag(out.etag());
    a.set_request_id(kit::NewUuid());
    a.set_accepted_by("Owner " + Unit(i));
    a.set_signature_ref("sig://bench");
    Check(stub->AcceptHandover(Ctx().get(), a, &out), "AcceptHandover");
    accepted[i] = out;
  });
  printf("(setup: %d cases to ACCEPTED in %.1f s)\n", n,
         absl::ToDoubleSeconds(absl::Now() - start_setup));

  kit::Db db(hdb, nullptr);
  const auto undelivered = [&] {
    int64_t left = -1;
    Check(db.Run(absl::Now() + absl::Seconds(10),
                 [&](kit::Conn& c) -> absl::Status {
                   auto rows = c.Query(
                       "SELECT COUNT(*), COALESCE(SUM(dead), 0) FROM outbox "
                       "WHERE delivered_at IS NULL");
                   if (!rows.ok()) return rows.status();
                   left = (*rows)[0].Int(0);
                   if ((*rows)[0].Int(1) > 0) return absl::InternalError("a call went dead");
                   return absl::OkStatus();
                 }),
          "outbox count");
    return left;
  };
  const absl::Time start = absl::Now();
  Parallel(clients, n, [&](int i) {
    hv1::CompleteHandoverRequest creq;
    creq.set_name(accepted[i].name());
    creq.set_etag(accepted[i].etag());
    creq.set_request_id(kit::NewUuid());
    creq.add_keys(peers.keys[i]);
    hv1::MeterReading* water = creq.add_opening_readings();
    water->set_meter("water");
    water->set_value("12.5");
    hv1::HandoverCase out;
    Check(stub->CompleteHandover(Ctx().get(), creq, &out), "CompleteHandover");
  });
  const double completed_s = absl::ToDoubleSeconds(absl::Now() - start);
  while (undelivered() > 0) absl::SleepFor(absl::Milliseconds(10));
  const double outbox_s = absl::ToDoubleSeconds(absl::Now() - start);
  printf("through handover: %d completions (%d clients) in %.2f s; outbox drained at %.2f s\n", n,
         clients, completed_s, outbox_s);
  printf("\n| path | calls | seconds | ratio to direct (one stream per service) |\n"
         "|---|---|---|---|\n");
  printf("| direct, one stream per service | %zu | %.2f | 1.00 |\n", calls.size(), direct_s);
  printf("| direct, %d streams | %zu | %.2f | %.2f |\n", clients, calls.size(), direct_wide_s,
         direct_wide_s / direct_s);
  printf("| complete + outbox drained | %zu | %.2f | %.2f (target <= 2) |\n", calls.size(),
         outbox_s, outbox_s / direct_s);
  return 0;
}
