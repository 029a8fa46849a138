#include "controllers/FormBody.h"

namespace authsvc::controllers {

namespace {
int hexValue(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

models::Error formError(std::string message) {
    return models::makeError(models::ErrorCode::InvalidRequest, std::move(message));
}
}  // namespace

std::optional<std::string> formDecode(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    for (size_t i = 0; i < text.size(); ++i) {
        const char c = text[i];
        if (c == '+') {
            out.push_back(' ');
        } else if (c == '%') {
            if (i + 2 >= text.size()) return std::nullopt;
            const int hi = hexValue(text[i + 1]);
            const int lo = hexValue(text[i + 2]);
            if (hi < 0 || lo < 0) return std::nullopt;
            out.push_back(static_cast<char>(hi * 16 + lo));
            i += 2;
        } else {
            out.push_back(c);
        }
    }
    return out;
}

models::Result<FormFields> parseForm(std::string_view body) {
    FormFields fields;
    size_t start = 0;
    while (start <= body.size()) {
        size_t end = body.find('&', start);
        if (end == std::string_view::npos) end = body.size();
        const std::string_view pair = body.substr(start, end - start);
        start = end + 1;
        if (pair.empty()) continue;
        const size_t eq = pair.find('=');
        auto name = formDecode(pair.substr(0, eq));
        auto value =
            formDecode(eq == std::string_view::npos ? std::string_view{} : pair.substr(eq + 1));
        if (!name || !value) return formError("The form body has a malformed %-escape");
        if (name->empty()) continue;
        if (fields.count(*name)) {
            return formError("Parameter '" + *name + "' is given more than once");
        }
        fields.emplace(std::move(*name), std::move(*value));
    }
    // RFC 6749 3.1: a parameter sent without a value is treated as omitted.
    std::erase_if(fields, [](const auto& kv) { return kv.second.empty(); });
    return fields;
}

models::Result<std::string> requiredParam(const FormFields& form, std::string_view name) {
    auto it = form.find(name);
    if (it == form.end()) return formError("Missing parameter '" + std::string(name) + "'");
    return it->second;
}

}  // namespace authsvc::controllers
