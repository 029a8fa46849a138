// Fuzz target: verification of correctly signed tokens (verify::Verifier over authsvc's
// KeyRing: an ES256 key "ec1", an RS256 key "rsa1" and the HS256 secret), under a fixed
// clock. Random bytes almost never carry a valid signature, so fuzz_bearer rarely gets
// past the signature check; here the target signs whatever header and payload the input
// holds, and checks that the verifier's verdict is exactly the one docs/API.md's rules
// give ("The access token": its Verification item).
// Input: byte 0 picks the signer (0 ES256 "ec1", 1 RS256 "rsa1", 2 HS256 secret, 3 a
// signature of 64 random bytes); the rest is the header's JSON text, a newline, and the
// payload's JSON text. Each part is base64url-encoded as it is, so any bytes, JSON or
// not, reach the verifier.
// Beyond sanitizer findings it checks: accepted if and only if the rules say so (the
// header's alg is the signer's, its kid names the signing key and no kid for HS256,
// no crit, typ JWT if present, no member named twice; iss, aud, exp, nbf, iat, sub and
// roles as documented); the same verdict from the verified-token cache; a token with
// one signature bit flipped is refused.
#include <stdlib.h>  // mkdtemp

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "../unit/support/ManualClock.h"
#include "common/Crypto.h"
#include "services/KeyRing.h"
#include "verify/Clock.h"
#include "verify/Verifier.h"

namespace {

using namespace authsvc;
using nlohmann::json;

const std::string kSecret = "fuzz-jws-secret-0123456789abcdef0123456789abcdef";
const std::string kIssuer = "authsvc";
const std::string kAudience = "authsvc-clients";
constexpr int64_t kNowMs = 1'800'000'000'000;  // the seeds' claims are around this time
constexpr int64_t kLeewayMs = 30'000;
constexpr size_t kMaxTokenBytes = 8192;  // verify::Verifier's limit

std::string readFile(const std::filesystem::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
}

struct World {
    World() {
        // Keys are made per process (never committed); they live in memory only.
        char tmpl[] = "/tmp/fuzz-jws-XXXXXX";
        if (!mkdtemp(tmpl)) std::abort();
        const std::string dir = tmpl;
        models::generateKeyFile(dir, "ES256", "ec1", kNowMs);
        models::generateKeyFile(dir, "RS256", "rsa1", kNowMs);
        ring = std::make_unique<models::KeyRing>(models::KeyConfig{kSecret, dir, "ec1"});
        es256 = std::make_unique<models::SigningKey>(
            verify::keyFromPem(readFile(std::filesystem::path(dir) / "ec1.pem"), "ec1"));
        rs256 = std::make_unique<models::SigningKey>(
            verify::keyFromPem(readFile(std::filesystem::path(dir) / "rsa1.pem"), "rsa1"));
        hs256 = std::make_unique<models::SigningKey>(kSecret);
        std::filesystem::remove_all(dir);
        verifier = std::make_unique<verify::Verifier>(
            verify::VerifierOptions{kIssuer, kAudience, std::chrono::milliseconds(kLeewayMs), 64},
            ring->source(), clock);
    }
    verify::ManualClock clock{kNowMs};
    std::unique_ptr<models::KeyRing> ring;
    std::unique_ptr<models::SigningKey> es256, rs256, hs256;
    std::unique_ptr<verify::Verifier> verifier;
};

// A claim read as the rules read it: a positive integer (seconds), capped where it would
// overflow milliseconds; 0 for anything else.
int64_t seconds(const json& v) {
    constexpr int64_t kCap = 900'000'000'000LL;
    if (v.is_number_unsigned()) return int64_t(std::min<uint64_t>(v.get<uint64_t>(), kCap));
    if (v.is_number_integer()) return std::clamp<int64_t>(v.get<int64_t>(), 0, kCap);
    return 0;
}

// True when some object in `text` (valid JSON) names a member twice. A SAX pass of its own,
// apart from the verifier's parser callback.
struct RepeatedNames : nlohmann::json_sax<json> {
    std::vector<std::set<std::string>> open;
    bool found = false;
    bool start_object(std::size_t) override {
        open.emplace_back();
        return true;
    }
    bool key(string_t& name) override {
        if (!open.empty() && !open.back().insert(name).second) found = true;
        return true;
    }
    bool end_object() override {
        if (!open.empty()) open.pop_back();
        return true;
    }
    bool null() override { return true; }
    bool boolean(bool) override { return true; }
    bool number_integer(number_integer_t) override { return true; }
    bool number_unsigned(number_unsigned_t) override { return true; }
    bool number_float(number_float_t, const string_t&) override { return true; }
    bool string(string_t&) override { return true; }
    bool binary(binary_t&) override { return true; }
    bool start_array(std::size_t) override { return true; }
    bool end_array() override { return true; }
    bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception&) override {
        return false;
    }
};
bool namesAMemberTwice(const std::string& text) {
    RepeatedNames sax;
    json::sax_parse(text, &sax);
    return sax.found;
}

