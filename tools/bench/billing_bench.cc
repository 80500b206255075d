// The billing benchmark: a bill run over 100k accounts x 3 charge items
// against a raw multi-row insert of the same rows (the ceiling), and the
// collection report over 100k accounts x 12 months of bills.
//
//   tools/bench-billing [--accounts=100000] [--months=12] [--debit_items=50000]
//
// Targets (issue 4): bill run <= 2 x raw insert; collection report < 0.2 s.
// Issue 16: payments/s at 8 clients >= 0.25 x durable single-row inserts/s
// at 8 clients (both driven by the same threads of this process, on the same
// server); a bank's debit-result file of 50,000 items imported, timed.
#include <algorithm>
#include <atomic>
#include <cstdio>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "estate/billing/v1/billing.grpc.pb.h"
#include "grpcpp/grpcpp.h"
#include "services/billing/billing_service.h"
#include "services/billing/store_rows.h"
#include "services/kit/bulk_insert.h"
#include "tools/bench/bench_util.h"

ABSL_FLAG(int, accounts, 100000, "Accounts on the site.");
ABSL_FLAG(int, months, 12, "Months of bills under the collection report.");
ABSL_FLAG(int, report_rounds, 20, "Collection reports timed (the median is reported).");
ABSL_FLAG(int, debit_items, 50000, "Items of the debit-result file imported (0: skip).");

std::vector<kit::Migration> estate_billing_migrations();

