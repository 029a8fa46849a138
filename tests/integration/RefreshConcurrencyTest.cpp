// Many concurrent refreshes of one token: exactly one rotation, one distinct successor (the
// refreshes spread over POST /api/refresh_token and POST /oauth/token, which share it).
#include <atomic>
#include <condition_variable>
#include <mutex>
#include <set>
#include <thread>

#include "support/Harness.h"

namespace it {
namespace {

class RefreshConcurrencyTest : public ServiceTest {};

TEST_F(RefreshConcurrencyTest, FiftyConcurrentRefreshesYieldOneSuccessor) {
    const auto [email, id] = newUser();
    const Tokens t = login(*client, email, kPassword);
    ASSERT_FALSE(t.refresh.empty());

    const auto results = refreshEverywhere({server->port()}, t.refresh, 50,
                                           {RefreshRoute::Json, RefreshRoute::OAuthToken});
    std::set<std::string> successors;
    int ok = 0;
    for (const auto& r : results) {
        // Inside the grace window every loser gets the winner's successor: all 200.
        EXPECT_EQ(r.status, 200) << r;
        if (r.status == 200) {
            ++ok;
            successors.insert(r.jsonBody().value("refresh_token", ""));
            EXPECT_EQ(client->getWithToken("/api/protected", r.jsonBody()["access_token"]).status,
                      200);
        }
    }
    EXPECT_EQ(ok, 50);
    ASSERT_EQ(successors.size(), 1u) << "more than one rotation happened";
    const std::string successor = *successors.begin();
    EXPECT_NE(successor, t.refresh);
    EXPECT_FALSE(successor.empty());
    // The family is intact: the one successor rotates normally.
    const HttpResponse next = refresh(*client, successor);
    EXPECT_EQ(next.status, 200) << next;
    EXPECT_TRUE(server->running());
}

TEST_F(RefreshConcurrencyTest, ConcurrentRefreshesOfDifferentFamilies) {
    // 20 families rotated at once: no "database is locked", every one rotates.
    const auto [email, id] = newUser();
    std::vector<std::string> tokens;
    for (int i = 0; i < 20; ++i) tokens.push_back(login(*client, email, kPassword).refresh);
    std::vector<HttpResponse> results(tokens.size());
    std::vector<std::thread> threads;
    for (size_t i = 0; i < tokens.size(); ++i) {
        threads.emplace_back([&, i] {
            HttpClient c(server->port());
            c.setTimeoutMs(20000);
            results[i] = refresh(c, tokens[i]);
        });
    }
    for (auto& th : threads) th.join();
    std::set<std::string> successors;
    for (const auto& r : results) {
        EXPECT_EQ(r.status, 200) << r;
        successors.insert(r.jsonBody().value("refresh_token", ""));
    }
    EXPECT_EQ(successors.size(), tokens.size());
}

}  // namespace
}  // namespace it
