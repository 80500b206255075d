#ifndef ESTATE_TESTS_CLEANING_CLEANING_FIXTURE_H_
#define ESTATE_TESTS_CLEANING_CLEANING_FIXTURE_H_

#include <memory>
#include <string>
#include <vector>

#include "estate/cleaning/v1/cleaning.grpc.pb.h"
#include "gtest/gtest.h"
#include "services/cleaning/cleaning_service.h"
#include "services/kit/clock.h"
#include "tests/support/in_process.h"
#include "tests/support/recount.h"
#include "tests/support/test_db.h"

std::vector<kit::Migration> estate_cleaning_migrations();

namespace cleaning {

using testing_support::NewRequestId;

// 2026-{month}-{day} {hour}:{minute} in Asia/Shanghai (UTC+8, no DST), the
// time zone every test site is set to.
absl::Time Local(int month, int day, int hour, int minute = 0);

// One cleaning service per test suite on a fresh schema, with a fake clock
// (every test starts at 2026-03-02 09:00 Shanghai time). Rectification
// tickets go to a tickets service on a port of its own that a test may stop
// and start; the outbox relay polls and probes tickets' health every 100 ms
// (real time), so a returning tickets gets its backlog at once.
class CleaningTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite();
  static void TearDownTestSuite();
  void TearDown() override { clock_->Set(Local(3, 2, 9)); }

  static void StartTickets();
  static void StopTickets();

  // A new site in Asia/Shanghai with a store, a team, a zone and an item.
  struct Site {
    std::string name;  // sites/{id}
    std::string id;
    v1::Warehouse store;
    v1::Team team;
    v1::Zone zone;
    v1::Item item;
  };
  static Site NewSite();
  static v1::Item NewItem(const Site& s, const std::string& sku, int64_t reorder_point = 0);
  static v1::Warehouse NewWarehouse(const Site& s, const std::string& name);
  static v1::StockMove Receive(const Site& s, const v1::Warehouse& w, const v1::Item& item,
                               int64_t quantity, int64_t unit_cost);
  // A slip of one line, created and signed by three different people; the
  // slip as the manager signature left it.
  static v1::IssueSlip SignedSlip(const Site& s, const v1::Item& item, int64_t quantity);

  // As the gateway forwards a call of `caller` with `roles`.
  static std::unique_ptr<grpc::ClientContext> As(const std::string& caller,
                                                 const std::string& roles = "staff");
  static std::unique_ptr<grpc::ClientContext> Context() { return As("user:clerk"); }

  static kit::FakeClock* clock_;
  static kit::DbOptions* db_;
  static testing_support::InProcessService* server_;
  static testing_support::InProcessService* tickets_;
  static int tickets_port_;
  static std::shared_ptr<grpc::Channel> tickets_channel_;
  static v1::CleaningService::Stub* stub_;
  static CleaningService* service_;
  static testing_support::Recount* sql_;
};

}  // namespace cleaning

#endif  // ESTATE_TESTS_CLEANING_CLEANING_FIXTURE_H_
