// Signing keys in the database (jwt.key_store: database, issue 24): the first instance
// creates a key, the schedule rotates it (next -> current -> retired -> deleted) with no
// refused token, `authsvc keys list|rotate|import`, a wrong key_encryption_key stops the
// start with nothing overwritten. On PostgreSQL and MariaDB also three instances on one
// store: every token of any instance verifies at every instance across rotations, and their
// JWKS agree within key_poll; a kill -9 during the steps leaves one current key; and the
// example resource service verifies every token through the JWKS across a rotation.
#include <signal.h>
#include <sys/stat.h>

#include <atomic>
#include <map>
#include <random>
#include <set>
#include <sstream>
#include <thread>

#include "support/Harness.h"

namespace it {
namespace {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

// Standard base64 with padding, as jwt.key_encryption_key takes it.
std::string base64Std(const std::string& bytes) {
    std::string b = base64UrlEncode(bytes);
    for (char& ch : b) ch = ch == '-' ? '+' : ch == '_' ? '/' : ch;
    while (b.size() % 4 != 0) b += '=';
    return b;
}

std::string newKek() {
    return base64Std(randomString(32));
}

// jwt.key_store: database with this KEK and schedule (the HS256 secret off).
json keyStoreConfig(const std::string& kek, const std::string& period, const std::string& poll,
                    const std::string& maxAge, const std::string& accessTtl) {
    return {{"jwt",
             {{"secret", ""},
              {"key_store", "database"},
              {"key_encryption_key", kek},
              {"key_poll", poll},
              {"jwks_max_age", maxAge},
              {"access_ttl", accessTtl},
              {"leeway", "0s"},
              {"rotation", {{"period", period}}}}}};
}

std::string kidOf(const std::string& token) {
    auto parts = decodeJwt(token);
    return parts ? parts->first.value("kid", "") : "";
}

// The kids of a JWKS document, sorted.
std::set<std::string> jwksKids(const HttpResponse& r) {
    std::set<std::string> kids;
    const json doc = r.jsonBody();
    if (doc.is_object() && doc.contains("keys")) {
        for (const auto& k : doc["keys"]) kids.insert(k.value("kid", ""));
    }
    return kids;
}

// `authsvc keys ...` with the server's config file.
CommandResult keysCli(ServerProcess& s, std::vector<std::string> args,
                      const std::map<std::string, std::string>& env = {}) {
    args.insert(args.begin(), {"keys"});
    args.push_back("--config");
    args.push_back(s.configPath().string());
    return runAuthsvc(args, s.dir(), "", env);
}

// "kid state" of each `keys list` line.
std::vector<std::pair<std::string, std::string>> listed(const CommandResult& r) {
    std::vector<std::pair<std::string, std::string>> out;
    for (const auto& line : splitLines(r.out)) {
        std::istringstream in(line);
        std::string kid, alg, state;
        in >> kid >> alg >> state;
        if (!kid.empty()) out.emplace_back(kid, state);
    }
    return out;
}

// A user logged in at one instance, whose refreshes give fresh access tokens cheaply.
struct Session {
    int port = 0;
    std::string refreshToken;
    std::string nextAccess() {
        HttpClient c(port);
        const HttpResponse r = refresh(c, refreshToken);
        EXPECT_EQ(r.status, 200) << r;
        if (r.status != 200) return "";
        refreshToken = r.jsonBody().value("refresh_token", "");
        return r.jsonBody().value("access_token", "");
    }
};

Session sessionAt(int port) {
    HttpClient c(port);
    const std::string email = uniqueEmail("keys");
    EXPECT_EQ(registerUser(c, email, kPassword).status, 201);
    return {port, login(c, email, kPassword).refresh};
}

// ---------------------------------------------------------------- one instance

class KeyStoreTest : public ::testing::Test {
  protected:
    std::unique_ptr<ServerProcess> server;
    std::string kek = newKek();
};

TEST_F(KeyStoreTest, TheFirstStartCreatesAKeyThatSignsAndIsPublishedSealed) {
    server = std::make_unique<ServerProcess>(keyStoreConfig(kek, "30d", "10s", "5m", "15m"));
    ASSERT_TRUE(server->start()) << server->logTail();
    HttpClient c(server->port());
    const std::string email = uniqueEmail("keys");
    ASSERT_EQ(registerUser(c, email, kPassword).status, 201);
    const Tokens t = login(c, email, kPassword);
    const auto parts = decodeJwt(t.access);
    ASSERT_TRUE(parts);
    EXPECT_EQ(parts->first.value("alg", ""), "ES256");
    const std::string kid = kidOf(t.access);
    EXPECT_EQ(jwksKids(c.get("/.well-known/jwks.json")), std::set<std::string>{kid});
    EXPECT_EQ(c.getWithToken("/api/me", t.access).status, 200);

    const CommandResult list = keysCli(*server, {"list"});
    ASSERT_EQ(list.exitCode, 0) << list.err;
    EXPECT_EQ(listed(list), (std::vector<std::pair<std::string, std::string>>{{kid, "current"}}));
    // kid, algorithm, state, created, promoted, retires
    EXPECT_EQ(splitLines(list.out)[0].rfind(kid + " ES256 current 20", 0), 0u) << list.out;
    // Never in clear in the store, nor in the log.
    const std::string sealed =
        pgMode() ? pgExec(server->pgDsn(), "SELECT sealed_key FROM signing_keys")[0]
        : mysqlMode()
            ? mysqlExec(server->mysqlDsn(), "SELECT sealed_key FROM signing_keys")[0]
            : SqliteAdmin(server->dbPath()).column("SELECT sealed_key FROM signing_keys")[0];
    EXPECT_EQ(sealed.find("PRIVATE"), std::string::npos);
    EXPECT_EQ(server->log().find("PRIVATE"), std::string::npos);
    EXPECT_EQ(server->log().find(kek), std::string::npos);
    // A restart keeps the key.
    ASSERT_TRUE(server->restart()) << server->logTail();
    HttpClient again(server->port());
    EXPECT_EQ(again.getWithToken("/api/me", t.access).status, 200);
    EXPECT_EQ(listed(keysCli(*server, {"list"})).size(), 1u);
}

TEST_F(KeyStoreTest, RotatesOnTheScheduleAndEveryTokenVerifiesUntilItExpires) {
    // period 2 s, key_poll 500 ms, jwks_max_age 1 s: a key is promoted 2 s after it is
    // created and deleted 1 + 6 s after it retired.
    server = std::make_unique<ServerProcess>(keyStoreConfig(kek, "2s", "500ms", "1s", "6s"));
    ASSERT_TRUE(server->start()) << server->logTail();
    Session session = sessionAt(server->port());
    HttpClient c(server->port());
    struct Issued {
        std::string token;
        Clock::time_point at;
    };
    std::vector<Issued> issued;
    std::set<std::string> kids;
    const auto end = Clock::now() + 10s;
    while (Clock::now() < end) {
        const std::string token = session.nextAccess();
        ASSERT_FALSE(token.empty());
        kids.insert(kidOf(token));
        issued.push_back({token, Clock::now()});
        for (const auto& i : issued) {
            if (Clock::now() - i.at > 4s) continue;  // inside access_ttl (whole seconds)
            const HttpResponse r = c.getWithToken("/api/me", i.token);
            ASSERT_EQ(r.status, 200)
                << "a token of kid " << kidOf(i.token) << " was refused: " << r;
        }
        std::this_thread::sleep_for(150ms);
    }
    EXPECT_GE(kids.size(), 3u) << "fewer rotations than the schedule makes";
    // Retired keys are deleted (the first 1 + 6 s after it retired): the store holds a few
    // keys, not one per rotation.
    const std::string log = server->waitForLog("signing keys: deleted ", 15s);
    EXPECT_NE(log.find("signing keys: deleted "), std::string::npos);
    const auto keys = listed(keysCli(*server, {"list"}));
    EXPECT_LE(keys.size(), 5u);
    int current = 0;
    for (const auto& [kid, state] : keys) current += state == "current";
    EXPECT_EQ(current, 1);
}

TEST_F(KeyStoreTest, AWrongKeyEncryptionKeyStopsTheStartAndChangesNothing) {
    server = std::make_unique<ServerProcess>(keyStoreConfig(kek, "30d", "10s", "5m", "15m"));
    ASSERT_TRUE(server->start()) << server->logTail();
    ASSERT_EQ(keysCli(*server, {"rotate"}).exitCode, 0);
    const CommandResult before = keysCli(*server, {"list"});
    ASSERT_EQ(listed(before).size(), 2u) << before.out << before.err;
    ASSERT_EQ(server->stop(), 0);

    // Another KEK from the environment (AUTHSVC_JWT_KEY_ENCRYPTION_KEY), over the file's.
    const std::map<std::string, std::string> wrong = {{"AUTHSVC_JWT_KEY_ENCRYPTION_KEY", newKek()}};
    const CommandResult serve = runAuthsvc({"serve", "--config", server->configPath().string()},
                                           server->dir(), "", wrong, 30s);
    EXPECT_FALSE(serve.timedOut);
    EXPECT_NE(serve.exitCode, 0);
    const std::string said = serve.out + serve.err + server->log();
    EXPECT_NE(said.find("does not open with jwt.key_encryption_key"), std::string::npos) << said;
    EXPECT_EQ(keysCli(*server, {"rotate"}, wrong).exitCode, 1);
    EXPECT_EQ(keysCli(*server, {"list"}, wrong).exitCode, 0);  // list reads public parts only
    // Nothing overwritten: the right key still opens every key, unchanged.
    const CommandResult after = keysCli(*server, {"list"});
    EXPECT_EQ(after.out, before.out);
    ASSERT_TRUE(server->start()) << server->logTail();
}

TEST_F(KeyStoreTest, AMissingOrShortKeyEncryptionKeyIsAConfigError) {
    for (const std::string& bad : {std::string(""), base64Std(randomString(16))}) {
        server = std::make_unique<ServerProcess>(keyStoreConfig(bad, "30d", "10s", "5m", "15m"));
        server->writeConfig();
        const CommandResult r = runAuthsvc({"serve", "--config", server->configPath().string()},
                                           server->dir(), "", {}, 30s);
        EXPECT_EQ(r.exitCode, 2) << r.err;
        EXPECT_NE(r.err.find("jwt.key_encryption_key"), std::string::npos) << r.err;
    }
}

TEST_F(KeyStoreTest, RotateAndImportFromAKeysDir) {
    server = std::make_unique<ServerProcess>(keyStoreConfig(kek, "30d", "500ms", "1s", "15m"));
    // The keys_dir of a files deployment: two keys, one of which signs.
    const fs::path keysDir = server->dir() / "keys";
    server->config()["jwt"]["keys_dir"] = keysDir.string();
    server->writeConfig();
    const CommandResult gen1 = keysCli(*server, {"generate", "--kid", "files-old"});
    const CommandResult gen2 = keysCli(*server, {"generate", "--kid", "files-signing"});
    ASSERT_EQ(gen1.exitCode, 0) << gen1.err;
    ASSERT_EQ(gen2.exitCode, 0) << gen2.err;
    const CommandResult imported =
        keysCli(*server, {"import", keysDir.string(), "--signing-kid", "files-signing"});
    ASSERT_EQ(imported.exitCode, 0) << imported.err;
    EXPECT_EQ(listed(keysCli(*server, {"list"})),
              (std::vector<std::pair<std::string, std::string>>{{"files-old", "retired"},
                                                                {"files-signing", "current"}}));
    ASSERT_TRUE(server->start()) << server->logTail();
    HttpClient c(server->port());
    Session session = sessionAt(server->port());
    EXPECT_EQ(kidOf(session.nextAccess()), "files-signing");

    // rotate: a next key at once, published, promoted 2 s later; a second rotate refused.
    const CommandResult rotated = keysCli(*server, {"rotate"});
    ASSERT_EQ(rotated.exitCode, 0) << rotated.err;
    EXPECT_NE(rotated.out.find("next"), std::string::npos) << rotated.out;
    EXPECT_EQ(keysCli(*server, {"rotate"}).exitCode, 1);
    std::string next;
    for (const auto& [kid, state] : listed(keysCli(*server, {"list"}))) {
        if (state == "next") next = kid;
    }
    ASSERT_FALSE(next.empty());
    const auto deadline = Clock::now() + 20s;
    std::string signer;
    while (Clock::now() < deadline && (signer = kidOf(session.nextAccess())) != next) {
        std::this_thread::sleep_for(100ms);
    }
    EXPECT_EQ(signer, next) << "the rotated key never signed";
    EXPECT_EQ(jwksKids(c.get("/.well-known/jwks.json")).count("files-signing"), 1u);
}

TEST_F(KeyStoreTest, TheFileStoreStaysTheDefaultAndTheStoreCommandsNeedTheDatabase) {
    server = std::make_unique<ServerProcess>();
    ASSERT_TRUE(server->start()) << server->logTail();
    const CommandResult r = keysCli(*server, {"rotate"});
    EXPECT_EQ(r.exitCode, 1);
    EXPECT_NE(r.err.find("jwt.key_store: database"), std::string::npos) << r.err;
    HttpClient c(server->port());
    Session session = sessionAt(server->port());
    EXPECT_EQ(kidOf(session.nextAccess()), "");  // HS256 as before
}

// ------------------------------------------------------- three instances (PostgreSQL, MariaDB)

class KeyStoreScaleOutTest : public ::testing::Test {
  protected:
    void SetUp() override {
        if (!serverDbMode()) GTEST_SKIP() << "PostgreSQL or MariaDB: three instances share a DB";
    }
    void TearDown() override {
        for (size_t i = servers.size(); i-- > 1;) servers[i].reset();  // A drops the database
        servers.clear();
    }
    // Three instances on one database, started at once (the first key is made by one).
    void startThree(const json& config) {
        json common = config;
        common["refresh"] = {{"secret", randomString(48)}};
        servers.push_back(std::make_unique<ServerProcess>(common));
        json shared = common;
        shared.merge_patch(servers[0]->sharedDatabaseOverrides());
        servers.push_back(std::make_unique<ServerProcess>(shared));
        servers.push_back(std::make_unique<ServerProcess>(shared));
        std::vector<std::thread> starting;
        std::atomic<int> started{0};
        for (auto& s : servers) {
            starting.emplace_back([&s, &started] { started += s->start() ? 1 : 0; });
        }
        for (auto& t : starting) t.join();
        ASSERT_EQ(started.load(), 3)
            << servers[0]->logTail() << servers[1]->logTail() << servers[2]->logTail();
    }
    std::vector<std::set<std::string>> allJwks() {
        std::vector<std::set<std::string>> out;
        for (auto& s : servers) {
            HttpClient c(s->port());
            out.push_back(jwksKids(c.get("/.well-known/jwks.json")));
        }
        return out;
    }
    std::map<std::string, int> statesInStore() {
        std::map<std::string, int> out;
        const std::string sql = "SELECT state FROM signing_keys";
        for (const auto& state :
             pgMode() ? pgExec(servers[0]->pgDsn(), sql) : mysqlExec(servers[0]->mysqlDsn(), sql)) {
            ++out[state];
        }
        return out;
    }
    // Counts the log lines, over the three logs, that contain `needle`.
    size_t linesInLogs(const std::string& needle) {
        size_t n = 0;
        for (auto& s : servers) {
            for (const auto& line : splitLines(s->log()))
                n += line.find(needle) != std::string::npos;
        }
        return n;
    }

