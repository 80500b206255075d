#include "services/kit/uuid.h"

#include <cstdint>
#include <random>

#include "absl/strings/str_format.h"

namespace kit {

std::string NewUuid() {
  static thread_local std::mt19937_64 rng(std::random_device{}());
  const uint64_t a = rng(), b = rng();
  return absl::StrFormat("%08x-%04x-4%03x-%04x-%012x", a >> 32, (a >> 16) & 0xFFFF, a & 0xFFF,
                         ((b >> 48) & 0x3FFF) | 0x8000, b & 0xFFFFFFFFFFFFULL);
}

}  // namespace kit
