// bench_seed BACKEND TARGET COUNT OUTFILE EMAIL
//   BACKEND  sqlite | postgresql | mysql
//   TARGET   the SQLite file, or the PostgreSQL or MySQL DSN
//   COUNT    refresh families to create, each with one fresh refresh token
//   OUTFILE  the clear refresh tokens, one per line (for bench/refresh.lua, bench/mixed.lua)
//   EMAIL    the user owning the families (created with a random password if missing)
// Seeds the database directly through the model layer, as AuthService::login would:
// migrations, then in ONE write transaction COUNT families (expiring now + 14 d) each
// with a token of 32 CSPRNG bytes in base64url whose SHA-256 is stored (the rows of
// RefreshTokenRepository::createFamily/insertToken, written in bulk), then
// RefreshTokenRepository::findByHash checks a seeded token. The clear tokens exist only
// in OUTFILE. 200k tokens take a few seconds.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "common/Crypto.h"
#include "models/Database.h"
#include "models/Migrator.h"
#include "models/RefreshTokenRepository.h"
#include "models/UserRepository.h"
#include "services/PasswordHasher.h"
#include "verify/Base64Url.h"
#include "verify/Clock.h"
#include "verify/Sha256.h"

using namespace authsvc::models;
using authsvc::verify::SystemClock;

namespace {

constexpr int64_t kFamilyTtlMs = 14LL * 24 * 3600 * 1000;  // refresh.ttl as shipped

int usage(const char* argv0) {
    std::fprintf(stderr, "usage: %s sqlite|postgresql|mysql PATH|DSN COUNT OUTFILE EMAIL\n", argv0);
    return 2;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc != 6) return usage(argv[0]);
    const std::string backend = argv[1];
    const long count = std::atol(argv[3]);
    const std::string outPath = argv[4];
    const std::string email = argv[5];
    if ((backend != "sqlite" && backend != "postgresql" && backend != "mysql") || count < 0)
        return usage(argv[0]);

