#include "app/observability/Logging.h"

#include <spdlog/sinks/stdout_sinks.h>
#include <unistd.h>

#include "app/observability/BatchingLogSink.h"
#include "app/observability/LogLineFormatter.h"

namespace authsvc::app {

Logging makeLogging(const LogConfig& config, bool batched) {
    Logging out;
    spdlog::sink_ptr sink;
    if (batched) {
        sink = std::make_shared<BatchingLogSink>(STDERR_FILENO, kLogBatchInterval, kLogBatchBytes);
    } else {
        sink = std::make_shared<spdlog::sinks::stderr_sink_mt>();
    }
    out.logger = std::make_shared<spdlog::logger>("authsvc", std::move(sink));
    // Messages are kept free of quotes and backslashes by their callers (JSON layout).
    out.logger->set_formatter(std::make_unique<LogLineFormatter>(
        config.format == "json" ? LogLineFormatter::Layout::Json : LogLineFormatter::Layout::Text));
    out.logger->set_level(spdlog::level::from_str(config.level));
    out.logger->flush_on(spdlog::level::warn);
    return out;
}

}  // namespace authsvc::app
