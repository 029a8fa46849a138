// GET /api/sessions (the user's live refresh families, newest first, with the User-Agent and
// address seen at login and the caller's own marked) and DELETE /api/sessions/{id}.
#include <regex>

#include "support/Harness.h"

namespace it {
namespace {

std::string bearer(const std::string& access) {
    return "Authorization: Bearer " + access;
}

std::string sidOf(const Tokens& t) {
    auto decoded = decodeJwt(t.access);
    if (!decoded) return "";
    return decoded->second.value("sid", "");
}

class SessionsTest : public ServiceTest {
  protected:
    // Logs in with these extra request headers (e.g. "User-Agent: ...").
    Tokens loginWith(const std::string& email, const Headers& headers) {
        const HttpResponse r =
            client->postJson("/api/login", {{"email", email}, {"password", kPassword}}, headers);
        EXPECT_EQ(r.status, 200) << r;
        const json j = r.jsonBody();
        return {j.value("access_token", ""), j.value("refresh_token", ""), j};
    }
    // The sessions array (recording a failure unless the answer is 200 with one).
    json sessions(const std::string& access) {
        const HttpResponse r = client->getWithToken("/api/sessions", access);
        EXPECT_EQ(r.status, 200) << r;
        const json j = r.jsonBody();
        if (!j.is_object() || !j.contains("sessions") || !j["sessions"].is_array()) {
            ADD_FAILURE() << "no sessions array: " << r;
            return json::array();
        }
        return j["sessions"];
    }
    HttpResponse revoke(const std::string& access, const std::string& id) {
        return client->request("DELETE", "/api/sessions/" + id, std::nullopt, {bearer(access)});
    }
    static const json* find(const json& list, const std::string& id) {
        for (const auto& s : list) {
            if (s.value("id", "") == id) return &s;
        }
        return nullptr;
    }
};

TEST_F(SessionsTest, ListsLiveSessionsNewestFirstAndMarksTheCallers) {
    const auto [email, id] = newUser();
    const Tokens a = loginWith(email, {"User-Agent: agent-one/1.0"});
    const Tokens b = loginWith(email, {"User-Agent: agent-two/2.0 (X11; Linux)"});
    const Tokens c = loginWith(email, {});  // curl sends no User-Agent unless told to
    const Tokens gone = loginWith(email, {"User-Agent: logged out"});
    ASSERT_EQ(client->postJson("/api/logout", {{"refresh_token", gone.refresh}}).status, 204);
    const auto [stranger, strangerId] = newUser();
    const Tokens theirs = loginWith(stranger, {"User-Agent: someone else"});

    const HttpResponse r = client->getWithToken("/api/sessions", b.access);
    ASSERT_EQ(r.status, 200) << r;
    EXPECT_TRUE(containsI(r.header("Content-Type").value_or(""), "application/json")) << r;
    const json list = sessions(b.access);
    ASSERT_EQ(list.size(), 3u) << list.dump(2);
    EXPECT_EQ(list[0].value("id", ""), sidOf(c)) << "newest first: " << list.dump(2);
    EXPECT_EQ(list[1].value("id", ""), sidOf(b)) << list.dump(2);
    EXPECT_EQ(list[2].value("id", ""), sidOf(a)) << list.dump(2);

    const std::regex rfc3339(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ)");
    for (const auto& s : list) {
        for (const char* key : {"created_at", "last_used_at", "expires_at"}) {
            ASSERT_TRUE(s.contains(key) && s[key].is_string()) << key << ": " << s.dump();
            EXPECT_TRUE(std::regex_match(s[key].get<std::string>(), rfc3339)) << s.dump();
        }
        // The same format compares as text in time order.
        EXPECT_LE(s["created_at"].get<std::string>(), s["last_used_at"].get<std::string>());
        EXPECT_LT(s["last_used_at"].get<std::string>(), s["expires_at"].get<std::string>());
        EXPECT_EQ(s.value("ip", ""), "127.0.0.1") << s.dump();
        EXPECT_EQ(s.value("current", false), s.value("id", "") == sidOf(b)) << s.dump();
        ASSERT_TRUE(s.contains("current") && s["current"].is_boolean()) << s.dump();
    }
    EXPECT_EQ(list[2].value("user_agent", ""), "agent-one/1.0");
    EXPECT_EQ(list[1].value("user_agent", ""), "agent-two/2.0 (X11; Linux)");
    ASSERT_TRUE(list[0].contains("user_agent"));
    EXPECT_TRUE(list[0]["user_agent"].is_null()) << list[0].dump();

    // Each token sees the same list with its own session marked.
    const json fromA = sessions(a.access);
    ASSERT_EQ(fromA.size(), 3u);
    EXPECT_TRUE(find(fromA, sidOf(a)) && (*find(fromA, sidOf(a)))["current"] == true);
    EXPECT_TRUE(find(fromA, sidOf(b)) && (*find(fromA, sidOf(b)))["current"] == false);
    // The stranger sees only their own.
    const json strangers = sessions(theirs.access);
    ASSERT_EQ(strangers.size(), 1u);
    EXPECT_EQ(strangers[0].value("id", ""), sidOf(theirs));
    EXPECT_EQ(strangers[0].value("user_agent", ""), "someone else");
}

TEST_F(SessionsTest, ARotationKeepsTheSessionAndItsLoginDetails) {
    const auto [email, id] = newUser();
    const Tokens a = loginWith(email, {"User-Agent: keeps/1"});
    const HttpResponse r = client->postJson("/api/refresh_token", {{"refresh_token", a.refresh}},
                                            {"User-Agent: changed/2"});
    ASSERT_EQ(r.status, 200) << r;
    const std::string access = r.jsonBody().value("access_token", "");
    const json list = sessions(access);
    ASSERT_EQ(list.size(), 1u) << list.dump(2);
    EXPECT_EQ(list[0].value("id", ""), sidOf(a));
    EXPECT_EQ(list[0].value("user_agent", ""), "keeps/1") << "as seen at login";
    EXPECT_EQ(list[0].value("current", false), true);
}

TEST_F(SessionsTest, UserAgentIsCutAt200CharactersWithoutSplittingUtf8) {
    const auto [email, id] = newUser();
    std::string accents;
    for (int i = 0; i < 250; ++i) accents += "\xC3\xA9";  // é, two bytes each
    const Tokens t = loginWith(email, {"User-Agent: a" + accents});
    const Tokens bad = loginWith(email, {"User-Agent: x\xFFy\xC3"});
    const json list = sessions(t.access);
    ASSERT_EQ(list.size(), 2u);
    const std::string kept = (*find(list, sidOf(t))).value("user_agent", "");
    EXPECT_EQ(kept, "a" + accents.substr(0, 199 * 2)) << kept.size() << " bytes";
    // Bytes that are not UTF-8 are shown as U+FFFD.
    EXPECT_EQ((*find(list, sidOf(bad))).value("user_agent", ""), "x\xEF\xBF\xBDy\xEF\xBF\xBD");
}

class SessionsBehindProxyTest : public SessionsTest {
  protected:
    json overrides() const override {
        return {{"server", {{"trusted_proxies", json::array({"127.0.0.1/32"})}}}};
    }
};

TEST_F(SessionsBehindProxyTest, IpIsTheClientAddressTheProxyForwarded) {
    const auto [email, id] = newUser();
    const Tokens t = loginWith(email, {"X-Forwarded-For: 203.0.113.9"});
    const json list = sessions(t.access);
    ASSERT_EQ(list.size(), 1u);
    EXPECT_EQ(list[0].value("ip", ""), "203.0.113.9") << list.dump();
}

TEST_F(SessionsTest, RevokingAnotherSessionEndsItsRefreshTokenOnly) {
    const auto [email, id] = newUser();
    const Tokens mine = loginWith(email, {});
    const Tokens phone = loginWith(email, {});

    HttpResponse r = revoke(mine.access, sidOf(phone));
    EXPECT_EQ(r.status, 204) << r;
    EXPECT_TRUE(r.body.empty()) << r;
    r = refresh(*client, phone.refresh);
    expectError(r, 401, "invalid_grant");
    EXPECT_EQ(refresh(*client, mine.refresh).status, 200);
    const json list = sessions(mine.access);
    EXPECT_EQ(list.size(), 1u) << list.dump(2);
    EXPECT_EQ(find(list, sidOf(phone)), nullptr);
    // Once revoked it is unknown.
    expectError(revoke(mine.access, sidOf(phone)), 404, "not_found");
    // Revoking one's own session ends its refresh token too.
    const Tokens again = loginWith(email, {});
    EXPECT_EQ(revoke(again.access, sidOf(again)).status, 204);
    expectError(refresh(*client, again.refresh), 401, "invalid_grant");
}

TEST_F(SessionsTest, AnotherUsersSessionIs404JustLikeAnUnknownOne) {
    const auto [alice, aliceId] = newUser();
    const auto [mallory, malloryId] = newUser();
    const Tokens a = loginWith(alice, {});
    const Tokens m = loginWith(mallory, {});

    const HttpResponse theirs = revoke(m.access, sidOf(a));
    expectError(theirs, 404, "not_found");
    const HttpResponse unknown = revoke(m.access, "AAAAAAAAAAAAAAAAAAAAAA");
    expectError(unknown, 404, "not_found");
    EXPECT_EQ(theirs.body, unknown.body) << "the answers must not tell the two apart";
    for (const std::string& id : std::vector<std::string>{
             "not-a-session", "%2e%2e", std::string(300, 'A'), "{id}", "a%2Fb", "x;y"}) {
        expectError(revoke(m.access, id), 404, "not_found");
    }
    EXPECT_EQ(refresh(*client, a.refresh).status, 200) << "alice's session survived";
    EXPECT_EQ(sessions(a.access).size(), 1u);
}

TEST_F(SessionsTest, PathsAndMethodsAroundTheSessionRoutes) {
    const auto [email, id] = newUser();
    const Tokens t = loginWith(email, {});
    HttpResponse r =
        client->request("GET", "/api/sessions/" + sidOf(t), std::nullopt, {bearer(t.access)});
    expectError(r, 405, "method_not_allowed");
    EXPECT_EQ(r.header("Allow").value_or(""), "DELETE") << r;
    r = client->request("DELETE", "/api/sessions", std::nullopt, {bearer(t.access)});
    expectError(r, 405, "method_not_allowed");
    EXPECT_EQ(r.header("Allow").value_or(""), "GET") << r;
    expectError(client->request("DELETE", "/api/sessions/", std::nullopt, {bearer(t.access)}), 404,
                "not_found");
    expectError(client->request("DELETE", "/api/sessions/" + sidOf(t) + "/x", std::nullopt,
                                {bearer(t.access)}),
                404, "not_found");
    // Both need a token.
    r = client->get("/api/sessions");
    expectError(r, 401, "missing_token");
    EXPECT_EQ(r.header("WWW-Authenticate").value_or(""), kRealm);
    expectError(client->request("DELETE", "/api/sessions/" + sidOf(t)), 401, "missing_token");
    EXPECT_EQ(refresh(*client, t.refresh).status, 200);
}

// A database of the schema before migration 0002 (rebuilt from a migrated one by undoing
// 0002 by hand) with a user, a session and its refresh token: after the upgrade all of them
// still work, and the old session is listed with null user_agent and ip.
TEST_F(SessionsTest, AnOldDatabaseIsMigratedWithItsSessionsKept) {
    const auto [email, id] = newUser();
    const Tokens old = loginWith(email, {"User-Agent: before the upgrade"});
    ASSERT_EQ(server->stop(), 0);
    const std::vector<std::string> undo = {
        "DROP INDEX refresh_families_user_created",
        "CREATE INDEX refresh_families_user ON refresh_families(user_id)",
        "ALTER TABLE refresh_families DROP COLUMN user_agent",
        "ALTER TABLE refresh_families DROP COLUMN ip",
        "DELETE FROM schema_migrations WHERE version = 2"};
    // MySQL: an index a foreign key uses goes only after another can take its place.
    const std::vector<std::string> undoMysql = {
        "CREATE INDEX refresh_families_user ON refresh_families(user_id)",
        "DROP INDEX refresh_families_user_created ON refresh_families",
        "ALTER TABLE refresh_families DROP COLUMN user_agent",
        "ALTER TABLE refresh_families DROP COLUMN ip",
        "DELETE FROM schema_migrations WHERE version = 2"};
    for (const auto& sql : mysqlMode() ? undoMysql : undo) {
        if (mysqlMode()) {
            mysqlExec(server->mysqlDsn(), sql);
        } else if (pgMode()) {
            pgExec(server->pgDsn(), sql);
        } else {
            SqliteAdmin(server->dbPath()).exec(sql);
        }
    }
    ASSERT_TRUE(restartServer()) << server->logTail();
    const std::string log = server->waitForLog("applied 1 migration(s)", std::chrono::seconds(5));
    EXPECT_NE(log.find("applied 1 migration(s)"), std::string::npos) << server->logTail();

    const HttpResponse r = refresh(*client, old.refresh);
    ASSERT_EQ(r.status, 200) << r;
    const Tokens fresh = loginWith(email, {"User-Agent: after the upgrade"});
    const json list = sessions(fresh.access);
    ASSERT_EQ(list.size(), 2u) << list.dump(2);
    const json* before = find(list, sidOf(old));
    ASSERT_NE(before, nullptr) << list.dump(2);
    EXPECT_TRUE((*before)["user_agent"].is_null()) << before->dump();
    EXPECT_TRUE((*before)["ip"].is_null()) << before->dump();
    EXPECT_EQ((*find(list, sidOf(fresh))).value("user_agent", ""), "after the upgrade");
    EXPECT_EQ(revoke(fresh.access, sidOf(old)).status, 204);
    expectError(refresh(*client, r.jsonBody().value("refresh_token", "")), 401, "invalid_grant");
}

}  // namespace
}  // namespace it
