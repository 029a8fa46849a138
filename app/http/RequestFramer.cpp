#include "app/http/RequestFramer.h"

#include <algorithm>
#include <cstring>

namespace authsvc::app {

namespace {

// `text` equals `lower` (lower-case) in ASCII letters of either case; locale-free.
bool equalsIgnoringAsciiCase(std::string_view text, std::string_view lower) {
    if (text.size() != lower.size()) return false;
    for (size_t i = 0; i < text.size(); ++i) {
        const char c = text[i] >= 'A' && text[i] <= 'Z' ? char(text[i] + ('a' - 'A')) : text[i];
        if (c != lower[i]) return false;
    }
    return true;
}

// Without optional whitespace (SP, HTAB) on either side (RFC 9110 5.6.3).
std::string_view trimOws(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    return s;
}

// tchar (RFC 9110 5.6.2): what a method and a field name are made of; a table, as every
// byte of every name is looked up.
struct TcharTable {
    bool is[256] = {};
    constexpr TcharTable() {
        for (int c = '0'; c <= '9'; ++c) is[c] = true;
        for (int c = 'a'; c <= 'z'; ++c) is[c] = true;
        for (int c = 'A'; c <= 'Z'; ++c) is[c] = true;
        for (const char c : std::string_view("!#$%&'*+-.^_`|~"))
            is[static_cast<unsigned char>(c)] = true;
    }
};
constexpr TcharTable kTchar;
constexpr bool isTchar(unsigned char c) {
    return kTchar.is[c];
}

// A byte a field value may hold (RFC 9110 5.5): HTAB, SP, VCHAR, obs-text.
constexpr bool isFieldValueByte(unsigned char c) {
    return c == '\t' || (c >= 0x20 && c != 0x7f);
}

bool isToken(std::string_view s) {
    if (s.empty()) return false;
    for (const char c : s) {
        if (!isTchar(static_cast<unsigned char>(c))) return false;
    }
    return true;
}

int hexValue(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

}  // namespace

void RequestFramer::reset() {
    phase_ = Phase::RequestLine;
    pos_ = lineStart_ = end_ = 0;
    contentLength_ = 0;
    hasLength_ = chunked_ = http10_ = false;
    forwardedFor_.clear();
    forwardedForLines_ = 0;
    authorizationLines_ = 0;
}

RequestFrame RequestFramer::refuse(int status) {
    phase_ = Phase::Refused;
    status_ = status;
    return {status, 0};
}

RequestFrame RequestFramer::frameLines(std::string_view input) {
    lineLimit_ = 0;  // no shortcut in frame() unless a line is left incomplete below
    if (phase_ == Phase::Refused) return {status_, 0};
    if (phase_ == Phase::Done) reset();
    for (;;) {
        switch (phase_) {
            case Phase::Body:
                if (input.size() < end_) return {};
                phase_ = Phase::Done;
                return {0, end_};
            case Phase::ChunkData:
                if (input.size() < end_ + 2) {
                    if (input.size() > end_ && input[end_] != '\r') return refuse(400);
                    return {};
                }
                if (input[end_] != '\r' || input[end_ + 1] != '\n') return refuse(400);
                pos_ = lineStart_ = end_ + 2;
                phase_ = Phase::ChunkSize;
                continue;
            case Phase::Done:
            case Phase::Refused:
                return {status_, 0};  // not reached
            default:
                break;
        }
        // A line-based phase: the next line, from where the last scan stopped. Refusals come
        // as they would if the bytes came one at a time: a limit once the byte at `limitAt`
        // is there; a CR not followed by LF (which ends the line for some parsers:
        // http-parser ends the header section at "\r" and any byte) once the byte after it
        // is, before the LF; whichever comes first.
        const bool inHeader = phase_ == Phase::RequestLine || phase_ == Phase::Fields;
        const size_t limitAt = inHeader ? headerLimitAt_ : limits_.maxRequestBytes;
        const auto limitStatus = [&] {
            return inHeader && limitAt == limits_.maxHeaderBytes ? 431 : 413;
        };
        // A CR at [from, to) is not followed by LF (the caller knows the line goes on).
        const auto bareCr = [&](size_t from, size_t to) {
            to = std::min(to, limitAt);
            return from < to && std::memchr(input.data() + from, '\r', to - from) != nullptr;
        };
        const void* nl = pos_ < input.size()
                             ? std::memchr(input.data() + pos_, '\n', input.size() - pos_)
                             : nullptr;
        if (nl == nullptr) {  // everything so far belongs to this request
            const size_t from = pos_ > lineStart_ ? pos_ - 1 : lineStart_;
            if (!input.empty() && bareCr(from, input.size() - 1)) return refuse(400);
            pos_ = input.size();
            if (input.size() > limitAt) return refuse(limitStatus());
            if (input.empty() || input.back() != '\r') lineLimit_ = limitAt;
            return {};
        }
        const size_t eol = size_t(static_cast<const char*>(nl) - input.data());
        const size_t start = lineStart_;
        const size_t from = pos_ > start ? pos_ - 1 : start;
        pos_ = lineStart_ = eol + 1;
        if (eol > start && bareCr(from, eol - 1)) return refuse(400);
        if (pos_ > limitAt) return refuse(limitStatus());
        if (eol == start || input[eol - 1] != '\r') return refuse(400);  // a bare LF
        const std::string_view line = input.substr(start, eol - 1 - start);
        int status = 0;
        switch (phase_) {
            case Phase::RequestLine:
                status = requestLine(line);
                break;
            case Phase::Fields:
                status = line.empty() ? endOfFields() : fieldLine(line, start);
                break;
            case Phase::ChunkSize:
                status = chunkSize(line);
                break;
            default:  // Trailers: field lines, up to an empty line; their content is not used
                if (line.empty()) {
                    phase_ = Phase::Done;
                } else {
                    status = fieldLine(line);
                }
                break;
        }
        if (status != 0) return refuse(status);
        if (phase_ == Phase::Done) return {0, pos_};
    }
}

int RequestFramer::requestLine(std::string_view line) {
    // method SP request-target SP HTTP-version (RFC 9112 3), nothing else.
    const size_t sp1 = line.find(' ');
    if (sp1 == std::string_view::npos || !isToken(line.substr(0, sp1))) return 400;
    // CONNECT turns the connection into a tunnel after its header section (RFC 9110 9.3.6),
    // which other parsers frame differently; this server is no proxy.
    if (line.substr(0, sp1) == "CONNECT") return 400;
    const size_t sp2 = line.find(' ', sp1 + 1);
    if (sp2 == std::string_view::npos || sp2 == sp1 + 1) return 400;
    for (size_t i = sp1 + 1; i < sp2; ++i) {
        const auto c = static_cast<unsigned char>(line[i]);
        if (c <= 0x20 || c >= 0x7f) return 400;  // VCHAR only
    }
    const std::string_view version = line.substr(sp2 + 1);
    if (version == "HTTP/1.0") {
        http10_ = true;
    } else if (version != "HTTP/1.1") {
        return 400;
    }
    phase_ = Phase::Fields;
    return 0;
}

int RequestFramer::fieldLine(std::string_view line, size_t start) {
    // field-name ":" OWS field-value OWS (RFC 9112 5): a token right before the colon (no
    // whitespace: RFC 9112 5.1), and no line starting with whitespace (obs-fold, 5.2).
    size_t colon = 0;
    while (colon < line.size() && isTchar(static_cast<unsigned char>(line[colon]))) ++colon;
    if (colon == 0 || colon == line.size() || line[colon] != ':') return 400;
    for (size_t i = colon + 1; i < line.size(); ++i) {
        if (!isFieldValueByte(static_cast<unsigned char>(line[i]))) return 400;
    }
    if (phase_ != Phase::Fields) return 0;  // trailers: framing only
    const std::string_view name = line.substr(0, colon);
    const std::string_view value = trimOws(line.substr(colon + 1));
    if (name.size() == 14 && equalsIgnoringAsciiCase(name, "content-length")) {
        if (value.empty()) return 400;
        uint64_t v = 0;
        for (const char ch : value) {
            if (ch < '0' || ch > '9') return 400;
            v = v * 10 + uint64_t(ch - '0');
            if (v > limits_.maxRequestBytes) return 413;  // also before it could overflow
        }
        if (hasLength_ && v != contentLength_) return 400;  // two must agree
        hasLength_ = true;
        contentLength_ = v;
    } else if (name.size() == 17 && equalsIgnoringAsciiCase(name, "transfer-encoding")) {
        // Only "chunked", once: a list, a repeat or another coding cannot be framed here.
        if (chunked_ || !equalsIgnoringAsciiCase(value, "chunked")) return 400;
        chunked_ = true;
    } else if (name.size() == 13 && equalsIgnoringAsciiCase(name, "authorization")) {
        ++authorizationLines_;
        authorizationLine_ = {start, line.size() + 2};
        authorizationValue_ = {start + size_t(value.data() - line.data()), value.size()};
    } else if (name.size() == 15 && equalsIgnoringAsciiCase(name, "x-forwarded-for")) {
        ++forwardedForLines_;
        if (!value.empty()) {
            if (!forwardedFor_.empty()) forwardedFor_.append(", ");
            forwardedFor_.append(value);
        }
    }
    return 0;
}

int RequestFramer::endOfFields() {
    // Both framings, or chunked in HTTP/1.0 (RFC 9112 6.1): refused, not guessed.
    if (chunked_ && (hasLength_ || http10_)) return 400;
    if (chunked_) {
        phase_ = Phase::ChunkSize;
        return 0;
    }
    end_ = pos_ + size_t(contentLength_);
    if (end_ > limits_.maxRequestBytes) return 413;
    phase_ = end_ == pos_ ? Phase::Done : Phase::Body;
    return 0;
}

int RequestFramer::chunkSize(std::string_view line) {
    // chunk-size CRLF, chunk-size = 1*HEXDIG (RFC 9112 7.1).
    if (line.empty()) return 400;
    uint64_t size = 0;
    for (const char ch : line) {
        const int v = hexValue(ch);
        if (v < 0) return 400;
        size = size * 16 + uint64_t(v);
        if (size > limits_.maxRequestBytes) return 413;
    }
    if (size == 0) {
        phase_ = Phase::Trailers;
        return 0;
    }
    end_ = pos_ + size_t(size);
    if (end_ + 2 > limits_.maxRequestBytes) return 413;
    phase_ = Phase::ChunkData;
    return 0;
}

RequestFrame frameRequest(std::string_view input, size_t limit, size_t maxHeaderBytes) {
    RequestFramer framer({limit, maxHeaderBytes});
    return framer.frame(input);
}

}  // namespace authsvc::app