bool isString(const json& obj, const char* name) {
    return obj.contains(name) && obj[name].is_string();
}

// docs/API.md's rules, stated once more independently of verify/Verifier.cpp.
bool shouldAccept(const std::string& headerText, const std::string& payloadText,
                  const models::SigningKey* signer, size_t tokenSize) {
    if (!signer || tokenSize > kMaxTokenBytes) return false;
    const json header = json::parse(headerText, nullptr, false);
    const json payload = json::parse(payloadText, nullptr, false);
    if (!header.is_object() || !payload.is_object()) return false;
    if (namesAMemberTwice(headerText) || namesAMemberTwice(payloadText)) return false;
    if (!isString(header, "alg") || header["alg"] != verify::algorithmName(signer->algorithm())) {
        return false;
    }
    if (signer->kid().empty() ? header.contains("kid")
                              : !isString(header, "kid") || header["kid"] != signer->kid()) {
        return false;
    }
    if (header.contains("crit")) return false;
    if (header.contains("typ") && header["typ"] != "JWT") return false;

    if (!isString(payload, "iss") || payload["iss"] != kIssuer) return false;
    if (!payload.contains("aud")) return false;
    const json& aud = payload["aud"];
    bool audOk = aud.is_string() && aud == kAudience;
    if (aud.is_array()) {
        for (const auto& a : aud) audOk = audOk || (a.is_string() && a == kAudience);
    }
    if (!audOk) return false;
    if (!payload.contains("exp")) return false;
    const int64_t exp = seconds(payload["exp"]);
    if (exp <= 0 || kNowMs > exp * 1000 + kLeewayMs) return false;
    for (const char* name : {"nbf", "iat"}) {
        if (!payload.contains(name)) continue;
        const int64_t t = seconds(payload[name]);
        if (t <= 0 || t * 1000 > kNowMs + kLeewayMs) return false;
    }
    if (!isString(payload, "sub") || payload["sub"].get<std::string>().empty()) return false;
    if (payload.contains("roles")) {
        if (!payload["roles"].is_array()) return false;
        for (const auto& r : payload["roles"]) {
            if (!r.is_string()) return false;
        }
    }
    return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    static World world;
    if (size == 0) return 0;
    const std::string rest(reinterpret_cast<const char*>(data) + 1, size - 1);
    const size_t nl = rest.find('\n');
    const std::string headerText = rest.substr(0, nl);
    const std::string payloadText = nl == std::string::npos ? "" : rest.substr(nl + 1);

    const models::SigningKey* signers[] = {world.es256.get(), world.rs256.get(), world.hs256.get(),
                                           nullptr};
    const models::SigningKey* signer = signers[data[0] % 4];
    const std::string input = models::crypto::base64UrlEncode(headerText) + "." +
                              models::crypto::base64UrlEncode(payloadText);
    const std::string signature = signer ? signer->sign(input) : models::crypto::randomBytes(64);
    const std::string token = input + "." + models::crypto::base64UrlEncode(signature);

    const bool expected = shouldAccept(headerText, payloadText, signer, token.size());
    const verify::Verified first = world.verifier->verifyToken(token);
    if (bool(first) != expected) std::abort();
    const verify::Verified second = world.verifier->verifyToken(token);  // the cache's turn
    if (bool(second) != expected) std::abort();
    if (first && (first.claims->sub != second.claims->sub || first.claims->sub.empty())) {
        std::abort();
    }

    std::string flipped = signature;
    if (!flipped.empty()) {
        flipped[flipped.size() / 2] = char(flipped[flipped.size() / 2] ^ 0x01);
        const std::string tampered = input + "." + models::crypto::base64UrlEncode(flipped);
        if (world.verifier->verifyToken(tampered)) std::abort();
    }
    return 0;
}
