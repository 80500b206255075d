// /metrics: series exist from start-up, move with calls, and pass promtool.
#include <regex>

#include "tests/tickets/tickets_fixture.h"

namespace tickets {
namespace {

class TicketsMetricsTest : public TicketsTest {
 protected:
  std::string Scrape() { return testing_support::HttpGet(server_->metrics_port(), "/metrics"); }
  // The value of the one series whose line starts with `series` (name and
  // labels as exposed), or -1 if absent.
  static double Value(const std::string& text, const std::string& series) {
    size_t pos = 0;
    while ((pos = text.find(series, pos)) != std::string::npos) {
      if (pos == 0 || text[pos - 1] == '\n') {
        const size_t sp = text.find(' ', pos + series.size());
        return std::stod(text.substr(sp + 1, text.find('\n', sp) - sp - 1));
      }
      ++pos;
    }
    return -1;
  }
};

constexpr char kCreateOk[] =
    "grpc_server_handled_total{grpc_code=\"OK\",grpc_method=\"CreateTicket\","
    "grpc_service=\"estate.tickets.v1.TicketService\",grpc_type=\"unary\"}";
constexpr char kCreateInvalid[] =
    "grpc_server_handled_total{grpc_code=\"InvalidArgument\",grpc_method=\"CreateTicket\","
    "grpc_service=\"estate.tickets.v1.TicketService\",grpc_type=\"unary\"}";
constexpr char kReopenOk[] =
    "grpc_server_handled_total{grpc_code=\"OK\",grpc_method=\"ReopenTicket\","
    "grpc_service=\"estate.tickets.v1.TicketService\",grpc_type=\"unary\"}";
constexpr char kCreateStarted[] =
    "grpc_server_started_total{grpc_method=\"CreateTicket\","
    "grpc_service=\"estate.tickets.v1.TicketService\",grpc_type=\"unary\"}";
constexpr char kCreateLatencyCount[] =
    "grpc_server_handling_seconds_count{grpc_method=\"CreateTicket\","
    "grpc_service=\"estate.tickets.v1.TicketService\",grpc_type=\"unary\"}";

TEST_F(TicketsMetricsTest, EveryMethodHasItsSeriesAtZeroFromStartUp) {
  const std::string text = Scrape();
  ASSERT_FALSE(text.empty());
  EXPECT_EQ(Value(text, kReopenOk), 0);
  EXPECT_EQ(Value(text, kCreateInvalid), 0);
  EXPECT_EQ(Value(text,
                  "grpc_server_handling_seconds_bucket{grpc_method=\"GetTicketStats\","
                  "grpc_service=\"estate.tickets.v1.TicketService\",grpc_type=\"unary\","
                  "le=\"0.0001\"}"),
            0);
  EXPECT_NE(text.find("le=\"10\""), std::string::npos);
  EXPECT_NE(text.find("estate_db_pool_connections{state=\"idle\"}"), std::string::npos);
  EXPECT_NE(text.find("estate_db_query_duration_seconds_bucket"), std::string::npos);
}

TEST_F(TicketsMetricsTest, CountersMoveWithCalls) {
  const std::string before = Scrape();
  Create(NewSite());
  Create(NewSite());
  v1::CreateTicketRequest bad;
  v1::Ticket out;
  ASSERT_FALSE(stub().CreateTicket(Context().get(), bad, &out).ok());
  const std::string after = Scrape();
  EXPECT_EQ(Value(after, kCreateOk) - Value(before, kCreateOk), 2);
  EXPECT_EQ(Value(after, kCreateInvalid) - Value(before, kCreateInvalid), 1);
  EXPECT_EQ(Value(after, kCreateStarted) - Value(before, kCreateStarted), 3);
  EXPECT_EQ(Value(after, kCreateLatencyCount) - Value(before, kCreateLatencyCount), 3);
}

TEST_F(TicketsMetricsTest, BusinessGaugesAndBreachCounter) {
  const std::string site = NewSite();
  Create(site, v1::COMPLAINT);
  Create(site, v1::COMPLAINT);
  v1::Ticket repair = Create(site, v1::REPAIR);
  ASSERT_TRUE(Assign(&repair).ok());
  ASSERT_TRUE(Resolve(&repair).ok());
  ASSERT_TRUE(service().RefreshOpenGauges().ok());
  std::string text = Scrape();
  EXPECT_EQ(Value(text, "estate_tickets_open{kind=\"complaint\",site=\"" + site + "\"}"), 2);
  EXPECT_EQ(Value(text, "estate_tickets_open{kind=\"repair\",site=\"" + site + "\"}"), -1);
  EXPECT_EQ(Value(text, "estate_tickets_time_to_resolve_seconds_count{kind=\"repair\"}"), 1);
  clock().Advance(absl::Hours(5));  // past the 4 h response target
  ASSERT_TRUE(service().ScanBreaches().ok());
  text = Scrape();
  EXPECT_EQ(Value(text, "estate_tickets_sla_breached_total{kind=\"complaint\",site=\"" + site + "\"}"), 2);
}

TEST_F(TicketsMetricsTest, PromtoolFindsNothingToComplainAbout) {
  Create(NewSite());
  ASSERT_TRUE(service().RefreshOpenGauges().ok());
  int rc = -1;
  const std::string complaints = testing_support::PromtoolCheck(Scrape(), &rc);
  EXPECT_EQ(rc, 0) << complaints;
  EXPECT_EQ(complaints, "");
  // promtool itself works: it does complain about a broken exposition.
  testing_support::PromtoolCheck("# TYPE x counter\nx_total{a=\"b\"} 1\nx 2\n", &rc);
  EXPECT_NE(rc, 0);
}

}  // namespace
}  // namespace tickets
