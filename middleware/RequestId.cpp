#include "middleware/RequestId.h"

#include <algorithm>
#include <cctype>
#include <cstdio>

#include "models/Crypto.h"

namespace authsvc::middleware {

RequestIds::RequestIds() {
    models::crypto::init();
    prefix_ = models::crypto::base64UrlEncode(models::crypto::randomBytes(6));
}

std::string RequestIds::next(const std::optional<std::string>& incoming) {
    if (incoming && !incoming->empty() && incoming->size() <= 64 &&
        std::all_of(incoming->begin(), incoming->end(), [](char c) {
            return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.';
        })) {
        return *incoming;
    }
    char buf[24];
    std::snprintf(
        buf, sizeof buf, "-%llx",
        static_cast<unsigned long long>(counter_.fetch_add(1, std::memory_order_relaxed)));
    return prefix_ + buf;
}

}  // namespace authsvc::middleware
