// The built estate-tickets and estate-billing binaries, as processes, under a
// small concurrent write load, while their MariaDB is SIGKILLed and started
// again. Afterwards:
//  - every write answered OK is in the database exactly once, and a resend
//    with its request_id answers with the same resource;
//  - every write that failed, resent with its request_id until it succeeds,
//    is there exactly once;
//  - each billing account's balance is exactly minus the sum of its payments.
// Writes in flight at the kill (some of them in COMMIT) are what this is
// about: the driver used to report a COMMIT lost with the connection as
// committed. tools/crash-test runs this many times in a row.
//
// The backup drill (BackupTakenUnderLoadRestoresEveryAcknowledgedWrite) runs
// tools/backup under the same load, tools/restore into a new server, starts
// the services on it and checks the same things of what was acknowledged
// before the backup began.
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <functional>
#include <map>
#include <memory>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "estate/billing/v1/billing.grpc.pb.h"
#include "estate/tickets/v1/tickets.grpc.pb.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "tests/support/in_process.h"
#include "tests/support/service_process.h"
#include "tests/support/test_db.h"

namespace {

using testing_support::AdminScalar;
using testing_support::Context;
using testing_support::FreePort;
using testing_support::NewRequestId;
using testing_support::RunTool;
using testing_support::ServiceProcess;
using testing_support::TestDatabase;
namespace billing = estate::billing::v1;
namespace tickets = estate::tickets::v1;

constexpr int kWritersPerService = 4;
constexpr char kSite[] = "sites/crash";

// One write the load made: what it asked and what it was first told.
struct Write {
  bool payment = false;
  std::string request_id;
  std::string account;  // payments
  int64_t amount = 0;   // payments
  grpc::StatusCode first = grpc::StatusCode::OK;
  std::string name;  // the resource the OK answer named
};

class CrashUnderLoadTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = absl::StrCat(ESTATE_BUILD_DIR, "/test-crash-db-", getpid());
    port_ = FreePort();
    ASSERT_EQ(Db("start"), 0);
    db_ = std::make_unique<TestDatabase>(port_);
    tickets_db_ = db_->FreshSchema("crash_tickets");
    billing_db_ = db_->FreshSchema("crash_billing");
    tickets_ = std::make_unique<ServiceProcess>("tickets", tickets_db_,
                                                dir_ + "/tickets.log");
    billing_ = std::make_unique<ServiceProcess>("billing", billing_db_,
                                                dir_ + "/billing.log");
    ASSERT_TRUE(tickets_->started() && billing_->started());
    ASSERT_TRUE(tickets_->AwaitServing(absl::Seconds(20))) << "see " << dir_ << "/tickets.log";
    ASSERT_TRUE(billing_->AwaitServing(absl::Seconds(20))) << "see " << dir_ << "/billing.log";
    tickets_stub_ = tickets::TicketService::NewStub(tickets_->channel());
    billing_stub_ = billing::BillingService::NewStub(billing_->channel());
    for (int w = 0; w < kWritersPerService; ++w) {
      billing::CreateAccountRequest req;
      req.set_parent(kSite);
      req.set_account_id(absl::StrCat("7-1-", 100 + w));
      req.set_request_id(NewRequestId());
      req.mutable_account()->set_building("7");
      req.mutable_account()->set_payer_name("Owner");
      req.mutable_account()->set_payer_kind(billing::OWNER);
      req.mutable_account()->set_billable_area("88.50");
      req.mutable_account()->set_fee_start("2026-01-01");
      billing::Account out;
      const grpc::Status s = billing_stub_->CreateAccount(Context().get(), req, &out);
      ASSERT_TRUE(s.ok()) << s.error_message();
      accounts_.push_back(out.name());
    }
  }
  void TearDown() override {
    tickets_.reset();
    billing_.reset();
    db_.reset();
    Db("stop");
    if (!HasFailure()) RunTool("rm -rf '" + dir_ + "'");
  }
  int Db(const std::string& cmd) {
    return RunTool(absl::StrCat(testing_support::ToolsDir(), "/db ", cmd, " '", dir_, "' ", port_,
                                " >/dev/null 2>&1"));
  }

  // Sends `w` (again, with its own request_id); the status and, if OK, the
  // name of the resource in the answer.
  grpc::Status Send(const Write& w, std::string* name) {
    if (w.payment) {
      billing::RecordPaymentRequest req;
      req.set_parent(kSite);
      req.set_request_id(w.request_id);
      billing::Payment* p = req.mutable_payment();
      p->set_account(w.account);
      p->set_method(billing::WECHAT);
      p->set_reference("wx-" + w.request_id);
      p->set_amount_minor(w.amount);
      p->set_currency_code("CNY");
      billing::Payment out;
      const grpc::Status s =
          billing_stub_->RecordPayment(Context("user:cashier", absl::Seconds(5)).get(), req, &out);
      *name = out.name();
      return s;
    }
    tickets::CreateTicketRequest req;
    req.set_parent(kSite);
    req.set_request_id(w.request_id);
    req.mutable_ticket()->set_kind(tickets::REPAIR);
    req.mutable_ticket()->set_channel(tickets::PHONE);
    req.mutable_ticket()->set_title("Water in the lift pit " + w.request_id);
    tickets::Ticket out;
    const grpc::Status s =
        tickets_stub_->CreateTicket(Context("user:desk", absl::Seconds(5)).get(), req, &out);
    *name = out.name();
    return s;
  }

  // Runs 2 x kWritersPerService writers (payments and tickets) until `stop`,
  // each write recorded in `writes` (under `mu`) with `on_ok` called, under
  // `mu`, for each one answered OK.
  std::vector<std::thread> StartWriters(std::atomic<bool>& stop, absl::Mutex& mu,
                                        std::vector<Write>& writes,
                                        std::function<void(Write&)> on_ok) {
    std::vector<std::thread> writers;
    for (int i = 0; i < 2 * kWritersPerService; ++i) {
      writers.emplace_back([&, i, on_ok] {
        int64_t amount = 100 + i;
        while (!stop.load()) {
          Write w;
          w.payment = i % 2 == 1;
          w.request_id = NewRequestId();
          w.account = accounts_[(i / 2) % accounts_.size()];
          w.amount = amount++;
          ++in_flight_;
          const grpc::Status s = Send(w, &w.name);
          --in_flight_;
          w.first = s.error_code();
          {
            absl::MutexLock lock(&mu);
            if (s.ok()) on_ok(w);
            writes.push_back(std::move(w));
          }
          // A client backs off a little after a failure, as the README asks.
          if (!s.ok()) absl::SleepFor(absl::Milliseconds(20));
        }
      });
    }
    return writers;
  }

  // The account's balance as billing answers it (the test fails if it
  // does not).
  int64_t Balance(const std::string& account) {
    billing::GetAccountRequest req;
    req.set_name(account);
    billing::Account out;
    const grpc::Status s = billing_stub_->GetAccount(Context().get(), req, &out);
    EXPECT_TRUE(s.ok()) << account << ": " << s.error_message();
    return out.balance_minor();
  }

  // Rows holding `w` in its service's own table, read behind its back (on
  // `db`, the test's server unless given).
  int64_t Copies(const Write& w, TestDatabase* db = nullptr) {
    if (db == nullptr) db = db_.get();
    if (w.payment) {
      return AdminScalar(*db,
                         "SELECT COUNT(*) FROM `" + billing_db_.schema + "`.payments WHERE reference = ?",
                         {"wx-" + w.request_id});
    }
    return AdminScalar(*db, "SELECT COUNT(*) FROM `" + tickets_db_.schema + "`.tickets WHERE title = ?",
                       {"Water in the lift pit " + w.request_id});
  }

  std::string dir_;
  int port_ = 0;
  std::unique_ptr<TestDatabase> db_;
  kit::DbOptions tickets_db_, billing_db_;
  std::unique_ptr<ServiceProcess> tickets_, billing_;
  std::unique_ptr<tickets::TicketService::Stub> tickets_stub_;
  std::unique_ptr<billing::BillingService::Stub> billing_stub_;
  std::vector<std::string> accounts_;
  std::atomic<int> in_flight_{0};
};

