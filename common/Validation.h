// Input rules of API.md shared by the model layer: email normalisation, password
// length, the User-Agent a session records, role names. Pure functions; thread-safe.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace authsvc::models {

// Trims ASCII whitespace and lower-cases ASCII letters.
std::string normalizeEmail(std::string_view raw);
// nullopt when valid, else the reason. Expects a normalised email.
std::optional<std::string> emailProblem(std::string_view email);
// The length rule of emailProblem() alone (for login, which checks nothing else).
std::optional<std::string> emailLengthProblem(std::string_view email);
// Number of UTF-8 code points (input is valid UTF-8: the JSON parser checks that).
size_t codePoints(std::string_view utf8);
// nullopt when valid, else the reason.
std::optional<std::string> passwordProblem(std::string_view password, int minLength);

// The User-Agent as a session shows it: valid UTF-8 of at most `maxChars` code points.
// Each byte that does not start a well-formed sequence (RFC 3629: no overlong forms, no
// surrogates, nothing past U+10FFFF), and each control character (C0, DEL), becomes
// U+FFFD; the text is then cut after `maxChars` code points, never inside a sequence.
std::string sanitizeUserAgent(std::string_view raw, size_t maxChars = 200);

// nullopt when `role` is a role name ([a-z0-9_:.-]{1,64}), else the reason.
std::optional<std::string> roleProblem(std::string_view role);

constexpr size_t kMaxRoleLength = 64;
constexpr size_t kMaxEmailLength = 254;
constexpr size_t kMaxPasswordBytes = 1024;

}  // namespace authsvc::models
