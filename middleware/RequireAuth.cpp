#include "middleware/RequireAuth.h"

#include <cctype>

namespace authsvc::middleware {

using models::ErrorCode;
using models::makeError;

std::optional<std::string> bearerToken(const std::string& header) {
    constexpr std::string_view scheme = "bearer";
    if (header.size() <= scheme.size() + 1) return std::nullopt;
    for (size_t i = 0; i < scheme.size(); ++i) {
        if (std::tolower(static_cast<unsigned char>(header[i])) != scheme[i]) return std::nullopt;
    }
    size_t pos = scheme.size();
    if (header[pos] != ' ') return std::nullopt;
    while (pos < header.size() && header[pos] == ' ') ++pos;
    std::string token = header.substr(pos);
    if (token.empty()) return std::nullopt;
    // b64token = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="
    // (ASCII only, whatever the locale: a plain range check per character)
    auto b64tokenChar = [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
               c == '-' || c == '.' || c == '_' || c == '~' || c == '+' || c == '/';
    };
    size_t i = 0;
    while (i < token.size() && b64tokenChar(token[i])) ++i;
    if (i == 0) return std::nullopt;
    while (i < token.size() && token[i] == '=') ++i;
    if (i != token.size()) return std::nullopt;
    return token;
}

models::Result<controllers::AuthContext> RequireAuth::authenticate(
    const std::optional<std::string>& authorization) const {
    if (!authorization) return makeError(ErrorCode::MissingToken, "Missing access token");
    auto token = bearerToken(*authorization);
    if (!token) {
        return makeError(ErrorCode::BearerMalformed,
                         "The Authorization header must be 'Bearer <token>'");
    }
    auto claims = tokens_.verify(*token);
    if (!claims) return claims.error();
    return controllers::AuthContext{std::move(claims.value())};
}

}  // namespace authsvc::middleware
