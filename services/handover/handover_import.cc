// Buyer lists into a batch: the rows read in buyer_list.cc, each case made
// as CreateHandoverCase makes one.
#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "services/handover/buyer_list.h"
#include "services/handover/handover_service.h"
#include "services/kit/errors.h"
#include "services/kit/idempotency.h"
#include "services/kit/rpc_context.h"
#include "services/kit/status_macros.h"
#include "services/kit/validate.h"

namespace handover {

using kit::FieldError;
using kit::ToGrpc;

namespace {
constexpr size_t kMaxCsvBytes = 4 * 1024 * 1024;
}  // namespace

grpc::Status HandoverService::ImportHandoverCases(grpc::ServerContext* ctx,
                                                  const v1::ImportHandoverCasesRequest* req,
                                                  v1::ImportHandoverCasesResponse* resp) {
  absl::StatusOr<kit::SiteId> batch = kit::ParseSiteId("batch", req->batch(), "handoverBatches");
  if (!batch.ok()) return ToGrpc(batch.status());
  RETURN_GRPC_IF_ERROR(kit::CheckRequestId(req->request_id()));
  if (req->csv().empty()) {
    return ToGrpc(FieldError("csv", "required: the buyer list, header row first"));
  }
  if (req->csv().size() > kMaxCsvBytes) {
    return ToGrpc(FieldError("csv", "larger than 4 MiB; split the list"));
  }
  absl::StatusOr<std::vector<ListedCase>> listed = ReadBuyerList(req->csv());
  if (!listed.ok()) return ToGrpc(listed.status());
  const std::string actor = kit::CallerOf(*ctx);
  return ToGrpc(kit::IdempotentWrite(
      db_, kit::DeadlineOf(*ctx), "ImportHandoverCases", req->request_id(), *req, resp,
      [&](kit::Conn& c) -> absl::Status {
        resp->Clear();
        RETURN_IF_ERROR(store::ReadBatch(c, batch->site, batch->id).status());
        ASSIGN_OR_RETURN(const auto existing, store::CaseBatchByUnit(c, batch->site));
        const absl::Time now = clock_.Now();
        for (const ListedCase& row : *listed) {
          const std::string& unit = row.body.unit();
          if (auto it = existing.find(unit); it != existing.end()) {
            // Re-importing an updated list adds only its new units.
            if (it->second == batch->id) {
              resp->set_cases_skipped(resp->cases_skipped() + 1);
              continue;
            }
            return absl::AlreadyExistsError(absl::StrCat(
                "csv: line ", row.line, ", unit: ", unit, " already has a case in sites/",
                batch->site, "/handoverBatches/", it->second));
          }
          absl::StatusOr<int64_t> id =
              store::CreateCase(c, batch->site, batch->id, row.body, actor,
                                absl::StrCat(unit, " (buyer list, line ", row.line, ")"), now);
          if (absl::IsAlreadyExists(id.status())) {
            // Made by someone else since the read: for the import as a whole
            // a lost race, and all of it rolls back.
            return absl::AbortedError(
                absl::StrCat("unit ", unit, " got a handover case meanwhile; import again"));
          }
          RETURN_IF_ERROR(id.status());
          resp->set_cases_created(resp->cases_created() + 1);
        }
        return absl::OkStatus();
      }));
}

}  // namespace handover
