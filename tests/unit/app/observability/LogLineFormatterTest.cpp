// LogLineFormatter writes exactly what spdlog's pattern formatter wrote for the two layouts
// the service had (log lines are an interface: people parse them).
#include "app/observability/LogLineFormatter.h"

#include <gtest/gtest.h>
#include <spdlog/pattern_formatter.h>
#include <nlohmann/json.hpp>

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

// Database and libpq error text goes into log messages as it is: every JSON line must still
// be one JSON object whose "msg" is the message (invalid UTF-8 as U+FFFD).
TEST(LogLineFormatterTest, JsonLinesEscapeEveryMessage) {
    LogLineFormatter f(LogLineFormatter::Layout::Json);
    const auto t = system_clock::time_point(seconds(1796193917));
    struct Case {
        std::string text;
        std::string parsedMsg;  // what the msg member reads as
    };
    const std::string replacement = "\xef\xbf\xbd";
    const std::vector<Case> cases = {
        {R"(relation "users" does not exist)", R"(relation "users" does not exist)"},
        {"ERROR:  duplicate key\nDETAIL:  Key (email)=(a@x) already exists.\n",
         "ERROR:  duplicate key\nDETAIL:  Key (email)=(a@x) already exists.\n"},
        {R"(C:\path\to\db "quoted" \u0041)", R"(C:\path\to\db "quoted" \u0041)"},
        {std::string("nul \0 bel \a esc \x1b del \x7f tab \t cr \r", 32),
         std::string("nul \0 bel \a esc \x1b del \x7f tab \t cr \r", 32)},
        {"caf\xc3\xa9 \xe2\x82\xac", "caf\xc3\xa9 \xe2\x82\xac"},  // valid UTF-8 stays
        {"bad \xff\xfe byte", "bad " + replacement + replacement + " byte"},
        {"cut \xe2\x82", "cut " + replacement},
        {"overlong \xc0\xaf", "overlong " + replacement + replacement},
        {"}\"}\n{\"level\":\"critical\",\"msg\":\"forged",
         "}\"}\n{\"level\":\"critical\",\"msg\":\"forged"},
        {"", ""},
    };
    for (const auto& c : cases) {
        const std::string line = formatWith(f, messageAt(t, spdlog::level::warn, c.text));
        ASSERT_FALSE(line.empty());
        EXPECT_EQ(line.back(), '\n');
        EXPECT_EQ(line.find('\n'), line.size() - 1) << "more than one line: " << line;
        const auto j = nlohmann::json::parse(line.substr(0, line.size() - 1), nullptr, false);
        ASSERT_TRUE(j.is_object()) << "not a JSON object: " << line;
        EXPECT_EQ(j.size(), 3u) << line;
        EXPECT_EQ(j.value("msg", std::string("(none)")), c.parsedMsg) << line;
        EXPECT_EQ(j.value("level", ""), "warning");
    }
}

}  // namespace
}  // namespace authsvc::app
