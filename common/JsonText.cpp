#include "common/JsonText.h"

#include <ctime>
#include <nlohmann/json.hpp>

namespace authsvc::models {

void appendJsonString(std::string& out, std::string_view s, InvalidUtf8 invalid) {
    for (const char c : s) {
        if (c < 0x20 || c >= 0x7f || c == '"' || c == '\\') {
            const nlohmann::json value(std::string{s});
            out.append(invalid == InvalidUtf8::Replace
                           ? value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace)
                           : value.dump());
            return;
        }
    }
    out.push_back('"');
    out.append(s);
    out.push_back('"');
}

std::string rfc3339Utc(int64_t epochSeconds) {
    const auto t = static_cast<std::time_t>(epochSeconds);
    std::tm tm{};
    gmtime_r(&t, &tm);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return buf;
}

}  // namespace authsvc::models
