// AuthService on a real SQLite file (fresh temp dir per test) with a ManualClock:
// register, login, and every branch of refresh-token families: rotation, idempotent
// retry, reuse detection, expiry, revocation, sliding, purge.
#include "services/AuthService.h"

#include <gtest/gtest.h>

#include <optional>
#include <set>
#include <thread>

#include "models/Migrator.h"
#include "support/TestSupport.h"

namespace {

using namespace authsvc::models;
using authsvc::testing::inOneBatch;
using authsvc::testing::kSecret;
using authsvc::testing::RecordingObserver;
using authsvc::testing::TempDir;
using authsvc::verify::ManualClock;

constexpr int64_t kDayMs = 24LL * 3600 * 1000;
constexpr int64_t kTtlMs = 14 * kDayMs;
constexpr int64_t kGraceMs = 10'000;
using authsvc::testing::kEmail;
using authsvc::testing::kPassword;

class AuthServiceTest : public ::testing::Test, protected authsvc::testing::ServiceParts {
  protected:
    AuthServiceTest() {
        DatabaseSettings ds;
        ds.dialect = Dialect::Sqlite;
        ds.sqlitePath = (dir.path() / "auth.db").string();
        ds.poolSize = 4;
        ds.timeout = std::chrono::milliseconds(5000);
        db = std::make_unique<Database>(ds);
        Migrator(*db, clock).migrate();
        settings.refreshTtlMs = kTtlMs;
        settings.reuseGraceMs = kGraceMs;
        settings.successorKey = kSecret;
    }

    // Built on first use, so that a test may change `settings` first.
    AuthService& auth() {
        if (!service) service = make(settings, hasher);
        return *service;
    }
    std::unique_ptr<AuthService> make(AuthSettings s, const PasswordHasher& h) {
        return std::make_unique<AuthService>(*db, users, tokens, h, tokenService, clock,
                                             std::move(s), observer);
    }

    int64_t registerAlice() {
        auto u = auth().registerUser(kEmail, kPassword);
        EXPECT_TRUE(u) << u.error().message;
        return u ? u->id : 0;
    }
    TokenPair login() {
        auto p = auth().login(kEmail, kPassword);
        EXPECT_TRUE(p) << p.error().message;
        return p ? *p : TokenPair{};
    }
    TokenPair registerAndLogin() {
        registerAlice();
        return login();
    }
    // The refresh token of a successful refresh (fails the test otherwise).
    std::string rotate(const std::string& token) {
        auto r = auth().refresh(token);
        EXPECT_TRUE(r) << r.error().message;
        return r ? r->refreshToken : std::string();
    }
    void expectInvalidGrant(const std::string& token, const std::string& why = "") {
        auto r = auth().refresh(token);
        ASSERT_FALSE(r) << why;
        EXPECT_EQ(r.error().code, ErrorCode::InvalidGrant) << why;
    }
    std::string sidOf(const TokenPair& p) {
        auto c = kit.verify(p.accessToken);
        EXPECT_TRUE(c);
        return c ? c->sid : "";
    }

    TempDir dir;
    std::unique_ptr<Database> db;
    std::unique_ptr<AuthService> service;
};

// ---- register ----------------------------------------------------------------------------

TEST_F(AuthServiceTest, RegisterNormalisesTheEmailAndStoresAnArgon2Hash) {
    auto u = auth().registerUser("  Alice@Example.COM ", kPassword);
    ASSERT_TRUE(u) << u.error().message;
    EXPECT_GT(u->id, 0);
    EXPECT_EQ(u->email, "alice@example.com");
    EXPECT_EQ(u->createdAt, 1'800'000'000);
    auto stored = db->read([&](soci::session& s) { return users.findByEmail(s, kEmail); });
    ASSERT_TRUE(stored);
    EXPECT_EQ(stored->passwordHash.rfind("$argon2id$", 0), 0u);
    EXPECT_EQ(stored->passwordHash.find(kPassword), std::string::npos);
    EXPECT_TRUE(hasher.verify(kPassword, stored->passwordHash));
}

TEST_F(AuthServiceTest, RegisterTwiceIsEmailTakenWhateverTheCase) {
    registerAlice();
    auto again = auth().registerUser("ALICE@example.com", "another password");
    ASSERT_FALSE(again);
    EXPECT_EQ(again.error().code, ErrorCode::EmailTaken);
}

TEST_F(AuthServiceTest, RegisterRefusesABadEmailNamingTheField) {
    auto r = auth().registerUser("no-at-sign", kPassword);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, ErrorCode::InvalidRequest);
    EXPECT_NE(r.error().message.find("email"), std::string::npos) << r.error().message;
}

TEST_F(AuthServiceTest, RegisterRefusesAShortPasswordNamingTheField) {
    auto r = auth().registerUser(kEmail, "1234567");
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, ErrorCode::InvalidRequest);
    EXPECT_NE(r.error().message.find("password"), std::string::npos) << r.error().message;
    // and nothing was stored
    EXPECT_FALSE(db->read([&](soci::session& s) { return users.findByEmail(s, kEmail); }));
}