TEST_F(CrashUnderLoadTest, NoAcknowledgedWriteIsLostOrDoubled) {
  absl::Mutex mu;
  std::vector<Write> writes;  // guarded by mu
  int ok_since_restart = 0;   // guarded by mu
  bool restarted = false;     // guarded by mu
  std::atomic<bool> stop{false};
  std::vector<std::thread> writers =
      StartWriters(stop, mu, writes, [&](Write&) ABSL_NO_THREAD_SAFETY_ANALYSIS {
        if (restarted) ++ok_since_restart;
      });
  const auto acknowledged = [&] {
    absl::MutexLock lock(&mu);
    int n = 0;
    for (const Write& w : writes) n += w.first == grpc::StatusCode::OK;
    return n;
  };
  // Load first, then the crash in the middle of it.
  const absl::Time warm_until = absl::Now() + absl::Seconds(20);
  while (acknowledged() < 150 && absl::Now() < warm_until) absl::SleepFor(absl::Milliseconds(10));
  const int at_kill = in_flight_.load();
  ASSERT_EQ(Db("kill"), 0);
  ASSERT_EQ(Db("start"), 0);
  {
    absl::MutexLock lock(&mu);
    restarted = true;
  }
  // The load goes on until both services write again.
  const auto recovered = [&]() ABSL_SHARED_LOCKS_REQUIRED(mu) { return ok_since_restart >= 40; };
  {
    absl::MutexLock lock(&mu);
    mu.AwaitWithTimeout(absl::Condition(&recovered), absl::Seconds(30));
  }
  stop = true;
  for (auto& t : writers) t.join();

  int ok_first = 0, failed_first = 0;
  std::map<grpc::StatusCode, int> failures;
  for (Write& w : writes) {
    if (w.first == grpc::StatusCode::OK) {
      ++ok_first;
      // A resend answers with the same resource: the claim survived too.
      std::string again;
      const grpc::Status s = Send(w, &again);
      EXPECT_TRUE(s.ok()) << s.error_message();
      EXPECT_EQ(again, w.name) << "a resend of an acknowledged write acted again";
    } else {
      ++failed_first;
      ++failures[w.first];
      // The client's side of "outcome unknown": resend until it is known.
      grpc::Status s;
      for (int attempt = 0; attempt < 50; ++attempt) {
        s = Send(w, &w.name);
        if (s.error_code() != grpc::StatusCode::UNAVAILABLE &&
            s.error_code() != grpc::StatusCode::DEADLINE_EXCEEDED) {
          break;
        }
        absl::SleepFor(absl::Milliseconds(100));
      }
      EXPECT_TRUE(s.ok()) << "a resend with the same request_id failed: " << s.error_message();
    }
    EXPECT_EQ(Copies(w), 1) << (w.payment ? "payment " : "ticket ") << w.request_id
                            << " first answered " << static_cast<int>(w.first) << " " << w.name;
  }
  // Nothing else crept in, and each balance is its payments, exactly.
  int64_t ticket_writes = 0;
  std::map<std::string, int64_t> paid;
  for (const Write& w : writes) {
    if (w.payment) paid[w.account] += w.amount; else ++ticket_writes;
  }
  EXPECT_EQ(AdminScalar(*db_, "SELECT COUNT(*) FROM `" + tickets_db_.schema + "`.tickets"),
            ticket_writes);
  for (const std::string& account : accounts_) {
    EXPECT_EQ(Balance(account), -paid[account]) << account;
  }
  std::string failed_codes;
  for (const auto& [code, n] : failures) absl::StrAppend(&failed_codes, " code ", code, ": ", n);
  printf("crash under load: %zu writes, %d in flight at the kill, %d acknowledged at once, "
         "%d failed first (%s) and were resent\n",
         writes.size(), at_kill, ok_first, failed_first, failed_codes.c_str());
  EXPECT_GT(failed_first, 0) << "the kill hit no write: the test proved nothing";
}

