// Crash safety of refresh-token rotation: authsvc killed with SIGKILL at a random moment while
// 16 clients rotate their own families, then restarted on the same database, three times.
//
// What "acknowledged" means: a rotation is acknowledged when its client received the 200 with
// the successor. Each client keeps only the last successor answered with 200; the request in
// flight at the kill (if any) presented that token and got no answer, so it may or may not have
// been applied. After the restart, presenting the last acknowledged token must give 200 either
// way: not applied, it rotates now; applied, it is a retry inside the grace window and returns
// the same successor, whose hash the database already holds. So, per family:
// - the last acknowledged token is in the database (no acknowledged rotation lost), and the
//   family holds exactly the login token plus one per acknowledged rotation, plus at most the
//   one in flight;
// - exactly one token of the family is unused, every used one has its successor stored (no
//   family half-rotated), and the family is not revoked;
// - after the restart the last acknowledged token refreshes with 200 (and when the database
//   showed the rotation in flight applied, with the successor stored by it), and the chain goes
//   on: the next round starts from there.
// The database is checked while authsvc is dead (exactly what the crash left), on SQLite
// through the file, on PostgreSQL through libpq.
#include <sodium.h>

#include <atomic>
#include <iostream>
#include <map>
#include <random>
#include <sstream>
#include <thread>

#include "support/Harness.h"

namespace it {
namespace {

std::string sha256Hex(const std::string& text) {
    const std::string digest = authsvc::verify::sha256(text);
    char hex[2 * 32 + 1];
    return sodium_bin2hex(hex, sizeof hex, reinterpret_cast<const unsigned char*>(digest.data()),
                          digest.size());
}

// One client's family, as the client knows it.
struct Family {
    std::string lastAcked;  // the refresh token of the last 200 (the login's at first)
    int acked = 0;          // rotations answered with 200 since the login
    std::string problem;    // a response that must not happen before the kill
};

// One thread and keep-alive connection per family, rotating until the connection fails (the
// kill) or stop().
class Rotators {
  public:
    Rotators(int port, std::vector<Family>& families) : families_(families) {
        for (auto& f : families_) threads_.emplace_back([this, port, &f] { run(port, f); });
    }
    ~Rotators() { stop(); }
    void stop() {
        stop_ = true;
        for (auto& t : threads_) {
            if (t.joinable()) t.join();
        }
    }
    int acked() const { return acked_; }

  private:
    void run(int port, Family& f) {
        HttpClient c(port);
        c.setTimeoutMs(10000);
        while (!stop_) {
            const HttpResponse r = refresh(c, f.lastAcked);
            if (r.status == 0) return;  // the server is gone: this answer never arrived
            const std::string next = r.jsonBody().value("refresh_token", "");
            if (r.status != 200 || next.empty()) {
                std::ostringstream os;
                os << "before the kill: " << r;
                f.problem = os.str();
                return;
            }
            f.lastAcked = next;
            ++f.acked;
            ++acked_;
        }
    }

    std::vector<Family>& families_;
    std::vector<std::thread> threads_;
    std::atomic<bool> stop_{false};
    std::atomic<int> acked_{0};
};

// A family as the database holds it, seen from its last acknowledged token.
struct StoredFamily {
    bool found = false;  // the token's row exists
    long tokens = 0, unused = 0, withoutSuccessor = 0, live = 0;
    std::string successorHash;  // of the last acknowledged token, if it was used ("" if not)
};

class CrashTest : public ServiceTest {
  protected:
    // The restart must come back within the grace window for the retry of the rotation in
    // flight to return its successor; a generous one keeps a slow machine from turning an
    // honest retry into reuse (which the grace tests cover).
    json overrides() const override { return {{"refresh", {{"reuse_grace", "120s"}}}}; }

    std::vector<std::string> query(const std::string& sql) {
        if (pgMode()) return pgExec(server->pgDsn(), sql);
        if (mysqlMode()) return mysqlExec(server->mysqlDsn(), sql);
        return SqliteAdmin(server->dbPath()).column(sql);
    }

