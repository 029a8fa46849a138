// RequestFramer: where a request ends, the strict request grammar (RFC 9112), the limits,
// resuming between reads, and repeated X-Forwarded-For lines.
#include "app/http/RequestFramer.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

using authsvc::app::frameRequest;
using authsvc::app::RequestFrame;
using authsvc::app::RequestFramer;

namespace {

// The frame of the first request in `input` when it arrives one byte at a time: each call
// sees the bytes so far (as ProtocolHandler keeps them), until a result that is not
// "incomplete".
RequestFrame framedBytewise(const std::string& input, size_t limit, size_t maxHeaderBytes) {
    RequestFramer framer({limit, maxHeaderBytes});
    RequestFrame f;
    for (size_t n = 1; n <= input.size(); ++n) {
        f = framer.frame(std::string_view(input).substr(0, n));
        if (f.status != 0 || f.length != 0) break;
    }
    return f;
}

int statusOf(const std::string& input, size_t limit = 1000) {
    return frameRequest(input, limit).status;
}

const std::string kChunkedHead = "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n";

}  // namespace

TEST(RequestFramerTest, AGetEndsAtTheEmptyLine) {
    const std::string get = "GET / HTTP/1.1\r\nHost: a\r\n\r\n";
    EXPECT_EQ(frameRequest(get, 100).length, get.size());
    EXPECT_EQ(frameRequest(get + get + "GET /x", 100).length, get.size());   // pipelined
    EXPECT_EQ(frameRequest(get.substr(0, get.size() - 1), 100).length, 0u);  // incomplete
    EXPECT_EQ(frameRequest(get.substr(0, get.size() - 1), 100).status, 0);
    EXPECT_EQ(frameRequest("", 100).length, 0u);
    EXPECT_EQ(frameRequest("", 100).status, 0);
}

TEST(RequestFramerTest, ABodyOfContentLengthBelongsToTheRequest) {
    const std::string post = "POST / HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello";
    EXPECT_EQ(frameRequest(post, 100).length, post.size());
    EXPECT_EQ(frameRequest(post + "GET / HTTP/1.1\r\n\r\n", 100).length, post.size());
    EXPECT_EQ(frameRequest(post.substr(0, post.size() - 1), 100).length, 0u);
    EXPECT_EQ(frameRequest(post.substr(0, post.size() - 1), 100).status, 0);
    // Optional whitespace around the value, leading zeros, any case of the name.
    for (const char* line : {"Content-Length:5", "content-length: \t5\t ", "CONTENT-LENGTH: 005"}) {
        const std::string req = std::string("POST / HTTP/1.1\r\n") + line + "\r\n\r\nhello";
        EXPECT_EQ(frameRequest(req, 100).length, req.size()) << line;
    }
    // The same length twice is one length (RFC 9110 8.6).
    const std::string twice =
        "POST / HTTP/1.1\r\nContent-Length: 3\r\nContent-Length: 3\r\n\r\nabc";
    EXPECT_EQ(frameRequest(twice, 100).length, twice.size());
}

TEST(RequestFramerTest, AChunkedBodyEndsAfterTheLastChunkAndTrailers) {
    const std::string body = "5\r\nhello\r\nA\r\n0123456789\r\n0\r\n\r\n";
    EXPECT_EQ(frameRequest(kChunkedHead + body + "GET /", 100).length,
              kChunkedHead.size() + body.size());
    const std::string trailers = "0\r\nX-T: 1\r\nX-U:\r\n\r\n";
    EXPECT_EQ(frameRequest(kChunkedHead + trailers, 100).length,
              kChunkedHead.size() + trailers.size());
    for (size_t cut = 1; cut < body.size(); ++cut) {
        const RequestFrame f = frameRequest(kChunkedHead + body.substr(0, cut), 100);
        EXPECT_EQ(f.length, 0u) << cut;
        EXPECT_EQ(f.status, 0) << cut;
    }
    // Upper- or lower-case hex digits, leading zeros, "Chunked" in any case.
    const std::string other =
        "POST / HTTP/1.1\r\nTransfer-Encoding:  CHUNKED \r\n\r\n"
        "00b\r\nhello world\r\n0000\r\n\r\n";
    EXPECT_EQ(frameRequest(other, 100).length, other.size());
    EXPECT_EQ(statusOf(kChunkedHead + "zz\r\n"), 400);
    EXPECT_EQ(statusOf(kChunkedHead + "5\r\nhelloXX0\r\n\r\n"), 400);
    EXPECT_EQ(frameRequest(kChunkedHead + "65\r\n", 100).status, 413);  // 101 bytes
}

