#ifndef ESTATE_GATEWAY_PATH_TEMPLATE_H_
#define ESTATE_GATEWAY_PATH_TEMPLATE_H_

#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace gateway {

// A google.api.http path template such as "/v1/{name=sites/*/tickets/*}:close"
// or "/v1/{parent=sites/*}/tickets". Supports literals, `*`, a trailing `**`,
// variables ({field} or {field=segments}) and a custom verb.
class PathTemplate {
 public:
  static absl::StatusOr<PathTemplate> Parse(absl::string_view text);

  // A variable's field path and the value it captured ("sites/a/tickets/7").
  using Bindings = std::vector<std::pair<std::string, std::string>>;

  // Matches a request path (without the query string). Segments are
  // percent-decoded one by one; a captured segment that decodes to something
  // a name cannot hold ('/', ':', "..", control characters, bad UTF-8) does
  // not match, so traversal tricks never reach a service.
  bool Match(absl::string_view path, Bindings* bindings) const;

  // The template as written, for metric labels and OpenAPI.
  const std::string& text() const { return text_; }
  // The OpenAPI form, "/v1/sites/{siteId}/tickets/{ticketId}:close"; the
  // parameter names are appended to *params in order.
  std::string OpenApiPath(std::vector<std::string>* params) const;
  struct Variable {
    std::string field_path;  // "ticket.name"
    std::string pattern;     // "sites/*/tickets/*"
    size_t begin = 0;        // segment range [begin, end)
    size_t end = 0;
  };
  const std::vector<Variable>& variables() const { return variables_; }

 private:
  enum class Kind { kLiteral, kStar, kDoubleStar };
  struct Segment {
    Kind kind;
    std::string literal;
  };
  std::string text_;
  std::vector<Segment> segments_;
  std::vector<Variable> variables_;
  std::string verb_;
};

// Percent-decodes one path segment or query component; false on a broken escape.
bool PercentDecode(absl::string_view in, bool plus_is_space, std::string* out);

}  // namespace gateway

#endif  // ESTATE_GATEWAY_PATH_TEMPLATE_H_
