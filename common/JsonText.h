// appendJsonString: a JSON string literal appended to a buffer, in the bytes
// nlohmann::json(s).dump() gives. Printable ASCII without '"' and '\\' (every token, id and
// subject the service issues) is copied as it is; anything else goes through nlohmann, so
// that the common case builds no json value. Used for hand-written JSON by TokenService and the
// controllers. Pure; thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace authsvc::models {

// Bytes that are not UTF-8: nlohmann's json::type_error, or U+FFFD in their place.
enum class InvalidUtf8 { Throw, Replace };

void appendJsonString(std::string& out, std::string_view s,
                      InvalidUtf8 invalid = InvalidUtf8::Throw);

// The API's time format: RFC 3339 in UTC to the second, "2026-11-22T03:14:55Z".
std::string rfc3339Utc(int64_t epochSeconds);

}  // namespace authsvc::models
