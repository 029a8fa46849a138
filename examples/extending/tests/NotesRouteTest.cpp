// Integration test of the example (docs/EXTENDING.md): authsvc-notes on a real socket, on
// the backend under test, through the integration suite's harness. POST /api/notes needs a
// token with the role notes:write (granted with authsvc's CLI), GET /api/notes any token.
#include "support/Harness.h"

namespace it {
namespace {

class NotesRouteTest : public ServiceTest {
  protected:
    void grantWriteRole(const std::string& email) {
        const CommandResult r =
            runCommand({AUTHSVC_CLI_BINARY, "user", "role", "add", email, "notes:write", "--config",
                        server->configPath().string()},
                       server->dir());
        ASSERT_EQ(r.exitCode, 0) << r.out << r.err;
    }
    HttpResponse post(const std::string& access, const std::string& body) {
        return client->postRaw("/api/notes", body, "application/json",
                               {"Authorization: Bearer " + access});
    }
    json notes(const std::string& access) {
        const HttpResponse r = client->getWithToken("/api/notes", access);
        EXPECT_EQ(r.status, 200) << r;
        return r.jsonBody().value("notes", json::array());
    }
};

TEST_F(NotesRouteTest, WithTheRoleANoteIsStoredAndListed) {
    const auto [email, id] = newUser();
    grantWriteRole(email);
    const Tokens t = login(*client, email, kPassword);  // roles are read at login
    const HttpResponse r = post(t.access, R"({"body": "hello"})");
    ASSERT_EQ(r.status, 201) << r;
    EXPECT_EQ(r.jsonBody().value("body", ""), "hello");
    EXPECT_GT(r.jsonBody().value("id", 0), 0);
    EXPECT_FALSE(r.jsonBody().value("created_at", "").empty());
    const json listed = notes(t.access);
    ASSERT_EQ(listed.size(), 1u) << listed;
    EXPECT_EQ(listed[0].value("body", ""), "hello");
}

TEST_F(NotesRouteTest, WithoutTheRoleIs403AndStoresNothing) {
    const auto [email, id] = newUser();
    const Tokens t = login(*client, email, kPassword);
    const HttpResponse r = post(t.access, R"({"body": "hello"})");
    expectError(r, 403, "insufficient_scope");
    EXPECT_TRUE(notes(t.access).empty());
}

TEST_F(NotesRouteTest, WithoutATokenIs401) {
    const HttpResponse r = client->postJson("/api/notes", {{"body", "hello"}});
    EXPECT_EQ(r.status, 401) << r;
}

TEST_F(NotesRouteTest, ABadBodyIs400AndStoresNothing) {
    const auto [email, id] = newUser();
    grantWriteRole(email);
    const Tokens t = login(*client, email, kPassword);
    for (const char* body : {"not json", "[]", "{}", R"({"body": 5})", R"({"body": ""})"}) {
        expectError(post(t.access, body), 400, "invalid_request");
    }
    EXPECT_TRUE(notes(t.access).empty());
}

}  // namespace
}  // namespace it
