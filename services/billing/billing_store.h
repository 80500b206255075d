#ifndef ESTATE_SERVICES_BILLING_BILLING_STORE_H_
#define ESTATE_SERVICES_BILLING_BILLING_STORE_H_

// Every SQL statement of the billing service, one file per part of it
// (accounts_store.cc, runs_store.cc, bills_store.cc, payments_store.cc,
// debit_store.cc, reports_store.cc, totals_store.cc, one_off_store.cc),
// declared here. Functions taking a Conn run inside the caller's
// transaction; `for_update` locks what it reads until the transaction ends.
// Lock order, everywhere: a bill run's row (only its commit
// batch takes it), then accounts (several: in id order), then their lines,
// then the report totals (one ordered upsert, last). The middle of it is a
// type: a line is locked or changed only through the LockedAccount that owns
// it (below).

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "estate/billing/v1/billing.pb.h"
#include "services/billing/allocation.h"
#include "services/billing/charges.h"
#include "services/billing/collection.h"
#include "services/billing/period.h"
#include "services/kit/civil_text.h"
#include "services/kit/db.h"

namespace billing {
namespace v1 = ::estate::billing::v1;
}  // namespace billing

namespace billing::store {

using kit::DayText;
absl::CivilDay DayOf(const std::string& text);  // "YYYY-MM-DD" from the database

struct Settings {
  std::string currency = "CNY";
  HeatingSeason season;
  int64_t version = 0;  // 0: never stored (the defaults)
};
absl::StatusOr<Settings> ReadSettings(kit::Conn& c, const std::string& site, bool for_update);
absl::Status SaveSettings(kit::Conn& c, const std::string& site, Settings& s,
                          const std::string& actor, absl::Time now);
absl::StatusOr<bool> AnythingBilled(kit::Conn& c, const std::string& site);

// Charge items. The definition is the API message without its name.
absl::StatusOr<int64_t> InsertChargeItem(kit::Conn& c, const std::string& site,
                                         const v1::ChargeItem& def, const std::string& actor,
                                         absl::Time now);
// With name, create_time and etag set. NOT_FOUND if absent.
absl::StatusOr<v1::ChargeItem> ReadChargeItem(kit::Conn& c, const std::string& site, int64_t id,
                                              bool for_update = false);
// Keeps the item's current definition (`version`, read locked) among its
// versions and stores `def` as the next.
absl::Status ReplaceChargeItem(kit::Conn& c, const std::string& site, int64_t id,
                               const v1::ChargeItem& def, int64_t version, const std::string& actor,
                               absl::Time now);
absl::StatusOr<std::vector<std::pair<int64_t, v1::ChargeItem>>> ListChargeItems(
    kit::Conn& c, const std::string& site, int64_t after, int limit);
absl::StatusOr<std::set<int64_t>> ChargeItemIds(kit::Conn& c, const std::string& site);
// Codes of the items `ids` (a code never changes once created).
absl::StatusOr<std::map<int64_t, std::string>> ChargeItemCodes(kit::Conn& c,
                                                               const std::vector<int64_t>& ids);

struct AccountRow {
  int64_t id = 0;
  std::string site;
  std::string unit;
  std::string building;
  v1::AccountStatus status = v1::ACTIVE;
  std::string area;
  absl::CivilDay fee_start;
  std::vector<int64_t> items;
  v1::Account profile;  // payer_name, payer_kind, mandate
  int64_t credit_minor = 0;
  int64_t version = 0;
  absl::Time created_at;
  // What the account owes (negative: paid ahead): the sum of its ledger,
  // kept as a column that only PostLedger and IssueBills move.
  int64_t balance_minor = 0;
};
absl::StatusOr<int64_t> InsertAccount(kit::Conn& c, AccountRow& a, const std::string& actor,
                                      absl::Time now);
// Reads without a lock (what a reader shows).
absl::StatusOr<AccountRow> ReadAccount(kit::Conn& c, const std::string& site,
                                       const std::string& unit);
absl::StatusOr<AccountRow> ReadAccountById(kit::Conn& c, int64_t id);

// An account locked (SELECT ... FOR UPDATE) in the caller's transaction, as
// it was read. Only the Lock* functions below make one, and every function
// that locks or changes a bill line or an account's credit takes one, so no
// code path can lock a line before its account: two writers of one account
// queue on the account row and never deadlock on its lines. Each of those
// functions refuses (INTERNAL) a line of another account.
class LockedAccount {
 public:
  const AccountRow& row() const { return row_; }
  AccountRow& row() { return row_; }
  const AccountRow* operator->() const { return &row_; }
  AccountRow* operator->() { return &row_; }
  // INTERNAL unless `line_account` is this account.
  absl::Status Owns(int64_t line_account, int64_t line_id) const;

