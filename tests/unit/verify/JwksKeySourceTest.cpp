// verify/JwksKeySource: the JWKS client's cache and refetch rules, with a fake fetcher and
// a ManualClock (no network, no sleeping); maxAgeFromCacheControl; CurlFetcher against
// one-shot servers on loopback (status, max-age, no redirects, size cap, timeout).
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <condition_variable>
#include <deque>
#include <fstream>
#include <future>
#include <mutex>
#include <thread>

#include "support/TestSupport.h"
#include "services/KeyRing.h"
#include "verify/Base64Url.h"
#include "verify/JwksKeySource.h"
#include "verify/Verifier.h"

namespace {

using authsvc::testing::TempDir;
using authsvc::verify::AsymmetricKey;
using authsvc::verify::FetchResult;
using authsvc::verify::JwksKeySource;
using authsvc::verify::JwksOptions;
using authsvc::verify::KeySet;
using authsvc::verify::ManualClock;
using authsvc::verify::maxAgeFromCacheControl;
using nlohmann::json;

constexpr int64_t kSecond = 1000;

// A fetcher that answers from a script: the current response is returned by every fetch
// until changed. Optionally holds each fetch until released (for concurrency tests).
class FakeFetcher final : public authsvc::verify::Fetcher {
  public:
    FetchResult fetch(const std::string& url) override {
        std::unique_lock<std::mutex> lock(mu_);
        ++calls_;
        lastUrl_ = url;
        cv_.notify_all();
        cv_.wait(lock, [&] { return !hold_; });
        return response_;
    }
    void respond(FetchResult r) {
        std::lock_guard<std::mutex> lock(mu_);
        response_ = std::move(r);
    }
    void respondJwks(const json& jwks, std::optional<int64_t> maxAge = std::nullopt) {
        FetchResult r;
        r.ok = true;
        r.status = 200;
        r.body = jwks.dump();
        r.maxAgeSeconds = maxAge;
        respond(std::move(r));
    }
    void fail(const std::string& why) {
        FetchResult r;
        r.error = why;
        respond(std::move(r));
    }
    void hold(bool on) {
        std::lock_guard<std::mutex> lock(mu_);
        hold_ = on;
        cv_.notify_all();
    }
    // Waits (bounded) until at least `n` fetches have started.
    bool waitForCalls(int n) {
        std::unique_lock<std::mutex> lock(mu_);
        return cv_.wait_for(lock, std::chrono::seconds(10), [&] { return calls_ >= n; });
    }
    int calls() const {
        std::lock_guard<std::mutex> lock(mu_);
        return calls_;
    }

  private:
    mutable std::mutex mu_;
    std::condition_variable cv_;
    FetchResult response_;
    bool hold_ = false;
    int calls_ = 0;
    std::string lastUrl_;
};

class JwksKeySourceTest : public ::testing::Test {
  public:
    // A fresh private key (kept for signing) under `kid`.
    AsymmetricKey newKey(const std::string& kid, const std::string& alg = "ES256") {
        authsvc::models::generateKeyFile(dir.path().string(), alg, kid, clock.nowMs());
        std::ifstream in(dir.path() / (kid + ".pem"));
        std::string pem((std::istreambuf_iterator<char>(in)), {});
        return authsvc::verify::keyFromPem(pem, kid);
    }
    static json jwksOf(std::initializer_list<const AsymmetricKey*> keys) {
        json list = json::array();
        for (const auto* k : keys) list.push_back(authsvc::verify::publicJwk(*k));
        return json{{"keys", list}};
    }
    // Refreshes in the calling thread (deterministic) unless a test asks for the background.
    static JwksOptions inCallingThread() {
        JwksOptions options;
        options.refreshInBackground = false;
        return options;
    }
    std::unique_ptr<JwksKeySource> source(JwksOptions options = inCallingThread()) {
        options.log = [this](const std::string& line) {
            std::lock_guard<std::mutex> lock(logMu);
            logLines.push_back(line);
        };
        return std::make_unique<JwksKeySource>(kUrl, fetcher, clock, std::move(options));
    }
    std::vector<std::string> logged() {
        std::lock_guard<std::mutex> lock(logMu);
        return logLines;
    }
    // A token signed by `key` (which must hold the private part) for the Verifier below.
    std::string token(const AsymmetricKey& key, const std::string& sub = "42") {
        authsvc::models::SigningKey signer(key);
        const json payload = {{"iss", "authsvc"},
                              {"aud", "api"},
                              {"sub", sub},
                              {"iat", clock.nowSeconds()},
                              {"exp", clock.nowSeconds() + 300}};
        const std::string input =
            signer.encodedHeader() + "." + authsvc::verify::base64UrlEncode(payload.dump());
        return input + "." + authsvc::verify::base64UrlEncode(signer.sign(input));
    }

