// Metrics: lock-free counters and latency histograms rendered in the Prometheus text
// format. Routes are registered before the server starts (addRoute is not thread-safe;
// everything else is), so recording a request is a few atomic increments.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "services/AuthEvents.h"
#include "verify/Error.h"

namespace authsvc::app {

class Metrics {
  public:
    Metrics();

    // Index for observeRequest(); call before serving.
    size_t addRoute(const std::string& name);
    static constexpr size_t kUnmatched = 0;
    void observeRequest(size_t route, int status, int64_t micros);
    void login(bool success) { (success ? loginSuccess_ : loginFailure_)++; }
    void loginThrottled() { loginThrottled_++; }
    void keyReload(bool success) { (success ? keyReloadSuccess_ : keyReloadFailure_)++; }
    void registrationThrottled() { registrationThrottled_++; }
    void refresh(models::RefreshOutcome outcome) { refresh_[size_t(outcome)]++; }
    void familiesRevoked(const std::string& reason, int64_t n);
    void purged(int64_t n) { purged_ += n; }
    // A Bearer token refused (RequireAuth), by the verify library's reason.
    void tokenRejected(verify::Reason reason) {
        if (size_t(reason) < verify::kReasonCount)
            tokenRejections_[size_t(reason)].fetch_add(1, std::memory_order_relaxed);
    }
    // A mail handled by the sender: kind and result (sent, skipped, retry, dead).
    void mail(const std::string& kind, const std::string& result);
    // The outbox after the sender's last round.
    void outboxDepth(int64_t queued, int64_t dead) {
        outboxQueued_ = queued;
        outboxDead_ = dead;
    }
    // Database::conflictRetries() as last read (the caller reads it before render()).
    void dbConflictRetries(uint64_t n) { dbConflictRetries_ = n; }
    // Database::groupCommits() as last read (the caller reads it before render()).
    void dbGroupCommits(uint64_t batches, uint64_t writes) {
        dbGroupBatches_ = batches;
        dbGroupWrites_ = writes;
    }
    std::string render() const;

    static constexpr std::array<double, 14> kBuckets = {
        0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5};

  private:
    struct Route {
        std::string name;
        std::array<std::atomic<uint64_t>, 500> byStatus{};  // index: status - 100
        std::array<std::atomic<uint64_t>, kBuckets.size() + 1> buckets{};
        std::atomic<uint64_t> count{0};
        std::atomic<uint64_t> sumMicros{0};
    };
    std::vector<std::unique_ptr<Route>> routes_;
    std::atomic<uint64_t> loginSuccess_{0}, loginFailure_{0}, loginThrottled_{0};
    std::atomic<uint64_t> keyReloadSuccess_{0}, keyReloadFailure_{0};
    std::atomic<uint64_t> registrationThrottled_{0};
    std::array<std::atomic<uint64_t>, 5> refresh_{};  // by models::RefreshOutcome
    std::atomic<uint64_t> revokedReuse_{0}, revokedLogout_{0}, revokedLogoutAll_{0}, purged_{0};
    std::atomic<uint64_t> revokedPasswordChange_{0}, revokedByUser_{0};
    std::array<std::atomic<uint64_t>, verify::kReasonCount> tokenRejections_{};
    mutable std::mutex mailMu_;
    std::map<std::pair<std::string, std::string>, uint64_t> mail_;  // guarded by mailMu_
    std::atomic<int64_t> outboxQueued_{0}, outboxDead_{0};
    std::atomic<uint64_t> dbConflictRetries_{0};
    std::atomic<uint64_t> dbGroupBatches_{0};
    std::atomic<uint64_t> dbGroupWrites_{0};
};

}  // namespace authsvc::app
