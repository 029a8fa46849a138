// Small helpers shared by the tests: random strings, files, base64url, hand-made JWTs.
#include <curl/curl.h>
#include <signal.h>
#include <sodium.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <thread>

#include "support/Harness.h"

namespace it {

namespace {

// Process-wide set-up, before any test runs.
struct GlobalInit {
    GlobalInit() {
        curl_global_init(CURL_GLOBAL_ALL);
        if (sodium_init() < 0) std::abort();
        signal(SIGPIPE, SIG_IGN);  // raw sockets to a server that hung up
    }
};
const GlobalInit kGlobalInit;

}  // namespace

// ---------------------------------------------------------------- small utilities

std::string randomString(size_t length) {
    static const char kChars[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    std::string s(length, 'x');
    for (auto& ch : s) ch = kChars[randombytes_uniform(sizeof(kChars) - 1)];
    return s;
}

std::string uniqueEmail(const std::string& prefix) {
    return prefix + "-" + lower(randomString(10)) + "@example.com";
}

std::string lower(std::string s) {
    std::transform(s.begin(), s.end(), s.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return s;
}

bool containsI(std::string_view haystack, std::string_view needle) {
    return lower(std::string(haystack)).find(lower(std::string(needle))) != std::string::npos;
}

std::string readFileBytes(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) return {};
    std::ostringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

std::vector<std::string> splitLines(const std::string& text) {
    std::vector<std::string> lines;
    std::istringstream in(text);
    std::string line;
    while (std::getline(in, line)) {
        if (!line.empty() && line.back() == '\r') line.pop_back();
        lines.push_back(line);
    }
    return lines;
}

long long nowSeconds() {
    return std::chrono::duration_cast<std::chrono::seconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

void alignToSecondBoundary() {
    const auto now = std::chrono::system_clock::now();
    const auto next = std::chrono::ceil<std::chrono::seconds>(now);
    std::this_thread::sleep_until(next + std::chrono::milliseconds(20));
}

// ---------------------------------------------------------------- JWT

namespace {
std::string hmacSha256(std::string_view key, std::string_view data) {
    crypto_auth_hmacsha256_state st;
    crypto_auth_hmacsha256_init(&st, reinterpret_cast<const unsigned char*>(key.data()),
                                key.size());
    crypto_auth_hmacsha256_update(&st, reinterpret_cast<const unsigned char*>(data.data()),
                                  data.size());
    std::string mac(crypto_auth_hmacsha256_BYTES, '\0');
    crypto_auth_hmacsha256_final(&st, reinterpret_cast<unsigned char*>(mac.data()));
    return mac;
}
}  // namespace

std::string signHs256(const json& header, const json& payload, std::string_view secret) {
    return signHs256Text(header.dump(), payload.dump(), secret);
}

std::string signHs256Text(std::string_view header, std::string_view payload,
                          std::string_view secret) {
    const std::string input = base64UrlEncode(header) + "." + base64UrlEncode(payload);
    return input + "." + base64UrlEncode(hmacSha256(secret, input));
}

json defaultJwtHeader() {
    return json{{"alg", "HS256"}, {"typ", "JWT"}};
}

json validClaims(const std::string& sub) {
    const long long now = nowSeconds();
    return json{{"iss", "authsvc"}, {"aud", "authsvc-clients"}, {"sub", sub}, {"iat", now},
                {"exp", now + 300}, {"jti", randomString(16)},  {"sid", "1"}};
}

std::optional<std::pair<json, json>> decodeJwt(const std::string& token) {
    const auto d1 = token.find('.');
    if (d1 == std::string::npos) return std::nullopt;
    const auto d2 = token.find('.', d1 + 1);
    if (d2 == std::string::npos || token.find('.', d2 + 1) != std::string::npos) {
        return std::nullopt;
    }
    auto h = base64UrlDecode(std::string_view(token).substr(0, d1));
    auto p = base64UrlDecode(std::string_view(token).substr(d1 + 1, d2 - d1 - 1));
    if (!h || !p) return std::nullopt;
    json hj = json::parse(*h, nullptr, false);
    json pj = json::parse(*p, nullptr, false);
    if (hj.is_discarded() || pj.is_discarded()) return std::nullopt;
    return std::make_pair(hj, pj);
}

bool verifyHs256(const std::string& token, std::string_view secret) {
    const auto d2 = token.rfind('.');
    if (d2 == std::string::npos) return false;
    auto sig = base64UrlDecode(std::string_view(token).substr(d2 + 1));
    return sig && *sig == hmacSha256(secret, std::string_view(token).substr(0, d2));
}

}  // namespace it
