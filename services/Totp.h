// TOTP (RFC 6238) over HOTP (RFC 4226): HMAC-SHA1 from OpenSSL's HMAC(), dynamic
// truncation, decimal digits. The time step is 30 s from the Unix epoch. Pure functions;
// thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace authsvc::models {

inline constexpr int64_t kTotpStepSeconds = 30;
inline constexpr int kTotpDigits = 6;

// The HOTP value of `counter` under `key` (raw bytes), as `digits` decimal digits with
// leading zeros.
std::string hotpCode(std::string_view key, uint64_t counter, int digits = kTotpDigits);
// The time step of a Unix time in seconds.
inline int64_t totpStep(int64_t unixSeconds) {
    return unixSeconds / kTotpStepSeconds;
}

}  // namespace authsvc::models
