// LogLineFormatter: the service's two log line layouts, as an spdlog formatter.
//   text: 2026-12-02T06:05:17.680Z info <message>
//   json: {"time":"2026-12-02T06:05:17.680123Z","level":"info","msg":"<message>"}
// Times in UTC; each line ends in "\n". Byte for byte what spdlog's pattern_formatter makes
// of "%Y-%m-%dT%H:%M:%S.%eZ %l %v" and R"({"time":"%Y-%m-%dT%H:%M:%S.%fZ","level":"%l",
// "msg":"%v"})" (a test compares the two) for messages of printable ASCII without '"' and
// '\\'. In the json layout any other message is the JSON string nlohmann::json writes
// (invalid UTF-8 as U+FFFD), so that every line is one JSON object. Why our own: the general
// pattern formatter interprets its pattern flag by flag for every line; this one formats the
// date once per second (the measurement is in bench/PROFILE.md). Not thread-safe, like every spdlog
// formatter: a sink calls it under its mutex.
#pragma once

#include <spdlog/formatter.h>

#include <cstddef>
#include <ctime>
#include <memory>
#include <string>
#include <string_view>

namespace authsvc::app {

class LogLineFormatter final : public spdlog::formatter {
  public:
    enum class Layout { Text, Json };
    explicit LogLineFormatter(Layout layout) : layout_(layout) {}

    void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override;
    std::unique_ptr<spdlog::formatter> clone() const override;

  private:
    void appendJsonString(std::string_view text, spdlog::memory_buf_t& dest);

    Layout layout_;
    std::string escaped_;  // reused between lines
    std::time_t cachedSecond_ = -1;
    char date_[32] = {};  // "YYYY-MM-DDTHH:MM:SS." of cachedSecond_
    size_t dateSize_ = 0;
};

}  // namespace authsvc::app
