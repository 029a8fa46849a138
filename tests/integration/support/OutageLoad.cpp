// OutageLoad and problemDuringOutage (Harness.h).
#include <sstream>

#include "support/Harness.h"

namespace it {

std::string problemDuringOutage(const HttpResponse& r, std::initializer_list<long> allowed,
                                double maxSeconds) {
    if (r.seconds >= maxSeconds) return "took " + std::to_string(r.seconds) + " s";
    if (r.status == 503) {
        if (r.errorCode() != "unavailable") return "503 without error unavailable";
        const std::string retryAfter = r.header("Retry-After").value_or("");
        if (retryAfter.empty() || retryAfter.find_first_not_of("0123456789") != std::string::npos)
            return "503 without a numeric Retry-After";
        return "";
    }
    for (long s : allowed) {
        if (r.status == s) return "";
    }
    return "unexpected status " + std::to_string(r.status);
}

OutageLoad::OutageLoad(int port, const std::vector<std::string>& emails) {
    for (const auto& email : emails)
        threads_.emplace_back([this, port, email] { run(port, email); });
}

OutageLoad::~OutageLoad() {
    stop();
}

void OutageLoad::stop() {
    stop_ = true;
    for (auto& t : threads_) {
        if (t.joinable()) t.join();
    }
}

std::vector<std::string> OutageLoad::problems() {
    std::lock_guard lock(mu_);
    return problems_;
}

std::map<long, int> OutageLoad::statuses() {
    std::lock_guard lock(mu_);
    return statuses_;
}

void OutageLoad::record(const char* what, const HttpResponse& r,
                        std::initializer_list<long> allowed) {
    ++total_;
    if (r.status == 200) ++ok_;
    if (r.status == 503) ++unavailable_;
    const std::string p = problemDuringOutage(r, allowed);
    std::lock_guard lock(mu_);
    ++statuses_[r.status];
    if (!p.empty()) {
        std::ostringstream os;
        os << what << ": " << p << ": " << r;
        problems_.push_back(os.str());
    }
}

void OutageLoad::run(int port, const std::string& email) {
    HttpClient c(port);
    c.setTimeoutMs(10000);  // a hang shows as a slow response, not a transport error
    std::string access, token;
    bool lastRefreshFailed = false;
    while (!stop_) {
        const HttpResponse l = loginRaw(c, email, kPassword);
        record("login", l, {200});
        if (l.status == 200 && token.empty()) {
            access = l.jsonBody().value("access_token", "");
            token = l.jsonBody().value("refresh_token", "");
        }
        if (!token.empty()) {
            const HttpResponse r = refresh(c, token);
            // A 401 is acceptable only right after a failed attempt on the same token (it
            // may have committed before the connection broke).
            if (lastRefreshFailed) {
                record("refresh", r, {200, 401});
            } else {
                record("refresh", r, {200});
            }
            if (r.status == 200) {
                token = r.jsonBody().value("refresh_token", "");
                access = r.jsonBody().value("access_token", "");
            } else if (r.status == 401) {
                token.clear();
            }
            lastRefreshFailed = r.status != 200;
        }
        if (!access.empty()) record("me", c.getWithToken("/api/me", access), {200});
    }
}

}  // namespace it
