// The relay's workers against receivers that misbehave on purpose: one that
// never answers (a black hole), one that is down for longer than the
// backoff, one that answers ALREADY_EXISTS. Waits are on conditions read
// from the database, bounded; none hopes a fixed time has passed.
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "estate/tickets/v1/tickets.grpc.pb.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "services/kit/migrations.h"
#include "services/kit/outbox.h"
#include "services/kit/outbox_admin.h"
#include "tests/support/in_process.h"
#include "tests/support/test_db.h"

namespace kit {
namespace {

namespace v1 = ::estate::tickets::v1;
using testing_support::AdminScalar;
using testing_support::FreePort;
using testing_support::TestDatabase;

constexpr char kCreate[] = "/estate.tickets.v1.TicketService/CreateTicket";

// Answers CreateTicket by the title's prefix: "exists:" ALREADY_EXISTS,
// anything else OK; counts what it accepted.
class ScriptedTickets final : public v1::TicketService::Service {
 public:
  std::atomic<int> accepted{0};
  std::atomic<bool> refuse{true};  // false: the cause was fixed
  grpc::Status CreateTicket(grpc::ServerContext*, const v1::CreateTicketRequest* req,
                            v1::Ticket* out) override {
    if (absl::StartsWith(req->ticket().title(), "exists:") && refuse.load()) {
      return grpc::Status(grpc::StatusCode::ALREADY_EXISTS,
                          "the unit already has an account with another payer");
    }
    ++accepted;
    out->set_title(req->ticket().title());
    return grpc::Status::OK;
  }
};

std::shared_ptr<grpc::Channel> ChannelTo(int port) {
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 100);
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 300);
  return grpc::CreateCustomChannel(absl::StrCat("127.0.0.1:", port),
                                   grpc::InsecureChannelCredentials(), args);
}

class Receiver {
 public:
  explicit Receiver(int port) : port_(port) {}
  ~Receiver() { Stop(); }
  void Start() {
    grpc::EnableDefaultHealthCheckService(true);
    // Checks identity as a real service's port does.
    auto verifier = IdentityVerifier::Create(
        "tickets",
        ReadIdentityKey(testing_support::TestIdentityKeysDir(), "tickets").value());
    ASSERT_TRUE(verifier.ok());
    auto credentials = ServiceServerCredentials({}, *std::move(verifier), nullptr);
    ASSERT_TRUE(credentials.ok());
    grpc::ServerBuilder b;
    b.AddListeningPort(absl::StrCat("127.0.0.1:", port_), *credentials);
    b.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
    b.RegisterService(&service);
    server_ = b.BuildAndStart();
    ASSERT_NE(server_, nullptr);
  }
  void Stop() {
    if (server_) server_->Shutdown(std::chrono::system_clock::now());
    server_.reset();
  }
  std::shared_ptr<grpc::Channel> channel() { return ChannelTo(port_); }
  ScriptedTickets service;

 private:
  int port_;
  std::unique_ptr<grpc::Server> server_;
};

class OutboxRelayTest : public ::testing::Test {
 protected:
  void SetUp() override {
    db_ = std::make_unique<Db>(TestDatabase::Shared().FreshSchema("relay"), nullptr);
    ASSERT_TRUE(Migrate(*db_, "kit", KitMigrations(), Soon()).ok());
  }
  static absl::Time Soon() { return absl::Now() + absl::Seconds(30); }
  // Options of a relay that signs its calls, as a service's does.
  static OutboxOptions Signed() {
    OutboxOptions o;
    o.identity = std::make_shared<IdentitySigner>(
        "cleaning", absl::flat_hash_map<std::string, std::string>{
                        {"tickets", ReadIdentityKey(testing_support::TestIdentityKeysDir(),
                                                    "tickets").value()}});
    return o;
  }
  void Enqueue(const std::string& target, const std::string& title) {
    ASSERT_TRUE(db_->Transact(Soon(), [&](Conn& c) {
                      v1::CreateTicketRequest req;
                      req.set_parent("sites/area-b");
                      req.mutable_ticket()->set_title(title);
                      return EnqueueCall(c, "area-b", target, kCreate, req, clock_.Now()).status();
                    }).ok());
  }
  int64_t Scalar(const std::string& sql, const std::vector<SqlParam>& params = {}) {
    return AdminScalar(TestDatabase::Shared(),
                       absl::StrReplaceAll(sql, {{"$s", "`" + db_->options().schema + "`"}}),
                       params);
  }
  int64_t Pending(const std::string& target) {
    return Scalar("SELECT COUNT(*) FROM $s.outbox WHERE target = ? AND delivered_at IS NULL"
                  " AND NOT dead",
                  {target});
  }
  // Polls `cond` until it holds or `limit` passes; how long it took.
  static absl::Duration Until(const std::function<bool()>& cond, absl::Duration limit) {
    const absl::Time start = absl::Now();
    while (!cond() && absl::Now() - start < limit) absl::SleepFor(absl::Milliseconds(20));
    return absl::Now() - start;
  }
  double Gauge(const std::string& name, const std::string& target) {
    for (const auto& family : registry_.Collect()) {
      if (family.name != name) continue;
      for (const auto& m : family.metric) {
        for (const auto& l : m.label) {
          if (l.name == "target" && l.value == target) {
            return family.type == prometheus::MetricType::Counter ? m.counter.value
                                                                   : m.gauge.value;
          }
        }
      }
    }
    return -1;
  }

