// DiscoveryController: the OAuth 2.0 authorization server metadata (RFC 8414), served at
// /.well-known/oauth-authorization-server and /.well-known/openid-configuration: issuer,
// jwks_uri and the /oauth/* endpoints as absolute URLs under server.public_url. Built once;
// thread-safe; answers from memory.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "controllers/HttpTypes.h"

namespace authsvc::controllers {

// Why the metadata cannot be served with this configuration (RFC 8414 3.3: the issuer a
// client configured must equal the document's `issuer` and be the URL it was fetched under,
// so jwt.issuer must equal server.public_url), or nullopt when it can. `publicUrl` without a
// trailing slash, as Config keeps it.
std::optional<std::string> discoveryUnavailable(const std::string& issuer,
                                                const std::string& publicUrl);

class DiscoveryController {
  public:
    DiscoveryController(const std::string& publicUrl, int64_t maxAgeSeconds);
    HttpResponse metadata(const HttpRequest& req);

  private:
    std::string body_;
    std::string cacheControl_;
};

}  // namespace authsvc::controllers
