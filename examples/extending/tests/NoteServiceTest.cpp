// Unit test of the example's service and repository (docs/EXTENDING.md), on a SQLite file
// of its own with authsvc's migrations and the example's applied, and a manual clock. It
// does not depend on the backend under test: its suite name ends in AnyBackendTest.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>

#include "extending/NoteService.h"
#include "support/ManualClock.h"
#include "extending/NotesExtension.h"
#include "models/Migrator.h"
#include "models/UserRepository.h"

namespace {

using authsvc::models::ErrorCode;

class NoteServiceAnyBackendTest : public ::testing::Test {
  protected:
    void SetUp() override {
        char pattern[] = "/tmp/authsvc-notes.XXXXXX";
        ASSERT_NE(mkdtemp(pattern), nullptr);
        dir_ = pattern;
        authsvc::models::DatabaseSettings settings;
        settings.sqlitePath = (dir_ / "notes.db").string();
        db_ = std::make_unique<authsvc::models::Database>(settings);
        authsvc::models::Migrator(*db_, clock_, notes::notesMigrations()).migrate();
        userId_ = db_->write([](soci::session& s) {
            return *authsvc::models::UserRepository().insert(s, "a@example.com", "hash", 1);
        });
    }
    void TearDown() override {
        db_.reset();
        std::filesystem::remove_all(dir_);
    }
    size_t stored() {
        return db_->read([](soci::session& s) {
            long long n = 0;
            s << "SELECT COUNT(*) FROM example_notes", soci::into(n);
            return size_t(n);
        });
    }

    std::filesystem::path dir_;
    authsvc::verify::ManualClock clock_;
    std::unique_ptr<authsvc::models::Database> db_;
    int64_t userId_ = 0;
};

TEST_F(NoteServiceAnyBackendTest, StoresTheNoteOfTheTokensUserAndListsIt) {
    notes::NoteService service(*db_, clock_);
    auto note = service.add(std::to_string(userId_), "hello");
    ASSERT_TRUE(note) << note.error().message;
    EXPECT_GT(note->id, 0);
    EXPECT_EQ(note->userId, userId_);
    EXPECT_EQ(note->createdAt, clock_.nowSeconds());
    auto listed = service.list(std::to_string(userId_));
    ASSERT_TRUE(listed);
    ASSERT_EQ(listed->size(), 1u);
    EXPECT_EQ((*listed)[0].body, "hello");
    EXPECT_EQ((*listed)[0].id, note->id);
}

TEST_F(NoteServiceAnyBackendTest, RefusesAnEmptyOrTooLongBodyAndStoresNothing) {
    notes::NoteService service(*db_, clock_);
    for (const std::string& body : {std::string(), std::string(501, 'x')}) {
        auto note = service.add(std::to_string(userId_), body);
        ASSERT_FALSE(note) << body.size();
        EXPECT_EQ(note.error().code, ErrorCode::InvalidRequest);
    }
    EXPECT_TRUE(service.add(std::to_string(userId_), std::string(500, 'x')));
    EXPECT_EQ(stored(), 1u);
}

TEST_F(NoteServiceAnyBackendTest, RefusesASubjectThatNamesNoUserAndStoresNothing) {
    notes::NoteService service(*db_, clock_);
    for (const char* subject : {"", "abc", "12x", "999999"}) {
        auto note = service.add(subject, "hello");
        ASSERT_FALSE(note) << subject;
        EXPECT_EQ(note.error().code, ErrorCode::InvalidToken) << subject;
    }
    EXPECT_EQ(stored(), 0u);
}

}  // namespace
