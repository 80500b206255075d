// Two tickets replicas on one database, as production runs them: what one
// replica commits, the other applies to the very next call.
#include "tests/tickets/tickets_fixture.h"

namespace tickets {
namespace {

class TicketsReplicasTest : public TicketsTest {
 protected:
  static void SetUpTestSuite() {
    TicketsTest::SetUpTestSuite();
    TicketsService* first = service_;
    replica_ = testing_support::InProcessService::Start(
                   "tickets", *db_options_, estate_tickets_migrations(),
                   [](kit::ServiceHost& host) {
                     RegisterTickets(host, *clock_, absl::Hours(1000));
                   })
                   .release();
    service_ = first;
    ASSERT_NE(replica_, nullptr);
    replica_stub_ = v1::TicketService::NewStub(replica_->channel()).release();
  }
  static void TearDownTestSuite() {
    delete replica_stub_;
    delete replica_;
    TicketsTest::TearDownTestSuite();
  }
  v1::TicketService::Stub& replica() { return *replica_stub_; }

  static testing_support::InProcessService* replica_;
  static v1::TicketService::Stub* replica_stub_;
};

testing_support::InProcessService* TicketsReplicasTest::replica_ = nullptr;
v1::TicketService::Stub* TicketsReplicasTest::replica_stub_ = nullptr;

v1::Ticket CreateOn(v1::TicketService::Stub& stub, const std::string& site) {
  v1::CreateTicketRequest req;
  req.set_parent("sites/" + site);
  req.set_request_id(NewRequestId());
  req.mutable_ticket()->set_kind(v1::REPAIR);
  req.mutable_ticket()->set_channel(v1::PHONE);
  req.mutable_ticket()->set_title("Water leaking from the ceiling");
  req.mutable_ticket()->set_unit("3-1201");
  req.mutable_ticket()->set_priority(v1::URGENT);
  v1::Ticket out;
  const grpc::Status s = stub.CreateTicket(Context().get(), req, &out);
  EXPECT_TRUE(s.ok()) << s.error_message();
  return out;
}

absl::Duration ResponseWindow(const v1::Ticket& t) {
  return absl::Seconds(t.response_due_time().seconds() - t.create_time().seconds());
}

TEST_F(TicketsReplicasTest, APolicyChangedOnOneReplicaAppliesToTheNextTicketOnTheOther) {
  const std::string site = NewSite();
  // The other replica has served this site already, under the default policy.
  const absl::Duration before = ResponseWindow(CreateOn(replica(), site));

  v1::SlaPolicy policy;
  v1::GetSlaPolicyRequest gp;
  gp.set_name("sites/" + site + "/slaPolicy");
  ASSERT_TRUE(stub().GetSlaPolicy(Context().get(), gp, &policy).ok());
  v1::UpdateSlaPolicyRequest up;
  *up.mutable_policy() = policy;
  up.mutable_policy()->clear_targets();
  v1::SlaTarget* urgent = up.mutable_policy()->add_targets();
  urgent->set_priority(v1::URGENT);
  urgent->mutable_first_response()->set_seconds(60);
  urgent->mutable_resolution()->set_seconds(3600);
  up.set_request_id(NewRequestId());
  ASSERT_TRUE(stub().UpdateSlaPolicy(Context().get(), up, &policy).ok());

  ASSERT_NE(before, absl::Seconds(60)) << "the default must differ for this test to mean anything";
  // No wait: the change is committed, so the next ticket on either replica has it.
  EXPECT_EQ(ResponseWindow(CreateOn(replica(), site)), absl::Seconds(60));
  EXPECT_EQ(ResponseWindow(CreateOn(stub(), site)), absl::Seconds(60));
}

}  // namespace
}  // namespace tickets
