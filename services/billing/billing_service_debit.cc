// Direct debit: batches for the bank and the import of its results.
#include <algorithm>
#include <map>
#include <set>

#include "absl/strings/str_cat.h"
#include "services/billing/billing_internal.h"
#include "services/billing/billing_service.h"
#include "services/billing/billing_validation.h"
#include "services/billing/billing_views.h"
#include "services/kit/errors.h"
#include "services/kit/etag.h"
#include "services/kit/idempotency.h"
#include "services/kit/list.h"
#include "services/kit/paging.h"
#include "services/kit/proto_time.h"
#include "services/kit/rpc_context.h"
#include "services/kit/serial_lock.h"
#include "services/kit/status_macros.h"
#include "services/kit/validate.h"

namespace billing {

using kit::FieldError;
using kit::ToGrpc;

namespace {

constexpr int kMaxResultsPerImport = 1000;

std::string BatchName(const std::string& site, int64_t id) {
  return absl::StrCat("sites/", site, "/debitBatches/", id);
}

v1::DebitBatch BatchView(const store::DebitBatchRow& b) {
  v1::DebitBatch out;
  out.set_name(BatchName(b.site, b.id));
  out.set_as_of(store::DayText(b.as_of));
  out.set_currency_code(b.currency);
  auto count = [&](v1::DebitStatus s) {
    auto it = b.by_status.find(s);
    return it == b.by_status.end() ? std::make_pair(int64_t{0}, int64_t{0}) : it->second;
  };
  const auto pending = count(v1::DEBIT_PENDING);
  const auto paid = count(v1::DEBIT_PAID);
  const auto failed = count(v1::DEBIT_FAILED);
  out.set_items(pending.first + paid.first + failed.first);
  out.set_total_minor(pending.second + paid.second + failed.second);
  out.set_expired_mandates(count(v1::MANDATE_EXPIRED).first);
  out.set_paid(paid.first);
  out.set_paid_minor(paid.second);
  out.set_failed(failed.first);
  out.set_pending(pending.first);
  out.set_created_by(b.created_by);
  kit::SetTimestamp(out.mutable_create_time(), b.created_at);
  return out;
}

v1::DebitItem ItemView(const std::string& site, const store::DebitItemRow& i) {
  v1::DebitItem out;
  out.set_name(absl::StrCat(BatchName(site, i.batch_id), "/items/", i.id));
  out.set_account(AccountName(site, i.unit));
  out.set_amount_minor(i.amount_minor);
  out.set_bank(i.bank);
  out.set_account_masked(i.account_masked);
  out.set_mandate_expiry(store::DayText(i.mandate_expiry));
  out.set_status(i.status);
  out.set_failure(i.failure);
  out.set_bank_reference(i.bank_reference);
  if (i.payment_id != 0) out.set_payment(absl::StrCat("sites/", site, "/payments/", i.payment_id));
  return out;
}


}  // namespace

grpc::Status BillingService::CreateDebitBatch(grpc::ServerContext* ctx,
                                              const v1::CreateDebitBatchRequest* req,
                                              v1::DebitBatch* resp) {
  absl::StatusOr<std::string> site = kit::ParseSiteParent("parent", req->parent());
  if (!site.ok()) return ToGrpc(site.status());
  RETURN_GRPC_IF_ERROR(kit::CheckRequestId(req->request_id()));
  absl::StatusOr<absl::CivilDay> as_of =
      ParseDay("debit_batch.as_of", req->debit_batch().as_of());
  if (!as_of.ok()) return ToGrpc(as_of.status());
  if (*as_of > LatestDayOfTime(clock_.Now())) {
    return ToGrpc(FieldError("debit_batch.as_of", "must not be in the future"));
  }
  const std::string actor = kit::CallerOf(*ctx);
  return ToGrpc(kit::IdempotentWrite(
      db_, kit::DeadlineOf(*ctx), "CreateDebitBatch", req->request_id(), *req, resp,
      [&](kit::Conn& c) -> absl::Status {
        // Batches of one site are made one at a time, on any replica: each
        // picks the accounts not pending in another batch, so it must see the
        // previous batch committed (the schema refuses a second pending item
        // for an account should anything get past this).
        RETURN_IF_ERROR(kit::SerializeOn(c, absl::StrCat("debit-batch/", *site)));
        ASSIGN_OR_RETURN(store::Settings settings, store::ReadSettings(c, *site, false));
        ASSIGN_OR_RETURN(std::vector<store::DebitCandidate> due,
                         store::DebitCandidates(c, *site, *as_of));
        std::vector<store::DebitItemRow> items;
        for (const store::DebitCandidate& d : due) {
          if (!d.profile.has_mandate()) continue;  // pays at the desk
          const int64_t amount = d.due_minor - d.credit_minor;
          if (amount <= 0) continue;
          store::DebitItemRow i;
          i.account_id = d.account_id;
          i.amount_minor = amount;
          i.bank = d.profile.mandate().bank();
          i.account_masked = d.profile.mandate().account_masked();
          i.mandate_expiry = store::DayOf(d.profile.mandate().expiry());
          // An expired mandate is reported now, with the batch, instead of
          // coming back from the bank as a failure.
          i.status = i.mandate_expiry < *as_of ? v1::MANDATE_EXPIRED : v1::DEBIT_PENDING;
          items.push_back(std::move(i));
        }
        store::DebitBatchRow b;
        b.site = *site;
        b.as_of = *as_of;
        b.currency = settings.currency;
        b.created_by = actor;
        b.created_at = clock_.Now();
        ASSIGN_OR_RETURN(int64_t id, store::InsertDebitBatch(c, b, items));
        ASSIGN_OR_RETURN(store::DebitBatchRow stored, store::ReadDebitBatch(c, *site, id));
        *resp = BatchView(stored);
        return absl::OkStatus();
      }));
}

grpc::Status BillingService::GetDebitBatch(grpc::ServerContext* ctx,
                                           const v1::GetDebitBatchRequest* req,
                                           v1::DebitBatch* resp) {
  return ToGrpc(kit::GetOne(
      db_, kit::DeadlineOf(*ctx), req->name(), "debitBatches",
      [&](kit::Conn& c, const kit::SiteId& ref) {
        return store::ReadDebitBatch(c, ref.site, ref.id);
      },
      [&](const store::DebitBatchRow& b) { *resp = BatchView(b); }));
}

grpc::Status BillingService::ListDebitItems(grpc::ServerContext* ctx,
                                            const v1::ListDebitItemsRequest* req,
                                            v1::ListDebitItemsResponse* resp) {
  absl::StatusOr<kit::SiteId> ref = kit::ParseSiteId("parent", req->parent(), "debitBatches");
  if (!ref.ok()) return ToGrpc(ref.status());
  if (!v1::DebitStatus_IsValid(req->status())) return ToGrpc(FieldError("status", "unknown"));
  return ToGrpc(kit::ListRows(
      db_, kit::DeadlineOf(*ctx), *req, resp->mutable_next_page_token(),
      [&](kit::Conn& c,
          const kit::Page& page) -> absl::StatusOr<std::vector<store::DebitItemRow>> {
        // A batch that does not exist is NOT_FOUND, not an empty list.
        RETURN_IF_ERROR(
            store::ReadDebitBatch(c, ref->site, ref->id, /*with_counts=*/false).status());
        return store::ListDebitItems(c, ref->id, req->status(), page.after, page.size + 1);
      },
      [](const auto& r) { return r.id; },
      [&](const store::DebitItemRow& i) { *resp->add_items() = ItemView(ref->site, i); }));
}

grpc::Status BillingService::ImportDebitResults(grpc::ServerContext* ctx,
                                                const v1::ImportDebitResultsRequest* req,
                                                v1::DebitBatch* resp) {
  absl::StatusOr<kit::SiteId> ref = kit::ParseSiteId("name", req->name(), "debitBatches");
  if (!ref.ok()) return ToGrpc(ref.status());
  const std::string& site = ref->site;
  RETURN_GRPC_IF_ERROR(kit::CheckRequestId(req->request_id()));
  if (req->results().empty()) return ToGrpc(FieldError("results", "required"));
  if (req->results_size() > kMaxResultsPerImport) {
    return ToGrpc(FieldError("results", absl::StrCat("at most ", kMaxResultsPerImport, " per call")));
  }
  absl::CivilDay received = DayOfTime(clock_.Now());
  if (!req->received_on().empty()) {
    absl::StatusOr<absl::CivilDay> d = ParseDay("received_on", req->received_on());
    if (!d.ok()) return ToGrpc(d.status());
    if (*d > LatestDayOfTime(clock_.Now())) {
      return ToGrpc(FieldError("received_on", "must not be in the future"));
    }
    received = *d;
  }
  std::vector<int64_t> item_ids;
  for (int i = 0; i < req->results_size(); ++i) {
    const v1::DebitResult& r = req->results(i);
    const std::string f = absl::StrCat("results[", i, "]");
    absl::StatusOr<std::vector<std::string>> ids =
        kit::ParseName(f + ".item", r.item(), {"sites", "debitBatches", "items"});
    if (!ids.ok()) return ToGrpc(ids.status());
    if ((*ids)[0] != site || kit::IdOf((*ids)[1]) != ref->id) {
      return ToGrpc(FieldError(f + ".item", "must be an item of this batch"));
    }
    if (r.status() != v1::DEBIT_PAID && r.status() != v1::DEBIT_FAILED &&
        r.status() != v1::DEBIT_PENDING) {
      return ToGrpc(FieldError(f + ".status", "DEBIT_PAID, DEBIT_FAILED or DEBIT_PENDING"));
    }
    if ((r.status() == v1::DEBIT_FAILED) !=
        (r.failure() != v1::DEBIT_FAILURE_UNSPECIFIED && v1::DebitFailure_IsValid(r.failure()))) {
      return ToGrpc(FieldError(f + ".failure", "a known reason with DEBIT_FAILED, and only then"));
    }
    RETURN_GRPC_IF_ERROR(kit::CheckText(f + ".bank_reference", r.bank_reference(), 128, false));
    item_ids.push_back(kit::IdOf((*ids)[2]));
  }
  const std::string actor = kit::CallerOf(*ctx);
  std::map<int64_t, int64_t> collected_by_item;
  std::map<v1::DebitFailure, int64_t> failures;
  grpc::Status s = ToGrpc(kit::IdempotentWrite(
      db_, kit::DeadlineOf(*ctx), "ImportDebitResults", req->request_id(), *req, resp,
      [&](kit::Conn& c) -> absl::Status {
        collected_by_item.clear();
        failures.clear();
        ASSIGN_OR_RETURN(store::DebitBatchRow batch,
                         store::ReadDebitBatch(c, site, ref->id, /*with_counts=*/false));
        ASSIGN_OR_RETURN(auto peek, store::ReadDebitItems(c, ref->id, item_ids, false));
        std::vector<int64_t> account_ids;
        for (int i = 0; i < req->results_size(); ++i) {
          auto it = peek.find(item_ids[i]);
          if (it == peek.end()) {
            return FieldError(absl::StrCat("results[", i, "].item"), "no such item");
          }
          account_ids.push_back(it->second.account_id);
        }
        // Accounts in id order, then their items: the lock order of every
        // other writer, whatever the order of the bank's file. The whole
        // file posts in a few statements (PostPayments), not a few per item.
        ASSIGN_OR_RETURN(std::vector<store::LockedAccount> accounts,
                         store::LockAccounts(c, site, account_ids));
        ASSIGN_OR_RETURN(auto items, store::ReadDebitItems(c, ref->id, item_ids, true));
        std::vector<PaymentInput> pays;
        std::vector<int64_t> paid_items;  // the item of each of `pays`
        std::set<int64_t> changed;
        for (int i = 0; i < req->results_size(); ++i) {
          const v1::DebitResult& r = req->results(i);
          const std::string f = absl::StrCat("results[", i, "]");
          auto found = items.find(item_ids[i]);
          if (found == items.end()) return FieldError(f + ".item", "no such item");
          store::DebitItemRow& item = found->second;
          if (item.status == v1::MANDATE_EXPIRED) {
            return absl::FailedPreconditionError(
                absl::StrCat(f, ": the item was not sent (its mandate had expired)"));
          }
          // A failure is counted when first recorded, not on every import
          // of a file that repeats it.
          const bool newly_failed =
              r.status() == v1::DEBIT_FAILED && item.status != v1::DEBIT_FAILED;
          // A file imported twice posts nothing twice.
          if (item.status == v1::DEBIT_PAID) {
            if (r.status() == v1::DEBIT_PAID) continue;
            return absl::FailedPreconditionError(absl::StrCat(
                f, ": the item is already paid; reverse its payment if the debit bounced"));
          }
          item.bank_reference = r.bank_reference();
          item.status = r.status();
          item.failure = r.failure();
          changed.insert(item.id);
          if (r.status() == v1::DEBIT_PAID) {
            pays.push_back({item.account_id, v1::DIRECT_DEBIT,
                            r.bank_reference().empty()
                                ? absl::StrCat("debit-batch-", batch.id, "/", item.id)
                                : r.bank_reference(),
                            item.amount_minor, batch.currency, received, {}, actor});
            paid_items.push_back(item.id);
          } else if (newly_failed) {
            ++failures[r.failure()];
          }
        }
        if (!pays.empty()) {
          std::vector<store::LockedAccount*> locked;
          for (store::LockedAccount& a : accounts) locked.push_back(&a);
          ASSIGN_OR_RETURN(auto posted, PostPayments(c, locked, pays, &collected_by_item));
          for (size_t k = 0; k < posted.size(); ++k) {
            if (!posted[k].ok()) return posted[k].status();
            items.at(paid_items[k]).payment_id = posted[k]->id;
          }
        }
        for (int64_t id : changed) RETURN_IF_ERROR(store::SetDebitResult(c, items.at(id)));
        ASSIGN_OR_RETURN(store::DebitBatchRow after, store::ReadDebitBatch(c, site, ref->id));
        *resp = BatchView(after);
        return absl::OkStatus();
      }));
  if (s.ok()) {
    CountCollected(site, collected_by_item);
    for (const auto& [reason, n] : failures) {
      debit_failures_.Add({{"site", site}, {"reason", v1::DebitFailure_Name(reason)}})
          .Increment(static_cast<double>(n));
    }
  }
  return s;
}

}  // namespace billing
