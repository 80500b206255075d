// The archive room against the real database: one open loan per document
// (in the code and in the schema), confidential loans, overdue loans and
// their gauges, audits that find what is missing and what came back.
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "services/kit/proto_time.h"
#include "tests/archives/archives_fixture.h"
#include "tests/support/race.h"

namespace archives {
namespace {

class DocumentsTest : public ArchivesTest {
 protected:
  static v1::Document NewDocument(const std::string& site, const std::string& title,
                                  const std::string& box,
                                  v1::Confidentiality level = v1::INTERNAL) {
    v1::CreateDocumentRequest req;
    req.set_parent("sites/" + site);
    req.set_request_id(NewRequestId());
    v1::Document& d = *req.mutable_document();
    d.set_category(v1::MAINTENANCE_ORDER);
    d.set_title(title);
    d.set_unit(absl::StrCat("sites/", site, "/units/B3-1201"));
    d.mutable_location()->set_building("B3");
    d.mutable_location()->set_box(box);
    d.mutable_location()->set_shelf("S2");
    d.set_confidentiality(level);
    v1::Document out;
    const grpc::Status s = stub_->CreateDocument(Context().get(), req, &out);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return out;
  }
  static v1::LendDocumentRequest LendRequest(const v1::Document& d, const std::string& borrower,
                                             const std::string& approver = "") {
    v1::LendDocumentRequest req;
    req.set_name(d.name());
    req.set_borrower(borrower);
    req.set_department("engineering");
    req.set_purpose("check the repair history before the waterproofing job");
    kit::SetTimestamp(req.mutable_due_time(), clock_->Now() + absl::Hours(48));
    req.set_approver(approver);
    req.set_request_id(NewRequestId());
    return req;
  }
  static grpc::Status Lend(const v1::Document& d, const std::string& borrower,
                           v1::Loan* out = nullptr) {
    v1::Loan tmp;
    return stub_->LendDocument(Context().get(), LendRequest(d, borrower), out ? out : &tmp);
  }
  static v1::Document Get(const v1::Document& d) {
    v1::GetDocumentRequest req;
    req.set_name(d.name());
    v1::Document out;
    EXPECT_TRUE(stub_->GetDocument(Context().get(), req, &out).ok());
    return out;
  }
  static grpc::Status Found(const v1::ArchiveAudit& audit, const v1::Document& d) {
    v1::MarkDocumentFoundRequest req;
    req.set_name(audit.name());
    req.set_document(d.name());
    req.set_request_id(NewRequestId());
    v1::ArchiveAudit out;
    return stub_->MarkDocumentFound(Context().get(), req, &out);
  }
  static v1::ArchiveAudit StartAudit(const std::string& site, const std::string& box) {
    v1::StartArchiveAuditRequest req;
    req.set_parent("sites/" + site);
    req.mutable_audit()->set_building("B3");
    req.mutable_audit()->set_box(box);
    req.set_request_id(NewRequestId());
    v1::ArchiveAudit out;
    EXPECT_TRUE(stub_->StartArchiveAudit(Context().get(), req, &out).ok());
    return out;
  }
  static grpc::Status Close(const v1::ArchiveAudit& audit, v1::ArchiveAudit* out) {
    v1::CloseArchiveAuditRequest req;
    req.set_name(audit.name());
    req.set_request_id(NewRequestId());
    return stub_->CloseArchiveAudit(Context().get(), req, out);
  }
};

TEST_F(DocumentsTest, TwentyClerksLendingOneFileAtOnceLendItOnce) {
  const std::string site = NewSite();
  const v1::Document doc = NewDocument(site, "Waterproofing order 2025-114", "BOX-01");
  constexpr int kThreads = 20;
  const testing_support::RaceOutcome race = testing_support::Race(
      kThreads, [&](int i) { return Lend(doc, absl::StrCat("engineer ", i)); });
  EXPECT_EQ(race.ok, 1);
  EXPECT_EQ(race.refused, kThreads - 1);
  EXPECT_EQ(race.other, 0);
  EXPECT_EQ(sql_->Scalar("SELECT COUNT(*) FROM document_loans WHERE site = ?", {site}), 1);
  EXPECT_EQ(Get(doc).state(), v1::LENT);
}

TEST_F(DocumentsTest, TheSchemaItselfRefusesASecondOpenLoan) {
  const std::string site = NewSite();
  const v1::Document doc = NewDocument(site, "Owner file B3-1201", "BOX-01");
  ASSERT_TRUE(Lend(doc, "Wang").ok());
  const int64_t id = sql_->Scalar("SELECT id FROM documents WHERE site = ?", {site});
  kit::Db db(*db_, nullptr);
  const absl::Status s = db.Run(absl::Now() + absl::Seconds(10), [&](kit::Conn& c) {
    return c
        .Exec(
            "INSERT INTO document_loans (site, document_id, borrower, "
            "purpose, due_at, "
            "lent_by, lent_at) VALUES (?, ?, 'Li', 'bypass', ?, 'sql', ?)",
            {site, id, clock_->Now(), clock_->Now()})
        .status();
  });
  EXPECT_EQ(s.code(), absl::StatusCode::kAlreadyExists) << s;
}

TEST_F(DocumentsTest, AReturnRecordsTheClerkAndPutsTheFileBack) {
  const std::string site = NewSite();
  const v1::Document doc = NewDocument(site, "Release order 7", "BOX-01");
  v1::Loan loan;
  ASSERT_TRUE(
      stub_->LendDocument(As("staff", "user:clerk-zhou").get(), LendRequest(doc, "Wang"), &loan)
          .ok());
  EXPECT_EQ(loan.lent_by(), "user:clerk-zhou");
  EXPECT_EQ(Get(doc).current_loan().borrower(), "Wang");
  clock_->Set(At(3, 3, 11));
  v1::ReturnDocumentRequest ret;
  ret.set_name(doc.name());
  ret.set_received_by("clerk Zhou");
  ret.set_condition("corner torn");
  ret.set_request_id(NewRequestId());
  v1::Loan returned, again;
  ASSERT_TRUE(stub_->ReturnDocument(Context().get(), ret, &returned).ok());
  EXPECT_EQ(returned.name(), loan.name());
  EXPECT_EQ(returned.received_by(), "clerk Zhou");
  EXPECT_EQ(returned.returned_condition(), "corner torn");
  EXPECT_EQ(returned.return_time().seconds(), absl::ToUnixSeconds(At(3, 3, 11)));
  ASSERT_TRUE(stub_->ReturnDocument(Context().get(), ret, &again).ok()) << "a retry";
  EXPECT_EQ(again.SerializeAsString(), returned.SerializeAsString());
  const v1::Document back = Get(doc);
  EXPECT_EQ(back.state(), v1::ON_SHELF);
  EXPECT_FALSE(back.has_current_loan());
  ret.set_request_id(NewRequestId());
  EXPECT_EQ(stub_->ReturnDocument(Context().get(), ret, &again).error_code(),
            grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_TRUE(Lend(doc, "Li").ok()) << "on the shelf again, so it can go out again";
}

TEST_F(DocumentsTest, AConfidentialFileNeedsAnApproverWhoIsNotTheBorrower) {
  const std::string site = NewSite();
  const v1::Document doc = NewDocument(site, "Sales contract B3-1201", "BOX-09", v1::CONFIDENTIAL);
  v1::Loan loan;
  grpc::Status s = stub_->LendDocument(Context().get(), LendRequest(doc, "Wang"), &loan);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(s.error_message().rfind("approver", 0), 0u) << s.error_message();
  s = stub_->LendDocument(Context().get(), LendRequest(doc, "Wang", "Wang"), &loan);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(sql_->Scalar("SELECT COUNT(*) FROM document_loans WHERE site = ?", {site}), 0);
  EXPECT_EQ(Get(doc).state(), v1::ON_SHELF);
  ASSERT_TRUE(
      stub_->LendDocument(Context().get(), LendRequest(doc, "Wang", "Manager Liu"), &loan).ok());
  EXPECT_EQ(loan.approver(), "Manager Liu");
}

TEST_F(DocumentsTest, OverdueLoansAreListedAndCounted) {
  const std::string site = NewSite();
  const v1::Document late = NewDocument(site, "Work contact letter 12", "BOX-01");
  const v1::Document fine = NewDocument(site, "Work contact letter 13", "BOX-01");
  ASSERT_TRUE(Lend(late, "Wang").ok());
  clock_->Set(At(3, 4, 8));
  ASSERT_TRUE(Lend(fine, "Li").ok());
  clock_->Set(At(3, 5, 9));  // 72 h after the first loan, 25 h after the second
  v1::ListLoansRequest req;
  req.set_parent("sites/" + site);
  req.set_overdue_only(true);
  v1::ListLoansResponse overdue;
  ASSERT_TRUE(stub_->ListLoans(Context().get(), req, &overdue).ok());
  ASSERT_EQ(overdue.loans_size(), 1);
  EXPECT_EQ(overdue.loans(0).document(), late.name());
  EXPECT_TRUE(overdue.loans(0).overdue());
  EXPECT_TRUE(Get(late).current_loan().overdue());
  EXPECT_FALSE(Get(fine).current_loan().overdue());

  ASSERT_TRUE(service_->RefreshGauges().ok());
  const std::string metrics = testing_support::HttpGet(server_->metrics_port(), "/metrics");
  EXPECT_NE(metrics.find(absl::StrCat("estate_archives_documents_lent{site=\"", site, "\"} 2")),
            std::string::npos);
  EXPECT_NE(metrics.find(absl::StrCat("estate_archives_documents_overdue{site=\"", site, "\"} 1")),
            std::string::npos);
}

TEST_F(DocumentsTest, AnAuditTurnsTheUnfoundMissingAndALaterOneFindsThemAgain) {
  const std::string site = NewSite();
  const v1::Document a = NewDocument(site, "Owner file 0101", "BOX-01");
  const v1::Document b = NewDocument(site, "Owner file 0102", "BOX-01");
  const v1::Document c = NewDocument(site, "Owner file 0103", "BOX-01");
  const v1::Document lent = NewDocument(site, "Owner file 0104", "BOX-01");
  const v1::Document elsewhere = NewDocument(site, "Owner file 0201", "BOX-02");
  ASSERT_TRUE(Lend(lent, "Wang").ok());

  const v1::ArchiveAudit audit = StartAudit(site, "BOX-01");
  EXPECT_EQ(audit.state(), v1::AUDIT_OPEN);
  EXPECT_EQ(audit.expected(), 3) << "the lent file is not expected on the shelf";
  ASSERT_TRUE(Found(audit, a).ok());
  ASSERT_TRUE(Found(audit, c).ok());
  ASSERT_TRUE(Found(audit, c).ok()) << "found twice is found once";
  ASSERT_TRUE(Found(audit, elsewhere).ok());
  v1::ArchiveAudit closed;
  ASSERT_TRUE(Close(audit, &closed).ok());
  EXPECT_EQ(closed.state(), v1::AUDIT_CLOSED);
  EXPECT_EQ(closed.expected(), 3);
  EXPECT_EQ(closed.found(), 3);
  EXPECT_EQ(std::vector<std::string>(closed.missing_documents().begin(),
                                     closed.missing_documents().end()),
            std::vector<std::string>{b.name()});
  EXPECT_EQ(std::vector<std::string>(closed.unexpected_documents().begin(),
                                     closed.unexpected_documents().end()),
            std::vector<std::string>{elsewhere.name()});
  EXPECT_EQ(Get(b).state(), v1::MISSING);
  EXPECT_EQ(Get(lent).state(), v1::LENT);
  EXPECT_EQ(Lend(b, "Li").error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(Found(audit, b).error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(Close(audit, &closed).error_code(), grpc::StatusCode::FAILED_PRECONDITION);

  ASSERT_TRUE(service_->RefreshGauges().ok());
  EXPECT_NE(testing_support::HttpGet(server_->metrics_port(), "/metrics")
                .find(absl::StrCat("estate_archives_documents_missing{site=\"", site, "\"} 1")),
            std::string::npos);

  // The whole building next month: the missing file turns up in BOX-02.
  const v1::ArchiveAudit building = StartAudit(site, "");
  EXPECT_EQ(building.expected(), 3) << "a, c, elsewhere on the shelf; b missing is not expected";
  ASSERT_TRUE(Found(building, b).ok());
  v1::ArchiveAudit second;
  ASSERT_TRUE(Close(building, &second).ok());
  EXPECT_EQ(std::vector<std::string>(second.recovered_documents().begin(),
                                     second.recovered_documents().end()),
            std::vector<std::string>{b.name()});
  EXPECT_EQ(second.missing_documents_size(), 3) << "a, c and elsewhere were not marked";
  EXPECT_EQ(Get(b).state(), v1::ON_SHELF);
}

TEST_F(DocumentsTest, EditsNeedTheCurrentEtagAndBadInputWritesNothing) {
  const std::string site = NewSite();
  const v1::Document doc = NewDocument(site, "Decoration application 3", "BOX-01");
  v1::UpdateDocumentRequest req;
  *req.mutable_document() = doc;
  req.mutable_document()->mutable_location()->set_box("BOX-07");
  req.mutable_document()->mutable_location()->clear_shelf();
  req.mutable_document()->set_title("ignored: not in the mask");
  req.mutable_update_mask()->add_paths("location");
  req.set_request_id(NewRequestId());
  v1::Document moved;
  ASSERT_TRUE(stub_->UpdateDocument(Context().get(), req, &moved).ok());
  EXPECT_EQ(moved.location().box(), "BOX-07");
  EXPECT_EQ(moved.location().shelf(), "") << "a location is replaced whole";
  EXPECT_EQ(moved.title(), "Decoration application 3");
  req.set_request_id(NewRequestId());
  EXPECT_EQ(stub_->UpdateDocument(Context().get(), req, &moved).error_code(),
            grpc::StatusCode::ABORTED);

  v1::CreateDocumentRequest bad;
  bad.set_parent("sites/" + site);
  bad.set_request_id(NewRequestId());
  *bad.mutable_document() = doc;
  bad.mutable_document()->clear_title();
  v1::Document out;
  grpc::Status s = stub_->CreateDocument(Context().get(), bad, &out);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(s.error_message().rfind("document.title", 0), 0u) << s.error_message();
  v1::LendDocumentRequest no_due = LendRequest(doc, "Wang");
  no_due.clear_due_time();
  v1::Loan loan;
  s = stub_->LendDocument(Context().get(), no_due, &loan);
  EXPECT_EQ(s.error_message().rfind("due_time", 0), 0u) << s.error_message();
  EXPECT_EQ(sql_->Scalar("SELECT COUNT(*) FROM documents WHERE site = ?", {site}), 1);
  EXPECT_EQ(sql_->Scalar("SELECT COUNT(*) FROM document_loans WHERE site = ?", {site}), 0);
}

}  // namespace
}  // namespace archives