TEST(RequestFramerTest, ADeclaredLengthBeyondTheLimitIs413BeforeTheBodyArrives) {
    for (const char* name :
         {"Content-Length", "content-length", "CONTENT-LENGTH", "cOnTeNt-LeNgTh"}) {
        // Only the line is complete: the 413 comes before the rest of the header block.
        const std::string req = std::string("POST / HTTP/1.1\r\nHost: a\r\n") + name + ": 101\r\n";
        EXPECT_EQ(frameRequest(req, 100).status, 413) << name;
    }
    EXPECT_EQ(
        frameRequest("POST / HTTP/1.1\r\nContent-Length: 99999999999999999999999\r\n", 100).status,
        413);
    // The second of two lengths too; and the request as a whole (headers and body).
    EXPECT_EQ(
        frameRequest("POST / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 999\r\n", 100).status,
        413);
    EXPECT_EQ(frameRequest("POST / HTTP/1.1\r\nContent-Length: 90\r\n\r\n", 100).status, 413);
    EXPECT_EQ(frameRequest("GET / HTTP/1.1\r\nX: " + std::string(200, 'a'), 100).status, 413);
    EXPECT_EQ(
        frameRequest(kChunkedHead + "40\r\n" + std::string(64, 'a') + "\r\n30\r\n", 150).status,
        413);
}

TEST(RequestFramerTest, OnlyFieldNamesAtLineStartsCount) {
    // In a value, in the body, or a longer field name: not a Content-Length.
    const std::string inValue = "GET / HTTP/1.1\r\nX-A: content-length: 999\r\n\r\n";
    EXPECT_EQ(frameRequest(inValue, 100).length, inValue.size());
    const std::string body = "content-length: 999\r\n";
    const std::string inBody =
        "POST / HTTP/1.1\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
    EXPECT_EQ(frameRequest(inBody, 100).length, inBody.size());
    const std::string longer =
        "GET / HTTP/1.1\r\nX-Content-Length: 999\r\nContent-Lengthy: 9\r\n\r\n";
    EXPECT_EQ(frameRequest(longer, 100).length, longer.size());
}

TEST(RequestFramerTest, TheRequestLineIsMethodTargetAndExactlyHttp10Or11) {
    for (const char* ok : {"GET / HTTP/1.1", "GET / HTTP/1.0", "OPTIONS * HTTP/1.1",
                           "GET http://a.example/x?y=1 HTTP/1.1", "M-SEARCH /%7e HTTP/1.1"}) {
        const std::string req = std::string(ok) + "\r\n\r\n";
        EXPECT_EQ(frameRequest(req, 100).length, req.size()) << ok;
    }
    for (const char* bad : {"GET / HTTP/1.",
                            "GET / HTTP/1",
                            "GET / HTTP/",
                            "GET / ",
                            "GET /",
                            "GET / HTTP/1.2",
                            "GET / HTTP/2.0",
                            "GET / HTTP/0.9",
                            "GET / http/1.1",
                            "GET / HTTP/1.1 ",
                            "GET  / HTTP/1.1",
                            "GET /  HTTP/1.1",
                            " GET / HTTP/1.1",
                            "GET\t/ HTTP/1.1",
                            "GE(T / HTTP/1.1",
                            "GET",
                            "",
                            "GET /a\x01 HTTP/1.1",
                            "GET /\x7f HTTP/1.1",
                            "GET /\xc3\xa9 HTTP/1.1",
                            "GET /\r HTTP/1.1",
                            "G\0T / HTTP/1.1"}) {
        const std::string line =
            bad[0] == 'G' && bad[1] == '\0' ? std::string("G\0T / HTTP/1.1", 14) : std::string(bad);
        EXPECT_EQ(statusOf(line + "\r\nHost: a\r\n\r\n"), 400) << "[" << line << "]";
    }
    // An empty line before the request line is not skipped.
    EXPECT_EQ(statusOf("\r\nGET / HTTP/1.1\r\n\r\n"), 400);
}

