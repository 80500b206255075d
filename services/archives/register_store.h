#ifndef ESTATE_SERVICES_ARCHIVES_REGISTER_STORE_H_
#define ESTATE_SERVICES_ARCHIVES_REGISTER_STORE_H_

// Every SQL statement of the register (units, parties, their history, and
// the record of personal-data reveals). Functions run inside the caller's
// transaction. Rows come back as their API messages, name and etag set;
// parties unmasked (masking is the service's, on the way out).

#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "estate/archives/v1/register.pb.h"
#include "services/kit/db.h"

namespace archives::store {

namespace v1 = ::estate::archives::v1;

struct UnitRow {
  int64_t id = 0;  // paging key
  int64_t version = 0;
  v1::Unit unit;
};

// ALREADY_EXISTS if the site has the unit id.
absl::Status InsertUnit(kit::Conn& c, const std::string& site, const std::string& unit_id,
                        v1::Unit& unit, const std::string& actor, absl::Time now);
absl::StatusOr<UnitRow> ReadUnit(kit::Conn& c, const std::string& site,
                                 const std::string& unit_id, bool for_update);
// Writes the unit's fields and the next version.
absl::Status UpdateUnit(kit::Conn& c, const std::string& site, UnitRow& row, absl::Time now);
// Units of the site (one building, one occupancy, if set) after paging key
// `after`, by key.
absl::StatusOr<std::vector<UnitRow>> ListUnits(kit::Conn& c, const std::string& site,
                                               const std::string& building,
                                               v1::Occupancy occupancy, int64_t after,
                                               int limit);
// Which of the site's unit ids exist.
absl::StatusOr<std::set<std::string>> ExistingUnitIds(kit::Conn& c, const std::string& site);

struct PartyRow {
  int64_t id = 0;
  int64_t version = 0;
  v1::Party party;
};

absl::StatusOr<int64_t> InsertParty(kit::Conn& c, const std::string& site, v1::Party& party,
                                    const std::string& actor, absl::Time now);
absl::StatusOr<PartyRow> ReadParty(kit::Conn& c, const std::string& site, int64_t id,
                                   bool for_update);
absl::Status UpdateParty(kit::Conn& c, const std::string& site, PartyRow& row, absl::Time now);
struct PartyFilter {
  std::string site;
  std::string unit;  // a unit name
  v1::PartyRole role = v1::PARTY_ROLE_UNSPECIFIED;
  bool include_former = false;
};
absl::StatusOr<std::vector<PartyRow>> ListParties(kit::Conn& c, const PartyFilter& f,
                                                  int64_t after, int limit);

// One change of `subject` (a unit or party name) with the record after it;
// `reference` says what caused it when another process made it.
absl::Status AddHistory(kit::Conn& c, const std::string& site, const std::string& subject,
                        const std::string& actor, const std::string& action,
                        const std::vector<std::string>& changed_fields,
                        const google::protobuf::Message& snapshot, absl::Time now,
                        const std::string& reference = "");
// `subject`'s changes after history id `after`, oldest first; the pair's
// first is the paging key.
absl::StatusOr<std::vector<std::pair<int64_t, v1::RecordChange>>> ListHistory(
    kit::Conn& c, const std::string& subject, int64_t after, int limit);

absl::Status AddReveal(kit::Conn& c, const std::string& site, const std::string& subject,
                       const std::string& actor, const std::string& roles,
                       const std::string& reason, absl::Time now);
// Newest first: reveals with id below `before` (0: from the newest).
absl::StatusOr<std::vector<std::pair<int64_t, v1::PersonalDataReveal>>> ListReveals(
    kit::Conn& c, const std::string& site, int64_t before, int limit);

}  // namespace archives::store

#endif  // ESTATE_SERVICES_ARCHIVES_REGISTER_STORE_H_
