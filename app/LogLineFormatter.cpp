#include "app/LogLineFormatter.h"

#include <chrono>
#include <cstdio>
#include <string_view>

namespace authsvc::app {

namespace {

void append(spdlog::memory_buf_t& dest, std::string_view s) {
    dest.append(s.data(), s.data() + s.size());
}

// `value` as exactly `digits` decimal digits, zero-padded (value < 10^digits).
void appendPadded(spdlog::memory_buf_t& dest, long value, int digits) {
    char buf[8];
    for (int i = digits - 1; i >= 0; --i) {
        buf[i] = static_cast<char>('0' + value % 10);
        value /= 10;
    }
    dest.append(buf, buf + digits);
}

}  // namespace

void LogLineFormatter::format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) {
    using namespace std::chrono;
    const auto sinceEpoch = msg.time.time_since_epoch();
    const auto second = duration_cast<seconds>(sinceEpoch);
    const auto t = static_cast<std::time_t>(second.count());
    if (t != cachedSecond_) {
        std::tm tm{};
        gmtime_r(&t, &tm);
        const int n =
            std::snprintf(date_, sizeof date_, "%d-%02d-%02dT%02d:%02d:%02d.", tm.tm_year + 1900,
                          tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
        dateSize_ = n > 0 ? static_cast<size_t>(n) : 0;
        cachedSecond_ = t;
    }
    const std::string_view date(date_, dateSize_);
    const auto level = spdlog::level::to_string_view(msg.level);
    const std::string_view text(msg.payload.data(), msg.payload.size());
    if (layout_ == Layout::Json) {
        append(dest, R"({"time":")");
        append(dest, date);
        appendPadded(dest, duration_cast<microseconds>(sinceEpoch - second).count(), 6);
        append(dest, R"(Z","level":")");
        append(dest, std::string_view(level.data(), level.size()));
        append(dest, R"(","msg":")");
        append(dest, text);
        append(dest, "\"}\n");
    } else {
        append(dest, date);
        appendPadded(dest, duration_cast<milliseconds>(sinceEpoch - second).count(), 3);
        append(dest, "Z ");
        append(dest, std::string_view(level.data(), level.size()));
        append(dest, " ");
        append(dest, text);
        append(dest, "\n");
    }
}

std::unique_ptr<spdlog::formatter> LogLineFormatter::clone() const {
    return std::make_unique<LogLineFormatter>(layout_);
}

}  // namespace authsvc::app
