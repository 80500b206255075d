#ifndef ESTATE_SERVICES_KIT_STATUS_MACROS_H_
#define ESTATE_SERVICES_KIT_STATUS_MACROS_H_

#include "absl/status/status.h"
#include "services/kit/errors.h"

// Returns early from a function returning absl::Status (or anything an
// absl::Status converts to) when `expr` fails.
#define RETURN_IF_ERROR(expr)                          \
  do {                                                 \
    if (absl::Status _s = (expr); !_s.ok()) return _s; \
  } while (0)

// The same for a gRPC handler: the error goes out as a grpc::Status.
#define RETURN_GRPC_IF_ERROR(expr)                                  \
  do {                                                              \
    if (absl::Status _s = (expr); !_s.ok()) return kit::ToGrpc(_s); \
  } while (0)

#define KIT_CONCAT_INNER(a, b) a##b
#define KIT_CONCAT(a, b) KIT_CONCAT_INNER(a, b)
// `lhs = *expr` for an absl::StatusOr, or returns its error.
#define ASSIGN_OR_RETURN(lhs, expr) \
  ASSIGN_OR_RETURN_IMPL(KIT_CONCAT(_statusor_, __LINE__), lhs, expr)
#define ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                          \
  if (!tmp.ok()) return tmp.status();         \
  lhs = std::move(*tmp)

#endif  // ESTATE_SERVICES_KIT_STATUS_MACROS_H_
