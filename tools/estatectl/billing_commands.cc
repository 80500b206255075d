#include "tools/estatectl/billing_commands.h"

#include <algorithm>
#include <cstdlib>
#include <iostream>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "nlohmann/json.hpp"
#include "services/kit/csv.h"
#include "services/kit/uuid.h"

namespace estatectl {
namespace {

using nlohmann::json;

// proto3 JSON writes int64 as strings, int32 as numbers, zero as nothing.
long long Int(const json& j, const char* key) {
  if (!j.contains(key)) return 0;
  const json& v = j[key];
  if (v.is_number()) return v.get<long long>();
  long long out = 0;
  return absl::SimpleAtoi(v.get<std::string>(), &out) ? out : 0;
}

std::string Str(const json& j, const char* key) {
  return j.contains(key) && j[key].is_string() ? j[key].get<std::string>() : "";
}

std::string Csv(const std::string& s) { return kit::CsvField(s); }

// The body of a successful call, or exits after printing the error.
json Ok(const HttpReply& r) {
  if (r.status == 0 || r.status >= 400) {
    std::cerr << "gateway answered " << r.status << ": " << r.body << "\n";
    std::exit(1);
  }
  return json::parse(r.body);
}

std::string Percent(long long basis_points) {
  return absl::StrFormat("%d.%02d", basis_points / 100, basis_points % 100);
}

void PrintAmounts(const char* title, const json& amounts) {
  std::cout << "  " << title << ":\n";
  for (const json& a : amounts) {
    std::cout << absl::StrFormat("    %-24s %8d lines %16s\n", Str(a, "key"), Int(a, "lines"),
                                 Major(Int(a, "amountMinor")));
  }
}

}  // namespace

std::string Major(long long minor) {
  const char* sign = minor < 0 ? "-" : "";
  const unsigned long long m = minor < 0 ? -static_cast<unsigned long long>(minor) : minor;
  return absl::StrFormat("%s%d.%02d", sign, m / 100, m % 100);
}

int BillRun(const HttpCall& call, const std::vector<std::string>& args, bool commit) {
  if (args.size() != 3) {
    std::cerr << "usage: estatectl bill-run SITE MONTHLY|QUARTERLY|YEARLY|HEATING_SEASON "
                 "YYYY-MM-DD [--commit]\n";
    return 2;
  }
  const std::string request_id = kit::NewUuid();
  json run = Ok(call("POST", absl::StrCat("/v1/sites/", args[0], "/billRuns?requestId=", request_id),
                     json{{"cycle", args[1]}, {"periodDate", args[2]}}.dump()));
  std::cout << Str(run, "name") << ": period " << Str(run, "period") << " ("
            << Str(run, "periodStart") << " to " << Str(run, "periodEnd") << "), "
            << Int(run, "accounts") << " accounts, " << Int(run, "lines") << " lines, "
            << Major(Int(run, "totalMinor")) << " " << Str(run, "currencyCode") << "; "
            << Int(run, "linesSkipped") << " lines already issued\n";
  PrintAmounts("by charge item", run.value("byChargeItem", json::array()));
  PrintAmounts("by building", run.value("byBuilding", json::array()));
  if (!commit) {
    std::cout << "draft only: review it (estatectl export run-lines " << Str(run, "name")
              << "), then run again with --commit\n";
    return 0;
  }
  const std::string name = Str(run, "name");
  run = Ok(call("POST", absl::StrCat("/v1/", name, ":commit"),
                json{{"requestId", kit::NewUuid()}}.dump()));
  const long long total = std::max<long long>(1, Int(run, "accounts"));
  for (;;) {
    const long long done = Int(run, "accountsDone");
    const int width = 40;
    const int filled = static_cast<int>(width * done / total);
    std::cerr << "\r[" << std::string(filled, '#') << std::string(width - filled, '.') << "] "
              << absl::StrFormat("%3d%%", static_cast<int>(100 * done / total)) << "  "
              << Int(run, "linesIssued") << " lines issued" << std::flush;
    if (Str(run, "state") == "COMMITTED") break;
    absl::SleepFor(absl::Milliseconds(250));
    run = Ok(call("GET", "/v1/" + name, ""));
  }
  std::cerr << "\n";
  std::cout << "committed: " << Int(run, "linesIssued") << " lines, "
            << Major(Int(run, "issuedMinor")) << " " << Str(run, "currencyCode") << " issued; "
            << Int(run, "linesSkipped") << " skipped as already issued\n";
  return 0;
}

int Export(const HttpCall& call, const std::vector<std::string>& args) {
  const std::string what = args.empty() ? "" : args[0];
  if (what == "collection" && args.size() == 3) {
    const json r = Ok(call(
        "GET", absl::StrCat("/v1/sites/", args[1], "/collectionReport?period=", args[2]), ""));
    std::cout << "lines,scope,key,billed,collected,written_off,outstanding,rate_percent\n";
    auto row = [](const std::string& lines, const std::string& scope, const json& c) {
      std::cout << lines << "," << scope << "," << Csv(Str(c, "key")) << ","
                << Major(Int(c, "billedMinor")) << "," << Major(Int(c, "collectedMinor")) << ","
                << Major(Int(c, "writtenOffMinor")) << "," << Major(Int(c, "outstandingMinor"))
                << "," << Percent(Int(c, "rateBasisPoints")) << "\n";
    };
    for (const char* set : {"allLines", "excludingDisputed"}) {
      const json f = r.value(set, json::object());
      row(set, "total", f.value("total", json::object()));
      for (const json& c : f.value("byBuilding", json::array())) row(set, "building", c);
      for (const json& c : f.value("byChargeItem", json::array())) row(set, "charge_item", c);
    }
    row("disputed", "total", r.value("disputed", json::object()));
    std::cout << "arrears_recovered,total,," << Major(Int(r, "arrearsRecoveredMinor"))
              << ",,,,\n";
    return 0;
  }
  if (what == "aging" && (args.size() == 2 || args.size() == 3)) {
    std::cout << "account,days_0_30,days_31_90,days_91_180,days_over_180,past_due,disputed\n";
    std::string token;
    do {
      std::string target = absl::StrCat("/v1/sites/", args[1], "/arrearsAging?pageSize=500");
      if (args.size() == 3) absl::StrAppend(&target, "&asOf=", args[2]);
      if (!token.empty()) absl::StrAppend(&target, "&pageToken=", token);
      const json page = Ok(call("GET", target, ""));
      for (const json& a : page.value("accounts", json::array())) {
        const json g = a.value("aging", json::object());
        std::cout << Csv(Str(a, "account")) << "," << Major(Int(g, "days030Minor")) << ","
                  << Major(Int(g, "days3190Minor")) << "," << Major(Int(g, "days91180Minor"))
                  << "," << Major(Int(g, "daysOver180Minor")) << "," << Major(Int(g, "totalMinor"))
                  << "," << Major(Int(g, "disputedMinor")) << "\n";
      }
      token = Str(page, "nextPageToken");
    } while (!token.empty());
    return 0;
  }
  if (what == "run-lines" && args.size() == 2) {
    std::cout << "account,building,charge_item,quantity,amount,due_date\n";
    std::string token;
    do {
      std::string target = absl::StrCat("/v1/", args[1], "/lines?pageSize=500");
      if (!token.empty()) absl::StrAppend(&target, "&pageToken=", token);
      const json page = Ok(call("GET", target, ""));
      for (const json& l : page.value("lines", json::array())) {
        std::cout << Csv(Str(l, "account")) << "," << Csv(Str(l, "building")) << ","
                  << Csv(Str(l, "code")) << "," << Str(l, "quantity") << ","
                  << Major(Int(l, "amountMinor")) << "," << Str(l, "dueDate") << "\n";
      }
      token = Str(page, "nextPageToken");
    } while (!token.empty());
    return 0;
  }
  std::cerr << "usage: estatectl export collection SITE PERIOD | aging SITE [AS_OF] | "
               "run-lines sites/SITE/billRuns/N\n";
  return 2;
}

}  // namespace estatectl
