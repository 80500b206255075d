// The database stopped, crashed and restarted under a running service: calls
// fail UNAVAILABLE within their deadline, health follows the database, and the
// same process serves again without a restart. Acknowledged writes survive.
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "tests/tickets/tickets_fixture.h"

namespace tickets {
namespace {

using testing_support::RunTool;
using testing_support::ToolsDir;

class RecoveryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = absl::StrCat(ESTATE_BUILD_DIR, "/test-recovery-db-", getpid());
    port_ = testing_support::FreePort();
    ASSERT_EQ(Db("start"), 0);
    db_ = std::make_unique<testing_support::TestDatabase>(port_);
    const kit::DbOptions o = db_->FreshSchema("recovery");
    schema_ = o.schema;
    user_ = o.user;
    server_ = testing_support::InProcessService::Start(
        "tickets", o, estate_tickets_migrations(),
        [&](kit::ServiceHost& host) { RegisterTickets(host, kit::RealClock(), absl::Hours(1000)); },
        /*health_interval=*/absl::Milliseconds(200));
    ASSERT_NE(server_, nullptr);
    stub_ = v1::TicketService::NewStub(server_->channel());
  }
  void TearDown() override {
    server_.reset();
    Db("stop");
    RunTool("rm -rf '" + dir_ + "'");
  }
  int Db(const std::string& cmd) {
    return RunTool(absl::StrCat(ToolsDir(), "/db ", cmd, " '", dir_, "' ", port_,
                                " >/dev/null 2>&1"));
  }
  grpc::Status CreateOne(v1::Ticket* out, absl::Duration timeout = absl::Seconds(5)) {
    v1::CreateTicketRequest req;
    req.set_parent("sites/area-a");
    req.set_request_id(testing_support::NewRequestId());
    req.mutable_ticket()->set_kind(v1::REPAIR);
    req.mutable_ticket()->set_channel(v1::PHONE);
    req.mutable_ticket()->set_title("Lift stuck on floor 7");
    return stub_->CreateTicket(Context("user:test", timeout).get(), req, out);
  }
  bool WaitFor(const std::function<bool()>& cond, absl::Duration limit) {
    const absl::Time give_up = absl::Now() + limit;
    while (absl::Now() < give_up) {
      if (cond()) return true;
      absl::SleepFor(absl::Milliseconds(50));
    }
    return cond();
  }

  std::string dir_;
  std::string schema_;
  std::string user_;
  int port_ = 0;
  std::unique_ptr<testing_support::TestDatabase> db_;
  std::unique_ptr<testing_support::InProcessService> server_;
  std::unique_ptr<v1::TicketService::Stub> stub_;
};

TEST_F(RecoveryTest, StopAndStartTheDatabaseUnderARunningService) {
  v1::Ticket t;
  ASSERT_TRUE(CreateOne(&t).ok());
  EXPECT_EQ(testing_support::HealthStatus(*server_->channel()), 1);

  ASSERT_EQ(Db("stop"), 0);
  const absl::Time start = absl::Now();
  v1::Ticket out;
  const grpc::Status down = CreateOne(&out, absl::Seconds(2));
  EXPECT_EQ(down.error_code(), grpc::StatusCode::UNAVAILABLE) << down.error_message();
  EXPECT_LT(absl::Now() - start, absl::Milliseconds(2500));
  v1::GetTicketRequest g;
  g.set_name(t.name());
  EXPECT_EQ(stub_->GetTicket(Context("user:test", absl::Seconds(2)).get(), g, &out).error_code(),
            grpc::StatusCode::UNAVAILABLE);
  EXPECT_TRUE(WaitFor([&] { return testing_support::HealthStatus(*server_->channel()) == 2; },
                      absl::Seconds(3)))
      << "health did not turn NOT_SERVING";
  EXPECT_EQ(testing_support::HealthStatus(*server_->channel(), "estate.tickets.v1.TicketService"), 2);

  ASSERT_EQ(Db("start"), 0);
  EXPECT_TRUE(WaitFor([&] { return testing_support::HealthStatus(*server_->channel()) == 1; },
                      absl::Seconds(5)))
      << "health did not return to SERVING";
  EXPECT_TRUE(stub_->GetTicket(Context().get(), g, &out).ok());
  EXPECT_TRUE(CreateOne(&out).ok());
}