    try {
        crypto::init();
        DatabaseSettings settings;
        settings.poolSize = 1;
        settings.timeout = std::chrono::milliseconds(30000);
        if (backend == "sqlite") {
            settings.dialect = Dialect::Sqlite;
            settings.sqlitePath = argv[2];
        } else if (backend == "mysql") {
            settings.dialect = Dialect::Mysql;
            settings.mysqlDsn = argv[2];
        } else {
            settings.dialect = Dialect::Postgresql;
            settings.postgresqlDsn = argv[2];
        }
        Database db(settings);
        SystemClock clock;
        Migrator(db, clock).migrate();
        if (settings.dialect == Dialect::Sqlite) {
            // One big transaction with random-key index inserts: keep the pages in memory
            // (256 MiB for this seeding connection only) instead of spilling to the WAL.
            db.read([](soci::session& s) { s << "PRAGMA cache_size=-262144"; });
        }

        UserRepository users;
        RefreshTokenRepository tokens;
        auto user = db.read([&](soci::session& s) { return users.findByEmail(s, email); });
        int64_t userId = 0;
        if (user) {
            userId = user->id;
        } else {
            PasswordHasher hasher(Argon2Params{});
            const std::string hash =
                hasher.hash(authsvc::verify::base64UrlEncode(crypto::randomBytes(24)));
            auto id = db.write(
                [&](soci::session& s) { return users.insert(s, email, hash, clock.nowSeconds()); });
            if (!id) throw std::runtime_error("could not create the user " + email);
            userId = *id;
        }

        const auto start = std::chrono::steady_clock::now();
        std::vector<std::string> clear;
        clear.reserve(size_t(count));
        const int64_t now = clock.nowMs();
        db.write([&](soci::session& s) {
            // The rows RefreshTokenRepository::createFamily and insertToken write. SQLite:
            // two statements prepared once (re-preparing per row made 200k rows take 20 s).
            // PostgreSQL: multi-row INSERTs of kBatch rows (one round trip per row was
            // 4k rows/s); the values are base64url, hex and integers, nothing to escape.
            std::string familyId, tokenHash;
            long long user = userId, created = now, expires = now + kFamilyTtlMs, tokenId = 0;
            if (settings.dialect != Dialect::Sqlite) {
                // MySQL: the same, with UNHEX() for decode().
                const bool pg = settings.dialect == Dialect::Postgresql;
                const std::string unhex = pg ? "decode('" : "UNHEX('";
                const std::string unhexEnd = pg ? "','hex')" : "')";
                constexpr long kBatch = 1000;
                for (long first = 0; first < count; first += kBatch) {
                    std::string families =
                        "INSERT INTO refresh_families (id, user_id, created_ms, expires_ms) "
                        "VALUES ";
                    std::string rows =
                        "INSERT INTO refresh_tokens (family_id, token_hash, parent_id, issued_ms) "
                        "VALUES ";
                    for (long i = first; i < std::min(count, first + kBatch); ++i) {
                        familyId = authsvc::verify::base64UrlEncode(crypto::randomBytes(16));
                        std::string clearToken =
                            authsvc::verify::base64UrlEncode(crypto::randomBytes(32));
                        const char* sep = i == first ? "" : ",";
                        families +=
                            sep + ("('" + familyId + "'," + std::to_string(user) + "," +
                                   std::to_string(created) + "," + std::to_string(expires) + ")");
                        rows +=
                            sep + ("('" + familyId + "'," + unhex + crypto::sha256Hex(clearToken) +
                                   unhexEnd + ",NULL," + std::to_string(created) + ")");
                        clear.push_back(std::move(clearToken));
                    }
                    s << families;
                    s << rows;
                }
                return;
            }
            soci::statement family =
                (s.prepare << "INSERT INTO refresh_families (id, user_id, created_ms, expires_ms) "
                              "VALUES (:id, :u, :c, :e)",
                 soci::use(familyId), soci::use(user), soci::use(created), soci::use(expires));
            soci::statement token =
                (s.prepare << "INSERT INTO refresh_tokens (family_id, id, token_hash, parent_id, "
                              "issued_ms) VALUES (:f, :id, CAST(:h AS BLOB), NULL, :t)",
                 soci::use(familyId), soci::use(tokenId), soci::use(tokenHash), soci::use(created));
            for (long i = 0; i < count; ++i) {
                tokenId = i + 1;  // unique, as in both layouts of the table (migration 0009)
                familyId = authsvc::verify::base64UrlEncode(crypto::randomBytes(16));
                std::string clearToken = authsvc::verify::base64UrlEncode(crypto::randomBytes(32));
                tokenHash = authsvc::verify::sha256(clearToken);
                family.execute(true);
                token.execute(true);
                clear.push_back(std::move(clearToken));
            }
        });
        // What the service will see: the repository finds the last token, live and unused.
        if (!clear.empty()) {
            auto rec = db.read([&](Connection& s) {
                return tokens.findByHash(s, authsvc::verify::sha256(clear.back()));
            });
            if (!rec || rec->usedMs || rec->familyRevokedMs || rec->userId != userId ||
                rec->familyExpiresMs != now + kFamilyTtlMs) {
                throw std::runtime_error("seeded token not found as expected by the repository");
            }
        }

        FILE* out = std::fopen(outPath.c_str(), "w");
        if (!out) throw std::runtime_error("cannot write " + outPath);
        for (const auto& t : clear) {
            std::fwrite(t.data(), 1, t.size(), out);
            std::fputc('\n', out);
        }
        if (std::fclose(out) != 0) throw std::runtime_error("cannot write " + outPath);
        const double seconds =
            std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        std::printf("seeded %ld refresh tokens for user %lld (%s) in %.1f s -> %s\n", count,
                    static_cast<long long>(userId), email.c_str(), seconds, outPath.c_str());
        return 0;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "bench_seed: %s\n", e.what());
        return 1;
    }
}
