// GET /openapi.json: docs/openapi.yaml as JSON, public and cacheable. (That every other
// answer matches the document is checked after the suite: scripts/check-openapi.py.)
#include <regex>
#include <set>

#include "support/Harness.h"

namespace it {
namespace {

class OpenApiAnyBackendTest : public ServiceTest {};

// The path keys of docs/openapi.yaml's `paths:` (the lines "  /path:" below it).
std::set<std::string> documentedPaths() {
    const std::string yaml = readFileBytes(fs::path(AUTHSVC_SOURCE_DIR) / "docs" / "openapi.yaml");
    std::set<std::string> paths;
    bool inPaths = false;
    static const std::regex kPathKey(R"(^  (/[^:]*):\s*$)");
    for (const auto& line : splitLines(yaml)) {
        if (!line.empty() && line[0] != ' ' && line[0] != '#') inPaths = line == "paths:";
        std::smatch m;
        if (inPaths && std::regex_match(line, m, kPathKey)) paths.insert(m[1]);
    }
    return paths;
}

TEST_F(OpenApiAnyBackendTest, ServesTheDocumentAsJsonWithoutAToken) {
    const HttpResponse r = client->get("/openapi.json");
    ASSERT_EQ(r.status, 200) << r;
    EXPECT_EQ(r.header("Content-Type").value_or(""), "application/json") << r;
    EXPECT_EQ(r.header("Cache-Control").value_or(""), "public, max-age=3600") << r;
    EXPECT_TRUE(r.hasHeader("X-Request-Id")) << r;
    const json doc = r.jsonBody();
    ASSERT_TRUE(doc.is_object()) << r;
    EXPECT_EQ(doc.value("openapi", ""), "3.1.0");
    // Members keep the YAML's order: the document starts as it is written.
    EXPECT_EQ(r.body.rfind(R"({"openapi":"3.1.0","info":{)", 0), 0u) << r.body.substr(0, 80);
    // A quoted YAML scalar that looks like a number stays a string; numbers stay numbers.
    EXPECT_TRUE(doc["info"]["version"].is_string()) << doc["info"];
    const json& limit = doc["paths"]["/api/admin/users"]["get"]["parameters"][0]["schema"];
    EXPECT_EQ(limit.value("maximum", json()), json(500)) << limit;
    EXPECT_TRUE(doc["components"]["securitySchemes"]["bearerAuth"].is_object());

    std::set<std::string> served;
    for (const auto& [path, item] : doc["paths"].items()) served.insert(path);
    EXPECT_EQ(served, documentedPaths()) << "the binary serves another docs/openapi.yaml";
}

TEST_F(OpenApiAnyBackendTest, AnswersTheSameBytesEveryTime) {
    const HttpResponse first = client->get("/openapi.json");
    const HttpResponse second = client->get("/openapi.json");
    ASSERT_EQ(first.status, 200) << first;
    ASSERT_EQ(second.status, 200) << second;
    EXPECT_EQ(first.body, second.body);
}

TEST_F(OpenApiAnyBackendTest, OtherMethodsAre405) {
    const HttpResponse r = client->postJson("/openapi.json", json::object());
    expectError(r, 405, "method_not_allowed");
    EXPECT_EQ(r.header("Allow").value_or(""), "GET") << r;
}

}  // namespace
}  // namespace it
