#ifndef ESTATE_SERVICES_KIT_LOG_CONTEXT_H_
#define ESTATE_SERVICES_KIT_LOG_CONTEXT_H_

#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace kit {

// gRPC metadata with the id the gateway gave the client's request (its
// X-Request-Id, or one it made up). Services log it on every line written
// while serving the call, and the outbox passes it on with the deliveries the
// call caused, so one id finds a request in every process it touched.
inline constexpr char kRequestIdMetadataKey[] = "x-request-id";

// What a log line written while serving a call says about it.
struct CallLog {
  std::string request_id;
  std::string method;
  std::string caller;
  // The internal cause of a failure (a database error's text), for the
  // call's one failure line; never sent to the client.
  std::string cause;
};

// The call this thread is serving, or null. The kit's interceptor sets it
// around a synchronous handler; the relay around a delivery. A thread-local
// copy: nothing dangles if a hook runs on another thread.
CallLog* CurrentCall();

// What a thread had before EnterCall, to put back with LeaveCall.
struct SavedCall {
  CallLog call;
  bool set = false;
};
SavedCall EnterCall(CallLog call);
void LeaveCall(SavedCall saved);

// EnterCall for a scope.
class ScopedCallLog {
 public:
  explicit ScopedCallLog(CallLog call) : saved_(EnterCall(std::move(call))) {}
  ~ScopedCallLog() { LeaveCall(std::move(saved_)); }
  ScopedCallLog(const ScopedCallLog&) = delete;
  ScopedCallLog& operator=(const ScopedCallLog&) = delete;

 private:
  SavedCall saved_;
};

// Records the internal cause of a failure on the current call, if any.
void NoteCause(absl::string_view cause);

// Metadata text as logs may carry it: at most 128 bytes, printable ASCII.
std::string PrintableMetadata(absl::string_view value);

// Sets how the process logs: "text" (one line: time, level, message, then
// request_id=... method=... caller=... while serving a call) or "json" (one
// object a line, for log collectors, with the same fields).
absl::Status SetLogFormat(absl::string_view format);

}  // namespace kit

#endif  // ESTATE_SERVICES_KIT_LOG_CONTEXT_H_
