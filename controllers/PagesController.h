// PagesController: the pages a person opens from a mail: GET /account/reset?token=... (a form
// for the new password) and GET /account/verify?token=... (confirms, then says so), and
// GET /account/pages.js, their script. Static HTML and a little JS, no framework, no
// third-party request; the script calls the same JSON API as any client, and the token
// leaves the page only in that POST (the script also drops it from the address bar).
// Every answer carries a strict Content-Security-Policy (scripts only from this origin,
// requests only to it, no styles, frames, forms or plugins), Referrer-Policy: no-referrer
// (the token is in the URL), X-Frame-Options: DENY and Cache-Control: no-store.
// Handlers run on the reactor (no I/O). Thread-safe.
#pragma once

#include "controllers/HttpTypes.h"

namespace authsvc::controllers {


class PagesController {
  public:
    HttpResponse resetPage(const HttpRequest& req);
    HttpResponse verifyPage(const HttpRequest& req);
    HttpResponse script(const HttpRequest& req);

    static constexpr const char* kContentSecurityPolicy =
        "default-src 'none'; script-src 'self'; connect-src 'self'; style-src 'none'; "
        "img-src 'none'; form-action 'none'; frame-ancestors 'none'; base-uri 'none'";
};

}  // namespace authsvc::controllers
