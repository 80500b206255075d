#include "services/billing/allocation.h"

#include <algorithm>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"

namespace billing {

absl::StatusOr<AllocationResult> Allocate(const std::vector<OpenLine>& lines, int64_t amount_minor,
                                          const std::vector<int64_t>& named) {
  if (amount_minor <= 0) return absl::InvalidArgumentError("amount: must be positive");
  std::vector<const OpenLine*> order;
  if (!named.empty()) {
    absl::flat_hash_map<int64_t, const OpenLine*> by_id;
    for (const OpenLine& l : lines) by_id[l.id] = &l;
    absl::flat_hash_set<int64_t> seen;
    for (int64_t id : named) {
      if (!seen.insert(id).second) {
        return absl::InvalidArgumentError(absl::StrCat("bills: line ", id, " named twice"));
      }
      auto it = by_id.find(id);
      if (it == by_id.end() || it->second->outstanding() <= 0) {
        return absl::InvalidArgumentError(absl::StrCat("bills: line ", id, " is not open"));
      }
      order.push_back(it->second);
    }
  } else {
    for (const OpenLine& l : lines) {
      if (!l.held && l.outstanding() > 0) order.push_back(&l);
    }
    std::sort(order.begin(), order.end(), [](const OpenLine* a, const OpenLine* b) {
      return a->due != b->due ? a->due < b->due : a->id < b->id;
    });
  }
  AllocationResult out;
  int64_t left = amount_minor;
  for (const OpenLine* l : order) {
    if (left == 0) break;
    const int64_t take = std::min(left, l->outstanding());
    out.allocations.push_back({l->id, take});
    left -= take;
  }
  out.to_credit_minor = left;
  return out;
}

std::vector<Allocation> Reverse(const std::vector<Allocation>& allocations) {
  std::vector<Allocation> out;
  out.reserve(allocations.size());
  for (const Allocation& a : allocations) out.push_back({a.line_id, -a.amount_minor});
  return out;
}

LineState StateOf(int64_t amount_minor, int64_t paid_minor) {
  if (paid_minor <= 0) return LineState::kOpen;
  return paid_minor >= amount_minor ? LineState::kPaid : LineState::kPartiallyPaid;
}

}  // namespace billing