TEST_F(AuthServiceTest, PasswordMinLengthComesFromTheSettings) {
    settings.passwordMinLength = 12;
    EXPECT_FALSE(auth().registerUser(kEmail, "12345678901"));
    EXPECT_TRUE(auth().registerUser(kEmail, "123456789012"));
}

TEST_F(AuthServiceTest, ClosedRegistrationRefusesButTheOperatorMayAdd) {
    settings.registrationOpen = false;
    auto r = auth().registerUser(kEmail, kPassword);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, ErrorCode::RegistrationClosed);
    auto op = auth().registerUser(kEmail, kPassword, /*operatorOverride=*/true);
    ASSERT_TRUE(op) << op.error().message;
    EXPECT_TRUE(auth().login(kEmail, kPassword));
}

// ---- login -------------------------------------------------------------------------------

TEST_F(AuthServiceTest, LoginReturnsTheFullPair) {
    const int64_t id = registerAlice();
    TokenPair p = login();
    EXPECT_EQ(p.expiresIn, 900);
    EXPECT_EQ(p.refreshExpiresIn, kTtlMs / 1000);
    EXPECT_TRUE(isWellFormedRefreshToken(p.refreshToken)) << p.refreshToken;
    auto claims = kit.verify(p.accessToken);
    ASSERT_TRUE(claims);
    EXPECT_EQ(claims->sub, std::to_string(id));
    EXPECT_FALSE(claims->sid.empty());
    EXPECT_EQ(observer.logins, std::vector<bool>{true});
}

TEST_F(AuthServiceTest, EachLoginStartsANewFamily) {
    registerAlice();
    TokenPair a = login(), b = login();
    EXPECT_NE(a.refreshToken, b.refreshToken);
    EXPECT_NE(sidOf(a), sidOf(b));
}

TEST_F(AuthServiceTest, LoginNormalisesTheEmail) {
    registerAlice();
    EXPECT_TRUE(auth().login("  ALICE@example.com\n", kPassword));
}

TEST_F(AuthServiceTest, UnknownEmailAndWrongPasswordGiveTheSameError) {
    registerAlice();
    auto wrong = auth().login(kEmail, "wrong password");
    auto unknown = auth().login("bob@example.com", kPassword);
    ASSERT_FALSE(wrong);
    ASSERT_FALSE(unknown);
    EXPECT_EQ(wrong.error().code, ErrorCode::InvalidCredentials);
    EXPECT_EQ(unknown.error().code, ErrorCode::InvalidCredentials);
    EXPECT_EQ(wrong.error().message, "Invalid email or password");
    EXPECT_EQ(unknown.error().message, wrong.error().message);
    EXPECT_EQ(observer.logins, (std::vector<bool>{false, false}));
}

TEST_F(AuthServiceTest, OverlongPasswordIsInvalidCredentials) {
    registerAlice();
    auto r = auth().login(kEmail, std::string(1025, 'x'));
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, ErrorCode::InvalidCredentials);
}

TEST_F(AuthServiceTest, LoginRehashesWhenTheParametersChanged) {
    registerAlice();
    PasswordHasher stronger(Argon2Params{2, 8});
    auto upgraded = make(settings, stronger);
    ASSERT_TRUE(upgraded->login(kEmail, kPassword));
    auto stored = db->read([&](soci::session& s) { return users.findByEmail(s, kEmail); });
    ASSERT_TRUE(stored);
    EXPECT_NE(stored->passwordHash.find("t=2"), std::string::npos) << stored->passwordHash;
    EXPECT_FALSE(stronger.needsRehash(stored->passwordHash));
    // and the password still works with the new hash
    EXPECT_TRUE(upgraded->login(kEmail, kPassword));
}

