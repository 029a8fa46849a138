// Request bodies of Content-Type application/x-www-form-urlencoded (the OAuth routes, RFC
// 6749 3.2 and appendix B): name=value pairs split on '&', '+' read as a space, %XX
// percent-decoded. A name given twice is an error (RFC 6749 3.1: a parameter MUST NOT be
// included more than once); a parameter without a value is treated as omitted (RFC 6749
// 3.1). Pure functions; thread-safe.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "common/Error.h"

namespace authsvc::controllers {

using FormFields = std::map<std::string, std::string, std::less<>>;

// The decoded parameters; 400 invalid_request for a repeated name or a malformed %-escape.
models::Result<FormFields> parseForm(std::string_view body);
// The value of `name`; 400 invalid_request "Missing parameter 'name'" if absent.
models::Result<std::string> requiredParam(const FormFields& form, std::string_view name);
// Percent-decoding of one name or value ('+' is a space); nullopt for a malformed escape.
std::optional<std::string> formDecode(std::string_view text);

}  // namespace authsvc::controllers
