#ifndef ESTATE_SERVICES_BILLING_PAYMENTS_STORE_H_
#define ESTATE_SERVICES_BILLING_PAYMENTS_STORE_H_

// Payments, their allocations to lines, and late fees: the SQL.

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "services/billing/accounts_store.h"
#include "services/billing/allocation.h"
#include "services/billing/bills_store.h"
#include "services/billing/store_base.h"
#include "services/billing/totals_store.h"
#include "services/kit/db.h"

namespace billing::store {

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

}  // namespace billing::store

#endif  // ESTATE_SERVICES_BILLING_PAYMENTS_STORE_H_
