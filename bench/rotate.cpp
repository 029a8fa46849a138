// bench_rotate SQLITE_PATH TOKENS_FILE THREADS SECONDS
// The limit of the refresh scenario without HTTP: models::AuthService::refresh, exactly
// as the server's database workers call it (group commit through Database::writeTogether,
// the shipped pool size and pragmas, a checkpoint every 100 ms as the server's
// maintenance thread does), from THREADS threads, each rotation consuming a different
// never-used token of TOKENS_FILE (bench_seed's output for the same database), for
// SECONDS. Run it under the same taskset as the server: the rate it prints is what one
// core can rotate when parsing HTTP, sending responses and logging cost nothing; the
// server's refresh rate can only be lower. Prints one line:
// "rotate threads=.. rotations=.. seconds=.. rate=../s cpu_us=.. failed=.."
// (cpu_us: the process's user+system CPU per rotation; failed: anything but Rotated).
#include <sys/resource.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "bench/run_for.h"
#include "services/AuthService.h"
#include "common/Crypto.h"
#include "verify/Base64Url.h"
#include "models/Database.h"
#include "services/KeyRing.h"
#include "services/PasswordHasher.h"
#include "models/RefreshTokenRepository.h"
#include "services/TokenService.h"
#include "models/UserRepository.h"
#include "verify/Clock.h"

using namespace authsvc::models;
using authsvc::verify::SystemClock;

namespace {

double cpuSeconds() {
    rusage ru{};
    getrusage(RUSAGE_SELF, &ru);
    return double(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
           double(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc != 5) {
        std::fprintf(stderr, "usage: %s SQLITE_PATH TOKENS_FILE THREADS SECONDS\n", argv[0]);
        return 2;
    }
    const int threads = std::atoi(argv[3]);
    const double seconds = std::atof(argv[4]);
    if (threads < 1 || seconds <= 0) {
        std::fprintf(stderr, "bad arguments\n");
        return 2;
    }
    try {
        crypto::init();
        std::vector<std::string> tokens;
        {
            std::ifstream in(argv[2]);
            for (std::string line; std::getline(in, line);) {
                if (!line.empty()) tokens.push_back(line);
            }
        }
        if (tokens.empty()) throw std::runtime_error(std::string("no tokens in ") + argv[2]);

        DatabaseSettings dbSettings;  // the defaults are config.yaml's (pool 8, 5 s)
        dbSettings.dialect = Dialect::Sqlite;
        dbSettings.sqlitePath = argv[1];
        Database db(dbSettings);
        SystemClock clock;
        UserRepository users;
        RefreshTokenRepository refreshTokens;
        PasswordHasher hasher(Argon2Params{});  // unused by refresh
        const std::string secret = authsvc::verify::base64UrlEncode(crypto::randomBytes(48));
        KeyRing keys(KeyConfig{secret, "", ""});
        TokenService tokenService(TokenSettings{"authsvc", "authsvc-clients"}, keys, clock);
        AuthSettings authSettings;
        authSettings.successorKey = authsvc::verify::base64UrlEncode(crypto::randomBytes(48));  // its own
        AuthObserver observer;  // no metrics, no logs
        AuthService auth(db, users, refreshTokens, hasher, tokenService, clock, authSettings,
                         observer);

        // The server's maintenance thread: a checkpoint every 100 ms, completing the log
        // only past the same threshold.
        std::mutex mu;
        std::condition_variable cv;
        bool stop = false;
        std::thread maintenance([&] {
            std::unique_lock<std::mutex> lock(mu);
            while (!cv.wait_for(lock, std::chrono::milliseconds(100), [&] { return stop; })) {
                lock.unlock();
                db.checkpoint(Database::kCompleteLogAt);
                lock.lock();
            }
        });

        std::atomic<size_t> next{0};
        std::atomic<long> rotated{0}, failed{0};
        const double cpuStart = cpuSeconds();
        const double elapsed = authsvc::bench::runFor(threads, seconds, [&] {
            const size_t i = next.fetch_add(1);
            if (i >= tokens.size()) return false;
            if (auth.refresh(tokens[i])) {
                ++rotated;
            } else {
                ++failed;
            }
            return true;
        });
        const double cpu = cpuSeconds() - cpuStart;
        {
            std::lock_guard<std::mutex> lock(mu);
            stop = true;
        }
        cv.notify_all();
        maintenance.join();

        const long n = rotated.load();
        std::printf(
            "rotate threads=%d rotations=%ld seconds=%.2f rate=%.1f cpu_us=%.1f failed=%ld\n",
            threads, n, elapsed, double(n) / elapsed, n ? cpu / double(n) * 1e6 : 0.0,
            failed.load());
        return failed.load() == 0 ? 0 : 1;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "bench_rotate: %s\n", e.what());
        return 1;
    }
}
