#ifndef ESTATE_SERVICES_KIT_LIST_H_
#define ESTATE_SERVICES_KIT_LIST_H_

// Read handlers: Get and List.

#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "services/kit/db.h"
#include "services/kit/paging.h"
#include "services/kit/status_macros.h"
#include "services/kit/validate.h"

namespace kit {

// The shape Get handlers share (AIP-131): `name` is
// "sites/{site}/{collection}/{id}" (INVALID_ARGUMENT naming "name" if not),
// one read on a pooled connection, the row turned into the response:
//   read(Conn&, const SiteId&) -> StatusOr<Row>, NOT_FOUND when there is none
//   view(Row&), which sets the response
template <typename Read, typename View>
absl::Status GetOne(Db& db, absl::Time deadline, absl::string_view name,
                    absl::string_view collection, Read read, View view) {
  ASSIGN_OR_RETURN(SiteId ref, ParseSiteId("name", name, collection));
  return db.Run(deadline, [&](Conn& c) -> absl::Status {
    ASSIGN_OR_RETURN(auto row, read(c, ref));
    view(row);
    return absl::OkStatus();
  });
}

// The shape List handlers share (AIP-132/158): the page (its size and the
// keyset position it starts after), one read of page.size + 1 rows on a
// pooled connection, the next page's token from the last row kept, and each
// row added to the response. A handler brings only its own parts, its
// parent and filters checked before the call:
//   fetch(Conn&, const Page&) -> StatusOr<std::vector<Row>>, which may read
//     the parent first (NOT_FOUND for a batch that does not exist)
//   key_of(const Row&) -> int64_t, the row's keyset position
//   add(Row&), which appends the row to the response
template <typename Request, typename Fetch, typename KeyOf, typename Add>
absl::Status ListRows(Db& db, absl::Time deadline, const Request& req,
                      std::string* next_page_token, Fetch fetch, KeyOf key_of, Add add) {
  ASSIGN_OR_RETURN(Page page, PageOf(req));
  return db.Run(deadline, [&](Conn& c) -> absl::Status {
    ASSIGN_OR_RETURN(auto rows, fetch(c, page));
    *next_page_token = TrimPage(rows, page, req, key_of);
    for (auto& row : rows) add(row);
    return absl::OkStatus();
  });
}

// ListRows for the common parent, a site ("sites/{site}"):
//   fetch(Conn&, const std::string& site, const Page&)
template <typename Request, typename Fetch, typename KeyOf, typename Add>
absl::Status ListPage(Db& db, absl::Time deadline, const Request& req,
                      std::string* next_page_token, Fetch fetch, KeyOf key_of, Add add) {
  ASSIGN_OR_RETURN(std::string site, ParseSiteParent("parent", req.parent()));
  return ListRows(
      db, deadline, req, next_page_token,
      [&](Conn& c, const Page& page) { return fetch(c, site, page); }, key_of, add);
}

}  // namespace kit

#endif  // ESTATE_SERVICES_KIT_LIST_H_
