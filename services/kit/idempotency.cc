#include "services/kit/idempotency.h"

#include <memory>

#include "google/protobuf/descriptor.h"
#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/io/zero_copy_stream_impl_lite.h"
#include "services/kit/bulk_insert.h"
#include "services/kit/errors.h"
#include "services/kit/hash.h"
#include "services/kit/unique_keys.h"
#include "services/kit/validate.h"

namespace kit {
std::string RequestFingerprint(absl::string_view method,
                               const google::protobuf::Message& request) {
  std::unique_ptr<google::protobuf::Message> copy(request.New());
  copy->CopyFrom(request);
  if (const auto* f = copy->GetDescriptor()->FindFieldByName("request_id")) {
    copy->GetReflection()->ClearField(copy.get(), f);
  }
  std::string bytes;
  {
    google::protobuf::io::StringOutputStream out(&bytes);
    google::protobuf::io::CodedOutputStream coded(&out);
    coded.SetSerializationDeterministic(true);
    copy->SerializeToCodedStream(&coded);
  }
  return Sha256(std::string(method) + '\0' + bytes);
}

absl::Status CheckRequestId(absl::string_view request_id) {
  if (request_id.empty()) return FieldError("request_id", "required (a UUID)");
  if (!IsUuid(request_id)) return FieldError("request_id", "must be a UUID");
  return absl::OkStatus();
}

namespace {
// A claim read back (method, fingerprint, response): the same request's
// stored answer into `*response`, or why not.
absl::Status Replay(const Row& claim, absl::string_view method, absl::string_view fingerprint,
                    google::protobuf::Message* response) {
  if (claim.Str(0) != method || claim.Str(1) != fingerprint) return RequestIdReused();
  if (claim.IsNull(2) || !response->ParseFromString(claim.Str(2))) {
    return absl::InternalError("stored response unreadable");
  }
  return absl::OkStatus();
}
}  // namespace

absl::Status IdempotentWrite(Db& db, absl::Time deadline, absl::string_view method,
                             absl::string_view request_id,
                             const google::protobuf::Message& request,
                             google::protobuf::Message* response,
                             absl::FunctionRef<absl::Status(Conn&)> write) {
  const std::string fingerprint = RequestFingerprint(method, request);
  return db.Transact(deadline, [&](Conn& c) -> absl::Status {
    // A retried transaction starts from an empty answer.
    response->Clear();
    absl::StatusOr<ExecResult> claim = c.Exec(
        "INSERT INTO idempotency_keys (request_id, method, fingerprint, created_at)"
        " VALUES (?, ?, ?, ?)",
        {request_id, method, fingerprint, absl::Now()});
    if (claim.ok()) {
      absl::Status s = write(c);
      if (!s.ok()) return s;
      return c.Exec("UPDATE idempotency_keys SET response = ? WHERE request_id = ?",
                    {response->SerializeAsString(), request_id})
          .status();
    }
    if (claim.status().code() != absl::StatusCode::kAlreadyExists) return claim.status();
    // A shared lock reads the latest committed claim and lets concurrent
    // duplicates read it together.
    absl::StatusOr<Row> first = c.QueryOne(
        "SELECT method, fingerprint, response FROM idempotency_keys"
        " WHERE request_id = ? LOCK IN SHARE MODE",
        {request_id}, "request_id vanished");
    if (!first.ok()) {
      // Purged between our insert and this read: ask the client to retry.
      return first.status().code() == absl::StatusCode::kNotFound
                 ? absl::AbortedError("request_id is being processed; retry")
                 : first.status();
    }
    return Replay(*first, method, fingerprint, response);
  });
}

absl::StatusOr<bool> StoredResponse(Db& db, absl::Time deadline, absl::string_view method,
                                    absl::string_view request_id,
                                    const google::protobuf::Message& request,
                                    google::protobuf::Message* response) {
  bool found = false;
  absl::Status s = db.Run(deadline, [&](Conn& c) -> absl::Status {
    absl::StatusOr<std::vector<Row>> rows =
        c.Query("SELECT method, fingerprint, response FROM idempotency_keys WHERE request_id = ?",
                {request_id});
    if (!rows.ok()) return rows.status();
    // A claim without its answer: the first call has not finished.
    if (rows->empty() || rows->front().IsNull(2)) return absl::OkStatus();
    absl::Status s = Replay(rows->front(), method, RequestFingerprint(method, request), response);
    found = s.ok();
    return s;
  });
  if (!s.ok()) return s;
  return found;
}

absl::StatusOr<int64_t> PurgeIdempotencyKeys(Db& db, absl::Time cutoff, absl::Time deadline) {
  int64_t total = 0;
  for (;;) {
    absl::StatusOr<ExecResult> r;
    absl::Status s = db.Run(deadline, [&](Conn& c) {
      r = c.Exec("DELETE FROM idempotency_keys WHERE created_at < ? LIMIT 5000", {cutoff});
      return r.status();
    });
    if (!s.ok()) return s;
    total += r->affected_rows;
    if (r->affected_rows < 5000) return total;
  }
}

absl::Status ClaimAll(Conn& c, absl::string_view method, const std::vector<Claim>& claims) {
  std::vector<SqlParam> params;
  params.reserve(claims.size() * 5);
  const absl::Time now = absl::Now();
  for (const Claim& k : claims) {
    for (SqlParam p : {SqlParam(k.request_id), SqlParam(method), SqlParam(k.fingerprint),
                       SqlParam(now), SqlParam(k.response)}) {
      params.push_back(std::move(p));
    }
  }
  return InsertRows(c,
                    "INSERT INTO idempotency_keys (request_id, method, fingerprint, created_at, "
                    "response) VALUES",
                    5, params)
      .status();
}

absl::Status RequestIdReused() {
  return FieldError("request_id", "already used for a different request");
}

absl::Status CreateOnce(absl::string_view request_key, absl::string_view fingerprint,
                        absl::FunctionRef<absl::Status()> insert,
                        absl::FunctionRef<absl::Status(std::string* stored_fingerprint)> first) {
  const absl::Status inserted = insert();
  if (inserted.ok() || DuplicateKeyOf(inserted) != request_key) return inserted;
  // A retry, or a concurrent duplicate that waited for the first to commit.
  std::string stored;
  if (absl::Status s = first(&stored); !s.ok()) return s;
  return stored == fingerprint ? absl::OkStatus() : RequestIdReused();
}

}  // namespace kit
