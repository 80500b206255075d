#include "services/archives/key.h"

namespace archives {

absl::Status CheckMove(v1::KeyState state, bool master, KeyMove move) {
  switch (move) {
    case KeyMove::kCheckOut:
    case KeyMove::kHandOver:
      if (master) return absl::FailedPreconditionError("a key of a master set is never lent");
      if (state != v1::IN_CABINET) {
        return absl::FailedPreconditionError(
            state == v1::CHECKED_OUT ? "the key is already out" : "the key is not in the cabinet");
      }
      return absl::OkStatus();
    case KeyMove::kCheckIn:
      if (state != v1::CHECKED_OUT) return absl::FailedPreconditionError("the key is not out");
      return absl::OkStatus();
    case KeyMove::kLose:
      if (state == v1::LOST) return absl::FailedPreconditionError("the key is already lost");
      if (state == v1::RETIRED) return absl::FailedPreconditionError("the key is retired");
      return absl::OkStatus();
    case KeyMove::kFind:
      if (state != v1::LOST) return absl::FailedPreconditionError("the key is not lost");
      return absl::OkStatus();
  }
  return absl::InternalError("unknown key move");
}

v1::KeyState StateAfter(KeyMove move) {
  switch (move) {
    case KeyMove::kCheckOut:
      return v1::CHECKED_OUT;
    case KeyMove::kHandOver:
      return v1::WITH_OWNER;
    case KeyMove::kLose:
      return v1::LOST;
    case KeyMove::kCheckIn:
    case KeyMove::kFind:
      return v1::IN_CABINET;
  }
  return v1::KEY_STATE_UNSPECIFIED;
}

bool IsOverdue(v1::KeyState state, const std::optional<absl::Time>& due_back, absl::Time now) {
  return state == v1::CHECKED_OUT && due_back.has_value() && *due_back < now;
}

bool Overlaps(absl::Time from, const std::optional<absl::Time>& to, absl::Time start,
              absl::Time end) {
  return from < end && (!to.has_value() || *to > start);
}

}  // namespace archives
