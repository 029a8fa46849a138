// RequestFramer: where a request ends in a connection's input (RFC 9112 6: Content-Length or
// chunked), checked before Pistache's parser sees the request. Pure functions; any thread.
#pragma once

#include <cstddef>
#include <string_view>

namespace authsvc::app {

// 0, or the status for a chunk of input whose header block declares a Content-Length
// that is not a plain number (400) or exceeds `limit` (413).
int declaredLengthProblem(std::string_view input, size_t limit);

// Where the first request in `input` ends. `status` 400/413: the request is refused (bad or
// conflicting framing headers, more than `limit` bytes); else `length` is its size in bytes
// (request line, headers, Content-Length or chunked body), 0 while it is incomplete.
struct RequestFrame {
    int status = 0;
    size_t length = 0;
};
RequestFrame frameRequest(std::string_view input, size_t limit);

}  // namespace authsvc::app
