// Grpc-Timeout headers from any client: a value is accepted only in the
// form the gRPC spec gives (1-8 digits and a unit), as that duration.
#include <algorithm>

#include "absl/strings/ascii.h"
#include "fuzz/fuzz_util.h"
#include "gateway/grpc_timeout.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const absl::string_view text = fuzz::Text(data, size);
  const std::optional<absl::Duration> d = gateway::ParseGrpcTimeout(text);
  if (!d) return 0;
  const absl::string_view digits = text.substr(0, text.size() - 1);
  FUZZ_CHECK(!digits.empty() && digits.size() <= 8 &&
                 std::all_of(digits.begin(), digits.end(), absl::ascii_isdigit),
             "only 1-8 digits and a unit");
  FUZZ_CHECK(*d >= absl::ZeroDuration(), "never negative");
  return 0;
}
