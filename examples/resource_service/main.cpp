// resource-service: an example of a service that trusts authsvc's access tokens without
// sharing a secret with it. It fetches authsvc's public keys from --jwks-url (refreshed
// per Cache-Control, refetched on an unknown kid; see verify/JwksKeySource.h) and serves
//   GET /api/protected-resource -> 200 {"data": "This is a protected resource.", "sub": ...}
// with authsvc's RFC 6750 answers otherwise: 401 missing_token (bare challenge) without an
// Authorization header, 400 invalid_request for a header that is not "Bearer <token>", 401
// invalid_token with error_description for a refused token; 404 not_found for any other
// path, 405 method_not_allowed for another method. Bodies are authsvc's error envelope
// {"error": code, "message": text}.
// Usage: resource-service --jwks-url URL --issuer ISS --audience AUD --port N [--host H]
// Prints "listening on HOST:PORT" (the real port, also for --port 0) once it accepts
// connections; stops on SIGTERM or SIGINT.
#include <pistache/endpoint.h>
#include <pistache/http.h>

#include <signal.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "verify/JwksKeySource.h"
#include "verify/Verifier.h"

namespace {

namespace Http = Pistache::Http;
using nlohmann::json;

constexpr const char* kRealm = "resource-service";

// Pistache 0.0.5 writes only typed response headers: one for the challenge.
class WwwAuthenticate : public Http::Header::Header {
  public:
    NAME("WWW-Authenticate")
    WwwAuthenticate() = default;
    explicit WwwAuthenticate(std::string value) : value_(std::move(value)) {}
    void parse(const std::string& data) override { value_ = data; }
    void write(std::ostream& os) const override { os << value_; }

  private:
    std::string value_;
};

class Handler : public Http::Handler {
  public:
    HTTP_PROTOTYPE(Handler)

    explicit Handler(std::shared_ptr<const authsvc::verify::Verifier> verifier)
        : verifier_(std::move(verifier)) {}

    void onRequest(const Http::Request& req, Http::ResponseWriter resp) override {
        // HTTP/1.1 is keep-alive unless the client says otherwise (RFC 9112 9.3); Pistache
        // 0.0.5 answers "Connection: Close" to a request without a Connection header yet
        // keeps the socket open, so clients would reconnect for every request.
        if (req.version() == Http::Version::Http11 &&
            !req.headers().has<Http::Header::Connection>()) {
            resp.headers().remove<Http::Header::Connection>();
        }
        try {
            route(req, resp);
        } catch (const std::exception& e) {
            // Nothing above is expected to throw; never let Pistache put e.what() in a body.
            std::cerr << "request failed: " << e.what() << std::endl;
            try {
                send(resp, Http::Code::Internal_Server_Error,
                     error("internal_error", "Internal server error"));
            } catch (...) {
            }
        }
    }

  private:
    static json error(const std::string& code, const std::string& message) {
        return json{{"error", code}, {"message", message}};
    }

    static void send(Http::ResponseWriter& resp, Http::Code code, const json& body) {
        resp.headers().add<Http::Header::ContentType>(MIME(Application, Json));
        resp.send(code, body.dump());
    }

    void route(const Http::Request& req, Http::ResponseWriter& resp) const {
        if (req.resource() != "/api/protected-resource") {
            send(resp, Http::Code::Not_Found, error("not_found", "No such resource"));
            return;
        }
        if (req.method() != Http::Method::Get) {
            resp.headers().add<Http::Header::Allow>(Http::Method::Get);
            send(resp, Http::Code::Method_Not_Allowed,
                 error("method_not_allowed", "Use GET for this resource"));
            return;
        }
        std::optional<std::string> authorization;
        if (auto h = req.headers().tryGet<Http::Header::Authorization>()) {
            authorization = h->value();
        }
        const auto v = verifier_->verifyAuthorization(
            authorization ? std::optional<std::string_view>(*authorization) : std::nullopt);
        if (!v) {
            namespace verify = authsvc::verify;
            const char* code = v.reason == verify::Reason::MissingToken
                                   ? "missing_token"
                                   : verify::rfc6750Code(verify::errorCodeOf(v.reason));
            resp.headers().add<WwwAuthenticate>(verify::challenge(v.reason, kRealm));
            send(resp, static_cast<Http::Code>(verify::httpStatus(v.reason)),
                 error(code, verify::reasonText(v.reason)));
            return;
        }
        send(resp, Http::Code::Ok,
             json{{"data", "This is a protected resource."}, {"sub", v.claims->sub}});
    }

    std::shared_ptr<const authsvc::verify::Verifier> verifier_;
};

}  // namespace

int main(int argc, char** argv) {
    std::string jwksUrl, issuer, audience, host = "127.0.0.1";
    int port = -1;
    CLI::App app{"An example resource service verifying authsvc's access tokens via JWKS"};
    app.add_option("--jwks-url", jwksUrl,
                   "authsvc's JWKS, e.g. http://127.0.0.1:8080/.well-known/jwks.json")
        ->required();
    app.add_option("--issuer", issuer, "The iss the tokens must carry")->required();
    app.add_option("--audience", audience, "The aud the tokens must contain")->required();
    app.add_option("--port", port, "Port to listen on (0: any free port)")
        ->required()
        ->check(CLI::Range(0, 65535));
    app.add_option("--host", host, "IPv4 address to listen on")->capture_default_str();
    CLI11_PARSE(app, argc, argv);

    // SIGTERM and SIGINT are taken with sigwait below: blocked before any thread starts.
    sigset_t stopSignals;
    sigemptyset(&stopSignals);
    sigaddset(&stopSignals, SIGTERM);
    sigaddset(&stopSignals, SIGINT);
    pthread_sigmask(SIG_BLOCK, &stopSignals, nullptr);
    signal(SIGPIPE, SIG_IGN);

    try {
        authsvc::verify::JwksOptions jwksOptions;
        jwksOptions.log = [](const std::string& line) { std::cerr << line << std::endl; };
        auto keys = std::make_shared<authsvc::verify::JwksKeySource>(jwksUrl, jwksOptions);
        std::cerr << "JWKS " << jwksUrl << ": " << keys->keys()->keys().size() << " key(s)"
                  << std::endl;
        auto verifier = std::make_shared<const authsvc::verify::Verifier>(
            authsvc::verify::VerifierOptions{issuer, audience}, keys);

        Pistache::Address address(host, Pistache::Port(uint16_t(port)));
        Http::Endpoint endpoint(address);
        endpoint.init(Http::Endpoint::options()
                          .threads(2)
                          .flags(Pistache::Tcp::Options::ReuseAddr)
                          .maxRequestSize(16 * 1024)
                          .headerTimeout(std::chrono::seconds(5))
                          .bodyTimeout(std::chrono::seconds(10))
                          .keepaliveTimeout(std::chrono::seconds(30)));
        endpoint.setHandler(Http::make_handler<Handler>(verifier));
        endpoint.serveThreaded();
        std::cout << "listening on " << host << ":" << uint16_t(endpoint.getPort()) << std::endl;

        int sig = 0;
        sigwait(&stopSignals, &sig);
        endpoint.shutdown();
    } catch (const std::exception& e) {
        std::cerr << "resource-service: " << e.what() << std::endl;
        return 1;
    }
    return 0;
}
