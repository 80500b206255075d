#ifndef ESTATE_SERVICES_KIT_CSV_H_
#define ESTATE_SERVICES_KIT_CSV_H_

// CSV as spreadsheets write it (RFC 4180): the format of every file the
// suite imports or exports.

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace kit {

struct CsvRecord {
  int line = 0;  // where the record starts, 1-based
  std::vector<std::string> fields;
};

// Comma-separated fields, optionally in double quotes ("" is a quote inside
// them, and quoted fields may span lines); records end with LF or CRLF; a
// leading UTF-8 byte-order mark (as Excel writes) and blank lines are
// skipped. An unterminated quote or a quote inside an unquoted field is
// INVALID_ARGUMENT naming `field` and the line.
absl::StatusOr<std::vector<CsvRecord>> ParseCsv(absl::string_view field, absl::string_view text);

// One field, in quotes if it holds a comma, quote, line break or leading
// space.
std::string CsvField(absl::string_view value);

// One record, quoting fields that need it, ending in CRLF.
std::string CsvLine(const std::vector<std::string>& fields);

}  // namespace kit

#endif  // ESTATE_SERVICES_KIT_CSV_H_
