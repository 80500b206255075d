#include "tools/estatectl/outbox_commands.h"

#include <iostream>

#include "absl/strings/str_cat.h"
#include "nlohmann/json.hpp"
#include "services/kit/uuid.h"

namespace estatectl {

namespace {

using nlohmann::json;

// Prints the reply's error and returns the exit code, or 0 for a 2xx.
int Failed(const HttpReply& r) {
  if (r.status >= 200 && r.status < 300) return 0;
  std::cerr << (r.status == 0 ? std::string("no answer") : absl::StrCat("HTTP ", r.status)) << ": "
            << r.body << "\n";
  return r.status == 0 ? 2 : 1;
}

void PrintEntry(const json& e) {
  std::cout << e.value("name", "") << "\t" << e.value("state", "") << "\t" << e.value("target", "")
            << "\tattempts=" << e.value("attempts", 0);
  if (!e.value("lastCode", "").empty()) {
    std::cout << "\t" << e.value("lastCode", "") << ": " << e.value("lastError", "");
  }
  std::cout << "\n";
}

}  // namespace

int Outbox(const HttpCall& call, const std::vector<std::string>& args, const std::string& state) {
  if (args.size() < 3 || (args[0] == "retry" && args.size() < 4)) {
    std::cerr << "usage: estatectl outbox list SERVICE SITE [--state=DEAD] | "
                 "outbox retry SERVICE SITE ID\n";
    return 2;
  }
  const std::string collection = absl::StrCat("/v1/sites/", args[2], "/", args[1], "Outbox");
  if (args[0] == "list") {
    std::string token;
    do {
      std::string target = absl::StrCat(collection, "?page_size=500");
      if (!state.empty()) absl::StrAppend(&target, "&state=", state);
      if (!token.empty()) absl::StrAppend(&target, "&page_token=", token);
      const HttpReply r = call("GET", target, "");
      if (int rc = Failed(r); rc != 0) return rc;
      const json page = json::parse(r.body, nullptr, false);
      if (page.is_discarded()) return Failed({500, r.body});
      for (const json& e : page.value("entries", json::array())) PrintEntry(e);
      token = page.value("nextPageToken", "");
    } while (!token.empty());
    return 0;
  }
  if (args[0] == "retry") {
    const HttpReply r = call("POST", absl::StrCat(collection, "/", args[3], ":retry"),
                             json{{"requestId", kit::NewUuid()}}.dump());
    if (int rc = Failed(r); rc != 0) return rc;
    PrintEntry(json::parse(r.body, nullptr, false));
    return 0;
  }
  std::cerr << "estatectl outbox: list or retry\n";
  return 2;
}

}  // namespace estatectl
