// Fuzz target: our request framing (app::RequestFramer) against a second, independent
// HTTP/1.1 parser: Debian's libhttp-parser-dev 2.9.4 (nodejs/http-parser, Node's former
// parser). Two parsers that disagree on where a request ends are what request smuggling
// between a proxy and a server is made of; ours sits behind proxies, so wherever the two
// disagree ours must refuse.
// Input: the bytes of a connection (one or more requests, pipelined).
// Checks, request after request while both go on:
// - where http-parser frames a complete request (it errors on methods it does not know, so
//   only methods both accept are compared), ours frames the same bytes or refuses: never
//   another length, and never "incomplete" (ours would read on into the next request);
// - where ours frames a complete request, http-parser ends it at the same byte, or errors,
//   or (CONNECT, Upgrade) stops parsing HTTP there;
// - ours gives the same verdict fed one byte at a time (resuming between reads) as fed
//   everything at once.
#include <http_parser.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>

#include "app/http/RequestFramer.h"

namespace {

constexpr size_t kMaxRequestBytes = 4096;
constexpr size_t kMaxHeaderBytes = 2048;

struct TheirFrame {
    enum Kind { Complete, Incomplete, Error } kind = Incomplete;
    size_t length = 0;
    bool stops = false;  // CONNECT or Upgrade: what follows is not HTTP to it
};

int onMessageComplete(http_parser* parser) {
    *static_cast<bool*>(parser->data) = true;
    http_parser_pause(parser, 1);  // execute() returns right after the request's last byte
    return 0;
}

// http-parser's frame of the next request in `input` (the parser goes on from where it
// stopped).
TheirFrame theirFrame(http_parser& parser, const http_parser_settings& settings,
                      std::string_view input) {
    bool complete = false;
    parser.data = &complete;
    http_parser_pause(&parser, 0);
    const size_t n = http_parser_execute(&parser, &settings, input.data(), input.size());
    if (complete) return {TheirFrame::Complete, n, parser.upgrade != 0};
    if (HTTP_PARSER_ERRNO(&parser) != HPE_OK) return {TheirFrame::Error, 0, false};
    return {TheirFrame::Incomplete, 0, false};
}

authsvc::app::RequestFrame ourFrameBytewise(std::string_view input) {
    authsvc::app::RequestFramer framer({kMaxRequestBytes, kMaxHeaderBytes});
    authsvc::app::RequestFrame f;
    for (size_t n = 1; n <= input.size(); ++n) {
        f = framer.frame(input.substr(0, n));
        if (f.status != 0 || f.length != 0) break;
    }
    return f;
}

[[noreturn]] void finding(const char* what, std::string_view input, size_t ours, size_t theirs) {
    std::fprintf(stderr, "%s: ours %zu, http-parser %zu, at [%.*s]\n", what, ours, theirs,
                 int(input.size() > 300 ? 300 : input.size()), input.data());
    std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    std::string_view input(reinterpret_cast<const char*>(data), size);
    http_parser_settings settings;
    http_parser_settings_init(&settings);
    settings.on_message_complete = onMessageComplete;
    http_parser parser;
    http_parser_init(&parser, HTTP_REQUEST);
    authsvc::app::RequestFramer ours({kMaxRequestBytes, kMaxHeaderBytes});
    for (int requests = 0; !input.empty() && requests < 16; ++requests) {
        const authsvc::app::RequestFrame mine = ours.frame(input);
        const authsvc::app::RequestFrame bytewise = ourFrameBytewise(input);
        if (bytewise.status != mine.status || bytewise.length != mine.length) {
            finding("byte by byte differs from at once", input, mine.length, bytewise.length);
        }
        if (mine.status != 0) return 0;  // refused: the connection ends here
        const TheirFrame theirs = theirFrame(parser, settings, input);
        if (theirs.kind == TheirFrame::Error) return 0;  // it refuses: nothing to compare
        if (theirs.kind == TheirFrame::Complete) {
            // It ends a request: ours ends the same one there (or refused, above).
            if (mine.length != theirs.length) {
                finding("http-parser ends a request where ours does not", input, mine.length,
                        theirs.length);
            }
            if (theirs.stops) return 0;
        } else if (mine.length != 0) {
            finding("ours ends a request that http-parser reads on", input, mine.length, 0);
        }
        if (mine.length == 0) return 0;  // both wait for more
        input.remove_prefix(mine.length);
    }
    return 0;
}
