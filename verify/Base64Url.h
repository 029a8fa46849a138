// base64url without padding (RFC 4648 §5), as JWS uses it (RFC 7515 §2). Pure; thread-safe.
// Written here rather than taken from OpenSSL, whose EVP_DecodeBlock knows only the
// padded standard alphabet and skips whitespace.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace authsvc::verify {

std::string base64UrlEncode(std::string_view bytes);
// nullopt for any character outside the alphabet, padding, or an impossible length.
std::optional<std::string> base64UrlDecode(std::string_view text);

}  // namespace authsvc::verify
