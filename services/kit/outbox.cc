#include "services/kit/outbox.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "grpcpp/generic/generic_stub.h"
#include "grpcpp/support/byte_buffer.h"
#include "services/kit/log_context.h"
#include "services/kit/rpc_context.h"
#include "services/kit/status_macros.h"
#include "services/kit/uuid.h"
#include "spdlog/spdlog.h"

namespace kit {
namespace {

// Codes after which the same call may succeed later: the peer is down, slow,
// lost a race, or is over a limit. Anything else is the receiver's final
// word, and the row waits for an operator.
bool Retryable(grpc::StatusCode code) {
  switch (code) {
    case grpc::StatusCode::UNAVAILABLE:
    case grpc::StatusCode::DEADLINE_EXCEEDED:
    case grpc::StatusCode::ABORTED:
    case grpc::StatusCode::RESOURCE_EXHAUSTED:
    // The receiver did not accept our identity: a key missing or rotated on
    // one side only. An operator's fix, after which the row must still go.
    case grpc::StatusCode::UNAUTHENTICATED:
      return true;
    default:
      return false;
  }
}

// One unary call through a generic stub, waited for on this thread.
grpc::Status CallNow(const std::shared_ptr<grpc::Channel>& channel, const std::string& method,
                     const std::string& body,
                     absl::Duration timeout, const IdentitySigner* signer,
                     const std::string& audience, const std::string& caller,
                     const std::string& request_id, std::string* response) {
  grpc::GenericStub stub(channel);
  grpc::ClientContext ctx;
  ctx.set_deadline(absl::ToChronoTime(absl::Now() + timeout));
  if (signer != nullptr) {
    if (absl::Status s = signer->Attach(ctx, audience, caller); !s.ok()) {
      return grpc::Status(grpc::StatusCode::UNAUTHENTICATED, std::string(s.message()));
    }
  }
  if (!request_id.empty()) ctx.AddMetadata(kRequestIdMetadataKey, request_id);
  grpc::Slice slice(body);
  grpc::ByteBuffer request(&slice, 1), reply;
  grpc::Status result;
  absl::Notification done;
  stub.UnaryCall(&ctx, method, grpc::StubOptions(), &request, &reply, [&](grpc::Status st) {
    result = std::move(st);
    done.Notify();
  });
  done.WaitForNotification();
  if (result.ok() && response != nullptr) {
    std::vector<grpc::Slice> slices;
    if (reply.Dump(&slices).ok()) {
      for (const grpc::Slice& s : slices) {
        response->append(reinterpret_cast<const char*>(s.begin()), s.size());
      }
    }
  }
  return result;
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
  const CallLog* origin = CurrentCall();
  return c.InsertReturningId(
      "INSERT INTO outbox (site, target, method, request, request_id, created_at,"
      " next_attempt_at, origin_request_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
      {site, target, method, request.SerializeAsString(), request_id, now, now,
       origin != nullptr ? origin->request_id : ""});
}

OutboxRelay::OutboxRelay(Db& db, const Clock& clock,
                         std::map<std::string, std::shared_ptr<grpc::Channel>> targets,
                         prometheus::Registry* registry, OutboxOptions options)
    : db_(db), clock_(clock), options_(options) {
  for (auto& [name, channel] : targets) {
    auto t = std::make_unique<Target>();
    t->name = name;
    t->channel = std::move(channel);
    targets_.push_back(std::move(t));
  }
  if (registry == nullptr) return;
  outcomes_ = &prometheus::BuildCounter()
                   .Name("estate_outbox_deliveries_total")
                   .Help("Outbox delivery attempts by target and outcome (delivered, retry, "
                         "dead).")
                   .Register(*registry);
  pending_ = &prometheus::BuildGauge()
                  .Name("estate_outbox_pending")
                  .Help("Outbox rows not yet delivered, dead ones left out, by target.")
                  .Register(*registry);
  dead_ = &prometheus::BuildGauge()
               .Name("estate_outbox_dead")
               .Help("Outbox rows the receiver refused for good, waiting for an operator.")
               .Register(*registry);
  oldest_ = &prometheus::BuildGauge()
                 .Name("estate_outbox_oldest_pending_seconds")
                 .Help("Age of the oldest row not yet delivered (dead ones left out), by target.")
                 .Register(*registry);
  for (const auto& t : targets_) {
    for (const char* outcome : {"delivered", "retry", "dead"}) {
      outcomes_->Add({{"target", t->name}, {"outcome", outcome}});
    }
    pending_->Add({{"target", t->name}});
    dead_->Add({{"target", t->name}});
    oldest_->Add({{"target", t->name}});
  }
}

OutboxRelay::~OutboxRelay() { Stop(); }

void OutboxRelay::Start() {
  absl::MutexLock lock(&mu_);
  if (started_ || stopping_) return;
  started_ = true;
  for (auto& t : targets_) {
    Target* raw = t.get();
    t->worker = std::thread([this, raw] { Work(raw); });
  }
}

void OutboxRelay::Stop() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  for (auto& t : targets_) {
    if (t->worker.joinable()) t->worker.join();
  }
}

bool OutboxRelay::Pause(absl::Duration d) {
  absl::MutexLock lock(&mu_);
  mu_.AwaitWithTimeout(absl::Condition(&stopping_), d);
  return !stopping_;
}

bool OutboxRelay::Serving(Target* t) {
  std::string reply;
  const grpc::Status s =
      CallNow(t->channel, "/grpc.health.v1.Health/Check", "",
              std::min(options_.probe_interval, absl::Seconds(1)), nullptr, "", "", "",
              &reply);
  // HealthCheckResponse{status: SERVING} is field 1 = 1.
  return s.ok() && reply == std::string("\x08\x01", 2);
}

void OutboxRelay::Work(Target* t) {
  for (;;) {
    if (t->failures > 0 && absl::Now() < t->retry_at) {
      // Backing off: a health probe is cheap, and tells the moment the peer
      // is back, however long the backoff has grown.
      if (!Serving(t)) {
        if (!Pause(options_.probe_interval)) return;
        continue;
      }
      spdlog::info("outbox target {} is serving again; delivering its backlog", t->name);
      t->failures = 0;
    }
    absl::StatusOr<int> delivered = DeliverOnce(t->name);
    if (delivered.ok() && *delivered >= options_.batch) continue;  // more may be due
    const absl::Duration wait = !delivered.ok() || t->failures > 0 ? options_.probe_interval
                                                                   : options_.poll_interval;
    if (!Pause(wait)) return;
  }
}

absl::StatusOr<int> OutboxRelay::DeliverOnce(const std::string& name) {
  auto found = std::find_if(targets_.begin(), targets_.end(),
                            [&](const auto& t) { return t->name == name; });
  if (found == targets_.end()) return absl::InvalidArgumentError("target: unknown " + name);
  Target* t = found->get();
  // Take due rows under a lease in a short transaction, then call without
  // holding locks: a slow peer never blocks the writes that enqueue. Another
  // replica skips leased rows; a relay that dies mid-call leaves its rows to
  // be taken again when the lease ends (receivers are idempotent).
  const absl::Time now = clock_.Now();
  const absl::Duration lease = options_.call_timeout * 2 + absl::Seconds(5);
  std::vector<Row> rows;
  RETURN_IF_ERROR(db_.Transact(absl::Now() + absl::Seconds(10), [&](Conn& c) -> absl::Status {
    ASSIGN_OR_RETURN(rows, c.Query("SELECT id, method, request, attempts, origin_request_id"
                                   " FROM outbox"
                                   " WHERE target = ? AND delivered_at IS NULL AND NOT dead"
                                   " AND next_attempt_at <= ? ORDER BY id LIMIT ?"
                                   " FOR UPDATE SKIP LOCKED",
                                   {name, now, options_.batch}));
    for (const Row& r : rows) {
      RETURN_IF_ERROR(c.Exec("UPDATE outbox SET next_attempt_at = ? WHERE id = ?",
                             {now + lease, r.Int(0)})
                          .status());
    }
    return absl::OkStatus();
  }));
  const auto record = [&](const char* sql, const std::vector<SqlParam>& params) {
    // If this write is lost the lease runs out and the call is made again;
    // the receiver answers the repeat from its idempotency record.
    return db_.Run(absl::Now() + absl::Seconds(10),
                   [&](Conn& c) { return c.Exec(sql, params).status(); });
  };
  const auto count = [&](const char* outcome) {
    if (outcomes_ != nullptr) outcomes_->Add({{"target", name}, {"outcome", outcome}}).Increment();
  };
  // Rows answered OK are marked delivered together, in one transaction per
  // pass (one commit rather than one per row). If that write is lost, the
  // lease runs out and they are called again; the receivers answer the
  // repeats as they answered the first time.
  std::vector<DeliveredCall> done;
  std::vector<int64_t> done_attempts;
  const auto mark_delivered = [&]() -> absl::Status {
    if (done.empty()) return absl::OkStatus();
    const absl::Status s =
        db_.Transact(absl::Now() + absl::Seconds(10), [&](Conn& c) -> absl::Status {
          const absl::Time at = clock_.Now();
          for (size_t k = 0; k < done.size(); ++k) {
            RETURN_IF_ERROR(c.Exec("UPDATE outbox SET delivered_at = ?, attempts = ?,"
                                   " last_error = '', last_code = 0 WHERE id = ?",
                                   {at, done_attempts[k], done[k].id})
                                .status());
            if (options_.on_delivered) RETURN_IF_ERROR(options_.on_delivered(c, done[k]));
          }
          return absl::OkStatus();
        });
    done.clear();
    done_attempts.clear();
    return s;
  };
  int delivered = 0;
  for (size_t i = 0; i < rows.size(); ++i) {
    const Row& r = rows[i];
    const int64_t id = r.Int(0);
    const int64_t attempts = r.Int(3) + 1;
    // The delivery's log lines, here and at the receiver, carry the id of
    // the request that caused it.
    ScopedCallLog as_origin(CallLog{r.Str(4), "outbox:" + name, caller_, ""});
    std::string response;
    const grpc::Status result =
        CallNow(t->channel, r.Str(1), r.Str(2), options_.call_timeout, options_.identity.get(),
                name, caller_, r.Str(4), options_.on_delivered ? &response : nullptr);
    if (result.ok()) {
      done.push_back(DeliveredCall{id, name, r.Str(1), std::move(response)});
      done_attempts.push_back(attempts);
      ++delivered;
      t->failures = 0;
      count("delivered");
      continue;
    }
    const int code = static_cast<int>(result.error_code());
    std::string error = result.error_message();
    if (error.size() > 500) error.resize(500);
    if (Retryable(result.error_code())) {
      RETURN_IF_ERROR(record("UPDATE outbox SET attempts = ?, last_error = ?, last_code = ?,"
                             " next_attempt_at = ? WHERE id = ?",
                             {attempts, error, code, now, id}));
      // The rest would meet the same peer: hand them back for the next pass
      // rather than leave them leased.
      for (size_t k = i + 1; k < rows.size(); ++k) {
        RETURN_IF_ERROR(
            record("UPDATE outbox SET next_attempt_at = ? WHERE id = ?", {now, rows[k].Int(0)}));
      }
      ++t->failures;
      absl::Duration backoff = options_.initial_backoff;
      for (int f = 1; f < t->failures && backoff < options_.max_backoff; ++f) backoff *= 2;
      t->retry_at = absl::Now() + std::min(backoff, options_.max_backoff);
      count("retry");
      spdlog::warn("outbox {} to {} will be retried (attempt {}): {}", id, name, attempts, error);
      RETURN_IF_ERROR(mark_delivered());
      return delivered;
    }
    RETURN_IF_ERROR(record("UPDATE outbox SET attempts = ?, last_error = ?, last_code = ?,"
                           " dead = TRUE WHERE id = ?",
                           {attempts, error, code, id}));
    count("dead");
    spdlog::error("outbox {} to {} is dead (attempt {}): {}", id, name, attempts, error);
  }
  RETURN_IF_ERROR(mark_delivered());
  return delivered;
}

absl::Status OutboxRelay::Housekeep() {
  const absl::Time now = clock_.Now();
  const absl::Time cutoff = now - options_.retention;
  for (;;) {
    absl::StatusOr<ExecResult> purged;
    RETURN_IF_ERROR(db_.Run(absl::Now() + absl::Seconds(10), [&](Conn& c) {
      purged = c.Exec("DELETE FROM outbox WHERE delivered_at < ? LIMIT 500", {cutoff});
      return purged.status();
    }));
    if (purged->affected_rows < 500) break;
  }
  if (pending_ == nullptr) return absl::OkStatus();
  std::vector<Row> rows;
  RETURN_IF_ERROR(db_.Run(absl::Now() + absl::Seconds(10), [&](Conn& c) -> absl::Status {
    ASSIGN_OR_RETURN(rows, c.Query("SELECT target, SUM(NOT dead), SUM(dead),"
                                   " MIN(IF(dead, NULL, created_at)) FROM outbox"
                                   " WHERE delivered_at IS NULL GROUP BY target"));
    return absl::OkStatus();
  }));
  for (const auto& t : targets_) {
    double pending = 0, dead = 0, age = 0;
    for (const Row& r : rows) {
      if (r.Str(0) != t->name) continue;
      pending = static_cast<double>(r.Int(1));
      dead = static_cast<double>(r.Int(2));
      if (std::optional<absl::Time> oldest = r.OptTime(3)) {
        age = std::max(0.0, absl::ToDoubleSeconds(now - *oldest));
      }
    }
    pending_->Add({{"target", t->name}}).Set(pending);
    dead_->Add({{"target", t->name}}).Set(dead);
    oldest_->Add({{"target", t->name}}).Set(age);
  }
  return absl::OkStatus();
}

}  // namespace kit
