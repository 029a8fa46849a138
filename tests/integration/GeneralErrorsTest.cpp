// API.md's "general rules for every request": 413, 415, 400, 404, 405, 500, X-Request-Id.
#include <set>

#include "support/Harness.h"

namespace it {
namespace {

class GeneralErrorsAnyBackendTest : public ServiceTest {};

std::set<std::string> allowSet(const HttpResponse& r) {
    std::set<std::string> methods;
    std::string allow = r.header("Allow").value_or("");
    size_t start = 0;
    while (start <= allow.size()) {
        size_t comma = allow.find(',', start);
        if (comma == std::string::npos) comma = allow.size();
        std::string m = allow.substr(start, comma - start);
        m.erase(0, m.find_first_not_of(" \t"));
        m.erase(m.find_last_not_of(" \t") + 1);
        if (!m.empty()) methods.insert(m);
        start = comma + 1;
    }
    return methods;
}

// A register body of `size` bytes that is valid JSON with valid fields (padded with spaces).
std::string paddedRegisterBody(const std::string& email, size_t size) {
    std::string body = json{{"email", email}, {"password", kPassword}}.dump();
    body.insert(1, size - body.size(), ' ');
    return body;
}

TEST_F(GeneralErrorsAnyBackendTest, OversizeBodyIs413BeforeContentTypeIsChecked) {
    const std::string email = uniqueEmail();
    const std::string body = paddedRegisterBody(email, 20000);
    // Wrong content type AND too large: 413 wins.
    expectError(client->postRaw("/api/register", body, "text/plain"), 413, "payload_too_large");
    expectError(client->postRaw("/api/register", body, ""), 413, "payload_too_large");
    // Right content type, too large.
    expectError(client->postRaw("/api/register", body, "application/json"), 413,
                "payload_too_large");
    expectError(client->postRaw("/api/login", body, "application/json"), 413, "payload_too_large");
    // Nothing was stored: the same email registers fine afterwards.
    EXPECT_EQ(registerUser(*client, email, kPassword).status, 201);
    EXPECT_EQ(client->get("/healthz").status, 200);
}

TEST_F(GeneralErrorsAnyBackendTest, FarOversizeBodyIsAlsoAJson413) {
    // Beyond Pistache's own request-size limit too: still the service's JSON error.
    const std::string body = paddedRegisterBody(uniqueEmail(), 100000);
    const HttpResponse r = client->postRaw("/api/register", body, "application/json");
    expectError(r, 413, "payload_too_large");
    EXPECT_TRUE(r.hasHeader("X-Request-Id")) << r;
    // (A fresh connection: reusing this one is
    // SocketAnyBackendTest.OversizeBodyDoesNotDesyncTheConnection.)
    HttpClient fresh(server->port());
    EXPECT_EQ(fresh.get("/healthz").status, 200);
}

TEST_F(GeneralErrorsAnyBackendTest, AnOversizeBodyIs413OnGetRoutesToo) {
    // The body rules are first on every route (docs/openapi.yaml documents 413 on each).
    const std::string body(20000, ' ');
    for (const char* path :
         {"/healthz", "/readyz", "/metrics", "/.well-known/jwks.json", "/openapi.json",
          "/account/reset", "/account/verify", "/account/pages.js"}) {
        const HttpResponse r = client->request("GET", path, body, {"Content-Type: text/plain"});
        expectError(r, 413, "payload_too_large");
        EXPECT_TRUE(r.hasHeader("X-Request-Id")) << path;
    }
    EXPECT_EQ(client->get("/healthz").status, 200);
}

TEST_F(GeneralErrorsAnyBackendTest, BodyJustUnderTheLimitIsServed) {
    // Pistache's own default limit is 4 KiB for headers + body; the service must raise it.
    const std::string email = uniqueEmail();
    const HttpResponse r =
        client->postRaw("/api/register", paddedRegisterBody(email, 16000), "application/json");
    EXPECT_EQ(r.status, 201) << r;
}

TEST_F(GeneralErrorsAnyBackendTest, MissingOrWrongContentTypeIs415AndCreatesNothing) {
    const std::string email = uniqueEmail();
    const std::string body = json{{"email", email}, {"password", kPassword}}.dump();
    for (const std::string ct : {"text/plain", "", "application/x-www-form-urlencoded",
                                 "application/xml", "application/jsonx"}) {
        const HttpResponse r = client->postRaw("/api/register", body, ct);
        expectError(r, 415, "unsupported_media_type");
        EXPECT_TRUE(r.hasHeader("X-Request-Id"));
    }
    expectError(client->postRaw("/api/login", body, "text/plain"), 415, "unsupported_media_type");
    EXPECT_EQ(registerUser(*client, email, kPassword).status, 201);
}

TEST_F(GeneralErrorsAnyBackendTest, JsonWithCharsetParameterIsAccepted) {
    const std::string body = json{{"email", uniqueEmail()}, {"password", kPassword}}.dump();
    const HttpResponse r =
        client->postRaw("/api/register", body, "application/json; charset=utf-8");
    EXPECT_EQ(r.status, 201) << r;
    // Media types are case-insensitive (RFC 9110 8.3.1).
    const std::string body2 = json{{"email", uniqueEmail()}, {"password", kPassword}}.dump();
    const HttpResponse r2 = client->postRaw("/api/register", body2, "Application/JSON");
    EXPECT_EQ(r2.status, 201) << r2;
}

TEST_F(GeneralErrorsAnyBackendTest, PostWithoutBodyNeedsNoContentType) {
    // No body and no Content-Type: not a 415; the missing fields make it a 400.
    const HttpResponse r = client->request("POST", "/api/login");
    expectError(r, 400, "invalid_request");
}

TEST_F(GeneralErrorsAnyBackendTest, BodyThatIsNotJsonIs400) {
    for (const std::string& body :
         {std::string("{bad json"), std::string("{\"email\": \"a@example.com\", "),
          std::string("{\"email\":\"a@example.com\",\"password\":\"12345678\"} trailing"),
          std::string("\xff\xfe{}"), std::string("{'email': 'a@example.com'}")}) {
        const HttpResponse r = client->postRaw("/api/register", body, "application/json");
        expectError(r, 400, "invalid_request");
    }
}

TEST_F(GeneralErrorsAnyBackendTest, EmptyJsonBodyIs400) {
    expectError(client->postRaw("/api/register", "", "application/json"), 400, "invalid_request");
}

TEST_F(GeneralErrorsAnyBackendTest, InvalidUtf8InsideAStringIs400) {
    const std::string body = "{\"email\":\"a\xff\xfe@example.com\",\"password\":\"12345678\"}";
    expectError(client->postRaw("/api/register", body, "application/json"), 400, "invalid_request");
}

TEST_F(GeneralErrorsAnyBackendTest, JsonThatIsNotAnObjectIs400) {
    for (const std::string body : {"[1,2]", "\"a string\"", "42", "null", "true", "[]"}) {
        const HttpResponse r = client->postRaw("/api/register", body, "application/json");
        expectError(r, 400, "invalid_request");
    }
}

TEST_F(GeneralErrorsAnyBackendTest, WrongTypeOrMissingFieldIs400NamingTheField) {
    HttpResponse r = client->postJson("/api/register", {{"email", true}, {"password", kPassword}});
    expectError(r, 400, "invalid_request");
    EXPECT_TRUE(containsI(r.message(), "email")) << r;
    r = client->postJson("/api/register", {{"email", uniqueEmail()}, {"password", {{"x", 1}}}});
    expectError(r, 400, "invalid_request");
    EXPECT_TRUE(containsI(r.message(), "password")) << r;
    r = client->postJson("/api/register", json::object());
    expectError(r, 400, "invalid_request");
    EXPECT_TRUE(containsI(r.message(), "email") || containsI(r.message(), "password")) << r;
}

TEST_F(GeneralErrorsAnyBackendTest, DeeplyNestedJsonIs400AndTheServerSurvives) {
    const std::string arrays = std::string(7000, '[') + std::string(7000, ']');
    expectError(client->postRaw("/api/register", arrays, "application/json"), 400,
                "invalid_request");
    std::string objects;
    for (int i = 0; i < 2000; ++i) objects += "{\"a\":";
    objects += "1" + std::string(2000, '}');
    expectError(client->postRaw("/api/login", objects, "application/json"), 400, "invalid_request");
    EXPECT_EQ(client->get("/healthz").status, 200);
}

TEST_F(GeneralErrorsAnyBackendTest, UnknownPathIsJson404) {
    for (const auto& [method, path] :
         std::vector<std::pair<std::string, std::string>>{{"GET", "/nope"},
                                                          {"GET", "/api/registerx"},
                                                          {"POST", "/api/nope"},
                                                          {"GET", "/api/protected/extra"},
                                                          {"DELETE", "/"}}) {
        const HttpResponse r =
            method == "POST" ? client->postJson(path, {{"a", 1}}) : client->request(method, path);
        expectError(r, 404, "not_found");
        EXPECT_TRUE(containsI(r.header("Content-Type").value_or(""), "application/json"))
            << method << " " << path << r;
    }
}

TEST_F(GeneralErrorsAnyBackendTest, KnownPathWrongMethodIs405WithAllow) {
    struct Case {
        std::string method, path, allowed;
    };
    for (const Case& c : std::vector<Case>{{"GET", "/api/register", "POST"},
                                           {"GET", "/api/login", "POST"},
                                           {"GET", "/login", "POST"},
                                           {"PUT", "/api/refresh_token", "POST"},
                                           {"DELETE", "/api/protected", "GET"},
                                           {"POST", "/api/protected-resource", "GET"},
                                           {"PATCH", "/api/me", "GET"},
                                           {"POST", "/healthz", "GET"},
                                           {"GET", "/api/logout", "POST"}}) {
        const HttpResponse r = c.method == "POST" ? client->postJson(c.path, {{"a", 1}})
                                                  : client->request(c.method, c.path);
        expectError(r, 405, "method_not_allowed");
        const auto allow = allowSet(r);
        EXPECT_TRUE(allow.count(c.allowed)) << c.method << " " << c.path << r;
        EXPECT_FALSE(allow.count(c.method)) << c.method << " " << c.path << r;
    }
}

TEST_F(GeneralErrorsAnyBackendTest, EveryResponseCarriesADistinctRequestId) {
    std::set<std::string> ids;
    const std::vector<HttpResponse> rs = {
        client->get("/healthz"),
        client->get("/nope"),
        client->request("DELETE", "/api/login"),
        client->get("/api/protected"),
        client->postRaw("/api/register", "{}", "text/plain"),
        client->postRaw("/api/register", "{", "application/json"),
        client->postRaw("/api/register", std::string(20000, ' '), "application/json"),
        registerUser(*client, uniqueEmail(), kPassword),
    };
    for (const auto& r : rs) {
        ASSERT_TRUE(r.hasHeader("X-Request-Id")) << r;
        EXPECT_FALSE(r.header("X-Request-Id")->empty()) << r;
        ids.insert(*r.header("X-Request-Id"));
    }
    EXPECT_EQ(ids.size(), rs.size());
}

TEST_F(GeneralErrorsAnyBackendTest, UnexpectedFailureIs500WithoutInternals) {
    const auto [email, id] = newUser();
    const Tokens t = login(*client, email, kPassword);
    try {
        if (pgMode()) {
            auto users = server->pgFindTable("users", "refresh");
            if (!users) GTEST_SKIP() << "no users table found in the schema";
            pgExec(server->pgDsn(), "DROP TABLE " + *users + " CASCADE");
        } else {
            SqliteAdmin db(server->dbPath());
            auto users = db.findTable("users", "refresh");
            if (!users) GTEST_SKIP() << "no users table found in the schema";
            db.exec("PRAGMA foreign_keys = OFF");
            db.exec("DROP TABLE " + *users);
        }
    } catch (const std::exception& e) {
        GTEST_SKIP() << "could not change the schema directly: " << e.what();
    }
    for (const HttpResponse& r :
         {registerUser(*client, uniqueEmail(), kPassword), loginRaw(*client, email, kPassword)}) {
        ASSERT_TRUE(r.status == 500 || r.status == 503) << r;
        expectError(r, r.status, r.status == 500 ? "internal_error" : "unavailable");
        for (const char* leak : {"no such table", "sqlite", "soci", "SQL", "exception", "what()"}) {
            EXPECT_FALSE(containsI(r.body, leak)) << "body leaks '" << leak << "': " << r;
        }
        EXPECT_TRUE(r.hasHeader("X-Request-Id")) << r;
    }
    // /api/protected is verified from the token alone: it does not notice.
    const HttpResponse p = client->getWithToken("/api/protected", t.access);
    EXPECT_EQ(p.status, 200) << "/api/protected touched the database: " << p;
    // The details go to the server log instead.
    // ("relation ... does not exist" on PostgreSQL)
    const std::string missing = pgMode() ? "does not exist" : "no such table";
    EXPECT_TRUE(containsI(server->waitForLog(missing, std::chrono::seconds(2)), missing));
    EXPECT_EQ(client->get("/healthz").status, 200);
}

class SmallBodyLimitAnyBackendTest : public ServiceTest {
  protected:
    json overrides() const override { return {{"server", {{"max_body_bytes", 1024}}}}; }
};

TEST_F(SmallBodyLimitAnyBackendTest, MaxBodyBytesComesFromConfig) {
    const std::string email = uniqueEmail();
    expectError(
        client->postRaw("/api/register", paddedRegisterBody(email, 1500), "application/json"), 413,
        "payload_too_large");
    const HttpResponse r =
        client->postRaw("/api/register", paddedRegisterBody(email, 1000), "application/json");
    EXPECT_EQ(r.status, 201) << r;
}

}  // namespace
}  // namespace it