// After an argon2id parameter change the stored hashes keep their old parameters until each
// user logs in again: the dummy hash of an unknown email must cost what most known emails
// cost, i.e. use the stored hashes' most common parameters, not the configured ones.
TEST_F(AuthServiceTest, TheDummyHashTakesTheStoredHashesMostCommonParameters) {
    EXPECT_EQ(auth().dummyParameters(), hasher.parameters());
    EXPECT_FALSE(auth().refreshDummyHash());  // no users: the configured ones stay
    const PasswordHasher older(Argon2Params{3, 16});
    const PasswordHasher other(Argon2Params{2, 32});
    const std::string salt(22, 'A'), mac(43, 'B');
    db->write([&](soci::session& s) {
        users.insert(s, "a@example.com", older.hash("password a"), 1);
        users.insert(s, "b@example.com", older.hash("password b"), 1);
        users.insert(s, "c@example.com", other.hash("password c"), 1);
        // Most common of all, but nothing argon2id parameters can be read from: ignored.
        for (const char* email : {"d@example.com", "e@example.com", "f@example.com"}) {
            users.insert(s, email, "!disabled", 1);
        }
        users.insert(s, "g@example.com", "$argon2id$v=19$m=4,t=1,p=1$" + salt + "$" + mac, 1);
        users.insert(s, "h@example.com", "$argon2id$v=19$m=4,t=1,p=1$" + salt + "$" + mac, 1);
        users.insert(s, "i@example.com", "$argon2id$v=19$m=4,t=1,p=1$" + salt + "$" + mac, 1);
    });
    const auto counts = db->read([&](soci::session& s) { return users.hashParameterCounts(s, 8); });
    ASSERT_EQ(counts.size(), 4u);
    EXPECT_EQ(counts[2], (std::pair<std::string, int64_t>{"$argon2id$v=19$m=16,t=3,p=1", 2}));
    EXPECT_EQ(counts[3], (std::pair<std::string, int64_t>{"$argon2id$v=19$m=32,t=2,p=1", 1}));

    auto changed = auth().refreshDummyHash();
    ASSERT_TRUE(changed);
    EXPECT_EQ(*changed, (Argon2Params{3, 16}));
    EXPECT_EQ(auth().dummyParameters(), (Argon2Params{3, 16}));
    EXPECT_FALSE(auth().refreshDummyHash());  // the same again: no new dummy
    auto unknown = auth().login("nobody@example.com", "password a");
    ASSERT_FALSE(unknown);
    EXPECT_EQ(unknown.error().code, ErrorCode::InvalidCredentials);

    // Users log in with the new parameters (rehash) until those are the most common.
    for (const char* email : {"a@example.com", "b@example.com"}) {
        db->write([&](soci::session& s) {
            users.updatePasswordHash(s, users.findByEmail(s, email)->id, hasher.hash("pw"));
        });
    }
    db->write([&](soci::session& s) { users.insert(s, "j@example.com", hasher.hash("pw"), 1); });
    changed = auth().refreshDummyHash();
    ASSERT_TRUE(changed);
    EXPECT_EQ(*changed, hasher.parameters());
}

TEST_F(AuthServiceTest, OnlyHashesOfRefreshTokensAreStored) {
    TokenPair p = registerAndLogin();
    const std::string next = rotate(p.refreshToken);
    std::vector<std::string> hashes(10);
    db->read([&](soci::session& s) {
        s << "SELECT token_hash FROM refresh_tokens ORDER BY id", soci::into(hashes);
    });
    // The 32 bytes of the SHA-256, stored as a BLOB.
    ASSERT_EQ(hashes.size(), 2u);
    EXPECT_EQ(hashes[0], authsvc::verify::sha256(p.refreshToken));
    EXPECT_EQ(hashes[1], authsvc::verify::sha256(next));
    long long blobs = 0;
    db->read([&](soci::session& s) {
        s << "SELECT COUNT(*) FROM refresh_tokens WHERE typeof(token_hash) = 'blob' AND "
             "(successor_hash IS NULL OR typeof(successor_hash) = 'blob')",
            soci::into(blobs);
    });
    EXPECT_EQ(blobs, 2);
}

// ---- refresh: rotation ----------------------------------------------------------------

TEST_F(AuthServiceTest, FreshTokenRotatesToANewPairInTheSameFamily) {
    TokenPair p = registerAndLogin();
    const std::string sid = sidOf(p);
    clock.advanceMs(kDayMs);
    auto r = auth().refresh(p.refreshToken);
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_NE(r->refreshToken, p.refreshToken);
    EXPECT_TRUE(isWellFormedRefreshToken(r->refreshToken));
    EXPECT_EQ(r->expiresIn, 900);
    EXPECT_EQ(r->refreshExpiresIn, (kTtlMs - kDayMs) / 1000);  // absolute lifetime
    EXPECT_EQ(sidOf(*r), sid);
    EXPECT_EQ(observer.refreshes, std::vector<RefreshOutcome>{RefreshOutcome::Rotated});
    EXPECT_TRUE(observer.reuses.empty());
}