    // The families as stored, in the order given (found false where the last acknowledged
    // token is not in the database). One statement for all, one round trip.
    std::vector<StoredFamily> stored(const std::vector<Family>& families) {
        // Hashes are stored as their 32 bytes: written as hex literals, read as hex.
        const bool pg = pgMode();
        auto literal = [pg](const std::string& hex) {
            return pg ? "decode('" + hex + "', 'hex')" : "x'" + hex + "'";
        };
        auto asHex = [pg](const std::string& column) {
            return pg ? "encode(" + column + ", 'hex')" : "lower(hex(" + column + "))";
        };
        std::string hashes;
        for (const auto& f : families) {
            hashes += (hashes.empty() ? "" : ", ") + literal(sha256Hex(f.lastAcked));
        }
        const auto rows = query(
            "SELECT " + asHex("t.token_hash") +
            " || '|' || (SELECT count(*) FROM refresh_tokens a WHERE a.family_id = t.family_id)"
            " || '|' || (SELECT count(*) FROM refresh_tokens a WHERE a.family_id = t.family_id"
            "            AND a.used_ms IS NULL)"
            " || '|' || (SELECT count(*) FROM refresh_tokens a WHERE a.family_id = t.family_id"
            "            AND a.used_ms IS NOT NULL AND NOT EXISTS (SELECT 1 FROM refresh_tokens b"
            "            WHERE b.family_id = a.family_id AND b.token_hash = a.successor_hash))"
            " || '|' || (SELECT count(*) FROM refresh_families f WHERE f.id = t.family_id"
            "            AND f.revoked_ms IS NULL)"
            " || '|' || CASE WHEN t.used_ms IS NULL THEN '' ELSE " +
            asHex("t.successor_hash") + " END FROM refresh_tokens t WHERE t.token_hash IN (" +
            hashes + ")");
        std::map<std::string, StoredFamily> byHash;
        for (const auto& row : rows) {
            std::vector<std::string> parts;
            std::istringstream in(row + "|");
            for (std::string p; std::getline(in, p, '|');) parts.push_back(p);
            if (parts.size() != 6) throw std::runtime_error("unexpected row: " + row);
            StoredFamily& s = byHash[parts[0]];
            s.found = true;
            s.tokens = std::stol(parts[1]);
            s.unused = std::stol(parts[2]);
            s.withoutSuccessor = std::stol(parts[3]);
            s.live = std::stol(parts[4]);
            s.successorHash = parts[5];
        }
        std::vector<StoredFamily> out;
        for (const auto& f : families) out.push_back(byHash[sha256Hex(f.lastAcked)]);
        return out;
    }
};

TEST_F(CrashTest, KilledWhileRotatingLosesNoAcknowledgedRotation) {
    constexpr int kClients = 16;
    constexpr int kRounds = 3;
    const auto [email, id] = newUser();
    std::vector<Family> families(kClients);
    for (auto& f : families) {
        f.lastAcked = login(*client, email, kPassword).refresh;
        ASSERT_FALSE(f.lastAcked.empty());
    }
    std::random_device seed;
    std::mt19937 rng(seed());
    std::uniform_int_distribution<int> killAfterMs(0, 1000);
    int appliedInFlight = 0;

    for (int round = 1; round <= kRounds; ++round) {
        SCOPED_TRACE("round " + std::to_string(round));
        const int delayMs = killAfterMs(rng);
        int ackedThisRound = 0;
        {
            Rotators rotators(server->port(), families);
            // Under way first (connected, rotating), then a random moment later.
            const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
            while (rotators.acked() < 2 * kClients && std::chrono::steady_clock::now() < deadline) {
                std::this_thread::sleep_for(std::chrono::milliseconds(1));
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(delayMs));
            server->kill9();
            rotators.stop();
            ackedThisRound = rotators.acked();
        }
        std::cout << "round " << round << ": killed " << delayMs << " ms into the load, "
                  << ackedThisRound << " rotations acknowledged" << std::endl;
        ASSERT_GE(ackedThisRound, 2 * kClients) << "too little load before the kill";
        for (const auto& f : families) ASSERT_TRUE(f.problem.empty()) << f.problem;

        // What the crash left, before anything could repair it.
        const std::vector<StoredFamily> atRest = stored(families);
        int appliedThisRound = 0;
        for (size_t i = 0; i < families.size(); ++i) {
            const Family& f = families[i];
            SCOPED_TRACE("family " + std::to_string(i) + " after " + std::to_string(f.acked) +
                         " acknowledged rotations");
            const StoredFamily& s = atRest[i];
            ASSERT_TRUE(s.found) << "the last acknowledged token is not in the database: an "
                                    "acknowledged rotation was lost";
            const bool applied = !s.successorHash.empty();
            appliedThisRound += applied ? 1 : 0;
            EXPECT_EQ(s.tokens, f.acked + 1 + (applied ? 1 : 0))
                << "tokens stored vs. the login's plus one per acknowledged rotation"
                << (applied ? " plus the one in flight" : "");
            EXPECT_EQ(s.unused, 1) << "a family must hold exactly one unused token";
            EXPECT_EQ(s.withoutSuccessor, 0) << "half-rotated: a used token without its successor";
            EXPECT_EQ(s.live, 1) << "the family was revoked";
        }
        std::cout << "round " << round << ": " << appliedThisRound
                  << " families with the rotation in flight applied" << std::endl;
        appliedInFlight += appliedThisRound;
        if (HasFailure()) return;

        ASSERT_TRUE(server->restart()) << server->logTail();
        client->setPort(server->port());
        for (size_t i = 0; i < families.size(); ++i) {
            Family& f = families[i];
            SCOPED_TRACE("family " + std::to_string(i));
            const HttpResponse r = refresh(*client, f.lastAcked);
            ASSERT_EQ(r.status, 200) << "the last acknowledged token did not refresh: " << r;
            const std::string next = r.jsonBody().value("refresh_token", "");
            if (!atRest[i].successorHash.empty()) {
                EXPECT_EQ(sha256Hex(next), atRest[i].successorHash)
                    << "the retry of the rotation in flight gave another successor";
            }
            f.lastAcked = next;
            ++f.acked;
        }
    }
    std::cout << "rotations in flight and applied at the kills: " << appliedInFlight << " of "
              << kRounds * kClients << " family states" << std::endl;

    // Every family goes on after the last round: its newest token rotates, and the database
    // holds one unused token per family.
    for (auto& f : families) {
        const HttpResponse r = refresh(*client, f.lastAcked);
        ASSERT_EQ(r.status, 200) << r;
        f.lastAcked = r.jsonBody().value("refresh_token", "");
        ++f.acked;
    }
    const std::vector<StoredFamily> atEnd = stored(families);
    for (size_t i = 0; i < families.size(); ++i) {
        const Family& f = families[i];
        const StoredFamily& s = atEnd[i];
        EXPECT_TRUE(s.found);
        EXPECT_EQ(s.unused, 1);
        EXPECT_EQ(s.withoutSuccessor, 0);
        // The rotations in flight at the kills are acknowledged now (by their retry).
        EXPECT_EQ(s.tokens, f.acked + 1);
    }
    EXPECT_TRUE(server->running());
}

}  // namespace
}  // namespace it
