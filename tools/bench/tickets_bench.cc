// Throughput and latency of CreateTicket and GetTicket, next to their two
// ceilings measured in the same run on the same machine:
//  - a raw durable single-row INSERT through Connector/C++ into a table shaped
//    like tickets (what a create can at best cost), and
//  - a raw gRPC echo of a ticket-sized payload (what a get can at best cost).
// Run it with tools/bench-tickets, which starts a private MariaDB.
#include <mysql_driver.h>
#include <cppconn/connection.h>
#include <cppconn/prepared_statement.h>
#include <cppconn/resultset.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <functional>
#include <memory>
#include <mutex>
#include <random>
#include <thread>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "estate/testing/probe.grpc.pb.h"
#include "estate/tickets/v1/tickets.grpc.pb.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "grpcpp/security/server_credentials.h"
#include "grpcpp/server_builder.h"
#include "services/kit/clock.h"
#include "tools/bench/bench_util.h"
#include "services/kit/host.h"
#include "services/kit/uuid.h"
#include "services/tickets/ticket_store.h"
#include "services/tickets/tickets_service.h"
#include "spdlog/spdlog.h"


std::vector<kit::Migration> estate_tickets_migrations();

namespace {

namespace v1 = ::estate::tickets::v1;

using bench::Measure;
using bench::Ms;
using bench::Result;

class EchoService final : public estate::testing::Echo::Service {
  grpc::Status Echo(grpc::ServerContext*, const estate::testing::EchoMessage* req,
                    estate::testing::EchoMessage* resp) override {
    *resp = *req;
    return grpc::Status::OK;
  }
};

std::unique_ptr<sql::Connection> Connect(const kit::DbOptions& o) {
  sql::ConnectOptionsMap opts;
  opts["hostName"] = sql::SQLString(absl::StrCat("tcp://", o.host, ":", o.port));
  opts["userName"] = sql::SQLString(o.user);
  opts["password"] = sql::SQLString(o.password);
  opts["schema"] = sql::SQLString(o.schema);
  opts["OPT_CHARSET_NAME"] = sql::SQLString("utf8mb4");
  return std::unique_ptr<sql::Connection>(sql::mysql::get_mysql_driver_instance()->connect(opts));
}

v1::CreateTicketRequest CreateRequest() {
  v1::CreateTicketRequest req;
  req.set_parent("sites/bench");
  req.set_request_id(kit::NewUuid());
  v1::Ticket* t = req.mutable_ticket();
  t->set_kind(v1::REPAIR);
  t->set_channel(v1::PHONE);
  t->set_unit("5-506");
  t->set_reporter_name("Mr. Wang");
  t->set_reporter_phone("+86 138 0000 0000");
  t->set_title("Bathroom floor tile tilted");
  t->set_description("The floor tile next to the shower is loose and water seeps under it.");
  t->set_category("plumbing");
  return req;
}


}  // namespace

