// LogLineFormatter writes exactly what spdlog's pattern formatter wrote for the two layouts
// the service had (log lines are an interface: people parse them).
#include "app/LogLineFormatter.h"

#include <gtest/gtest.h>
#include <spdlog/pattern_formatter.h>

#include <chrono>
#include <string>
#include <vector>

namespace authsvc::app {
namespace {

using namespace std::chrono;

std::string formatWith(spdlog::formatter& f, const spdlog::details::log_msg& msg) {
    spdlog::memory_buf_t buf;
    f.format(msg, buf);
    return std::string(buf.data(), buf.size());
}

spdlog::details::log_msg messageAt(system_clock::time_point t, spdlog::level::level_enum level,
                                   std::string_view text) {
    return spdlog::details::log_msg(t, spdlog::source_loc{}, "authsvc", level,
                                    spdlog::string_view_t(text.data(), text.size()));
}

void expectSameAsSpdlog(LogLineFormatter::Layout layout, const std::string& pattern) {
    LogLineFormatter ours(layout);
    spdlog::pattern_formatter theirs(pattern, spdlog::pattern_time_type::utc);
    const auto base = system_clock::time_point(seconds(1796193917));  // 2026-12-02T06:45:17Z
    // Within one second (our cached date), across seconds, minutes, a day, a year, and
    // fractions that need zero padding; before the epoch's 2000s too.
    const std::vector<system_clock::time_point> times = {
        base,
        base + microseconds(1),
        base + microseconds(680'123),
        base + microseconds(999'999),
        base + seconds(1) + microseconds(7),
        base + seconds(43) + milliseconds(5),
        base + hours(18) + minutes(54) + seconds(42) + microseconds(999'500),
        base + days(30),
        system_clock::time_point(seconds(951782400)) + milliseconds(12),  // 2000-02-29
        system_clock::time_point(seconds(0)),
    };
    const std::vector<spdlog::level::level_enum> levels = {
        spdlog::level::trace, spdlog::level::debug, spdlog::level::info,
        spdlog::level::warn,  spdlog::level::err,   spdlog::level::critical};
    for (const auto t : times) {
        for (const auto level : levels) {
            for (const std::string_view text :
                 {std::string_view("GET /api/protected 200 81us"), std::string_view("")}) {
                const auto msg = messageAt(t, level, text);
                EXPECT_EQ(formatWith(ours, msg), formatWith(theirs, msg));
            }
        }
    }
}

TEST(LogLineFormatterTest, TextLinesAreSpdlogsPatternByteForByte) {
    expectSameAsSpdlog(LogLineFormatter::Layout::Text, "%Y-%m-%dT%H:%M:%S.%eZ %l %v");
}

TEST(LogLineFormatterTest, JsonLinesAreSpdlogsPatternByteForByte) {
    expectSameAsSpdlog(LogLineFormatter::Layout::Json,
                       R"({"time":"%Y-%m-%dT%H:%M:%S.%fZ","level":"%l","msg":"%v"})");
}

TEST(LogLineFormatterTest, ACloneFormatsTheSame) {
    LogLineFormatter f(LogLineFormatter::Layout::Json);
    const auto clone = f.clone();
    const auto msg =
        messageAt(system_clock::time_point(seconds(1796193917)), spdlog::level::info, "x");
    EXPECT_EQ(formatWith(*clone, msg), formatWith(f, msg));
    EXPECT_EQ(formatWith(f, msg),
              R"({"time":"2026-12-02T06:45:17.000000Z","level":"info","msg":"x"})"
              "\n");
}

}  // namespace
}  // namespace authsvc::app
