// Domain helpers (register, login, refresh) and the per-test fixture.
#include <condition_variable>
#include <mutex>
#include <thread>

#include "support/Harness.h"

namespace it {

// ---------------------------------------------------------------- domain helpers

HttpResponse registerUser(HttpClient& c, const std::string& email, const std::string& password) {
    return c.postJson("/api/register", {{"email", email}, {"password", password}});
}

HttpResponse loginRaw(HttpClient& c, const std::string& email, const std::string& password,
                      const std::string& path) {
    return c.postJson(path, {{"email", email}, {"password", password}});
}

Tokens login(HttpClient& c, const std::string& email, const std::string& password) {
    Tokens t;
    const HttpResponse r = loginRaw(c, email, password);
    EXPECT_EQ(r.status, 200) << r;
    t.body = r.jsonBody();
    if (t.body.is_object()) {
        t.access = t.body.value("access_token", "");
        t.refresh = t.body.value("refresh_token", "");
    }
    return t;
}

HttpResponse refresh(HttpClient& c, const std::string& refreshToken, const std::string& path,
                     const std::string& field) {
    return c.postJson(path, {{field, refreshToken}});
}

std::vector<HttpResponse> refreshEverywhere(const std::vector<int>& ports, const std::string& token,
                                            int perInstance,
                                            const std::vector<RefreshRoute>& routes) {
    const size_t n = ports.size() * static_cast<size_t>(perInstance);
    std::vector<HttpResponse> results(n);
    std::mutex mu;
    std::condition_variable cv;
    size_t ready = 0;
    bool go = false;
    std::vector<std::thread> threads;
    for (size_t i = 0; i < n; ++i) {
        threads.emplace_back([&, i] {
            HttpClient c(ports[i % ports.size()]);
            c.setTimeoutMs(20000);
            c.get("/healthz");  // connect first, so that the refreshes really overlap
            {
                std::unique_lock lock(mu);
                ++ready;
                cv.notify_all();
                cv.wait(lock, [&] { return go; });
            }
            results[i] = refreshVia(c, routes[(i / ports.size()) % routes.size()], token);
        });
    }
    {
        std::unique_lock lock(mu);
        cv.wait(lock, [&] { return ready == n; });
        go = true;
        cv.notify_all();
    }
    for (auto& t : threads) t.join();
    return results;
}

void ServiceTest::SetUp() {
    server = std::make_unique<ServerProcess>(overrides(), environment());
    ASSERT_TRUE(server->start()) << "authsvc did not become healthy; log:\n" << server->logTail();
    client = std::make_unique<HttpClient>(server->port());
}

void ServiceTest::TearDown() {
    client.reset();
    server.reset();
}

bool ServiceTest::restartServer(int* stopStatus) {
    const bool ok = server->restart(stopStatus);
    client = std::make_unique<HttpClient>(server->port());
    return ok;
}

std::pair<std::string, long long> ServiceTest::newUser(const std::string& password) {
    const std::string email = uniqueEmail();
    const HttpResponse r = registerUser(*client, email, password);
    EXPECT_EQ(r.status, 201) << r;
    const json j = r.jsonBody();
    long long id = -1;
    if (j.is_object() && j.contains("id") && j["id"].is_number_integer()) id = j["id"];
    return {email, id};
}

void expectError(const HttpResponse& r, long status, const std::string& code) {
    EXPECT_EQ(r.status, status) << r;
    const json j = r.jsonBody();
    ASSERT_TRUE(j.is_object()) << "error body is not a JSON object: " << r;
    EXPECT_EQ(j.value("error", "<missing>"), code) << r;
    ASSERT_TRUE(j.contains("message") && j["message"].is_string()) << r;
    EXPECT_FALSE(j["message"].get<std::string>().empty()) << r;
}

}  // namespace it
