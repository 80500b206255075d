#include "services/kit/outbox.h"

#include "absl/strings/str_format.h"
#include "absl/synchronization/notification.h"
#include "grpcpp/generic/generic_stub.h"
#include "grpcpp/support/byte_buffer.h"
#include "services/kit/rpc_context.h"
#include "services/kit/uuid.h"
#include "spdlog/spdlog.h"

namespace kit {
namespace {

bool Permanent(grpc::StatusCode code) {
  switch (code) {
    case grpc::StatusCode::INVALID_ARGUMENT:
    case grpc::StatusCode::FAILED_PRECONDITION:
    case grpc::StatusCode::PERMISSION_DENIED:
    case grpc::StatusCode::NOT_FOUND:
    case grpc::StatusCode::UNIMPLEMENTED:
    case grpc::StatusCode::UNAUTHENTICATED:
      return true;
    default:
      return false;
  }
}

absl::Duration Backoff(int attempts) {
  absl::Duration d = absl::Seconds(1);
  for (int i = 1; i < attempts && d < absl::Minutes(5); ++i) d *= 2;
  return std::min(d, absl::Minutes(5));
}

}  // namespace

absl::StatusOr<int64_t> EnqueueCall(Conn& c, const std::string& site, const std::string& target,
                                    const std::string& method,
                                    google::protobuf::Message& request, absl::Time now) {
  const auto* field = request.GetDescriptor()->FindFieldByName("request_id");
  if (field == nullptr || field->type() != google::protobuf::FieldDescriptor::TYPE_STRING) {
    return absl::InternalError("an outbox call needs a request with a request_id");
  }
  const std::string request_id = NewUuid();
  request.GetReflection()->SetString(&request, field, request_id);
  return c.InsertReturningId(
      "INSERT INTO outbox (site, target, method, request, request_id, created_at,"
      " next_attempt_at) VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id",
      {site, target, method, request.SerializeAsString(), request_id, now, now});
}

OutboxRelay::OutboxRelay(Db& db, const Clock& clock,
                         std::map<std::string, std::shared_ptr<grpc::Channel>> targets,
                         prometheus::Registry* registry, absl::Duration call_timeout)
    : db_(db), clock_(clock), targets_(std::move(targets)), call_timeout_(call_timeout) {
  if (registry != nullptr) {
    outcomes_ = &prometheus::BuildCounter()
                     .Name("estate_outbox_deliveries_total")
                     .Help("Outbox delivery attempts by target and outcome "
                           "(delivered, retry, dead).")
                     .Register(*registry);
    for (const auto& [target, channel] : targets_) {
      for (const char* outcome : {"delivered", "retry", "dead"}) {
        outcomes_->Add({{"target", target}, {"outcome", outcome}});
      }
    }
    pending_ = &prometheus::BuildGauge()
                    .Name("estate_outbox_pending")
                    .Help("Outbox rows not yet delivered (dead ones excluded).")
                    .Register(*registry)
                    .Add({});
  }
}

absl::Status OutboxRelay::RunOnce(int batch) {
  // Take due rows under a lease in a short transaction, then call without
  // holding locks: a slow peer never blocks the writes that enqueue. Another
  // replica skips leased rows; a relay that dies mid-call leaves its rows to
  // be taken again when the lease ends (receivers are idempotent).
  const absl::Time now = clock_.Now();
  const absl::Duration lease = call_timeout_ * 2 + absl::Seconds(5);
  std::vector<Row> rows;
  absl::Status s = db_.Transact(absl::Now() + absl::Seconds(10), [&](Conn& c) -> absl::Status {
    absl::StatusOr<std::vector<Row>> due = c.Query(
        "SELECT id, target, method, request, attempts FROM outbox"
        " WHERE delivered_at IS NULL AND NOT dead AND next_attempt_at <= ?"
        " ORDER BY id LIMIT ? FOR UPDATE SKIP LOCKED",
        {now, batch});
    if (!due.ok()) return due.status();
    for (const Row& r : *due) {
      absl::Status st = c.Exec("UPDATE outbox SET next_attempt_at = ? WHERE id = ?",
                               {now + lease, r.Int(0)})
                            .status();
      if (!st.ok()) return st;
    }
    rows = std::move(*due);
    return absl::OkStatus();
  });
  if (!s.ok()) return s;

  for (const Row& r : rows) {
    const int64_t id = r.Int(0);
    const std::string& target = r.Str(1);
    const int attempts = static_cast<int>(r.Int(4)) + 1;
    grpc::Status result;
    auto channel = targets_.find(target);
    if (channel == targets_.end()) {
      result = grpc::Status(grpc::StatusCode::UNAVAILABLE, "no channel for target " + target);
    } else {
      grpc::GenericStub stub(channel->second);
      grpc::ClientContext ctx;
      ctx.set_deadline(absl::ToChronoTime(absl::Now() + call_timeout_));
      ctx.AddMetadata(kCallerMetadataKey, caller_);
      grpc::Slice slice(r.Str(3));
      grpc::ByteBuffer request(&slice, 1), response;
      absl::Notification done;
      stub.UnaryCall(&ctx, r.Str(2), grpc::StubOptions(), &request, &response,
                     [&](grpc::Status st) {
                       result = std::move(st);
                       done.Notify();
                     });
      done.WaitForNotification();
    }
    const char* outcome;
    absl::Status w;
    if (result.ok() || result.error_code() == grpc::StatusCode::ALREADY_EXISTS) {
      outcome = "delivered";
      w = db_.Run(absl::Now() + absl::Seconds(10), [&](Conn& c) {
        return c.Exec("UPDATE outbox SET delivered_at = ?, attempts = ? WHERE id = ?",
                      {clock_.Now(), attempts, id})
            .status();
      });
    } else {
      const bool dead = Permanent(result.error_code());
      outcome = dead ? "dead" : "retry";
      std::string error = absl::StrFormat("%d: %s", static_cast<int>(result.error_code()),
                                          result.error_message());
      if (error.size() > 500) error.resize(500);
      w = db_.Run(absl::Now() + absl::Seconds(10), [&](Conn& c) {
        return c.Exec("UPDATE outbox SET attempts = ?, next_attempt_at = ?, last_error = ?,"
                      " dead = ? WHERE id = ?",
                      {attempts, clock_.Now() + Backoff(attempts), error, dead, id})
            .status();
      });
      spdlog::log(dead ? spdlog::level::err : spdlog::level::warn,
                  "outbox {} to {} {} (attempt {}): {}", id, target, outcome, attempts, error);
    }
    // If this write is lost the lease runs out and the call is made again;
    // the receiver answers the repeat from its idempotency record.
    if (!w.ok()) return w;
    if (outcomes_ != nullptr) {
      outcomes_->Add({{"target", target}, {"outcome", outcome}}).Increment();
    }
  }
  if (pending_ != nullptr) {
    (void)db_.Run(absl::Now() + absl::Seconds(5), [&](Conn& c) -> absl::Status {
      absl::StatusOr<Row> n = c.QueryOne(
          "SELECT COUNT(*) FROM outbox WHERE delivered_at IS NULL AND NOT dead", {}, "");
      if (n.ok()) pending_->Set(static_cast<double>(n->Int(0)));
      return n.status();
    });
  }
  return absl::OkStatus();
}

}  // namespace kit
