// The OAuth 2.0 form helpers of Harness.h: form encoding, the RFC 6749 error answer, and
// the two refresh routes the rotation tests run through.
#include "support/Harness.h"

namespace it {

::testing::internal::ParamGenerator<RefreshRoute> bothRefreshRoutes() {
    return ::testing::Values(RefreshRoute::Json, RefreshRoute::OAuthToken);
}

std::string refreshRouteName(const ::testing::TestParamInfo<RefreshRoute>& info) {
    return info.param == RefreshRoute::Json ? "json" : "oauth_token";
}

HttpResponse refreshVia(HttpClient& c, RefreshRoute route, const std::string& refreshToken) {
    if (route == RefreshRoute::Json) return refresh(c, refreshToken);
    return c.postRaw("/oauth/token",
                     formOf({{"grant_type", "refresh_token"}, {"refresh_token", refreshToken}}),
                     kForm);
}

void expectRefreshRefused(const HttpResponse& r, RefreshRoute route, const std::string& label) {
    SCOPED_TRACE(label);
    if (route == RefreshRoute::Json) {
        expectError(r, 401, "invalid_grant");
    } else {
        expectOAuthError(r, 400, "invalid_grant");
    }
    EXPECT_FALSE(r.jsonBody().contains("access_token")) << r;
    EXPECT_FALSE(r.jsonBody().contains("refresh_token")) << r;
}

std::string formOf(const std::vector<std::pair<std::string, std::string>>& fields) {
    static const char* hex = "0123456789ABCDEF";
    std::string out;
    for (const auto& [name, value] : fields) {
        if (!out.empty()) out += '&';
        out += name + '=';
        for (unsigned char c : value) {
            if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') {
                out += char(c);
            } else {
                out += '%';
                out += hex[c >> 4];
                out += hex[c & 15];
            }
        }
    }
    return out;
}

void expectNoStore(const HttpResponse& r) {
    EXPECT_EQ(r.header("Cache-Control").value_or(""), "no-store") << r;
    EXPECT_EQ(r.header("Pragma").value_or(""), "no-cache") << r;
}

void expectOAuthError(const HttpResponse& r, long status, const std::string& error) {
    expectError(r, status, error);
    const json j = r.jsonBody();
    ASSERT_TRUE(j.is_object()) << r;
    ASSERT_TRUE(j.contains("error_description") && j["error_description"].is_string()) << r;
    EXPECT_FALSE(j["error_description"].get<std::string>().empty()) << r;
    EXPECT_EQ(j["error_description"], j["message"]) << r;
    expectNoStore(r);
}

}  // namespace it
