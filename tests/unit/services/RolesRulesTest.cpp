// Roles: the role-name rule, the `roles` claim issued (TokenService) and read (Verifier;
// a malformed claim refuses the token: VerifierTest), the route role check (missingRole, 403 with
// the RFC 6750 challenge), and on SQLite the roles read at login and refresh, the renewal of access
// tokens (refresh.accept_access_token) and the admin listing.
#include <gtest/gtest.h>

#include "common/Validation.h"
#include "controllers/ErrorMapper.h"
#include "middleware/AuthChecks.h"
#include "middleware/RequireAuth.h"
#include "models/Migrator.h"
#include "services/AuthService.h"
#include "services/UserAdminService.h"
#include "support/TestSupport.h"

namespace {

using namespace authsvc::models;
using authsvc::controllers::AuthContext;
using authsvc::controllers::errorResponse;
using authsvc::testing::jwtSegment;
using authsvc::testing::kEmail;
using authsvc::testing::kPassword;
using authsvc::testing::kSecret;
using authsvc::testing::TempDir;
using authsvc::testing::TokenKit;
using authsvc::verify::AccessClaims;
using authsvc::verify::ManualClock;
using nlohmann::json;

TEST(RoleNameTest, FollowsTheRule) {
    for (const std::string& ok :
         std::vector<std::string>{"admin", "a", "billing:read", "x.y-z_0", std::string(64, 'r')}) {
        EXPECT_FALSE(roleProblem(ok)) << ok;
    }
    for (const std::string& bad : std::vector<std::string>{
             "", "Admin", "has space", "a/b", "é", std::string(65, 'r'), std::string("a\0b", 3)}) {
        EXPECT_TRUE(roleProblem(bad)) << bad;
    }
}

class RolesClaimTest : public ::testing::Test {
  protected:
    ManualClock clock{1'800'000'000'000};
    TokenKit kit{clock};
};

TEST_F(RolesClaimTest, IssuedAsAnArrayAndAbsentWhenEmpty) {
    const std::string with = kit.tokenService.issue("7", "fam", {"admin", "ops"});
    EXPECT_EQ(jwtSegment(with, 1)["roles"], json::array({"admin", "ops"}));
    const std::string without = kit.tokenService.issue("7", "fam", {});
    EXPECT_FALSE(jwtSegment(without, 1).contains("roles"));

    auto claims = kit.verify(with);
    ASSERT_TRUE(claims) << claims.error().message;
    EXPECT_EQ(claims->roles, (std::vector<std::string>{"admin", "ops"}));
    EXPECT_TRUE(claims->hasRole("admin"));
    EXPECT_FALSE(claims->hasRole("adm"));
    auto none = kit.verify(without);
    ASSERT_TRUE(none);
    EXPECT_TRUE(none->roles.empty());
    EXPECT_FALSE(none->hasRole("admin"));
}

TEST(RouteRoleCheckTest, MissingRoleIs403WithTheChallenge) {
    AccessClaims claims;
    claims.sub = "7";
    claims.roles = {"ops"};
    const AuthContext ctx(claims);
    EXPECT_FALSE(authsvc::middleware::missingRole(ctx, ""));
    EXPECT_FALSE(authsvc::middleware::missingRole(ctx, "ops"));
    auto denied = authsvc::middleware::missingRole(ctx, "admin");
    ASSERT_TRUE(denied);
    EXPECT_EQ(denied->code, ErrorCode::InsufficientScope);
    const auto r = errorResponse(*denied);
    EXPECT_EQ(r.status, 403);
    EXPECT_EQ(json::parse(r.body)["error"], "insufficient_scope");
    ASSERT_EQ(r.headers.size(), 1u);
    EXPECT_EQ(r.headers[0].first, "WWW-Authenticate");
    EXPECT_EQ(r.headers[0].second, R"(Bearer realm="authsvc", error="insufficient_scope")");
}

class RolesServiceTest : public ::testing::Test, protected authsvc::testing::ServiceParts {
  protected:
    RolesServiceTest() {
        DatabaseSettings ds;
        ds.dialect = Dialect::Sqlite;
        ds.sqlitePath = (dir.path() / "auth.db").string();
        ds.poolSize = 2;
        ds.timeout = std::chrono::milliseconds(5000);
        db = std::make_unique<Database>(ds);
        Migrator(*db, clock).migrate();
        settings.successorKey = kSecret;
    }
    AuthService& auth(bool acceptAccessTokens = false) {
        if (!service) {
            service = std::make_unique<AuthService>(*db, users, tokens, hasher, tokenService, clock,
                                                    settings, observer,
                                                    acceptAccessTokens ? &kit.verifier : nullptr);
        }
        return *service;
    }
    TokenPair aliceLogin() {
        if (!auth().userForEmail(kEmail)) {
            EXPECT_TRUE(auth().registerUser(kEmail, kPassword));
        }
        auto p = auth().login(kEmail, kPassword);
        EXPECT_TRUE(p) << p.error().message;
        return p ? *p : TokenPair{};
    }
    static json rolesOf(const std::string& access) {
        return jwtSegment(access, 1).value("roles", json());
    }

