// Roles: `authsvc user role add|remove` (CLI), the `roles` claim of access tokens (read at
// login and refresh), the route table's role requirement (403 insufficient_scope with the
// RFC 6750 challenge), checked again on the worker against the live session and the roles
// as they are now (a removed role, an ended session or a deleted user count at once), and
// GET /api/admin/users (role admin, keyset pagination).
#include <set>

#include "support/Harness.h"

namespace it {
namespace {

const std::string kInsufficientScope = kRealm + ", error=\"insufficient_scope\"";
const std::string kInvalidToken = kRealm + ", error=\"invalid_token\", error_description=\"";

class RolesTest : public ServiceTest {
  protected:
    CommandResult cli(std::vector<std::string> args) {
        args.push_back("--config");
        args.push_back(server->configPath().string());
        return runAuthsvc(args, server->dir());
    }
    CommandResult role(const std::string& action, const std::string& email,
                       const std::string& name) {
        return cli({"user", "role", action, email, name});
    }
    // The `roles` claim of an access token; nullopt when absent.
    std::optional<json> rolesClaim(const std::string& access) {
        auto jwt = decodeJwt(access);
        EXPECT_TRUE(jwt.has_value()) << access;
        if (!jwt || !jwt->second.contains("roles")) return std::nullopt;
        return jwt->second["roles"];
    }
    Tokens rotate(const Tokens& t) {
        const HttpResponse r = refresh(*client, t.refresh);
        EXPECT_EQ(r.status, 200) << r;
        return {r.jsonBody().value("access_token", ""), r.jsonBody().value("refresh_token", ""),
                r.jsonBody()};
    }
    HttpResponse adminUsers(const std::string& access, const std::string& query = "") {
        return client->getWithToken("/api/admin/users" + query, access);
    }
    // A user holding the admin role and an access token that carries it.
    std::pair<std::string, Tokens> admin() {
        const auto [email, id] = newUser();
        EXPECT_EQ(role("add", email, "admin").exitCode, 0);
        return {email, login(*client, email, kPassword)};
    }
    static void expectInsufficientScope(const HttpResponse& r) {
        expectError(r, 403, "insufficient_scope");
        EXPECT_EQ(r.header("WWW-Authenticate").value_or(""), kInsufficientScope) << r;
    }
    // 401 invalid_token with the RFC 6750 challenge, as for any token refused.
    static void expectInvalidToken(const HttpResponse& r) {
        expectError(r, 401, "invalid_token");
        const std::string www = r.header("WWW-Authenticate").value_or("");
        EXPECT_EQ(www.rfind(kInvalidToken, 0), 0u) << r;
    }
};

TEST_F(RolesTest, GrantedRoleAppearsAtTheNextRefreshAndUnlocksTheAdminRoute) {
    const auto [email, id] = newUser();
    const Tokens before = login(*client, email, kPassword);
    EXPECT_FALSE(rolesClaim(before.access).has_value()) << "no roles: no claim";
    expectInsufficientScope(adminUsers(before.access));

    const CommandResult add = role("add", email, "admin");
    ASSERT_EQ(add.exitCode, 0) << add.out << add.err;
    EXPECT_TRUE(containsI(add.out, "admin")) << add.out;
    // Not before the next refresh: the token issued earlier still lacks it.
    expectInsufficientScope(adminUsers(before.access));

    const Tokens after = rotate(before);
    EXPECT_EQ(rolesClaim(after.access).value_or(json()), json::array({"admin"}));
    const HttpResponse ok = adminUsers(after.access);
    EXPECT_EQ(ok.status, 200) << ok;
    // A fresh login reads them too.
    EXPECT_EQ(rolesClaim(login(*client, email, kPassword).access).value_or(json()),
              json::array({"admin"}));
}

TEST_F(RolesTest, RemovedRoleIsGoneAfterTheNextRefresh) {
    const auto [email, id] = newUser();
    ASSERT_EQ(role("add", email, "admin").exitCode, 0);
    ASSERT_EQ(role("add", email, "billing:read").exitCode, 0);
    const Tokens t = login(*client, email, kPassword);
    EXPECT_EQ(rolesClaim(t.access).value_or(json()), json::array({"admin", "billing:read"}));

    const CommandResult remove = role("remove", email, "admin");
    ASSERT_EQ(remove.exitCode, 0) << remove.out << remove.err;
    // The admin route reads the roles as they are now: the old token still lists the role,
    // and is refused.
    expectInsufficientScope(adminUsers(t.access));
    const Tokens next = rotate(t);
    EXPECT_EQ(rolesClaim(next.access).value_or(json()), json::array({"billing:read"}));
    expectInsufficientScope(adminUsers(next.access));

    ASSERT_EQ(role("remove", email, "billing:read").exitCode, 0);
    EXPECT_FALSE(rolesClaim(rotate(next).access).has_value()) << "no roles left: no claim";
}

TEST_F(RolesTest, ARemovedRoleClosesTheAdminRouteAtOnceNotAtExp) {
    const auto [email, tokens] = admin();
    ASSERT_EQ(adminUsers(tokens.access).status, 200);
    ASSERT_EQ(role("remove", email, "admin").exitCode, 0);
    EXPECT_EQ(rolesClaim(tokens.access).value_or(json()), json::array({"admin"}))
        << "the token still lists the role";
    expectInsufficientScope(adminUsers(tokens.access));
    // Granted again: the same token works again (the role is read each time).
    ASSERT_EQ(role("add", email, "admin").exitCode, 0);
    EXPECT_EQ(adminUsers(tokens.access).status, 200);
}

TEST_F(RolesTest, AnEndedSessionClosesTheAdminRouteWith401) {
    const auto [email, first] = admin();
    const Tokens second = login(*client, email, kPassword);
    ASSERT_EQ(adminUsers(first.access).status, 200);
    // Logging out one session ends that session's access token for the admin route only.
    ASSERT_EQ(client->postJson("/api/logout", {{"refresh_token", first.refresh}}).status, 204);
    expectInvalidToken(adminUsers(first.access));
    EXPECT_EQ(adminUsers(second.access).status, 200) << "another session of the admin";
    // The operator revokes every session.
    const CommandResult revoke = cli({"user", "revoke", email});
    ASSERT_EQ(revoke.exitCode, 0) << revoke.out << revoke.err;
    expectInvalidToken(adminUsers(second.access));
    // The token is still valid for routes without a role (verified from the token alone).
    EXPECT_EQ(client->getWithToken("/api/protected", second.access).status, 200);
}

TEST_F(RolesTest, ADeletedAdminIsRefusedWith401) {
    const auto [email, tokens] = admin();
    ASSERT_EQ(adminUsers(tokens.access).status, 200);
    const CommandResult del = cli({"user", "delete", email});
    ASSERT_EQ(del.exitCode, 0) << del.out << del.err;
    expectInvalidToken(adminUsers(tokens.access));
}

TEST_F(RolesTest, TheRoleCheckComesAfterAuthentication) {
    const HttpResponse none = client->get("/api/admin/users");
    expectError(none, 401, "missing_token");
    EXPECT_EQ(none.header("WWW-Authenticate").value_or(""), kRealm);
    expectError(adminUsers("not.a.token"), 401, "invalid_token");
}

TEST_F(RolesTest, CliRefusesInvalidRolesAndUnknownUsers) {
    const auto [email, id] = newUser();
    for (const std::string& bad :
         std::vector<std::string>{"Admin", "", "has space", std::string(65, 'a'), "é"}) {
        const CommandResult r = role("add", email, bad);
        EXPECT_NE(r.exitCode, 0) << "role '" << bad << "' accepted: " << r.out;
        EXPECT_FALSE(r.err.empty());
    }
    EXPECT_EQ(role("add", email, std::string(64, 'a')).exitCode, 0);
    EXPECT_EQ(role("add", email, "a-z_0.9:x").exitCode, 0);
    const CommandResult unknown = role("add", "nobody@example.com", "admin");
    EXPECT_NE(unknown.exitCode, 0);
    EXPECT_TRUE(containsI(unknown.err, "no user")) << unknown.err;
    // Idempotent: adding twice or removing a role the user lacks is not an error.
    EXPECT_EQ(role("add", email, "admin").exitCode, 0);
    EXPECT_EQ(role("add", email, "admin").exitCode, 0);
    EXPECT_EQ(role("remove", email, "ops").exitCode, 0);
    EXPECT_EQ(
        rolesClaim(login(*client, email, kPassword).access).value_or(json()),
        json::array({"a-z_0.9:x",
                     "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "admin"}));
}

TEST_F(RolesTest, PaginationWalks250UsersWithoutDuplicatesOrGaps) {
    const auto [adminEmail, tokens] = admin();
    std::set<long long> registered;
    for (int i = 0; i < 250; ++i) registered.insert(newUser().second);

    std::vector<long long> seen;
    json next = 0;
    int pages = 0;
    while (!next.is_null() && pages < 10) {
        const HttpResponse r =
            adminUsers(tokens.access, "?limit=100&after=" + std::to_string(next.get<long long>()));
        ASSERT_EQ(r.status, 200) << r;
        const json body = r.jsonBody();
        ASSERT_TRUE(body["users"].is_array()) << r;
        EXPECT_LE(body["users"].size(), 100u);
        for (const auto& u : body["users"]) {
            seen.push_back(u["id"].get<long long>());
            EXPECT_TRUE(u["email"].is_string());
            EXPECT_TRUE(u["created_at"].is_string());
            ASSERT_TRUE(u["roles"].is_array()) << u;
            if (u["email"] == adminEmail) {
                EXPECT_EQ(u["roles"], json::array({"admin"}));
            } else {
                EXPECT_TRUE(u["roles"].empty()) << u;
            }
            EXPECT_FALSE(u.contains("password_hash"));
        }
        next = body["next"];
        if (!next.is_null()) {
            EXPECT_EQ(next.get<long long>(), seen.back());
        }
        ++pages;
    }
    EXPECT_TRUE(next.is_null()) << "the walk did not end";
    EXPECT_EQ(pages, 3);
    EXPECT_TRUE(std::is_sorted(seen.begin(), seen.end()));
    const std::set<long long> unique(seen.begin(), seen.end());
    EXPECT_EQ(unique.size(), seen.size()) << "duplicates";
    for (long long id : registered) EXPECT_TRUE(unique.count(id)) << "user " << id << " missing";
    EXPECT_EQ(unique.size(), registered.size() + 1);

    // The default page is 100; a page past the end is empty.
    const json first = adminUsers(tokens.access).jsonBody();
    EXPECT_EQ(first["users"].size(), 100u);
    const json past = adminUsers(tokens.access, "?after=" + std::to_string(seen.back())).jsonBody();
    EXPECT_TRUE(past["users"].empty());
    EXPECT_TRUE(past["next"].is_null());
}

TEST_F(RolesTest, BadLimitOrAfterIs400) {
    const auto [email, tokens] = admin();
    for (const std::string q : {"?limit=0", "?limit=501", "?limit=abc", "?limit=-1",
                                "?limit=", "?limit=99999999999999999999", "?after=x", "?after=-5",
                                "?limit=10&after=1.5"}) {
        const HttpResponse r = adminUsers(tokens.access, q);
        expectError(r, 400, "invalid_request");
        EXPECT_TRUE(
            containsI(r.message(), q.find("after") != std::string::npos ? "after" : "limit"))
            << q << ": " << r;
    }
    EXPECT_EQ(adminUsers(tokens.access, "?limit=500").status, 200);
    EXPECT_EQ(adminUsers(tokens.access, "?limit=1&after=0").status, 200);
}

}  // namespace
}  // namespace it