    const std::string kUrl = "https://issuer.example/.well-known/jwks.json";
    TempDir dir;
    ManualClock clock;
    std::shared_ptr<FakeFetcher> fetcher = std::make_shared<FakeFetcher>();
    std::mutex logMu;
    std::vector<std::string> logLines;
};

TEST_F(JwksKeySourceTest, FetchesAtConstruction) {
    const auto a = newKey("a");
    const auto b = newKey("b", "RS256");
    fetcher->respondJwks(jwksOf({&a, &b}));
    auto src = source();
    EXPECT_EQ(fetcher->calls(), 1);
    auto keys = src->keys();
    ASSERT_EQ(keys->keys().size(), 2u);
    ASSERT_NE(keys->find("a"), nullptr);
    EXPECT_EQ(keys->find("a")->alg, authsvc::verify::Algorithm::ES256);
    EXPECT_EQ(keys->find("b")->alg, authsvc::verify::Algorithm::RS256);
    EXPECT_FALSE(keys->find("a")->hasPrivate);
    EXPECT_TRUE(keys->sharedSecret().empty());
    EXPECT_EQ(src->lastError(), "");
    EXPECT_EQ(fetcher->calls(), 1);  // keys() within the refresh time does not fetch
}

TEST_F(JwksKeySourceTest, FailedFirstFetchLeavesAnEmptySetAndIsRetried) {
    fetcher->fail("connection refused");
    auto src = source();
    EXPECT_TRUE(src->keys()->keys().empty());
    EXPECT_NE(src->lastError().find("connection refused"), std::string::npos);
    ASSERT_FALSE(logged().empty());
    const uint64_t v0 = src->version();

    const auto a = newKey("a");
    fetcher->respondJwks(jwksOf({&a}));
    // The first unknown kid refetches at once (no unknown-kid fetch happened yet).
    auto fresher = src->keysForUnknownKid("a");
    ASSERT_NE(fresher, nullptr);
    EXPECT_NE(fresher->find("a"), nullptr);
    EXPECT_NE(src->version(), v0);
    EXPECT_EQ(fetcher->calls(), 2);
}

TEST_F(JwksKeySourceTest, FailedFirstFetchIsRetriedAfterTheMinimumRefresh) {
    fetcher->fail("timeout");
    auto src = source();
    const auto a = newKey("a");
    fetcher->respondJwks(jwksOf({&a}));
    clock.advanceMs(29 * kSecond);
    EXPECT_TRUE(src->keys()->keys().empty());
    EXPECT_EQ(fetcher->calls(), 1);
    clock.advanceMs(1 * kSecond);
    EXPECT_EQ(src->keys()->keys().size(), 1u);
    EXPECT_EQ(fetcher->calls(), 2);
}

// The source refetches `seconds` after a response with `maxAge`, not a second earlier.
void expectRefreshAfter(JwksKeySourceTest& t, std::optional<int64_t> maxAge, int64_t seconds) {
    SCOPED_TRACE("max-age " + (maxAge ? std::to_string(*maxAge) : "absent"));
    const auto a = t.newKey("a");
    t.fetcher->respondJwks(t.jwksOf({&a}), maxAge);
    auto src = t.source();
    t.clock.advanceMs((seconds - 1) * kSecond);
    src->keys();
    EXPECT_EQ(t.fetcher->calls(), 1);
    t.clock.advanceMs(1 * kSecond);
    src->version();  // version() refreshes too: the Verifier asks it first, even on a cache hit
    EXPECT_EQ(t.fetcher->calls(), 2);
}

TEST_F(JwksKeySourceTest, RefreshFollowsMaxAge) {
    expectRefreshAfter(*this, 120, 120);
}

TEST_F(JwksKeySourceTest, MaxAgeBelowThirtySecondsCountsAsThirty) {
    expectRefreshAfter(*this, 1, 30);
}

TEST_F(JwksKeySourceTest, MaxAgeAboveAnHourCountsAsAnHour) {
    expectRefreshAfter(*this, 86400, 3600);
}

TEST_F(JwksKeySourceTest, NoMaxAgeRefreshesAfterFiveMinutes) {
    expectRefreshAfter(*this, std::nullopt, 300);
}

TEST_F(JwksKeySourceTest, FailuresKeepTheLastGoodSet) {
    const auto a = newKey("a");
    fetcher->respondJwks(jwksOf({&a}), 60);
    auto src = source();
    const uint64_t v = src->version();
    const auto good = src->keys();

    std::vector<FetchResult> failures;
    FetchResult transport;
    transport.error = "Operation timed out";
    failures.push_back(transport);
    FetchResult status;
    status.ok = true;
    status.status = 503;
    status.body = jwksOf({&a}).dump();
    failures.push_back(status);
    FetchResult redirect = status;
    redirect.status = 302;
    failures.push_back(redirect);
    FetchResult notJson = status;
    notJson.status = 200;
    notJson.body = "<html>";
    failures.push_back(notJson);
    FetchResult noKeys = notJson;
    noKeys.body = R"({"keys": "nope"})";
    failures.push_back(noKeys);
    FetchResult empty = notJson;
    empty.body = R"({"keys": []})";
    failures.push_back(empty);
    FetchResult onlySecret = notJson;
    onlySecret.body = R"({"keys": [{"kty": "oct", "kid": "s", "k": "c2VjcmV0"}]})";
    failures.push_back(onlySecret);

    int expectedCalls = 1;
    for (const auto& f : failures) {
        fetcher->respond(f);
        clock.advanceMs(60 * kSecond);
        EXPECT_EQ(src->keys(), good);
        EXPECT_EQ(src->version(), v);
        EXPECT_EQ(fetcher->calls(), ++expectedCalls);
        EXPECT_FALSE(src->lastError().empty());
        // After a failure the next attempt is due after the minimum refresh, 30 s.
        clock.advanceMs(29 * kSecond);
        src->keys();
        EXPECT_EQ(fetcher->calls(), expectedCalls);
    }
    const auto b = newKey("b");
    fetcher->respondJwks(jwksOf({&b}), 60);
    clock.advanceMs(31 * kSecond);
    EXPECT_NE(src->keys()->find("b"), nullptr);
    EXPECT_EQ(src->keys()->find("a"), nullptr);
    EXPECT_EQ(src->lastError(), "");
}

TEST_F(JwksKeySourceTest, BadJwksAreSkippedOneByOne) {
    const auto a = newKey("a");
    const auto b = newKey("b", "RS256");
    json badCurve = authsvc::verify::publicJwk(a);
    badCurve["kid"] = "bad-curve";
    badCurve["crv"] = "P-384";
    json wrongAlg = authsvc::verify::publicJwk(b);
    wrongAlg["kid"] = "wrong-alg";
    wrongAlg["alg"] = "ES256";
    json noKid = authsvc::verify::publicJwk(a);
    noKid.erase("kid");
    json duplicate = authsvc::verify::publicJwk(b);
    duplicate["kid"] = "a";  // the first "a" wins
    json doc = {
        {"keys",
         {R"({"kty":"oct","kid":"hs","k":"MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY"})"_json,
          badCurve, "not an object", authsvc::verify::publicJwk(a), wrongAlg, noKid, duplicate,
          authsvc::verify::publicJwk(b)}}};
    fetcher->respondJwks(doc);
    auto src = source();
    auto keys = src->keys();
    ASSERT_EQ(keys->keys().size(), 2u);
    EXPECT_EQ(keys->find("a")->alg, authsvc::verify::Algorithm::ES256);
    EXPECT_NE(keys->find("b"), nullptr);
    EXPECT_EQ(keys->find("hs"), nullptr);
    EXPECT_TRUE(keys->sharedSecret().empty());  // never a shared secret from a JWKS
    EXPECT_EQ(src->lastError(), "");
    EXPECT_EQ(logged().size(), 6u);
}

TEST_F(JwksKeySourceTest, UnknownKidRefetchesAtMostOncePerThirtySeconds) {
    const auto a = newKey("a");
    fetcher->respondJwks(jwksOf({&a}), 3600);
    auto src = source();
    EXPECT_EQ(src->keysForUnknownKid("x"), nullptr);  // fetched: still no "x"
    EXPECT_EQ(fetcher->calls(), 2);
    clock.advanceMs(29 * kSecond);
    EXPECT_EQ(src->keysForUnknownKid("x"), nullptr);  // inside the window: no fetch
    EXPECT_EQ(src->keysForUnknownKid("y"), nullptr);  // another kid: the same window
    EXPECT_EQ(fetcher->calls(), 2);

    const auto x = newKey("x");
    fetcher->respondJwks(jwksOf({&a, &x}), 3600);
    EXPECT_EQ(src->keysForUnknownKid("x"), nullptr);
    EXPECT_EQ(fetcher->calls(), 2);
    clock.advanceMs(1 * kSecond);
    const uint64_t before = src->version();
    auto fresher = src->keysForUnknownKid("x");
    ASSERT_NE(fresher, nullptr);
    EXPECT_NE(fresher->find("x"), nullptr);
    EXPECT_EQ(src->keys(), fresher);
    EXPECT_NE(src->version(), before);
    EXPECT_EQ(fetcher->calls(), 3);
    // Known now: no fetch, the current set.
    EXPECT_EQ(src->keysForUnknownKid("x"), fresher);
    EXPECT_EQ(fetcher->calls(), 3);
}

TEST_F(JwksKeySourceTest, ConcurrentUnknownKidCallersShareOneFetch) {
    const auto a = newKey("a");
    fetcher->respondJwks(jwksOf({&a}), 3600);
    JwksOptions patient = inCallingThread();
    patient.unknownKidWait = std::chrono::seconds(30);  // sharing, not the bound, is tested here
    auto src = source(patient);
    const auto n = newKey("n");
    fetcher->respondJwks(jwksOf({&a, &n}), 3600);
    fetcher->hold(true);

    constexpr int kCallers = 8;
    std::vector<std::shared_ptr<const KeySet>> results(kCallers);
    std::vector<std::thread> threads;
    threads.emplace_back([&] { results[0] = src->keysForUnknownKid("n"); });
    ASSERT_TRUE(fetcher->waitForCalls(2));  // the first caller's fetch is in progress
    for (int i = 1; i < kCallers; ++i) {
        threads.emplace_back([&, i] { results[size_t(i)] = src->keysForUnknownKid("n"); });
    }
    // Meanwhile keys() does not wait for the fetch and keeps the current set.
    EXPECT_EQ(src->keys()->find("n"), nullptr);
    std::this_thread::sleep_for(std::chrono::milliseconds(50));  // let the others queue up
    fetcher->hold(false);
    for (auto& t : threads) t.join();
    EXPECT_EQ(fetcher->calls(), 2);
    for (const auto& r : results) {
        ASSERT_NE(r, nullptr);
        EXPECT_NE(r->find("n"), nullptr);
    }
}

TEST_F(JwksKeySourceTest, OnlyOneThreadRefreshesOthersKeepTheCurrentSet) {
    const auto a = newKey("a");
    fetcher->respondJwks(jwksOf({&a}), 60);
    auto src = source();
    const auto before = src->keys();
    const auto b = newKey("b");
    fetcher->respondJwks(jwksOf({&b}), 60);
    fetcher->hold(true);
    clock.advanceMs(60 * kSecond);
    std::thread refresher([&] { src->keys(); });
    ASSERT_TRUE(fetcher->waitForCalls(2));
    for (int i = 0; i < 5; ++i) EXPECT_EQ(src->keys(), before);  // no wait, no second fetch
    EXPECT_EQ(fetcher->calls(), 2);
    fetcher->hold(false);
    refresher.join();
    EXPECT_NE(src->keys()->find("b"), nullptr);
}

// The default: a due refresh runs on the source's own thread. A caller never waits for
// the network (here: a fetch held until released); the set in force stays until the
// fetch is done, and a caller that needs the new set (an unknown kid) shares that fetch.
TEST_F(JwksKeySourceTest, ABackgroundRefreshNeverMakesAVerificationWait) {
    const auto a = newKey("a");
    fetcher->respondJwks(jwksOf({&a}), 60);
    JwksOptions patient;
    patient.unknownKidWait = std::chrono::seconds(30);  // below: a fetch that answers in time
    auto src = source(patient);
    const uint64_t before = src->version();
    const auto b = newKey("b");
    fetcher->respondJwks(jwksOf({&a, &b}), 60);
    fetcher->hold(true);
    clock.advanceMs(60 * kSecond);

    auto call = std::async(std::launch::async, [&] { return src->version(); });
    const bool answered = call.wait_for(std::chrono::seconds(5)) == std::future_status::ready;
    EXPECT_TRUE(answered) << "version() waited for the JWKS fetch";
    ASSERT_TRUE(fetcher->waitForCalls(2));  // the refresh runs meanwhile
    if (answered) {
        EXPECT_EQ(call.get(), before);
    }
    EXPECT_EQ(src->keys()->find("b"), nullptr);
    EXPECT_EQ(src->version(), before);

    auto shared = std::async(std::launch::async, [&] { return src->keysForUnknownKid("b"); });
    fetcher->hold(false);
    const auto fresh = shared.get();
    ASSERT_NE(fresh, nullptr);
    EXPECT_NE(fresh->find("b"), nullptr);
    EXPECT_NE(src->version(), before);
    EXPECT_EQ(fetcher->calls(), 2);  // one fetch, shared
}

TEST_F(JwksKeySourceTest, VersionChangesOnlyWhenTheKeysChange) {
    const auto a = newKey("a");
    const auto b = newKey("b");
    fetcher->respondJwks(jwksOf({&a}), 60);
    auto src = source();
    const uint64_t v1 = src->version();
    clock.advanceMs(60 * kSecond);
    EXPECT_EQ(src->version(), v1);  // refetched, same keys
    EXPECT_EQ(fetcher->calls(), 2);
    fetcher->respondJwks(jwksOf({&a, &b}), 60);
    clock.advanceMs(60 * kSecond);
    const uint64_t v2 = src->version();
    EXPECT_NE(v2, v1);
    fetcher->respondJwks(jwksOf({&b}), 60);
    clock.advanceMs(60 * kSecond);
    const uint64_t v3 = src->version();
    EXPECT_NE(v3, v2);
    EXPECT_EQ(src->keys()->find("a"), nullptr);
}

TEST_F(JwksKeySourceTest, VerifierPicksUpANewKeyAndDropsARemovedOne) {
    const auto a = newKey("a");
    fetcher->respondJwks(jwksOf({&a}), 60);
    auto src = std::shared_ptr<JwksKeySource>(source());
    authsvc::verify::Verifier verifier({"authsvc", "api"}, src, clock);
    const std::string tokenA = token(a, "alice");
    EXPECT_TRUE(verifier.verifyToken(tokenA));

    const auto b = newKey("b", "RS256");
    fetcher->respondJwks(jwksOf({&a, &b}), 60);
    auto v = verifier.verifyToken(token(b, "bob"));  // unknown kid: refetched
    ASSERT_TRUE(v) << authsvc::verify::reasonName(v.reason);
    EXPECT_EQ(v.claims->sub, "bob");

    fetcher->respondJwks(jwksOf({&b}), 60);
    EXPECT_TRUE(verifier.verifyToken(tokenA));  // cached set until the refresh is due
    clock.advanceMs(60 * kSecond);
    v = verifier.verifyToken(tokenA);  // a cached token too is checked again
    EXPECT_FALSE(v);
    EXPECT_EQ(v.reason, authsvc::verify::Reason::UnknownKid);
}

// Issue 21 item 5: a token with an unknown kid (a forged one, a fresh kid each time) never
// holds a verifying thread for the length of a slow JWKS fetch. It starts the fetch on
// the source's thread, waits at most unknownKidWait and is refused meanwhile; the fetch
// goes on and serves the next token.
TEST_F(JwksKeySourceTest, AnUnknownKidWaitsForTheFetchOnlyABoundedTime) {
    const auto a = newKey("a");
    fetcher->respondJwks(jwksOf({&a}), 3600);
    JwksOptions options;  // in the background, as deployed
    options.unknownKidWait = std::chrono::milliseconds(50);
    auto src = std::shared_ptr<JwksKeySource>(source(options));
    authsvc::verify::Verifier verifier({"authsvc", "api"}, src, clock);
    const auto n = newKey("n");
    fetcher->respondJwks(jwksOf({&a, &n}), 3600);
    fetcher->hold(true);
    const std::string t = token(n);

    auto call = std::async(std::launch::async, [&] { return verifier.verifyToken(t); });
    const bool answered = call.wait_for(std::chrono::seconds(10)) == std::future_status::ready;
    EXPECT_TRUE(answered) << "the verification waited for the held JWKS fetch";
    ASSERT_TRUE(fetcher->waitForCalls(2));  // the fetch was started all the same
    fetcher->hold(false);
    const authsvc::verify::Verified refused = call.get();
    EXPECT_FALSE(refused);
    EXPECT_EQ(refused.reason, authsvc::verify::Reason::UnknownKid);

    // The fetch ends on its own thread and installs "n" (bounded wait for it).
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (!src->keys()->find("n") && std::chrono::steady_clock::now() < deadline) {
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    const auto v = verifier.verifyToken(t);
    EXPECT_TRUE(v) << authsvc::verify::reasonName(v.reason);
    EXPECT_EQ(fetcher->calls(), 2);  // one fetch for both
}

// A fetch that answers within the wait serves the token that started it.
TEST_F(JwksKeySourceTest, AnUnknownKidIsVerifiedWhenItsFetchAnswersInTime) {
    const auto a = newKey("a");
    fetcher->respondJwks(jwksOf({&a}), 3600);
    JwksOptions options;
    options.unknownKidWait = std::chrono::seconds(30);  // far longer than an unheld fetch
    auto src = std::shared_ptr<JwksKeySource>(source(options));
    authsvc::verify::Verifier verifier({"authsvc", "api"}, src, clock);
    const auto n = newKey("n");
    fetcher->respondJwks(jwksOf({&a, &n}), 3600);
    const auto v = verifier.verifyToken(token(n, "nora"));
    ASSERT_TRUE(v) << authsvc::verify::reasonName(v.reason);
    EXPECT_EQ(v.claims->sub, "nora");
    EXPECT_EQ(fetcher->calls(), 2);
    // Within the interval a second unknown kid starts no fetch and waits for none.
    EXPECT_FALSE(verifier.verifyToken(token(newKey("m"))));
    EXPECT_EQ(fetcher->calls(), 2);
}

// parseJwks: the JWKS reading alone, without a fetch or a source.
TEST(ParseJwksTest, ReadsEachJwkOnItsOwnAndSaysWhatItSkipped) {
    const json rsa = {
        {"kty", "RSA"},
        {"n",
         "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_"
         "BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-"
         "65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdk"
         "t-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-"
         "kEgU8awapJzKnqDKgw"},
        {"e", "AQAB"},
        {"kid", "r1"}};
    json second = rsa;
    second["alg"] = "ES256";  // not the key's
    json again = rsa;         // the same kid twice: the first is kept
    const json doc = {{"keys", {rsa, second, R"({"kty":"oct","kid":"s","k":"c2VjcmV0"})"_json,
                                again, "not an object"}}};
    const auto parsed = authsvc::verify::parseJwks(doc.dump());
    ASSERT_TRUE(parsed.keys) << parsed.failure;
    ASSERT_EQ(parsed.keys->keys().size(), 1u);
    EXPECT_EQ(parsed.keys->keys()[0].kid, "r1");
    EXPECT_TRUE(parsed.keys->sharedSecret().empty());
    EXPECT_EQ(parsed.notes.size(), 4u);
    EXPECT_EQ(parsed.failure, "");
    EXPECT_EQ(json::parse(parsed.canonical), parsed.keys->jwks());
    EXPECT_EQ(authsvc::verify::parseJwks(parsed.canonical).canonical, parsed.canonical);
}

TEST(ParseJwksTest, AnythingButAJwksWithAUsableKeyIsAFailure) {
    for (const std::string body :
         {"", "<html>", "[]", R"({"keys": "nope"})", R"({"keys": []})", R"({"other": []})",
          R"({"keys": [{"kty": "oct", "kid": "s", "k": "c2VjcmV0"}]})"}) {
        const auto parsed = authsvc::verify::parseJwks(body);
        EXPECT_FALSE(parsed.keys) << body;
        EXPECT_FALSE(parsed.failure.empty()) << body;
        EXPECT_TRUE(parsed.canonical.empty()) << body;
    }
}

TEST(CacheControlTest, MaxAge) {
    EXPECT_EQ(maxAgeFromCacheControl("public, max-age=300"), 300);
    EXPECT_EQ(maxAgeFromCacheControl(" Max-Age = 60 "), 60);
    EXPECT_EQ(maxAgeFromCacheControl("max-age=\"90\", public"), 90);
    EXPECT_EQ(maxAgeFromCacheControl("public"), std::nullopt);
    EXPECT_EQ(maxAgeFromCacheControl("max-age=abc"), std::nullopt);
    EXPECT_EQ(maxAgeFromCacheControl("max-age=-5"), std::nullopt);
    EXPECT_EQ(maxAgeFromCacheControl("max-age="), std::nullopt);
    EXPECT_EQ(maxAgeFromCacheControl("max-age=99999999999999999999999"), INT64_MAX);
    EXPECT_EQ(maxAgeFromCacheControl("no-store, max-age=300"), 0);
    EXPECT_EQ(maxAgeFromCacheControl("max-age=300, no-cache"), 0);
    EXPECT_EQ(maxAgeFromCacheControl(""), std::nullopt);
}

}  // namespace

// ---------------------------------------------------------------- CurlFetcher on loopback

namespace {

// A one-connection HTTP server on 127.0.0.1: answers the first request with `response`
// (or, when `response` is empty, never answers until the destructor).
class OneShotServer {
  public:
    explicit OneShotServer(std::string response) : response_(std::move(response)) {
        fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        sockaddr_in addr{};
        addr.sin_family = AF_INET;
        addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        socklen_t len = sizeof addr;
        if (::bind(fd_, reinterpret_cast<sockaddr*>(&addr), len) != 0 || ::listen(fd_, 4) != 0 ||
            ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
            throw std::runtime_error("cannot listen on loopback");
        }
        port_ = ntohs(addr.sin_port);
        thread_ = std::thread([this] { serve(); });
    }
    ~OneShotServer() {
        ::shutdown(fd_, SHUT_RDWR);
        ::close(fd_);
        thread_.join();
    }
    std::string url(const std::string& path = "/jwks.json") const {
        return "http://127.0.0.1:" + std::to_string(port_) + path;
    }