TEST_F(RecoveryTest, AcknowledgedWritesSurviveADatabaseCrash) {
  std::vector<std::string> acknowledged;
  for (int i = 0; i < 25; ++i) {
    v1::Ticket t;
    ASSERT_TRUE(CreateOne(&t).ok());
    acknowledged.push_back(t.name());
  }
  ASSERT_EQ(Db("kill"), 0);  // SIGKILL: no clean shutdown, no flush
  ASSERT_EQ(Db("start"), 0);
  ASSERT_TRUE(WaitFor([&] { return testing_support::HealthStatus(*server_->channel()) == 1; },
                      absl::Seconds(10)));
  for (const std::string& name : acknowledged) {
    v1::GetTicketRequest g;
    g.set_name(name);
    v1::Ticket out;
    // The first call may meet a pooled connection the crash broke; the pool
    // drops it and the client retries as it would for any UNAVAILABLE.
    grpc::Status s = stub_->GetTicket(Context().get(), g, &out);
    if (s.error_code() == grpc::StatusCode::UNAVAILABLE) s = stub_->GetTicket(Context().get(), g, &out);
    EXPECT_TRUE(s.ok()) << name << ": " << s.error_message();
  }
}

TEST_F(RecoveryTest, ShutdownLetsAnInFlightCallFinishAndRefusesNewOnes) {
  v1::Ticket t;
  ASSERT_TRUE(CreateOne(&t).ok());
  const int64_t id = std::stoll(t.name().substr(t.name().rfind('/') + 1));
  // Someone else holds the ticket's row lock, so an assignment is in flight
  // (waiting on it) when the shutdown starts.
  absl::Notification locked, release;
  absl::Status lock_status;
  std::thread holder([&] {
    lock_status = db_->admin().Transact(absl::Now() + absl::Seconds(60), [&](kit::Conn& c) {
      absl::Status s = c.Query("SELECT id FROM `" + schema_ + "`.tickets WHERE id = ? FOR UPDATE",
                               {id}).status();
      if (s.ok()) {
        locked.Notify();
        release.WaitForNotification();
      }
      return s;
    });
    if (!locked.HasBeenNotified()) locked.Notify();
  });
  locked.WaitForNotification();
  if (!lock_status.ok()) {
    holder.join();
    FAIL() << "could not take the ticket's row lock: " << lock_status;
  }
  grpc::Status in_flight;
  absl::Notification answered;
  std::thread caller([&] {
    v1::AssignTicketRequest r;
    r.set_name(t.name());
    r.set_etag(t.etag());
    r.set_request_id(testing_support::NewRequestId());
    r.set_department("engineering");
    v1::Ticket out;
    in_flight = stub_->AssignTicket(Context("user:test", absl::Seconds(30)).get(), r, &out);
    answered.Notify();
  });
  // The assignment is in flight once its locking read of the ticket is
  // running: it cannot finish while the row is held. (INNODB_TRX is no
  // help: MariaDB reads a row found by its primary key while optimizing,
  // and a transaction waiting there still says RUNNING.)
  const bool waiting = WaitFor(
      [&] {
        return answered.HasBeenNotified() ||
               testing_support::AdminScalar(
                   *db_,
                   "SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE USER = ? AND "
                   "INFO LIKE 'SELECT % FROM tickets WHERE % FOR UPDATE'",
                   {user_}) > 0;
      },
      absl::Seconds(20));
  if (!waiting || answered.HasBeenNotified()) {
    release.Notify();
    caller.join();
    holder.join();
    FAIL() << "the assignment never waited on the row lock; it answered: "
           << in_flight.error_code() << " " << in_flight.error_message();
  }
  std::thread stopper([&] { server_->Shutdown(); });
  // Health says NOT_SERVING a moment before the server stops taking calls
  // (a call sent in between is still served, as it should be); from then
  // on new calls are refused while the held assignment is still running.
  v1::Ticket out;
  EXPECT_TRUE(WaitFor([&] { return !CreateOne(&out, absl::Seconds(1)).ok(); }, absl::Seconds(10)))
      << "new calls were still accepted while stopping";
  EXPECT_FALSE(answered.HasBeenNotified()) << "the held call ended before it was let go";
  release.Notify();
  caller.join();
  stopper.join();
  holder.join();
  EXPECT_TRUE(in_flight.ok()) << in_flight.error_message();
}

}  // namespace
}  // namespace tickets
