#include "services/billing/collection.h"

#include <map>

#include "services/billing/money.h"

namespace billing {

int32_t RateBasisPoints(int64_t collected, int64_t billed) {
  if (billed <= 0) return 0;
  absl::StatusOr<int64_t> bp = RoundHalfUp(static_cast<__int128>(collected) * 10000, billed);
  return bp.ok() ? static_cast<int32_t>(*bp) : 0;
}

namespace {

void Add(v1::Collection* c, const LineSums& s) {
  c->set_billed_minor(c->billed_minor() + s.billed);
  c->set_collected_minor(c->collected_minor() + s.collected);
  c->set_written_off_minor(c->written_off_minor() + s.written_off);
}

void Finish(v1::Collection* c) {
  c->set_outstanding_minor(c->billed_minor() - c->collected_minor() - c->written_off_minor());
  c->set_rate_basis_points(RateBasisPoints(c->collected_minor(), c->billed_minor()));
}

v1::CollectionFigures Figures(const std::vector<LineSums>& sums, bool skip_held) {
  v1::CollectionFigures f;
  std::map<std::string, v1::Collection> by_building, by_item;
  for (const LineSums& s : sums) {
    if (skip_held && s.held) continue;
    Add(f.mutable_total(), s);
    Add(&by_building[s.building], s);
    Add(&by_item[s.code], s);
  }
  Finish(f.mutable_total());
  for (auto& [key, c] : by_building) {
    c.set_key(key);
    Finish(&c);
    *f.add_by_building() = c;
  }
  for (auto& [key, c] : by_item) {
    c.set_key(key);
    Finish(&c);
    *f.add_by_charge_item() = c;
  }
  return f;
}

}  // namespace

v1::CollectionReport BuildCollectionReport(const std::vector<LineSums>& sums) {
  v1::CollectionReport r;
  *r.mutable_all_lines() = Figures(sums, false);
  *r.mutable_excluding_disputed() = Figures(sums, true);
  int64_t held_lines = 0;
  for (const LineSums& s : sums) {
    if (!s.held) continue;
    Add(r.mutable_disputed(), s);
    held_lines += s.lines;
  }
  Finish(r.mutable_disputed());
  r.set_disputed_lines(held_lines);
  return r;
}

void AddToAging(v1::Aging* aging, int bucket, int64_t amount) {
  switch (bucket) {
    case 0:
      aging->set_days_0_30_minor(aging->days_0_30_minor() + amount);
      break;
    case 1:
      aging->set_days_31_90_minor(aging->days_31_90_minor() + amount);
      break;
    case 2:
      aging->set_days_91_180_minor(aging->days_91_180_minor() + amount);
      break;
    case 3:
      aging->set_days_over_180_minor(aging->days_over_180_minor() + amount);
      break;
    default:
      aging->set_disputed_minor(aging->disputed_minor() + amount);
      return;
  }
  aging->set_total_minor(aging->total_minor() + amount);
}

}  // namespace billing
