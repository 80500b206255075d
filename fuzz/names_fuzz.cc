// Resource names, parents, dates and clock times from requests: refused with
// INVALID_ARGUMENT or parsed into ids that rebuild the same name.
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "fuzz/fuzz_util.h"
#include "services/kit/civil_text.h"
#include "services/kit/validate.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const absl::string_view text = fuzz::Text(data, size);
  auto ids = kit::ParseName("name", text, {"sites", "tickets"});
  if (ids.ok()) {
    FUZZ_CHECK(ids->size() == 2, "two ids");
    FUZZ_CHECK(absl::StrCat("sites/", (*ids)[0], "/tickets/", (*ids)[1]) == text,
               "ids rebuild the name");
    FUZZ_CHECK(kit::IdOf((*ids)[1]) > 0, "ids are positive");
  } else {
    FUZZ_CHECK(ids.status().code() == absl::StatusCode::kInvalidArgument, "refusal code");
  }
  auto site_id = kit::ParseSiteId("name", text, "keys");
  if (site_id.ok()) {
    FUZZ_CHECK(absl::StrCat("sites/", site_id->site, "/keys/", site_id->id) == text,
               "site and id rebuild the name");
  }
  auto parent = kit::ParseSiteParent("parent", text);
  if (parent.ok()) FUZZ_CHECK(absl::StrCat("sites/", *parent) == text, "site rebuilds parent");
  auto day = kit::ParseDay("day", text);
  if (day.ok()) FUZZ_CHECK(kit::DayText(*day) == text, "a day prints as it was written");
  FUZZ_CHECK(day.ok() == kit::IsDate(text) || !day.ok(), "ParseDay accepts only dates");
  auto minute = kit::ParseClock(text);
  if (minute) FUZZ_CHECK(kit::FormatClock(*minute) == text, "a clock time prints as written");
  (void)kit::IsUuid(text);
  return 0;
}
