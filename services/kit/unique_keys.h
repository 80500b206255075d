#ifndef ESTATE_SERVICES_KIT_UNIQUE_KEYS_H_
#define ESTATE_SERVICES_KIT_UNIQUE_KEYS_H_

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace kit {

// What a duplicate on one unique key of a table means to a client. Every
// store declares its tables' keys once, next to its SQL, so that a
// duplicate reaches the API with one meaning everywhere (README, "Errors"):
//  - ALREADY_EXISTS: a create whose natural key another resource holds
//    (a key tag, a unit id, a SKU);
//  - FAILED_PRECONDITION: the key guards a state (one open loan per
//    document, one open count per warehouse) and the state forbids it;
//  - ABORTED: a lost race the caller should retry from a fresh read.
struct UniqueKeyRule {
  const char* key;  // the index name in the migration, e.g. "by_tag"
  absl::StatusCode code;
  const char* message;  // client-safe; a field first where one is to blame
};

// A store declares a table's keys as a constant next to its SQL:
//   constexpr kit::UniqueKeys kItemKeys{{
//       {"by_sku", absl::StatusCode::kAlreadyExists, "item.sku: already on the site"},
//   }};
// (an aggregate, so that it is a constant without a constructor running).
struct UniqueKeys {
  static constexpr int kMaxRules = 4;
  UniqueKeyRule rules[kMaxRules];  // unused ones have key == nullptr

  // `s` as the API should see it: a duplicate on a declared key becomes that
  // key's code and message; other statuses pass unchanged. A duplicate on an
  // undeclared key stays ALREADY_EXISTS and is logged as a store bug.
  absl::Status Map(absl::Status s) const;
  template <typename T>
  absl::StatusOr<T> Map(absl::StatusOr<T> s) const {
    if (s.ok()) return s;
    return Map(s.status());
  }
};

// The unique key a duplicate-key failure hit, as MariaDB names it ("" for
// any other status). Conn attaches it to the ALREADY_EXISTS it returns.
std::string DuplicateKeyOf(const absl::Status& s);

// ALREADY_EXISTS carrying the name of the key that fired (for Conn).
absl::Status DuplicateKeyError(absl::string_view key);

// The key name in MariaDB's (or MySQL 8's) message for error 1062,
// "Duplicate entry 'x' for key 'by_tag'" / "... for key 'keys.by_tag'".
std::string KeyNameFromDuplicateMessage(absl::string_view message);

}  // namespace kit

#endif  // ESTATE_SERVICES_KIT_UNIQUE_KEYS_H_
