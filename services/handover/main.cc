// The handover service: new homes delivered to their owners. Wiring only.
#include "absl/flags/flag.h"
#include "grpcpp/create_channel.h"
#include "services/handover/handover_service.h"
#include "services/kit/clock.h"
#include "services/kit/service_main.h"

ABSL_FLAG(std::string, archives_addr, "127.0.0.1:50053",
          "host:port of the archives service (owner registration, key handover).");
ABSL_FLAG(std::string, billing_addr, "127.0.0.1:50051",
          "host:port of the billing service (the unit's account and opening readings).");
ABSL_FLAG(std::string, tickets_addr, "127.0.0.1:50052",
          "host:port of the tickets service (warranty repair tickets).");

std::vector<kit::Migration> estate_handover_migrations();

int main(int argc, char** argv) {
  return kit::RunService(
      argc, argv, {"handover", "127.0.0.1:50054", "127.0.0.1:9104"}, estate_handover_migrations(),
      [](kit::ServiceHost& host) {
        handover::HandoverOptions options;
        grpc::ChannelArguments args;
        // See a peer back within a second of its return, not after gRPC's
        // reconnect backoff (up to 2 min).
        args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 1000);
        absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> credentials =
            kit::ServiceChannelCredentials(host.tls());
        if (!credentials.ok()) return credentials.status();
        for (const auto& [name, addr] :
             {std::pair{"archives", absl::GetFlag(FLAGS_archives_addr)},
              std::pair{"billing", absl::GetFlag(FLAGS_billing_addr)},
              std::pair{"tickets", absl::GetFlag(FLAGS_tickets_addr)}}) {
          options.peers[name] =
              grpc::CreateCustomChannel(addr, *credentials, args);
        }
        handover::RegisterHandover(host, kit::RealClock(), options);
        return absl::OkStatus();
      });
}
