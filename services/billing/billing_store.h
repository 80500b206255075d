#ifndef ESTATE_SERVICES_BILLING_BILLING_STORE_H_
#define ESTATE_SERVICES_BILLING_BILLING_STORE_H_

// Every SQL statement of the billing service, one header and one file per
// part of it (settings, accounts and charge items, runs, bills and lines,
// payments and late fees, the ledger, debit, reports, totals; one-off charges
// in one_off_store.h), all included here. Functions taking a Conn run inside the caller's
// transaction; `for_update` locks what it reads until the transaction ends.
// Lock order, everywhere: a bill run's row (only its commit
// batch takes it), then accounts (several: in id order), then their lines,
// then the report totals (one ordered upsert, last). The middle of it is a
// type: a line is locked or changed only through the LockedAccount that owns
// it (below).

#include "services/billing/accounts_store.h"
#include "services/billing/bills_store.h"
#include "services/billing/debit_store.h"
#include "services/billing/ledger_store.h"
#include "services/billing/payments_store.h"
#include "services/billing/reports_store.h"
#include "services/billing/runs_store.h"
#include "services/billing/settings_store.h"
#include "services/billing/store_base.h"
#include "services/billing/totals_store.h"

#endif  // ESTATE_SERVICES_BILLING_BILLING_STORE_H_