namespace {

namespace v1 = ::estate::billing::v1;
constexpr char kSite[] = "bench";
constexpr int kBatch = 500;  // accounts per transaction, as the service commits

void Check(const absl::Status& s, const char* what) {
  if (!s.ok()) {
    fprintf(stderr, "%s: %s\n", what, s.ToString().c_str());
    std::exit(1);
  }
}
void Check(const grpc::Status& s, const char* what) {
  if (!s.ok()) {
    fprintf(stderr, "%s: %s\n", what, s.error_message().c_str());
    std::exit(1);
  }
}

std::unique_ptr<grpc::ClientContext> Ctx() {
  auto c = std::make_unique<grpc::ClientContext>();
  c->set_deadline(std::chrono::system_clock::now() + std::chrono::minutes(10));
  bench::Sign(*c, "billing");
  return c;
}

std::string Item(v1::BillingService::Stub& stub, const std::string& code, v1::ChargeKind kind,
                 const std::string& rate, const std::string& site = kSite) {
  v1::CreateChargeItemRequest req;
  req.set_parent(absl::StrCat("sites/", site));
  req.set_request_id(absl::StrFormat("00000000-0000-4000-8000-%012d",
                                     site.size() * 1000000 + code.size() * 1000 + rate.size()));
  v1::ChargeItem* i = req.mutable_charge_item();
  i->set_code(code);
  i->set_display_name(code);
  i->set_kind(kind);
  i->set_cycle(v1::MONTHLY);
  i->set_rate(rate);
  i->set_effective_from("2025-01-01");
  i->set_due_days(14);
  v1::ChargeItem out;
  Check(stub.CreateChargeItem(Ctx().get(), req, &out), "CreateChargeItem");
  return out.name();
}

// `n` accounts of `site` subscribed to `items` (ids, comma-separated), with
// `profile` (a stored v1::Account: payer and mandate), straight into the table.
void InsertAccounts(kit::Db& d, const std::string& site, int n, const std::string& items,
                    const std::string& profile) {
  for (int lo = 0; lo < n; lo += 5000) {
    std::vector<kit::SqlParam> rows;
    for (int i = lo; i < std::min(n, lo + 5000); ++i) {
      for (kit::SqlParam p :
           {kit::SqlParam(site), kit::SqlParam(absl::StrFormat("%d-%d-%04d", i % 40 + 1, i % 3 + 1, i)),
            kit::SqlParam(absl::StrCat(i % 40 + 1)), kit::SqlParam(1),
            kit::SqlParam(absl::StrFormat("%d.%02d", 50 + i % 150, i % 100)),
            kit::SqlParam("2025-01-01"), kit::SqlParam(items), kit::SqlParam(profile),
            kit::SqlParam(1), kit::SqlParam(absl::Now()), kit::SqlParam("bench")}) {
        rows.push_back(std::move(p));
      }
    }
    Check(d.Transact(absl::Now() + absl::Minutes(5),
                     [&](kit::Conn& c) {
                       return kit::InsertRows(c,
                                              "INSERT INTO accounts (site, unit, building, status, "
                                              "area, fee_start, items, profile, version, "
                                              "created_at, created_by) VALUES",
                                              11, rows)
                           .status();
                     }),
          "insert accounts");
  }
}

struct CommittedRun {
  v1::BillRun run;
  absl::Duration dry, commit;
};

// A bill run of January 2026 on `site`: the dry run, then the commit, polled
// as a client would (progress printed).
CommittedRun RunBills(v1::BillingService::Stub& stub, const std::string& site, int seq) {
  CommittedRun out;
  v1::CreateBillRunRequest create;
  create.set_parent(absl::StrCat("sites/", site));
  create.set_request_id(absl::StrFormat("11111111-0000-4000-8000-%012d", seq * 2));
  create.mutable_bill_run()->set_cycle(v1::MONTHLY);
  create.mutable_bill_run()->set_period_date("2026-01-01");
  v1::BillRun& run = out.run;
  absl::Time t0 = absl::Now();
  Check(stub.CreateBillRun(Ctx().get(), create, &run), "CreateBillRun");
  out.dry = absl::Now() - t0;
  v1::CommitBillRunRequest commit;
  commit.set_name(run.name());
  commit.set_request_id(absl::StrFormat("11111111-0000-4000-8000-%012d", seq * 2 + 1));
  t0 = absl::Now();
  Check(stub.CommitBillRun(Ctx().get(), commit, &run), "CommitBillRun");
  v1::GetBillRunRequest get;
  get.set_name(run.name());
  int shown = -1;
  while (run.state() != v1::COMMITTED) {
    absl::SleepFor(absl::Milliseconds(100));
    Check(stub.GetBillRun(Ctx().get(), get, &run), "GetBillRun");
    const int pct = static_cast<int>(100 * run.accounts_done() / std::max<int64_t>(1, run.accounts()));
    if (pct / 10 != shown / 10) {
      printf("  %s commit %3d%%  %lld lines\n", site.c_str(), pct,
             static_cast<long long>(run.lines_issued()));
      fflush(stdout);
      shown = pct;
    }
  }
  out.commit = absl::Now() - t0;
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  const bench::Args args =
      bench::ParseArgs(argc, argv, "tools/bench-billing", "1,8");
  const int port = args.db_port;
  const int accounts = absl::GetFlag(FLAGS_accounts);
  const kit::DbOptions db = bench::FreshSchema(port, "bench_billing");
  billing::BillingService* service = nullptr;
  auto host = bench::StartService("billing", db, estate_billing_migrations(),
                                  [&](kit::ServiceHost& h) {
                                    service = billing::RegisterBilling(h, kit::RealClock());
                                  });
  auto channel = grpc::CreateChannel(absl::StrCat("127.0.0.1:", host->grpc_port()),
                                     grpc::InsecureChannelCredentials());
  auto stub = v1::BillingService::NewStub(channel);
  const std::string fee = Item(*stub, "property-fee", v1::PER_AREA, "2.6");
  const std::string garden = Item(*stub, "garden", v1::FIXED, "45");
  const std::string cable = Item(*stub, "cable-tv", v1::FIXED, "18.5");
  auto id_of = [](const std::string& name) { return name.substr(name.rfind('/') + 1); };
  const std::string items = absl::StrCat(id_of(fee), ",", id_of(garden), ",", id_of(cable));

  // Accounts go straight into the table: setting up is not what is measured.
  kit::Db& d = host->db();
  const absl::Time setup = absl::Now();
  InsertAccounts(d, kSite, accounts, items, "");
  printf("setup: %d accounts x 3 charge items in %.1f s\n", accounts,
         absl::ToDoubleSeconds(absl::Now() - setup));

  // 1. The bill run: a dry run, then the commit, polled as a client would.
  const CommittedRun bill_run = RunBills(*stub, kSite, 1);
  const v1::BillRun& run = bill_run.run;
  const absl::Duration dry = bill_run.dry;
  const absl::Duration committed = bill_run.commit;
  absl::Time t0;

  // 2. The ceiling: the same rows (a bill per account, three lines and three
  // ledger entries each) inserted raw into copies of the tables, in
  // transactions of the same size.
  Check(d.Run(absl::Now() + absl::Minutes(1),
              [&](kit::Conn& c) {
                for (const char* t : {"bills", "bill_lines", "ledger"}) {
                  absl::Status s =
                      c.Exec(absl::StrCat("CREATE TABLE raw_", t, " LIKE ", t)).status();
                  if (!s.ok()) return s;
                }
                return absl::OkStatus();
              }),
        "create raw tables");
  t0 = absl::Now();
  for (int lo = 0; lo < accounts; lo += kBatch) {
    const int hi = std::min(accounts, lo + kBatch);
    Check(d.Transact(absl::Now() + absl::Minutes(5), [&](kit::Conn& c) -> absl::Status {
      std::vector<kit::SqlParam> bills, lines, ledger;
      for (int i = lo; i < hi; ++i) {
        for (kit::SqlParam p : {kit::SqlParam(kSite), kit::SqlParam(1), kit::SqlParam(i + 1),
                                kit::SqlParam("2026-01"), kit::SqlParam("2026-01-01"),
                                kit::SqlParam("2026-01-15"), kit::SqlParam("CNY")}) {
          bills.push_back(std::move(p));
        }
        for (int item = 1; item <= 3; ++item) {
          for (kit::SqlParam p :
               {kit::SqlParam(kSite), kit::SqlParam(i + 1), kit::SqlParam(i + 1),
                kit::SqlParam(item), kit::SqlParam(absl::StrCat(i % 40 + 1)),
                kit::SqlParam("2026-01"), kit::SqlParam("2026-01-01"), kit::SqlParam("88.5"),
                kit::SqlParam(23010), kit::SqlParam("2026-01-15")}) {
            lines.push_back(std::move(p));
          }
          for (kit::SqlParam p :
               {kit::SqlParam(kSite), kit::SqlParam(i + 1), kit::SqlParam(1),
                kit::SqlParam(23010), kit::SqlParam(i * 3 + item), kit::SqlParam("bench"),
                kit::SqlParam("2026-01"), kit::SqlParam(absl::Now())}) {
            ledger.push_back(std::move(p));
          }
        }
      }
      absl::Status s = kit::InsertRows(c,
                                       "INSERT INTO raw_bills (site, run_id, account_id, "
                                       "period_label, issue_date, due_date, currency) VALUES",
                                       7, bills)
                           .status();
      if (s.ok()) {
        s = kit::InsertRows(c,
                            "INSERT INTO raw_bill_lines (site, bill_id, account_id, item_id, "
                            "building, period_label, period_start, quantity, amount_minor, "
                            "due_date) VALUES",
                            10, lines)
                .status();
      }
      if (s.ok()) {
        s = kit::InsertRows(c,
                            "INSERT INTO raw_ledger (site, account_id, kind, amount_minor, "
                            "line_id, actor, reason, created_at) VALUES",
                            8, ledger)
                .status();
      }
      return s;
    }), "raw insert");
  }
  const absl::Duration raw = absl::Now() - t0;

  // 3. Eleven more months of the same bills (copied in SQL: setup), a third
  // of the lines paid, then the report on one month, timed.
  const int months = absl::GetFlag(FLAGS_months);
  t0 = absl::Now();
  Check(d.Run(absl::Now() + absl::Minutes(30),
              [&](kit::Conn& c) -> absl::Status {
                for (int m = 2; m <= months; ++m) {
                  const std::string period = absl::StrFormat("2026-%02d", m <= 12 ? m : 12);
                  absl::Status s =
                      c.Exec("INSERT INTO bill_lines (site, bill_id, account_id, item_id, building, "
                             "period_label, report_period, period_start, quantity, amount_minor, "
                             "paid_minor, due_date) SELECT site, bill_id, account_id, item_id, "
                             "building, ?, ?, CONCAT(?, '-01'), quantity, amount_minor, "
                             "IF(account_id % 3 = 0, amount_minor, 0), CONCAT(?, '-15') "
                             "FROM bill_lines WHERE site = ? AND period_label = '2026-01'",
                             {period, period, period, period, std::string(kSite)})
                          .status();
                  if (!s.ok()) return s;
                }
                // The service keeps its report totals as it writes; rows
                // copied behind its back need theirs built the same way.
                absl::Status s = c.Exec("UPDATE bill_lines SET paid_minor = amount_minor "
                                        "WHERE period_label = '2026-01' AND account_id % 3 = 0")
                                     .status();
                if (!s.ok()) return s;
                s = c.Exec("DELETE FROM collection_totals WHERE site = ?", {std::string(kSite)})
                        .status();
                if (!s.ok()) return s;
                return c
                    .Exec(
                        "INSERT INTO collection_totals (site, period_label, building, "
                        "item_id, late_fee, held, line_count, billed_minor, "
                        "collected_minor, written_off_minor) SELECT site, report_period, "
                        "building, item_id, late_fee_of IS NOT NULL AS late_fee, held, "
                        "COUNT(*), SUM(amount_minor), SUM(paid_minor), "
                        "SUM(written_off_minor) FROM bill_lines WHERE site = ? "
                        "GROUP BY site, report_period, building, item_id, late_fee, held",
                        {std::string(kSite)})
                    .status();
              }),
        "add months");
  printf("setup: %d months of bills (%lld lines) in %.1f s\n", months,
         static_cast<long long>(3LL * accounts * months), absl::ToDoubleSeconds(absl::Now() - t0));
  std::vector<double> report_ms;
  v1::CollectionReport report;
  for (int i = 0; i < absl::GetFlag(FLAGS_report_rounds); ++i) {
    v1::GetCollectionReportRequest req;
    req.set_parent(absl::StrCat("sites/", kSite));
    req.set_period(absl::StrFormat("2026-%02d", i % std::min(months, 12) + 1));
    const absl::Time r0 = absl::Now();
    Check(stub->GetCollectionReport(Ctx().get(), req, &report), "GetCollectionReport");
    report_ms.push_back(absl::ToDoubleMilliseconds(absl::Now() - r0));
  }
  std::sort(report_ms.begin(), report_ms.end());
  const double median = report_ms[report_ms.size() / 2];

  // 4. Payments at the cashier's pace and beyond: each allocates to the
  // oldest lines and moves the report totals in its own transaction.
  std::atomic<int64_t> seq{0};
  std::vector<std::pair<int, bench::Result>> pays;
  for (int level : args.levels) {
  pays.emplace_back(level, bench::Measure(level, args.seconds, [&](int) {
    const int64_t n = seq.fetch_add(1);
    v1::RecordPaymentRequest req;
    req.set_parent(absl::StrCat("sites/", kSite));
    req.set_request_id(absl::StrFormat("22222222-0000-4000-8000-%012d", n));
    v1::Payment* p = req.mutable_payment();
    const int i = static_cast<int>((n * 7919) % accounts);
    p->set_account(absl::StrFormat("sites/%s/accounts/%d-%d-%04d", kSite, i % 40 + 1, i % 3 + 1, i));
    p->set_method(v1::WECHAT);
    p->set_amount_minor(5000);
    p->set_currency_code("CNY");
    v1::Payment out;
    return stub->RecordPayment(Ctx().get(), req, &out).ok();
  }));
  }

  // 5. The ceiling of a payment: one durable single-row insert (autocommit,
  // flushed at commit like every write here) per call, from the same threads
  // of this process, on the same server.
  Check(d.Run(absl::Now() + absl::Minutes(1),
              [&](kit::Conn& c) {
                return c
                    .Exec("CREATE TABLE raw_single (id BIGINT NOT NULL AUTO_INCREMENT, "
                          "site VARCHAR(63) NOT NULL, account_id BIGINT NOT NULL, "
                          "amount_minor BIGINT NOT NULL, created_at DATETIME(6) NOT NULL, "
                          "PRIMARY KEY (id)) ENGINE=InnoDB")
                    .status();
              }),
        "create raw_single");
  std::vector<std::pair<int, bench::Result>> singles;
  for (int level : args.levels) {
    singles.emplace_back(level, bench::Measure(level, args.seconds, [&](int) {
      const int64_t n = seq.fetch_add(1);
      return d
          .Run(absl::Now() + absl::Seconds(10),
               [&](kit::Conn& c) {
                 return c
                     .Exec("INSERT INTO raw_single (site, account_id, amount_minor, created_at) "
                           "VALUES (?, ?, ?, ?)",
                           {std::string(kSite), n % accounts, 5000, absl::Now()})
                     .status();
               })
          .ok();
    }));
  }

  // What stands between the two, measured the same way in the same run: a
  // transaction of a payment's 11 round trips doing no work (START, nine
  // point reads, one insert, COMMIT), and a gRPC call that touches no
  // database (refused by validation).
  std::vector<std::pair<int, bench::Result>> trips, calls;
  for (int level : args.levels) {
    trips.emplace_back(
        level, bench::Measure(level, args.seconds, [&](int) {
          const int64_t n = seq.fetch_add(1);
          return d
              .Transact(absl::Now() + absl::Seconds(10),
                        [&](kit::Conn& c) -> absl::Status {
                          for (int k = 0; k < 9; ++k) {
                            absl::Status s =
                                c.Query("SELECT id FROM raw_single WHERE id = ?", {n - k}).status();
                            if (!s.ok()) return s;
                          }
                          return c
                              .Exec(
                                  "INSERT INTO raw_single (site, account_id, amount_minor, "
                                  "created_at) VALUES (?, ?, ?, ?)",
                                  {std::string(kSite), n % accounts, 5000, absl::Now()})
                              .status();
                        })
              .ok();
        }));
    calls.emplace_back(level, bench::Measure(level, args.seconds, [&](int) {
                         v1::GetAccountRequest req;
                         req.set_name("not-an-account");
                         v1::Account out;
                         return stub->GetAccount(Ctx().get(), req, &out).error_code() ==
                                grpc::StatusCode::INVALID_ARGUMENT;
                       }));
  }

  // 6. A bank's debit-result file: every account of another site pays its
  // January bill by direct debit, one item in 50 bounces; imported in calls
  // of 1,000 results, as a client uploading the file would.
  const int debit_n = absl::GetFlag(FLAGS_debit_items);
  absl::Duration debit_import;
  v1::DebitBatch batch;
  if (debit_n > 0) {
    const std::string dsite = "bench-debit";
    const std::string dfee = Item(*stub, "property-fee", v1::PER_AREA, "2.6", dsite);
    v1::Account profile;
    profile.set_payer_name("bench");
    profile.mutable_mandate()->set_bank("ICBC");
    profile.mutable_mandate()->set_account_masked("6222 **** **** 1234");
    profile.mutable_mandate()->set_expiry("2030-12-31");
    t0 = absl::Now();
    InsertAccounts(d, dsite, debit_n, id_of(dfee), billing::store::ToBlob(profile));
    RunBills(*stub, dsite, 2);
    v1::CreateDebitBatchRequest create_batch;
    create_batch.set_parent(absl::StrCat("sites/", dsite));
    create_batch.set_request_id("33333333-0000-4000-8000-000000000001");
    create_batch.mutable_debit_batch()->set_as_of("2026-02-01");
    Check(stub->CreateDebitBatch(Ctx().get(), create_batch, &batch), "CreateDebitBatch");
    std::vector<std::string> names;
    v1::ListDebitItemsRequest list;
    list.set_parent(batch.name());
    list.set_page_size(500);
    do {
      v1::ListDebitItemsResponse page;
      Check(stub->ListDebitItems(Ctx().get(), list, &page), "ListDebitItems");
      for (const v1::DebitItem& i : page.items()) names.push_back(i.name());
      list.set_page_token(page.next_page_token());
    } while (!list.page_token().empty());
    printf("setup: %d accounts with a mandate, billed, a debit batch of %zu items in %.1f s\n",
           debit_n, names.size(), absl::ToDoubleSeconds(absl::Now() - t0));
    t0 = absl::Now();
    for (size_t lo = 0; lo < names.size(); lo += 1000) {
      v1::ImportDebitResultsRequest imp;
      imp.set_name(batch.name());
      imp.set_request_id(absl::StrFormat("44444444-0000-4000-8000-%012d", lo));
      imp.set_received_on("2026-02-03");
      for (size_t i = lo; i < std::min(names.size(), lo + 1000); ++i) {
        v1::DebitResult* r = imp.add_results();
        r->set_item(names[i]);
        if (i % 50 == 49) {
          r->set_status(v1::DEBIT_FAILED);
          r->set_failure(v1::INSUFFICIENT_FUNDS);
        } else {
          r->set_status(v1::DEBIT_PAID);
          r->set_bank_reference(absl::StrFormat("BANK-%08d", i));
        }
      }
      Check(stub->ImportDebitResults(Ctx().get(), imp, &batch), "ImportDebitResults");
    }
    debit_import = absl::Now() - t0;
  }

  printf("\n| measure | value | target |\n|---|---|---|\n");
  printf("| dry run, %d accounts, %lld lines | %.2f s | |\n", accounts,
         static_cast<long long>(run.lines()), absl::ToDoubleSeconds(dry));
  printf("| bill run commit, %lld lines | %.2f s (%.0f lines/s) | |\n",
         static_cast<long long>(run.lines_issued()), absl::ToDoubleSeconds(committed),
         run.lines_issued() / absl::ToDoubleSeconds(committed));
  printf("| raw multi-row insert of the same rows | %.2f s | |\n", absl::ToDoubleSeconds(raw));
  printf("| bill run / raw insert | %.2f | <= 2 |\n", absl::FDivDuration(committed, raw));
  printf("| collection report, %d accounts x %d months (median of %zu) | %.1f ms (max %.1f) | < 200 ms |\n",
         accounts, months, report_ms.size(), median, report_ms.back());
  for (const auto& [level, pay] : pays) {
    printf("| payments, %d concurrent clients | %.0f /s (p50 %s ms, p99 %s ms, %lld errors) | |\n",
           level, pay.ops_per_s, bench::Ms(pay.p50).c_str(), bench::Ms(pay.p99).c_str(),
           static_cast<long long>(pay.errors));
  }
  for (const auto& [level, raw1] : singles) {
    printf("| durable single-row inserts, %d concurrent clients | %.0f /s (p50 %s ms) | |\n",
           level, raw1.ops_per_s, bench::Ms(raw1.p50).c_str());
  }
  for (const auto& [level, t] : trips) {
    printf("| transactions of 11 statements doing no work, %d clients | %.0f /s (p50 %s ms) | |\n",
           level, t.ops_per_s, bench::Ms(t.p50).c_str());
  }
  for (const auto& [level, t] : calls) {
    printf("| gRPC calls touching no database, %d clients | %.0f /s (p50 %s ms) | |\n", level,
           t.ops_per_s, bench::Ms(t.p50).c_str());
  }
  for (size_t i = 0; i < pays.size() && i < singles.size(); ++i) {
    const double ratio = pays[i].second.ops_per_s / std::max(1.0, singles[i].second.ops_per_s);
    printf("| payments / single-row inserts, %d clients | %.3f | %s |\n", pays[i].first, ratio,
           pays[i].first == 8 ? ">= 0.25" : "");
  }
  if (debit_n > 0) {
    printf("| debit-result import, %lld items (%lld paid) in calls of 1,000 | %.1f s (%.0f items/s) | |\n",
           static_cast<long long>(batch.items()), static_cast<long long>(batch.paid()),
           absl::ToDoubleSeconds(debit_import),
           batch.items() / std::max(1e-9, absl::ToDoubleSeconds(debit_import)));
  }
  printf("report check: billed %lld, rate %.2f%%\n",
         static_cast<long long>(report.all_lines().total().billed_minor()),
         report.all_lines().total().rate_basis_points() / 100.0);
  (void)service;
  host->Shutdown();
  return 0;
}