// refreshLater: the same rules as refresh(), the answer once the group commit ran.
TEST_F(AuthServiceTest, ALaterRefreshAnswersAfterTheDrainAsRefreshWould) {
    TokenPair p = registerAndLogin();
    struct Answer {
        std::exception_ptr error;
        std::optional<Result<TokenPair>> result;
    };
    std::vector<Answer> answers;
    auto collect = [&](std::exception_ptr e, std::optional<Result<TokenPair>> r) {
        answers.push_back({e, std::move(r)});
    };
    auth().refreshLater(p.refreshToken, collect);
    auth().refreshLater(p.refreshToken, collect);  // the lost-response retry, same batch
    auth().refreshLater("not a refresh token", collect);
    ASSERT_EQ(answers.size(), 1u) << "only the malformed token is answered at once";
    ASSERT_TRUE(answers[0].result && !*answers[0].result);
    EXPECT_EQ(answers[0].result->error().code, ErrorCode::InvalidGrant);
    db->drainTogether();
    ASSERT_EQ(answers.size(), 3u);
    for (size_t i : {1u, 2u}) {
        ASSERT_FALSE(answers[i].error) << i;
        ASSERT_TRUE(answers[i].result && *answers[i].result) << i;
        EXPECT_EQ(sidOf(**answers[i].result), sidOf(p)) << i;
    }
    // The retry within the grace window got the same successor, which then rotates.
    EXPECT_EQ((*answers[1].result)->refreshToken, (*answers[2].result)->refreshToken);
    EXPECT_EQ(observer.count(RefreshOutcome::Rotated), 1u);
    EXPECT_EQ(observer.count(RefreshOutcome::Retried), 1u);
    clock.advanceMs(kGraceMs * 2);
    rotate((*answers[1].result)->refreshToken);
}

TEST_F(AuthServiceTest, ALaterRefreshGetsTheErrorItsRotationThrew) {
    TokenPair p = registerAndLogin();
    std::exception_ptr error;
    bool answered = false;
    auth().refreshLater(p.refreshToken,
                        [&](std::exception_ptr e, std::optional<Result<TokenPair>> r) {
                            error = e;
                            answered = true;
                            EXPECT_FALSE(r);
                        });
    // The rotation's first statement fails (the table is gone while the job waits).
    db->write([](soci::session& s) { s << "ALTER TABLE refresh_tokens RENAME TO gone"; });
    db->drainTogether();
    db->write([](soci::session& s) { s << "ALTER TABLE gone RENAME TO refresh_tokens"; });
    ASSERT_TRUE(answered);
    ASSERT_TRUE(error);
    EXPECT_THROW(std::rethrow_exception(error), std::runtime_error);
    EXPECT_TRUE(observer.refreshes.empty()) << "counted although it failed";
    // Nothing was stored: the token still rotates.
    rotate(p.refreshToken);
}

TEST_F(AuthServiceTest, AChainOfRotationsKeepsWorking) {
    std::string t = registerAndLogin().refreshToken;
    std::set<std::string> seen{t};
    for (int i = 0; i < 5; ++i) {
        clock.advanceMs(kGraceMs * 2);
        t = rotate(t);
        EXPECT_TRUE(seen.insert(t).second) << "a successor repeated";
    }
    EXPECT_EQ(observer.count(RefreshOutcome::Rotated), 5u);
}

TEST_F(AuthServiceTest, MalformedAndUnknownTokensAreInvalidGrant) {
    registerAndLogin();
    for (const std::string& bad :
         {std::string(""), std::string("abc"), std::string(43, '!'), std::string(44, 'A'),
          authsvc::verify::base64UrlEncode(crypto::randomBytes(32))}) {
        expectInvalidGrant(bad, bad);
    }
    EXPECT_EQ(observer.count(RefreshOutcome::Invalid), 5u);
    EXPECT_TRUE(observer.reuses.empty());
}

// ---- refresh: idempotent retry ----------------------------------------------------------

TEST_F(AuthServiceTest, RetryInsideTheGraceWindowReturnsTheSameSuccessor) {
    TokenPair p = registerAndLogin();
    auto first = auth().refresh(p.refreshToken);
    ASSERT_TRUE(first);
    clock.advanceMs(kGraceMs - 1);
    auto retry = auth().refresh(p.refreshToken);
    ASSERT_TRUE(retry) << retry.error().message;
    EXPECT_EQ(retry->refreshToken, first->refreshToken);
    EXPECT_NE(retry->accessToken, first->accessToken);  // a fresh access token
    EXPECT_EQ(sidOf(*retry), sidOf(p));
    EXPECT_EQ(observer.refreshes,
              (std::vector<RefreshOutcome>{RefreshOutcome::Rotated, RefreshOutcome::Retried}));
    EXPECT_TRUE(observer.reuses.empty());
    // The family is intact: the successor rotates normally.
    EXPECT_FALSE(rotate(first->refreshToken).empty());
}

TEST_F(AuthServiceTest, SeveralRetriesInsideTheWindowAllGetTheSameSuccessor) {
    TokenPair p = registerAndLogin();
    const std::string next = rotate(p.refreshToken);
    for (int i = 0; i < 3; ++i) {
        clock.advanceMs(1000);
        auto r = auth().refresh(p.refreshToken);
        ASSERT_TRUE(r) << i;
        EXPECT_EQ(r->refreshToken, next);
    }
}

