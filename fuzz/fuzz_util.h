#ifndef ESTATE_FUZZ_FUZZ_UTIL_H_
#define ESTATE_FUZZ_FUZZ_UTIL_H_

// What the fuzz targets share: the input as text, and a check that aborts
// (so libFuzzer records the input as a crash) when a property breaks.

#include <cstdint>
#include <cstdio>
#include <cstdlib>

#include "absl/strings/string_view.h"

namespace fuzz {

inline absl::string_view Text(const uint8_t* data, size_t size) {
  return absl::string_view(reinterpret_cast<const char*>(data), size);
}

#define FUZZ_CHECK(cond, what)                                         \
  do {                                                                 \
    if (!(cond)) {                                                     \
      std::fprintf(stderr, "property broken: %s (%s)\n", what, #cond); \
      std::abort();                                                    \
    }                                                                  \
  } while (0)

}  // namespace fuzz

#endif  // ESTATE_FUZZ_FUZZ_UTIL_H_
