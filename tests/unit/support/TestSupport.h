// Helpers shared by the unit tests: a fresh temporary directory per test, a forger of
// JWTs (libsodium's HMAC, independent of TokenService; base64url is verify's, the
// project's one codec, tested on its own in Base64UrlTest), and an AuthObserver that
// records every event.
#pragma once

#include <gtest/gtest.h>
#include <sodium.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <mutex>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "models/Migrator.h"
#include "services/AuthService.h"
#include "services/KeyRing.h"
#include "support/ManualClock.h"
#include "support/TestPeers.h"
#include "verify/Base64Url.h"
#include "verify/Sha256.h"
#include "verify/Verifier.h"

namespace authsvc::testing {

// A directory under the system temp dir, removed with everything in it.
class TempDir {
  public:
    TempDir() {
        std::string tmpl =
            (std::filesystem::temp_directory_path() / "authsvc-unit-XXXXXX").string();
        if (!mkdtemp(tmpl.data())) throw std::runtime_error("mkdtemp failed");
        path_ = tmpl;
    }
    ~TempDir() {
        std::error_code ec;
        std::filesystem::remove_all(path_, ec);
    }
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
    const std::filesystem::path& path() const { return path_; }

  private:
    std::filesystem::path path_;
};

inline std::string b64url(const std::string& bytes) {
    return verify::base64UrlEncode(bytes);
}

inline std::string b64urlDecode(const std::string& text) {
    auto bytes = verify::base64UrlDecode(text);
    if (!bytes) throw std::runtime_error("bad base64url in test input");
    return *bytes;
}

inline std::string hmacSha256(const std::string& key, const std::string& data) {
    crypto_auth_hmacsha256_state st;
    crypto_auth_hmacsha256_init(&st, reinterpret_cast<const unsigned char*>(key.data()),
                                key.size());
    crypto_auth_hmacsha256_update(&st, reinterpret_cast<const unsigned char*>(data.data()),
                                  data.size());
    unsigned char out[crypto_auth_hmacsha256_BYTES];
    crypto_auth_hmacsha256_final(&st, out);
    return std::string(reinterpret_cast<char*>(out), sizeof out);
}

inline std::string hmacSha512(const std::string& key, const std::string& data) {
    crypto_auth_hmacsha512_state st;
    crypto_auth_hmacsha512_init(&st, reinterpret_cast<const unsigned char*>(key.data()),
                                key.size());
    crypto_auth_hmacsha512_update(&st, reinterpret_cast<const unsigned char*>(data.data()),
                                  data.size());
    unsigned char out[crypto_auth_hmacsha512_BYTES];
    crypto_auth_hmacsha512_final(&st, out);
    return std::string(reinterpret_cast<char*>(out), sizeof out);
}

// header.payload.signature over header and payload given as JSON text (which may hold
// what no json object can, e.g. a member named twice), with the signature computed as
// `alg` says (HS256 or HS512 under `key`); any other alg gets `rawSignature` as is.
inline std::string forgeJwtText(const std::string& headerText, const std::string& payloadText,
                                const std::string& alg, const std::string& key,
                                const std::string& rawSignature = "") {
    const std::string signingInput = b64url(headerText) + "." + b64url(payloadText);
    std::string sig = rawSignature;
    if (alg == "HS256") sig = hmacSha256(key, signingInput);
    if (alg == "HS512") sig = hmacSha512(key, signingInput);
    return signingInput + "." + b64url(sig);
}

// The same for JSON objects, signed as the header's alg says.
inline std::string forgeJwt(const nlohmann::json& header, const nlohmann::json& payload,
                            const std::string& key, const std::string& rawSignature = "") {
    return forgeJwtText(header.dump(), payload.dump(), header.value("alg", ""), key, rawSignature);
}

// The decoded JSON of one segment (0 = header, 1 = payload) of a compact JWS.
inline nlohmann::json jwtSegment(const std::string& token, int index) {
    size_t start = 0;
    for (int i = 0; i < index; ++i) start = token.find('.', start) + 1;
    size_t end = token.find('.', start);
    return nlohmann::json::parse(b64urlDecode(token.substr(start, end - start)));
}

inline const std::string kSecret = "0123456789abcdef0123456789abcdef-unit-tests";
// The account the service tests register, and the instant their injected clocks start at.
inline const std::string kEmail = "alice@example.com";
inline const std::string kPassword = "correct horse battery";
inline constexpr int64_t kStartMs = 1'800'000'000'000;
inline constexpr int64_t kNow = kStartMs / 1000;  // the same instant, in seconds

class RecordingObserver : public models::AuthObserver {
  public:
    struct Reuse {
        std::string familyId;
        int64_t userId;
    };
    void onLogin(bool success) override {
        std::lock_guard<std::mutex> lock(mu_);
        logins.push_back(success);
    }
    void onRefresh(models::RefreshOutcome outcome) override {
        std::lock_guard<std::mutex> lock(mu_);
        refreshes.push_back(outcome);
    }
    void onReuseDetected(const std::string& familyId, int64_t userId) override {
        std::lock_guard<std::mutex> lock(mu_);
        reuses.push_back({familyId, userId});
    }
    void onFamiliesRevoked(int64_t count, const std::string& reason) override {
        std::lock_guard<std::mutex> lock(mu_);
        revocations.emplace_back(count, reason);
    }
    size_t count(models::RefreshOutcome o) const {
        std::lock_guard<std::mutex> lock(mu_);
        size_t n = 0;
        for (auto r : refreshes) n += (r == o);
        return n;
    }

