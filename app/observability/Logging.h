// Logging: builds the service's loggers from LogConfig (text or JSON lines on stderr).
// The server's logger writes through a BatchingLogSink: lines reach stderr in batches at
// most kLogBatchInterval after they were logged, warn and above at once, everything by
// the logger's destruction; a request never waits for the log output (lines are dropped
// and counted when it does not keep up). CLI commands log synchronously, line by line.
#pragma once

#include <spdlog/logger.h>

#include <chrono>
#include <memory>

#include "app/config/Config.h"

namespace authsvc::app {

inline constexpr std::chrono::milliseconds kLogBatchInterval{100};
inline constexpr size_t kLogBatchBytes = 1 << 20;

struct Logging {
    std::shared_ptr<spdlog::logger> logger;
};

// `batched`: the server's logger (see above); otherwise one write per line.
Logging makeLogging(const LogConfig& config, bool batched);

}  // namespace authsvc::app