  private:
    void serve() {
        const int conn = ::accept(fd_, nullptr, nullptr);
        if (conn < 0) return;
        std::string request;
        char buf[4096];
        while (request.find("\r\n\r\n") == std::string::npos) {
            const ssize_t n = ::recv(conn, buf, sizeof buf, 0);
            if (n <= 0) break;
            request.append(buf, size_t(n));
        }
        if (!response_.empty()) {
            size_t sent = 0;
            while (sent < response_.size()) {
                const ssize_t n =
                    ::send(conn, response_.data() + sent, response_.size() - sent, MSG_NOSIGNAL);
                if (n <= 0) break;
                sent += size_t(n);
            }
        } else {
            ::recv(conn, buf, sizeof buf, 0);  // until the client gives up
        }
        ::close(conn);
    }

    std::string response_;
    int fd_ = -1;
    int port_ = 0;
    std::thread thread_;
};

std::string httpResponse(const std::string& statusLine, const std::string& headers,
                         const std::string& body) {
    return "HTTP/1.1 " + statusLine + "\r\n" + headers +
           "Content-Length: " + std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n" +
           body;
}

TEST(CurlFetcherTest, ReturnsStatusBodyAndMaxAge) {
    OneShotServer server(httpResponse(
        "200 OK", "Content-Type: application/json\r\nCache-Control: public, max-age=77\r\n",
        R"({"keys":[]})"));
    authsvc::verify::CurlFetcher fetcher;
    const FetchResult r = fetcher.fetch(server.url());
    ASSERT_TRUE(r.ok) << r.error;
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.body, R"({"keys":[]})");
    EXPECT_EQ(r.maxAgeSeconds, 77);
}

TEST(CurlFetcherTest, NeverFollowsARedirect) {
    OneShotServer target(httpResponse("200 OK", "", R"({"keys":[]})"));
    OneShotServer server(httpResponse("302 Found", "Location: " + target.url() + "\r\n", ""));
    authsvc::verify::CurlFetcher fetcher;
    const FetchResult r = fetcher.fetch(server.url());
    ASSERT_TRUE(r.ok) << r.error;
    EXPECT_EQ(r.status, 302);  // JwksKeySource counts any status but 200 as a failure
    EXPECT_EQ(r.body, "");
}

TEST(CurlFetcherTest, CapsTheBody) {
    OneShotServer server(httpResponse("200 OK", "", std::string(4096, 'x')));
    authsvc::verify::CurlFetcher fetcher(
        {std::chrono::milliseconds(2000), std::chrono::milliseconds(5000), 1024});
    const FetchResult r = fetcher.fetch(server.url());
    EXPECT_FALSE(r.ok);
    EXPECT_NE(r.error.find("larger than 1024"), std::string::npos) << r.error;
}

TEST(CurlFetcherTest, TimesOutOnASilentServer) {
    OneShotServer server("");  // accepts, reads, never answers
    authsvc::verify::CurlFetcher fetcher(
        {std::chrono::milliseconds(200), std::chrono::milliseconds(300), 1024});
    const auto start = std::chrono::steady_clock::now();
    const FetchResult r = fetcher.fetch(server.url());
    EXPECT_FALSE(r.ok);
    EXPECT_FALSE(r.error.empty());
    EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
}

TEST(CurlFetcherTest, RefusesOtherProtocols) {
    authsvc::verify::CurlFetcher fetcher;
    for (const std::string url : {"file:///etc/hostname", "ftp://127.0.0.1/jwks.json"}) {
        const FetchResult r = fetcher.fetch(url);
        EXPECT_FALSE(r.ok) << url;
        EXPECT_FALSE(r.error.empty()) << url;
    }
}

}  // namespace
