// runFor(THREADS, SECONDS, step): calls step() in a loop on THREADS threads until SECONDS
// have passed or a step returns false; returns the elapsed wall seconds. Shared by the
// bench programs that measure a limit without HTTP (hashrate.cpp, rotate.cpp).
#pragma once

#include <chrono>
#include <functional>
#include <thread>
#include <vector>

namespace authsvc::bench {

inline double runFor(int threads, double seconds, const std::function<bool()>& step) {
    const auto start = std::chrono::steady_clock::now();
    const auto deadline = start + std::chrono::duration<double>(seconds);
    std::vector<std::thread> workers;
    for (int t = 0; t < threads; ++t) {
        workers.emplace_back([&] {
            while (std::chrono::steady_clock::now() < deadline && step()) {
            }
        });
    }
    for (auto& w : workers) w.join();
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace authsvc::bench
