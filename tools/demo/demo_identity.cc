#include "tools/demo/demo_identity.h"

#include <cstdlib>
#include <iostream>
#include <memory>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_split.h"
#include "absl/synchronization/mutex.h"
#include "services/kit/process_flags.h"
#include "services/kit/service_identity.h"

namespace demo {

void Sign(grpc::ClientContext& ctx, const google::protobuf::Message& request,
          const std::string& caller, const std::string& roles) {
  static absl::Mutex mu;
  static auto* signers ABSL_GUARDED_BY(mu) =
      new absl::flat_hash_map<std::string, std::unique_ptr<kit::IdentitySigner>>();
  const std::vector<std::string> package =
      absl::StrSplit(request.GetDescriptor()->file()->package(), '.');
  const std::string audience = package.size() > 1 ? package[1] : "";
  absl::MutexLock lock(&mu);
  auto& signer = (*signers)[audience];
  if (signer == nullptr) {
    auto made = kit::IdentitySigner::FromDir("demo-loader", kit::IdentityKeysDirFromFlags(), {audience});
    if (!made.ok()) {
      std::cerr << "cannot sign calls to " << audience << ": " << made.status().message()
                << "\n";
      std::exit(1);
    }
    signer = *std::move(made);
  }
  if (absl::Status s = signer->Attach(ctx, audience, caller, roles); !s.ok()) {
    std::cerr << s.message() << "\n";
    std::exit(1);
  }
}

}  // namespace demo
