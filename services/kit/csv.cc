#include "services/kit/csv.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/strip.h"
#include "services/kit/field_error.h"

namespace kit {

absl::StatusOr<std::vector<CsvRecord>> ParseCsv(absl::string_view field, absl::string_view text) {
  absl::ConsumePrefix(&text, "\xEF\xBB\xBF");
  std::vector<CsvRecord> out;
  CsvRecord record;
  std::string value;
  int line = 1;
  record.line = 1;
  bool quoted = false;        // inside a quoted field
  bool was_quoted = false;    // the current field was quoted
  bool any = false;           // the record has content
  const auto end_field = [&] {
    record.fields.push_back(std::move(value));
    value.clear();
    was_quoted = false;
  };
  const auto end_record = [&] {
    if (any) {
      end_field();
      out.push_back(std::move(record));
    }
    record = CsvRecord();
    value.clear();
    was_quoted = false;
    any = false;
  };
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (quoted) {
      if (c == '"') {
        if (i + 1 < text.size() && text[i + 1] == '"') {
          value.push_back('"');
          ++i;
        } else {
          quoted = false;
        }
      } else {
        if (c == '\n') ++line;
        value.push_back(c);
      }
      continue;
    }
    if (c == '\r' && i + 1 < text.size() && text[i + 1] == '\n') continue;
    if (c == '\n') {
      end_record();
      ++line;
      record.line = line;
      continue;
    }
    if (!any) record.line = line;
    any = true;
    if (c == ',') {
      end_field();
    } else if (c == '"') {
      if (!value.empty() || was_quoted) {
        return FieldError(field, absl::StrCat("line ", line, ": a quote inside an unquoted field"));
      }
      quoted = true;
      was_quoted = true;
    } else if (was_quoted) {
      return FieldError(field, absl::StrCat("line ", line, ": text after a closing quote"));
    } else {
      value.push_back(c);
    }
  }
  if (quoted) return FieldError(field, absl::StrCat("line ", record.line, ": unterminated quote"));
  end_record();
  return out;
}

std::string CsvField(absl::string_view f) {
  // A field that starts with a byte-order mark is quoted: first in a file,
  // readers (this one, Excel) would take the mark for the file's and drop it.
  if (f.find_first_of(",\"\r\n") != absl::string_view::npos || (!f.empty() && f.front() == ' ') ||
      absl::StartsWith(f, "\xEF\xBB\xBF")) {
    return absl::StrCat("\"", absl::StrReplaceAll(f, {{"\"", "\"\""}}), "\"");
  }
  return std::string(f);
}

std::string CsvLine(const std::vector<std::string>& fields) {
  std::string out;
  for (size_t i = 0; i < fields.size(); ++i) {
    if (i > 0) out.push_back(',');
    out += CsvField(fields[i]);
  }
  out += "\r\n";
  return out;
}

}  // namespace kit
