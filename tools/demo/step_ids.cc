#include "tools/demo/step_ids.h"

#include <cstdint>

#include "absl/strings/str_cat.h"

namespace demo {
namespace {

// FNV-1a, because ids must come out the same in every run and on every
// platform; absl::Hash is seeded per process. Nothing here needs a
// cryptographic hash: the ids only have to repeat and not collide.
uint64_t Fnv1a(absl::string_view data, uint64_t basis) {
  uint64_t h = basis;
  for (unsigned char c : data) {
    h ^= c;
    h *= 0x100000001b3ULL;
  }
  return h;
}

// The splitmix64 finaliser: FNV mixes its last bytes poorly into the high
// bits, and step labels differ mostly at the end.
uint64_t Mix(uint64_t x) {
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

}  // namespace

std::string StepRequestId(absl::string_view site, absl::string_view step) {
  const std::string key = absl::StrCat("estate-demo/", site, "/", step);
  uint64_t hi = Mix(Fnv1a(key, 0xcbf29ce484222325ULL));
  uint64_t lo = Mix(Fnv1a(key, 0x6c62272e07bb0142ULL));
  hi = (hi & ~0xf000ULL) | 0x8000ULL;
  lo = (lo & ~(3ULL << 62)) | (2ULL << 62);
  const std::string hex =
      absl::StrCat(absl::Hex(hi, absl::kZeroPad16), absl::Hex(lo, absl::kZeroPad16));
  return absl::StrCat(hex.substr(0, 8), "-", hex.substr(8, 4), "-", hex.substr(12, 4), "-",
                      hex.substr(16, 4), "-", hex.substr(20, 12));
}

}  // namespace demo
