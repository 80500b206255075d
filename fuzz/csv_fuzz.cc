// CSV imports (buyer lists, meter readings, debit results): any bytes either
// parse or are refused with INVALID_ARGUMENT; what parses, written back with
// CsvLine, parses to the same fields.
#include "absl/status/status.h"
#include "fuzz/fuzz_util.h"
#include "services/kit/csv.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto records = kit::ParseCsv("file", fuzz::Text(data, size));
  if (!records.ok()) {
    FUZZ_CHECK(records.status().code() == absl::StatusCode::kInvalidArgument, "refusal code");
    return 0;
  }
  std::string written;
  for (const kit::CsvRecord& r : *records) written += kit::CsvLine(r.fields);
  auto again = kit::ParseCsv("file", written);
  FUZZ_CHECK(again.ok(), "what parsed, written back, parses");
  // Blank lines are skipped, so a record of one empty field does not survive.
  size_t j = 0;
  for (const kit::CsvRecord& r : *records) {
    if (r.fields.size() == 1 && r.fields[0].empty()) continue;
    FUZZ_CHECK(j < again->size() && (*again)[j].fields == r.fields, "round trip keeps fields");
    ++j;
  }
  return 0;
}
