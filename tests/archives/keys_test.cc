// The key cabinet against the real database: one holder at a time under
// contention, the custody chain, who could enter a unit, counts, bad input.
#include "absl/strings/str_cat.h"
#include "estate/archives/v1/archives.grpc.pb.h"
#include "gtest/gtest.h"
#include "services/archives/archives_service.h"
#include "services/archives/key.h"
#include "services/kit/proto_time.h"
#include "tests/archives/archives_fixture.h"
#include "tests/support/race.h"

namespace archives {
namespace {

TEST(KeyRules, OnlyAKeyInTheCabinetGoesOutAndNeverAMaster) {
  EXPECT_TRUE(CheckMove(v1::IN_CABINET, false, KeyMove::kCheckOut).ok());
  EXPECT_EQ(CheckMove(v1::IN_CABINET, true, KeyMove::kCheckOut).code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(CheckMove(v1::CHECKED_OUT, false, KeyMove::kCheckOut).code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(CheckMove(v1::WITH_OWNER, false, KeyMove::kCheckIn).code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(CheckMove(v1::CHECKED_OUT, false, KeyMove::kLose).ok());
  EXPECT_EQ(CheckMove(v1::IN_CABINET, false, KeyMove::kFind).code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(IsOverdue(v1::CHECKED_OUT, At(3, 1, 9), At(3, 1, 10)));
  EXPECT_FALSE(IsOverdue(v1::CHECKED_OUT, std::nullopt, At(3, 1, 10)));
  EXPECT_FALSE(IsOverdue(v1::IN_CABINET, At(3, 1, 9), At(3, 1, 10)));
  EXPECT_TRUE(Overlaps(At(3, 1, 9), At(3, 1, 12), At(3, 1, 11), At(3, 1, 13)));
  EXPECT_FALSE(Overlaps(At(3, 1, 9), At(3, 1, 11), At(3, 1, 11), At(3, 1, 13)));
  EXPECT_TRUE(Overlaps(At(3, 1, 9), std::nullopt, At(3, 2, 11), At(3, 2, 13)));
}

class KeysTest : public ArchivesTest {
 protected:
  v1::Key NewKey(const std::string& site, const std::string& tag, const std::string& unit,
                 bool master = false, v1::KeyKind kind = v1::UNIT_KEY) {
    v1::CreateKeyRequest req;
    req.set_parent("sites/" + site);
    req.set_request_id(NewRequestId());
    req.mutable_key()->set_kind(kind);
    req.mutable_key()->set_tag(tag);
    req.mutable_key()->set_unit(unit.empty() ? "" : absl::StrCat("sites/", site, "/units/", unit));
    req.mutable_key()->set_master(master);
    req.mutable_key()->set_key_set(master ? "MASTER" : "A");
    v1::Key out;
    const grpc::Status s = stub_->CreateKey(Context().get(), req, &out);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return out;
  }
  static v1::Holder Person(const std::string& name, v1::HolderKind kind = v1::STAFF) {
    v1::Holder h;
    h.set_kind(kind);
    h.set_name(name);
    return h;
  }
  grpc::Status Out(const v1::Key& k, const std::string& who, v1::Key* out = nullptr,
                   const std::string& request_id = "") {
    v1::CheckOutKeyRequest req;
    req.set_name(k.name());
    *req.mutable_holder() = Person(who);
    req.set_purpose(v1::REPAIR);
    kit::SetTimestamp(req.mutable_due_back(), clock_->Now() + absl::Hours(4));
    req.set_request_id(request_id.empty() ? NewRequestId() : request_id);
    v1::Key tmp;
    return stub_->CheckOutKey(Context().get(), req, out ? out : &tmp);
  }
  grpc::Status In(const v1::Key& k) {
    v1::CheckInKeyRequest req;
    req.set_name(k.name());
    req.set_received_by("clerk Zhou");
    req.set_request_id(NewRequestId());
    v1::Key tmp;
    return stub_->CheckInKey(Context().get(), req, &tmp);
  }
};

TEST_F(KeysTest, AHundredConcurrentCheckOutsOfOneKeyLetExactlyOneThrough) {
  const std::string site = NewSite();
  const v1::Key key = NewKey(site, "A-0101", "1-1-101");
  constexpr int kThreads = 100;
  const testing_support::RaceOutcome race =
      testing_support::Race(kThreads, [&](int i) { return Out(key, absl::StrCat("worker ", i)); });
  EXPECT_EQ(race.ok, 1);
  EXPECT_EQ(race.refused, kThreads - 1);
  EXPECT_EQ(race.other, 0);
  EXPECT_EQ(sql_->Scalar("SELECT COUNT(*) FROM key_custody WHERE site = ?", {site}), 1);
}

TEST_F(KeysTest, WhoCouldEnterAUnitFollowsTheCustodyTimeline) {
  const std::string site = NewSite();
  const v1::Key a = NewKey(site, "B-0201-A", "2-1-201");
  const v1::Key b = NewKey(site, "B-0201-B", "2-1-201");
  const v1::Key other = NewKey(site, "B-0202-A", "2-1-202");
  // 2 March: Li has key A 10:00-12:00; Wang has key B from 11:00 to 16:00;
  // Zhao holds the other unit's key all day; key A is lost at 17:00.
  clock_->Set(At(3, 2, 10));
  ASSERT_TRUE(Out(a, "Li").ok());
  ASSERT_TRUE(Out(other, "Zhao").ok());
  clock_->Set(At(3, 2, 11));
  ASSERT_TRUE(Out(b, "Wang").ok());
  clock_->Set(At(3, 2, 12));
  ASSERT_TRUE(In(a).ok());
  clock_->Set(At(3, 2, 16));
  ASSERT_TRUE(In(b).ok());
  clock_->Set(At(3, 2, 17));
  v1::ReportKeyLostRequest lost;
  lost.set_name(a.name());
  lost.set_note("not in its slot at the evening count");
  lost.set_request_id(NewRequestId());
  v1::Key after;
  ASSERT_TRUE(stub_->ReportKeyLost(Context().get(), lost, &after).ok());
  EXPECT_EQ(after.state(), v1::LOST);

  auto who = [&](absl::Time from, absl::Time to, std::vector<std::string>* lost_keys = nullptr) {
    v1::ListUnitAccessRequest req;
    req.set_parent("sites/" + site);
    req.set_unit("sites/" + site + "/units/2-1-201");
    kit::SetTimestamp(req.mutable_start_time(), from);
    kit::SetTimestamp(req.mutable_end_time(), to);
    v1::ListUnitAccessResponse resp;
    const grpc::Status s = stub_->ListUnitAccess(Context().get(), req, &resp);
    EXPECT_TRUE(s.ok()) << s.error_message();
    std::vector<std::string> names;
    for (const v1::UnitAccess& u : resp.access()) names.push_back(u.custody().holder().name());
    if (lost_keys) lost_keys->assign(resp.lost_keys().begin(), resp.lost_keys().end());
    return names;
  };
  EXPECT_EQ(who(At(3, 2, 9), At(3, 2, 10)), std::vector<std::string>{});
  EXPECT_EQ(who(At(3, 2, 10), At(3, 2, 11)), std::vector<std::string>{"Li"});
  EXPECT_EQ(who(At(3, 2, 11), At(3, 2, 12)), (std::vector<std::string>{"Li", "Wang"}));
  EXPECT_EQ(who(At(3, 2, 12), At(3, 2, 18)), std::vector<std::string>{"Wang"});
  std::vector<std::string> lost_keys;
  EXPECT_EQ(who(At(3, 2, 16), At(3, 2, 18), &lost_keys), std::vector<std::string>{});
  EXPECT_EQ(lost_keys, std::vector<std::string>{a.name()});
  EXPECT_TRUE((who(At(3, 2, 16), At(3, 2, 17), &lost_keys), lost_keys.empty()))
      << "the key was lost after this window";

  // The chain of holders of key A.
  v1::ListKeyCustodyRequest chain;
  chain.set_name(a.name());
  v1::ListKeyCustodyResponse custody;
  ASSERT_TRUE(stub_->ListKeyCustody(Context().get(), chain, &custody).ok());
  ASSERT_EQ(custody.custody_size(), 1);
  EXPECT_EQ(custody.custody(0).holder().name(), "Li");
  EXPECT_EQ(kit::FromTimestamp(custody.custody(0).to()), At(3, 2, 12));
}

TEST_F(KeysTest, IllegalMovesAreRefusedAndCountsAnswerTheCabinetQuestion) {
  const std::string site = NewSite();
  const v1::Key master = NewKey(site, "M-01", "3-1-101", true);
  const v1::Key spare = NewKey(site, "S-01", "3-1-101");
  const v1::Key card = NewKey(site, "C-01", "3-1-101", false, v1::ACCESS_CARD);
  NewKey(site, "S-02", "3-1-102");
  EXPECT_EQ(Out(master, "Li").error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(In(spare).error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  const std::string rid = NewRequestId();
  v1::Key first, again;
  ASSERT_TRUE(Out(spare, "Li", &first, rid).ok());
  ASSERT_TRUE(Out(spare, "Li", &again, rid).ok()) << "a retry answers as the first";
  EXPECT_EQ(first.etag(), again.etag());
  EXPECT_EQ(first.holder().name(), "Li");
  // Handed over to its owner, the card leaves the cabinet for good.
  v1::HandOverKeyRequest hand;
  hand.set_name(card.name());
  *hand.mutable_owner() = Person("Owner Sun", v1::OWNER);
  hand.set_reference("sites/" + site + "/handovers/7");
  hand.set_request_id(NewRequestId());
  v1::Key handed;
  // Not to the owner of another flat.
  hand.set_unit("sites/" + site + "/units/3-1-102");
  const grpc::Status other = stub_->HandOverKey(Context().get(), hand, &handed);
  EXPECT_EQ(other.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(other.error_message(), "unit: the key is sites/" + site +
                                       "/units/3-1-101's, not sites/" + site + "/units/3-1-102's");
  hand.set_unit("sites/" + site + "/units/3-1-101");
  hand.set_request_id(NewRequestId());
  ASSERT_TRUE(stub_->HandOverKey(Context().get(), hand, &handed).ok());
  EXPECT_EQ(handed.state(), v1::WITH_OWNER);
  EXPECT_TRUE(stub_->HandOverKey(Context().get(), hand, &handed).ok()) << "idempotent";
  // Overdue once its due time passes.
  clock_->Set(At(3, 2, 14));
  v1::GetKeyCountsRequest counts_req;
  counts_req.set_parent("sites/" + site);
  v1::KeyCounts counts;
  ASSERT_TRUE(stub_->GetKeyCounts(Context().get(), counts_req, &counts).ok());
  ASSERT_EQ(counts.kinds_size(), 2);
  const v1::KindCount& keys =
      counts.kinds(0).kind() == v1::UNIT_KEY ? counts.kinds(0) : counts.kinds(1);
  EXPECT_EQ(keys.total(), 3);
  EXPECT_EQ(keys.in_cabinet(), 2);
  EXPECT_EQ(keys.out(), 1);
  EXPECT_EQ(keys.overdue(), 1);
  v1::ListKeysRequest list;
  list.set_parent("sites/" + site);
  list.set_overdue_only(true);
  v1::ListKeysResponse overdue;
  ASSERT_TRUE(stub_->ListKeys(Context().get(), list, &overdue).ok());
  ASSERT_EQ(overdue.keys_size(), 1);
  EXPECT_EQ(overdue.keys(0).tag(), "S-01");
  EXPECT_TRUE(overdue.keys(0).overdue());
  ASSERT_TRUE(service_->RefreshGauges().ok());
  const std::string metrics = testing_support::HttpGet(server_->metrics_port(), "/metrics");
  EXPECT_NE(metrics.find(absl::StrCat("estate_archives_keys_overdue{site=\"", site, "\"} 1")),
            std::string::npos);
}

TEST_F(KeysTest, BadInputIsRefusedNamingTheFieldAndNothingIsWritten) {
  const std::string site = NewSite();
  struct Case {
    std::function<void(v1::CreateKeyRequest&)> spoil;
    std::string field;
  };
  const std::vector<Case> cases = {
      {[](v1::CreateKeyRequest& r) { r.mutable_key()->set_kind(v1::KEY_KIND_UNSPECIFIED); },
       "key.kind"},
      {[](v1::CreateKeyRequest& r) { r.mutable_key()->set_tag(""); }, "key.tag"},
      {[](v1::CreateKeyRequest& r) { r.mutable_key()->set_unit("units/1"); }, "key.unit"},
      {[](v1::CreateKeyRequest& r) { r.mutable_key()->set_unit("sites/other/units/1"); },
       "key.unit"},
      {[](v1::CreateKeyRequest& r) { r.set_request_id("nope"); }, "request_id"},
  };
  for (const Case& c : cases) {
    v1::CreateKeyRequest req;
    req.set_parent("sites/" + site);
    req.set_request_id(NewRequestId());
    req.mutable_key()->set_kind(v1::UNIT_KEY);
    req.mutable_key()->set_tag("T-1");
    req.mutable_key()->set_unit("sites/" + site + "/units/1-1-101");
    c.spoil(req);
    v1::Key out;
    const grpc::Status s = stub_->CreateKey(Context().get(), req, &out);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << c.field;
    EXPECT_EQ(s.error_message().rfind(c.field, 0), 0u) << s.error_message();
  }
  EXPECT_EQ(sql_->Scalar("SELECT COUNT(*) FROM key_register WHERE site = ?", {site}), 0);
  const v1::Key k = NewKey(site, "T-1", "1-1-101");
  v1::CheckOutKeyRequest out;
  out.set_name(k.name());
  out.set_purpose(v1::REPAIR);
  out.set_request_id(NewRequestId());
  v1::Key tmp;
  const grpc::Status s = stub_->CheckOutKey(Context().get(), out, &tmp);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(s.error_message().rfind("holder.kind", 0), 0u) << s.error_message();
  EXPECT_EQ(sql_->Scalar("SELECT COUNT(*) FROM key_custody WHERE site = ?", {site}), 0);
  // The same tag twice on a site.
  v1::CreateKeyRequest dup;
  dup.set_parent("sites/" + site);
  dup.set_request_id(NewRequestId());
  dup.mutable_key()->set_kind(v1::UNIT_KEY);
  dup.mutable_key()->set_tag("T-1");
  dup.mutable_key()->set_unit("sites/" + site + "/units/1-1-102");
  const grpc::Status taken = stub_->CreateKey(Context().get(), dup, &tmp);
  EXPECT_EQ(taken.error_code(), grpc::StatusCode::ALREADY_EXISTS) << "a tag is a key's natural key";
  EXPECT_EQ(taken.error_message(), "key.tag: already on another key of the site");
}

}  // namespace
}  // namespace archives
