// KeysController: the JWKS (RFC 7517) of the signing keys in force, for services that
// verify access tokens on their own: public parts only, with Cache-Control max-age
// jwt.jwks_max_age. Thread-safe; answers from memory (the KeyRing's document).
#pragma once

#include <cstdint>

#include "controllers/HttpTypes.h"
#include "services/KeyRing.h"

namespace authsvc::controllers {

class KeysController {
  public:
    KeysController(const models::KeyRing& keys, int64_t maxAgeSeconds)
        : keys_(keys), cacheControl_("public, max-age=" + std::to_string(maxAgeSeconds)) {}
    HttpResponse jwks(const HttpRequest& req);

  private:
    const models::KeyRing& keys_;
    std::string cacheControl_;
};

}  // namespace authsvc::controllers