TEST_F(CrashUnderLoadTest, BackupTakenUnderLoadRestoresEveryAcknowledgedWrite) {
  absl::Mutex mu;
  std::vector<Write> writes;  // guarded by mu
  int acknowledged = 0;       // guarded by mu
  std::atomic<bool> stop{false};
  std::vector<std::thread> writers = StartWriters(
      stop, mu, writes, [&](Write&) ABSL_NO_THREAD_SAFETY_ANALYSIS { ++acknowledged; });
  int target = 100;  // guarded by mu
  const auto enough = [&]() ABSL_SHARED_LOCKS_REQUIRED(mu) { return acknowledged >= target; };
  {
    absl::MutexLock lock(&mu);
    mu.AwaitWithTimeout(absl::Condition(&enough), absl::Seconds(20));
  }
  // Every write answered before this moment must be in the backup.
  size_t acknowledged_before = 0;
  {
    absl::MutexLock lock(&mu);
    acknowledged_before = writes.size();
  }
  const std::string backup = dir_ + "/backup";
  ASSERT_EQ(RunTool(absl::StrCat(testing_support::ToolsDir(), "/backup '", dir_, "' '", backup,
                                 "' >/dev/null 2>&1")),
            0);
  // The load goes on a little after the snapshot, then stops.
  {
    absl::MutexLock lock(&mu);
    target = acknowledged + 50;
    mu.AwaitWithTimeout(absl::Condition(&enough), absl::Seconds(20));
  }
  stop = true;
  for (auto& t : writers) t.join();

  // A new server from the backup, the services started on it as tools/up
  // would start them.
  const std::string restored_dir = dir_ + "/restored";
  const int restored_port = FreePort();
  ASSERT_EQ(RunTool(absl::StrCat(testing_support::ToolsDir(), "/restore '", backup, "' '",
                                 restored_dir, "' ", restored_port, " >/dev/null 2>&1")),
            0);
  TestDatabase restored(restored_port);
  kit::DbOptions tickets_db = tickets_db_, billing_db = billing_db_;
  tickets_db.port = billing_db.port = restored_port;
  tickets_ = std::make_unique<ServiceProcess>("tickets", tickets_db, dir_ + "/tickets2.log");
  billing_ = std::make_unique<ServiceProcess>("billing", billing_db, dir_ + "/billing2.log");
  ASSERT_TRUE(tickets_->AwaitServing(absl::Seconds(20))) << "see " << dir_ << "/tickets2.log";
  ASSERT_TRUE(billing_->AwaitServing(absl::Seconds(20))) << "see " << dir_ << "/billing2.log";
  tickets_stub_ = tickets::TicketService::NewStub(tickets_->channel());
  billing_stub_ = billing::BillingService::NewStub(billing_->channel());

  int checked = 0;
  for (size_t i = 0; i < writes.size(); ++i) {
    const Write& w = writes[i];
    const int64_t copies = Copies(w, &restored);
    EXPECT_LE(copies, 1) << w.request_id << " restored twice";
    if (i >= acknowledged_before || w.first != grpc::StatusCode::OK) continue;
    ++checked;
    EXPECT_EQ(copies, 1) << (w.payment ? "payment " : "ticket ") << w.request_id
                         << " acknowledged before the backup is not in it";
    // Its claim came back too: a resend answers with the same resource.
    std::string again;
    const grpc::Status s = Send(w, &again);
    EXPECT_TRUE(s.ok()) << s.error_message();
    EXPECT_EQ(again, w.name);
  }
  // The books of the restored billing add up: each balance is its ledger and
  // exactly minus the payments the backup holds.
  for (const std::string& account : accounts_) {
    const int64_t balance = Balance(account);
    const std::string unit = account.substr(account.rfind('/') + 1);
    const std::string schema = "`" + billing_db_.schema + "`";
    EXPECT_EQ(balance, AdminScalar(restored,
                                   "SELECT COALESCE(SUM(l.amount_minor), 0) FROM " + schema +
                                       ".ledger l JOIN " + schema +
                                       ".accounts a ON a.id = l.account_id WHERE a.unit = ?",
                                   {unit}))
        << account;
    EXPECT_EQ(-balance, AdminScalar(restored,
                                    "SELECT COALESCE(SUM(p.amount_minor), 0) FROM " + schema +
                                        ".payments p JOIN " + schema +
                                        ".accounts a ON a.id = p.account_id WHERE a.unit = ?",
                                    {unit}))
        << account;
  }
  printf("backup drill: %zu writes, %d acknowledged before the backup and all restored\n",
         writes.size(), checked);
  EXPECT_GT(checked, 50);
  tickets_.reset();
  billing_.reset();
  RunTool(absl::StrCat(testing_support::ToolsDir(), "/db stop '", restored_dir, "' >/dev/null 2>&1"));
}

}  // namespace