TEST_F(AuthServiceTest, RetryOutsideTheGraceWindowIsReuseAndRevokesTheFamily) {
    const int64_t id = registerAlice();
    TokenPair p = login();
    const std::string next = rotate(p.refreshToken);
    clock.advanceMs(kGraceMs + 1);
    expectInvalidGrant(p.refreshToken);
    ASSERT_EQ(observer.reuses.size(), 1u);
    EXPECT_EQ(observer.reuses[0].familyId, sidOf(p));
    EXPECT_EQ(observer.reuses[0].userId, id);
    EXPECT_EQ(observer.count(RefreshOutcome::Reused), 1u);
    // The unused successor is dead too.
    expectInvalidGrant(next, "successor after reuse");
}

TEST_F(AuthServiceTest, GraceIsTimedFromTheRotationAndRetriesDoNotExtendIt) {
    TokenPair p = registerAndLogin();
    const std::string next = rotate(p.refreshToken);
    clock.advanceMs(kGraceMs - 1000);
    ASSERT_TRUE(auth().refresh(p.refreshToken));  // retried at grace - 1 s
    clock.advanceMs(1001);                        // grace + 1 ms after the rotation
    expectInvalidGrant(p.refreshToken);
    EXPECT_EQ(observer.reuses.size(), 1u);
    expectInvalidGrant(next);
}

TEST_F(AuthServiceTest, GraceWindowIsTimedToTheMillisecond) {
    TokenPair p = registerAndLogin();
    clock.advanceMs(123);  // rotation at a non-round millisecond
    rotate(p.refreshToken);
    clock.advanceMs(kGraceMs - 1);
    EXPECT_TRUE(auth().refresh(p.refreshToken));
    clock.advanceMs(2);
    expectInvalidGrant(p.refreshToken);
    EXPECT_EQ(observer.reuses.size(), 1u);
}

TEST_F(AuthServiceTest, ZeroGraceMakesEveryRetryAReuse) {
    settings.reuseGraceMs = 0;
    TokenPair p = registerAndLogin();
    const std::string next = rotate(p.refreshToken);
    expectInvalidGrant(p.refreshToken);
    EXPECT_EQ(observer.reuses.size(), 1u);
    expectInvalidGrant(next);
}

TEST_F(AuthServiceTest, RetryOfThePredecessorsPredecessorIsReuse) {
    TokenPair p = registerAndLogin();
    const std::string b = rotate(p.refreshToken);  // A -> B
    clock.advanceMs(1000);
    const std::string c = rotate(b);  // B -> C, still inside A's grace
    clock.advanceMs(1000);
    expectInvalidGrant(p.refreshToken);  // A again: its successor B was used
    EXPECT_EQ(observer.reuses.size(), 1u);
    expectInvalidGrant(c, "newest token after reuse");
    expectInvalidGrant(b, "middle token after reuse");
}

TEST_F(AuthServiceTest, RetryOfTheImmediatePredecessorAfterAFurtherRotationIsAllowed) {
    TokenPair p = registerAndLogin();
    const std::string b = rotate(p.refreshToken);  // A -> B
    clock.advanceMs(1000);
    const std::string c = rotate(b);  // B -> C
    clock.advanceMs(1000);
    auto retry = auth().refresh(b);  // B is C's immediate predecessor and C is unused
    ASSERT_TRUE(retry) << retry.error().message;
    EXPECT_EQ(retry->refreshToken, c);
    EXPECT_TRUE(observer.reuses.empty());
}

TEST_F(AuthServiceTest, ReuseAfterTheSuccessorWasUsedRevokesTheFamily) {
    TokenPair p = registerAndLogin();
    const std::string b = rotate(p.refreshToken);  // A -> B
    clock.advanceMs(1000);
    const std::string c = rotate(b);  // B -> C
    clock.advanceMs(1000);
    const std::string d = rotate(c);  // C -> D: B's successor C is now used
    clock.advanceMs(1000);
    expectInvalidGrant(b);  // inside B's grace, but its successor was used
    EXPECT_EQ(observer.reuses.size(), 1u);
    expectInvalidGrant(d, "newest token after reuse");
    // A reused token never comes back to life.
    clock.advanceMs(kGraceMs * 10);
    expectInvalidGrant(b);
}

TEST_F(AuthServiceTest, ReuseRevokesOnlyThatFamily) {
    TokenPair victim = registerAndLogin();
    TokenPair other = login();
    rotate(victim.refreshToken);
    clock.advanceMs(kGraceMs + 1);
    expectInvalidGrant(victim.refreshToken);
    EXPECT_FALSE(rotate(other.refreshToken).empty());
}