TEST(RequestFramerTest, FieldLinesFollowTheGrammarOrTheRequestIsRefused) {
    for (const char* bad : {
             "Content-Length : 5",   // whitespace before the colon
             "Content-Length\t: 5",  // also a tab
             "Host : a",             // any field
             "X-A: 1\r\n b",         // obs-fold
             "X-A: 1\r\n\tb",        // obs-fold with a tab
             " X-A: 1",              // whitespace before the first field
             "NoColonHere",          // a line without a colon
             ": value",              // an empty name
             "X A: 1",               // whitespace inside the name
             "X-A\x01: 1",           // a control in the name
             "X-A: a\rb",            // a bare CR in a value
             "X-A: a\r",             // a bare CR before the CRLF
             "X-A: a\x7f",           // DEL
             "X-A: a\x01",           // another control
             "X-A: a\x1b[0m",        // an escape sequence
             "X-\xc3\xa9: 1",        // obs-text is no token
         }) {
        const std::string req = std::string("GET / HTTP/1.1\r\n") + bad + "\r\n\r\n";
        EXPECT_EQ(statusOf(req), 400) << "[" << bad << "]";
    }
    // NUL anywhere in a field line.
    EXPECT_EQ(statusOf(std::string("GET / HTTP/1.1\r\nX-A: a\0b\r\n\r\n", 27)), 400);
    EXPECT_EQ(statusOf(std::string("GET / HTTP/1.1\r\nX\0A: 1\r\n\r\n", 25)), 400);
    // What a value may hold: HTAB, SP, VCHAR, obs-text; also nothing.
    const std::string ok = "GET / HTTP/1.1\r\nX-A: a\tb c~\xc3\xa9\xff\r\nX-B:\r\nX-C:   \r\n\r\n";
    EXPECT_EQ(frameRequest(ok, 100).length, ok.size());
}

TEST(RequestFramerTest, CrlfIsTheOnlyLineEnd) {
    for (const char* bad : {
             "GET / HTTP/1.1\nHost: a\r\n\r\n",      // after the request line
             "GET / HTTP/1.1\r\nHost: a\n\r\n",      // after a field
             "GET / HTTP/1.1\r\nHost: a\r\n\n",      // the empty line
             "GET / HTTP/1.1\n\n",                   // LF only
             "GET / HTTP/1.1\rHost: a\r\n\r\n",      // a bare CR as a line end
             "GET / HTTP/1.1\r\nHost: a\r\r\n\r\n",  // CR CR LF
             "GET / HTTP/1.1\r\nHost: a\r\n\r\r\n",  // the empty line with CR CR LF
         }) {
        EXPECT_EQ(statusOf(bad), 400) << "[" << bad << "]";
    }
    // In a chunked body: chunk-size lines, data ends and trailers.
    EXPECT_EQ(statusOf(kChunkedHead + "5\nhello\r\n0\r\n\r\n"), 400);
    EXPECT_EQ(statusOf(kChunkedHead + "5\r\nhello\n0\r\n\r\n"), 400);
    EXPECT_EQ(statusOf(kChunkedHead + "5\r\nhello\r\n0\n\n"), 400);
    EXPECT_EQ(statusOf(kChunkedHead + "5\r\nhello\r\n0\r\n\n"), 400);
    EXPECT_EQ(statusOf(kChunkedHead + "5\r\nhello\r\n0\r\nX: 1\n\r\n"), 400);
    EXPECT_EQ(statusOf(kChunkedHead + "5\r\nhello\r\n0\r\nX : 1\r\n\r\n"), 400);
}

