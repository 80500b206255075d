#ifndef ESTATE_TOOLS_DEMO_STEP_IDS_H_
#define ESTATE_TOOLS_DEMO_STEP_IDS_H_

#include <string>

#include "absl/strings/string_view.h"

namespace demo {

// A UUID (version 8, "vendor-specific") that depends only on the site and the
// step label, so a re-run of a loader sends each step under the id it had
// before and the service answers it from its idempotency records.
std::string StepRequestId(absl::string_view site, absl::string_view step);

}  // namespace demo

#endif  // ESTATE_TOOLS_DEMO_STEP_IDS_H_
