// bench_hashrate THREADS SECONDS [MEMORY_KIB ITERATIONS]
// The raw argon2id rate of models::PasswordHasher (libsodium) with THREADS threads
// verifying a password for SECONDS: the limit of the login scenario on the same cores
// (run it under the same taskset as the server). Defaults: config.yaml's parameters
// (19456 KiB, 2 iterations). Prints one line: "hashrate threads=.. hashes=.. seconds=..
// rate=../s".
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "bench/run_for.h"
#include "services/PasswordHasher.h"

using authsvc::models::Argon2Params;
using authsvc::models::PasswordHasher;

int main(int argc, char** argv) {
    if (argc != 3 && argc != 5) {
        std::fprintf(stderr, "usage: %s THREADS SECONDS [MEMORY_KIB ITERATIONS]\n", argv[0]);
        return 2;
    }
    const int threads = std::atoi(argv[1]);
    const double seconds = std::atof(argv[2]);
    Argon2Params params;
    if (argc == 5) {
        params.memoryKib = size_t(std::atol(argv[3]));
        params.iterations = std::strtoull(argv[4], nullptr, 10);
    }
    if (threads < 1 || seconds <= 0 || params.memoryKib < 8 || params.iterations < 1) {
        std::fprintf(stderr, "bad arguments\n");
        return 2;
    }
    try {
        PasswordHasher hasher(params);
        const std::string password = "correct horse battery staple";
        const std::string phc = hasher.hash(password);

        std::atomic<long> done{0};
        std::atomic<bool> failed{false};
        const double elapsed = authsvc::bench::runFor(threads, seconds, [&] {
            if (!hasher.verify(password, phc)) failed = true;
            ++done;
            return true;
        });
        if (failed) {
            std::fprintf(stderr, "bench_hashrate: a verification failed\n");
            return 1;
        }
        std::printf(
            "hashrate threads=%d memory_kib=%zu iterations=%llu hashes=%ld seconds=%.2f "
            "rate=%.1f/s\n",
            threads, params.memoryKib, params.iterations, done.load(), elapsed,
            double(done.load()) / elapsed);
        return 0;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "bench_hashrate: %s\n", e.what());
        return 1;
    }
}