    std::vector<bool> logins;
    std::vector<models::RefreshOutcome> refreshes;
    std::vector<Reuse> reuses;
    std::vector<std::pair<int64_t, std::string>> revocations;

  private:
    mutable std::mutex mu_;
};

// Runs each call on a thread of its own so that their Database::writeTogether() calls
// (exactly one each, and no other use of the database before it) form ONE batch: a
// first caller holds the group until all of them wait for it.
inline void inOneBatch(models::Database& db, const std::vector<std::function<void()>>& calls) {
    std::atomic<bool> holding{false};
    std::thread holder([&] {
        db.writeTogether([&](models::Connection&) {
            holding = true;
            const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
            while (models::DatabaseTestPeer::waitingTogether(db) < calls.size()) {
                if (std::chrono::steady_clock::now() > deadline) {
                    ADD_FAILURE() << "the calls did not wait for one batch together";
                    return;
                }
                std::this_thread::yield();
            }
        });
    });
    while (!holding) std::this_thread::yield();
    std::vector<std::thread> threads;
    for (const auto& call : calls) threads.emplace_back(call);
    for (auto& t : threads) t.join();
    holder.join();
}

// A key source that counts how often the verifier asked for the keys: a cache hit asks
// for none.
class CountingKeySource : public verify::KeySource {
  public:
    explicit CountingKeySource(std::shared_ptr<verify::KeySource> inner)
        : inner_(std::move(inner)) {}
    std::shared_ptr<const verify::KeySet> keys() const override {
        ++calls;
        return inner_->keys();
    }
    uint64_t version() const override { return inner_->version(); }
    mutable std::atomic<int> calls{0};

