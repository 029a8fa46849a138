// Process lifecycle: data survives a restart; SIGTERM/SIGINT exit 0 after finishing in-flight work.
#include <signal.h>

#include <thread>

#include "support/Harness.h"

namespace it {
namespace {

using namespace std::chrono_literals;

class LifecycleAnyBackendTest : public ServiceTest {};

TEST_F(LifecycleAnyBackendTest, DataSurvivesRestart) {
    const auto [email, id] = newUser();
    const Tokens before = login(*client, email, kPassword);
    int stopStatus = -2;
    ASSERT_TRUE(restartServer(&stopStatus)) << server->logTail();
    EXPECT_EQ(stopStatus, 0);

    const HttpResponse r = loginRaw(*client, email, kPassword);
    ASSERT_EQ(r.status, 200) << r;
    EXPECT_EQ(decodeJwt(r.jsonBody()["access_token"])->second["sub"], std::to_string(id));
    expectError(registerUser(*client, email, kPassword), 409, "email_taken");
    // Tokens issued before the restart still verify (same configured secret).
    const HttpResponse me = client->getWithToken("/api/me", before.access);
    ASSERT_EQ(me.status, 200) << me;
    EXPECT_EQ(me.jsonBody()["email"], email);
    // Ids keep growing: the new user does not reuse the old id.
    const auto [email2, id2] = newUser();
    EXPECT_NE(id2, id);
}

TEST_F(LifecycleAnyBackendTest, SigtermExitsZero) {
    ASSERT_EQ(client->get("/healthz").status, 200);
    EXPECT_EQ(server->stop(SIGTERM), 0) << server->logTail();
    // And it no longer serves.
    HttpClient c(server->port());
    c.setTimeoutMs(1000);
    EXPECT_EQ(c.get("/healthz").status, 0);
}

TEST_F(LifecycleAnyBackendTest, SigintExitsZero) {
    const auto user = newUser();
    (void)user;
    EXPECT_EQ(server->stop(SIGINT), 0) << server->logTail();
}

TEST_F(LifecycleAnyBackendTest, SigtermWithIdleAndHalfSentConnectionsExitsPromptly) {
    HttpClient idle(server->port());  // keep-alive connection left idle
    ASSERT_EQ(idle.get("/healthz").status, 200);
    RawConnection half(server->port());  // headers never finished
    ASSERT_TRUE(half.ok());
    half.send("GET /healthz HTTP/1.1\r\nHost: x\r\n");
    std::this_thread::sleep_for(20ms);
    const auto t0 = std::chrono::steady_clock::now();
    EXPECT_EQ(server->stop(SIGTERM), 0) << server->logTail();
    EXPECT_LT(std::chrono::steady_clock::now() - t0, 3s) << "idle connections held up shutdown";
}

TEST_F(LifecycleAnyBackendTest, FirstRequestsAfterStartSucceed) {
    // The first requests after a start open the database connections; none may fail.
    for (int round = 0; round < 8; ++round) {
        if (round > 0) {
            ASSERT_TRUE(restartServer()) << server->logTail();
        }
        std::vector<HttpResponse> results(4);
        std::vector<std::thread> threads;
        for (size_t i = 0; i < results.size(); ++i) {
            threads.emplace_back([&, i] {
                HttpClient c(server->port());
                results[i] = registerUser(c, uniqueEmail(), kPassword);
            });
        }
        for (auto& t : threads) t.join();
        for (const auto& r : results) EXPECT_EQ(r.status, 201) << "round " << round << ": " << r;
        if (HasFailure()) break;
    }
}

class SlowHashLifecycleAnyBackendTest : public ServiceTest {
  protected:
    // A few hundred ms per hash on one hash thread: when SIGTERM arrives one login is being
    // hashed and the others are received and queued behind it.
    json overrides() const override {
        return {{"auth",
                 {{"hash_threads", 1}, {"argon2id", {{"memory_kib", 131072}, {"iterations", 3}}}}}};
    }
};

TEST_F(SlowHashLifecycleAnyBackendTest, SigtermFinishesInFlightRequests) {
    const auto [email, id] = newUser();
    const std::string body = json{{"email", email}, {"password", kPassword}}.dump();
    const std::string request =
        "POST /api/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        "Content-Length: " +
        std::to_string(body.size()) + "\r\n\r\n" + body;
    std::vector<std::unique_ptr<RawConnection>> conns;
    for (int i = 0; i < 3; ++i) {
        conns.push_back(std::make_unique<RawConnection>(server->port()));
        ASSERT_TRUE(conns.back()->ok());
        ASSERT_TRUE(conns.back()->send(request));
    }
    std::this_thread::sleep_for(150ms);  // read by the server; the first one is being hashed
    const auto t0 = std::chrono::steady_clock::now();
    const int status = server->stop(SIGTERM);
    EXPECT_EQ(status, 0) << server->logTail();
    EXPECT_LT(std::chrono::steady_clock::now() - t0, 8s);
    for (auto& c : conns) {
        const RawResponse r = c->readResponse(1s);  // already sent, or never will be
        EXPECT_EQ(r.status, 200) << "an in-flight login was not finished by SIGTERM:\n" << r.raw;
        EXPECT_NE(r.body().find("access_token"), std::string::npos) << r.raw;
    }
}

}  // namespace
}  // namespace it
