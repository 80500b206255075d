#ifndef ESTATE_TOOLS_ESTATECTL_ARCHIVES_COMMANDS_H_
#define ESTATE_TOOLS_ESTATECTL_ARCHIVES_COMMANDS_H_

#include <string>
#include <vector>

#include "tools/estatectl/billing_commands.h"

namespace estatectl {

// estatectl import units SITE FILE.csv: the buyer list, all or nothing;
// every bad row on standard error (exit 1), else what was created.
int ImportUnits(const HttpCall& call, const std::vector<std::string>& args);

// estatectl export units SITE [BUILDING] [--reveal_reason=WHY]: the register
// as CSV on standard output (personal data masked without a reason).
int ExportUnits(const HttpCall& call, const std::vector<std::string>& args,
                const std::string& reveal_reason);

}  // namespace estatectl

#endif  // ESTATE_TOOLS_ESTATECTL_ARCHIVES_COMMANDS_H_
