// Login throttling: failed attempts per email and per client IP in a sliding minute.
#include <sodium.h>

#include "support/Harness.h"

namespace it {
namespace {

class ThrottleTest : public ServiceTest {
  protected:
    json overrides() const override {
        return {
            {"auth",
             {{"login_rate_limit", {{"per_ip_per_minute", 6}, {"per_account_per_minute", 3}}}}}};
    }
    void expectThrottled(const HttpResponse& r) {
        expectError(r, 429, "too_many_requests");
        const std::string retryAfter = r.header("Retry-After").value_or("");
        ASSERT_FALSE(retryAfter.empty()) << r;
        ASSERT_EQ(retryAfter.find_first_not_of("0123456789"), std::string::npos)
            << "Retry-After is not delta-seconds: " << retryAfter;
        const long seconds = std::stol(retryAfter);
        EXPECT_GE(seconds, 1);
        EXPECT_LE(seconds, 60);
        EXPECT_FALSE(r.jsonBody().contains("access_token"));
    }
};

TEST_F(ThrottleTest, PerEmailAttemptNPlusOneIs429EvenWithTheRightPassword) {
    const auto [email, id] = newUser();
    const auto [bystander, bystanderId] = newUser();
    for (int i = 0; i < 3; ++i) {
        expectError(loginRaw(*client, email, "wrong password " + std::to_string(i)), 401,
                    "invalid_credentials");
    }
    const HttpResponse blocked = loginRaw(*client, email, kPassword);
    expectThrottled(blocked);
    // A sliding minute: the oldest failure is a few ms old, so nearly a minute is left.
    EXPECT_GE(std::stol(blocked.header("Retry-After").value_or("0")), 55) << blocked;
    // The same account through the other path and the username alias.
    expectThrottled(loginRaw(*client, email, kPassword, "/login"));
    expectThrottled(client->postJson("/api/login", {{"username", email}, {"password", kPassword}}));
    // Normalisation does not open a side door.
    std::string upper = email;
    for (auto& ch : upper) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
    expectThrottled(loginRaw(*client, " " + upper + " ", kPassword));
    // Another account from the same IP is not limited by this email's failures.
    EXPECT_EQ(loginRaw(*client, bystander, kPassword).status, 200);
}

TEST_F(ThrottleTest, PerIpCountsFailuresForUnknownEmails) {
    const auto [email, id] = newUser();
    for (int i = 0; i < 6; ++i) {
        expectError(loginRaw(*client, uniqueEmail("ghost"), kPassword), 401, "invalid_credentials");
    }
    // Attempt 7 from this IP, for a real account with the right password: still 429.
    expectThrottled(loginRaw(*client, email, kPassword));
    // Other routes are not throttled.
    EXPECT_EQ(client->get("/healthz").status, 200);
    EXPECT_EQ(registerUser(*client, uniqueEmail(), kPassword).status, 201);
}

TEST_F(ThrottleTest, ForwardedForHeaderDoesNotEscapeThePerIpLimit) {
    // No trusted proxy is configured, so a client-chosen X-Forwarded-For is not its address.
    for (int i = 0; i < 6; ++i) {
        loginRaw(*client, uniqueEmail("ghost"), kPassword);
    }
    const HttpResponse r = client->postJson(
        "/api/login", {{"email", uniqueEmail("ghost")}, {"password", kPassword}},
        {"X-Forwarded-For: 203.0.113." + std::to_string(randombytes_uniform(250) + 1),
         "X-Real-IP: 198.51.100.7", "Forwarded: for=192.0.2.60"});
    expectThrottled(r);
}

TEST_F(ThrottleTest, SuccessesDoNotCount) {
    const auto [email, id] = newUser();
    for (int i = 0; i < 10; ++i) {
        ASSERT_EQ(loginRaw(*client, email, kPassword).status, 200) << "login " << i;
    }
    for (int i = 0; i < 3; ++i) {
        EXPECT_EQ(loginRaw(*client, email, "wrong password").status, 401) << "failure " << i;
    }
    expectThrottled(loginRaw(*client, email, kPassword));
}

TEST_F(ThrottleTest, ThrottledLoginsAreCounted) {
    const auto [email, id] = newUser();
    for (int i = 0; i < 4; ++i) loginRaw(*client, email, "wrong password");
    const std::string metrics = client->get("/metrics").body;
    bool found = false;
    for (const auto& line : splitLines(metrics)) {
        if (line.empty() || line[0] == '#') continue;
        if ((containsI(line, "throttl") || (containsI(line, "login") && containsI(line, "429"))) &&
            line.substr(line.rfind(' ') + 1) != "0") {
            found = true;
        }
    }
    EXPECT_TRUE(found) << "no throttled-login metric:\n" << metrics;
}

// Emails longer than any account's are refused before they become throttle keys: they
// neither count against the client's address nor take memory.
TEST_F(ThrottleTest, EmailsOver254CharactersAre400AndDoNotCount) {
    const auto [email, id] = newUser();
    const std::string tooLong = std::string(255 - 12, 'a') + "@example.com";
    ASSERT_EQ(tooLong.size(), 255u);
    for (int i = 0; i < 8; ++i) {  // more than the per-IP limit of 6
        const HttpResponse r = loginRaw(*client, tooLong, "wrong password " + std::to_string(i));
        expectError(r, 400, "invalid_request");
        EXPECT_NE(r.message().find("254"), std::string::npos) << r;
    }
    const HttpResponse huge = loginRaw(*client, std::string(15000, 'x') + "@x", kPassword);
    expectError(huge, 400, "invalid_request");
    EXPECT_EQ(loginRaw(*client, email, kPassword).status, 200) << "the 400s were counted";
}

class RegisterLimitTest : public ThrottleTest {
  protected:
    json overrides() const override {
        return {{"auth", {{"register_rate_limit", {{"per_ip_per_hour", 3}}}}}};
    }
};

TEST_F(RegisterLimitTest, AttemptNPlusOneInTheHourIs429WithRetryAfterAndStoresNothing) {
    for (int i = 0; i < 3; ++i) {
        EXPECT_EQ(registerUser(*client, uniqueEmail("limit"), kPassword).status, 201) << i;
    }
    const std::string late = uniqueEmail("late");
    const HttpResponse r = registerUser(*client, late, kPassword);
    expectError(r, 429, "too_many_requests");
    const long retryAfter = std::stol(r.header("Retry-After").value_or("0"));
    EXPECT_GT(retryAfter, 3500) << r;
    EXPECT_LE(retryAfter, 3600) << r;
    // Nothing was stored: the account does not exist.
    expectError(loginRaw(*client, late, kPassword), 401, "invalid_credentials");
    // A client-chosen X-Forwarded-For does not escape it (no trusted proxy configured).
    expectError(client->postJson("/api/register", {{"email", late}, {"password", kPassword}},
                                 {"X-Forwarded-For: 203.0.113.77"}),
                429, "too_many_requests");
    // Logins are not limited by it.
    EXPECT_EQ(client->get("/healthz").status, 200);
    bool counted = false;
    for (const auto& line : splitLines(client->get("/metrics").body)) {
        if (line == "authsvc_registrations_throttled_total 2") counted = true;
    }
    EXPECT_TRUE(counted) << client->get("/metrics").body;
}

}  // namespace
}  // namespace it