    TempDir dir;
    std::unique_ptr<Database> db;
    std::unique_ptr<AuthService> service;
};

TEST_F(RolesServiceTest, RolesAreReadAtLoginAndAtEveryRefresh) {
    AccountService accounts(*db, users, tokens, hasher, clock, 8, observer);
    UserAdminService roles(*db, users, auth(), accounts);
    const TokenPair first = aliceLogin();
    EXPECT_TRUE(rolesOf(first.accessToken).is_null());
    auto granted = roles.grantRole("Alice@Example.com ", "admin");
    ASSERT_TRUE(granted) << granted.error().message;
    EXPECT_TRUE(*granted);
    EXPECT_FALSE(*roles.grantRole(kEmail, "admin")) << "already had it";
    ASSERT_TRUE(roles.grantRole(kEmail, "a:b"));

    auto rotated = auth().refresh(first.refreshToken);
    ASSERT_TRUE(rotated) << rotated.error().message;
    EXPECT_EQ(rolesOf(rotated->accessToken), json::array({"a:b", "admin"}));
    // The retry inside the grace window reads them too.
    auto retried = auth().refresh(first.refreshToken);
    ASSERT_TRUE(retried);
    EXPECT_EQ(rolesOf(retried->accessToken), json::array({"a:b", "admin"}));
    EXPECT_EQ(rolesOf(aliceLogin().accessToken), json::array({"a:b", "admin"}));

    EXPECT_TRUE(*roles.removeRole(kEmail, "admin"));
    EXPECT_FALSE(*roles.removeRole(kEmail, "admin"));
    auto again = auth().refresh(rotated->refreshToken);
    ASSERT_TRUE(again);
    EXPECT_EQ(rolesOf(again->accessToken), json::array({"a:b"}));

    EXPECT_FALSE(roles.grantRole(kEmail, "Admin"));
    EXPECT_FALSE(roles.grantRole("bob@example.com", "admin"));
}

TEST_F(RolesServiceTest, LiveSessionReadsTheSessionAndTheRolesAsTheyAreNow) {
    using authsvc::middleware::Admitted;
    using authsvc::middleware::LiveSession;
    AccountService accounts(*db, users, tokens, hasher, clock, 8, observer);
    UserAdminService admin(*db, users, auth(), accounts);
    const LiveSession needsAdmin(auth(), "admin");
    const LiveSession sessionOnly(auth(), "");
    EXPECT_EQ(needsAdmin.runs(), authsvc::middleware::Admission::Runs::OnWorker);
    auto check = [](const LiveSession& c, const AccessClaims& claims) {
        Admitted admitted;
        admitted.auth = AuthContext(claims);
        return c.admit({}, admitted);
    };
    auto codeOf = [](const std::optional<authsvc::controllers::Refusal>& e) {
        return e && std::holds_alternative<Error>(*e) ? std::get<Error>(*e).code
                                                      : ErrorCode::Internal;
    };

    const TokenPair pair = aliceLogin();
    ASSERT_TRUE(admin.grantRole(kEmail, "admin"));
    auto claims = kit.verify(pair.accessToken);
    ASSERT_TRUE(claims);
    EXPECT_FALSE(claims->hasRole("admin")) << "granted after the login";
    EXPECT_EQ(check(needsAdmin, *claims), std::nullopt) << "the role as it is now";
    ASSERT_TRUE(admin.removeRole(kEmail, "admin"));
    EXPECT_EQ(codeOf(check(needsAdmin, *claims)), ErrorCode::InsufficientScope);
    EXPECT_EQ(check(sessionOnly, *claims), std::nullopt);

    AccessClaims noSession = *claims;
    noSession.sid.clear();
    EXPECT_EQ(codeOf(check(sessionOnly, noSession)), ErrorCode::InvalidToken);
    AccessClaims otherUser = *claims;
    otherUser.sub = "999999";
    EXPECT_EQ(codeOf(check(sessionOnly, otherUser)), ErrorCode::InvalidToken);

    auth().logout(pair.refreshToken);
    EXPECT_EQ(codeOf(check(sessionOnly, *claims)), ErrorCode::InvalidToken);
    EXPECT_EQ(codeOf(check(needsAdmin, *claims)), ErrorCode::InvalidToken);

    const TokenPair again = aliceLogin();
    auto live = kit.verify(again.accessToken);
    ASSERT_TRUE(live);
    EXPECT_EQ(check(sessionOnly, *live), std::nullopt);
    ASSERT_TRUE(admin.deleteUser(kEmail));
    EXPECT_EQ(codeOf(check(sessionOnly, *live)), ErrorCode::InvalidToken);
}

TEST_F(RolesServiceTest, AccessTokenRenewalNeverPassesExpAndNeedsALiveFamily) {
    auth(/*acceptAccessTokens=*/true);
    const TokenPair pair = aliceLogin();
    auto renewed = auth().refresh(pair.accessToken);
    ASSERT_TRUE(renewed) << renewed.error().message;
    EXPECT_TRUE(renewed->refreshToken.empty());
    EXPECT_EQ(jwtSegment(renewed->accessToken, 1)["sid"], jwtSegment(pair.accessToken, 1)["sid"]);
    EXPECT_EQ(observer.count(RefreshOutcome::Renewed), 1u);

    // Past exp but inside the verifier's 30 s leeway: refused all the same.
    clock.advanceMs(kit.accessTtlSeconds() * 1000 + 1);
    ASSERT_TRUE(kit.verify(pair.accessToken)) << "the verifier's leeway still accepts it";
    auto late = auth().refresh(pair.accessToken);
    ASSERT_FALSE(late);
    EXPECT_EQ(late.error().code, ErrorCode::InvalidGrant);

    // A revoked family: refused.
    const TokenPair other = aliceLogin();
    auth().logout(other.refreshToken);
    auto revoked = auth().refresh(other.accessToken);
    ASSERT_FALSE(revoked);
    EXPECT_EQ(revoked.error().code, ErrorCode::InvalidGrant);
}

TEST_F(RolesServiceTest, AccessTokenIsRefusedWithoutTheOption) {
    const TokenPair pair = aliceLogin();
    auto r = auth().refresh(pair.accessToken);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, ErrorCode::InvalidGrant);
    EXPECT_EQ(observer.count(RefreshOutcome::Renewed), 0u);
}

