// The register against the real database: idempotent creates, etags and
// history, masking by role with recorded reveals, paging, and the buyer-list
// import that writes all or nothing.
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "tests/archives/archives_fixture.h"

namespace archives {
namespace {

class RegisterTest : public ArchivesTest {
 protected:
  static v1::CreateUnitRequest UnitRequest(const std::string& site, const std::string& id) {
    v1::CreateUnitRequest req;
    req.set_parent("sites/" + site);
    req.set_unit_id(id);
    req.set_request_id(NewRequestId());
    req.mutable_unit()->set_building("B3");
    req.mutable_unit()->set_floor(12);
    req.mutable_unit()->set_number(id);
    req.mutable_unit()->set_area_centi_m2(8935);
    return req;
  }
  static v1::Unit NewUnit(const std::string& site, const std::string& id) {
    v1::Unit out;
    const grpc::Status s = stub_->CreateUnit(Context().get(), UnitRequest(site, id), &out);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return out;
  }
  static v1::Party NewOwner(const v1::Unit& unit, const std::string& name,
                            const std::string& phone) {
    v1::CreatePartyRequest req;
    req.set_parent(unit.name().substr(0, unit.name().find("/units/")));
    req.set_request_id(NewRequestId());
    req.mutable_party()->set_unit(unit.name());
    req.mutable_party()->set_role(v1::UNIT_OWNER);
    req.mutable_party()->set_display_name(name);
    req.mutable_party()->set_phone(phone);
    req.mutable_party()->set_id_number("110101199003071234");
    v1::Party out;
    const grpc::Status s = stub_->CreateParty(Context().get(), req, &out);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return out;
  }
  static int64_t Rows(const std::string& table, const std::string& site) {
    return sql_->Scalar(absl::StrCat("SELECT COUNT(*) FROM ", table, " WHERE site = ?"), {site});
  }
  static grpc::Status Import(const std::string& site, const std::string& csv,
                             v1::ImportUnitsResponse* out) {
    v1::ImportUnitsRequest req;
    req.set_parent("sites/" + site);
    req.set_csv(csv);
    req.set_request_id(NewRequestId());
    return stub_->ImportUnits(Context().get(), req, out);
  }
  static std::string Export(const std::string& site, const std::string& reason = "") {
    v1::ExportUnitsRequest req;
    req.set_parent("sites/" + site);
    req.set_reveal_reason(reason);
    v1::ExportUnitsResponse out;
    const grpc::Status s = stub_->ExportUnits(Context().get(), req, &out);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return out.csv();
  }
};

TEST_F(RegisterTest, ARetriedCreateReturnsTheFirstUnitAndWritesOnce) {
  const std::string site = NewSite();
  v1::CreateUnitRequest req = UnitRequest(site, "B3-1201");
  v1::Unit first, again;
  ASSERT_TRUE(stub_->CreateUnit(Context().get(), req, &first).ok());
  ASSERT_TRUE(stub_->CreateUnit(Context().get(), req, &again).ok());
  EXPECT_EQ(first.SerializeAsString(), again.SerializeAsString());
  EXPECT_EQ(first.name(), absl::StrCat("sites/", site, "/units/B3-1201"));
  EXPECT_EQ(first.occupancy(), v1::VACANT) << "unspecified occupancy is vacant";
  EXPECT_EQ(Rows("units", site), 1);

  req.mutable_unit()->set_floor(13);
  grpc::Status s = stub_->CreateUnit(Context().get(), req, &again);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(s.error_message().rfind("request_id", 0), 0u) << s.error_message();

  s = stub_->CreateUnit(Context().get(), UnitRequest(site, "B3-1201"), &again);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::ALREADY_EXISTS);
  EXPECT_EQ(s.error_message().rfind("unit_id", 0), 0u) << s.error_message();
  EXPECT_EQ(Rows("units", site), 1);
}

TEST_F(RegisterTest, BadInputNamesTheFieldAndWritesNothing) {
  const std::string site = NewSite();
  const auto refused = [&](v1::CreateUnitRequest req, const std::string& field) {
    v1::Unit out;
    const grpc::Status s = stub_->CreateUnit(Context().get(), req, &out);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << field;
    EXPECT_EQ(s.error_message().rfind(field, 0), 0u) << s.error_message();
  };
  v1::CreateUnitRequest req = UnitRequest(site, "B3 1201");
  refused(req, "unit_id");
  req = UnitRequest(site, "B3-1201");
  req.mutable_unit()->clear_building();
  refused(req, "unit.building");
  req = UnitRequest(site, "B3-1201");
  req.mutable_unit()->set_area_centi_m2(-5);
  refused(req, "unit.area_centi_m2");
  req = UnitRequest(site, "B3-1201");
  req.mutable_unit()->set_occupancy(static_cast<v1::Occupancy>(42));
  refused(req, "unit.occupancy");
  req = UnitRequest(site, "B3-1201");
  req.set_request_id("again");
  refused(req, "request_id");
  EXPECT_EQ(Rows("units", site), 0);

  v1::CreatePartyRequest party;
  party.set_parent("sites/" + site);
  party.set_request_id(NewRequestId());
  party.mutable_party()->set_role(v1::UNIT_OWNER);
  party.mutable_party()->set_display_name("Zhou Li");
  party.mutable_party()->set_unit(absl::StrCat("sites/", site, "/units/nowhere"));
  v1::Party out;
  grpc::Status s = stub_->CreateParty(Context().get(), party, &out);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(s.error_message().rfind("party.unit", 0), 0u) << s.error_message();
  party.mutable_party()->set_unit(NewUnit(site, "B3-1201").name());
  party.mutable_party()->set_id_number("11010119900307123X-");
  s = stub_->CreateParty(Context().get(), party, &out);
  EXPECT_EQ(s.error_message().rfind("party.id_number", 0), 0u) << s.error_message();
  EXPECT_EQ(Rows("parties", site), 0);
  EXPECT_EQ(Rows("register_history", site), 1) << "only the unit's creation";
}

TEST_F(RegisterTest, AStaleEtagIsRefusedAndEveryChangeIsInTheHistory) {
  const std::string site = NewSite();
  const v1::Unit unit = NewUnit(site, "B3-1201");
  v1::UpdateUnitRequest req;
  *req.mutable_unit() = unit;
  req.mutable_unit()->set_occupancy(v1::RENTED);
  req.mutable_unit()->set_floor(99);  // not in the mask: must stay 12
  req.mutable_update_mask()->add_paths("occupancy");
  req.set_request_id(NewRequestId());
  clock_->Set(At(3, 5, 10));
  v1::Unit updated;
  ASSERT_TRUE(stub_->UpdateUnit(As("staff", "user:desk-wang").get(), req, &updated).ok());
  EXPECT_EQ(updated.occupancy(), v1::RENTED);
  EXPECT_EQ(updated.floor(), 12);
  EXPECT_NE(updated.etag(), unit.etag());

  req.set_request_id(NewRequestId());
  req.mutable_unit()->set_occupancy(v1::OWNER_OCCUPIED);
  v1::Unit stale;
  EXPECT_EQ(stub_->UpdateUnit(Context().get(), req, &stale).error_code(),
            grpc::StatusCode::ABORTED);
  req.mutable_update_mask()->add_paths("etag");
  *req.mutable_unit() = updated;
  req.set_request_id(NewRequestId());
  const grpc::Status s = stub_->UpdateUnit(Context().get(), req, &stale);
  EXPECT_EQ(s.error_message().rfind("update_mask", 0), 0u) << s.error_message();

  v1::ListRecordHistoryRequest history;
  history.set_name(unit.name());
  v1::ListRecordHistoryResponse changes;
  ASSERT_TRUE(stub_->ListUnitHistory(Context().get(), history, &changes).ok());
  ASSERT_EQ(changes.changes_size(), 2);
  EXPECT_EQ(changes.changes(0).action(), "created");
  EXPECT_EQ(changes.changes(1).action(), "updated");
  EXPECT_EQ(changes.changes(1).actor(), "user:desk-wang");
  EXPECT_EQ(std::vector<std::string>(changes.changes(1).changed_fields().begin(),
                                     changes.changes(1).changed_fields().end()),
            std::vector<std::string>{"occupancy"});
  EXPECT_EQ(changes.changes(1).unit().occupancy(), v1::RENTED);
  EXPECT_EQ(changes.changes(1).time().seconds(), absl::ToUnixSeconds(At(3, 5, 10)));
}

TEST_F(RegisterTest, AnotherServiceSetsOccupancyWithoutAnEtagOnceAndSaysWhy) {
  const std::string site = NewSite();
  const v1::Unit unit = NewUnit(site, "B2-0801");
  v1::SetUnitOccupancyRequest req;
  req.set_name(unit.name());
  req.set_occupancy(v1::VACANT_OWNED);
  req.set_reference("handover sites/" + site + "/handoverCases/7");
  req.set_request_id(NewRequestId());
  v1::Unit first, again;
  ASSERT_TRUE(stub_->SetUnitOccupancy(As("staff", "user:svc-handover").get(), req, &first).ok());
  EXPECT_EQ(first.occupancy(), v1::VACANT_OWNED);
  EXPECT_NE(first.etag(), unit.etag());
  // A repeat (an outbox redelivery) answers the same and changes nothing,
  // even after someone else has moved the unit on.
  v1::UpdateUnitRequest edit;
  *edit.mutable_unit() = first;
  edit.mutable_unit()->set_occupancy(v1::OWNER_OCCUPIED);
  edit.mutable_update_mask()->add_paths("occupancy");
  edit.set_request_id(NewRequestId());
  v1::Unit edited;
  ASSERT_TRUE(stub_->UpdateUnit(Context().get(), edit, &edited).ok());
  ASSERT_TRUE(stub_->SetUnitOccupancy(As("staff", "user:svc-handover").get(), req, &again).ok());
  EXPECT_EQ(again.SerializeAsString(), first.SerializeAsString());

  v1::ListRecordHistoryRequest history;
  history.set_name(unit.name());
  v1::ListRecordHistoryResponse changes;
  ASSERT_TRUE(stub_->ListUnitHistory(Context().get(), history, &changes).ok());
  ASSERT_EQ(changes.changes_size(), 3) << "created, occupancy_set, updated";
  EXPECT_EQ(changes.changes(1).action(), "occupancy_set");
  EXPECT_EQ(changes.changes(1).actor(), "user:svc-handover");
  EXPECT_EQ(changes.changes(1).reference(), req.reference());
  EXPECT_EQ(changes.changes(1).unit().occupancy(), v1::VACANT_OWNED);
  v1::GetUnitRequest get;
  get.set_name(unit.name());
  v1::Unit now;
  ASSERT_TRUE(stub_->GetUnit(Context().get(), get, &now).ok());
  EXPECT_EQ(now.occupancy(), v1::OWNER_OCCUPIED) << "the later edit stands";

  req.set_request_id(NewRequestId());
  req.set_occupancy(v1::OCCUPANCY_UNSPECIFIED);
  grpc::Status s = stub_->SetUnitOccupancy(Context().get(), req, &again);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(s.error_message().rfind("occupancy:", 0), 0u) << s.error_message();
  req.set_occupancy(v1::RENTED);
  req.set_name("sites/" + site + "/units/B2-0802");
  EXPECT_EQ(stub_->SetUnitOccupancy(Context().get(), req, &again).error_code(),
            grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(Rows("register_history", site), 3) << "refusals write nothing";
}

TEST_F(RegisterTest, PersonalDataIsMaskedUntilSomeoneAboveViewerGivesAReason) {
  const std::string site = NewSite();
  const v1::Unit unit = NewUnit(site, "B3-1201");
  const v1::Party created = NewOwner(unit, "Zhou Li", "13812345678");
  EXPECT_TRUE(created.masked());
  EXPECT_EQ(created.phone(), "138****5678");

  v1::ListPartiesRequest list;
  list.set_parent("sites/" + site);
  v1::ListPartiesResponse parties;
  ASSERT_TRUE(stub_->ListParties(As("admin").get(), list, &parties).ok());
  ASSERT_EQ(parties.parties_size(), 1);
  EXPECT_EQ(parties.parties(0).phone(), "138****5678") << "lists are masked even for admins";
  EXPECT_EQ(parties.parties(0).id_number(), "110***********1234");

  v1::GetPartyRequest get;
  get.set_name(created.name());
  v1::Party seen;
  ASSERT_TRUE(stub_->GetParty(As("staff").get(), get, &seen).ok());
  EXPECT_TRUE(seen.masked()) << "no reason, no full values";

  get.set_reveal_reason("owner asked for a callback about the leak");
  EXPECT_EQ(stub_->GetParty(As("viewer").get(), get, &seen).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(stub_->GetParty(As("").get(), get, &seen).error_code(),
            grpc::StatusCode::PERMISSION_DENIED)
      << "a call without roles is treated as a viewer";
  EXPECT_EQ(Rows("pii_reveals", site), 0);

  clock_->Set(At(3, 3, 14));
  ASSERT_TRUE(stub_->GetParty(As("staff", "user:desk-wang").get(), get, &seen).ok());
  EXPECT_FALSE(seen.masked());
  EXPECT_EQ(seen.phone(), "13812345678");
  EXPECT_EQ(seen.id_number(), "110101199003071234");

  v1::ListPersonalDataRevealsRequest reveals_req;
  reveals_req.set_parent("sites/" + site);
  v1::ListPersonalDataRevealsResponse reveals;
  ASSERT_TRUE(stub_->ListPersonalDataReveals(As("manager").get(), reveals_req, &reveals).ok());
  ASSERT_EQ(reveals.reveals_size(), 1);
  EXPECT_EQ(reveals.reveals(0).subject(), created.name());
  EXPECT_EQ(reveals.reveals(0).actor(), "user:desk-wang");
  EXPECT_EQ(reveals.reveals(0).reason(), "owner asked for a callback about the leak");
  EXPECT_EQ(reveals.reveals(0).time().seconds(), absl::ToUnixSeconds(At(3, 3, 14)));

  // A new phone number: the history says the phone changed, never what to.
  v1::UpdatePartyRequest update;
  *update.mutable_party() = seen;
  update.mutable_party()->set_phone("13900002222");
  update.mutable_update_mask()->add_paths("phone");
  update.set_request_id(NewRequestId());
  v1::Party after;
  ASSERT_TRUE(stub_->UpdateParty(Context().get(), update, &after).ok());
  EXPECT_EQ(after.phone(), "139****2222");
  v1::ListRecordHistoryRequest history;
  history.set_name(created.name());
  v1::ListRecordHistoryResponse changes;
  ASSERT_TRUE(stub_->ListPartyHistory(Context().get(), history, &changes).ok());
  ASSERT_EQ(changes.changes_size(), 2);
  EXPECT_EQ(changes.changes(1).changed_fields(0), "phone");
  EXPECT_TRUE(changes.changes(1).party().masked());
  for (const char* full : {"13812345678", "13900002222", "110101199003071234"}) {
    EXPECT_EQ(sql_->Scalar("SELECT COUNT(*) FROM register_history WHERE site = ? AND "
                           "snapshot LIKE ?",
                           {site, absl::StrCat("%", full, "%")}),
              0)
        << full << " is stored in the history";
  }
}

TEST_F(RegisterTest, AFormerPartyLeavesTheCurrentListButNotTheRecord) {
  const std::string site = NewSite();
  const v1::Unit unit = NewUnit(site, "B3-1201");
  const v1::Party tenant = NewOwner(unit, "Wang Fang", "13800000000");
  v1::UpdatePartyRequest update;
  *update.mutable_party() = tenant;
  update.mutable_party()->set_end_date("2026-02-28");
  update.mutable_update_mask()->add_paths("end_date");
  update.set_request_id(NewRequestId());
  v1::Party after;
  ASSERT_TRUE(stub_->UpdateParty(Context().get(), update, &after).ok());
  NewOwner(unit, "Zhou Li", "13812345678");

  v1::ListPartiesRequest list;
  list.set_parent("sites/" + site);
  list.set_unit(unit.name());
  v1::ListPartiesResponse current, all;
  ASSERT_TRUE(stub_->ListParties(Context().get(), list, &current).ok());
  ASSERT_EQ(current.parties_size(), 1);
  EXPECT_EQ(current.parties(0).display_name(), "Zhou Li");
  list.set_include_former(true);
  ASSERT_TRUE(stub_->ListParties(Context().get(), list, &all).ok());
  EXPECT_EQ(all.parties_size(), 2);
}

TEST_F(RegisterTest, PagesCoverEveryUnitOnceAndATokenKeepsItsFilter) {
  const std::string site = NewSite();
  for (int i = 1; i <= 7; ++i) NewUnit(site, absl::StrCat("B3-", 1200 + i));
  v1::ListUnitsRequest req;
  req.set_parent("sites/" + site);
  req.set_page_size(3);
  std::vector<std::string> seen;
  int pages = 0;
  do {
    v1::ListUnitsResponse page;
    ASSERT_TRUE(stub_->ListUnits(Context().get(), req, &page).ok());
    for (const v1::Unit& u : page.units()) seen.push_back(u.name());
    req.set_page_token(page.next_page_token());
    ++pages;
    if (pages == 1) {
      v1::ListUnitsRequest other = req;
      other.set_building("B4");
      v1::ListUnitsResponse refused;
      EXPECT_EQ(stub_->ListUnits(Context().get(), other, &refused).error_code(),
                grpc::StatusCode::INVALID_ARGUMENT);
    }
  } while (!req.page_token().empty() && pages < 10);
  EXPECT_EQ(pages, 3);
  ASSERT_EQ(seen.size(), 7u);
  EXPECT_EQ(std::set<std::string>(seen.begin(), seen.end()).size(), 7u);
}

TEST_F(RegisterTest, ABuyerListWithBadRowsWritesNothingAndSaysWhichRows) {
  const std::string site = NewSite();
  const std::string header = "unit,building,floor,area_m2,party_name,party_phone\n";
  v1::ImportUnitsResponse report;
  ASSERT_TRUE(Import(site,
                     header + "B3-0101,B3,1,89.35,Zhou Li,13812345678\n"
                              "B3-0102,B3,1,89.3x,Wang Fang,13800000000\n"
                              "B3-0103,B3,1,75.00,Li Na,555\n"
                              "B3-0104,B3,1,75.00,Ma Jun,phone\n",
                     &report)
                  .ok());
  ASSERT_EQ(report.errors_size(), 2);
  EXPECT_EQ(report.errors(0).line(), 3);
  EXPECT_EQ(report.errors(0).column(), "area_m2");
  EXPECT_EQ(report.errors(1).line(), 5);
  EXPECT_EQ(report.errors(1).column(), "party_phone");
  EXPECT_EQ(report.units_created(), 0);
  EXPECT_EQ(Rows("units", site), 0);
  EXPECT_EQ(Rows("parties", site), 0);
  EXPECT_EQ(Rows("register_history", site), 0);

  // One unit already registered: still nothing half-written.
  NewUnit(site, "B3-0103");
  const std::string fixed = header +
                            "B3-0101,B3,1,89.35,Zhou Li,13812345678\n"
                            "B3-0102,B3,1,89.30,Wang Fang,13800000000\n"
                            "B3-0103,B3,1,75.00,Li Na,555\n";
  ASSERT_TRUE(Import(site, fixed, &report).ok());
  ASSERT_EQ(report.errors_size(), 1);
  EXPECT_EQ(report.errors(0).line(), 4);
  EXPECT_EQ(report.errors(0).message(), "already registered on the site");
  EXPECT_EQ(Rows("units", site), 1);
  EXPECT_EQ(Rows("parties", site), 0);

  const std::string other_site = NewSite();
  ASSERT_TRUE(Import(other_site, fixed, &report).ok());
  EXPECT_EQ(report.errors_size(), 0);
  EXPECT_EQ(report.units_created(), 3);
  EXPECT_EQ(report.parties_created(), 3);
  EXPECT_EQ(Rows("units", other_site), 3);
  v1::GetUnitRequest get;
  get.set_name(absl::StrCat("sites/", other_site, "/units/B3-0102"));
  v1::Unit unit;
  ASSERT_TRUE(stub_->GetUnit(Context().get(), get, &unit).ok());
  EXPECT_EQ(unit.area_centi_m2(), 8930);
}

TEST_F(RegisterTest, AnExportImportsIntoAnotherSiteAsTheSameRegister) {
  const std::string site = NewSite();
  v1::ImportUnitsResponse report;
  ASSERT_TRUE(Import(site,
                     "unit,building,floor,number,area_m2,layout,occupancy,party_role,"
                     "party_name,party_phone,party_id_number,party_email\n"
                     "B3-0101,B3,1,0101,89.35,\"3 bed, 2 living\",rented,tenant,Zhou Li,"
                     "13812345678,110101199003071234,zhou@example.com\n"
                     "B3-0101,B3,1,0101,89.35,\"3 bed, 2 living\",rented,owner,Wang Fang,"
                     "13800000000,,\n"
                     "B3-0102,B3,1,0102,60.00,studio,vacant,,,,,\n",
                     &report)
                  .ok());
  ASSERT_EQ(report.errors_size(), 0) << report.errors(0).DebugString();

  const std::string masked = Export(site);
  EXPECT_EQ(masked.find("13812345678"), std::string::npos);
  EXPECT_NE(masked.find("138****5678"), std::string::npos);
  EXPECT_EQ(Rows("pii_reveals", site), 0);

  const std::string full = Export(site, "moving the register to the new system");
  EXPECT_NE(full.find("13812345678"), std::string::npos);
  EXPECT_EQ(Rows("pii_reveals", site), 1);

  const std::string copy = NewSite();
  ASSERT_TRUE(Import(copy, full, &report).ok());
  ASSERT_EQ(report.errors_size(), 0) << report.errors(0).DebugString();
  EXPECT_EQ(report.units_created(), 2);
  EXPECT_EQ(report.parties_created(), 2);
  EXPECT_EQ(Export(copy, "checking the copy"), full);

  v1::ExportUnitsRequest viewer;
  viewer.set_parent("sites/" + site);
  viewer.set_reveal_reason("curious");
  v1::ExportUnitsResponse refused;
  EXPECT_EQ(stub_->ExportUnits(As("viewer").get(), viewer, &refused).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
}

}  // namespace
}  // namespace archives