int main(int argc, char** argv) {
  const bench::Args args = bench::ParseArgs(argc, argv, "tools/bench-tickets", "1,8,32");
  const int port = args.db_port;
  const std::vector<int>& levels = args.levels;
  const int max_threads = args.max_threads;

  const kit::DbOptions db = bench::FreshSchema(port, "bench");
  std::unique_ptr<kit::ServiceHost> host = bench::StartTickets(db);
  const std::string tickets_addr = absl::StrCat("127.0.0.1:", host->grpc_port());

  EchoService echo;
  int echo_port = 0;
  grpc::ServerBuilder eb;
  eb.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &echo_port);
  eb.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
  eb.RegisterService(&echo);
  std::unique_ptr<grpc::Server> echo_server = eb.BuildAndStart();
  const std::string echo_addr = absl::StrCat("127.0.0.1:", echo_port);

  // The raw insert's table has the tickets table's shape, indexes included.
  {
    auto c = Connect(db);
    std::unique_ptr<sql::PreparedStatement>(c->prepareStatement("CREATE TABLE raw_tickets LIKE tickets"))
        ->execute();
  }
  std::vector<std::unique_ptr<sql::Connection>> raw_conns;
  std::vector<std::unique_ptr<sql::PreparedStatement>> raw_stmts;
  std::vector<std::unique_ptr<sql::PreparedStatement>> raw_selects;
  for (int i = 0; i < max_threads; ++i) {
    raw_conns.push_back(Connect(db));
    raw_stmts.emplace_back(raw_conns.back()->prepareStatement(
        "INSERT INTO raw_tickets (site, kind, channel, unit, reporter_name, reporter_phone, title,"
        " description, category, priority, department, assignee, extras, status, resolution,"
        " waiver_reason, sla_start, response_due, resolve_due, initial_response_due,"
        " initial_resolve_due, created_at, updated_at, created_by)"
        " VALUES ('bench', 2, 1, '5-506', 'Mr. Wang', '+86 138 0000 0000',"
        " 'Bathroom floor tile tilted', 'The floor tile next to the shower is loose and water"
        " seeps under it.', 'plumbing', 2, '', '', '', 1, '', '', UTC_TIMESTAMP(6),"
        " UTC_TIMESTAMP(6), UTC_TIMESTAMP(6), UTC_TIMESTAMP(6), UTC_TIMESTAMP(6),"
        " UTC_TIMESTAMP(6), UTC_TIMESTAMP(6), 'bench')"));
    raw_selects.emplace_back(raw_conns.back()->prepareStatement(
        "SELECT * FROM tickets WHERE site = 'bench' AND id = ?"));
  }

  // One channel (so one connection) per client thread, as separate clients have.
  std::vector<std::unique_ptr<v1::TicketService::Stub>> stubs;
  std::vector<std::unique_ptr<estate::testing::Echo::Stub>> echo_stubs;
  for (int i = 0; i < max_threads; ++i) {
    grpc::ChannelArguments args;
    args.SetInt("estate.bench.channel", i);  // distinct args: no shared subchannel
    stubs.push_back(v1::TicketService::NewStub(
        grpc::CreateCustomChannel(tickets_addr, grpc::InsecureChannelCredentials(), args)));
    echo_stubs.push_back(estate::testing::Echo::NewStub(
        grpc::CreateCustomChannel(echo_addr, grpc::InsecureChannelCredentials(), args)));
  }

  // Tickets to read, and a ticket-sized echo payload.
  std::vector<std::string> names;
  std::string ticket_bytes;
  for (int i = 0; i < 2000; ++i) {
    grpc::ClientContext ctx;
    bench::Sign(ctx, "tickets");
    v1::Ticket t;
    if (!stubs[0]->CreateTicket(&ctx, CreateRequest(), &t).ok()) return 1;
    names.push_back(t.name());
    ticket_bytes = t.SerializeAsString();
  }

  std::vector<std::mt19937_64> rngs;
  for (int i = 0; i < max_threads; ++i) rngs.emplace_back(1000 + i);
  const auto create = [&](int t) {
    grpc::ClientContext ctx;
    ctx.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(10)));
    bench::Sign(ctx, "tickets");
    v1::Ticket out;
    return stubs[t]->CreateTicket(&ctx, CreateRequest(), &out).ok();
  };
  const auto raw_insert = [&](int t) {
    try {
      raw_stmts[t]->executeUpdate();
      return true;
    } catch (const std::exception& e) {
      static std::once_flag once;
      std::call_once(once, [&] { fprintf(stderr, "raw INSERT failed: %s\n", e.what()); });
      return false;
    }
  };
  const auto get = [&](int t) {
    grpc::ClientContext ctx;
    ctx.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(10)));
    bench::Sign(ctx, "tickets");
    v1::GetTicketRequest req;
    req.set_name(names[rngs[t]() % names.size()]);
    v1::Ticket out;
    return stubs[t]->GetTicket(&ctx, req, &out).ok();
  };
  // Not a ceiling the issue names, but the floor under GetTicket: one point
  // read through Connector/C++, the same row shape, no gRPC.
  std::vector<int64_t> ids;
  for (const std::string& n : names) ids.push_back(std::stoll(n.substr(n.rfind('/') + 1)));
  const auto raw_select = [&](int t) {
    try {
      raw_selects[t]->setInt64(1, ids[rngs[t]() % ids.size()]);
      std::unique_ptr<sql::ResultSet> rs(raw_selects[t]->executeQuery());
      return rs->next();
    } catch (const std::exception& e) {
      static std::once_flag once;
      std::call_once(once, [&] { fprintf(stderr, "raw SELECT failed: %s\n", e.what()); });
      return false;
    }
  };
  estate::testing::EchoMessage payload;
  payload.set_payload(ticket_bytes);
  const auto echo_call = [&](int t) {
    grpc::ClientContext ctx;
    ctx.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(10)));
    estate::testing::EchoMessage out;
    return echo_stubs[t]->Echo(&ctx, payload, &out).ok();
  };

  printf("estate tickets benchmark: %d cores, %.1f s per cell, MariaDB with "
         "innodb_flush_log_at_trx_commit=1, echo payload %zu bytes\n\n",
         static_cast<int>(std::thread::hardware_concurrency()), args.seconds,
         ticket_bytes.size());
  printf("%-28s %5s %10s %9s %9s %7s\n", "operation", "conc", "ops/s", "p50 ms", "p99 ms",
         "errors");
  struct Row {
    Result create, insert, get, echo, select;
  };
  std::vector<Row> rows;
  const auto print = [](const char* what, int c, const Result& r) {
    printf("%-28s %5d %10.0f %9s %9s %7lld\n", what, c, r.ops_per_s, Ms(r.p50).c_str(),
           Ms(r.p99).c_str(), static_cast<long long>(r.errors));
    fflush(stdout);
  };
  for (int c : levels) {
    Row r;
    r.insert = Measure(c, args.seconds, raw_insert);
    print("raw INSERT (Connector/C++)", c, r.insert);
    r.create = Measure(c, args.seconds, create);
    print("CreateTicket", c, r.create);
    r.echo = Measure(c, args.seconds, echo_call);
    print("raw gRPC echo", c, r.echo);
    r.get = Measure(c, args.seconds, get);
    print("GetTicket", c, r.get);
    r.select = Measure(c, args.seconds, raw_select);
    print("(raw SELECT by id)", c, r.select);
    // The service's own read path without gRPC: what the store adds to a
    // point read.
    print("(store ReadTicket)", c, Measure(c, args.seconds, [&](int t) {
            return host
                ->db()
                .Run(absl::Now() + absl::Seconds(5),
                     [&](kit::Conn& conn) {
                       return tickets::store::ReadTicket(conn, "bench",
                                                         ids[rngs[t]() % ids.size()], false)
                           .status();
                     })
                .ok();
          }));
    rows.push_back(r);
  }
  printf("\n%5s %22s %18s\n", "conc", "create / raw insert", "get / echo");
  for (size_t i = 0; i < levels.size(); ++i) {
    const Row& r = rows[i];
    printf("%5d %15.2f (>=0.7) %11.2f (>=0.5)\n", levels[i],
           r.insert.ops_per_s > 0 ? r.create.ops_per_s / r.insert.ops_per_s : 0,
           r.echo.ops_per_s > 0 ? r.get.ops_per_s / r.echo.ops_per_s : 0);
  }
  echo_server->Shutdown();
  host->Shutdown();
  return 0;
}
