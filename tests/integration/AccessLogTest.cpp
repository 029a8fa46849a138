// The access log: one line per request (with its request id and status), no secrets ever.
#include <map>
#include <regex>

#include "support/Harness.h"

namespace it {
namespace {

using namespace std::chrono_literals;

class AccessLogAnyBackendTest : public ServiceTest {};

TEST_F(AccessLogAnyBackendTest, OneLinePerRequestWithRequestIdAndStatus) {
    const std::string email = uniqueEmail();
    std::vector<std::pair<std::string, HttpResponse>> rs;  // method, response
    rs.emplace_back("GET", client->get("/healthz"));
    rs.emplace_back("POST", registerUser(*client, email, kPassword));
    rs.emplace_back("POST", loginRaw(*client, email, kPassword));
    const std::string access = rs.back().second.jsonBody().value("access_token", "");
    rs.emplace_back("POST", loginRaw(*client, email, "wrong password"));
    rs.emplace_back("GET", client->getWithToken("/api/protected", access));
    rs.emplace_back("GET", client->get("/api/protected"));
    rs.emplace_back("GET", client->get("/no-such-path"));
    rs.emplace_back("PUT", client->request("PUT", "/api/me"));
    rs.emplace_back("POST", client->postRaw("/api/register", "{", "application/json"));

    // Lines may be written just after the response went out: wait for each (bounded).
    for (const auto& [m, r] : rs) server->waitForLog(r.header("X-Request-Id").value_or("?"), 2s);
    const auto lines = splitLines(server->log());
    for (const auto& [method, r] : rs) {
        const auto id = r.header("X-Request-Id");
        ASSERT_TRUE(id.has_value()) << r;
        // Other lines (warnings, errors) may carry the request id too; the access line is the
        // one with the method.
        std::vector<std::string> matching;
        for (const auto& line : lines) {
            if (line.find(*id) != std::string::npos &&
                line.find(method + " ") != std::string::npos) {
                matching.push_back(line);
            }
        }
        ASSERT_EQ(matching.size(), 1u) << method << " request " << *id << " (status " << r.status
                                       << ") has " << matching.size() << " access-log lines";
        const std::regex status("(^|[^0-9])" + std::to_string(r.status) + "([^0-9]|$)");
        EXPECT_TRUE(std::regex_search(matching[0], status))
            << "no status " << r.status << " in: " << matching[0];
    }
}

TEST_F(AccessLogAnyBackendTest, NeverContainsPasswordsOrTokens) {
    const std::string email = uniqueEmail();
    const std::string password = "Zebra-Unicorn-" + randomString(12);
    const std::string wrong = "Wrong-Walrus-" + randomString(12);
    const std::string leaky = "Leaky-Lemur-" + randomString(12);
    ASSERT_EQ(registerUser(*client, email, password).status, 201);
    const Tokens t = login(*client, email, password);
    ASSERT_FALSE(t.access.empty());
    EXPECT_EQ(loginRaw(*client, email, wrong).status, 401);
    EXPECT_EQ(loginRaw(*client, uniqueEmail(), wrong, "/login").status, 401);
    EXPECT_EQ(client->getWithToken("/api/protected", t.access).status, 200);
    EXPECT_EQ(client->getWithToken("/api/me", t.access).status, 200);
    // A token that fails verification is not logged either.
    const std::string forged =
        signHs256(defaultJwtHeader(), validClaims("1"), "not-the-secret-" + randomString(20));
    EXPECT_EQ(client->getWithToken("/api/protected", forged).status, 401);
    // A parse error whose library message would quote the password.
    EXPECT_EQ(client
                  ->postRaw("/api/login",
                            "{\"email\":\"" + email + "\",\"password\":\"" + leaky + "\x01\"}",
                            "application/json")
                  .status,
              400);
    // Refresh and logout put the refresh token in the body.
    const HttpResponse rotated = refresh(*client, t.refresh);
    const std::string next = rotated.jsonBody().value("refresh_token", "");
    client->postJson("/api/logout", {{"refresh_token", next}});
    const int stopStatus = server->stop();
    EXPECT_EQ(stopStatus, 0);

    const std::string log = server->log();
    ASSERT_FALSE(log.empty());
    const std::string signature = t.access.substr(t.access.rfind('.') + 1);
    struct Secret {
        const char* what;
        std::string value;
    };
    for (const Secret& s :
         {Secret{"password", password}, Secret{"wrong password", wrong},
          Secret{"password in bad JSON", leaky}, Secret{"access token", t.access},
          Secret{"access token signature", signature}, Secret{"forged token", forged},
          Secret{"refresh token", t.refresh}, Secret{"jwt secret", server->secret()}}) {
        if (s.value.empty()) continue;
        EXPECT_EQ(log.find(s.value), std::string::npos) << "the log contains the " << s.what;
    }
    if (!next.empty()) {
        EXPECT_EQ(log.find(next), std::string::npos) << "the log contains a rotated refresh token";
    }
}

// Access lines are written in batches (at most ~100 ms late); a SIGTERM right after the
// requests must still leave every line, whole, in the log.
TEST_F(AccessLogAnyBackendTest, EveryLineIsWrittenWholeBeforeTheProcessExitsOnSigterm) {
    const auto [email, id] = newUser();
    const Tokens t = login(*client, email, kPassword);
    ASSERT_FALSE(t.access.empty());
    std::vector<std::string> ids;
    for (int i = 0; i < 300; ++i) {
        const HttpResponse r = i % 3 == 0 ? client->get("/no-such-path")
                                          : client->getWithToken("/api/protected", t.access);
        ids.push_back(r.header("X-Request-Id").value_or("?"));
    }
    ASSERT_EQ(server->stop(SIGTERM), 0);
    const auto lines = splitLines(server->log());
    const std::regex shape(
        R"(^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z (trace|debug|info|warning|error|critical) \S.*$)");
    std::map<std::string, int> count;
    for (const auto& line : lines) {
        if (line.empty()) continue;
        EXPECT_TRUE(std::regex_match(line, shape)) << "not a whole log line: " << line;
        const auto rid = line.rfind(" rid=");
        if (rid != std::string::npos) ++count[line.substr(rid + 5)];
    }
    for (const auto& rid : ids) EXPECT_EQ(count[rid], 1) << "request " << rid;
    EXPECT_NE(server->log().find("stopped"), std::string::npos) << "the last line is missing";
}

class JsonLogAnyBackendTest : public ServiceTest {
  protected:
    json overrides() const override { return {{"log", {{"format", "json"}}}}; }
};

TEST_F(JsonLogAnyBackendTest, EveryLogLineIsAJsonObject) {
    const auto [email, id] = newUser();
    EXPECT_EQ(loginRaw(*client, email, kPassword).status, 200);
    EXPECT_EQ(loginRaw(*client, email, "wrong password").status, 401);
    const HttpResponse last = client->get("/nope");
    const std::string id404 = last.header("X-Request-Id").value_or("?");
    server->waitForLog(id404, 2s);
    EXPECT_EQ(server->stop(), 0);
    size_t lines = 0;
    bool sawRequest = false;
    for (const auto& line : splitLines(server->log())) {
        if (line.empty()) continue;
        ++lines;
        const json j = json::parse(line, nullptr, false);
        EXPECT_TRUE(j.is_object()) << "not a JSON log line: " << line;
        sawRequest = sawRequest || line.find(id404) != std::string::npos;
    }
    EXPECT_GE(lines, 4u);
    EXPECT_TRUE(sawRequest) << "the 404's request id is not in the JSON log";
}

}  // namespace
}  // namespace it
