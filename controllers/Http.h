// The request and response that controllers see: plain values, independent of
// Pistache, so controllers and middleware are unit-tested without a socket.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "models/TokenService.h"

namespace authsvc::controllers {

struct HttpRequest {
    std::string method;  // "GET", "POST", ...
    std::string path;
    std::string body;
    bool hasContentType = false;
    bool jsonContentType = false;
    std::optional<std::string> authorization;
    std::string clientIp;  // set for routes that run on a worker pool; empty on reactor routes
    std::string requestId;
};

// Handed to handlers of Bearer routes only: its presence is checked by the compiler.
struct AuthContext {
    models::AccessClaims claims;
};

struct HttpResponse {
    int status = 200;
    std::string body;
    std::string contentType = "application/json";
    std::vector<std::pair<std::string, std::string>> headers;

    HttpResponse& header(std::string name, std::string value) {
        headers.emplace_back(std::move(name), std::move(value));
        return *this;
    }
};

}  // namespace authsvc::controllers