    std::string kek = newKek();
    std::vector<std::unique_ptr<ServerProcess>> servers;
};

// Tracks how long a condition has been false: fails when it stays false longer than `limit`.
class Window {
  public:
    explicit Window(Clock::duration limit) : limit_(limit) {}
    // True while the condition has not been false for longer than the limit.
    bool observe(bool ok) {
        const auto now = Clock::now();
        if (ok) {
            failing_ = false;
            return true;
        }
        if (!failing_) since_ = now;
        failing_ = true;
        longest_ = std::max(longest_, now - since_);
        return now - since_ <= limit_;
    }
    double longestSeconds() const { return std::chrono::duration<double>(longest_).count(); }

  private:
    Clock::duration limit_;
    bool failing_ = false;
    Clock::time_point since_{};
    Clock::duration longest_{0};
};

TEST_F(KeyStoreScaleOutTest, EveryTokenVerifiesEverywhereAcrossRotationsAndTheJwksAgree) {
    // period 4 s, key_poll 1 s, jwks_max_age 2 s: a rotation every 4 s, a next key
    // published 4 s before it signs.
    startThree(keyStoreConfig(kek, "4s", "1s", "2s", "8s"));
    EXPECT_EQ(linesInLogs("signing keys: created the first key"), 1u);
    std::vector<Session> sessions;
    for (auto& s : servers) sessions.push_back(sessionAt(s->port()));
    std::vector<std::unique_ptr<HttpClient>> clients;
    for (auto& s : servers) clients.push_back(std::make_unique<HttpClient>(s->port()));

    struct Issued {
        std::string token;
        Clock::time_point at;
        bool checkedLate = false;
    };
    std::vector<Issued> issued;
    std::set<std::string> kids;
    // Within key_poll (1 s) the instances agree; 2 s more for a loaded machine.
    Window jwksAgree(3s), signersAgree(3s);
    // A client that caches the JWKS for jwks_max_age, fetched from each instance in turn:
    // it must know the kid of every token.
    std::set<std::string> cachedKids;
    Clock::time_point cachedAt{};
    size_t fetches = 0;
    const auto checkCached = [&](const std::string& kid) {
        if (fetches == 0 || Clock::now() - cachedAt >= 2s) {
            cachedKids =
                jwksKids(clients[fetches++ % clients.size()]->get("/.well-known/jwks.json"));
            cachedAt = Clock::now();  // after the answer: the longest a client may keep it
        }
        EXPECT_EQ(cachedKids.count(kid), 1u)
            << "a client caching the JWKS for jwks_max_age saw the unknown kid " << kid;
    };
    const auto verifyEverywhere = [&](const std::string& token, const std::string& when) {
        for (size_t j = 0; j < clients.size(); ++j) {
            const HttpResponse r = clients[j]->getWithToken("/api/me", token);
            EXPECT_EQ(r.status, 200) << "a token of kid " << kidOf(token) << " refused " << when
                                     << " by instance " << j << ": " << r;
        }
    };
    const auto end = Clock::now() + 16s;
    while (Clock::now() < end && !::testing::Test::HasFailure()) {
        std::set<std::string> signers;
        for (auto& session : sessions) {
            const std::string token = session.nextAccess();
            ASSERT_FALSE(token.empty());
            signers.insert(kidOf(token));
            kids.insert(kidOf(token));
            checkCached(kidOf(token));
            verifyEverywhere(token, "at once");
            issued.push_back({token, Clock::now()});
        }
        for (auto& i : issued) {
            if (!i.checkedLate && Clock::now() - i.at >= 4s) {
                verifyEverywhere(i.token, "4 s after");
                i.checkedLate = true;
            }
        }
        const auto jwks = allJwks();
        EXPECT_TRUE(jwksAgree.observe(jwks[0] == jwks[1] && jwks[1] == jwks[2]))
            << "the instances served different JWKS for longer than key_poll";
        EXPECT_TRUE(signersAgree.observe(signers.size() == 1))
            << "the instances signed with different keys for longer than key_poll";
        std::this_thread::sleep_for(200ms);
    }
    EXPECT_GE(kids.size(), 3u) << "fewer rotations than the schedule makes";
    // Each step was taken by exactly one instance.
    for (const auto& kid : kids) {
        EXPECT_LE(linesInLogs("promoted " + kid + " to current"), 1u) << kid;
    }
    EXPECT_EQ(statesInStore()["current"], 1);
    std::cout << "[ info ] " << kids.size() << " keys signed; JWKS differed at most "
              << jwksAgree.longestSeconds() << " s, signers at most "
              << signersAgree.longestSeconds() << " s\n";
}

TEST_F(KeyStoreScaleOutTest, AKill9DuringTheStepsLeavesExactlyOneCurrentKey) {
    // A step every few hundred ms: the kills land on some.
    startThree(keyStoreConfig(kek, "1s", "300ms", "0s", "3s"));
    std::mt19937 rng(std::random_device{}());
    const auto end = Clock::now() + 10s;
    int kills = 0;
    while (Clock::now() < end) {
        std::this_thread::sleep_for(std::chrono::milliseconds(300 + rng() % 600));
        ServerProcess& victim = *servers[rng() % servers.size()];
        victim.kill9();
        ++kills;
        const auto states = statesInStore();
        EXPECT_EQ(states.count("current") ? states.at("current") : 0, 1);
        EXPECT_LE(states.count("next") ? states.at("next") : 0, 1);
        ASSERT_TRUE(victim.restart()) << victim.logTail();
    }
    // Once every instance has polled, they agree, and every token verifies everywhere.
    std::this_thread::sleep_for(1s);
    const auto states = statesInStore();
    EXPECT_EQ(states.count("current") ? states.at("current") : 0, 1);
    const auto agreeBy = Clock::now() + 5s;
    std::vector<std::set<std::string>> jwks;
    do {
        std::this_thread::sleep_for(100ms);
        jwks = allJwks();
    } while (!(jwks[0] == jwks[1] && jwks[1] == jwks[2]) && Clock::now() < agreeBy);
    EXPECT_TRUE(jwks[0] == jwks[1] && jwks[1] == jwks[2]);
    for (auto& s : servers) {
        const std::string token = sessionAt(s->port()).nextAccess();
        for (auto& other : servers) {
            HttpClient c(other->port());
            EXPECT_EQ(c.getWithToken("/api/me", token).status, 200);
        }
    }
    std::cout << "[ info ] " << kills << " instances killed with SIGKILL\n";
}

TEST_F(KeyStoreScaleOutTest, TheResourceServiceVerifiesEveryTokenThroughTheJwksAcrossARotation) {
    // jwks_max_age 30 s (the verify library refetches at most every 30 s), key_poll 500 ms:
    // a next key is published 31 s before it signs. Period 30 s: the first rotation is at
    // about 61 s, the shortest the rules allow with this max-age.
    startThree(keyStoreConfig(kek, "30s", "500ms", "30s", "5m"));
    std::vector<Session> sessions;
    for (auto& s : servers) sessions.push_back(sessionAt(s->port()));
    ResourceServiceProcess example(
        "http://127.0.0.1:" + std::to_string(servers[0]->port()) + "/.well-known/jwks.json",
        "authsvc", "authsvc-clients");
    ASSERT_TRUE(example.start()) << example.log();
    HttpClient rs(example.port(), Peer::OtherService);
    std::set<std::string> kids;
    std::vector<std::string> tokens;
    int verified = 0;
    const auto deadline = Clock::now() + 100s;  // ctest's timeout is 120 s
    std::optional<Clock::time_point> rotatedAt;
    size_t turn = 0;
    while (Clock::now() < deadline && (!rotatedAt || Clock::now() - *rotatedAt < 4s)) {
        const std::string token = sessions[turn++ % sessions.size()].nextAccess();
        ASSERT_FALSE(token.empty());
        if (kids.insert(kidOf(token)).second && kids.size() == 2) rotatedAt = Clock::now();
        const HttpResponse r = rs.getWithToken("/api/protected-resource", token);
        ASSERT_EQ(r.status, 200) << "the resource service refused a token of kid " << kidOf(token)
                                 << ": " << r << "\n"
                                 << example.log();
        ++verified;
        tokens.push_back(token);
        std::this_thread::sleep_for(500ms);
    }
    EXPECT_EQ(kids.size(), 2u) << "no rotation within the deadline";
    // The tokens of the retired key still verify (it stays published).
    for (const auto& token : tokens) {
        EXPECT_EQ(rs.getWithToken("/api/protected-resource", token).status, 200) << kidOf(token);
    }
    std::cout << "[ info ] " << verified << " tokens verified by the resource service\n";
}

}  // namespace
}  // namespace it