  FakeClock clock_{absl::FromUnixSeconds(1767225600)};
  prometheus::Registry registry_;
  std::unique_ptr<Db> db_;
};

TEST_F(OutboxRelayTest, ABlackHoledTargetDelaysNoOther) {
  // A listener that never accepts: connections complete in the kernel's
  // backlog and every call to it waits for its deadline.
  const int hole = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(addr);
  ASSERT_EQ(bind(hole, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  ASSERT_EQ(listen(hole, 16), 0);
  ASSERT_EQ(getsockname(hole, reinterpret_cast<sockaddr*>(&addr), &len), 0);
  Receiver tickets(FreePort());
  tickets.Start();
  for (int i = 0; i < 3; ++i) Enqueue("void", absl::StrCat("into the void ", i));
  for (int i = 0; i < 3; ++i) Enqueue("tickets", absl::StrCat("Zone ", i, " below pass score"));
  OutboxOptions o = Signed();
  o.call_timeout = absl::Seconds(5);
  o.poll_interval = absl::Milliseconds(50);
  o.probe_interval = absl::Milliseconds(50);
  {
    OutboxRelay relay(*db_, clock_,
                      {{"void", ChannelTo(ntohs(addr.sin_port))}, {"tickets", tickets.channel()}},
                      &registry_, o);
    relay.Start();
    const absl::Duration took = Until([&] { return Pending("tickets") == 0; }, absl::Seconds(20));
    EXPECT_EQ(Pending("tickets"), 0);
    EXPECT_EQ(tickets.service.accepted.load(), 3);
    // Had the void's calls stood in the way, the first alone would have held
    // the tickets rows for its whole 5 s deadline.
    EXPECT_LT(took, o.call_timeout) << "tickets waited behind the black hole";
    EXPECT_EQ(Pending("void"), 3) << "nothing was lost either";
  }
  close(hole);
}

TEST_F(OutboxRelayTest, ATargetBackFromALongOutageGetsItsBacklogAtOnce) {
  Receiver tickets(FreePort());  // not started: tickets is down until Start() below
  OutboxOptions o = Signed();
  // A backoff far longer than the test: only the health probe can notice
  // the peer is back, as after an outage longer than max_backoff.
  o.initial_backoff = absl::Hours(1);
  o.max_backoff = absl::Hours(1);
  o.poll_interval = absl::Milliseconds(50);
  o.probe_interval = absl::Milliseconds(100);
  OutboxRelay relay(*db_, clock_, {{"tickets", tickets.channel()}}, &registry_, o);
  for (int i = 0; i < 5; ++i) Enqueue("tickets", absl::StrCat("Zone ", i, " below pass score"));
  relay.Start();
  // The relay has met the outage: it is backing off.
  Until([&] { return Scalar("SELECT MAX(attempts) FROM $s.outbox") >= 1; }, absl::Seconds(20));
  ASSERT_GE(Scalar("SELECT MAX(attempts) FROM $s.outbox"), 1);
  EXPECT_EQ(Scalar("SELECT last_code FROM $s.outbox ORDER BY id LIMIT 1"), 14);  // UNAVAILABLE

  tickets.Start();
  const absl::Duration took = Until([&] { return Pending("tickets") == 0; }, absl::Seconds(20));
  EXPECT_EQ(Pending("tickets"), 0);
  EXPECT_EQ(tickets.service.accepted.load(), 5);
  EXPECT_LT(took, absl::Seconds(5)) << "the backlog waited for the backoff";
}

TEST_F(OutboxRelayTest, OnlyOkIsDeliveredAndDeadRowsKeepTheirCause) {
  Receiver tickets(FreePort());
  tickets.Start();
  OutboxOptions o = Signed();
  o.retention = absl::Hours(24 * 7);
  OutboxRelay relay(*db_, clock_, {{"tickets", tickets.channel()}}, &registry_, o);
  Enqueue("tickets", "exists: open an account for 4-1-302");
  Enqueue("tickets", "Zone 1 below pass score");
  // The receiver may still be connecting; passes until both have an outcome.
  Until([&] {
    EXPECT_TRUE(relay.DeliverOnce("tickets").ok());
    return Pending("tickets") == 0;
  }, absl::Seconds(20));
  EXPECT_EQ(Scalar("SELECT dead FROM $s.outbox ORDER BY id LIMIT 1"), 1)
      << "ALREADY_EXISTS is not a delivery";
  EXPECT_EQ(Scalar("SELECT last_code FROM $s.outbox ORDER BY id LIMIT 1"), 6);
  EXPECT_EQ(Scalar("SELECT COUNT(*) FROM $s.outbox WHERE last_error ="
                   " 'the unit already has an account with another payer'"),
            1);
  EXPECT_EQ(Scalar("SELECT COUNT(*) FROM $s.outbox WHERE delivered_at IS NOT NULL"), 1);

  ASSERT_TRUE(relay.Housekeep().ok());
  EXPECT_EQ(Gauge("estate_outbox_dead", "tickets"), 1);
  EXPECT_EQ(Gauge("estate_outbox_pending", "tickets"), 0);
  // A week later the delivered row is purged; the dead one stays for an
  // operator.
  clock_.Advance(absl::Hours(24 * 7) + absl::Minutes(1));
  Enqueue("tickets", "Zone 2 below pass score");  // pending, a minute old below
  clock_.Advance(absl::Minutes(1));
  ASSERT_TRUE(relay.Housekeep().ok());
  EXPECT_EQ(Scalar("SELECT COUNT(*) FROM $s.outbox"), 2);
  EXPECT_EQ(Scalar("SELECT COUNT(*) FROM $s.outbox WHERE dead"), 1);
  EXPECT_EQ(Gauge("estate_outbox_pending", "tickets"), 1);
  EXPECT_EQ(Gauge("estate_outbox_oldest_pending_seconds", "tickets"), 60);
}

TEST_F(OutboxRelayTest, CallsTheReceiverCannotVerifyWaitInsteadOfDying) {
  // A relay whose key is missing or stale (a Secret rotated on one side): the
  // receiver refuses it, and the rows must still go once an operator fixes
  // the keys, not be dead.
  Receiver tickets(FreePort());
  tickets.Start();
  OutboxOptions unsigned_options;
  unsigned_options.initial_backoff = absl::Milliseconds(10);
  OutboxRelay stale(*db_, clock_, {{"tickets", tickets.channel()}}, nullptr, unsigned_options);
  Enqueue("tickets", "Zone 3 below pass score");
  Until([&] {
    EXPECT_TRUE(stale.DeliverOnce("tickets").ok());
    return Scalar("SELECT attempts FROM $s.outbox") >= 1;
  }, absl::Seconds(20));
  EXPECT_EQ(Scalar("SELECT last_code FROM $s.outbox"), 16);  // UNAUTHENTICATED
  EXPECT_EQ(Scalar("SELECT dead FROM $s.outbox"), 0);
  EXPECT_EQ(tickets.service.accepted.load(), 0);

  OutboxRelay fixed(*db_, clock_, {{"tickets", tickets.channel()}}, nullptr, Signed());
  Until([&] {
    EXPECT_TRUE(fixed.DeliverOnce("tickets").ok());
    return Pending("tickets") == 0;
  }, absl::Seconds(20));
  EXPECT_EQ(tickets.service.accepted.load(), 1);
}

TEST_F(OutboxRelayTest, ADeadEntryRetriedByAnAdminIsDeliveredOnce) {
  Receiver tickets(FreePort());
  tickets.Start();
  OutboxRelay relay(*db_, clock_, {{"tickets", tickets.channel()}}, nullptr, Signed());
  OutboxAdmin admin(*db_, clock_, "cleaningOutbox");
  Enqueue("tickets", "exists: open an account for 4-1-302");
  Until([&] {
    EXPECT_TRUE(relay.DeliverOnce("tickets").ok());
    return Pending("tickets") == 0;
  }, absl::Seconds(20));
  estate::api::v1::ListOutboxEntriesRequest list;
  list.set_parent("sites/area-b");
  list.set_state(estate::api::v1::DEAD);
  estate::api::v1::ListOutboxEntriesResponse dead;
  ASSERT_TRUE(admin.List(list, Soon(), &dead).ok());
  ASSERT_EQ(dead.entries_size(), 1);
  EXPECT_EQ(dead.entries(0).last_code(), "ALREADY_EXISTS");
  EXPECT_EQ(tickets.service.accepted.load(), 0);

  tickets.service.refuse = false;  // the cause is fixed
  estate::api::v1::RetryOutboxEntryRequest retry;
  retry.set_name(dead.entries(0).name());
  retry.set_request_id(testing_support::NewRequestId());
  estate::api::v1::OutboxEntry after;
  ASSERT_TRUE(admin.Retry(retry, Soon(), "user:ops", &after).ok());
  EXPECT_EQ(after.state(), estate::api::v1::PENDING);
  ASSERT_TRUE(admin.Retry(retry, Soon(), "user:ops", &after).ok()) << "a repeat is the same answer";
  ASSERT_TRUE(relay.DeliverOnce("tickets").ok());
  EXPECT_EQ(tickets.service.accepted.load(), 1);
  list.set_state(estate::api::v1::DELIVERED);
  estate::api::v1::ListOutboxEntriesResponse delivered;
  ASSERT_TRUE(admin.List(list, Soon(), &delivered).ok());
  ASSERT_EQ(delivered.entries_size(), 1);
  EXPECT_EQ(delivered.entries(0).attempts(), 2);
  retry.set_request_id(testing_support::NewRequestId());
  EXPECT_EQ(admin.Retry(retry, Soon(), "user:ops", &after).code(),
            absl::StatusCode::kFailedPrecondition)
      << "a delivered entry is not sent again";
}

}  // namespace
}  // namespace kit
