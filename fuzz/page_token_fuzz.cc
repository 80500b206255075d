// Page tokens come back from clients: anything not made by Encode for the same
// query is INVALID_ARGUMENT; what Encode made decodes to its position.
#include "fuzz/fuzz_util.h"
#include "services/kit/paging.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const kit::PageTokens tokens("fuzz-page-token-secret");
  const absl::string_view text = fuzz::Text(data, size);
  auto after = tokens.Decode("query", text);
  if (!after.ok()) {
    FUZZ_CHECK(after.status().code() == absl::StatusCode::kInvalidArgument, "refusal code");
  } else {
    FUZZ_CHECK(text.empty() || tokens.Encode("query", *after) == text, "only its own tokens");
  }
  uint64_t bits = 0;
  for (size_t i = 0; i < size && i < 8; ++i) bits = bits << 8 | data[i];
  const int64_t position = static_cast<int64_t>(bits >> 2);
  auto back = tokens.Decode(text, tokens.Encode(text, position));
  FUZZ_CHECK(back.ok() && *back == position, "a token it made decodes to its position");
  FUZZ_CHECK(!tokens.Decode(std::string(text) + "x", tokens.Encode(text, position)).ok() ||
                 position == 0,
             "a token is bound to its query");
  return 0;
}
