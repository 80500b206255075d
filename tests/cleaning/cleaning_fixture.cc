#include "tests/cleaning/cleaning_fixture.h"

#include "absl/strings/str_cat.h"
#include "grpcpp/create_channel.h"
#include "services/kit/rpc_context.h"
#include "services/tickets/tickets_service.h"

std::vector<kit::Migration> estate_tickets_migrations();

namespace cleaning {

absl::Time Local(int month, int day, int hour, int minute) {
  absl::TimeZone shanghai;
  EXPECT_TRUE(absl::LoadTimeZone("Asia/Shanghai", &shanghai));
  return absl::FromCivil(absl::CivilSecond(2026, month, day, hour, minute, 0), shanghai);
}

kit::FakeClock* CleaningTest::clock_;
kit::DbOptions* CleaningTest::db_;
testing_support::InProcessService* CleaningTest::server_;
testing_support::InProcessService* CleaningTest::tickets_;
int CleaningTest::tickets_port_;
std::shared_ptr<grpc::Channel> CleaningTest::tickets_channel_;
v1::CleaningService::Stub* CleaningTest::stub_;
CleaningService* CleaningTest::service_;
testing_support::Recount* CleaningTest::sql_;

void CleaningTest::SetUpTestSuite() {
  clock_ = new kit::FakeClock(Local(3, 2, 9));
  db_ = new kit::DbOptions(testing_support::TestDatabase::Shared().FreshSchema("cleaning"));
  tickets_port_ = testing_support::FreePort();
  grpc::ChannelArguments args;
  // Reconnect promptly once tickets is back (gRPC's default backs off for
  // up to two minutes).
  args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 100);
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 300);
  tickets_channel_ = grpc::CreateCustomChannel(absl::StrCat("127.0.0.1:", tickets_port_),
                                               grpc::InsecureChannelCredentials(), args);
  StartTickets();
  server_ = testing_support::InProcessService::Start(
                "cleaning", *db_, estate_cleaning_migrations(),
                [](kit::ServiceHost& host) {
                  CleaningOptions options;
                  options.tickets = tickets_channel_;
                  options.job_interval = absl::Hours(1000);
                  options.relay_interval = absl::Milliseconds(100);
                  service_ = RegisterCleaning(host, *clock_, options);
                })
                .release();
  ASSERT_NE(server_, nullptr);
  stub_ = v1::CleaningService::NewStub(server_->channel()).release();
  sql_ = new testing_support::Recount(*db_);
}

void CleaningTest::TearDownTestSuite() {
  delete sql_;
  delete stub_;
  delete server_;
  StopTickets();
  tickets_channel_.reset();
  delete db_;
  delete clock_;
}

void CleaningTest::StartTickets() {
  tickets_ = testing_support::InProcessService::Start(
                 "tickets", testing_support::TestDatabase::Shared().FreshSchema("tickets"),
                 estate_tickets_migrations(),
                 [](kit::ServiceHost& host) {
                   tickets::RegisterTickets(host, kit::RealClock(), absl::Hours(1000));
                 },
                 absl::Seconds(1), absl::StrCat("127.0.0.1:", tickets_port_))
                 .release();
  ASSERT_NE(tickets_, nullptr);
}

void CleaningTest::StopTickets() {
  delete tickets_;
  tickets_ = nullptr;
}

std::unique_ptr<grpc::ClientContext> CleaningTest::As(const std::string& caller,
                                                      const std::string& roles) {
  return testing_support::Context(caller, absl::Seconds(10), roles);
}

