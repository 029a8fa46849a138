#include "controllers/OAuthController.h"

#include <algorithm>

#include "controllers/ErrorMapper.h"
#include "verify/Base64Url.h"

namespace authsvc::controllers {

namespace {
// A 200 of /oauth/revoke or /oauth/introspect, never cached (as every /oauth/* answer).
HttpResponse uncachedOAuthAnswer(const nlohmann::json& body) {
    HttpResponse r = jsonResponse(200, body);
    r.header("Cache-Control", "no-store").header("Pragma", "no-cache");
    return r;
}

HttpResponse invalidClient(const std::string& why) {
    HttpResponse r = oauthErrorResponse(401, "invalid_client", why);
    r.header("WWW-Authenticate", "Basic realm=\"authsvc\"");
    return r;
}

// Standard base64 with padding (RFC 4648 4), as HTTP Basic sends it.
std::optional<std::string> base64Decode(std::string text) {
    while (!text.empty() && text.back() == '=') text.pop_back();
    for (char& c : text) {
        if (c == '+') {
            c = '-';
        } else if (c == '/') {
            c = '_';
        } else if (c == '-' || c == '_') {
            return std::nullopt;
        }
    }
    return verify::base64UrlDecode(text);
}

bool startsWithBasic(const std::string& header) {
    if (header.size() < 6) return false;
    std::string scheme = header.substr(0, 6);
    std::transform(scheme.begin(), scheme.end(), scheme.begin(),
                   [](unsigned char c) { return char(std::tolower(c)); });
    return scheme == "basic ";
}
}  // namespace

std::optional<ClientCredentials> clientCredentials(const HttpRequest& req, const FormFields& form) {
    ClientCredentials creds;
    auto bodyId = form.find("client_id");
    if (bodyId != form.end()) creds.id = bodyId->second;
    if (!req.authorization || !startsWithBasic(*req.authorization)) return creds;
    std::string encoded = req.authorization->substr(6);
    encoded.erase(0, encoded.find_first_not_of(' '));
    auto decoded = base64Decode(encoded);
    if (!decoded) return std::nullopt;
    const size_t colon = decoded->find(':');
    if (colon == std::string::npos) return std::nullopt;
    auto id = formDecode(std::string_view(*decoded).substr(0, colon));
    auto secret = formDecode(std::string_view(*decoded).substr(colon + 1));
    if (!id || !secret) return std::nullopt;
    if (bodyId != form.end() && bodyId->second != *id) return std::nullopt;
    creds.id = std::move(*id);
    creds.secret = std::move(*secret);
    return creds;
}

models::Result<FormFields> OAuthController::form(const HttpRequest& req) const {
    if (!req.formContentType) {
        return models::makeError(
            models::ErrorCode::InvalidRequest,
            "The body must be sent as Content-Type: application/x-www-form-urlencoded");
    }
    return parseForm(req.body);
}

std::optional<HttpResponse> OAuthController::refuseClient(const HttpRequest& req,
                                                          const FormFields& form) const {
    auto creds = clientCredentials(req, form);
    if (!creds) return invalidClient("Malformed client authentication");
    if (auto why = clients_.refuse(creds->id, creds->secret)) return invalidClient(*why);
    return std::nullopt;
}

HttpResponse OAuthController::token(const HttpRequest& req) {
    auto fields = form(req);
    if (!fields) return oauthErrorResponse(fields.error());
    if (auto refusal = refuseClient(req, *fields)) return *refusal;
    auto grant = requiredParam(*fields, "grant_type");
    if (!grant) return oauthErrorResponse(grant.error());
    models::Result<models::TokenPair> pair = models::makeError(models::ErrorCode::Internal, "");
    if (*grant == "password") {
        auto username = requiredParam(*fields, "username");
        if (!username) return oauthErrorResponse(username.error());
        auto password = requiredParam(*fields, "password");
        if (!password) return oauthErrorResponse(password.error());
        pair = auth_.passwordLogin(req, *username, *password);
    } else if (*grant == "refresh_token") {
        auto token = requiredParam(*fields, "refresh_token");
        if (!token) return oauthErrorResponse(token.error());
        // An access token (refresh.accept_access_token) renews no refresh token: not a grant.
        pair = sessions_.refresh(*token, /*mayRenewAccessToken=*/false);
    } else {
        return oauthErrorResponse(400, "unsupported_grant_type",
                                  "grant_type must be password or refresh_token");
    }
    if (!pair) return oauthErrorResponse(pair.error());
    return tokenResponse(*pair);
}

HttpResponse OAuthController::revoke(const HttpRequest& req) {
    auto fields = form(req);
    if (!fields) return oauthErrorResponse(fields.error());
    if (auto refusal = refuseClient(req, *fields)) return *refusal;
    auto token = requiredParam(*fields, "token");
    if (!token) return oauthErrorResponse(token.error());
    // token_type_hint is optional and only a hint (RFC 7009 2.1): the shape decides.
    if (models::isWellFormedRefreshToken(*token)) {
        sessions_.logout(*token);
    } else if (auto verified = accessTokens_.verifyToken(*token);
               verified && !verified.claims->sid.empty()) {
        if (auto user = sessions_.userForSubject(verified.claims->sub)) {
            // NotFound (already revoked, expired, another user's): nothing to do.
            (void)accounts_.revokeSession(user->id, verified.claims->sid);
        }
    }
    return uncachedOAuthAnswer(nlohmann::json::object());
}

HttpResponse OAuthController::introspect(const HttpRequest& req) {
    auto fields = form(req);
    if (!fields) return oauthErrorResponse(fields.error());
    auto creds = clientCredentials(req, *fields);
    if (!creds || !creds->secret || !clients_.introspector(creds->id, creds->secret)) {
        return invalidClient("Introspection needs a confidential client allowed to introspect");
    }
    auto token = requiredParam(*fields, "token");
    if (!token) return oauthErrorResponse(token.error());
    const HttpResponse inactive = uncachedOAuthAnswer({{"active", false}});
    const auto verified = accessTokens_.verifyToken(*token);
    if (!verified || verified.claims->sid.empty()) return inactive;
    const verify::AccessClaims& claims = *verified.claims;
    auto roles = sessions_.liveSessionRoles(claims);
    if (!roles) return inactive;
    const auto& options = accessTokens_.options();
    return uncachedOAuthAnswer({{"active", true},
                                {"sub", claims.sub},
                                {"exp", claims.exp},
                                {"iat", claims.iat},
                                {"iss", options.issuer},
                                {"aud", options.audience},
                                {"sid", claims.sid},
                                {"roles", *roles},
                                {"token_type", "Bearer"}});
}

}  // namespace authsvc::controllers
