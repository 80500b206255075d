// Update masks from PATCH requests: the first line of the input is the mask
// ("title,priority"), the rest a ticket in wire format. A mask naming a field
// outside the allowed ones is INVALID_ARGUMENT and changes nothing; an
// accepted one changes only masked fields, each to the source's value.
#include <algorithm>

#include "estate/tickets/v1/tickets.pb.h"
#include "fuzz/fuzz_util.h"
#include "google/protobuf/stubs/logging.h"
#include "google/protobuf/util/field_mask_util.h"
#include "google/protobuf/util/message_differencer.h"
#include "services/kit/update_mask.h"

using estate::tickets::v1::Ticket;

// protobuf logs every string field with bad UTF-8 it parses; the inputs are
// full of them.
extern "C" int LLVMFuzzerInitialize(int*, char***) {
  google::protobuf::SetLogHandler(nullptr);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const absl::string_view text = fuzz::Text(data, size);
  const size_t nl = text.find('\n');
  google::protobuf::FieldMask mask;
  google::protobuf::util::FieldMaskUtil::FromString(std::string(text.substr(0, nl)), &mask);
  Ticket source;
  if (nl != absl::string_view::npos &&
      !source.ParseFromString(std::string(text.substr(nl + 1)))) {
    return 0;
  }
  // Fields this build does not know stay out of the comparison: the mask
  // names known fields only.
  source.GetReflection()->MutableUnknownFields(&source)->Clear();
  Ticket before;
  before.set_title("Tap leaks");
  before.set_description("in the kitchen");
  before.set_unit("1-1-0301");
  Ticket target = before;
  const std::vector<std::string> allowed = {"title", "description", "priority", "category"};
  auto changed = kit::ApplyUpdateMask(source, mask, allowed, &target);
  if (!changed.ok()) {
    FUZZ_CHECK(changed.status().code() == absl::StatusCode::kInvalidArgument, "refusal code");
    FUZZ_CHECK(google::protobuf::util::MessageDifferencer::Equals(target, before),
               "a refused mask changes nothing");
    return 0;
  }
  const auto* d = Ticket::descriptor();
  for (int i = 0; i < d->field_count(); ++i) {
    const auto* f = d->field(i);
    const bool masked = std::find(mask.paths().begin(), mask.paths().end(), f->name()) !=
                        mask.paths().end();
    // Compare this field alone.
    google::protobuf::util::MessageDifferencer diff;
    for (int j = 0; j < d->field_count(); ++j) {
      if (j != i) diff.IgnoreField(d->field(j));
    }
    FUZZ_CHECK(diff.Compare(masked ? source : before, target),
               masked ? "a masked field takes the source's value" : "an unmasked field is kept");
  }
  for (const std::string& name : *changed) {
    FUZZ_CHECK(std::find(allowed.begin(), allowed.end(), name) != allowed.end(),
               "only allowed fields change");
  }
  return 0;
}
