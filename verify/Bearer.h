// Bearer header parsing (RFC 6750 §2.1). Pure functions; thread-safe.
#pragma once

#include <optional>
#include <string_view>

namespace authsvc::verify {

// What follows "Bearer " (scheme case-insensitive, one or more spaces), non-empty; nullopt
// for any other shape. The view points into `header`.
std::optional<std::string_view> bearerCredentials(std::string_view header);
// True when `token` has the b64token syntax: 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" /
// "+" / "/" ) *"=", ASCII only whatever the locale.
bool isB64Token(std::string_view token);

}  // namespace authsvc::verify
