// Request-body parsing shared by controllers: a JSON object and typed fields, with a
// 400 invalid_request whose message names the field; and writing a JSON string into a
// response body. Pure functions; thread-safe.
#pragma once

#include <initializer_list>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "models/Error.h"

namespace authsvc::controllers {

models::Result<nlohmann::json> parseObject(const std::string& body);
// The first of `names` present in `obj` must be a string; missing from all is an error
// naming the first.
models::Result<std::string> requiredString(const nlohmann::json& obj,
                                           std::initializer_list<const char*> names);

// Appends `s` as a JSON string, in the bytes nlohmann::json(s).dump() gives (and, like
// it, throws nlohmann::json::type_error on invalid UTF-8). Printable ASCII without '"'
// and '\\' (every token and subject the service issues) is copied as it is: the dump
// was 2% of a protected request.
void appendJsonString(std::string& out, std::string_view s);

}  // namespace authsvc::controllers
