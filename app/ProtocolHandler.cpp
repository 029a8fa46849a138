#include "app/ProtocolHandler.h"

#include <pistache/peer.h>

namespace authsvc::app {

namespace Http = Pistache::Http;

namespace {
constexpr size_t kHeaderRoom = 32 * 1024;

// `text` equals `lower` (lower-case) in ASCII letters of either case; locale-free.
bool equalsIgnoringAsciiCase(std::string_view text, std::string_view lower) {
    if (text.size() != lower.size()) return false;
    for (size_t i = 0; i < text.size(); ++i) {
        const char c = text[i] >= 'A' && text[i] <= 'Z' ? char(text[i] + ('a' - 'A')) : text[i];
        if (c != lower[i]) return false;
    }
    return true;
}
}  // namespace

// Pistache's parser reserves a body of the declared Content-Length before reading it,
// so "Content-Length: 99999999999" would allocate 100 GB. Looks at the header block in
// this chunk of input: 413 for a declared length beyond the request limit, 400 for one
// that is not a plain number. (A header split across two reads is not seen here; the
// parser's own failure is then caught as a 400.)
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

void ProtocolHandler::onInput(const char* buffer, size_t len,
                              const std::shared_ptr<Pistache::Tcp::Peer>& peer) {
    auto parser = getParser(peer);
    auto& request = parser->request;
    bool complete = false;
    int errorStatus = declaredLengthProblem(std::string_view(buffer, len), getMaxRequestSize());
    try {
        if (errorStatus != 0) {
            // refused before Pistache reserves the declared length
        } else if (!parser->feed(buffer, len)) {
            errorStatus = 413;
        } else {
            complete = parser->parse() == Http::Private::State::Done;
        }
    } catch (const Http::HttpError& e) {
        errorStatus = e.code();
    } catch (const std::exception&) {
        errorStatus = 400;  // the parser refused the request (e.g. a bad Content-Length)
    }
    if (errorStatus != 0) {
        Http::ResponseWriter response(request.version(), transport(), this, peer);
        parser->reset();
        onProtocolError(std::move(response), errorStatus);
        return;
    }
    if (!complete) return;

    Http::ResponseWriter response(request.version(), transport(), this, peer);
    request.copyAddress(peer->address());
    if (auto connection = request.headers().tryGet<Http::Header::Connection>()) {
        response.headers().add<Http::Header::Connection>(connection->control());
    } else if (request.version() == Http::Version::Http10) {
        response.headers().add<Http::Header::Connection>(Http::ConnectionControl::Close);
    }
    peer->setIdle(false);
    onRequest(request, std::move(response));
    parser->reset();
}

Http::Endpoint::Options endpointOptions(int threads, int64_t maxBodyBytes) {
    return Http::Endpoint::options()
        .threads(threads)
        .flags(Pistache::Tcp::Options::ReuseAddr)
        .backlog(1024)
        .maxRequestSize(size_t(maxBodyBytes) * 2 + kHeaderRoom)
        .maxResponseSize(4 * 1024 * 1024)
        .headerTimeout(std::chrono::seconds(10))
        .bodyTimeout(std::chrono::seconds(10))
        .keepaliveTimeout(std::chrono::seconds(30));
}

}  // namespace authsvc::app
