// Logging: builds the service's loggers from LogConfig (text or JSON lines on stderr).
// The server's logger is asynchronous with a bounded queue that drops the oldest lines
// under overload, so logging never blocks a request; CLI commands log synchronously.
#pragma once

#include <spdlog/logger.h>

#include <memory>

#include "app/Config.h"

namespace spdlog::details {
class thread_pool;
}

namespace authsvc::app {

struct Logging {
    std::shared_ptr<spdlog::details::thread_pool> pool;  // must outlive the logger
    std::shared_ptr<spdlog::logger> logger;
};

Logging makeLogging(const LogConfig& config, bool async);

}  // namespace authsvc::app
