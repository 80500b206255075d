#ifndef ESTATE_TOOLS_ESTATECTL_BILLING_COMMANDS_H_
#define ESTATE_TOOLS_ESTATECTL_BILLING_COMMANDS_H_

#include <functional>
#include <string>
#include <vector>

namespace estatectl {

struct HttpReply {
  int status = 0;  // 0: no answer
  std::string body;
};
// One HTTP call to the gateway with the caller's credentials.
using HttpCall =
    std::function<HttpReply(const std::string& method, const std::string& target,
                            const std::string& body)>;

// estatectl bill-run SITE CYCLE DATE [--commit]: a dry run's totals, then
// (with --commit) the commit with a progress bar until it completes.
int BillRun(const HttpCall& call, const std::vector<std::string>& args, bool commit);

// estatectl export collection SITE PERIOD | aging SITE [AS_OF] |
// run-lines sites/S/billRuns/N: CSV on standard output, every page followed;
// money in yuan with two decimals, exact.
int Export(const HttpCall& call, const std::vector<std::string>& args);

// Minor units as major with two decimals, exactly: 12345 -> "123.45".
std::string Major(long long minor);

}  // namespace estatectl

#endif  // ESTATE_TOOLS_ESTATECTL_BILLING_COMMANDS_H_