  private:
    std::shared_ptr<verify::KeySource> inner_;
};

// Issuing (TokenService) and verification (verify::Verifier) over one HS256 KeyRing, with
// the verifier's answers as models::Result, as the service's RequireAuth maps them.
struct TokenKit {
    TokenKit(const verify::Clock& clock, std::string issuer = "authsvc",
             std::string audience = "authsvc-clients", int64_t leewayMs = 30'000,
             std::string secret = kSecret)
        : keys(models::KeyConfig{secret, "", ""}),
          counting(std::make_shared<CountingKeySource>(keys.source())),
          tokenService(models::TokenSettings{issuer, audience, 900'000}, keys, clock),
          verifier(verify::VerifierOptions{issuer, audience, std::chrono::milliseconds(leewayMs)},
                   counting, clock) {}

    std::string issue(const std::string& sub, const std::string& sid) const {
        return tokenService.issue(sub, sid);
    }
    int64_t accessTtlSeconds() const { return tokenService.accessTtlSeconds(); }
    models::Result<verify::AccessClaims> verify(std::string_view token) const {
        verify::Verified v = verifier.verifyToken(token);
        if (v) return *v.claims;
        return models::makeError(models::ErrorCode::InvalidToken, verify::reasonText(v.reason));
    }
    // The claims when `token` is accepted from the verified-token cache (no key lookup);
    // nullptr otherwise (the token may have been verified in full, and cached, by it).
    std::shared_ptr<const verify::AccessClaims> verifiedBefore(std::string_view token) const {
        const int before = counting->calls;
        verify::Verified v = verifier.verifyToken(token);
        if (!v || counting->calls != before) return nullptr;
        return v.claims;
    }

    models::KeyRing keys;
    std::shared_ptr<CountingKeySource> counting;
    models::TokenService tokenService;
    verify::Verifier verifier;
};

// What an AuthService needs besides its Database, as the unit tests build it: a manual
// clock, cheap argon2id, the test secret.
struct ServiceParts {
    verify::ManualClock clock{1'800'000'000'000};
    models::UserRepository users;
    models::RefreshTokenRepository tokens;
    models::PasswordHasher hasher{models::Argon2Params{1, 8}};
    TokenKit kit{clock};
    const models::TokenService& tokenService = kit.tokenService;
    RecordingObserver observer;
    models::AuthSettings settings;
};

// ServiceParts over a fresh, migrated SQLite file `file` in a temp dir (settings with the
// test successor key): the fixture of the services that work beside AuthService.
// makeAuth() builds `auth` from the settings as they are then.
struct SqliteServiceParts : ServiceParts {
    explicit SqliteServiceParts(const std::string& file) {
        models::DatabaseSettings ds;
        ds.sqlitePath = (dir.path() / file).string();
        ds.poolSize = 2;
        db = std::make_unique<models::Database>(ds);
        models::Migrator(*db, clock).migrate();
        settings.successorKey = kSecret;
    }
    void makeAuth(const models::MailOutboxRepository* outbox = nullptr) {
        auth = std::make_unique<models::AuthService>(*db, users, tokens, hasher, tokenService,
                                                     clock, settings, observer, nullptr, outbox);
    }

    TempDir dir;
    std::unique_ptr<models::Database> db;
    std::unique_ptr<models::AuthService> auth;
};

// Runs refresh(i) on `threads` threads at once, all presenting one token: exactly one
// rotates, every other gets the same successor as an in-grace retry, nobody sees a reuse.
inline void expectOneRotationAmong(
    int threads, const std::function<models::Result<models::TokenPair>(int)>& refresh,
    const RecordingObserver& observer) {
    std::vector<std::string> got(threads);
    std::vector<std::thread> running;
    for (int i = 0; i < threads; ++i) {
        running.emplace_back([&, i] {
            auto r = refresh(i);
            got[i] = r ? r->refreshToken : "error: " + r.error().message;
        });
    }
    for (auto& t : running) t.join();
    for (const auto& g : got) EXPECT_EQ(g, got[0]);
    EXPECT_TRUE(models::isWellFormedRefreshToken(got[0])) << got[0];
    EXPECT_EQ(observer.count(models::RefreshOutcome::Rotated), 1u);
    EXPECT_EQ(observer.count(models::RefreshOutcome::Retried), size_t(threads - 1));
    EXPECT_TRUE(observer.reuses.empty());
}

}  // namespace authsvc::testing
