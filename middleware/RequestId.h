// RequestId: the id that ties a response to its access-log line. A client's
// X-Request-Id is kept when it is short and plain; otherwise a new one is made from a
// per-process random prefix and a counter. Thread-safe.
#pragma once

#include <atomic>
#include <cstdint>
#include <optional>
#include <string>

namespace authsvc::middleware {

class RequestIds {
  public:
    RequestIds();
    std::string next(const std::optional<std::string>& incoming);

  private:
    std::string prefix_;
    std::atomic<uint64_t> counter_{0};
};

}  // namespace authsvc::middleware
