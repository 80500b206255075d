#ifndef ESTATE_SERVICES_BILLING_BILLING_VIEWS_H_
#define ESTATE_SERVICES_BILLING_BILLING_VIEWS_H_

// Stored rows as API messages.

#include <string>

#include "estate/billing/v1/billing.pb.h"
#include "services/billing/billing_store.h"

namespace billing {

namespace v1 = ::estate::billing::v1;

std::string AccountName(const std::string& site, const std::string& unit);
std::string BillName(const std::string& site, int64_t bill_id);
std::string LineName(const std::string& site, int64_t bill_id, int64_t line_id);

v1::Account AccountView(const store::AccountRow& a, const std::string& currency);
v1::MeterReading ReadingView(const std::string& site, const std::string& unit,
                             const store::ReadingRow& r);
v1::BillRun RunView(const store::RunRow& r);
v1::BillLine LineView(const std::string& site, const store::LineRow& l);
v1::Bill BillView(const store::BillRow& b);
v1::Payment PaymentView(const store::PaymentRow& p);
v1::LedgerEntry LedgerView(const std::string& site, const store::LedgerRow& e);

}  // namespace billing

#endif  // ESTATE_SERVICES_BILLING_BILLING_VIEWS_H_
