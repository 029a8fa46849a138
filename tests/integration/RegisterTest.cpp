// POST /api/register: shape, normalisation, conflicts, validation, closed registration.
#include <regex>
#include <thread>

#include "support/Harness.h"

namespace it {
namespace {

class RegisterTest : public ServiceTest {};

TEST_F(RegisterTest, Returns201WithIdEmailAndCreatedAt) {
    const std::string email = uniqueEmail();
    const long long before = nowSeconds();
    const HttpResponse r = registerUser(*client, email, kPassword);
    ASSERT_EQ(r.status, 201) << r;
    EXPECT_TRUE(containsI(r.header("Content-Type").value_or(""), "application/json")) << r;
    EXPECT_TRUE(r.hasHeader("X-Request-Id")) << r;
    const json j = r.jsonBody();
    ASSERT_TRUE(j.is_object()) << r;
    ASSERT_TRUE(j["id"].is_number_integer()) << r;
    EXPECT_GT(j["id"].get<long long>(), 0);
    EXPECT_EQ(j["email"], email);
    ASSERT_TRUE(j["created_at"].is_string()) << r;
    const std::string created = j["created_at"];
    EXPECT_TRUE(std::regex_match(created, std::regex(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ)")))
        << created;
    std::tm tm{};
    ASSERT_NE(strptime(created.c_str(), "%Y-%m-%dT%H:%M:%SZ", &tm), nullptr);
    const long long createdEpoch = timegm(&tm);
    EXPECT_GE(createdEpoch, before - 2);
    EXPECT_LE(createdEpoch, nowSeconds() + 2);
    // Nothing secret comes back.
    EXPECT_EQ(r.body.find(kPassword), std::string::npos);
    EXPECT_FALSE(containsI(r.body, "argon2")) << r;
    EXPECT_FALSE(j.contains("password"));
    EXPECT_FALSE(j.contains("password_hash"));
}

TEST_F(RegisterTest, IdsAreDistinct) {
    const auto a = newUser();
    const auto b = newUser();
    EXPECT_NE(a.second, b.second);
}

TEST_F(RegisterTest, EmailIsTrimmedAndLowerCased) {
    const std::string local = "MiXeD." + randomString(8);
    const HttpResponse r = registerUser(*client, "  " + local + "@Example.COM  ", kPassword);
    ASSERT_EQ(r.status, 201) << r;
    const std::string normal = lower(local) + "@example.com";
    EXPECT_EQ(r.jsonBody()["email"], normal) << r;
    // The normalised form is the identity: the plain lower-case spelling is now taken ...
    expectError(registerUser(*client, normal, kPassword), 409, "email_taken");
    // ... and logging in with it works.
    EXPECT_EQ(loginRaw(*client, normal, kPassword).status, 200);
}

TEST_F(RegisterTest, DuplicateEmailIs409AndKeepsTheFirstPassword) {
    const auto [email, id] = newUser();
    const HttpResponse r = registerUser(*client, email, "another password 123");
    expectError(r, 409, "email_taken");
    EXPECT_EQ(loginRaw(*client, email, kPassword).status, 200);
    EXPECT_EQ(loginRaw(*client, email, "another password 123").status, 401);
}

struct BadRegisterCase {
    const char* name;
    json body;
    const char* field;  // the field the message must name, or nullptr
};

void PrintTo(const BadRegisterCase& c, std::ostream* os) {
    *os << c.name;
}

class RegisterValidationAnyBackendTest : public ServiceTest,
                                         public ::testing::WithParamInterface<BadRegisterCase> {};

TEST_P(RegisterValidationAnyBackendTest, Rejects400AndCreatesNothing) {
    const BadRegisterCase& c = GetParam();
    const HttpResponse r = client->postJson("/api/register", c.body);
    expectError(r, 400, "invalid_request");
    if (c.field) {
        EXPECT_TRUE(containsI(r.message(), c.field)) << "message must name the field: " << r;
    }
}

std::string repeat(const std::string& s, size_t n) {
    std::string out;
    for (size_t i = 0; i < n; ++i) out += s;
    return out;
}

const std::string kGood = "good@example.com";

INSTANTIATE_TEST_SUITE_P(
    BadFields, RegisterValidationAnyBackendTest,
    ::testing::Values(
        BadRegisterCase{"MissingEmail", json{{"password", kPassword}}, "email"},
        BadRegisterCase{"MissingPassword", json{{"email", kGood}}, "password"},
        BadRegisterCase{"EmailNotString", json{{"email", 42}, {"password", kPassword}}, "email"},
        BadRegisterCase{"EmailNull", json{{"email", nullptr}, {"password", kPassword}}, "email"},
        BadRegisterCase{"PasswordNotString", json{{"email", kGood}, {"password", 12345678}},
                        "password"},
        BadRegisterCase{"PasswordArray",
                        json{{"email", kGood}, {"password", json::array({"a", "b"})}}, "password"},
        BadRegisterCase{"EmailWithoutAt",
                        json{{"email", "no-at.example.com"}, {"password", kPassword}}, nullptr},
        BadRegisterCase{"EmailTwoAts", json{{"email", "a@b@example.com"}, {"password", kPassword}},
                        nullptr},
        BadRegisterCase{"EmailNothingBeforeAt",
                        json{{"email", "@example.com"}, {"password", kPassword}}, nullptr},
        BadRegisterCase{"EmailNothingAfterAt", json{{"email", "alice@"}, {"password", kPassword}},
                        nullptr},
        BadRegisterCase{"EmailOnlySpaces", json{{"email", "   "}, {"password", kPassword}},
                        nullptr},
        BadRegisterCase{
            "Email255Chars",
            json{{"email", std::string(64, 'a') + "@" + std::string(61, 'b') + "." +
                               std::string(61, 'c') + "." + std::string(61, 'd') + ".comx"},
                 {"password", kPassword}},
            nullptr},
        BadRegisterCase{"Password7Chars", json{{"email", kGood}, {"password", "1234567"}}, nullptr},
        BadRegisterCase{"Password7CodePointsIn14Bytes",
                        json{{"email", kGood}, {"password", repeat("\xC3\xA9", 7)}}, nullptr},
        BadRegisterCase{"Password4EmojiIn16Bytes",
                        json{{"email", kGood}, {"password", repeat("\xF0\x9F\x98\x80", 4)}},
                        nullptr},
        BadRegisterCase{"Password1025Bytes",
                        json{{"email", kGood}, {"password", std::string(1025, 'p')}}, nullptr},
        BadRegisterCase{"Password1026BytesIn513CodePoints",
                        json{{"email", kGood}, {"password", repeat("\xC3\xA9", 513)}}, nullptr}),
    [](const auto& info) { return std::string(info.param.name); });

TEST_F(RegisterTest, FailedValidationCreatesNoUser) {
    const std::string email = uniqueEmail();
    expectError(registerUser(*client, email, "short"), 400, "invalid_request");
    EXPECT_EQ(loginRaw(*client, email, "short").status, 401);
    EXPECT_EQ(registerUser(*client, email, kPassword).status, 201);
}

TEST_F(RegisterTest, BoundaryValuesAreAccepted) {
    // 254-character email (64 + 1 + 189).
    const std::string longEmail = std::string(64, 'a') + "@" + std::string(61, 'b') + "." +
                                  std::string(61, 'c') + "." + std::string(61, 'd') + ".com";
    ASSERT_EQ(longEmail.size(), 254u);
    HttpResponse r = registerUser(*client, longEmail, kPassword);
    EXPECT_EQ(r.status, 201) << r;
    // Exactly 8 characters.
    const std::string e1 = uniqueEmail();
    r = registerUser(*client, e1, "12345678");
    EXPECT_EQ(r.status, 201) << r;
    EXPECT_EQ(loginRaw(*client, e1, "12345678").status, 200);
}

TEST_F(RegisterTest, PasswordLengthCountsUtf8CodePointsNotBytes) {
    // 8 code points, 16 bytes: accepted; 7 code points (14 bytes) is rejected by the table above.
    const std::string pw = repeat("\xC3\xA9", 8);
    const std::string email = uniqueEmail();
    const HttpResponse r = registerUser(*client, email, pw);
    EXPECT_EQ(r.status, 201) << r;
    EXPECT_EQ(loginRaw(*client, email, pw).status, 200);
    // 2 emoji + 6 ASCII = 8 code points.
    const std::string pw2 = repeat("\xF0\x9F\x98\x80", 2) + "abcdef";
    EXPECT_EQ(registerUser(*client, uniqueEmail(), pw2).status, 201);
}

TEST_F(RegisterTest, PasswordOf1024BytesIsAccepted) {
    const std::string email = uniqueEmail();
    const std::string pw = repeat("\xC3\xA9", 512);  // 1024 bytes, 512 code points
    ASSERT_EQ(pw.size(), 1024u);
    const HttpResponse r = registerUser(*client, email, pw);
    EXPECT_EQ(r.status, 201) << r;
    EXPECT_EQ(loginRaw(*client, email, pw).status, 200);
    EXPECT_EQ(registerUser(*client, uniqueEmail(), std::string(1024, 'x')).status, 201);
}

TEST_F(RegisterTest, ConcurrentRegistrationsOfOneEmailGiveOne201) {
    const std::string email = uniqueEmail("race");
    constexpr int kThreads = 12;
    std::vector<HttpResponse> results(kThreads);
    std::vector<std::thread> threads;
    for (int i = 0; i < kThreads; ++i) {
        threads.emplace_back([&, i] {
            HttpClient c(server->port());
            // Same address, spelled differently: normalisation happens before the uniqueness check.
            const std::string spelled = i % 2 ? email : "  " + email + " ";
            results[static_cast<size_t>(i)] = registerUser(c, spelled, kPassword);
        });
    }
    for (auto& t : threads) t.join();
    int created = 0;
    for (const auto& r : results) {
        if (r.status == 201) {
            ++created;
        } else {
            expectError(r, 409, "email_taken");
        }
    }
    EXPECT_EQ(created, 1);
}

class ClosedRegistrationTest : public ServiceTest {
  protected:
    json overrides() const override { return {{"auth", {{"registration", "closed"}}}}; }
};

TEST_F(ClosedRegistrationTest, RegisterIs403AndLoginStillWorksForCliUsers) {
    const std::string email = uniqueEmail();
    expectError(registerUser(*client, email, kPassword), 403, "registration_closed");
    // Nothing was created.
    expectError(loginRaw(*client, email, kPassword), 401, "invalid_credentials");
    // An operator can still add users.
    const CommandResult add =
        runAuthsvc({"user", "add", email, "--config", server->configPath().string()}, server->dir(),
                   kPassword + "\n");
    EXPECT_EQ(add.exitCode, 0) << add.out << add.err;
    EXPECT_EQ(loginRaw(*client, email, kPassword).status, 200);
}

}  // namespace
}  // namespace it
