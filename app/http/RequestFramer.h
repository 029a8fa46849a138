// RequestFramer: where each request in a connection's input ends (RFC 9112 6: Content-Length
// or chunked), and whether its request line and fields keep RFC 9112's grammar; the gate
// before Pistache's parser, which sees only the requests framed here. It promises:
// - a request is refused (400) rather than framed by a guess: a request line other than
//   `method SP request-target SP HTTP/1.0|HTTP/1.1`; a line ending in a bare LF or holding a
//   bare CR (CRLF is the only line end); a field line without a colon, with anything but a
//   token before it (whitespace included), starting with whitespace (obs-fold); a control
//   byte (NUL included) outside a field value's HTAB, SP, VCHAR and obs-text; Content-Length
//   that is not 1*DIGIT, or two that differ; Transfer-Encoding other than exactly one
//   `chunked`, beside Content-Length, or in HTTP/1.0; a chunk-size that is not 1*HEXDIG
//   (no sign, no `0x`, no whitespace, no chunk extensions: Pistache cannot read them);
//   chunk data not followed by CRLF; a trailer line that is not a field line; CONNECT;
// - 431 once the request line and fields exceed maxHeaderBytes, 413 once the request would
//   exceed maxRequestBytes, each as soon as the bytes (or a declared length) show it, before
//   more is buffered;
// - the work is linear in the bytes: fed the same request again with more bytes, it
//   resumes where its last scan stopped (chunk walk included);
// - the X-Forwarded-For field lines of a framed request, combined in order (RFC 9110 5.3);
// - where a framed request's Authorization field line is, when it has exactly one (so
//   that the connection layer can hand its value over without a byte-wise parse).
// A RequestFramer belongs to one connection and is used by one thread at a time.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace authsvc::app {

struct FrameLimits {
    size_t maxRequestBytes = 4096;  // request line, fields and body (as sent): 413 beyond
    size_t maxHeaderBytes = 16384;  // request line and fields, up to the empty line: 431 beyond
};

// `status` 400/413/431: the request is refused; else `length` is its size in bytes
// (request line, fields, body with its chunked coding), 0 while it is incomplete.
struct RequestFrame {
    int status = 0;
    size_t length = 0;
};

class RequestFramer {
  public:
    explicit RequestFramer(FrameLimits limits = {})
        : limits_(limits),
          headerLimitAt_(limits.maxHeaderBytes < limits.maxRequestBytes ? limits.maxHeaderBytes
                                                                        : limits.maxRequestBytes),
          lineLimit_(headerLimitAt_) {}

    // `input` starts at the current request's first byte and holds what has arrived of it
    // (and maybe of requests after it); each call after an incomplete result passes the
    // same bytes and more. After a complete or refused result the next call starts a new
    // request (a refused one stays refused: the connection ends).
    RequestFrame frame(std::string_view input) {
        // A request that trickles in, here without a call: more of a body, not all of it; or
        // a few more bytes of a line that they do not end (no LF, no CR), within its limit,
        // the line's bytes so far ending in no CR. As frameLines() would decide.
        const size_t n = input.size();
        if (phase_ == Phase::Body && n < end_) return {};
        if (n <= lineLimit_ && n - pos_ - 1 < 16) {
            const char* p = input.data() + pos_;
            do {
                if (*p <= '\r' && (*p == '\n' || *p == '\r')) return frameLines(input);
            } while (++p != input.data() + n);
            pos_ = n;
            return {};
        }
        return frameLines(input);
    }

    // After a complete result, until the next frame() call: the request's X-Forwarded-For
    // field lines' values (trimmed; empty ones left out), joined by ", " in arrival order,
    // and how many such lines there were.
    const std::string& forwardedFor() const { return forwardedFor_; }
    size_t forwardedForLines() const { return forwardedForLines_; }
    // After a complete result, until the next frame() call: how many Authorization field
    // lines the request has; when one, `line` is where that line is in the request (from
    // its first byte, CRLF included) and `value` where its value is (without OWS).
    struct Span {
        size_t pos = 0;
        size_t len = 0;
    };
    size_t authorizationLines() const { return authorizationLines_; }
    Span authorizationLine() const { return authorizationLine_; }
    Span authorizationValue() const { return authorizationValue_; }

  private:
    enum class Phase : uint8_t {
        RequestLine,
        Fields,
        Body,
        ChunkSize,
        ChunkData,
        Trailers,
        Done,
        Refused
    };
    [[gnu::noinline]] RequestFrame frameLines(std::string_view input);
    void reset();
    RequestFrame refuse(int status);
    // Each returns 0 or the refusal's status.
    int requestLine(std::string_view line);
    // `start`: the line's offset in the request.
    int fieldLine(std::string_view line, size_t start = 0);
    int endOfFields();
    int chunkSize(std::string_view line);

    FrameLimits limits_;
    size_t headerLimitAt_;  // the header section's first byte too many
    // Set when frameLines() left a line incomplete (its bytes ending in no CR): the line's
    // limit; else 0 (frame() then has no shortcut).
    size_t lineLimit_;
    Phase phase_ = Phase::RequestLine;
    size_t pos_ = 0;        // input before this was scanned
    size_t lineStart_ = 0;  // where the line being read starts
    size_t end_ = 0;        // Body: the request's end; ChunkData: the chunk data's end
    uint64_t contentLength_ = 0;
    bool hasLength_ = false;
    bool chunked_ = false;
    bool http10_ = false;
    int status_ = 0;  // Refused: why
    std::string forwardedFor_;
    size_t forwardedForLines_ = 0;
    size_t authorizationLines_ = 0;
    Span authorizationLine_;
    Span authorizationValue_;
};

// The first request in `input`, framed at once (a fresh RequestFramer).
RequestFrame frameRequest(std::string_view input, size_t limit,
                          size_t maxHeaderBytes = FrameLimits{}.maxHeaderBytes);

}  // namespace authsvc::app
