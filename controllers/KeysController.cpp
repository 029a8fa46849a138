#include "controllers/KeysController.h"

namespace authsvc::controllers {

HttpResponse KeysController::jwks(const HttpRequest&) {
    HttpResponse r;
    r.body = *keys_.jwks();
    r.contentType = "application/jwk-set+json";
    r.header("Cache-Control", cacheControl_);
    return r;
}

}  // namespace authsvc::controllers
