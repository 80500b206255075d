#ifndef ESTATE_GATEWAY_REFLECTION_H_
#define ESTATE_GATEWAY_REFLECTION_H_

#include "gateway/catalog.h"
#include <memory>

#include "google/protobuf/message.h"
#include "grpcpp/support/byte_buffer.h"

namespace gateway {

inline constexpr char kReflectionMethod[] =
    "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo";

// grpc.reflection.v1alpha for every service the gateway fronts. gRPC's own
// reflection lists only services registered on the server, and the gateway
// registers none (it forwards generically), so it answers from the catalog.
// The reflection messages are gRPC's own, found in the generated pool that
// libgrpc++_reflection registers. One per stream (it keeps the messages).
class ReflectionAnswerer {
 public:
  explicit ReflectionAnswerer(const Catalog* catalog);
  ~ReflectionAnswerer();
  // One request in, one response out; false if the request is not a
  // ServerReflectionRequest (or the messages are not linked).
  bool Answer(grpc::ByteBuffer* in, grpc::ByteBuffer* out);

 private:
  void Answer();
  const Catalog* catalog_;
  const google::protobuf::DescriptorPool* pool_;
  std::unique_ptr<google::protobuf::Message> request_, response_;
};

}  // namespace gateway

#endif  // ESTATE_GATEWAY_REFLECTION_H_
