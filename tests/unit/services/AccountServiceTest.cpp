// AccountService on a real SQLite file with a ManualClock: password change (the caller's
// session kept, every other revoked), account deletion, the session list (live families
// only, newest first, last use derived from the newest token, bounded), revoking one
// session, the operator's set-password, list and delete (UserAdminService over these); and
// the login's re-hash.
#include "services/AccountService.h"

#include <gtest/gtest.h>

#include "models/Migrator.h"
#include "services/UserAdminService.h"
#include "support/TestSupport.h"

namespace {

using namespace authsvc::models;

using authsvc::testing::kEmail;
using authsvc::testing::kPassword;
const std::string kNewPassword = "a brand new passphrase";

class AccountServiceTest : public ::testing::Test, protected authsvc::testing::SqliteServiceParts {
  protected:
    AccountServiceTest() : SqliteServiceParts("accounts.db") {
        makeAuth();
        accounts = std::make_unique<AccountService>(*db, users, tokens, hasher, clock,
                                                    settings.passwordMinLength, observer);
        admin = std::make_unique<UserAdminService>(*db, users, *auth, *accounts);
        auto u = auth->registerUser(kEmail, kPassword);
        EXPECT_TRUE(u);
        userId = u ? u->id : 0;
    }
    TokenPair login(const LoginClient& client = {}, const std::string& email = kEmail) {
        auto p = auth->login(email, kPassword, client);
        EXPECT_TRUE(p) << p.error().message;
        return p ? *p : TokenPair{};
    }
    std::string sidOf(const TokenPair& p) {
        auto c = kit.verify(p.accessToken);
        return c ? c->sid : "";
    }
    bool refreshes(const std::string& token) { return bool(auth->refresh(token)); }

