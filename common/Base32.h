// Base32 (RFC 4648 section 6, upper case, without padding) for the TOTP secrets that
// authenticator apps read from an otpauth:// URI. Written here because it is a few lines
// and no Debian library package offers it for C++ (OpenSSL and libsodium have base64 and
// hex only; liboath is a whole OATH toolkit for one codec). Pure functions; thread-safe.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace authsvc::models {

// The bytes as base32 letters A-Z and digits 2-7, no '=' padding (as otpauth URIs carry it).
std::string base32Encode(std::string_view bytes);
// The bytes of base32 text (either case, padding and spaces ignored); nullopt for any other
// character or a length no encoding gives.
std::optional<std::string> base32Decode(std::string_view text);

}  // namespace authsvc::models
