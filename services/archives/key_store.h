#ifndef ESTATE_SERVICES_ARCHIVES_KEY_STORE_H_
#define ESTATE_SERVICES_ARCHIVES_KEY_STORE_H_

// Every SQL statement of the key cabinet. Functions taking a Conn run inside
// the caller's transaction.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "estate/archives/v1/archives.pb.h"
#include "services/kit/db.h"

namespace archives::store {

namespace v1 = ::estate::archives::v1;

struct CustodyRow {
  int64_t id = 0;
  int64_t key_id = 0;
  v1::Holder holder;
  v1::Purpose purpose = v1::PURPOSE_UNSPECIFIED;
  std::string reference;
  absl::Time from;
  std::optional<absl::Time> due_back;
  std::optional<absl::Time> to;
  std::string recorded_by;
  std::string returned_condition;
  bool lost = false;
};

struct KeyRow {
  int64_t id = 0;
  std::string site;
  v1::KeyKind kind = v1::UNIT_KEY;
  std::string tag;
  std::string unit;
  std::string key_set;
  bool master = false;
  std::string cabinet_slot;
  v1::KeyState state = v1::IN_CABINET;
  int64_t version = 0;
  absl::Time created_at;
  std::optional<CustodyRow> open;  // the current holder, if any
};

// ALREADY_EXISTS if the tag is taken on the site.
absl::StatusOr<int64_t> InsertKey(kit::Conn& c, KeyRow& k, const std::string& actor,
                                  absl::Time now);
absl::StatusOr<KeyRow> ReadKey(kit::Conn& c, const std::string& site, int64_t id,
                               bool for_update);
struct KeyFilter {
  std::string site;
  std::string unit;
  v1::KeyState state = v1::KEY_STATE_UNSPECIFIED;
  v1::KeyKind kind = v1::KEY_KIND_UNSPECIFIED;
  bool overdue_only = false;
};
absl::StatusOr<std::vector<KeyRow>> ListKeys(kit::Conn& c, const KeyFilter& f, absl::Time now,
                                             int64_t after, int limit);
// Sets the state (and lost_at when it becomes LOST); bumps the version.
absl::Status SetState(kit::Conn& c, KeyRow& k, v1::KeyState state, absl::Time now);
// ALREADY_EXISTS if the key already has an open custody.
absl::Status OpenCustody(kit::Conn& c, const KeyRow& k, const CustodyRow& row);
absl::Status CloseCustody(kit::Conn& c, int64_t key_id, absl::Time to,
                          const std::string& condition, bool lost);
absl::StatusOr<std::vector<CustodyRow>> ListCustody(kit::Conn& c, int64_t key_id, int64_t after,
                                                    int limit);
// Custodies of the unit's keys overlapping [start, end), by start; with each
// key's id and tag.
struct UnitCustody {
  int64_t key_id = 0;
  std::string tag;
  CustodyRow custody;
};
absl::StatusOr<std::vector<UnitCustody>> UnitAccess(kit::Conn& c, const std::string& site,
                                                   const std::string& unit, absl::Time start,
                                                   absl::Time end);
// The unit's keys lost before `end` and not found since.
absl::StatusOr<std::vector<std::pair<int64_t, std::string>>> LostKeys(kit::Conn& c,
                                                                     const std::string& site,
                                                                     const std::string& unit,
                                                                     absl::Time end);
struct KindStateCount {
  v1::KeyKind kind;
  v1::KeyState state;
  int64_t count = 0;
  int64_t overdue = 0;
};
absl::StatusOr<std::vector<KindStateCount>> CountKeys(kit::Conn& c, const std::string& site,
                                                      absl::Time now);

}  // namespace archives::store

#endif  // ESTATE_SERVICES_ARCHIVES_KEY_STORE_H_
