#ifndef ESTATE_TOOLS_DEMO_DEMO_IDENTITY_H_
#define ESTATE_TOOLS_DEMO_DEMO_IDENTITY_H_

#include <string>

#include "google/protobuf/message.h"
#include "grpcpp/client_context.h"

namespace demo {

// The loaders call the services directly, as an operator's tool on the
// machine that holds the keys: each call carries an identity token for
// `caller`, signed with the key of the service `request` belongs to (its
// package: estate.tickets.v1 -> tickets), read from --identity_keys_dir or
// ESTATE_IDENTITY_KEYS_DIR. Exits if that key cannot be read: a loader that
// cannot sign would only collect refusals.
void Sign(grpc::ClientContext& ctx, const google::protobuf::Message& request,
          const std::string& caller, const std::string& roles = "");

}  // namespace demo

#endif  // ESTATE_TOOLS_DEMO_DEMO_IDENTITY_H_
