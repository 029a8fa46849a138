// Request-body parsing shared by controllers: a JSON object and typed fields, with a
// 400 invalid_request whose message names the field. Pure functions; thread-safe.
#pragma once

#include <initializer_list>
#include <nlohmann/json.hpp>
#include <string>

#include "common/Error.h"

namespace authsvc::controllers {

models::Result<nlohmann::json> parseObject(const std::string& body);
// The first of `names` present in `obj` must be a string; missing from all is an error
// naming the first.
models::Result<std::string> requiredString(const nlohmann::json& obj,
                                           std::initializer_list<const char*> names);

}  // namespace authsvc::controllers
