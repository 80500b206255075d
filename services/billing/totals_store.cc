// The running totals of the collection report.
#include "services/billing/totals_store.h"

#include <algorithm>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "services/billing/billing_store.h"
#include "services/billing/billing_validation.h"
#include "services/billing/store_rows.h"
#include "services/kit/bulk_insert.h"
#include "services/kit/etag.h"
#include "services/kit/in_list.h"
#include "services/kit/serial_lock.h"
#include "services/kit/status_macros.h"
#include "services/kit/unique_keys.h"

namespace billing::store {

using kit::Conn;
using kit::Row;
using kit::SqlParam;

// --- running totals ---------------------------------------------------------

absl::Status AddTotals(Conn& c, const std::string& site, const Totals& totals) {
  // One multi-row upsert in key order: concurrent writers lock totals rows in
  // the same order and so do not deadlock on them.
  std::vector<SqlParam> params;
  for (const auto& [k, d] : totals) {
    if (d.lines == 0 && d.billed == 0 && d.collected == 0 && d.written_off == 0) continue;
    for (SqlParam p :
         {SqlParam(site), SqlParam(k.period), SqlParam(k.building), SqlParam(k.item_id),
          SqlParam(k.late_fee), SqlParam(k.held), SqlParam(d.lines), SqlParam(d.billed),
          SqlParam(d.collected), SqlParam(d.written_off)}) {
      params.push_back(std::move(p));
    }
  }
  if (params.empty()) return absl::OkStatus();
  return kit::InsertRows(
             c,
             "INSERT INTO collection_totals (site, period_label, building, item_id, late_fee, "
             "held, line_count, billed_minor, collected_minor, written_off_minor) VALUES",
             10, params,
             "ON DUPLICATE KEY UPDATE line_count = line_count + VALUES(line_count), "
             "billed_minor = billed_minor + VALUES(billed_minor), "
             "collected_minor = collected_minor + VALUES(collected_minor), "
             "written_off_minor = written_off_minor + VALUES(written_off_minor)")
      .status();
}

}  // namespace billing::store