TEST(RequestFramerTest, TheSmugglingClassicsAreRefused) {
    const std::string post = "POST / HTTP/1.1\r\nHost: a\r\n";
    for (const char* fields : {
             // CL.TE and TE.CL: both framings.
             "Content-Length: 6\r\nTransfer-Encoding: chunked\r\n",
             "Transfer-Encoding: chunked\r\nContent-Length: 6\r\n",
             // TE.TE: an obfuscated or repeated Transfer-Encoding.
             "Transfer-Encoding: xchunked\r\n",
             "Transfer-Encoding: chunked, identity\r\n",
             "Transfer-Encoding: identity, chunked\r\n",
             "Transfer-Encoding: chunked, chunked\r\n",
             "Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n",
             "Transfer-Encoding: chunked\r\nTransfer-Encoding: x\r\n",
             "Transfer-Encoding: \"chunked\"\r\n",
             "Transfer-Encoding: chunked;q=1\r\n",
             "Transfer-Encoding:\x0b"
             "chunked\r\n",
             "Transfer-Encoding : chunked\r\n",
             "Transfer-Encoding\r\n : chunked\r\n",
             "Transfer-Encoding: gzip\r\n",
             "Transfer-Encoding:\r\n",
             "X: 1\r\n Transfer-Encoding: chunked\r\n",
             // Content-Length: two that differ, a sign, spaces, a list, not a number.
             "Content-Length: 3\r\nContent-Length: 4\r\n",
             "Content-Length: +3\r\n",
             "Content-Length: -3\r\n",
             "Content-Length: 3 4\r\n",
             "Content-Length: 3, 3\r\n",
             "Content-Length: 0x3\r\n",
             "Content-Length: 3a\r\n",
             "Content-Length: 3.0\r\n",
             "Content-Length:\r\n",
             "Content-Length : 3\r\n",
         }) {
        EXPECT_EQ(statusOf(post + fields + "\r\n0\r\n\r\n"), 400) << "[" << fields << "]";
    }
    // Chunked in HTTP/1.0 (RFC 9112 6.1).
    EXPECT_EQ(statusOf("POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"), 400);
    // chunk-size: 1*HEXDIG, nothing else.
    for (const char* size :
         {"0x5", "0X5", "+5", "-5", " 5", "5 ", "5\t", "5;ext=1", "5;", "5 ;a", "", "g"}) {
        EXPECT_EQ(statusOf(kChunkedHead + size + "\r\nhello\r\n0\r\n\r\n"), 400)
            << "[" << size << "]";
    }
    EXPECT_EQ(statusOf(kChunkedHead + "5\r\nhello\r\n0;ext\r\n\r\n"), 400);
}

TEST(RequestFramerTest, TheHeaderSectionHasItsOwnLimit) {
    const std::string head = "GET / HTTP/1.1\r\nX: ";
    const std::string end = "\r\n\r\n";
    const size_t limit = 200;
    const std::string atLimit = head + std::string(limit - head.size() - end.size(), 'a') + end;
    ASSERT_EQ(atLimit.size(), limit);
    EXPECT_EQ(frameRequest(atLimit, 10000, limit).length, limit);
    const std::string over = head + std::string(limit - head.size() - end.size() + 1, 'a') + end;
    EXPECT_EQ(frameRequest(over, 10000, limit).status, 431);
    // Refused once the bytes pass it, before the header section ends.
    EXPECT_EQ(frameRequest(head + std::string(limit, 'a'), 10000, limit).status, 431);
    EXPECT_EQ(framedBytewise(head + std::string(limit, 'a') + end, 10000, limit).status, 431);
    // The body does not count.
    const std::string post =
        "POST / HTTP/1.1\r\nContent-Length: 500\r\n\r\n" + std::string(500, 'b');
    EXPECT_EQ(frameRequest(post, 10000, limit).length, post.size());
    // The default: 16 KiB.
    EXPECT_EQ(frameRequest(head + std::string(16384, 'a') + end, 1 << 20).status, 431);
    const std::string big = head + std::string(16000, 'a') + end;
    EXPECT_EQ(frameRequest(big, 1 << 20).length, big.size());
}

TEST(RequestFramerTest, PieceByPieceFramesAsAtOnce) {
    const std::vector<std::string> requests = {
        "GET / HTTP/1.1\r\nHost: a\r\n\r\n",
        "POST / HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello",
        kChunkedHead + "5\r\nhello\r\nA\r\n0123456789\r\n0\r\nX-T: 1\r\n\r\n",
        "GET / HTTP/1.1\r\nHost : a\r\n\r\n",
        "GET / HTTP/1.1\nHost: a\r\n\r\n",
        kChunkedHead + "5\r\nhelloXX",
        kChunkedHead + "0x5\r\nhello\r\n0\r\n\r\n",
        "POST / HTTP/1.1\r\nContent-Length: 500\r\n\r\n",
        "GET / HTTP/1.1\r\nX: " + std::string(300, 'a') + "\r\n\r\n",
    };
    for (const auto& r : requests) {
        for (const std::string& input : {r, r + "GET / HTTP/1.1\r\n\r\n"}) {
            const RequestFrame once = frameRequest(input, 400, 200);
            const RequestFrame bytewise = framedBytewise(input, 400, 200);
            EXPECT_EQ(bytewise.status, once.status) << input;
            EXPECT_EQ(bytewise.length, once.length) << input;
        }
    }
}

