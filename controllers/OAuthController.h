// OAuthController: the OAuth 2.0 routes (RFC 6749) on form bodies: POST /oauth/token with
// the password and refresh_token grants, under the rules of the JSON routes (it calls
// AuthController::passwordLogin and AuthService::refresh), and the client check of
// `oauth.clients` (client_id; client_secret_basic for confidential clients). Errors as
// oauthErrorResponse() (RFC 6749 5.2). Runs on worker threads; thread-safe.
#pragma once

#include <optional>
#include <string>

#include "controllers/AuthController.h"
#include "controllers/FormBody.h"
#include "controllers/HttpTypes.h"
#include "services/AccountService.h"
#include "services/AuthService.h"
#include "services/OAuthClients.h"
#include "verify/Verifier.h"

namespace authsvc::controllers {

// The client's id and secret as the request presents them: HTTP Basic (RFC 6749 2.3.1:
// both form-encoded) or the body's client_id (no secret). Empty id: none presented.
struct ClientCredentials {
    std::string id;
    std::optional<std::string> secret;
};

// nullopt when the Authorization header is Basic but malformed, or names another client
// than the body's client_id (then 401 invalid_client). A header of another scheme is ignored.
std::optional<ClientCredentials> clientCredentials(const HttpRequest& req, const FormFields& form);

class OAuthController {
  public:
    OAuthController(AuthController& auth, models::AuthService& sessions,
                    models::AccountService& accounts, const verify::Verifier& accessTokens,
                    const models::OAuthClients& clients)
        : auth_(auth),
          sessions_(sessions),
          accounts_(accounts),
          accessTokens_(accessTokens),
          clients_(clients) {}

    // POST /oauth/token.
    HttpResponse token(const HttpRequest& req);
    // POST /oauth/revoke (RFC 7009): `token` a refresh token revokes its family, an access
    // token (verified) its session (`sid`); 200 {} for any well-formed request, known token
    // or not. The client check as for token().
    HttpResponse revoke(const HttpRequest& req);
    // POST /oauth/introspect (RFC 7662): only a confidential client with introspect: true
    // (else 401 invalid_client). An access token that verifies, of a live session whose user
    // exists: {"active": true, "sub", "exp", "iat", "iss", "aud", "sid", "roles" (as the user
    // holds them now), "token_type": "Bearer"}; anything else (refresh tokens included)
    // {"active": false}.
    HttpResponse introspect(const HttpRequest& req);

  private:
    // The form of an /oauth/* request, or its 400 answer.
    models::Result<FormFields> form(const HttpRequest& req) const;
    // The 401 answer when oauth.clients refuses the request's client; else nullopt.
    std::optional<HttpResponse> refuseClient(const HttpRequest& req, const FormFields& form) const;

    AuthController& auth_;
    models::AuthService& sessions_;
    models::AccountService& accounts_;
    const verify::Verifier& accessTokens_;
    const models::OAuthClients& clients_;
};

}  // namespace authsvc::controllers
