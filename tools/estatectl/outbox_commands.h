#ifndef ESTATE_TOOLS_ESTATECTL_OUTBOX_COMMANDS_H_
#define ESTATE_TOOLS_ESTATECTL_OUTBOX_COMMANDS_H_

#include <string>
#include <vector>

#include "tools/estatectl/billing_commands.h"

namespace estatectl {

// estatectl outbox list SERVICE SITE [--state=DEAD|PENDING|DELIVERED]: one
// line per entry (every page): name, state, target, attempts, last code and
// message. estatectl outbox retry SERVICE SITE ID: makes the entry due now.
// Both need an admin's token.
int Outbox(const HttpCall& call, const std::vector<std::string>& args, const std::string& state);

}  // namespace estatectl

#endif  // ESTATE_TOOLS_ESTATECTL_OUTBOX_COMMANDS_H_