    std::unique_ptr<AccountService> accounts;
    std::unique_ptr<UserAdminService> admin;
    int64_t userId = 0;
};

TEST_F(AccountServiceTest, PasswordChangeKeepsOnlyTheCallersSession) {
    const TokenPair mine = login(), other = login(), third = login();
    auto r = accounts->changePassword(userId, sidOf(mine), kPassword, kNewPassword);
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_TRUE(refreshes(mine.refreshToken));
    EXPECT_FALSE(refreshes(other.refreshToken));
    EXPECT_FALSE(refreshes(third.refreshToken));
    EXPECT_FALSE(auth->login(kEmail, kPassword));
    EXPECT_TRUE(auth->login(kEmail, kNewPassword));
    ASSERT_FALSE(observer.revocations.empty());
    EXPECT_EQ(observer.revocations.back(),
              std::make_pair(int64_t(2), std::string("password_change")));
}

TEST_F(AccountServiceTest, PasswordChangeChecksTheNewPasswordFirstThenTheCurrentOne) {
    const TokenPair other = login();
    auto weak = accounts->changePassword(userId, "", "wrong password", "short");
    ASSERT_FALSE(weak);
    EXPECT_EQ(weak.error().code, ErrorCode::InvalidRequest);
    EXPECT_NE(weak.error().message.find("new_password"), std::string::npos);
    auto wrong = accounts->changePassword(userId, "", "wrong password", kNewPassword);
    ASSERT_FALSE(wrong);
    EXPECT_EQ(wrong.error().code, ErrorCode::InvalidCredentials);
    auto overlong = accounts->changePassword(userId, "", std::string(2000, 'x'), kNewPassword);
    ASSERT_FALSE(overlong);
    EXPECT_EQ(overlong.error().code, ErrorCode::InvalidCredentials);
    EXPECT_TRUE(refreshes(other.refreshToken)) << "a refused change revoked a session";
    EXPECT_TRUE(auth->login(kEmail, kPassword));
}

TEST_F(AccountServiceTest, DeleteAccountNeedsThePasswordAndRemovesEveryFamily) {
    const TokenPair t = login();
    auto wrong = accounts->deleteAccount(userId, "wrong password");
    ASSERT_FALSE(wrong);
    EXPECT_EQ(wrong.error().code, ErrorCode::InvalidCredentials);
    ASSERT_TRUE(accounts->deleteAccount(userId, kPassword));
    EXPECT_FALSE(refreshes(t.refreshToken));
    const int64_t families = db->read([](soci::session& s) {
        long long n = -1;
        s << "SELECT COUNT(*) FROM refresh_families", soci::into(n);
        return n;
    });
    EXPECT_EQ(families, 0) << "ON DELETE CASCADE";
    auto again = accounts->deleteAccount(userId, kPassword);
    ASSERT_FALSE(again);
    EXPECT_EQ(again.error().code, ErrorCode::InvalidToken);
    auto reborn = auth->registerUser(kEmail, kPassword);
    ASSERT_TRUE(reborn);
    EXPECT_GT(reborn->id, userId) << "user ids are never reused";
}

TEST_F(AccountServiceTest, SessionsAreTheLiveFamiliesNewestFirstWithTheirLastUse) {
    const int64_t t0 = clock.nowMs();
    const TokenPair a = login({"agent a", "192.0.2.1"});
    clock.advanceMs(60'000);
    const TokenPair b = login({"", ""});
    const std::string sidA = sidOf(a), sidB = sidOf(b);  // before the access tokens expire
    clock.advanceMs(60'000);
    const TokenPair gone = login();
    auth->logout(gone.refreshToken);
    clock.advanceMs(3'600'000);
    const std::string a2 = auth->refresh(a.refreshToken)->refreshToken;
    clock.advanceMs(5 * 60'000);
    ASSERT_TRUE(auth->refresh(a2));

    const auto list = accounts->sessions(userId, sidB);
    ASSERT_EQ(list.size(), 2u);
    EXPECT_EQ(list[0].record.familyId, sidB);
    EXPECT_TRUE(list[0].current);
    EXPECT_EQ(list[0].record.createdMs, t0 + 60'000);
    EXPECT_EQ(list[0].record.lastUsedMs, t0 + 60'000) << "never rotated: its login";
    EXPECT_FALSE(list[0].record.userAgent);
    EXPECT_FALSE(list[0].record.ip);
    EXPECT_EQ(list[1].record.familyId, sidA);
    EXPECT_FALSE(list[1].current);
    EXPECT_EQ(list[1].record.createdMs, t0);
    EXPECT_EQ(list[1].record.lastUsedMs, t0 + 62 * 60'000 + 5 * 60'000) << "its last rotation";
    EXPECT_EQ(list[1].record.expiresMs, t0 + settings.refreshTtlMs);
    EXPECT_EQ(list[1].record.userAgent.value_or(""), "agent a");
    EXPECT_EQ(list[1].record.ip.value_or(""), "192.0.2.1");

    // Expired families are not listed either.
    clock.advanceMs(settings.refreshTtlMs - 67 * 60'000 + 60'000);  // b's expiry
    EXPECT_TRUE(accounts->sessions(userId, "").empty());
}

TEST_F(AccountServiceTest, TheSessionListIsBounded) {
    for (int i = 0; i < AccountService::kMaxSessionsListed + 5; ++i) {
        // No argon2 per session: the families are written directly.
        db->write([&](Connection& s) {
            tokens.createFamily(s, "fam" + std::to_string(i), userId, clock.nowMs() + i,
                                clock.nowMs() + 3'600'000);
        });
    }
    const auto list = accounts->sessions(userId, "");
    ASSERT_EQ(list.size(), size_t(AccountService::kMaxSessionsListed));
    EXPECT_EQ(list.front().record.familyId,
              "fam" + std::to_string(AccountService::kMaxSessionsListed + 4));
}

TEST_F(AccountServiceTest, LoginRecordsASanitisedUserAgent) {
    const TokenPair t = login({"x\xFF" + std::string(300, 'y'), "2001:db8::1"});
    const auto list = accounts->sessions(userId, "");
    ASSERT_EQ(list.size(), 1u);
    EXPECT_EQ(list[0].record.userAgent.value_or(""), "x\xEF\xBF\xBD" + std::string(198, 'y'));
    EXPECT_EQ(list[0].record.ip.value_or(""), "2001:db8::1");
}

TEST_F(AccountServiceTest, RevokeSessionOnlyForItsOwnerAndOnlyOnce) {
    ASSERT_TRUE(auth->registerUser("bob@example.com", kPassword));
    const int64_t bobId = auth->userForEmail("bob@example.com")->id;
    const TokenPair mine = login(), phone = login();
    const TokenPair bobs = login({}, "bob@example.com");

    auto notMine = accounts->revokeSession(userId, sidOf(bobs));
    ASSERT_FALSE(notMine);
    EXPECT_EQ(notMine.error().code, ErrorCode::NotFound);
    EXPECT_TRUE(refreshes(bobs.refreshToken));
    for (const std::string& id : {std::string(""), std::string("no such"), std::string(65, 'A')}) {
        auto r = accounts->revokeSession(userId, id);
        ASSERT_FALSE(r);
        EXPECT_EQ(r.error().code, ErrorCode::NotFound);
    }
    ASSERT_TRUE(accounts->revokeSession(userId, sidOf(phone)));
    EXPECT_FALSE(refreshes(phone.refreshToken));
    EXPECT_TRUE(refreshes(mine.refreshToken));
    EXPECT_FALSE(accounts->revokeSession(userId, sidOf(phone))) << "already revoked";
    EXPECT_EQ(observer.revocations.back(), std::make_pair(int64_t(1), std::string("user_revoked")));
    EXPECT_TRUE(accounts->revokeSession(bobId, sidOf(bobs)));
}

TEST_F(AccountServiceTest, OperatorSetPasswordRevokesEverySession) {
    const TokenPair a = login(), b = login();
    auto weak = admin->setPassword(kEmail, "short");
    ASSERT_FALSE(weak);
    EXPECT_EQ(weak.error().code, ErrorCode::InvalidRequest);
    auto unknown = admin->setPassword("nobody@example.com", kNewPassword);
    ASSERT_FALSE(unknown);
    EXPECT_EQ(unknown.error().code, ErrorCode::InvalidRequest);
    auto done = admin->setPassword("  ALICE@example.com ", kNewPassword);
    ASSERT_TRUE(done) << done.error().message;
    EXPECT_EQ(*done, 2);
    EXPECT_FALSE(refreshes(a.refreshToken));
    EXPECT_FALSE(refreshes(b.refreshToken));
    EXPECT_TRUE(auth->login(kEmail, kNewPassword));
}

TEST_F(AccountServiceTest, OperatorListAndDelete) {
    ASSERT_TRUE(auth->registerUser("bob@example.com", kPassword));
    ASSERT_TRUE(auth->registerUser("carol@example.com", kPassword));
    auto all = admin->listUsers(0, 10);
    ASSERT_TRUE(all);
    ASSERT_EQ(all->users.size(), 3u);
    EXPECT_EQ(all->users[0].user.email, kEmail);
    EXPECT_TRUE(all->users[0].user.passwordHash.empty());
    auto page = admin->listUsers(all->users[0].user.id, 1);
    ASSERT_TRUE(page);
    ASSERT_EQ(page->users.size(), 1u);
    EXPECT_EQ(page->users[0].user.email, "bob@example.com");

    auto gone = admin->deleteUser("BOB@example.com");
    ASSERT_TRUE(gone);
    EXPECT_EQ(gone->email, "bob@example.com");
    EXPECT_FALSE(admin->deleteUser("bob@example.com"));
    EXPECT_EQ(admin->listUsers(0, 10)->users.size(), 2u);
}

TEST_F(AccountServiceTest, LoginRehashesInTheFamilysTransaction) {
    PasswordHasher stronger(Argon2Params{2, 8});
    AuthService upgraded(*db, users, tokens, stronger, tokenService, clock, settings, observer);
    auto before = db->read([&](soci::session& s) { return users.findByEmail(s, kEmail); });
    ASSERT_TRUE(before && stronger.needsRehash(before->passwordHash));
    ASSERT_TRUE(upgraded.login(kEmail, kPassword));
    auto after = db->read([&](soci::session& s) { return users.findByEmail(s, kEmail); });
    ASSERT_TRUE(after);
    EXPECT_FALSE(stronger.needsRehash(after->passwordHash)) << after->passwordHash;
    EXPECT_TRUE(stronger.verify(kPassword, after->passwordHash));
    // A failed login re-hashes nothing.
    PasswordHasher weaker(Argon2Params{1, 8});
    AuthService downgraded(*db, users, tokens, weaker, tokenService, clock, settings, observer);
    EXPECT_FALSE(downgraded.login(kEmail, "wrong password"));
    auto unchanged = db->read([&](soci::session& s) { return users.findByEmail(s, kEmail); });
    EXPECT_EQ(unchanged->passwordHash, after->passwordHash);
}

}  // namespace
