#include "services/kit/outbox_admin.h"

#include "absl/strings/str_cat.h"
#include "services/kit/idempotency.h"
#include "services/kit/list.h"
#include "services/kit/paging.h"
#include "services/kit/proto_time.h"
#include "services/kit/status_macros.h"
#include "services/kit/validate.h"
#include "spdlog/spdlog.h"

namespace kit {
namespace {

namespace api = ::estate::api::v1;

constexpr char kColumns[] =
    "SELECT id, site, target, method, request_id, dead, attempts, last_code, last_error,"
    " created_at, delivered_at FROM outbox";

api::OutboxEntry EntryOf(const Row& r, const std::string& collection) {
  api::OutboxEntry e;
  e.set_name(absl::StrCat("sites/", r.Str(1), "/", collection, "/", r.Int(0)));
  e.set_target(r.Str(2));
  e.set_method(r.Str(3));
  e.set_request_id(r.Str(4));
  e.set_state(!r.IsNull(10) ? api::DELIVERED : r.Int(5) != 0 ? api::DEAD : api::PENDING);
  e.set_attempts(static_cast<int32_t>(r.Int(6)));
  if (r.Int(7) != 0) {
    e.set_last_code(absl::StatusCodeToString(static_cast<absl::StatusCode>(r.Int(7))));
  }
  e.set_last_error(r.Str(8));
  SetTimestamp(e.mutable_create_time(), r.Time(9));
  if (!r.IsNull(10)) SetTimestamp(e.mutable_deliver_time(), r.Time(10));
  return e;
}

}  // namespace

absl::Status OutboxAdmin::List(const api::ListOutboxEntriesRequest& req, absl::Time deadline,
                               api::ListOutboxEntriesResponse* resp) {
  std::string filter;
  switch (req.state()) {
    case api::OUTBOX_STATE_UNSPECIFIED: filter = " AND delivered_at IS NULL"; break;
    case api::PENDING: filter = " AND delivered_at IS NULL AND NOT dead"; break;
    case api::DEAD: filter = " AND dead"; break;
    case api::DELIVERED: filter = " AND delivered_at IS NOT NULL"; break;
    default: return FieldError("state", "PENDING, DEAD or DELIVERED");
  }
  return ListPage(
      db_, deadline, req, resp->mutable_next_page_token(),
      [&](Conn& c, const std::string& site, const Page& page) {
        return c.Query(absl::StrCat(kColumns, " WHERE site = ? AND id > ?", filter,
                                    " ORDER BY id LIMIT ?"),
                       {site, page.after, page.size + 1});
      },
      [](const Row& r) { return r.Int(0); },
      [&](const Row& r) { *resp->add_entries() = EntryOf(r, collection_); });
}

absl::Status OutboxAdmin::Retry(const api::RetryOutboxEntryRequest& req, absl::Time deadline,
                                const std::string& actor, api::OutboxEntry* resp) {
  ASSIGN_OR_RETURN(SiteId ref, ParseSiteId("name", req.name(), collection_));
  RETURN_IF_ERROR(CheckRequestId(req.request_id()));
  return IdempotentWrite(
      db_, deadline, "RetryOutboxEntry", req.request_id(), req, resp, [&](Conn& c) -> absl::Status {
        ASSIGN_OR_RETURN(Row r, c.QueryOne(absl::StrCat(kColumns,
                                                        " WHERE site = ? AND id = ? FOR UPDATE"),
                                           {ref.site, ref.id}, "outbox entry not found"));
        if (!r.IsNull(10)) return absl::FailedPreconditionError("the entry was delivered");
        RETURN_IF_ERROR(c.Exec("UPDATE outbox SET dead = FALSE, next_attempt_at = ? WHERE id = ?",
                               {clock_.Now(), ref.id})
                            .status());
        ASSIGN_OR_RETURN(Row after, c.QueryOne(absl::StrCat(kColumns, " WHERE id = ?"), {ref.id},
                                               "outbox entry not found"));
        *resp = EntryOf(after, collection_);
        spdlog::info("outbox {} to {} made due again by {} (was {})", ref.id, r.Str(2), actor,
                     r.Int(5) != 0 ? "dead" : "pending");
        return absl::OkStatus();
      });
}

}  // namespace kit
