#include "middleware/RequestId.h"

#include <algorithm>
#include <cctype>
#include <charconv>

#include "common/Crypto.h"
#include "verify/Base64Url.h"

namespace authsvc::middleware {

RequestIds::RequestIds() {
    models::crypto::init();
    prefix_ = verify::base64UrlEncode(models::crypto::randomBytes(6));
}

std::string RequestIds::next(const std::optional<std::string>& incoming) {
    if (incoming && !incoming->empty() && incoming->size() <= 64 &&
        std::all_of(incoming->begin(), incoming->end(), [](char c) {
            return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.';
        })) {
        return *incoming;
    }
    char digits[16];
    const auto end = std::to_chars(digits, digits + sizeof digits,
                                   counter_.fetch_add(1, std::memory_order_relaxed), 16)
                         .ptr;
    std::string id;
    id.reserve(prefix_.size() + 1 + size_t(end - digits));
    id.append(prefix_).append(1, '-').append(digits, end);
    return id;
}

}  // namespace authsvc::middleware
