#ifndef ESTATE_SERVICES_ARCHIVES_KEY_H_
#define ESTATE_SERVICES_ARCHIVES_KEY_H_

// The rules of the key cabinet: which moves a key may make. No I/O.

#include <optional>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "estate/archives/v1/archives.pb.h"

namespace archives {

namespace v1 = ::estate::archives::v1;

enum class KeyMove { kCheckOut, kCheckIn, kLose, kFind, kHandOver };

// FAILED_PRECONDITION (saying why) if a key in `state` may not make `move`:
// only a key in the cabinet goes out or to its owner, and never one of a
// master set; only a key out comes back; a key in the cabinet, out or with
// the owner can be lost; only a lost key is found (back in the cabinet).
absl::Status CheckMove(v1::KeyState state, bool master, KeyMove move);
v1::KeyState StateAfter(KeyMove move);

// Out past its due time, as of `now`.
bool IsOverdue(v1::KeyState state, const std::optional<absl::Time>& due_back, absl::Time now);

// Does a custody [from, to) (to absent: still held) overlap [start, end)?
bool Overlaps(absl::Time from, const std::optional<absl::Time>& to, absl::Time start,
              absl::Time end);

}  // namespace archives

#endif  // ESTATE_SERVICES_ARCHIVES_KEY_H_
