// services/OAuthClients: which client_id and secret oauth.clients admits.
#include <gtest/gtest.h>

#include "common/Crypto.h"
#include "services/OAuthClients.h"

namespace authsvc::models {
namespace {

const std::string kGatewaySecret = "gateway-secret-of-at-least-32-random-bytes";

OAuthClients listedClients() {
    crypto::init();
    return OAuthClients(
        {{"mobile", "", false},
         {"gateway", crypto::sha256Hex(kGatewaySecret), true},
         {"reporter", crypto::sha256Hex("reporter-secret-32-bytes-or-more!!"), false}});
}

TEST(OAuthClientsTest, NoClientsListedAdmitsAnyIdAndNoIntrospection) {
    OAuthClients none({});
    EXPECT_FALSE(none.refuse("", std::nullopt));
    EXPECT_FALSE(none.refuse("anything", std::string("whatever")));
    EXPECT_EQ(none.introspector("anything", std::string("whatever")), nullptr);
}

TEST(OAuthClientsTest, ListedClientsMustBeNamed) {
    const OAuthClients clients = listedClients();
    EXPECT_TRUE(clients.refuse("", std::nullopt));
    EXPECT_TRUE(clients.refuse("desktop", std::nullopt));
    EXPECT_TRUE(clients.refuse("MOBILE", std::nullopt));
    EXPECT_FALSE(clients.refuse("mobile", std::nullopt));
    // requests-oauthlib sends a public client's id by HTTP Basic with an empty secret.
    EXPECT_FALSE(clients.refuse("mobile", std::string()));
    EXPECT_TRUE(clients.refuse("mobile", std::string("a secret")));
}

TEST(OAuthClientsTest, AConfidentialClientPresentsItsSecret) {
    const OAuthClients clients = listedClients();
    EXPECT_FALSE(clients.refuse("gateway", kGatewaySecret));
    EXPECT_TRUE(clients.refuse("gateway", std::nullopt));
    EXPECT_TRUE(clients.refuse("gateway", std::string()));
    EXPECT_TRUE(clients.refuse("gateway", kGatewaySecret + "x"));
    EXPECT_TRUE(clients.refuse("gateway", crypto::sha256Hex(kGatewaySecret)));
}

TEST(OAuthClientsTest, OnlyAnAuthenticatedClientWithIntrospectMayIntrospect) {
    const OAuthClients clients = listedClients();
    ASSERT_NE(clients.introspector("gateway", kGatewaySecret), nullptr);
    EXPECT_EQ(clients.introspector("gateway", kGatewaySecret)->id, "gateway");
    EXPECT_EQ(clients.introspector("gateway", std::string("wrong")), nullptr);
    EXPECT_EQ(clients.introspector("reporter", std::string("reporter-secret-32-bytes-or-more!!")),
              nullptr);
    EXPECT_EQ(clients.introspector("mobile", std::nullopt), nullptr);
}

}  // namespace
}  // namespace authsvc::models