TEST_F(AuthServiceTest, RetryWithAChangedServerKeyIsRefusedWithoutRevokingTheFamily) {
    // E.g. a random per-start secret and a restart between rotation and retry.
    TokenPair p = registerAndLogin();
    const std::string next = rotate(p.refreshToken);
    AuthSettings other = settings;
    other.successorKey = std::string(40, 'z');
    auto restarted = make(other, hasher);
    auto r = restarted->refresh(p.refreshToken);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, ErrorCode::InvalidGrant);
    EXPECT_TRUE(observer.reuses.empty());
    auto cont = restarted->refresh(next);
    EXPECT_TRUE(cont) << cont.error().message;
}

// ---- refresh: expiry, revocation, sliding --------------------------------------------------

TEST_F(AuthServiceTest, ExpiredFamilyIsInvalidGrantWithoutReuse) {
    TokenPair p = registerAndLogin();
    clock.advanceMs(kTtlMs - 1);
    const std::string next = rotate(p.refreshToken);  // last millisecond: still fine
    clock.advanceMs(1);
    expectInvalidGrant(next);
    EXPECT_TRUE(observer.reuses.empty());
}

TEST_F(AuthServiceTest, RotationDoesNotExtendTheAbsoluteLifetime) {
    TokenPair p = registerAndLogin();
    std::string t = p.refreshToken;
    for (int day = 1; day < 14; ++day) {
        clock.advanceMs(kDayMs);
        auto r = auth().refresh(t);
        ASSERT_TRUE(r) << "day " << day;
        EXPECT_EQ(r->refreshExpiresIn, (kTtlMs - day * kDayMs) / 1000) << "day " << day;
        t = r->refreshToken;
    }
    clock.advanceMs(kDayMs);  // 14 days after login
    expectInvalidGrant(t);
}

TEST_F(AuthServiceTest, SlidingRestartsTheLifetimeOnEveryRotation) {
    settings.sliding = true;
    TokenPair p = registerAndLogin();
    std::string t = p.refreshToken;
    for (int i = 0; i < 3; ++i) {
        clock.advanceMs(10 * kDayMs);  // 30 days in all: beyond the 14-day ttl
        auto r = auth().refresh(t);
        ASSERT_TRUE(r) << i << ": " << r.error().message;
        EXPECT_EQ(r->refreshExpiresIn, kTtlMs / 1000);
        t = r->refreshToken;
    }
    clock.advanceMs(kTtlMs);  // idle for a whole ttl
    expectInvalidGrant(t);
}

TEST_F(AuthServiceTest, RetryUnderSlidingReportsTheSlidLifetime) {
    settings.sliding = true;
    TokenPair p = registerAndLogin();
    clock.advanceMs(kDayMs);
    rotate(p.refreshToken);
    clock.advanceMs(5000);
    auto r = auth().refresh(p.refreshToken);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->refreshExpiresIn, (kTtlMs - 5000) / 1000);
}

TEST_F(AuthServiceTest, LogoutRevokesTheFamily) {
    TokenPair p = registerAndLogin();
    const std::string next = rotate(p.refreshToken);
    auth().logout(p.refreshToken);  // any token of the family
    expectInvalidGrant(next);
    EXPECT_TRUE(observer.reuses.empty());
    EXPECT_EQ(observer.revocations, (std::vector<std::pair<int64_t, std::string>>{{1, "logout"}}));
}

TEST_F(AuthServiceTest, RevokedFamilyRefusesEvenAnInGraceRetry) {
    TokenPair p = registerAndLogin();
    rotate(p.refreshToken);
    auth().logout(p.refreshToken);
    expectInvalidGrant(p.refreshToken);
    EXPECT_TRUE(observer.reuses.empty());
}

TEST_F(AuthServiceTest, LogoutIsIdempotentAndSilentForUnknownTokens) {
    TokenPair p = registerAndLogin();
    auth().logout(p.refreshToken);
    auth().logout(p.refreshToken);
    auth().logout("garbage");
    auth().logout(authsvc::verify::base64UrlEncode(crypto::randomBytes(32)));
    EXPECT_EQ(observer.revocations.size(), 1u);
}

TEST_F(AuthServiceTest, LogoutAllRevokesEveryFamilyOfTheUserOnly) {
    const int64_t alice = registerAlice();
    TokenPair a1 = login(), a2 = login();
    ASSERT_TRUE(auth().registerUser("bob@example.com", kPassword));
    auto bob = auth().login("bob@example.com", kPassword);
    ASSERT_TRUE(bob);
    auth().logoutAll(alice);
    expectInvalidGrant(a1.refreshToken);
    expectInvalidGrant(a2.refreshToken);
    EXPECT_FALSE(rotate(bob->refreshToken).empty());
    ASSERT_FALSE(observer.revocations.empty());
    EXPECT_EQ(observer.revocations.back(), (std::pair<int64_t, std::string>{2, "logout_all"}));
    // A new login after logout_all works.
    EXPECT_FALSE(rotate(login().refreshToken).empty());
}

