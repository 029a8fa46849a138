#include "controllers/JsonBody.h"

namespace authsvc::controllers {

using models::ErrorCode;
using models::makeError;

models::Result<nlohmann::json> parseObject(const std::string& body) {
    auto parsed = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
    if (parsed.is_discarded()) {
        return makeError(ErrorCode::InvalidRequest, "Request body is not valid JSON");
    }
    if (!parsed.is_object()) {
        return makeError(ErrorCode::InvalidRequest, "Request body must be a JSON object");
    }
    return parsed;
}

models::Result<std::string> requiredString(const nlohmann::json& obj,
                                           std::initializer_list<const char*> names) {
    for (const char* name : names) {
        auto it = obj.find(name);
        if (it == obj.end()) continue;
        if (!it->is_string()) {
            return makeError(ErrorCode::InvalidRequest,
                             std::string("Field '") + name + "' must be a string");
        }
        return it->get<std::string>();
    }
    return makeError(ErrorCode::InvalidRequest,
                     std::string("Field '") + *names.begin() + "' is required");
}

}  // namespace authsvc::controllers
