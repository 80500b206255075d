// Hostile and malformed input: every case is INVALID_ARGUMENT naming the field,
// nothing is written, and the service keeps answering.
#include <functional>

#include "tests/tickets/tickets_fixture.h"

namespace tickets {
namespace {

class TicketsInputTest : public TicketsTest {
 protected:
  int64_t Written() {
    return Sql("SELECT (SELECT COUNT(*) FROM tickets) + (SELECT COUNT(*) FROM ticket_events) +"
               " (SELECT COUNT(*) FROM idempotency_keys) + (SELECT COUNT(*) FROM return_visits)");
  }
  static v1::CreateTicketRequest Valid() {
    v1::CreateTicketRequest req;
    req.set_parent("sites/area-a");
    req.set_request_id(NewRequestId());
    req.mutable_ticket()->set_kind(v1::COMPLAINT);
    req.mutable_ticket()->set_channel(v1::PHONE);
    req.mutable_ticket()->set_title("Noise from renovation after 22:00");
    return req;
  }
};

struct BadCreate {
  const char* what;
  std::function<void(v1::CreateTicketRequest&)> spoil;
  const char* field;  // the message must start with "<field>:"
};

TEST_F(TicketsInputTest, BadCreatesAreRefusedNamingTheFieldAndWriteNothing) {
  const std::vector<BadCreate> cases = {
      {"empty title", [](auto& r) { r.mutable_ticket()->set_title(""); }, "ticket.title"},
      {"blank title", [](auto& r) { r.mutable_ticket()->set_title(" \t "); }, "ticket.title"},
      {"1 MiB description",
       [](auto& r) { r.mutable_ticket()->set_description(std::string(1 << 20, 'x')); },
       "ticket.description"},
      {"control character", [](auto& r) { r.mutable_ticket()->set_title("a\x01" "b"); },
       "ticket.title"},
      {"unknown kind", [](auto& r) { r.mutable_ticket()->set_kind(static_cast<v1::TicketKind>(42)); },
       "ticket.kind"},
      {"no kind", [](auto& r) { r.mutable_ticket()->clear_kind(); }, "ticket.kind"},
      {"unknown channel",
       [](auto& r) { r.mutable_ticket()->set_channel(static_cast<v1::Channel>(-3)); },
       "ticket.channel"},
      {"unknown priority",
       [](auto& r) { r.mutable_ticket()->set_priority(static_cast<v1::Priority>(9)); },
       "ticket.priority"},
      {"sql in the unit",
       [](auto& r) { r.mutable_ticket()->set_unit("5-506'; DROP TABLE tickets; --"); },
       "ticket.unit"},
      {"letters in the phone", [](auto& r) { r.mutable_ticket()->set_reporter_phone("call me"); },
       "ticket.reporter_phone"},
      {"bad attachment hash",
       [](auto& r) {
         auto* a = r.mutable_ticket()->add_attachments();
         a->set_uri("https://files.example/a.jpg");
         a->set_sha256("nothex");
       },
       "ticket.attachments[0].sha256"},
      {"file uri attachment",
       [](auto& r) {
         auto* a = r.mutable_ticket()->add_attachments();
         a->set_uri("file:///etc/passwd");
         a->set_sha256(std::string(64, 'a'));
       },
       "ticket.attachments[0].uri"},
      {"path traversal link",
       [](auto& r) { r.mutable_ticket()->add_links("sites/a/../../etc/passwd"); },
       "ticket.links[0]"},
      {"no request id", [](auto& r) { r.clear_request_id(); }, "request_id"},
      {"request id not a uuid", [](auto& r) { r.set_request_id("' OR 1=1 --"); }, "request_id"},
      {"malformed parent", [](auto& r) { r.set_parent("sites/Area A"); }, "parent"},
      {"parent with a quote", [](auto& r) { r.set_parent("sites/a'b"); }, "parent"},
      {"no parent", [](auto& r) { r.clear_parent(); }, "parent"},
      {"no ticket", [](auto& r) { r.clear_ticket(); }, "ticket"},
  };
  const int64_t before = Written();
  for (const BadCreate& c : cases) {
    v1::CreateTicketRequest req = Valid();
    c.spoil(req);
    v1::Ticket out;
    const grpc::Status s = stub().CreateTicket(Context().get(), req, &out);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << c.what;
    EXPECT_TRUE(absl::StartsWith(s.error_message(), std::string(c.field) + ":"))
        << c.what << ": " << s.error_message();
  }
  EXPECT_EQ(Written(), before);
  // Still serving, and the valid request works.
  v1::Ticket out;
  EXPECT_TRUE(stub().CreateTicket(Context().get(), Valid(), &out).ok());
}

TEST_F(TicketsInputTest, QuotesAndSqlMetaCharactersAreStoredAsText) {
  v1::CreateTicketRequest req = Valid();
  const std::string nasty = "Robert'); DROP TABLE tickets;-- \\ % _ \" `";
  req.mutable_ticket()->set_title(nasty);
  req.mutable_ticket()->set_description(nasty);
  v1::Ticket out, got;
  ASSERT_TRUE(stub().CreateTicket(Context().get(), req, &out).ok());
  ASSERT_TRUE(Get(out.name(), &got).ok());
  EXPECT_EQ(got.title(), nasty);
  EXPECT_EQ(got.description(), nasty);
}

TEST_F(TicketsInputTest, InvalidUtf8IsRefused) {
  // A peer that does not check UTF-8 itself (a hand-made frame): the request
  // cannot be parsed as this API's message.
  v1::CreateTicketRequest req = Valid();
  req.mutable_ticket()->set_title(std::string("bad \xC3\x28 utf8"));
  v1::Ticket out;
  const grpc::Status s = stub().CreateTicket(Context().get(), req, &out);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << s.error_message();
  EXPECT_TRUE(absl::StartsWith(s.error_message(), "request:")) << s.error_message();
  EXPECT_EQ(Sql("SELECT COUNT(*) FROM tickets WHERE title LIKE 'bad %'"), 0);
}

TEST_F(TicketsInputTest, BadListRequests) {
  struct Case {
    std::function<void(v1::ListTicketsRequest&)> spoil;
    const char* field;
  };
  const std::string site = NewSite();
  Create(site);
  Create(site);
  v1::ListTicketsRequest base;
  base.set_parent("sites/" + site);
  base.set_page_size(1);
  v1::ListTicketsResponse first;
  ASSERT_TRUE(stub().ListTickets(Context().get(), base, &first).ok());
  const std::string token = first.next_page_token();
  const std::vector<Case> cases = {
      {[](auto& r) { r.set_page_size(-1); }, "page_size"},
      {[](auto& r) { r.set_page_token("forged-token"); }, "page_token"},
      {[&](auto& r) {
         r.set_page_token(token);
         r.set_kind(v1::REPAIR);  // the token belongs to a query without this filter
       },
       "page_token"},
      {[](auto& r) { r.set_status(static_cast<v1::TicketStatus>(77)); }, "status"},
      {[](auto& r) { r.set_parent("sites/"); }, "parent"},
      {[](auto& r) { r.mutable_created_after()->set_seconds(-99999999999999); }, "created_after"},
      {[](auto& r) { r.set_unit("x' OR '1'='1"); }, "unit"},
  };
  ASSERT_FALSE(token.empty());
  for (const Case& c : cases) {
    v1::ListTicketsRequest r = base;
    c.spoil(r);
    v1::ListTicketsResponse resp;
    const grpc::Status s = stub().ListTickets(Context().get(), r, &resp);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << c.field;
    EXPECT_TRUE(absl::StartsWith(s.error_message(), std::string(c.field) + ":"))
        << s.error_message();
  }
}

TEST_F(TicketsInputTest, MalformedNamesOnEveryVerb) {
  v1::Ticket out;
  v1::GetTicketRequest g;
  for (const char* name : {"", "tickets/1", "sites/a/tickets/abc", "sites/a/tickets/1/x",
                           "sites/a/tickets/1;DELETE"}) {
    g.set_name(name);
    const grpc::Status s = stub().GetTicket(Context().get(), g, &out);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << name;
    EXPECT_TRUE(absl::StartsWith(s.error_message(), "name:")) << s.error_message();
  }
  v1::TransitionRequest t;
  t.set_name("sites/a/tickets/x");
  t.set_etag("\"1\"");
  t.set_request_id(NewRequestId());
  EXPECT_EQ(stub().StartTicket(Context().get(), t, &out).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
  t.set_name("sites/a/tickets/1");
  t.clear_etag();
  const grpc::Status s = stub().StartTicket(Context().get(), t, &out);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_TRUE(absl::StartsWith(s.error_message(), "etag:")) << s.error_message();
  v1::RecordReturnVisitRequest v;
  v.set_parent("sites/a/tickets/1");
  v.set_request_id(NewRequestId());
  v.mutable_return_visit()->set_channel(v1::PHONE);
  v.mutable_return_visit()->set_satisfaction(6);
  v1::ReturnVisit rv;
  const grpc::Status vs = stub().RecordReturnVisit(Context().get(), v, &rv);
  EXPECT_EQ(vs.error_message(), "return_visit.satisfaction: must be 1 to 5");
}

TEST_F(TicketsInputTest, BadStatsPeriods) {
  v1::GetTicketStatsRequest r;
  r.set_parent("sites/area-a");
  v1::TicketStats out;
  EXPECT_EQ(stub().GetTicketStats(Context().get(), r, &out).error_message(),
            "start_time: required");
  r.mutable_start_time()->set_seconds(2000);
  r.mutable_end_time()->set_seconds(1000);
  EXPECT_EQ(stub().GetTicketStats(Context().get(), r, &out).error_message(),
            "end_time: must be after start_time");
}

}  // namespace
}  // namespace tickets