// ---- concurrency ---------------------------------------------------------------------------

TEST_F(AuthServiceTest, ConcurrentRefreshesOfOneTokenRotateExactlyOnce) {
    TokenPair p = registerAndLogin();
    auth();
    authsvc::testing::expectOneRotationAmong(
        8, [&](int) { return service->refresh(p.refreshToken); }, observer);
}

// ---- group commit: rotations sharing one transaction (SQLite) ------------------------------

TEST_F(AuthServiceTest, AFreshRotationAndAReuseInOneBatchEachGetTheirOwnOutcome) {
    TokenPair fresh = registerAndLogin();
    TokenPair stolen = login();
    const std::string stolenNext = rotate(stolen.refreshToken);
    clock.advanceMs(kGraceMs + 1);
    auth();
    std::optional<Result<TokenPair>> a, b;
    inOneBatch(*db, {[&] { a = service->refresh(fresh.refreshToken); },
                     [&] { b = service->refresh(stolen.refreshToken); }});
    ASSERT_TRUE(a && *a) << (a ? a->error().message : "no result");
    EXPECT_EQ(sidOf(a->value()), sidOf(fresh));
    ASSERT_TRUE(b && !*b);
    EXPECT_EQ(b->error().code, ErrorCode::InvalidGrant);
    ASSERT_EQ(observer.reuses.size(), 1u);
    EXPECT_EQ(observer.reuses[0].familyId, sidOf(stolen));
    // Both committed: the stolen family is dead, the fresh one lives on.
    expectInvalidGrant(stolenNext, "successor of the reused token");
    EXPECT_FALSE(rotate(a->value().refreshToken).empty());
    expectInvalidGrant(fresh.refreshToken, "the rotated token outside its grace");
}

TEST_F(AuthServiceTest, AReuseInsideTheBatchThatRotatesItsSuccessorRevokesTheFamily) {
    TokenPair p = registerAndLogin();
    const std::string b = rotate(p.refreshToken);  // A -> B
    clock.advanceMs(kGraceMs + 1);
    auth();
    // B rotates (B -> C) and A is replayed in the same transaction: whichever runs first,
    // the family ends revoked, exactly once, and C (if handed out) is dead.
    std::optional<Result<TokenPair>> rotated, replayed;
    inOneBatch(*db, {[&] { rotated = service->refresh(b); },
                     [&] { replayed = service->refresh(p.refreshToken); }});
    ASSERT_TRUE(rotated && replayed);
    ASSERT_FALSE(*replayed);
    EXPECT_EQ(observer.reuses.size(), 1u);
    EXPECT_EQ(observer.count(RefreshOutcome::Reused), 1u);
    if (*rotated) expectInvalidGrant(rotated->value().refreshToken, "C after the reuse");
    expectInvalidGrant(b, "B after the reuse");
}

TEST_F(AuthServiceTest, TheSameTokenTwiceInOneBatchRotatesOnceAndRetriesOnce) {
    TokenPair p = registerAndLogin();
    auth();
    std::optional<Result<TokenPair>> x, y;
    inOneBatch(*db, {[&] { x = service->refresh(p.refreshToken); },
                     [&] { y = service->refresh(p.refreshToken); }});
    ASSERT_TRUE(x && *x && y && *y);
    EXPECT_EQ(x->value().refreshToken, y->value().refreshToken);
    EXPECT_EQ(observer.count(RefreshOutcome::Rotated), 1u);
    EXPECT_EQ(observer.count(RefreshOutcome::Retried), 1u);
}

