// Limits across instances (auth.limits_store): three authsvc processes on one PostgreSQL
// or MariaDB database (two on one SQLite file in the SQLite run), attempts spread round-robin over
// them. With `database` the instances together allow what one allows: the next attempt is
// 429 with Retry-After at whichever instance. With `memory` each instance counts its own,
// so the same attempts pass: the limits multiply (the test shows it, so that it can fail).
#include "support/Harness.h"

namespace it {
namespace {

constexpr int kPerAccount = 3;
constexpr int kPerIp = 4;
constexpr int kRegistrations = 3;

class LimitsAcrossInstancesTest : public ::testing::TestWithParam<std::string> {
  protected:
    void SetUp() override {
        const json common = {
            {"jwt", {{"secret", randomString(48)}}},
            {"refresh", {{"secret", randomString(48)}}},
            {"auth",
             {{"limits_store", GetParam()},
              {"login_rate_limit",
               {{"per_ip_per_minute", kPerIp}, {"per_account_per_minute", kPerAccount}}},
              {"register_rate_limit", {{"per_ip_per_hour", kRegistrations}}}}}};
        const int instances = serverDbMode() ? 3 : 2;
        servers.push_back(std::make_unique<ServerProcess>(common));
        json shared = common;
        shared.merge_patch(servers[0]->sharedDatabaseOverrides());
        for (int i = 1; i < instances; ++i) {
            servers.push_back(std::make_unique<ServerProcess>(shared));
        }
        for (auto& s : servers) {
            ASSERT_TRUE(s->start()) << "an instance did not start:\n" << s->logTail();
            clients.push_back(std::make_unique<HttpClient>(s->port()));
        }
    }
    void TearDown() override {
        clients.clear();
        // The first owns the database: the others stop before it drops it.
        while (!servers.empty()) servers.pop_back();
    }
    bool shared() const { return GetParam() == "database"; }
    HttpClient& at(size_t i) { return *clients[i % clients.size()]; }
    // The next attempt, at every instance: 429 with Retry-After when the store is shared;
    // otherwise not refused by the limit.
    void expectNextRefusedEverywhereIfShared(
        const std::function<HttpResponse(HttpClient&)>& attempt) {
        for (size_t i = 0; i < clients.size(); ++i) {
            const HttpResponse r = attempt(at(i));
            if (shared()) {
                expectError(r, 429, "too_many_requests");
                const std::string wait = r.header("Retry-After").value_or("");
                EXPECT_FALSE(wait.empty()) << "instance " << i << ": " << r;
            } else {
                EXPECT_NE(r.status, 429) << "instance " << i << ": " << r;
            }
        }
    }

    std::vector<std::unique_ptr<ServerProcess>> servers;
    std::vector<std::unique_ptr<HttpClient>> clients;
};

INSTANTIATE_TEST_SUITE_P(Stores, LimitsAcrossInstancesTest, ::testing::Values("memory", "database"),
                         [](const auto& info) { return info.param; });

TEST_P(LimitsAcrossInstancesTest, PerAccountWrongPasswordsSpreadOverTheInstances) {
    const std::string email = uniqueEmail("limits");
    ASSERT_EQ(registerUser(at(0), email, kPassword).status, 201);
    for (int i = 0; i < kPerAccount; ++i) {
        expectError(loginRaw(at(i), email, "wrong password " + std::to_string(i)), 401,
                    "invalid_credentials");
    }
    // Even the right password, at any instance.
    expectNextRefusedEverywhereIfShared(
        [&](HttpClient& c) { return loginRaw(c, email, kPassword); });
}

TEST_P(LimitsAcrossInstancesTest, PerAddressFailuresSpreadOverTheInstances) {
    for (int i = 0; i < kPerIp; ++i) {
        expectError(loginRaw(at(i), uniqueEmail("ghost"), kPassword), 401, "invalid_credentials");
    }
    expectNextRefusedEverywhereIfShared(
        [&](HttpClient& c) { return loginRaw(c, uniqueEmail("ghost"), kPassword); });
}

TEST_P(LimitsAcrossInstancesTest, RegistrationsSpreadOverTheInstances) {
    for (int i = 0; i < kRegistrations; ++i) {
        const HttpResponse r = registerUser(at(i), uniqueEmail("reg"), kPassword);
        EXPECT_EQ(r.status, 201) << r;
    }
    expectNextRefusedEverywhereIfShared(
        [&](HttpClient& c) { return registerUser(c, uniqueEmail("reg"), kPassword); });
}

}  // namespace
}  // namespace it
