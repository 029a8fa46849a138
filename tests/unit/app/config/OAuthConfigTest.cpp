// The oauth.clients setting: its shape, each member's rules, the environment's flow list.
#include <gtest/gtest.h>

#include <map>
#include <vector>

#include "app/config/Config.h"

namespace {

using authsvc::app::Config;
using authsvc::app::ConfigError;
using authsvc::app::parseConfig;

const std::string kClientHash = "9F86D081884C7D659A2FEAA0C55AD015A3BF4F1B2B0B822CD15D6C15B0F00A08";

Config oauthConfig(const std::string& yaml, std::map<std::string, std::string> vars = {}) {
    return parseConfig(yaml, "oauth.yaml",
                       [vars](const std::string& name) -> std::optional<std::string> {
                           auto it = vars.find(name);
                           if (it == vars.end()) return std::nullopt;
                           return it->second;
                       });
}

std::string oauthConfigError(const std::string& yaml,
                             std::map<std::string, std::string> vars = {}) {
    try {
        oauthConfig(yaml, std::move(vars));
    } catch (const ConfigError& e) {
        return e.what();
    }
    return "";
}

TEST(OAuthConfigTest, NoClientsByDefault) {
    EXPECT_TRUE(oauthConfig("").oauth.clients.empty());
    EXPECT_TRUE(oauthConfig("oauth: {clients: []}").oauth.clients.empty());
}

TEST(OAuthConfigTest, PublicAndConfidentialClients) {
    const Config c = oauthConfig(
        "oauth:\n  clients:\n    - id: mobile\n    - id: gateway\n"
        "      secret_sha256: " +
        kClientHash + "\n      introspect: true\n");
    ASSERT_EQ(c.oauth.clients.size(), 2u);
    EXPECT_EQ(c.oauth.clients[0].id, "mobile");
    EXPECT_TRUE(c.oauth.clients[0].secretSha256.empty());
    EXPECT_FALSE(c.oauth.clients[0].introspect);
    EXPECT_EQ(c.oauth.clients[1].id, "gateway");
    // Stored in lower case, as the SHA-256 of a presented secret is compared.
    EXPECT_EQ(c.oauth.clients[1].secretSha256,
              "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08");
    EXPECT_TRUE(c.oauth.clients[1].introspect);
}

TEST(OAuthConfigTest, TheEnvironmentHoldsTheListInFlowStyle) {
    const Config c = oauthConfig("oauth: {clients: [{id: fromfile}]}",
                                 {{"AUTHSVC_OAUTH_CLIENTS", "[{id: a}, {id: b}]"}});
    ASSERT_EQ(c.oauth.clients.size(), 2u);
    EXPECT_EQ(c.oauth.clients[1].id, "b");
    EXPECT_NE(
        oauthConfigError("", {{"AUTHSVC_OAUTH_CLIENTS", "[{id: a"}}).find("AUTHSVC_OAUTH_CLIENTS"),
        std::string::npos);
}

TEST(OAuthConfigTest, BadListsNameTheKey) {
    for (const std::string& yaml : std::vector<std::string>{
             "oauth: {clients: mobile}",
             "oauth: {clients: [mobile]}",
             "oauth: {clients: [{secret_sha256: " + kClientHash + "}]}",
             "oauth: {clients: [{id: ''}]}",
             "oauth: {clients: [{id: 'a b'}]}",
             "oauth: {clients: [{id: a, secret_sha256: abc}]}",
             "oauth: {clients: [{id: a, secret_sha256: " + kClientHash.substr(1) + "x}]}",
             "oauth: {clients: [{id: a, introspect: true}]}",
             "oauth: {clients: [{id: a, introspect: maybe, secret_sha256: " + kClientHash + "}]}",
             "oauth: {clients: [{id: a, secret: plain}]}",
             "oauth: {clients: [{id: a}, {id: a}]}",
             "oauth: {clients: [{id: [a]}]}",
             "oauth: {client: []}",
         }) {
        const std::string error = oauthConfigError(yaml);
        EXPECT_NE(error.find("oauth.client"), std::string::npos) << yaml << " -> " << error;
        EXPECT_NE(error.find("oauth.yaml"), std::string::npos) << yaml << " -> " << error;
    }
}

}  // namespace
