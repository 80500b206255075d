// What a log line says about the call it was written for, in both formats.
#include "services/kit/log_context.h"

#include <sstream>

#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "spdlog/sinks/ostream_sink.h"
#include "spdlog/spdlog.h"

namespace kit {
namespace {

// Logs through the default logger into a string, restoring it afterwards.
class CapturedLog {
 public:
  CapturedLog() : previous_(spdlog::default_logger()) {
    auto logger = std::make_shared<spdlog::logger>(
        "", std::make_shared<spdlog::sinks::ostream_sink_mt>(out_));
    spdlog::set_default_logger(logger);
  }
  ~CapturedLog() { spdlog::set_default_logger(previous_); }
  std::string text() { return out_.str(); }

 private:
  std::ostringstream out_;
  std::shared_ptr<spdlog::logger> previous_;
};

TEST(LogContext, TextLinesNameTheCallTheyWereWrittenFor) {
  CapturedLog log;
  ASSERT_TRUE(SetLogFormat("text").ok());
  spdlog::info("outside any call");
  {
    ScopedCallLog call(CallLog{"req-42", "/estate.tickets.v1.TicketService/CreateTicket",
                               "user:desk-zhao", ""});
    spdlog::warn("database error 2013");
  }
  const std::string out = log.text();
  EXPECT_NE(out.find("outside any call\n"), std::string::npos) << out;
  EXPECT_NE(out.find("database error 2013 request_id=req-42 method=/estate.tickets.v1."
                     "TicketService/CreateTicket caller=user:desk-zhao\n"),
            std::string::npos)
      << out;
}

TEST(LogContext, JsonLinesAreOneObjectEachWithTheCall) {
  CapturedLog log;
  ASSERT_TRUE(SetLogFormat("json").ok());
  {
    ScopedCallLog call(CallLog{"req-7", "/m", "user:a", ""});
    spdlog::error("quote \" backslash \\ newline \n tab \t bell \a");
  }
  spdlog::info("no call");
  std::istringstream lines(log.text());
  std::string first, second;
  std::getline(lines, first);
  std::getline(lines, second);
  const nlohmann::json a = nlohmann::json::parse(first);
  EXPECT_EQ(a["level"], "error");
  EXPECT_EQ(a["msg"], "quote \" backslash \\ newline \n tab \t bell \a");
  EXPECT_EQ(a["request_id"], "req-7");
  EXPECT_EQ(a["caller"], "user:a");
  const nlohmann::json b = nlohmann::json::parse(second);
  EXPECT_EQ(b["msg"], "no call");
  EXPECT_FALSE(b.contains("request_id"));
  ASSERT_TRUE(SetLogFormat("text").ok());
}

TEST(LogContext, TheCauseStaysWithTheCallAndScopesNest) {
  EXPECT_EQ(CurrentCall(), nullptr);
  NoteCause("ignored outside a call");
  {
    ScopedCallLog outer(CallLog{"outer", "/a", "x", ""});
    {
      ScopedCallLog inner(CallLog{"inner", "/b", "y", ""});
      NoteCause("database error 1205");
      EXPECT_EQ(CurrentCall()->cause, "database error 1205");
    }
    EXPECT_EQ(CurrentCall()->request_id, "outer");
    EXPECT_EQ(CurrentCall()->cause, "");
  }
  EXPECT_EQ(CurrentCall(), nullptr);
  EXPECT_FALSE(SetLogFormat("xml").ok());
}

}  // namespace
}  // namespace kit
