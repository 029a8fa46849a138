// The request and response a controller sees, the context a Bearer route's handler gets,
// and the errors only HTTP has: plain values, independent of Pistache, so controllers and
// the checks before them (middleware/) are unit-tested without a socket. The controllers'
// interface; includes only common/ and verify/.
#pragma once

#include <exception>
#include <functional>

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "common/Error.h"
#include "verify/AccessClaims.h"

namespace authsvc::controllers {

struct HttpRequest {
    std::string method;  // "GET", "POST", ...
    std::string path;
    std::string body;
    bool jsonContentType = false;
    // Content-Type: application/x-www-form-urlencoded (the OAuth routes' bodies).
    bool formContentType = false;
    std::optional<std::string> authorization;
    // The client's address (app::Dispatcher::clientAddress): set for the routes on a worker
    // pool, and for every request while the access log is on; else empty.
    std::string clientIp;
    std::string requestId;
    // The User-Agent header, for the routes that ask for it (Route::readsUserAgent); else empty.
    std::string userAgent;
    // The last segment of a path like "/api/sessions/{id}" as sent (not percent-decoded);
    // empty for routes with a fixed path.
    std::string pathParam;
    // The query string's parameters as Pistache parsed them (not percent-decoded; a name
    // given twice keeps one value).
    std::vector<std::pair<std::string, std::string>> query;

    const std::string* queryParam(std::string_view name) const {
        for (const auto& [k, v] : query) {
            if (k == name) return &v;
        }
        return nullptr;
    }
};

// Handed to handlers of Bearer routes only: its presence is checked by the compiler.
// The claims are shared with the verified-token cache, so a cache hit copies none of
// their strings.
class AuthContext {
  public:
    explicit AuthContext(verify::AccessClaims claims)
        : claims_(std::make_shared<const verify::AccessClaims>(std::move(claims))) {}
    explicit AuthContext(std::shared_ptr<const verify::AccessClaims> claims)
        : claims_(std::move(claims)) {}
    const verify::AccessClaims& claims() const { return *claims_; }

  private:
    std::shared_ptr<const verify::AccessClaims> claims_;  // never null
};

struct HttpResponse {
    int status = 200;
    std::string body;
    // Always a string literal (the media types are the routes' own), so a response does
    // not allocate for it.
    std::string_view contentType = "application/json";
    std::vector<std::pair<std::string, std::string>> headers;

    HttpResponse& header(std::string name, std::string value) {
        headers.emplace_back(std::move(name), std::move(value));
        return *this;
    }
};

// How a handler that answers later gives its answer, once, from any thread: the response,
// or (error not null) the exception it would have thrown, which is answered as a thrown one
// is (e.g. DatabaseUnavailable: 503).
using Respond = std::function<void(std::exception_ptr error, HttpResponse response)>;

// The errors only the HTTP layer answers with (no service returns them): a method the
// path does not allow (405) and a body over the limit (413). ErrorMapper maps them as it
// maps models::Error.
enum class HttpErrorCode {
    MethodNotAllowed,  // 405 method_not_allowed (the caller adds Allow)
    PayloadTooLarge,   // 413 payload_too_large
};

struct HttpError {
    HttpErrorCode code;
    std::string message;
};

// Why a request is refused before (or instead of) its handler: an error of the services,
// or one only HTTP has.
using Refusal = std::variant<models::Error, HttpError>;

}  // namespace authsvc::controllers