 private:
  explicit LockedAccount(AccountRow row) : row_(std::move(row)) {}
  friend absl::StatusOr<LockedAccount> LockAccount(kit::Conn&, const std::string&,
                                                   const std::string&);
  friend absl::StatusOr<LockedAccount> LockAccountById(kit::Conn&, int64_t);
  friend absl::StatusOr<std::vector<LockedAccount>> LockAccounts(kit::Conn&, const std::string&,
                                                                 const std::vector<int64_t>&);
  AccountRow row_;
};
absl::StatusOr<LockedAccount> LockAccount(kit::Conn& c, const std::string& site,
                                          const std::string& unit);
absl::StatusOr<LockedAccount> LockAccountById(kit::Conn& c, int64_t id);
// The ids of those of `units` that are accounts of `site` (no lock: to lock
// them in id order with LockAccounts; a lock taken by unit would follow the
// units' order).
absl::StatusOr<std::map<std::string, int64_t>> AccountIdsOfUnits(
    kit::Conn& c, const std::string& site, const std::vector<std::string>& units);
// Those of `ids` that are accounts of `site`, locked in id order (the one
// order every batch takes them in).
absl::StatusOr<std::vector<LockedAccount>> LockAccounts(kit::Conn& c, const std::string& site,
                                                        const std::vector<int64_t>& ids);
// Writes the updatable fields and the credit; bumps the version.
absl::Status SaveAccount(kit::Conn& c, LockedAccount& a);
absl::Status SetCredit(kit::Conn& c, LockedAccount& a, int64_t credit_minor);
struct AccountFilter {
  std::string site;
  std::string building;
  bool in_arrears_only = false;
};
absl::StatusOr<std::vector<AccountRow>> ListAccounts(kit::Conn& c, const AccountFilter& f,
                                                     int64_t after, int limit);

// Meter readings, values in thousandths.
struct ReadingRow {
  int64_t id = 0;
  std::string meter;
  int64_t value_milli = 0;
  int64_t consumption_milli = 0;
  absl::CivilDay read_on;
  bool replacement = false;
  absl::Time created_at;
};
absl::StatusOr<std::optional<ReadingRow>> LastReading(kit::Conn& c, int64_t account_id,
                                                      const std::string& meter);
absl::StatusOr<int64_t> InsertReading(kit::Conn& c, const std::string& site, int64_t account_id,
                                      const ReadingRow& r, const std::string& actor,
                                      absl::Time now);
absl::StatusOr<std::vector<ReadingRow>> ListReadings(kit::Conn& c, int64_t account_id,
                                                     const std::string& meter, int64_t after,
                                                     int limit);

// What a bill run needs of accounts with ids in (after, last]: at most
// `limit`, in id order, with consumption per meter read within [start, end).
struct RunAccount {
  AccountFacts facts;
  std::string unit;
  std::string building;
};
absl::StatusOr<std::vector<RunAccount>> ReadRunAccounts(kit::Conn& c, const std::string& site,
                                                        int64_t after, int64_t last, int limit,
                                                        absl::CivilDay start, absl::CivilDay end);
absl::StatusOr<std::map<int64_t, ChargeRule>> ReadRules(kit::Conn& c, const std::string& site);

// Bill runs.
struct RunRow {
  int64_t id = 0;
  std::string site;
  v1::BillRun draft;  // cycle, period_date, figures
  v1::BillRunState state = v1::DRAFT;
  int64_t accounts_done = 0;
  int64_t lines_issued = 0;
  int64_t lines_skipped = 0;
  int64_t issued_minor = 0;
  int64_t cursor_account = 0;
  // The last account the dry run saw; the commit bills no account after it.
  int64_t last_account = 0;
  std::string created_by;
  absl::Time created_at;
  std::optional<absl::Time> committed_at;
  std::optional<absl::Time> completed_at;
};
absl::StatusOr<int64_t> InsertRun(kit::Conn& c, RunRow& r, absl::Time now);
absl::StatusOr<RunRow> ReadRun(kit::Conn& c, const std::string& site, int64_t id,
                               bool for_update);
absl::StatusOr<std::vector<RunRow>> ListRuns(kit::Conn& c, const std::string& site,
                                             int64_t after, int limit);
absl::Status MarkCommitting(kit::Conn& c, int64_t run_id, absl::Time now);
// Locks the oldest committing run that no other transaction holds and that
// is the oldest committing run of its site (runs of one site commit one
// after the other, whichever replica holds them); nullopt if none.
absl::StatusOr<std::optional<RunRow>> LockCommittingRun(kit::Conn& c);
absl::Status SaveRunProgress(kit::Conn& c, const RunRow& r);
absl::Status CompleteRun(kit::Conn& c, int64_t run_id, absl::Time now);
// Stops a committing run for good, keeping why.
absl::Status FailRun(kit::Conn& c, int64_t run_id, const std::string& why, absl::Time now);

// Running totals of the collection report, by report period, building,
// charge item (its charges, or the late fees on them) and hold.
struct TotalsKey {
  std::string period;
  std::string building;
  int64_t item_id = 0;
  bool late_fee = false;  // late fees charged on the item's lines, apart from them
  bool held = false;
  bool operator<(const TotalsKey& o) const {
    return std::tie(period, building, item_id, late_fee, held) <
           std::tie(o.period, o.building, o.item_id, o.late_fee, o.held);
  }
};
struct TotalsDelta {
  int64_t lines = 0;
  int64_t billed = 0;
  int64_t collected = 0;
  int64_t written_off = 0;
};
using Totals = std::map<TotalsKey, TotalsDelta>;
// Writes the totals of a transaction: call once, after its last line change.
absl::Status AddTotals(kit::Conn& c, const std::string& site, const Totals& totals);

// Issuing: the (account, item, label) lines that exist for accounts in
// [lo, hi] under any of `labels`.
absl::StatusOr<std::set<std::tuple<int64_t, int64_t, std::string>>> IssuedLines(
    kit::Conn& c, int64_t lo, int64_t hi, const std::vector<std::string>& labels);
struct NewBill {
  int64_t account_id = 0;
  std::string building;
  absl::CivilDay due;
  std::vector<const ChargeLine*> lines;
};
// Inserts bills, their lines and a CHARGE ledger entry per line, in a few
// multi-row statements; adds the lines to `totals` (for the caller to write
// once, with AddTotals, at the end of its transaction). `accounts` are the
// batch's, locked in id order, every bill's among them. Returns the new line
// ids by (account, item).
absl::StatusOr<std::map<std::pair<int64_t, int64_t>, int64_t>> IssueBills(
    kit::Conn& c, const std::string& site, int64_t run_id, const Period& period,
    const std::string& currency, absl::CivilDay issue_date, const std::vector<NewBill>& bills,
    std::vector<LockedAccount>& accounts, const std::string& actor, absl::Time now,
    Totals* totals);

// Bills and lines.
struct LineRow {
  int64_t id = 0;
  int64_t bill_id = 0;
  int64_t account_id = 0;
  int64_t item_id = 0;
  std::string code;
  std::string description;
  std::string building;
  std::string period_label;
  std::string quantity;
  int64_t amount_minor = 0;
  int64_t paid_minor = 0;
  int64_t written_off_minor = 0;
  absl::CivilDay due;
  bool held = false;
  std::string hold_reason;
  std::string hold_ticket;
  std::string report_period;    // the bill run's period, for reports
  absl::CivilDay period_start;  // of the bill run's period
  int64_t late_fee_of = 0;      // a late fee: the line it is charged on
  int64_t late_fee_of_bill = 0;  // and that line's bill
  std::string reference;         // a one-off charge's (ChargeAccount)
};
struct BillRow {
  int64_t id = 0;
  std::string site;
  int64_t run_id = 0;
  int64_t account_id = 0;
  std::string unit;
  std::string period_label;
  absl::CivilDay issue_date;
  absl::CivilDay due;
  std::string currency;
  std::vector<LineRow> lines;
};
// The lines a run issued after line id `after`, with each one's unit.
absl::StatusOr<std::vector<std::pair<LineRow, std::string>>> RunLines(kit::Conn& c,
                                                                      int64_t run_id,
                                                                      int64_t after, int limit);
absl::StatusOr<BillRow> ReadBill(kit::Conn& c, const std::string& site, int64_t id);
struct BillFilter {
  std::string site;
  int64_t account_id = 0;  // 0: any
  std::string period_label;
  bool unpaid_only = false;
  int64_t run_id = 0;  // 0: any
};
absl::StatusOr<std::vector<BillRow>> ListBills(kit::Conn& c, const BillFilter& f, int64_t after,
                                               int limit);
// Without a lock.
absl::StatusOr<LineRow> ReadLine(kit::Conn& c, const std::string& site, int64_t bill_id,
                                 int64_t line_id);
// Locked lines are read for changing them: their `description` is left
// empty (read a line again, unlocked, to show it).
// The line, locked; NOT_FOUND if it is not a line of the account.
absl::StatusOr<LineRow> LockLine(kit::Conn& c, const LockedAccount& a, int64_t bill_id,
                                 int64_t line_id);
// The account's lines with something left to pay, locked, oldest due first.
absl::StatusOr<std::vector<LineRow>> LockUnsettledLines(kit::Conn& c, const LockedAccount& a);
// The same for several accounts at once (one statement per 512), by account.
absl::StatusOr<std::map<int64_t, std::vector<LineRow>>> LockUnsettledLines(
    kit::Conn& c, const std::vector<LockedAccount*>& accounts);
// The account's lines `ids`, locked.
absl::StatusOr<std::map<int64_t, LineRow>> LockLines(kit::Conn& c, const LockedAccount& a,
                                                     const std::vector<int64_t>& ids);
// The line must have been locked in this transaction; these keep the
// collection totals in step with it.
absl::Status SetHold(kit::Conn& c, const LockedAccount& a, const LineRow& line, bool held,
                     const std::string& reason, const std::string& ticket, absl::CivilDay today);
// With `totals`, the write-off's share goes there for the caller to write
// (AddTotals, once, last); without, it is written here.
absl::Status WriteOffLine(kit::Conn& c, const LockedAccount& a, const LineRow& line, int64_t amount,
                          Totals* totals = nullptr);

// Payments.
struct PaymentRow {
  int64_t id = 0;
  std::string site;
  int64_t account_id = 0;
  std::string unit;
  v1::PaymentMethod method = v1::CASH;
  std::string reference;
  int64_t amount_minor = 0;
  std::string currency;
  absl::CivilDay received_on;
  std::string named_bills;  // comma-separated bill ids
  int64_t to_credit_minor = 0;
  bool reversed = false;
  std::string reversal_reason;
  std::string recorded_by;
  absl::Time created_at;
  std::vector<std::pair<int64_t, int64_t>> allocations;  // (line id, amount), as made
  std::vector<int64_t> allocation_bills;                // bill id of each allocation
};
// Inserts the payments in a few multi-row statements and sets their ids.
absl::Status InsertPayments(kit::Conn& c, std::vector<PaymentRow*>& payments);
absl::StatusOr<PaymentRow> ReadPayment(kit::Conn& c, const std::string& site, int64_t id,
                                       bool for_update);
absl::StatusOr<std::vector<PaymentRow>> ListPayments(kit::Conn& c, const std::string& site,
                                                     int64_t account_id, int64_t after,
                                                     int limit);
absl::Status MarkReversed(kit::Conn& c, int64_t payment_id, const std::string& reason);
// Moves money onto (or, negative, off) lines: allocation rows and the lines'
// paid sums; the collection totals' share goes into `totals`, which the
// caller writes once (AddTotals) so that a transaction locks totals rows in
// one ordered statement.
// payment_id 0: from (or back to) the account's credit. `lines` holds every
// line named, as locked in this transaction.
absl::Status ApplyAllocations(kit::Conn& c, const LockedAccount& a, int64_t payment_id,
                              const std::vector<Allocation>& allocations, absl::CivilDay applied_on,
                              const std::map<int64_t, LineRow>& lines, Totals* totals);
// The same for many payments of many accounts in one go (two statements
// however many): each line must be of one of `accounts`.
struct Posting {
  int64_t line_id = 0;
  int64_t payment_id = 0;  // 0: the account's credit
  int64_t amount_minor = 0;
};
absl::Status ApplyPostings(kit::Conn& c, const std::vector<const LockedAccount*>& accounts,
                           const std::vector<Posting>& postings, absl::CivilDay applied_on,
                           const std::map<int64_t, LineRow>& lines, Totals* totals);
// Lines credit has paid (net of earlier take-backs), newest first.
absl::StatusOr<std::vector<Allocation>> CreditAllocationsNewestFirst(kit::Conn& c,
                                                                     int64_t account_id);

// Late fees are assessed an account batch at a time: accounts of the site
// after `after` with a line a late fee may be charged on (no lock), at most
// `limit`, in id order.
absl::StatusOr<std::vector<int64_t>> OverdueAccounts(kit::Conn& c, const std::string& site,
                                                     absl::CivilDay as_of, int64_t after,
                                                     int limit);
// Of the locked accounts: every unsettled line due before `as_of` that is
// not itself a late fee, locked, with the late fees already charged on it.
struct LateFeeCandidate {
  int64_t line_id = 0;
  int64_t account_id = 0;
  int64_t item_id = 0;
  std::string building;
  bool held = false;
  int64_t unpaid_minor = 0;
  absl::CivilDay due;
  int64_t charged_minor = 0;  // late fees on this line so far
  int64_t fees_charged = 0;   // and how many
  int held_days = 0;          // days it spent on hold, not charged
  int64_t charge_minor = 0;   // set by the caller: what to charge now
};
absl::StatusOr<std::vector<LateFeeCandidate>> LateFeeCandidates(
    kit::Conn& c, const std::vector<LockedAccount>& accounts, absl::CivilDay as_of);
// A late-fee line (and its ledger entry) for each candidate with something
// to charge, on one new bill per account, reported in the month of `as_of`;
// every candidate's account must be one of `accounts`.
absl::Status IssueLateFees(kit::Conn& c, std::vector<LockedAccount>& accounts,
                           const std::string& currency, absl::CivilDay as_of,
                           const std::vector<LateFeeCandidate>& fees, const std::string& actor,
                           absl::Time now);

// Direct debit.
struct DebitCandidate {
  int64_t account_id = 0;
  std::string unit;
  v1::Account profile;  // its mandate, if any
  int64_t due_minor = 0;  // outstanding, due by the batch date, not on hold
  int64_t credit_minor = 0;
};
// Accounts with a debit still pending in another batch are left out: a
// second batch never asks for the same money twice.
absl::StatusOr<std::vector<DebitCandidate>> DebitCandidates(kit::Conn& c, const std::string& site,
                                                            absl::CivilDay as_of);
struct DebitItemRow {
  int64_t id = 0;
  int64_t batch_id = 0;
  int64_t account_id = 0;
  std::string unit;
  int64_t amount_minor = 0;
  std::string bank;
  std::string account_masked;
  absl::CivilDay mandate_expiry;
  v1::DebitStatus status = v1::DEBIT_PENDING;
  v1::DebitFailure failure = v1::DEBIT_FAILURE_UNSPECIFIED;
  std::string bank_reference;
  int64_t payment_id = 0;
};
struct DebitBatchRow {
  int64_t id = 0;
  std::string site;
  absl::CivilDay as_of;
  std::string currency;
  std::string created_by;
  absl::Time created_at;
  // Per status: items and their amounts.
  std::map<int, std::pair<int64_t, int64_t>> by_status;
};
absl::StatusOr<int64_t> InsertDebitBatch(kit::Conn& c, const DebitBatchRow& b,
                                         const std::vector<DebitItemRow>& items);
absl::StatusOr<DebitBatchRow> ReadDebitBatch(kit::Conn& c, const std::string& site, int64_t id);
absl::StatusOr<std::vector<DebitItemRow>> ListDebitItems(kit::Conn& c, int64_t batch_id,
                                                         v1::DebitStatus status, int64_t after,
                                                         int limit);
// The items `ids` of the batch that exist, by id; locked, in id order
// (their accounts first: the lock order of payments), or read as shown.
absl::StatusOr<std::map<int64_t, DebitItemRow>> ReadDebitItems(kit::Conn& c, int64_t batch_id,
                                                               std::vector<int64_t> ids,
                                                               bool for_update);
absl::Status SetDebitResult(kit::Conn& c, const DebitItemRow& item);

// The ledger.
struct LedgerRow {
  int64_t id = 0;
  int64_t account_id = 0;
  v1::LedgerKind kind = v1::CHARGE;
  int64_t amount_minor = 0;
  int64_t line_id = 0;     // 0: none
  int64_t bill_id = 0;     // of line_id
  int64_t payment_id = 0;  // 0: none
  std::string actor;
  std::string reason;
  absl::Time created_at;
};
// The one writer of ledger rows and of accounts' balances
// (ledger_store.cc; IssueBills aside). Appends `entries` (each of one of
// `accounts`, all of one site) in one statement, and in one more moves each
// account's balance_minor by its entries and writes its credit_minor as the
// LockedAccount holds it, so a caller that changed the credit in memory
// writes both at once. The accounts' balances in memory follow.
absl::Status PostLedger(kit::Conn& c, std::vector<LockedAccount*> accounts,
                        const std::vector<LedgerRow>& entries);
absl::Status PostLedger(kit::Conn& c, std::vector<LockedAccount>& accounts,
                        const std::vector<LedgerRow>& entries);
absl::Status PostLedger(kit::Conn& c, LockedAccount& account,
                        const std::vector<LedgerRow>& entries);
absl::StatusOr<std::vector<LedgerRow>> ListLedger(kit::Conn& c, int64_t account_id,
                                                  int64_t after, int limit);

// Reports.
absl::StatusOr<std::vector<LineSums>> CollectionRows(kit::Conn& c, const std::string& site,
                                                          const std::string& label);
// Allocated during [start, end) to lines of periods that started before `start`.
absl::StatusOr<int64_t> ArrearsRecovered(kit::Conn& c, const std::string& site,
                                         absl::CivilDay start, absl::CivilDay end);
// Past-due amounts by account and age bucket (0..3, 4 = on hold), for
// accounts after `after` (all if limit is 0). Bucket upper bounds in days.
struct AgingRow {
  int64_t account_id = 0;
  std::string unit;
  int bucket = 0;
  int64_t amount = 0;
};
absl::StatusOr<std::vector<AgingRow>> AgingRows(kit::Conn& c, const std::string& site,
                                                absl::CivilDay as_of, const int bounds[3],
                                                int64_t after, int account_limit);
// A site's collection totals by report period and hold, for the gauges.
struct PeriodSums {
  std::string period;
  bool held = false;
  int64_t billed = 0;
  int64_t collected = 0;
  int64_t written_off = 0;
};
absl::StatusOr<std::vector<PeriodSums>> SiteTotals(kit::Conn& c, const std::string& site);
// Per site: runs being committed and when the oldest of them was committed.
absl::StatusOr<std::map<std::string, std::pair<int64_t, absl::Time>>> CommittingRuns(kit::Conn& c);
// Sites with any bill run, for the metrics job.
absl::StatusOr<std::vector<std::string>> BilledSites(kit::Conn& c);

}  // namespace billing::store

#endif  // ESTATE_SERVICES_BILLING_BILLING_STORE_H_
