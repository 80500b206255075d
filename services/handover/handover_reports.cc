// A batch's report: the cases and their timelines read once, the
// arithmetic in report.cc.
#include <cstdint>
#include <limits>
#include <map>
#include <utility>
#include <vector>

#include "services/handover/handover_service.h"
#include "services/handover/report.h"
#include "services/kit/errors.h"
#include "services/kit/rpc_context.h"
#include "services/kit/status_macros.h"
#include "services/kit/validate.h"

namespace handover {

using kit::FieldError;
using kit::ToGrpc;

namespace {
constexpr int kDefaultReturnVisitAfterDays = 30;
constexpr int kMaxReturnVisitAfterDays = 3650;
}  // namespace

grpc::Status HandoverService::GetHandoverReport(grpc::ServerContext* ctx,
                                                const v1::GetHandoverReportRequest* req,
                                                v1::HandoverReport* resp) {
  absl::StatusOr<kit::SiteId> ref = kit::ParseSiteId("batch", req->batch(), "handoverBatches");
  if (!ref.ok()) return ToGrpc(ref.status());
  int after_days = req->return_visit_after_days();
  if (after_days < 0 || after_days > kMaxReturnVisitAfterDays) {
    return ToGrpc(FieldError("return_visit_after_days", "between 1 and 3650 (0 or unset: 30)"));
  }
  if (after_days == 0) after_days = kDefaultReturnVisitAfterDays;
  return ToGrpc(db_.Run(kit::DeadlineOf(*ctx), [&](kit::Conn& c) -> absl::Status {
    ASSIGN_OR_RETURN(store::BatchRow batch, store::ReadBatch(c, ref->site, ref->id));
    store::CaseFilter f{ref->site};
    f.batch_id = ref->id;
    // The whole batch in two statements (a batch is a few thousand units).
    ASSIGN_OR_RETURN(std::vector<store::CaseRow> rows,
                     store::ListCases(c, f, 0, std::numeric_limits<int>::max()));
    ASSIGN_OR_RETURN(std::vector<store::BatchEvent> events,
                     store::EventsOfBatch(c, ref->site, ref->id, ReportEventTypes()));
    std::vector<CaseHistory> cases;
    cases.reserve(rows.size());
    std::map<int64_t, size_t> index;
    for (store::CaseRow& row : rows) {
      index[row.id] = cases.size();
      cases.push_back({std::move(row.body), {}});
    }
    // A case made between the two reads has no body here: its lines wait
    // for the next report.
    for (store::BatchEvent& e : events) {
      if (auto it = index.find(e.case_id); it != index.end()) {
        cases[it->second].moves.push_back({std::move(e.type), e.time});
      }
    }
    absl::TimeZone zone;
    absl::LoadTimeZone(batch.spec.time_zone(), &zone);  // checked with the batch
    *resp =
        BuildHandoverReport(batch.spec, cases, absl::ToCivilDay(clock_.Now(), zone), after_days);
    return absl::OkStatus();
  }));
}

}  // namespace handover
