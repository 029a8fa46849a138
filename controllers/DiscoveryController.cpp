#include "controllers/DiscoveryController.h"

#include <nlohmann/json.hpp>

namespace authsvc::controllers {

std::optional<std::string> discoveryUnavailable(const std::string& issuer,
                                                const std::string& publicUrl) {
    if (publicUrl.empty()) return "server.public_url is not set";
    if (issuer != publicUrl) {
        return "jwt.issuer (" + issuer + ") is not server.public_url (" + publicUrl +
               "), which RFC 8414 requires of the metadata's issuer";
    }
    return std::nullopt;
}

DiscoveryController::DiscoveryController(const std::string& publicUrl, int64_t maxAgeSeconds)
    : cacheControl_("public, max-age=" + std::to_string(maxAgeSeconds)) {
    body_ =
        nlohmann::json{
            {"issuer", publicUrl},
            {"jwks_uri", publicUrl + "/.well-known/jwks.json"},
            {"token_endpoint", publicUrl + "/oauth/token"},
            {"revocation_endpoint", publicUrl + "/oauth/revoke"},
            {"introspection_endpoint", publicUrl + "/oauth/introspect"},
            {"grant_types_supported", {"password", "refresh_token"}},
            {"token_endpoint_auth_methods_supported", {"none", "client_secret_basic"}},
            {"revocation_endpoint_auth_methods_supported", {"none", "client_secret_basic"}},
            {"introspection_endpoint_auth_methods_supported", {"client_secret_basic"}},
            {"response_types_supported", nlohmann::json::array()},
        }
            .dump();
}

HttpResponse DiscoveryController::metadata(const HttpRequest& /*req*/) {
    HttpResponse r;
    r.body = body_;
    r.header("Cache-Control", cacheControl_);
    return r;
}

}  // namespace authsvc::controllers
