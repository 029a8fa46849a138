#include "app/observability/Metrics.h"

#include <iterator>
#include <sstream>

namespace authsvc::app {

Metrics::Metrics() {
    addRoute("unmatched");
}

size_t Metrics::addRoute(const std::string& name) {
    routes_.push_back(std::make_unique<Route>());
    routes_.back()->name = name;
    return routes_.size() - 1;
}

void Metrics::observeRequest(size_t route, int status, int64_t micros) {
    if (route >= routes_.size()) route = kUnmatched;
    Route& r = *routes_[route];
    if (status >= 100 && status < 600)
        r.byStatus[size_t(status - 100)].fetch_add(1, std::memory_order_relaxed);
    size_t b = 0;
    const double seconds = double(micros) / 1e6;
    while (b < kBuckets.size() && seconds > kBuckets[b]) ++b;
    r.buckets[b].fetch_add(1, std::memory_order_relaxed);
    r.count.fetch_add(1, std::memory_order_relaxed);
    r.sumMicros.fetch_add(uint64_t(micros), std::memory_order_relaxed);
}

void Metrics::mail(const std::string& kind, const std::string& result) {
    std::lock_guard<std::mutex> lock(mailMu_);
    ++mail_[{kind, result}];
}

void Metrics::familiesRevoked(const std::string& reason, int64_t n) {
    if (reason == "reuse")
        revokedReuse_ += uint64_t(n);
    else if (reason == "logout")
        revokedLogout_ += uint64_t(n);
    else if (reason == "password_change")
        revokedPasswordChange_ += uint64_t(n);
    else if (reason == "user_revoked")
        revokedByUser_ += uint64_t(n);
    else
        revokedLogoutAll_ += uint64_t(n);
}

std::string Metrics::render() const {
    std::ostringstream o;
    o << "# HELP authsvc_http_requests_total HTTP requests by route and status.\n"
         "# TYPE authsvc_http_requests_total counter\n";
    for (const auto& r : routes_) {
        for (size_t i = 0; i < r->byStatus.size(); ++i) {
            uint64_t v = r->byStatus[i].load(std::memory_order_relaxed);
            if (v) {
                o << "authsvc_http_requests_total{route=\"" << r->name << "\",status=\"" << i + 100
                  << "\"} " << v << "\n";
            }
        }
    }
    o << "# HELP authsvc_http_request_duration_seconds Request latency by route.\n"
         "# TYPE authsvc_http_request_duration_seconds histogram\n";
    for (const auto& r : routes_) {
        const uint64_t count = r->count.load(std::memory_order_relaxed);
        if (!count) continue;
        uint64_t cumulative = 0;
        for (size_t b = 0; b <= kBuckets.size(); ++b) {
            cumulative += r->buckets[b].load(std::memory_order_relaxed);
            o << "authsvc_http_request_duration_seconds_bucket{route=\"" << r->name << "\",le=\"";
            if (b < kBuckets.size())
                o << kBuckets[b];
            else
                o << "+Inf";
            o << "\"} " << cumulative << "\n";
        }
        o << "authsvc_http_request_duration_seconds_sum{route=\"" << r->name << "\"} "
          << double(r->sumMicros.load(std::memory_order_relaxed)) / 1e6 << "\n";
        o << "authsvc_http_request_duration_seconds_count{route=\"" << r->name << "\"} " << count
          << "\n";
    }
    o << "# HELP authsvc_logins_total Login attempts by outcome.\n"
         "# TYPE authsvc_logins_total counter\n"
      << "authsvc_logins_total{outcome=\"success\"} " << loginSuccess_ << "\n"
      << "authsvc_logins_total{outcome=\"failure\"} " << loginFailure_ << "\n"
      << "authsvc_logins_total{outcome=\"throttled\"} " << loginThrottled_ << "\n";
    o << "# HELP authsvc_registrations_throttled_total Registrations refused with 429 "
         "(auth.register_rate_limit).\n"
         "# TYPE authsvc_registrations_throttled_total counter\n"
      << "authsvc_registrations_throttled_total " << registrationThrottled_ << "\n";
    o << "# HELP authsvc_refreshes_total Refresh requests by outcome.\n"
         "# TYPE authsvc_refreshes_total counter\n";
    const char* names[] = {"rotated", "retried", "reused", "invalid", "renewed"};
    static_assert(std::size(names) == std::tuple_size_v<decltype(refresh_)>);
    for (size_t i = 0; i < refresh_.size(); ++i) {
        o << "authsvc_refreshes_total{outcome=\"" << names[i] << "\"} " << refresh_[i] << "\n";
    }
    o << "# HELP authsvc_reuse_detections_total Refresh tokens presented again (theft).\n"
         "# TYPE authsvc_reuse_detections_total counter\n"
      << "authsvc_reuse_detections_total " << refresh_[size_t(models::RefreshOutcome::Reused)]
      << "\n";
    o << "# HELP authsvc_families_revoked_total Refresh families revoked by reason.\n"
         "# TYPE authsvc_families_revoked_total counter\n"
      << "authsvc_families_revoked_total{reason=\"reuse\"} " << revokedReuse_ << "\n"
      << "authsvc_families_revoked_total{reason=\"logout\"} " << revokedLogout_ << "\n"
      << "authsvc_families_revoked_total{reason=\"logout_all\"} " << revokedLogoutAll_ << "\n"
      << "authsvc_families_revoked_total{reason=\"password_change\"} " << revokedPasswordChange_
      << "\n"
      << "authsvc_families_revoked_total{reason=\"user_revoked\"} " << revokedByUser_ << "\n";
    o << "# HELP authsvc_families_purged_total Expired or revoked families deleted.\n"
         "# TYPE authsvc_families_purged_total counter\n"
      << "authsvc_families_purged_total " << purged_ << "\n";
    o << "# HELP authsvc_key_reloads_total Reloads of the signing keys (SIGHUP) by result.\n"
         "# TYPE authsvc_key_reloads_total counter\n"
      << "authsvc_key_reloads_total{result=\"success\"} " << keyReloadSuccess_ << "\n"
      << "authsvc_key_reloads_total{result=\"failure\"} " << keyReloadFailure_ << "\n";
    o << "# HELP authsvc_token_rejections_total Bearer tokens refused, by reason.\n"
         "# TYPE authsvc_token_rejections_total counter\n";
    for (size_t i = 0; i < tokenRejections_.size(); ++i) {
        o << "authsvc_token_rejections_total{reason=\"" << verify::reasonName(verify::Reason(i))
          << "\"} " << tokenRejections_[i] << "\n";
    }
    o << "# HELP authsvc_mail_total Mails handled by the outbox sender, by kind and result.\n"
         "# TYPE authsvc_mail_total counter\n";
    {
        std::lock_guard<std::mutex> lock(mailMu_);
        for (const auto& [key, n] : mail_) {
            o << "authsvc_mail_total{kind=\"" << key.first << "\",result=\"" << key.second << "\"} "
              << n << "\n";
        }
    }
    o << "# HELP authsvc_mail_outbox_depth Messages in the outbox by status (queued, dead).\n"
         "# TYPE authsvc_mail_outbox_depth gauge\n"
      << "authsvc_mail_outbox_depth{status=\"queued\"} " << outboxQueued_ << "\n"
      << "authsvc_mail_outbox_depth{status=\"dead\"} " << outboxDead_ << "\n";
    o << "# HELP authsvc_db_conflict_retries_total Transactions run again after the database "
         "rolled them back for a conflict (deadlock, serialization failure, lost Galera "
         "certification).\n"
         "# TYPE authsvc_db_conflict_retries_total counter\n"
      << "authsvc_db_conflict_retries_total " << dbConflictRetries_ << "\n";
    o << "# HELP authsvc_db_group_commits_total SQLite: transactions of the group commit "
         "(writes of several requests in one COMMIT).\n"
         "# TYPE authsvc_db_group_commits_total counter\n"
      << "authsvc_db_group_commits_total " << dbGroupBatches_ << "\n"
      << "# HELP authsvc_db_group_commit_writes_total SQLite: the writes those transactions held "
         "(rotations, limit counts, queued mails).\n"
         "# TYPE authsvc_db_group_commit_writes_total counter\n"
      << "authsvc_db_group_commit_writes_total " << dbGroupWrites_ << "\n";
    return o.str();
}

}  // namespace authsvc::app
