// LogLineFormatter: the service's two log line layouts, as an spdlog formatter.
//   text: 2026-12-02T06:05:17.680Z info <message>
//   json: {"time":"2026-12-02T06:05:17.680123Z","level":"info","msg":"<message>"}
// Times in UTC; each line ends in "\n". Byte for byte what spdlog's pattern_formatter makes
// of "%Y-%m-%dT%H:%M:%S.%eZ %l %v" and R"({"time":"%Y-%m-%dT%H:%M:%S.%fZ","level":"%l",
// "msg":"%v"})" (a test compares the two). Why our own: the general pattern formatter
// interprets its pattern flag by flag for every line, 1.3k instructions of each protected
// request (1.9%, bench/PROFILE.md); this one formats the date once per second.
// Not thread-safe, like every spdlog formatter: a sink calls it under its mutex.
#pragma once

#include <spdlog/formatter.h>

#include <cstddef>
#include <ctime>
#include <memory>

namespace authsvc::app {

class LogLineFormatter final : public spdlog::formatter {
  public:
    enum class Layout { Text, Json };
    explicit LogLineFormatter(Layout layout) : layout_(layout) {}

    void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override;
    std::unique_ptr<spdlog::formatter> clone() const override;

  private:
    Layout layout_;
    std::time_t cachedSecond_ = -1;
    char date_[32] = {};  // "YYYY-MM-DDTHH:MM:SS." of cachedSecond_
    size_t dateSize_ = 0;
};

}  // namespace authsvc::app