TEST_F(RolesServiceTest, AnAccessTokenIsAnInvalidGrantWhereRenewalIsNotAsked) {
    // POST /oauth/token: never a renewal, whatever refresh.accept_access_token says; counted.
    auth(/*acceptAccessTokens=*/true);
    const TokenPair pair = aliceLogin();
    auto r = auth().refresh(pair.accessToken, /*mayRenewAccessToken=*/false);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, ErrorCode::InvalidGrant);
    EXPECT_EQ(observer.count(RefreshOutcome::Renewed), 0u);
    EXPECT_EQ(observer.count(RefreshOutcome::Invalid), 1u);
}

TEST_F(RolesServiceTest, ListingPagesByIdWithRoles) {
    AccountService accounts(*db, users, tokens, hasher, clock, 8, observer);
    UserAdminService roles(*db, users, auth(), accounts);
    for (int i = 0; i < 5; ++i) {
        ASSERT_TRUE(auth().registerUser("u" + std::to_string(i) + "@example.com", "password123"));
    }
    ASSERT_TRUE(roles.grantRole("u1@example.com", "ops"));
    ASSERT_TRUE(roles.grantRole("u1@example.com", "admin"));
    auto first = roles.listUsers(0, 2);
    ASSERT_TRUE(first);
    ASSERT_EQ(first->users.size(), 2u);
    EXPECT_EQ(first->users[1].roles, (std::vector<std::string>{"admin", "ops"}));
    EXPECT_TRUE(first->users[0].user.passwordHash.empty());
    ASSERT_TRUE(first->next);
    auto second = roles.listUsers(*first->next, 3);
    ASSERT_TRUE(second);
    EXPECT_EQ(second->users.size(), 3u);
    EXPECT_FALSE(second->next) << "exactly the rest: no further page";
    EXPECT_FALSE(roles.listUsers(0, 0));
    EXPECT_FALSE(roles.listUsers(0, 501));
    EXPECT_FALSE(roles.listUsers(-1, 10));
    EXPECT_TRUE(roles.listUsers(0, 500));
}

}  // namespace
