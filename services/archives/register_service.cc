// The register's RPCs: units, parties, their history, personal-data reveals,
// and the CSV import and export.
#include <map>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "services/archives/archives_service.h"
#include "services/archives/register.h"
#include "services/archives/register_store.h"
#include "services/kit/csv.h"
#include "services/kit/errors.h"
#include "services/kit/etag.h"
#include "services/kit/idempotency.h"
#include "services/kit/list.h"
#include "services/kit/paging.h"
#include "services/kit/rpc_context.h"
#include "services/kit/status_macros.h"
#include "services/kit/update_mask.h"
#include "services/kit/validate.h"

namespace archives {

using kit::FieldError;
using kit::ToGrpc;

namespace {

const std::vector<std::string>& UnitPaths() {
  static const auto* paths = new std::vector<std::string>{
      "building", "floor", "number", "area_centi_m2", "layout", "occupancy"};
  return *paths;
}

const std::vector<std::string>& PartyPaths() {
  static const auto* paths = new std::vector<std::string>{
      "unit",  "role",         "display_name", "phone",      "id_number",
      "email", "organization", "note",         "start_date", "end_date"};
  return *paths;
}

v1::Party Masked(v1::Party p) {
  MaskParty(p);
  return p;
}

// A unit name "sites/{site}/units/{unit}" as {site, unit}.
absl::StatusOr<std::pair<std::string, std::string>> ParseUnitName(absl::string_view field,
                                                                  absl::string_view name) {
  absl::string_view rest = name;
  if (!absl::ConsumePrefix(&rest, "sites/")) {
    return FieldError(field, "must be sites/{site}/units/{unit}");
  }
  const std::string site(rest.substr(0, rest.find('/')));
  RETURN_IF_ERROR(CheckUnitName(field, name, site));
  return std::make_pair(site, UnitIdOf(name));
}

// Checks the reason for a reveal and that the caller may make one.
absl::Status CheckReveal(const grpc::ServerContext& ctx, const std::string& reason) {
  RETURN_IF_ERROR(kit::CheckText("reveal_reason", reason, 500, true));
  if (!MayRevealPersonalData(kit::RolesOf(ctx))) {
    return absl::PermissionDeniedError(
        "reveal_reason: personal data is shown masked to viewers; ask a member of staff");
  }
  return absl::OkStatus();
}

}  // namespace

grpc::Status ArchivesService::CreateUnit(grpc::ServerContext* ctx,
                                         const v1::CreateUnitRequest* req, v1::Unit* resp) {
  absl::StatusOr<std::string> site = kit::ParseSiteParent("parent", req->parent());
  if (!site.ok()) return ToGrpc(site.status());
  if (!kit::IsValidUnitId(req->unit_id())) {
    return ToGrpc(FieldError("unit_id", "1 to 64 letters, digits, - _ ."));
  }
  RETURN_GRPC_IF_ERROR(kit::CheckRequestId(req->request_id()));
  v1::Unit unit = req->unit();
  if (unit.occupancy() == v1::OCCUPANCY_UNSPECIFIED) unit.set_occupancy(v1::VACANT);
  RETURN_GRPC_IF_ERROR(CheckUnit("unit", unit));
  const std::string actor = kit::CallerOf(*ctx);
  return ToGrpc(kit::IdempotentWrite(
      db_, kit::DeadlineOf(*ctx), "CreateUnit", req->request_id(), *req, resp,
      [&](kit::Conn& c) -> absl::Status {
        const absl::Time now = clock_.Now();
        v1::Unit out = unit;
        RETURN_IF_ERROR(store::InsertUnit(c, *site, req->unit_id(), out, actor, now));
        RETURN_IF_ERROR(store::AddHistory(c, *site, out.name(), actor, "created", {}, out, now));
        *resp = out;
        return absl::OkStatus();
      }));
}

grpc::Status ArchivesService::GetUnit(grpc::ServerContext* ctx, const v1::GetUnitRequest* req,
                                      v1::Unit* resp) {
  absl::StatusOr<std::pair<std::string, std::string>> ref = ParseUnitName("name", req->name());
  if (!ref.ok()) return ToGrpc(ref.status());
  return ToGrpc(db_.Run(kit::DeadlineOf(*ctx), [&](kit::Conn& c) -> absl::Status {
    ASSIGN_OR_RETURN(store::UnitRow row, store::ReadUnit(c, ref->first, ref->second, false));
    *resp = row.unit;
    return absl::OkStatus();
  }));
}

grpc::Status ArchivesService::ListUnits(grpc::ServerContext* ctx, const v1::ListUnitsRequest* req,
                                        v1::ListUnitsResponse* resp) {
  RETURN_GRPC_IF_ERROR(kit::CheckText("building", req->building(), 64, false));
  if (!v1::Occupancy_IsValid(req->occupancy())) return ToGrpc(FieldError("occupancy", "unknown"));
  return ToGrpc(kit::ListPage(
      db_, kit::DeadlineOf(*ctx), *req, resp->mutable_next_page_token(),
      [&](kit::Conn& c, const std::string& site, const kit::Page& page) {
        return store::ListUnits(c, site, req->building(), req->occupancy(), page.after,
                                page.size + 1);
      },
      [](const auto& r) { return r.id; },
      [&](const store::UnitRow& r) { *resp->add_units() = r.unit; }));
}

grpc::Status ArchivesService::UpdateUnit(grpc::ServerContext* ctx,
                                         const v1::UpdateUnitRequest* req, v1::Unit* resp) {
  absl::StatusOr<std::pair<std::string, std::string>> ref =
      ParseUnitName("unit.name", req->unit().name());
  if (!ref.ok()) return ToGrpc(ref.status());
  RETURN_GRPC_IF_ERROR(kit::CheckRequestId(req->request_id()));
  const std::string actor = kit::CallerOf(*ctx);
  return ToGrpc(kit::IdempotentWrite(
      db_, kit::DeadlineOf(*ctx), "UpdateUnit", req->request_id(), *req, resp,
      [&](kit::Conn& c) -> absl::Status {
        ASSIGN_OR_RETURN(store::UnitRow row, store::ReadUnit(c, ref->first, ref->second, true));
        RETURN_IF_ERROR(kit::CheckEtag("unit.etag", req->unit().etag(), row.version, "unit"));
        ASSIGN_OR_RETURN(std::vector<std::string> changed,
                         kit::ApplyUpdateMask(req->unit(), req->update_mask(), UnitPaths(),
                                              &row.unit));
        RETURN_IF_ERROR(CheckUnit("unit", row.unit));
        if (!changed.empty()) {
          const absl::Time now = clock_.Now();
          RETURN_IF_ERROR(store::UpdateUnit(c, ref->first, row, now));
          RETURN_IF_ERROR(store::AddHistory(c, ref->first, row.unit.name(), actor, "updated",
                                            changed, row.unit, now));
        }
        *resp = row.unit;
        return absl::OkStatus();
      }));
}

grpc::Status ArchivesService::SetUnitOccupancy(grpc::ServerContext* ctx,
                                               const v1::SetUnitOccupancyRequest* req,
                                               v1::Unit* resp) {
  absl::StatusOr<std::pair<std::string, std::string>> ref = ParseUnitName("name", req->name());
  if (!ref.ok()) return ToGrpc(ref.status());
  if (req->occupancy() == v1::OCCUPANCY_UNSPECIFIED || !v1::Occupancy_IsValid(req->occupancy())) {
    return ToGrpc(FieldError("occupancy", "required: VACANT, OWNER_OCCUPIED, RENTED or VACANT_OWNED"));
  }
  RETURN_GRPC_IF_ERROR(kit::CheckText("reference", req->reference(), 200, false));
  RETURN_GRPC_IF_ERROR(kit::CheckRequestId(req->request_id()));
  const std::string actor = kit::CallerOf(*ctx);
  return ToGrpc(kit::IdempotentWrite(
      db_, kit::DeadlineOf(*ctx), "SetUnitOccupancy", req->request_id(), *req, resp,
      [&](kit::Conn& c) -> absl::Status {
        ASSIGN_OR_RETURN(store::UnitRow row, store::ReadUnit(c, ref->first, ref->second, true));
        if (row.unit.occupancy() != req->occupancy()) {
          row.unit.set_occupancy(req->occupancy());
          const absl::Time now = clock_.Now();
          RETURN_IF_ERROR(store::UpdateUnit(c, ref->first, row, now));
          RETURN_IF_ERROR(store::AddHistory(c, ref->first, row.unit.name(), actor,
                                            "occupancy_set", {"occupancy"}, row.unit, now,
                                            req->reference()));
        }
        *resp = row.unit;
        return absl::OkStatus();
      }));
}

grpc::Status ArchivesService::CreateParty(grpc::ServerContext* ctx,
                                          const v1::CreatePartyRequest* req, v1::Party* resp) {
  absl::StatusOr<std::string> site = kit::ParseSiteParent("parent", req->parent());
  if (!site.ok()) return ToGrpc(site.status());
  RETURN_GRPC_IF_ERROR(kit::CheckRequestId(req->request_id()));
  RETURN_GRPC_IF_ERROR(CheckParty("party", req->party(), *site));
  const std::string actor = kit::CallerOf(*ctx);
  return ToGrpc(kit::IdempotentWrite(
      db_, kit::DeadlineOf(*ctx), "CreateParty", req->request_id(), *req, resp,
      [&](kit::Conn& c) -> absl::Status {
        const absl::Time now = clock_.Now();
        v1::Party out = req->party();
        out.clear_masked();
        if (!out.unit().empty()) {
          absl::Status unit = store::ReadUnit(c, *site, UnitIdOf(out.unit()), true).status();
          if (absl::IsNotFound(unit)) return FieldError("party.unit", "no such unit on the site");
          RETURN_IF_ERROR(unit);
        }
        RETURN_IF_ERROR(store::InsertParty(c, *site, out, actor, now).status());
        RETURN_IF_ERROR(
            store::AddHistory(c, *site, out.name(), actor, "created", {}, Masked(out), now));
        *resp = Masked(out);
        return absl::OkStatus();
      }));
}

grpc::Status ArchivesService::GetParty(grpc::ServerContext* ctx, const v1::GetPartyRequest* req,
                                       v1::Party* resp) {
  absl::StatusOr<kit::SiteId> ref = kit::ParseSiteId("name", req->name(), "parties");
  if (!ref.ok()) return ToGrpc(ref.status());
  if (req->reveal_reason().empty()) {
    return ToGrpc(db_.Run(kit::DeadlineOf(*ctx), [&](kit::Conn& c) -> absl::Status {
      ASSIGN_OR_RETURN(store::PartyRow row, store::ReadParty(c, ref->site, ref->id, false));
      *resp = Masked(row.party);
      return absl::OkStatus();
    }));
  }
  RETURN_GRPC_IF_ERROR(CheckReveal(*ctx, req->reveal_reason()));
  const std::string actor = kit::CallerOf(*ctx);
  const std::string roles = kit::RolesOf(*ctx);
  // The reveal is written in the same transaction as the read: no full value
  // leaves without its record.
  return ToGrpc(db_.Transact(kit::DeadlineOf(*ctx), [&](kit::Conn& c) -> absl::Status {
    ASSIGN_OR_RETURN(store::PartyRow row, store::ReadParty(c, ref->site, ref->id, false));
    RETURN_IF_ERROR(store::AddReveal(c, ref->site, row.party.name(), actor, roles,
                                     req->reveal_reason(), clock_.Now()));
    *resp = row.party;
    return absl::OkStatus();
  }));
}

grpc::Status ArchivesService::ListParties(grpc::ServerContext* ctx,
                                          const v1::ListPartiesRequest* req,
                                          v1::ListPartiesResponse* resp) {
  absl::StatusOr<std::string> site = kit::ParseSiteParent("parent", req->parent());
  if (!site.ok()) return ToGrpc(site.status());
  if (!req->unit().empty()) RETURN_GRPC_IF_ERROR(CheckUnitName("unit", req->unit(), *site));
  if (!v1::PartyRole_IsValid(req->role())) return ToGrpc(FieldError("role", "unknown"));
  store::PartyFilter f{*site, req->unit(), req->role(), req->include_former()};
  return ToGrpc(kit::ListRows(
      db_, kit::DeadlineOf(*ctx), *req, resp->mutable_next_page_token(),
      [&](kit::Conn& c, const kit::Page& page) {
        return store::ListParties(c, f, page.after, page.size + 1);
      },
      [](const auto& r) { return r.id; },
      [&](const store::PartyRow& r) { *resp->add_parties() = Masked(r.party); }));
}

grpc::Status ArchivesService::UpdateParty(grpc::ServerContext* ctx,
                                          const v1::UpdatePartyRequest* req, v1::Party* resp) {
  absl::StatusOr<kit::SiteId> ref = kit::ParseSiteId("party.name", req->party().name(), "parties");
  if (!ref.ok()) return ToGrpc(ref.status());
  RETURN_GRPC_IF_ERROR(kit::CheckRequestId(req->request_id()));
  const std::string actor = kit::CallerOf(*ctx);
  return ToGrpc(kit::IdempotentWrite(
      db_, kit::DeadlineOf(*ctx), "UpdateParty", req->request_id(), *req, resp,
      [&](kit::Conn& c) -> absl::Status {
        ASSIGN_OR_RETURN(store::PartyRow row, store::ReadParty(c, ref->site, ref->id, true));
        RETURN_IF_ERROR(kit::CheckEtag("party.etag", req->party().etag(), row.version, "party"));
        ASSIGN_OR_RETURN(std::vector<std::string> changed,
                         kit::ApplyUpdateMask(req->party(), req->update_mask(), PartyPaths(),
                                              &row.party));
        RETURN_IF_ERROR(CheckParty("party", row.party, ref->site));
        if (!changed.empty()) {
          if (!row.party.unit().empty()) {
            absl::Status unit =
                store::ReadUnit(c, ref->site, UnitIdOf(row.party.unit()), false).status();
            if (absl::IsNotFound(unit)) return FieldError("party.unit", "no such unit on the site");
            RETURN_IF_ERROR(unit);
          }
          const absl::Time now = clock_.Now();
          RETURN_IF_ERROR(store::UpdateParty(c, ref->site, row, now));
          RETURN_IF_ERROR(store::AddHistory(c, ref->site, row.party.name(), actor, "updated",
                                            changed, Masked(row.party), now));
        }
        *resp = Masked(row.party);
        return absl::OkStatus();
      }));
}

grpc::Status ArchivesService::ListHistoryOf(grpc::ServerContext* ctx,
                                            const v1::ListRecordHistoryRequest* req,
                                            absl::string_view collection,
                                            v1::ListRecordHistoryResponse* resp) {
  absl::Status name_ok = collection == "units"
                             ? ParseUnitName("name", req->name()).status()
                             : kit::ParseSiteId("name", req->name(), collection).status();
  RETURN_GRPC_IF_ERROR(name_ok);
  return ToGrpc(kit::ListRows(
      db_, kit::DeadlineOf(*ctx), *req, resp->mutable_next_page_token(),
      [&](kit::Conn& c, const kit::Page& page)
          -> absl::StatusOr<std::vector<std::pair<int64_t, v1::RecordChange>>> {
        ASSIGN_OR_RETURN(auto rows, store::ListHistory(c, req->name(), page.after, page.size + 1));
        if (rows.empty() && page.after == 0) return absl::NotFoundError("no such unit or party");
        return rows;
      },
      [](const auto& r) { return r.first; },
      [&](auto& row) { auto& [id, change] = row; *resp->add_changes() = std::move(change); }));
}

grpc::Status ArchivesService::ListUnitHistory(grpc::ServerContext* ctx,
                                              const v1::ListRecordHistoryRequest* req,
                                              v1::ListRecordHistoryResponse* resp) {
  return ListHistoryOf(ctx, req, "units", resp);
}

grpc::Status ArchivesService::ListPartyHistory(grpc::ServerContext* ctx,
                                               const v1::ListRecordHistoryRequest* req,
                                               v1::ListRecordHistoryResponse* resp) {
  return ListHistoryOf(ctx, req, "parties", resp);
}

grpc::Status ArchivesService::ListPersonalDataReveals(
    grpc::ServerContext* ctx, const v1::ListPersonalDataRevealsRequest* req,
    v1::ListPersonalDataRevealsResponse* resp) {
  return ToGrpc(kit::ListPage(
      db_, kit::DeadlineOf(*ctx), *req, resp->mutable_next_page_token(),
      [&](kit::Conn& c, const std::string& site, const kit::Page& page) {
        return store::ListReveals(c, site, page.after, page.size + 1);
      },
      [](const auto& r) { return r.first; },
      [&](auto& row) { auto& [id, reveal] = row; *resp->add_reveals() = std::move(reveal); }));
}

grpc::Status ArchivesService::ImportUnits(grpc::ServerContext* ctx,
                                          const v1::ImportUnitsRequest* req,
                                          v1::ImportUnitsResponse* resp) {
  absl::StatusOr<std::string> site = kit::ParseSiteParent("parent", req->parent());
  if (!site.ok()) return ToGrpc(site.status());
  RETURN_GRPC_IF_ERROR(kit::CheckRequestId(req->request_id()));
  if (req->csv().empty()) return ToGrpc(FieldError("csv", "required: the buyer list"));
  if (req->csv().size() > 8 * 1024 * 1024) {
    return ToGrpc(FieldError("csv", "larger than 8 MiB; split the list"));
  }
  const ImportPlan plan = PlanImport(req->csv(), *site);
  const std::string actor = kit::CallerOf(*ctx);
  return ToGrpc(kit::IdempotentWrite(
      db_, kit::DeadlineOf(*ctx), "ImportUnits", req->request_id(), *req, resp,
      [&](kit::Conn& c) -> absl::Status {
        resp->Clear();
        for (const v1::ImportError& e : plan.errors) *resp->add_errors() = e;
        if (!plan.errors.empty()) return absl::OkStatus();
        ASSIGN_OR_RETURN(std::set<std::string> existing, store::ExistingUnitIds(c, *site));
        for (const ImportRow* row : plan.units) {
          if (existing.count(row->unit_id)) {
            v1::ImportError* e = resp->add_errors();
            e->set_line(row->line);
            e->set_column("unit");
            e->set_message("already registered on the site");
          }
        }
        if (resp->errors_size() > 0) return absl::OkStatus();
        const absl::Time now = clock_.Now();
        for (const ImportRow* row : plan.units) {
          v1::Unit unit = row->unit;
          absl::Status inserted = store::InsertUnit(c, *site, row->unit_id, unit, actor, now);
          if (absl::IsAlreadyExists(inserted)) {
            // Registered by someone else since the check: for the import as a
            // whole that is a lost race (ABORTED), and all of it rolls back.
            return absl::AbortedError(absl::StrCat("unit ", row->unit_id,
                                                   " was registered meanwhile; import again"));
          }
          RETURN_IF_ERROR(inserted);
          RETURN_IF_ERROR(store::AddHistory(c, *site, unit.name(), actor, "imported", {}, unit, now));
          resp->set_units_created(resp->units_created() + 1);
        }
        for (const ImportRow& row : plan.rows) {
          if (!row.party.has_value()) continue;
          v1::Party party = *row.party;
          RETURN_IF_ERROR(store::InsertParty(c, *site, party, actor, now).status());
          RETURN_IF_ERROR(store::AddHistory(c, *site, party.name(), actor, "imported", {},
                                            Masked(party), now));
          resp->set_parties_created(resp->parties_created() + 1);
        }
        return absl::OkStatus();
      }));
}

grpc::Status ArchivesService::ExportUnits(grpc::ServerContext* ctx,
                                          const v1::ExportUnitsRequest* req,
                                          v1::ExportUnitsResponse* resp) {
  absl::StatusOr<std::string> site = kit::ParseSiteParent("parent", req->parent());
  if (!site.ok()) return ToGrpc(site.status());
  RETURN_GRPC_IF_ERROR(kit::CheckText("building", req->building(), 64, false));
  const bool reveal = !req->reveal_reason().empty();
  if (reveal) RETURN_GRPC_IF_ERROR(CheckReveal(*ctx, req->reveal_reason()));
  const std::string actor = kit::CallerOf(*ctx);
  const std::string roles = kit::RolesOf(*ctx);
  return ToGrpc(db_.Transact(kit::DeadlineOf(*ctx), [&](kit::Conn& c) -> absl::Status {
    resp->Clear();
    std::map<std::string, std::vector<v1::Party>> parties_of;  // by unit name
    for (int64_t after = 0;;) {
      ASSIGN_OR_RETURN(auto rows,
                       store::ListParties(c, {*site, "", v1::PARTY_ROLE_UNSPECIFIED, false},
                                          after, kit::kMaxPageSize));
      for (store::PartyRow& r : rows) {
        if (!reveal) MaskParty(r.party);
        // Contractors are not part of a buyer list.
        if (!r.party.unit().empty() && r.party.role() != v1::OUTSIDE_CONTRACTOR) parties_of[r.party.unit()].push_back(std::move(r.party));
        after = r.id;
      }
      if (rows.size() < static_cast<size_t>(kit::kMaxPageSize)) break;
    }
    std::string csv = kit::CsvLine(RegisterCsvColumns());
    int rows_written = 0;
    for (int64_t after = 0;;) {
      ASSIGN_OR_RETURN(auto units, store::ListUnits(c, *site, req->building(),
                                                    v1::OCCUPANCY_UNSPECIFIED, after,
                                                    kit::kMaxPageSize));
      for (const store::UnitRow& u : units) {
        after = u.id;
        auto it = parties_of.find(u.unit.name());
        if (it == parties_of.end()) {
          csv += kit::CsvLine(RegisterCsvRow(u.unit, nullptr));
          ++rows_written;
          continue;
        }
        for (const v1::Party& p : it->second) {
          csv += kit::CsvLine(RegisterCsvRow(u.unit, &p));
          ++rows_written;
        }
      }
      if (units.size() < static_cast<size_t>(kit::kMaxPageSize)) break;
    }
    if (reveal) {
      RETURN_IF_ERROR(store::AddReveal(c, *site, absl::StrCat("sites/", *site, "/units:export"),
                                       actor, roles, req->reveal_reason(), clock_.Now()));
    }
    resp->set_csv(std::move(csv));
    resp->set_rows(rows_written);
    return absl::OkStatus();
  }));
}

}  // namespace archives
