#include "services/handover/completion.h"

#include "absl/strings/str_cat.h"
#include "estate/archives/v1/archives.pb.h"
#include "estate/archives/v1/register.pb.h"
#include "estate/billing/v1/billing.pb.h"
#include "estate/tickets/v1/tickets.pb.h"

namespace handover {

namespace {

namespace archives = ::estate::archives::v1;
namespace billing = ::estate::billing::v1;
namespace tickets = ::estate::tickets::v1;

constexpr char kCreateParty[] = "/estate.archives.v1.ArchivesService/CreateParty";
constexpr char kHandOverKey[] = "/estate.archives.v1.ArchivesService/HandOverKey";
constexpr char kCreateAccount[] = "/estate.billing.v1.BillingService/CreateAccount";
constexpr char kRecordMeterReading[] = "/estate.billing.v1.BillingService/RecordMeterReading";
constexpr char kSetUnitOccupancy[] = "/estate.archives.v1.ArchivesService/SetUnitOccupancy";

template <typename Request>
PeerCall Call(const char* target, const char* method, std::unique_ptr<Request> request,
              std::string subject = "") {
  return PeerCall{target, method, std::move(request), std::move(subject)};
}

std::unique_ptr<archives::CreatePartyRequest> Party(absl::string_view site,
                                                    const v1::HandoverCase& c,
                                                    archives::PartyRole role,
                                                    const std::string& name,
                                                    const std::string& phone,
                                                    const std::string& note) {
  auto r = std::make_unique<archives::CreatePartyRequest>();
  r->set_parent(absl::StrCat("sites/", site));
  archives::Party* p = r->mutable_party();
  p->set_unit(absl::StrCat("sites/", site, "/units/", c.unit()));
  p->set_role(role);
  p->set_display_name(name);
  p->set_phone(phone);
  p->set_note(note);
  p->set_start_date(c.handover_date());
  return r;
}

}  // namespace

std::vector<PeerCall> CompletionCalls(const v1::HandoverCase& c, const v1::HandoverBatch& batch,
                                      absl::string_view site) {
  std::vector<PeerCall> out;
  const std::string reference = absl::StrCat("handover ", c.name());

  out.push_back(Call("archives", kCreateParty,
                     Party(site, c, archives::UNIT_OWNER, c.owner_name(), c.owner_phone(),
                           reference)));
  for (const v1::HouseholdMember& m : c.household()) {
    out.push_back(Call("archives", kCreateParty,
                       Party(site, c, archives::HOUSEHOLD_MEMBER, m.display_name(), m.phone(),
                             m.relation())));
  }
  if (!c.emergency_contact().empty()) {
    out.push_back(Call("archives", kCreateParty,
                       Party(site, c, archives::EMERGENCY_CONTACT, c.emergency_contact(), "",
                             reference)));
  }
  auto occupancy = std::make_unique<archives::SetUnitOccupancyRequest>();
  occupancy->set_name(absl::StrCat("sites/", site, "/units/", c.unit()));
  occupancy->set_occupancy(c.owner_moves_in() ? archives::OWNER_OCCUPIED : archives::VACANT_OWNED);
  occupancy->set_reference(reference);
  out.push_back(Call("archives", kSetUnitOccupancy, std::move(occupancy)));
  for (const std::string& key : c.keys()) {
    auto r = std::make_unique<archives::HandOverKeyRequest>();
    r->set_name(key);
    r->mutable_owner()->set_kind(archives::OWNER);
    r->mutable_owner()->set_name(c.owner_name());
    r->mutable_owner()->set_phone(c.owner_phone());
    r->set_reference(reference);
    r->set_unit(absl::StrCat("sites/", site, "/units/", c.unit()));
    out.push_back(Call("archives", kHandOverKey, std::move(r)));
  }

  auto account = std::make_unique<billing::CreateAccountRequest>();
  account->set_parent(absl::StrCat("sites/", site));
  account->set_account_id(c.unit());
  billing::Account* a = account->mutable_account();
  a->set_building(c.building());
  a->set_payer_name(c.owner_name());
  a->set_payer_kind(billing::OWNER);
  a->set_billable_area(c.billable_area());
  for (const std::string& item : batch.charge_items()) a->add_charge_items(item);
  // The fee runs from the handover day: a unit handed over mid-month pays
  // pro rata, and one never handed over has no account and owes nothing.
  a->set_fee_start(c.handover_date());
  out.push_back(Call("billing", kCreateAccount, std::move(account)));
  for (const v1::MeterReading& m : c.opening_readings()) {
    auto r = std::make_unique<billing::RecordMeterReadingRequest>();
    r->set_parent(absl::StrCat("sites/", site, "/accounts/", c.unit()));
    r->mutable_reading()->set_meter(m.meter());
    r->mutable_reading()->set_value(m.value());
    // A meter's first reading is billing's baseline: consumption starts there.
    r->mutable_reading()->set_read_on(c.handover_date());
    out.push_back(Call("billing", kRecordMeterReading, std::move(r)));
  }

  for (const v1::Defect& d : c.defects()) {
    if (d.state() != v1::TICKETED) continue;
    auto r = std::make_unique<tickets::CreateTicketRequest>();
    r->set_parent(absl::StrCat("sites/", site));
    tickets::Ticket* t = r->mutable_ticket();
    t->set_kind(tickets::REPAIR);
    t->set_channel(tickets::INSPECTION);
    t->set_unit(c.unit());
    t->set_title(absl::StrCat("Warranty repair: ", d.category(), ", ", d.location()).substr(0, 200));
    t->set_description(absl::StrCat(d.description(), "\nFound at the handover inspection (",
                                    d.name(), "); due ", d.due_date(), "; contractor ",
                                    d.contractor(), ".")
                           .substr(0, 4000));
    t->set_category("warranty");
    t->set_assignee(d.contractor().substr(0, 64));
    t->set_reporter_name(c.owner_name());
    t->set_reporter_phone(c.owner_phone());
    out.push_back(Call("tickets", kCreateTicketMethod, std::move(r), d.name()));
  }
  return out;
}

}  // namespace handover