TEST(RequestFramerTest, OneFramerFramesOneRequestAfterAnother) {
    const std::string first = "POST / HTTP/1.1\r\nContent-Length: 2\r\n\r\nab";
    const std::string second = kChunkedHead + "1\r\nx\r\n0\r\n\r\n";
    const std::string input = first + second + "GET";
    RequestFramer framer({1000, 1000});
    EXPECT_EQ(framer.frame(input).length, first.size());
    std::string_view rest = std::string_view(input).substr(first.size());
    EXPECT_EQ(framer.frame(rest.substr(0, 10)).length, 0u);  // incomplete, then resumed
    EXPECT_EQ(framer.frame(rest).length, second.size());
    rest.remove_prefix(second.size());
    const RequestFrame third = framer.frame(rest);
    EXPECT_EQ(third.status, 0);
    EXPECT_EQ(third.length, 0u);
    // A refused request stays refused.
    RequestFramer refusing({1000, 1000});
    EXPECT_EQ(refusing.frame("GET / HTTP/1.1\n").status, 400);
    EXPECT_EQ(refusing.frame("GET / HTTP/1.1\r\n\r\n").status, 400);
}

TEST(RequestFramerTest, RepeatedForwardedForLinesAreCombinedInOrder) {
    RequestFramer framer({1000, 1000});
    const std::string two =
        "GET / HTTP/1.1\r\nX-Forwarded-For: 198.51.100.7, 10.0.0.2\r\n"
        "Host: a\r\nx-forwarded-for:\t203.0.113.9 \r\nX-Forwarded-For:\r\n\r\n";
    ASSERT_EQ(framer.frame(two).length, two.size());
    EXPECT_EQ(framer.forwardedFor(), "198.51.100.7, 10.0.0.2, 203.0.113.9");
    EXPECT_EQ(framer.forwardedForLines(), 3u);
    const std::string one = "GET / HTTP/1.1\r\nX-Forwarded-For: 192.0.2.1\r\n\r\n";
    ASSERT_EQ(framer.frame(one).length, one.size());
    EXPECT_EQ(framer.forwardedFor(), "192.0.2.1");
    EXPECT_EQ(framer.forwardedForLines(), 1u);
    const std::string none = "GET / HTTP/1.1\r\n\r\n";
    ASSERT_EQ(framer.frame(none).length, none.size());
    EXPECT_EQ(framer.forwardedFor(), "");
    EXPECT_EQ(framer.forwardedForLines(), 0u);
}

TEST(RequestFramerTest, TheOneAuthorizationLineIsLocated) {
    RequestFramer framer({1000, 1000});
    const std::string line = "authorization: \tBearer abc.def.ghi \r\n";
    const std::string one = "GET / HTTP/1.1\r\nHost: a\r\n" + line + "X-A: b\r\n\r\n";
    ASSERT_EQ(framer.frame(one).length, one.size());
    ASSERT_EQ(framer.authorizationLines(), 1u);
    const auto where = framer.authorizationLine();
    EXPECT_EQ(one.substr(where.pos, where.len), line);
    const auto value = framer.authorizationValue();
    EXPECT_EQ(one.substr(value.pos, value.len), "Bearer abc.def.ghi");  // without OWS
    // Pieces locate it as one read does (offsets from the request's first byte).
    RequestFramer pieces({1000, 1000});
    RequestFrame f;
    for (size_t n = 1; n <= one.size() && f.length == 0; ++n) {
        f = pieces.frame(std::string_view(one).substr(0, n));
    }
    ASSERT_EQ(f.length, one.size());
    EXPECT_EQ(pieces.authorizationLine().pos, where.pos);
    EXPECT_EQ(pieces.authorizationValue().pos, value.pos);
    const std::string two =
        "GET / HTTP/1.1\r\nAuthorization: Bearer a\r\nAuthorization: Bearer b\r\n\r\n";
    ASSERT_EQ(framer.frame(two).length, two.size());
    EXPECT_EQ(framer.authorizationLines(), 2u);
    const std::string none = "GET / HTTP/1.1\r\nAuthorizations: x\r\n\r\n";
    ASSERT_EQ(framer.frame(none).length, none.size());
    EXPECT_EQ(framer.authorizationLines(), 0u);
}