TEST_F(AuthServiceTest, AFailedBatchIsUnavailableForEveryRotationInItAndStoresNothing) {
    TokenPair p = registerAndLogin();
    TokenPair q = login();
    auth();
    std::optional<Result<TokenPair>> a, b;
    bool aUnavailable = false, bUnavailable = false, fullUnavailable = false;
    auto refreshInto = [&](const std::string& token, std::optional<Result<TokenPair>>& out,
                           bool& unavailable) {
        return [&, token] {
            try {
                out = service->refresh(token);
            } catch (const DatabaseUnavailable&) {
                unavailable = true;
            }
        };
    };
    // Between the two rotations, a writer of the same batch runs out of disk space.
    auto diskFull = [&] {
        try {
            db->writeTogether([](soci::session& s) {
                long long pages = 0;
                s << "PRAGMA page_count", soci::into(pages);
                s << "PRAGMA max_page_count=" + std::to_string(pages);
                s << "CREATE TABLE filler (x BLOB)";
                s << "INSERT INTO filler VALUES (zeroblob(100000))";
            });
        } catch (const DatabaseUnavailable&) {
            fullUnavailable = true;
        }
    };
    inOneBatch(*db, {refreshInto(p.refreshToken, a, aUnavailable), diskFull,
                     refreshInto(q.refreshToken, b, bUnavailable)});
    EXPECT_TRUE(aUnavailable);  // -> 503, as a single failed transaction gives
    EXPECT_TRUE(bUnavailable);
    EXPECT_TRUE(fullUnavailable);
    EXPECT_FALSE(a);
    EXPECT_FALSE(b);
    EXPECT_TRUE(observer.refreshes.empty()) << "an outcome was reported for a lost rotation";
    // Nothing was stored: both tokens are still fresh and rotate now.
    EXPECT_FALSE(rotate(p.refreshToken).empty());
    EXPECT_FALSE(rotate(q.refreshToken).empty());
    EXPECT_EQ(observer.count(RefreshOutcome::Rotated), 2u);
}

// ---- subjects and purge ---------------------------------------------------------------------

TEST_F(AuthServiceTest, UserForSubject) {
    const int64_t id = registerAlice();
    auto u = auth().userForSubject(std::to_string(id));
    ASSERT_TRUE(u);
    EXPECT_EQ(u->email, kEmail);
    EXPECT_EQ(u->passwordHash, "");  // never handed out
    for (const std::string& bad : {std::string(""), std::string("abc"), std::string("0"),
                                   std::string("-1"), std::string("1x"), std::string(" 1"),
                                   std::string("99999"), std::string("99999999999999999999")}) {
        auto r = auth().userForSubject(bad);
        ASSERT_FALSE(r) << bad;
        EXPECT_EQ(r.error().code, ErrorCode::InvalidToken) << bad;
    }
}

TEST_F(AuthServiceTest, UserForEmail) {
    registerAlice();
    auto u = auth().userForEmail(" ALICE@example.com ");
    ASSERT_TRUE(u);
    EXPECT_EQ(u->email, kEmail);
    EXPECT_EQ(u->passwordHash, "");
    auto none = auth().userForEmail("nobody@example.com");
    ASSERT_FALSE(none);
    EXPECT_EQ(none.error().code, ErrorCode::InvalidRequest);
}

TEST_F(AuthServiceTest, PurgeDeletesExpiredFamiliesInBoundedBatches) {
    registerAlice();
    TokenPair old1 = login();
    login();
    login();
    clock.advanceMs(kTtlMs + 1);
    TokenPair live = login();
    EXPECT_EQ(auth().purgeBatch(2), 2);
    EXPECT_EQ(auth().purgeBatch(10), 1);
    EXPECT_EQ(auth().purgeBatch(10), 0);
    auto gone = auth().refresh(old1.refreshToken);
    ASSERT_FALSE(gone);
    EXPECT_EQ(gone.error().message, "Unknown refresh token");  // the rows are gone
    EXPECT_FALSE(rotate(live.refreshToken).empty());
}

TEST_F(AuthServiceTest, PurgeKeepsRecentlyRevokedFamiliesForADay) {
    TokenPair p = registerAndLogin();
    TokenPair live = login();
    auth().logout(p.refreshToken);
    EXPECT_EQ(auth().purgeBatch(10), 0);
    clock.advanceMs(AuthService::kRevokedRetentionMs - 1);
    EXPECT_EQ(auth().purgeBatch(10), 0);
    clock.advanceMs(2);
    EXPECT_EQ(auth().purgeBatch(10), 1);
    EXPECT_FALSE(rotate(live.refreshToken).empty());
}

TEST(RefreshTokenShapeTest, IsWellFormedRefreshToken) {
    crypto::init();
    EXPECT_TRUE(
        isWellFormedRefreshToken(authsvc::verify::base64UrlEncode(crypto::randomBytes(32))));
    EXPECT_FALSE(
        isWellFormedRefreshToken(authsvc::verify::base64UrlEncode(crypto::randomBytes(31))));
    EXPECT_FALSE(
        isWellFormedRefreshToken(authsvc::verify::base64UrlEncode(crypto::randomBytes(33))));
    EXPECT_FALSE(isWellFormedRefreshToken(std::string(42, 'A') + "="));
    EXPECT_FALSE(isWellFormedRefreshToken(std::string(42, 'A') + "+"));
    EXPECT_FALSE(isWellFormedRefreshToken(""));
    // 43 bytes that libsodium alone would decode to 32 (fuzz_refresh_token's first finding).
    std::string nonAscii;
    for (int i = 0; i < 21; ++i) nonAscii += "\xc3\xa9";
    EXPECT_FALSE(isWellFormedRefreshToken(nonAscii + "A"));
}

}  // namespace
