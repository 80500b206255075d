#include "tools/estatectl/archives_commands.h"

#include <fstream>
#include <iostream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "nlohmann/json.hpp"
#include "services/kit/uuid.h"

namespace estatectl {
namespace {

using nlohmann::json;

// A query parameter value, percent-encoded (RFC 3986 unreserved kept).
std::string Query(const std::string& s) {
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      out += absl::StrFormat("%%%02X", c);
    }
  }
  return out;
}

bool Failed(const HttpReply& r) {
  if (r.status != 0 && r.status < 400) return false;
  std::cerr << "gateway answered " << r.status << ": " << r.body << "\n";
  return true;
}

}  // namespace

int ImportUnits(const HttpCall& call, const std::vector<std::string>& args) {
  if (args.size() != 2) {
    std::cerr << "usage: estatectl import units SITE FILE.csv\n";
    return 2;
  }
  std::ifstream in(args[1], std::ios::binary);
  if (!in) {
    std::cerr << "cannot read " << args[1] << "\n";
    return 2;
  }
  std::stringstream csv;
  csv << in.rdbuf();
  const json body = {{"csv", csv.str()}, {"requestId", kit::NewUuid()}};
  const HttpReply r = call("POST", absl::StrCat("/v1/sites/", args[0], "/units:import"), body.dump());
  if (Failed(r)) return 1;
  const json report = json::parse(r.body);
  if (report.contains("errors")) {
    for (const json& e : report["errors"]) {
      std::cerr << args[1] << ":" << e.value("line", 0) << ": "
                << (e.value("column", "").empty() ? "" : e.value("column", "") + ": ")
                << e.value("message", "") << "\n";
    }
    std::cerr << "nothing imported: " << report["errors"].size() << " row(s) to fix\n";
    return 1;
  }
  std::cout << report.value("unitsCreated", 0) << " units and " << report.value("partiesCreated", 0)
            << " parties imported into sites/" << args[0] << "\n";
  return 0;
}

int ExportUnits(const HttpCall& call, const std::vector<std::string>& args,
                const std::string& reveal_reason) {
  if (args.empty() || args.size() > 2) {
    std::cerr << "usage: estatectl export units SITE [BUILDING] [--reveal_reason=WHY]\n";
    return 2;
  }
  std::string target = absl::StrCat("/v1/sites/", args[0], "/units:export?building=",
                                    Query(args.size() == 2 ? args[1] : ""));
  if (!reveal_reason.empty()) absl::StrAppend(&target, "&revealReason=", Query(reveal_reason));
  const HttpReply r = call("GET", target, "");
  if (Failed(r)) return 1;
  std::cout << json::parse(r.body).value("csv", "");
  return 0;
}

}  // namespace estatectl
