#ifndef ESTATE_TOOLS_DEMO_DEMO_CALL_H_
#define ESTATE_TOOLS_DEMO_DEMO_CALL_H_

#include <cstdlib>
#include <iostream>
#include <string>

#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "grpcpp/client_context.h"
#include "grpcpp/support/status.h"
#include "tools/demo/demo_identity.h"

namespace demo {

// Calls `rpc` as the demo loader until it answers something other than
// UNAVAILABLE, or `wait` has passed: a service just started may not have its
// database yet.
template <typename Stub, typename Req, typename Resp>
grpc::Status Call(Stub& stub, grpc::Status (Stub::*rpc)(grpc::ClientContext*, const Req&, Resp*),
                  const Req& req, Resp* resp, absl::Duration wait = absl::Seconds(10)) {
  const absl::Time give_up = absl::Now() + wait;
  for (;;) {
    grpc::ClientContext ctx;
    ctx.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(30)));
    Sign(ctx, req, "user:demo-loader");
    grpc::Status s = (stub.*rpc)(&ctx, req, resp);
    if (s.error_code() != grpc::StatusCode::UNAVAILABLE || absl::Now() > give_up) return s;
    absl::SleepFor(absl::Seconds(1));
  }
}

// Exits on any error: a demo that half-loads is worse than none, and the
// next run takes up every step from where this one left it.
inline void Must(const grpc::Status& s, const std::string& what) {
  if (!s.ok()) {
    std::cerr << what << " failed: " << s.error_message() << "\n";
    std::exit(1);
  }
}

}  // namespace demo

#endif  // ESTATE_TOOLS_DEMO_DEMO_CALL_H_
