#ifndef ESTATE_SERVICES_HANDOVER_HANDOVER_STORE_H_
#define ESTATE_SERVICES_HANDOVER_HANDOVER_STORE_H_

// All of the handover service's SQL. Functions take a borrowed connection;
// transactions belong to the caller.

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "estate/handover/v1/handover.pb.h"
#include "services/kit/db.h"
#include "services/kit/proto_time.h"

namespace handover::store {

namespace v1 = ::estate::handover::v1;

struct BatchRow {
  int64_t id = 0;
  std::string site;
  v1::HandoverBatch spec;  // name, etag and create_time filled in on read
  int64_t version = 0;
};
absl::StatusOr<int64_t> InsertBatch(kit::Conn& c, const std::string& site,
                                    const v1::HandoverBatch& spec, const std::string& actor,
                                    absl::Time now);
absl::StatusOr<BatchRow> ReadBatch(kit::Conn& c, const std::string& site, int64_t id);
absl::StatusOr<std::vector<BatchRow>> ListBatches(kit::Conn& c, const std::string& site,
                                                  int64_t after, int limit);

struct CaseRow {
  int64_t id = 0;
  std::string site;
  int64_t batch_id = 0;
  // The case as the API shows it, less the effects' progress (name, state,
  // etag and times filled in on read).
  v1::HandoverCase body;
  int64_t version = 0;
};
absl::StatusOr<int64_t> InsertCase(kit::Conn& c, const std::string& site, int64_t batch_id,
                                   const v1::HandoverCase& body, absl::Time now);
// InsertCase and the first line of the case's timeline ("created", by
// `actor`, saying `detail`): how every case comes to be.
absl::StatusOr<int64_t> CreateCase(kit::Conn& c, const std::string& site, int64_t batch_id,
                                   const v1::HandoverCase& body, const std::string& actor,
                                   const std::string& detail, absl::Time now);
// The batch id of every case of the site, by unit (a unit has one case on
// a site).
absl::StatusOr<std::map<std::string, int64_t>> CaseBatchByUnit(kit::Conn& c,
                                                                const std::string& site);
absl::StatusOr<CaseRow> ReadCase(kit::Conn& c, const std::string& site, int64_t id,
                                 bool for_update);
// Writes body and state, and moves the version on.
absl::Status SaveCase(kit::Conn& c, CaseRow& row, absl::Time now);
struct CaseFilter {
  std::string site;
  int64_t batch_id = 0;                                   // 0: any
  v1::CaseState state = v1::CASE_STATE_UNSPECIFIED;       // any
};
absl::StatusOr<std::vector<CaseRow>> ListCases(kit::Conn& c, const CaseFilter& f, int64_t after,
                                               int limit);

// Books `inspector` at `slot_start` for the case, giving up any slot the
// case held. FAILED_PRECONDITION if another case holds that slot.
absl::Status BookSlot(kit::Conn& c, const std::string& site, int64_t case_id,
                      const std::string& inspector, absl::Time slot_start);
// Gives up the case's slot, if any (a refusal, a completed inspection).
absl::Status FreeSlot(kit::Conn& c, int64_t case_id);

// A case's and a permit's timelines are tables of one shape: the owner's
// id, the line's type, the states it moved between, who, a detail, when.
struct TimelineTable {
  const char* table;
  const char* owner;  // the owner's id column
};
inline constexpr TimelineTable kCaseTimeline{"handover_case_events", "case_id"};
inline constexpr TimelineTable kPermitTimeline{"permit_events", "permit_id"};
absl::Status AddTimelineLine(kit::Conn& c, const TimelineTable& t, const std::string& site,
                             int64_t owner_id, const std::string& type, int from, int to,
                             const std::string& actor, const std::string& detail, absl::Time now);
// The owner's lines after sequence `after`, oldest first, as `Event`
// (v1::CaseEvent or v1::PermitEvent).
absl::StatusOr<std::vector<kit::Row>> TimelineRows(kit::Conn& c, const TimelineTable& t,
                                                   int64_t owner_id, int64_t after, int limit);
template <typename Event>
std::vector<Event> TimelineEvents(const std::vector<kit::Row>& rows) {
  using State = decltype(std::declval<Event>().from_state());
  std::vector<Event> out;
  out.reserve(rows.size());
  for (const kit::Row& r : rows) {
    Event e;
    e.set_sequence(r.Int(0));
    e.set_type(r.Str(1));
    e.set_from_state(static_cast<State>(r.Int(2)));
    e.set_to_state(static_cast<State>(r.Int(3)));
    e.set_actor(r.Str(4));
    e.set_detail(r.Str(5));
    kit::SetTimestamp(e.mutable_time(), r.Time(6));
    out.push_back(std::move(e));
  }
  return out;
}

absl::Status AddEvent(kit::Conn& c, const std::string& site, int64_t case_id,
                      const std::string& type, v1::CaseState from, v1::CaseState to,
                      const std::string& actor, const std::string& detail, absl::Time now);
absl::StatusOr<std::vector<v1::CaseEvent>> ListEvents(kit::Conn& c, int64_t case_id, int64_t after,
                                                      int limit);

// The timeline lines of every case of a batch whose type is one of `types`,
// oldest first, in one statement whatever the batch's size (its report
// reads the cases themselves with ListCases).
struct BatchEvent {
  int64_t case_id = 0;
  std::string type;
  absl::Time time;
};
absl::StatusOr<std::vector<BatchEvent>> EventsOfBatch(kit::Conn& c, const std::string& site,
                                                      int64_t batch_id,
                                                      const std::vector<std::string>& types);

// The outbox rows a case's completion or a permit's violation wrote, and
// where each stands. Both owners keep them in tables of one shape: the
// owner's id, the outbox row, what it is, its subject (a defect), and what
// the peer made of it (a ticket's name).
struct EffectTable {
  const char* table;
  const char* owner;  // the owner's id column
};
inline constexpr EffectTable kCaseEffects{"handover_case_effects", "case_id"};
inline constexpr EffectTable kPermitEffects{"permit_effects", "permit_id"};

absl::Status AddEffect(kit::Conn& c, const EffectTable& t, int64_t owner_id, int64_t outbox_id,
                       const std::string& what, const std::string& subject);
// What the peer made of the effect delivered by outbox row `outbox_id` (a
// ticket's name); nothing if the row is not one of `t`'s.
absl::Status SetEffectResult(kit::Conn& c, const EffectTable& t, int64_t outbox_id,
                             const std::string& result);
struct EffectState {
  std::string what;
  bool delivered = false;
  bool dead = false;
  std::string last_error;
  std::string subject;
  std::string result;
};
absl::StatusOr<std::vector<EffectState>> EffectsOf(kit::Conn& c, int64_t case_id);
// The effects of each of `owner_ids` (a listed page) by owner id, in outbox
// order; an owner without effects has no entry. One statement for up to
// 512 ids (kit::kMaxInList: a page of any size), more for more.
using EffectsByCase = std::map<int64_t, std::vector<EffectState>>;
absl::StatusOr<EffectsByCase> EffectsOfOwners(kit::Conn& c, const EffectTable& t,
                                              const std::vector<int64_t>& owner_ids);

}  // namespace handover::store

#endif  // ESTATE_SERVICES_HANDOVER_HANDOVER_STORE_H_
