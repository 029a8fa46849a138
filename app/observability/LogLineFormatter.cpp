#include "app/observability/LogLineFormatter.h"

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <string_view>

#include <spdlog/details/fmt_helper.h>

#include "common/JsonText.h"

namespace authsvc::app {

namespace {
// spdlog's own buffer helpers: the ones its pattern_formatter writes with.
using spdlog::details::fmt_helper::append_string_view;
using spdlog::details::fmt_helper::pad3;
using spdlog::details::fmt_helper::pad6;
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
    const auto& text = msg.payload;
    if (layout_ == Layout::Json) {
        append_string_view(R"({"time":")", dest);
        append_string_view(date, dest);
        pad6(static_cast<uint64_t>(duration_cast<microseconds>(sinceEpoch - second).count()), dest);
        append_string_view(R"(Z","level":")", dest);
        append_string_view(level, dest);
        append_string_view(R"(","msg":)", dest);
        appendJsonString(std::string_view(text.data(), text.size()), dest);
        append_string_view("}\n", dest);
    } else {
        append_string_view(date, dest);
        pad3(static_cast<uint32_t>(duration_cast<milliseconds>(sinceEpoch - second).count()), dest);
        append_string_view("Z ", dest);
        append_string_view(level, dest);
        append_string_view(" ", dest);
        append_string_view(text, dest);
        append_string_view("\n", dest);
    }
}

void LogLineFormatter::appendJsonString(std::string_view text, spdlog::memory_buf_t& dest) {
    // Database and libpq error text may hold quotes, newlines, control bytes and bytes
    // that are not UTF-8: every message is escaped, invalid UTF-8 replaced by U+FFFD.
    escaped_.clear();
    models::appendJsonString(escaped_, text, models::InvalidUtf8::Replace);
    append_string_view(escaped_, dest);
}

std::unique_ptr<spdlog::formatter> LogLineFormatter::clone() const {
    return std::make_unique<LogLineFormatter>(layout_);
}

}  // namespace authsvc::app
