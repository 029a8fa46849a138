#include "app/Logging.h"

#include <spdlog/async.h>
#include <spdlog/async_logger.h>
#include <spdlog/sinks/stdout_sinks.h>

namespace authsvc::app {

Logging makeLogging(const LogConfig& config, bool async) {
    Logging out;
    auto sink = std::make_shared<spdlog::sinks::stderr_sink_mt>();
    if (async) {
        out.pool = std::make_shared<spdlog::details::thread_pool>(16384, 1);
        out.logger = std::make_shared<spdlog::async_logger>(
            "authsvc", sink, out.pool, spdlog::async_overflow_policy::overrun_oldest);
    } else {
        out.logger = std::make_shared<spdlog::logger>("authsvc", sink);
    }
    if (config.format == "json") {
        // Messages are kept free of quotes and backslashes by their callers.
        out.logger->set_pattern(R"({"time":"%Y-%m-%dT%H:%M:%S.%fZ","level":"%l","msg":"%v"})",
                                spdlog::pattern_time_type::utc);
    } else {
        out.logger->set_pattern("%Y-%m-%dT%H:%M:%S.%eZ %l %v", spdlog::pattern_time_type::utc);
    }
    out.logger->set_level(spdlog::level::from_str(config.level));
    out.logger->flush_on(spdlog::level::warn);
    return out;
}

}  // namespace authsvc::app