CleaningTest::Site CleaningTest::NewSite() {
  static int n = 0;
  Site s;
  s.id = absl::StrCat("tower-", ++n);
  s.name = "sites/" + s.id;
  v1::UpdateCleaningSettingsRequest settings;
  settings.mutable_settings()->set_name(s.name + "/cleaningSettings");
  settings.mutable_settings()->set_etag("\"0\"");
  settings.mutable_settings()->set_time_zone("Asia/Shanghai");
  settings.mutable_update_mask()->add_paths("time_zone");
  settings.set_request_id(NewRequestId());
  v1::CleaningSettings set;
  grpc::Status st = stub_->UpdateCleaningSettings(As("user:boss", "manager").get(), settings, &set);
  EXPECT_TRUE(st.ok()) << st.error_message();

  v1::CreateTeamRequest team;
  team.set_parent(s.name);
  team.set_request_id(NewRequestId());
  team.mutable_team()->set_display_name("Team A");
  team.mutable_team()->set_monitor("Monitor Wu");
  team.mutable_team()->add_members("Li");
  team.mutable_team()->add_members("Chen");
  st = stub_->CreateTeam(Context().get(), team, &s.team);
  EXPECT_TRUE(st.ok()) << st.error_message();

  v1::CreateZoneRequest zone;
  zone.set_parent(s.name);
  zone.set_request_id(NewRequestId());
  zone.mutable_zone()->set_display_name("Lobby, building 4");
  zone.mutable_zone()->set_building("4");
  zone.mutable_zone()->set_team(s.team.name());
  auto* standard = zone.mutable_zone()->mutable_standard();
  standard->set_pass_score(80);
  for (const auto& [code, weight] : std::vector<std::pair<std::string, int>>{
           {"floor", 50}, {"glass", 30}, {"bins", 20}}) {
    v1::StandardItem* item = standard->add_items();
    item->set_code(code);
    item->set_weight(weight);
  }
  st = stub_->CreateZone(Context().get(), zone, &s.zone);
  EXPECT_TRUE(st.ok()) << st.error_message();
  s.store = NewWarehouse(s, "Main store");
  s.item = NewItem(s, "MOP-HEAD", 5);
  return s;
}

v1::Item CleaningTest::NewItem(const Site& s, const std::string& sku, int64_t reorder_point) {
  v1::CreateItemRequest req;
  req.set_parent(s.name);
  req.set_request_id(NewRequestId());
  req.mutable_item()->set_sku(sku);
  req.mutable_item()->set_display_name(sku);
  req.mutable_item()->set_unit_of_measure("piece");
  req.mutable_item()->set_reorder_point(reorder_point);
  v1::Item out;
  const grpc::Status st = stub_->CreateItem(Context().get(), req, &out);
  EXPECT_TRUE(st.ok()) << st.error_message();
  return out;
}

v1::Warehouse CleaningTest::NewWarehouse(const Site& s, const std::string& name) {
  v1::CreateWarehouseRequest req;
  req.set_parent(s.name);
  req.set_request_id(NewRequestId());
  req.mutable_warehouse()->set_display_name(name);
  req.mutable_warehouse()->set_kind(v1::STORE);
  v1::Warehouse out;
  const grpc::Status st = stub_->CreateWarehouse(Context().get(), req, &out);
  EXPECT_TRUE(st.ok()) << st.error_message();
  return out;
}

v1::StockMove CleaningTest::Receive(const Site& s, const v1::Warehouse& w, const v1::Item& item,
                                    int64_t quantity, int64_t unit_cost) {
  v1::ReceiveStockRequest req;
  req.set_parent(s.name);
  req.set_warehouse(w.name());
  req.set_item(item.name());
  req.set_quantity(quantity);
  req.set_unit_cost_minor(unit_cost);
  req.set_supplier("Harbin Supplies Co.");
  req.set_request_id(NewRequestId());
  v1::StockMove out;
  const grpc::Status st = stub_->ReceiveStock(Context().get(), req, &out);
  EXPECT_TRUE(st.ok()) << st.error_message();
  return out;
}

v1::IssueSlip CleaningTest::SignedSlip(const Site& s, const v1::Item& item, int64_t quantity) {
  v1::CreateIssueSlipRequest req;
  req.set_parent(s.name);
  req.set_request_id(NewRequestId());
  req.mutable_slip()->set_warehouse(s.store.name());
  req.mutable_slip()->set_team(s.team.name());
  req.mutable_slip()->set_zone(s.zone.name());
  req.mutable_slip()->set_purpose("weekly lobby supplies");
  v1::SlipLine* line = req.mutable_slip()->add_lines();
  line->set_item(item.name());
  line->set_quantity(quantity);
  v1::IssueSlip slip;
  grpc::Status st = stub_->CreateIssueSlip(Context().get(), req, &slip);
  EXPECT_TRUE(st.ok()) << st.error_message();
  const std::vector<std::tuple<v1::SignatureRole, std::string, std::string>> signers = {
      {v1::RECIPIENT, "user:cleaner-li", "staff"},
      {v1::MONITOR, "user:monitor-wu", "staff"},
      {v1::MANAGER, "user:manager-zhao", "manager"}};
  for (const auto& [role, who, roles] : signers) {
    v1::SignIssueSlipRequest sign;
    sign.set_name(slip.name());
    sign.set_role(role);
    sign.set_request_id(NewRequestId());
    st = stub_->SignIssueSlip(As(who, roles).get(), sign, &slip);
    EXPECT_TRUE(st.ok()) << st.error_message();
  }
  return slip;
}

}  // namespace cleaning
