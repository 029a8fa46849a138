#include "app/http/RequestFramer.h"

#include <algorithm>

namespace authsvc::app {

namespace {
// Room for the request line and headers on top of the body (as serverSettings() allows).
constexpr size_t kFrameHeaderRoom = 32 * 1024;

// `text` equals `lower` (lower-case) in ASCII letters of either case; locale-free.
bool equalsIgnoringAsciiCase(std::string_view text, std::string_view lower) {
    if (text.size() != lower.size()) return false;
    for (size_t i = 0; i < text.size(); ++i) {
        const char c = text[i] >= 'A' && text[i] <= 'Z' ? char(text[i] + ('a' - 'A')) : text[i];
        if (c != lower[i]) return false;
    }
    return true;
}

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) {
        s.remove_suffix(1);
    }
    return s;
}

// The end of a chunked body starting at `pos` (RFC 9112 7.1), as a RequestFrame.
RequestFrame frameChunked(std::string_view input, size_t pos, size_t limit) {
    const RequestFrame incomplete{0, 0};
    // Chunk-size lines and extensions may add to the body; the frame is bounded all the same.
    const size_t rawLimit = 2 * limit + kFrameHeaderRoom;
    size_t bodyBytes = 0;
    for (;;) {
        const size_t eol = input.find("\r\n", pos);
        if (eol == std::string_view::npos) {
            return input.size() > rawLimit ? RequestFrame{413, 0} : incomplete;
        }
        size_t size = 0;
        size_t digits = 0;
        for (size_t i = pos; i < eol && input[i] != ';'; ++i) {
            const char ch = input[i];
            int v = -1;
            if (ch >= '0' && ch <= '9') v = ch - '0';
            if (ch >= 'a' && ch <= 'f') v = ch - 'a' + 10;
            if (ch >= 'A' && ch <= 'F') v = ch - 'A' + 10;
            if (v < 0) {
                if (ch == ' ' || ch == '\t') continue;
                return {400, 0};
            }
            if (++digits > 15) return {413, 0};
            size = size * 16 + size_t(v);
        }
        if (digits == 0) return {400, 0};
        pos = eol + 2;
        if (size == 0) {  // trailer section, up to an empty line
            for (;;) {
                const size_t end = input.find("\r\n", pos);
                if (end == std::string_view::npos) {
                    return input.size() > rawLimit ? RequestFrame{413, 0} : incomplete;
                }
                if (end == pos) return {0, pos + 2};
                pos = end + 2;
            }
        }
        bodyBytes += size;
        if (bodyBytes > limit || pos > rawLimit) return {413, 0};
        if (input.size() < pos + size + 2) return incomplete;
        if (input.substr(pos + size, 2) != "\r\n") return {400, 0};
        pos += size + 2;
    }
}
}  // namespace

// Pistache's parser reserves a body of the declared Content-Length before reading it,
// so "Content-Length: 99999999999" would allocate 100 GB. Looks at the header block in
// this chunk of input: 413 for a declared length beyond the request limit, 400 for one
// that is not a plain number.
int declaredLengthProblem(std::string_view input, size_t limit) {
    const size_t headerEnd = std::min(input.find("\r\n\r\n"), input.size());
    constexpr std::string_view name = "content-length:";
    // Header names start lines: find each '\n' (memchr) and compare only there.
    for (size_t nl = input.find('\n');
         nl != std::string_view::npos && nl + 1 + name.size() <= headerEnd;
         nl = input.find('\n', nl + 1)) {
        if (!equalsIgnoringAsciiCase(input.substr(nl + 1, name.size()), name)) continue;
        size_t p = nl + 1 + name.size();
        while (p < input.size() && (input[p] == ' ' || input[p] == '\t')) ++p;
        size_t digits = 0;
        uint64_t value = 0;
        while (p < input.size() && input[p] >= '0' && input[p] <= '9') {
            if (++digits > 18) return 413;
            value = value * 10 + uint64_t(input[p++] - '0');
        }
        if (p < input.size() && input[p] != '\r' && input[p] != ' ' && input[p] != '\t') {
            return 400;
        }
        if (digits == 0 && p < input.size()) return 400;
        if (value > limit) return 413;
    }
    return 0;
}

RequestFrame frameRequest(std::string_view input, size_t limit) {
    const size_t headerEnd = input.find("\r\n\r\n");
    if (headerEnd == std::string_view::npos) {
        // Refused as early as its header block shows it, before a body is buffered for it.
        if (const int status = declaredLengthProblem(input, limit)) return {status, 0};
        return {input.size() > limit ? 413 : 0, 0};
    }
    // One pass over the header lines (each read request goes through here).
    constexpr std::string_view kLength = "content-length:";
    constexpr std::string_view kEncoding = "transfer-encoding:";
    const std::string_view headers = input.substr(0, headerEnd + 2);  // each line ends "\r\n"
    bool hasLength = false;
    uint64_t length = 0;
    bool hasEncoding = false;
    bool chunked = false;
    for (size_t nl = headers.find('\n'); nl != std::string_view::npos;) {
        const size_t next = headers.find('\n', nl + 1);
        if (next == std::string_view::npos) break;
        const std::string_view line = headers.substr(nl + 1, next - nl - 1);
        nl = next;
        const char first = line.empty() ? '\0' : char(line[0] | 0x20);
        if (first == 'c' && line.size() >= kLength.size() &&
            equalsIgnoringAsciiCase(line.substr(0, kLength.size()), kLength)) {
            const std::string_view value = trim(line.substr(kLength.size()));
            if (value.empty() || value.size() > 18) return {value.empty() ? 400 : 413, 0};
            uint64_t v = 0;
            for (const char ch : value) {
                if (ch < '0' || ch > '9') return {400, 0};
                v = v * 10 + uint64_t(ch - '0');
            }
            if (v > limit) return {413, 0};
            if (hasLength && v != length) return {400, 0};  // two must agree
            hasLength = true;
            length = v;
        } else if (first == 't' && line.size() >= kEncoding.size() &&
                   equalsIgnoringAsciiCase(line.substr(0, kEncoding.size()), kEncoding)) {
            hasEncoding = true;
            chunked = equalsIgnoringAsciiCase(trim(line.substr(kEncoding.size())), "chunked");
        }
    }
    // Both, or a coding we cannot frame: refused rather than guessed (request smuggling).
    if (hasEncoding && (hasLength || !chunked)) return {400, 0};
    if (chunked) return frameChunked(input, headerEnd + 4, limit);
    const size_t total = headerEnd + 4 + size_t(length);
    return {0, input.size() < total ? 0 : total};
}

}  // namespace authsvc::app
